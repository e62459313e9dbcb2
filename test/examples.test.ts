// The documented examples, run as written, against the real server.
import {createElement} from 'react';
import {createRoot, type Root} from 'react-dom/client';
import {type App, createApp} from 'vue';
import {LiveFeed as ReactLiveFeed} from '../examples/react/LiveFeed.jsx';
import {LiveFeed as VueLiveFeed} from '../examples/vue/LiveFeed.js';
import {exerciseFeed} from './support/feed.js';
import {Rig, until} from './support/rig.js';

let rig: Rig;

describe('examples', () => {
  let container: HTMLElement;

  beforeEach(async () => {
    rig = await Rig.start();
    container = document.createElement('div');
    document.body.append(container);
  });
  afterEach(async () => {
    container.remove();
    await Rig.stopAll();
  });

  it('React 19', async () => {
    const root: Root = createRoot(container);
    root.render(createElement(ReactLiveFeed, {url: rig.url}));
    try {
      await exerciseFeed(rig, container, () => container.querySelector('.state')?.textContent ?? undefined);
    } finally {
      root.unmount();
    }
    await until(async () => (await rig.status()).open === 0, {message: 'unmount closes the socket'});
  });

  it('Vue 3', async () => {
    const app: App = createApp(VueLiveFeed, {url: rig.url});
    app.mount(container);
    try {
      await exerciseFeed(rig, container, () => container.querySelector('.state')?.textContent ?? undefined);
    } finally {
      app.unmount();
    }
    await until(async () => (await rig.status()).open === 0, {message: 'unmount closes the socket'});
  });

  it('plain JavaScript page', async () => {
    const frame = document.createElement('iframe');
    const loaded = new Promise((resolve) => frame.addEventListener('load', resolve, {once: true}));
    frame.src = `/examples/plain/index.html?url=${encodeURIComponent(rig.url)}`;
    container.append(frame);
    await loaded;
    const doc = frame.contentDocument!;
    await exerciseFeed(rig, doc, () => doc.body.dataset.state);
  });
});
