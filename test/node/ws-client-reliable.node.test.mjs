// The engine with `reliable` in Node, as a server-side or CLI user runs it:
// the built client entry (its protocol chunk loaded on first use), the `ws`
// package's WebSocket, and the rig's reliable() server.
import assert from 'node:assert/strict';
import {afterEach, beforeEach, describe, it} from 'node:test';
import WebSocket from 'ws';
import {WsClient} from '../../dist/client/index.js';
import {ReliableRigServer} from '../support/rig-server.mjs';

async function until(check, {timeout = 5000, message = 'condition'} = {}) {
  const deadline = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${message}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('WsClient reliable in Node with the ws package', () => {
  let rig;
  let client;

  beforeEach(async () => {
    rig = new ReliableRigServer();
    await rig.start();
  });

  afterEach(async () => {
    client?.close();
    await rig.stop();
  });

  it('resumes after a killed socket with nothing lost or repeated, binary included, and answers requests', async () => {
    client = new WsClient(
      {url: `ws://127.0.0.1:${rig.port}`, reliable: true, reconnectDelay: 50, binaryType: 'arraybuffer'},
      {WebSocket},
    );
    const opens = [];
    const messages = [];
    client.on('state', (change) => change.state === 'open' && opens.push(change.resumed));
    client.on('message', ({data}) =>
      messages.push(typeof data === 'string' ? data : [...new Uint8Array(data)]),
    );
    client.connect();
    await until(() => opens.length === 1, {message: 'open'});
    for (let i = 0; i < 10; i++) client.send(`n${i}`);
    client.send(new Uint8Array([1, 2, 3]));
    const reply = client.request('q', {timeout: 5000});
    rig.terminateClients();
    for (let i = 10; i < 20; i++) client.send(`n${i}`);
    assert.equal(await reply, 're:q');
    await until(() => rig.received.length === 21 && messages.length === 21, {message: 'everything across'});
    const expected = [...Array.from({length: 10}, (_, i) => `n${i}`), 'binary 1,2,3'];
    expected.push(...Array.from({length: 10}, (_, i) => `n${i + 10}`));
    assert.deepEqual(
      rig.received.map(({data}) => data),
      expected,
    );
    assert.deepEqual(messages[10], [1, 2, 3]);
    assert.deepEqual(opens, [false, true]);
    await until(() => client.queued === 0, {message: 'all acknowledged'});
  });

  it("names an open message larger than the server's maxFrame, sends the others, and counts acknowledgements right", async () => {
    await rig.stop();
    rig = new ReliableRigServer({maxFrame: 1024});
    await rig.start();
    const big = 'x'.repeat(4096);
    client = new WsClient(
      {url: `ws://127.0.0.1:${rig.port}`, reliable: true, openMessages: [big, 'subscribe']},
      {WebSocket},
    );
    const errors = [];
    client.on('error', (detail) => errors.push(detail));
    client.connect();
    for (let i = 0; i < 3; i++) client.send(`n${i}`);
    await until(() => rig.received.length === 4, {message: 'the subscription and the messages'});
    assert.deepEqual(
      rig.received.map(({data}) => data),
      ['subscribe', 'n0', 'n1', 'n2'],
    );
    assert.deepEqual(
      errors.map(({kind, message, data}) => [kind, message, data?.length]),
      [['send-failed', "an open message is larger than the server's maxFrame", big.length]],
    );
    await until(() => client.queued === 0, {message: 'all acknowledged'});
  });
});
