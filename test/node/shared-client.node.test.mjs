// The shared engine in Node: the built package's `shared.js` entry, the `ws`
// package's WebSocket and the rig's server. Node has no Web Locks, so clients
// share within the process, as a page without them does.
import assert from 'node:assert/strict';
import {after, before, describe, it} from 'node:test';
import WebSocket from 'ws';
import {SharedClient} from '../../dist/share/index.js';
import {RigServer} from '../support/rig-server.mjs';

async function until(check, {timeout = 5000, message = 'condition'} = {}) {
  const deadline = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${message}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('SharedClient in Node with the ws package', () => {
  let rig;
  before(async () => {
    rig = new RigServer();
    await rig.start();
  });
  after(() => rig.stop());

  it('needs no DOM: two clients of one url share one connection, each with its own json', async () => {
    assert.equal(typeof globalThis.document, 'undefined');
    const url = `ws://127.0.0.1:${rig.port}`;
    const text = new SharedClient({url}, {WebSocket});
    const parsed = new SharedClient({url, json: true}, {WebSocket});
    const heard = {text: [], parsed: []};
    text.on('message', ({data}) => heard.text.push(data));
    parsed.on('message', ({data}) => heard.parsed.push(data));
    text.connect();
    parsed.connect();
    assert.equal(parsed.send({from: 'parsed'}), true);
    await until(() => heard.text.length === 1 && heard.parsed.length === 1, {message: 'the echo, twice'});
    assert.deepEqual(heard.text, ['{"from":"parsed"}']);
    assert.deepEqual(heard.parsed, [{from: 'parsed'}]);
    assert.equal(rig.status().accepted, 1);
    assert.equal(text.leader, true);
    text.close();
    assert.equal(parsed.state, 'open');
    parsed.close();
    await until(() => rig.status().open === 0, {message: 'the socket to close'});
  });

  it("makes the socket with the first client's WebSocket: when it goes, with the next one's", async () => {
    const url = `ws://127.0.0.1:${rig.port}`;
    const made = [];
    const counting = (name) =>
      class extends WebSocket {
        constructor(...args) {
          super(...args);
          made.push(name);
        }
      };
    const first = new SharedClient({url, reconnectDelay: 50}, {WebSocket: counting('first')});
    const second = new SharedClient({url, reconnectDelay: 50}, {WebSocket: counting('second')});
    first.connect();
    second.connect();
    await until(() => second.state === 'open', {message: 'open'});
    first.close();
    rig.closeClients({code: 1012, reason: 'restart'});
    await until(() => made.length === 2 && second.state === 'open', {message: 'the reconnect'});
    assert.deepEqual(made, ['first', 'second']);
    second.close();
    await until(() => rig.status().open === 0, {message: 'the socket to close'});
  });
});
