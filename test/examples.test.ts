// The documented examples, run as written, against the real server.
import {expect} from '@open-wc/testing';
import {createElement} from 'react';
import {createRoot, type Root} from 'react-dom/client';
import {type App, createApp} from 'vue';
import {LiveFeed as ReactLiveFeed} from '../examples/react/LiveFeed.jsx';
import {LiveFeed as VueLiveFeed} from '../examples/vue/LiveFeed.js';
import {Rig, until} from './support/rig.js';

/** Types into an input the way a person does, so frameworks' change tracking sees it. */
function type(input: HTMLInputElement, text: string) {
  Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!.call(input, text);
  input.dispatchEvent(new Event('input', {bubbles: true}));
}

/** What every example must do: show the state, list messages, send, and recover. */
async function exerciseFeed(root: ParentNode, stateText: () => string | undefined) {
  await until(() => stateText() === 'open', {message: 'shows open'});
  await rig.send(JSON.stringify({price: 1}));
  await until(() => root.querySelectorAll('li').length === 1, {message: 'lists the message'});
  expect(root.querySelector('li')!.textContent).to.equal('{"price":1}');

  type(root.querySelector('input')!, 'hello');
  root.querySelector('form')!.requestSubmit();
  await until(async () => (await rig.received()).includes('{"text":"hello"}'), {message: 'sent'});

  // Down for half a second: a dropped connection alone may be back before a poll sees it gone.
  await rig.restart(500);
  await until(() => stateText() !== 'open', {message: 'notices the outage'});
  await until(() => stateText() === 'open', {timeout: 10_000, message: 'back open'});
}

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
      await exerciseFeed(container, () => container.querySelector('.state')?.textContent ?? undefined);
    } finally {
      root.unmount();
    }
    await until(async () => (await rig.status()).open === 0, {message: 'unmount closes the socket'});
  });

  it('Vue 3', async () => {
    const app: App = createApp(VueLiveFeed, {url: rig.url});
    app.mount(container);
    try {
      await exerciseFeed(container, () => container.querySelector('.state')?.textContent ?? undefined);
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
    await exerciseFeed(doc, () => doc.body.dataset.state);
  });
});
