// Moves within the document in one task, as React, Vue and Lit do when they
// reorder a keyed list: in every state, a move changes nothing. A removal
// for good closes; a later insertion starts afresh. Against the real server.
// The controller's moves are in controller.test.ts.
import {expect} from '@open-wc/testing';
import {createElement, Fragment} from 'react';
import {flushSync} from 'react-dom';
import {createRoot} from 'react-dom/client';
import {createApp, h, nextTick, ref} from 'vue';
import type {WsConnection} from '../src/ws-connection.js';
import {Rig, sleep, until} from './support/rig.js';
import {trackedWebSocket} from './support/tracked-websocket.js';
import {move, reached, watched, type Watched} from './support/watched.js';

const PageWebSocket = window.WebSocket;
let rig: Rig;
let tracker: ReturnType<typeof trackedWebSocket>;

/** An element whose retries wait 19.8 s: Math.random is fixed while its engine is made. */
async function slowRetrying(): Promise<Watched> {
  const random = Math.random;
  Math.random = () => 0.99;
  try {
    return await watched(rig.url, {'reconnect-delay': '20000', 'max-reconnect-delay': '20000'});
  } finally {
    Math.random = random;
  }
}

/** After a move: the same state and attempt, no new socket, and nothing more at the server for a while. */
async function expectUnchanged(w: Watched, before: {accepted: number}) {
  const state = w.el.state;
  const attempt = w.el.attempt;
  const nextRetryAt = w.el.nextRetryAt;
  const sockets = tracker.sockets.length;
  const events = w.log.length;
  move(w.el);
  await sleep(400);
  expect(w.el.state, 'state').to.equal(state);
  expect(w.el.attempt, 'attempt').to.equal(attempt);
  expect(w.el.nextRetryAt, 'nextRetryAt').to.equal(nextRetryAt);
  expect(tracker.sockets.length, 'no new socket').to.equal(sockets);
  expect(w.log.slice(events), 'no event').to.deep.equal([]);
  expect((await rig.status()).accepted, 'no new connection').to.equal(before.accepted);
}

describe('moves', () => {
  beforeEach(async () => {
    rig = await Rig.start();
    tracker = trackedWebSocket();
    window.WebSocket = tracker.TrackedWebSocket;
  });

  afterEach(async () => {
    window.WebSocket = PageWebSocket;
    for (const el of document.querySelectorAll('ws-connection')) el.close();
    window.dispatchEvent(new Event('online'));
    expect(tracker.violations, 'never two sockets connecting or open').to.equal(0);
    await Rig.stopAll();
  });

  describe('of the element, in each state', () => {
    it('not started (manual): stays idle, and connects nothing', async () => {
      const w = await watched(rig.url, {}, {connect: false});
      await expectUnchanged(w, {accepted: 0});
      expect(w.el.state).to.equal('idle');
    });

    it('waiting for a url: stays idle', async () => {
      const w = await watched(undefined);
      await expectUnchanged(w, {accepted: 0});
      expect(w.el.state).to.equal('idle');
    });

    it('connecting: keeps its one attempt, which opens', async () => {
      await rig.blackhole();
      const w = await watched(rig.proxyUrl, {timeout: '5000'});
      expect(w.el.state).to.equal('connecting');
      await expectUnchanged(w, {accepted: 0});
      await rig.heal();
      await reached(w, 'open');
      expect(tracker.sockets).to.have.length(1);
    });

    it('open: keeps the connection', async () => {
      const w = await watched(rig.url);
      await reached(w, 'open');
      await expectUnchanged(w, {accepted: 1});
      expect((await rig.status()).open).to.equal(1);
    });

    it('reconnecting: the retry keeps its time, and nothing dials early', async () => {
      const w = await slowRetrying();
      await reached(w, 'open');
      await rig.restart(0);
      await reached(w, 'reconnecting');
      expect(w.el.nextRetryAt! - Date.now()).to.be.greaterThan(15_000);
      await until(async () => (await rig.status()).listening, {message: 'the server is back'});
      await expectUnchanged(w, {accepted: 1});
    });

    it('offline: stays offline until online', async () => {
      const w = await watched(rig.url);
      await reached(w, 'open');
      window.dispatchEvent(new Event('offline'));
      expect(w.el.state).to.equal('offline');
      await expectUnchanged(w, {accepted: 1});
      window.dispatchEvent(new Event('online'));
      await reached(w, 'open');
    });

    it('closed by close(): stays closed', async () => {
      const w = await watched(rig.url);
      await reached(w, 'open');
      w.el.close();
      await expectUnchanged(w, {accepted: 1});
    });

    it('closed by a stop code (1008): stays closed', async () => {
      const w = await watched(rig.url);
      await reached(w, 'open');
      await rig.closeClients(1008, 'not allowed');
      await reached(w, 'closed');
      await expectUnchanged(w, {accepted: 1});
    });

    it('closed with retries exhausted: stays closed', async () => {
      const w = await watched(rig.url, {'max-retries': '0'});
      await reached(w, 'open');
      await rig.terminateClients();
      await reached(w, 'closed');
      await expectUnchanged(w, {accepted: 1});
    });
  });

  describe('of the element, for good', () => {
    it('removed: closes and clears everything; inserted later: starts afresh with a fresh retry budget', async () => {
      const w = await watched(rig.url, {'max-retries': '1', timeout: '3000'});
      await reached(w, 'open');
      await rig.kill();
      await until(() => w.errors.some((e) => e.kind === 'retries-exhausted'), {message: 'retries-exhausted'});
      const parent = w.el.parentElement!;
      w.el.remove();
      await sleep(0);
      const from = w.log.length;
      parent.append(w.el);
      await Promise.resolve(); // insertion takes effect once the task's DOM work is done
      expect(w.el.state).to.equal('connecting');
      expect(w.el.attempt).to.equal(0);
      const statesSince = () => w.log.slice(from).filter((entry) => entry.startsWith('state:'));
      // The server stays down: the budget allows exactly one more retry, then it gives up again.
      await until(() => statesSince().includes('state:closed'), {
        timeout: 15_000,
        message: 'closed after its one retry',
      });
      expect(statesSince()).to.deep.equal([
        'state:connecting',
        'state:reconnecting',
        'state:connecting',
        'state:closed',
      ]);
      expect(w.errors.filter((e) => e.kind === 'retries-exhausted')).to.have.length(2);
    });

    it('connect() before it was ever inserted opens nothing until insertion, and removal closes it', async () => {
      const el = document.createElement('ws-connection');
      el.url = rig.url;
      el.connect();
      await sleep(300);
      expect(el.state).to.equal('idle');
      expect(tracker.sockets).to.have.length(0);
      document.body.append(el);
      await until(() => el.state === 'open', {message: 'open on insertion'});
      el.remove();
      await until(async () => (await rig.status()).open === 0, {message: 'closed on removal'});
    });
  });

  describe('by frameworks reordering a keyed list', () => {
    // Several elements at once: the server counts connections per element (its path), not the page tracker.
    beforeEach(() => {
      window.WebSocket = PageWebSocket;
    });

    it('React: reordered and re-rendered, each element keeps its one connection', async () => {
      const container = document.body.appendChild(document.createElement('div'));
      const root = createRoot(container);
      const render = (order: string[]) =>
        flushSync(() =>
          root.render(
            createElement(
              Fragment,
              null,
              order.map((key) =>
                createElement('ws-connection', {
                  key,
                  id: key,
                  url: `${rig.url}/${key}`,
                  'heartbeat-interval': 300,
                }),
              ),
            ),
          ),
        );
      try {
        render(['a', 'b', 'c']);
        await until(async () => (await rig.status()).open === 3, {message: 'three open'});
        const before = [...container.children].map((el) => el.id);
        render(['c', 'a', 'b']);
        render(['b', 'c', 'a']);
        expect(
          [...container.children].map((el) => el.id),
          'reordered',
        ).to.deep.equal(['b', 'c', 'a']);
        expect(before).to.deep.equal(['a', 'b', 'c']);
        await sleep(400);
        expect(await rig.status()).to.include({accepted: 3, open: 3});
        expect(
          [...container.querySelectorAll<WsConnection>('ws-connection')].map((el) => el.state),
        ).to.deep.equal(['open', 'open', 'open']);
      } finally {
        root.unmount();
        container.remove();
      }
      await until(async () => (await rig.status()).open === 0, {message: 'unmount closes all three'});
    });

    it('Vue: reordered, each element keeps its one connection', async () => {
      const container = document.body.appendChild(document.createElement('div'));
      const order = ref(['a', 'b', 'c']);
      const app = createApp({
        render: () => order.value.map((key) => h('ws-connection', {key, id: key, url: `${rig.url}/${key}`})),
      });
      app.mount(container);
      try {
        await until(async () => (await rig.status()).open === 3, {message: 'three open'});
        order.value = ['c', 'b', 'a'];
        await nextTick();
        expect([...container.children].map((el) => el.id)).to.deep.equal(['c', 'b', 'a']);
        await sleep(400);
        expect(await rig.status()).to.include({accepted: 3, open: 3});
      } finally {
        app.unmount();
        container.remove();
      }
    });
  });
});
