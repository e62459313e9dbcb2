// The typed framework examples of test/frameworks/, run in the browser
// against the real server, compiled on the way as their frameworks' builds
// would (test/support/framework-compilers-plugin.mjs). Their types are
// checked by each framework's checker (test/node/frameworks.node.test.mjs),
// so here they are loaded by URL, out of reach of this file's compiler.
import '@angular/compiler';
import {createComponent, provideZonelessChangeDetection} from '@angular/core';
import {createApplication} from '@angular/platform-browser';
import {createElement} from 'react';
import {createRoot} from 'react-dom/client';
import {render} from 'solid-js/web';
import {mount, unmount} from 'svelte';
import {createApp} from 'vue';
import {exerciseFeed} from './support/feed.js';
import {Rig, until} from './support/rig.js';

/** An example's module, as the browser gets it. */
function load(path: string) {
  return import(new URL(`./frameworks/${path}`, import.meta.url).href);
}

let rig: Rig;

describe('typed framework examples', () => {
  let container: HTMLElement;
  const stateText = () => container.querySelector('.state')?.textContent?.trim();

  beforeEach(async () => {
    rig = await Rig.start();
    container = document.createElement('div');
    document.body.append(container);
  });
  afterEach(async () => {
    container.remove();
    await Rig.stopAll();
  });

  /** Runs the feed, then unmounts it: its socket must close. */
  async function run(unmountExample: () => void) {
    try {
      await exerciseFeed(rig, container, stateText);
    } finally {
      unmountExample();
    }
    await until(async () => (await rig.status()).open === 0, {message: 'unmount closes the socket'});
  }

  it('React 19', async () => {
    const {LiveFeed} = await load('react/LiveFeed.tsx');
    const root = createRoot(container);
    root.render(createElement(LiveFeed, {url: rig.url}));
    await run(() => root.unmount());
  });

  it('Solid', async () => {
    const {LiveFeed} = await load('solid/LiveFeed.tsx');
    const dispose = render(() => LiveFeed({url: rig.url}), container);
    await run(dispose);
  });

  it('Vue 3', async () => {
    const {default: LiveFeed} = await load('vue/LiveFeed.vue');
    const app = createApp(LiveFeed, {url: rig.url});
    app.mount(container);
    await run(() => app.unmount());
  });

  it('Svelte 5', async () => {
    const {default: LiveFeed} = await load('svelte/LiveFeed.svelte');
    const component = mount(LiveFeed, {target: container, props: {url: rig.url}});
    await run(() => unmount(component));
  });

  it('Angular', async () => {
    const {LiveFeedComponent} = await load('angular/live-feed.component.ts');
    const app = await createApplication({providers: [provideZonelessChangeDetection()]});
    const host = container.appendChild(document.createElement('live-feed'));
    const feed = createComponent(LiveFeedComponent, {environmentInjector: app.injector, hostElement: host});
    feed.setInput('url', rig.url);
    app.attachView(feed.hostView);
    await run(() => app.destroy());
  });
});
