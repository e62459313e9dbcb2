// The engine in Node, as a server-side or CLI user runs it: the built
// package's client entry, the `ws` package's WebSocket, the rig's server.
import assert from 'node:assert/strict';
import {after, afterEach, before, describe, it} from 'node:test';
import WebSocket from 'ws';
import {WsClient} from '../../dist/client/index.js';
import {RigServer} from '../support/rig-server.mjs';

async function until(check, {timeout = 5000, message = 'condition'} = {}) {
  const deadline = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${message}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('WsClient in Node with the ws package', () => {
  let rig;
  let clients = [];

  function client(options = {}) {
    const c = new WsClient(
      {
        url: `ws://127.0.0.1:${rig.port}`,
        heartbeatInterval: 200,
        timeout: 200,
        reconnectDelay: 50,
        ...options,
      },
      {WebSocket},
    );
    const seen = {states: [], errors: [], messages: []};
    c.on('state', (change) => seen.states.push(change.state));
    c.on('error', (error) => seen.errors.push(error.kind));
    c.on('message', ({data}) => seen.messages.push(data));
    clients.push(c);
    return {c, seen};
  }

  before(async () => {
    rig = new RigServer();
    await rig.start();
  });
  afterEach(() => {
    for (const c of clients) c.close();
    clients = [];
  });
  after(() => rig.stop());

  it('needs no DOM: connects, echoes, and parses JSON', async () => {
    assert.equal(typeof globalThis.document, 'undefined');
    const {c, seen} = client({json: true});
    c.connect();
    assert.equal(c.send({hello: 'node'}), true);
    await until(() => seen.messages.length === 1, {message: 'echo'});
    assert.deepEqual(seen.messages, [{hello: 'node'}]);
    assert.equal(c.state, 'open');
  });

  it('answers heartbeats and declares a muted server dead, then reconnects', async () => {
    const {c, seen} = client();
    c.connect();
    await until(() => c.latency !== undefined, {message: 'a pong'});
    rig.set({pong: false});
    await until(() => seen.errors.includes('heartbeat-timeout'), {message: 'heartbeat-timeout'});
    rig.set({pong: true});
    await until(() => c.state === 'open' && seen.states.filter((s) => s === 'open').length === 2, {
      message: 'open again',
    });
  });

  it('reconnects after a restart and delivers what was queued meanwhile', async () => {
    const {c, seen} = client();
    c.connect();
    await until(() => c.state === 'open');
    await rig.restart({downMs: 300});
    await until(() => seen.states.includes('reconnecting'));
    c.send('while down');
    rig.takeReceived();
    await until(() => rig.received.includes('while down'), {message: 'queued message delivered'});
    assert.equal(c.state, 'open');
  });

  it('reports a connection refused as a socket error and keeps retrying, without throwing', async () => {
    const {c, seen} = client({url: 'ws://127.0.0.1:9', maxRetries: 2, reconnectDelay: 10});
    c.connect();
    await until(() => c.state === 'closed', {message: 'retries exhausted'});
    assert.ok(seen.errors.includes('socket-error'));
    assert.equal(seen.errors.at(-1), 'retries-exhausted');
  });
});
