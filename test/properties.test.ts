// The element's properties and methods as pages and frameworks use them,
// against the real server: subprotocols, token URLs, subscriptions renewed on
// every open, reconnect(), the retry count and time, and renders that assign
// a fresh function or array each time.
import {expect} from '@open-wc/testing';
import {createElement, useState} from 'react';
import {flushSync} from 'react-dom';
import {createRoot} from 'react-dom/client';
import {createApp, h, nextTick, ref} from 'vue';
import type {WsConnection} from '../src/ws-connection.js';
import {Rig, sleep, until} from './support/rig.js';
import {reached, watched} from './support/watched.js';

let rig: Rig;

describe('properties and methods', () => {
  beforeEach(async () => {
    rig = await Rig.start();
  });

  afterEach(async () => {
    for (const el of document.querySelectorAll('ws-connection')) el.close();
    await Rig.stopAll();
  });

  describe('protocols', () => {
    it('offers the subprotocols in order, comma- or space-separated', async () => {
      const w = await watched(rig.url, {protocols: 'chat.v2, chat.v1 legacy'});
      await reached(w, 'open');
      const [connection] = await rig.connections();
      expect(connection.protocols).to.deep.equal(['chat.v2', 'chat.v1', 'legacy']);
      expect(connection.protocol).to.equal('chat.v2');
    });

    it('reconnects when they change, and not when the same list is written again', async () => {
      const w = await watched(rig.url, {protocols: 'chat.v2, chat.v1'});
      await reached(w, 'open');
      w.el.protocols = 'chat.v2 chat.v1';
      await sleep(300);
      expect((await rig.status()).accepted, 'the same list').to.equal(1);
      w.el.setAttribute('protocols', 'chat.v3');
      await until(async () => (await rig.status()).accepted === 2, {message: 'a new connection'});
      await until(async () => (await rig.status()).open === 1, {message: 'the old one closed'});
      expect((await rig.connections())[1].protocols).to.deep.equal(['chat.v3']);
      await reached(w, 'open');
    });
  });

  describe('urlProvider', () => {
    it('is called before every attempt, and may return a promise', async () => {
      const w = await watched(undefined, {}, {connect: false});
      let calls = 0;
      w.el.urlProvider = async () => `${rig.url}/feed?token=${++calls}`;
      w.el.connect();
      await reached(w, 'open');
      await rig.terminateClients();
      await until(async () => (await rig.status()).accepted === 2 && w.el.state === 'open', {
        message: 'open again',
      });
      expect((await rig.connections()).map((c) => c.path)).to.deep.equal(['/feed?token=1', '/feed?token=2']);
    });

    it('a fresh function assigned on every render never reconnects; the next attempt calls the latest', async () => {
      const w = await watched(undefined, {}, {connect: false});
      w.el.urlProvider = () => `${rig.url}/?render=0`;
      w.el.connect();
      await reached(w, 'open');
      for (let render = 1; render <= 5; render++) {
        w.el.urlProvider = () => `${rig.url}/?render=${render}`;
        await w.el.updateComplete;
      }
      await sleep(300);
      expect(await rig.status()).to.include({accepted: 1, open: 1});
      await rig.terminateClients();
      await until(async () => (await rig.status()).accepted === 2, {message: 'reconnected'});
      expect((await rig.connections())[1].path).to.equal('/?render=5');
    });
  });

  describe('openMessages', () => {
    it('are sent on every open, before the queue; a new array takes effect from the next open', async () => {
      const w = await watched(rig.url, {}, {connect: false});
      w.el.openMessages = ['subscribe:a'];
      w.el.send('queued');
      w.el.connect();
      await until(async () => (await rig.received()).length === 2, {message: 'two messages'});
      expect(await rig.takeReceived()).to.deep.equal(['subscribe:a', 'queued']);
      w.el.openMessages = ['subscribe:a', 'subscribe:b'];
      await w.el.updateComplete;
      await sleep(300);
      expect((await rig.status()).accepted, 'no reconnect for a new array').to.equal(1);
      await rig.terminateClients();
      await until(async () => (await rig.received()).filter((m) => m !== 'ping').length === 2, {
        message: 'the renewed subscriptions',
      });
      expect((await rig.received()).filter((m) => m !== 'ping')).to.deep.equal([
        'subscribe:a',
        'subscribe:b',
      ]);
    });
  });

  describe('reconnect(), attempt and nextRetryAt', () => {
    it('reconnect() replaces the open connection at once', async () => {
      const w = await watched(rig.url);
      await reached(w, 'open');
      w.el.reconnect();
      expect(w.el.state).to.equal('connecting');
      await reached(w, 'open');
      await until(async () => (await rig.status()).open === 1, {message: 'the first one closed'});
      expect((await rig.status()).accepted).to.equal(2);
    });

    it('attempt counts retries and nextRetryAt says when the next one is, matching the event', async () => {
      const w = await watched(rig.url, {
        'reconnect-delay': '2000',
        'max-reconnect-delay': '2000',
        timeout: '3000',
      });
      await reached(w, 'open');
      expect([w.el.attempt, w.el.nextRetryAt]).to.deep.equal([0, undefined]);
      await rig.kill();
      await reached(w, 'reconnecting');
      const change = w.states.at(-1)!;
      expect(w.el.attempt).to.equal(1);
      expect(change.attempt).to.equal(1);
      expect(w.el.nextRetryAt).to.be.a('number');
      // nextRetryAt is the moment the event's delay ends (epoch ms; the delay is whole ms).
      expect(w.el.nextRetryAt! - Date.now()).to.be.within(change.delay! - 100, change.delay! + 1);
      // Up to 2 s of delay, then an attempt that fails at once or at `timeout`:
      // 5 s at most, with room for a busy machine.
      await until(() => w.states.filter((s) => s.state === 'reconnecting').length === 2, {
        timeout: 12_000,
        message: 'a second retry',
      }).catch((error: Error) => {
        throw new Error(`${error.message}; states: ${w.states.map((s) => s.state).join(', ')}`);
      });
      expect(w.el.attempt).to.equal(2);
      w.el.connect();
      expect([w.el.attempt, w.el.nextRetryAt, w.el.state]).to.deep.equal([0, undefined, 'connecting']);
      await rig.revive();
      await reached(w, 'open');
    });
  });

  describe('frameworks that render it', () => {
    it('React 19 hears every state from the first, with no warning', async () => {
      const container = document.body.appendChild(document.createElement('div'));
      const root = createRoot(container);
      const errors: string[] = [];
      const consoleError = console.error;
      console.error = (...args: unknown[]) => errors.push(args.map(String).join(' '));
      function Feed() {
        const [states, setStates] = useState<string[]>([]);
        return createElement(
          'div',
          null,
          createElement('ws-connection', {
            url: rig.url,
            'onws-state': (event: CustomEvent<{state: string}>) =>
              setStates((list) => [...list, event.detail.state]),
          }),
          createElement('p', null, states.join(' ')),
        );
      }
      try {
        flushSync(() => root.render(createElement(Feed)));
        await until(() => container.querySelector('p')!.textContent!.includes('open'), {
          message: 'open shown',
        });
        expect(container.querySelector('p')!.textContent).to.equal('connecting open');
      } finally {
        console.error = consoleError;
        root.unmount();
        container.remove();
      }
      expect(errors).to.deep.equal([]);
    });
  });

  describe('frameworks that assign fresh values on every render', () => {
    it('React 19: an inline urlProvider and openMessages, five renders, no reconnect', async () => {
      const container = document.body.appendChild(document.createElement('div'));
      const root = createRoot(container);
      const render = (n: number) =>
        flushSync(() =>
          root.render(
            createElement('ws-connection', {
              urlProvider: () => `${rig.url}/?render=${n}`,
              openMessages: [`subscribe:${n}`],
              'data-render': n,
            }),
          ),
        );
      try {
        render(0);
        const el = container.querySelector<WsConnection>('ws-connection')!;
        await until(() => el.state === 'open', {message: 'open'});
        for (let n = 1; n <= 5; n++) render(n);
        expect(el.dataset.render).to.equal('5');
        await sleep(400);
        expect(await rig.status()).to.include({accepted: 1, open: 1});
        await rig.terminateClients();
        await until(async () => (await rig.status()).accepted === 2, {message: 'reconnected'});
        expect((await rig.connections())[1].path).to.equal('/?render=5');
        await until(async () => (await rig.received()).includes('subscribe:5'), {
          message: 'the latest subscription',
        });
      } finally {
        root.unmount();
        container.remove();
      }
    });

    it('Vue 3: an inline urlProvider and openMessages, five renders, no reconnect', async () => {
      const container = document.body.appendChild(document.createElement('div'));
      const n = ref(0);
      const app = createApp({
        render: () =>
          h('ws-connection', {
            urlProvider: () => `${rig.url}/?render=${n.value}`,
            openMessages: [`subscribe:${n.value}`],
            'data-render': n.value,
          }),
      });
      app.mount(container);
      try {
        const el = container.querySelector<WsConnection>('ws-connection')!;
        await until(() => el.state === 'open', {message: 'open'});
        for (let render = 1; render <= 5; render++) {
          n.value = render;
          await nextTick();
        }
        expect(el.dataset.render).to.equal('5');
        await sleep(400);
        expect(await rig.status()).to.include({accepted: 1, open: 1});
      } finally {
        app.unmount();
        container.remove();
      }
    });
  });
});
