// The Python reference server (examples/python/reliable_server.py, written
// from docs/PROTOCOL.md alone) driven by the Node client built on the
// protocol module: a new session, messages both ways, text and binary, a
// killed socket resumed with nothing lost or repeated, requests and their
// errors, a wrong token refused, and malformed frames closed with 1002.
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {existsSync} from 'node:fs';
import {after, afterEach, before, describe, it} from 'node:test';
import WebSocket from 'ws';
import {SUBPROTOCOL} from '../../dist/protocol/index.js';
import {Client, sleep, until} from '../support/reliable-client.mjs';

/** Debian's python3, which has python3-websockets; PYTHON overrides it. */
const python = process.env.PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');

describe('the Python reference server', {timeout: 60_000}, () => {
  let child;
  let url;
  const cleanup = [];
  before(async () => {
    child = spawn(python, ['examples/python/reliable_server.py', '0'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const port = await Promise.race([
      new Promise((resolve) => {
        let out = '';
        child.stdout.on('data', (chunk) => {
          out += chunk;
          const match = /listening on (\d+)/.exec(out);
          if (match) resolve(Number(match[1]));
        });
      }),
      exited.then((code) => {
        throw new Error(
          `${python} examples/python/reliable_server.py exited with ${code} (is python3-websockets installed?)`,
        );
      }),
    ]);
    url = `ws://127.0.0.1:${port}`;
  });
  after(() => child?.kill());
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  async function connected() {
    const c = new Client(url);
    cleanup.push(() => c.ws?.terminate());
    await c.connect();
    return c;
  }

  /** A raw socket under the subprotocol: every frame it gets, and how it closed. */
  async function raw() {
    const ws = new WebSocket(url, [SUBPROTOCOL]);
    cleanup.push(() => ws.terminate());
    ws.frames = [];
    ws.on('message', (data, isBinary) => ws.frames.push(isBinary ? data : String(data)));
    ws.closed = new Promise((resolve) =>
      ws.once('close', (code, reason) => resolve({code, reason: String(reason)})),
    );
    await new Promise((resolve) => ws.once('open', resolve));
    assert.equal(ws.protocol, SUBPROTOCOL);
    return ws;
  }

  it('starts a session and carries messages both ways, text and binary, acknowledged', async () => {
    const c = await connected();
    assert.deepEqual(
      c.of('open').map((event) => event.resumed),
      [false],
    );
    const session = JSON.parse(c.frames.received[0]);
    assert.match(session.token, /^[A-Za-z0-9_-]{22}$/);
    assert.equal(session.resumeWindow, 120_000);
    c.send('hi');
    c.send(new Uint8Array([1, 2, 3]));
    await until(() => c.of('message').length === 2, 'the echoes');
    assert.equal(String(c.of('message')[0].data), 'echo hi');
    assert.deepEqual([...c.of('message')[1].data], [1, 2, 3]);
    await until(() => c.endpoint.queued === 0, 'the server to acknowledge');
  });

  it('resumes after the socket is killed: nothing lost or repeated either way', async () => {
    const c = await connected();
    c.send('one');
    await until(() => c.messages.length === 1 && c.endpoint.queued === 0, 'the first echo');
    c.send('later 150 sent while you were away');
    await sleep(20);
    c.kill();
    c.send('two');
    c.send('three');
    await sleep(250);
    await c.connect();
    assert.deepEqual(
      c.of('open').map((event) => event.resumed),
      [false, true],
    );
    await until(() => c.messages.length === 4, 'the replay and the echoes');
    assert.deepEqual(c.messages, ['echo one', 'sent while you were away', 'echo two', 'echo three']);
    await until(() => c.endpoint.queued === 0, 'everything acknowledged');
    assert.deepEqual(c.of('session-lost'), []);
  });

  it('answers requests, with an error-reply when the application refuses', async () => {
    const c = await connected();
    assert.equal(String((await c.request('who')).data), 're:who');
    const refused = await c.request('fail');
    assert.equal(refused.type, 'error-reply');
    assert.equal(refused.message, 'not allowed');
  });

  it('refuses a resume with a wrong token, as an unknown session', async () => {
    const c = await connected();
    const {session} = JSON.parse(c.frames.received[0]);
    const ws = await raw();
    ws.send(JSON.stringify({type: 'resume', session, token: 'AAAAAAAAAAAAAAAAAAAAAA', ack: 0}));
    await until(() => ws.frames.length === 1, 'the answer');
    const answer = JSON.parse(ws.frames[0]);
    assert.equal(answer.type, 'session');
    assert.equal(answer.refused, 'unknown-session');
    assert.notEqual(answer.session, session);
  });

  for (const [name, first, then] of [
    ['a data frame before hello', 'm1:too soon', undefined],
    ['a gap in the sequence', '{"type":"hello"}', 'm2:skipped one'],
    ['an unknown frame', '{"type":"hello"}', 'z'],
    [
      'a control frame with a field of the wrong type',
      '{"type":"resume","session":"abc","token":"def","ack":"1"}',
    ],
    ['an ack of a frame never sent', '{"type":"hello"}', 'a5'],
    ['a resume with a fractional ack', '{"type":"resume","session":"abc","token":"def","ack":1.5}'],
  ]) {
    it(`closes with 1002 on ${name}`, async () => {
      const ws = await raw();
      ws.send(first);
      if (then !== undefined) {
        await until(() => ws.frames.length === 1, 'the session');
        ws.send(then);
      }
      const {code, reason} = await ws.closed;
      assert.equal(code, 1002, reason);
      assert.ok(reason.length > 0, 'a reason that names the fault');
    });
  }
});
