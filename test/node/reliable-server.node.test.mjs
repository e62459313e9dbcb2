// reliable() (ws-connection/server.js, run after the build) against real `ws`
// servers, driven by a small Node client built on the same protocol module:
// sessions, messages both ways, a killed socket resumed with nothing lost or
// repeated, requests, the resume window, wrong tokens, tokens kept out of
// the URL, the bound on what a client leaves unacknowledged, malformed
// frames, plain connections left alone, the heartbeat, and the store's gate.
import assert from 'node:assert/strict';
import {execFile} from 'node:child_process';
import {afterEach, describe, it as test} from 'node:test';
import {promisify} from 'node:util';
import WebSocket, {WebSocketServer} from 'ws';
import {SUBPROTOCOL} from '../../dist/protocol/index.js';
import {MemoryStore, reliable} from '../../dist/server/index.js';
import {Client, sleep, until} from '../support/reliable-client.mjs';

const it = (name, fn) => test(name, {timeout: 15_000}, fn);

describe('reliable()', {timeout: 60_000}, () => {
  const cleanup = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  /** A ws server with reliable(); every session's messages and requests recorded. */
  async function server(options = {}, serverOptions = {}) {
    const wss = new WebSocketServer({port: 0, host: '127.0.0.1', ...serverOptions});
    await new Promise((resolve) => wss.once('listening', resolve));
    const upgrades = [];
    wss.on('connection', (_socket, request) => upgrades.push(request));
    const r = reliable(wss, options);
    cleanup.push(() => new Promise((resolve) => wss.close(resolve)));
    cleanup.push(() => r.stop());
    const sessions = [];
    r.on('session', (session) => {
      session.received = [];
      session.closed = 0;
      session.on('message', (data) => session.received.push(String(data)));
      session.on('close', () => session.closed++);
      sessions.push(session);
    });
    return {wss, r, sessions, upgrades, url: `ws://127.0.0.1:${wss.address().port}/live`};
  }

  function client(url, options) {
    const c = new Client(url, options);
    cleanup.push(() => c.ws?.terminate());
    return c;
  }

  it('starts a session, and carries text and binary both ways', async () => {
    const {sessions, url} = await server();
    const c = client(url, {startMessages: () => ['subscribe']});
    await c.connect();
    assert.equal(c.ws.protocol, SUBPROTOCOL);
    assert.deepEqual(c.of('open'), [
      {type: 'open', session: sessions[0].id, resumed: false, started: 1, skipped: []},
    ]);
    const [session] = sessions;
    assert.match(session.id, /^[A-Za-z0-9_-]{22}$/);
    const binary = [];
    session.on('message', (data) => typeof data !== 'string' && binary.push([...data]));
    c.send('hello');
    c.send(new Uint8Array([1, 2, 3]));
    session.send('welcome');
    session.send(Buffer.from([4, 5]));
    await until(() => session.received.length === 3 && c.messages.length === 2, 'both ways');
    assert.deepEqual(session.received.slice(0, 2), ['subscribe', 'hello']);
    assert.deepEqual(binary, [[1, 2, 3]]);
    assert.deepEqual(c.messages[0], 'welcome');
    assert.deepEqual([...c.of('message')[1].data], [4, 5]);
    await until(() => c.endpoint.queued === 0 && session.queued === 0, 'acks both ways');
  });

  it('resumes after the socket is killed: nothing lost or repeated, either way', async () => {
    const {sessions, url} = await server();
    const c = client(url);
    await c.connect();
    const [session] = sessions;
    const count = 300;
    // Both sides send while the socket dies under them: some frames are in flight.
    for (let i = 1; i <= count; i++) {
      c.send(`c${i}`);
      session.send(`s${i}`);
      if (i === 150) c.kill();
    }
    await until(() => !session.connected, 'the server to notice');
    for (let i = count + 1; i <= count + 20; i++) {
      c.send(`c${i}`);
      session.send(`s${i}`);
    }
    await c.connect();
    assert.deepEqual(c.of('open').at(-1), {
      type: 'open',
      session: session.id,
      resumed: true,
      started: 0,
      skipped: [],
    });
    const expected = (prefix) => Array.from({length: count + 20}, (_, i) => `${prefix}${i + 1}`);
    await until(() => session.received.length >= count + 20 && c.messages.length >= count + 20, 'all', 5000);
    await sleep(100);
    assert.deepEqual(session.received, expected('c'));
    assert.deepEqual(c.messages, expected('s'));
    assert.equal(sessions.length, 1, 'one session throughout');
    assert.equal(c.of('session-lost').length, 0);
  });

  it('answers requests with replies and errors, across a resume too', async () => {
    const {r, url} = await server();
    r.on('session', (session) =>
      session.on('request', (data, reply) => {
        const text = String(data);
        if (text === 'forbidden') reply.error('not allowed');
        else if (text === 'later') setTimeout(() => reply(`late ${text}`), 100);
        else {
          assert.equal(reply(`re ${text}`), true);
          assert.equal(reply('twice'), false, 'one reply per request');
        }
      }),
    );
    const c = client(url);
    await c.connect();
    assert.deepEqual(await c.request('profile'), {type: 'reply', id: 1, data: 're profile'});
    assert.deepEqual(await c.request('forbidden'), {type: 'error-reply', id: 2, message: 'not allowed'});
    const late = c.request('later');
    await sleep(20);
    c.kill();
    await sleep(150);
    await c.connect();
    assert.deepEqual(await late, {type: 'reply', id: 3, data: 'late later'});
  });

  it('answers a request with an error when no one handles requests', async () => {
    const {url} = await server();
    const c = client(url);
    await c.connect();
    assert.deepEqual(await c.request('anyone?'), {
      type: 'error-reply',
      id: 1,
      message: 'no handler for requests',
    });
  });

  it('ends a session when its resume window passes: close fires once, and a resume is refused', async () => {
    const {r, sessions, url} = await server({resumeWindow: 200});
    const c = client(url);
    await c.connect();
    const [session] = sessions;
    c.kill();
    await until(() => !session.connected, 'the server to notice');
    c.send('after the window');
    await sleep(350);
    assert.equal(session.closed, 1);
    assert.equal(r.sessions.size, 0);
    assert.equal(session.send('too late'), false);
    await c.connect();
    const [lost] = c.of('session-lost');
    assert.deepEqual(
      lost.messages.map((m) => m.data),
      ['after the window'],
    );
    assert.deepEqual(c.of('open').at(-1).resumed, false);
    assert.equal(sessions.length, 2);
    assert.notEqual(sessions[1].id, session.id);
    assert.equal(session.closed, 1, 'once');
  });

  it('refuses a resume with a wrong token, or of an unknown session, and starts a new one', async () => {
    const {sessions, url} = await server();
    const c = client(url);
    await c.connect();
    const [session] = sessions;
    for (const resume of [
      {type: 'resume', session: session.id, token: 'AAAAAAAAAAAAAAAAAAAAAA', ack: 0},
      {type: 'resume', session: 'no-such-session', token: 'AAAAAAAAAAAAAAAAAAAAAA', ack: 0},
    ]) {
      const ws = new WebSocket(url, [SUBPROTOCOL]);
      cleanup.push(() => ws.terminate());
      await new Promise((resolve) => ws.once('open', resolve));
      const answer = new Promise((resolve) =>
        ws.once('message', (data) => resolve(JSON.parse(String(data)))),
      );
      ws.send(JSON.stringify(resume));
      const frame = await answer;
      assert.equal(frame.type, 'session');
      assert.equal(frame.refused, 'unknown-session');
      assert.notEqual(frame.session, session.id);
    }
    // The real session is untouched: still connected, still delivering.
    assert.equal(session.connected, true);
    c.send('still here');
    await until(() => session.received.includes('still here'), 'the real session');
  });

  it('keeps the token out of the URL: it travels in frames only', async () => {
    const {upgrades, url} = await server();
    const c = client(url);
    await c.connect();
    c.kill();
    await c.connect();
    const {session, token} = JSON.parse(c.frames.received[0]);
    assert.match(token, /^[A-Za-z0-9_-]{22}$/);
    assert.equal(c.of('open').at(-1).resumed, true);
    assert.deepEqual(JSON.parse(c.frames.sent.find((frame) => frame.includes('"resume"'))), {
      type: 'resume',
      session,
      token,
      ack: 0,
    });
    assert.equal(upgrades.length, 2);
    for (const request of upgrades) {
      assert.equal(request.url, '/live');
      const headers = JSON.stringify(request.headers);
      for (const secret of [token, session]) assert.ok(!headers.includes(secret), headers);
    }
  });

  /** A raw reliable connection that says hello and then only what the test writes: it acknowledges nothing. */
  async function silent(url) {
    const ws = new WebSocket(url, [SUBPROTOCOL]);
    cleanup.push(() => ws.terminate());
    ws.frames = [];
    ws.on('message', (data) => ws.frames.push(String(data)));
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send('{"type":"hello"}');
    await until(() => ws.frames.length === 1, 'the session frame');
    return ws;
  }

  it('stops at the bound when a client never acknowledges: memory does not grow', async () => {
    const store = new MemoryStore();
    const {sessions, url} = await server({bufferLimit: 100, store});
    const ws = await silent(url);
    const [session] = sessions;
    let accepted = 0;
    for (let i = 0; i < 5000; i++) if (session.send(`flood ${i}`)) accepted++;
    assert.equal(accepted, 100);
    assert.equal(session.queued, 100);
    await until(() => ws.frames.length === 101, 'the hundred');
    await sleep(50);
    assert.equal(ws.frames.length, 101, 'nothing beyond the bound');
    assert.equal((await store.load(session.id)).messages.length, 100);
    // Once the client acknowledges, the session takes messages again.
    ws.send('a100');
    await until(() => session.queued === 0, 'the ack');
    assert.equal(session.send('again'), true);
    await until(() => ws.frames.at(-1) === 'm101:again', 'the next');
    assert.equal((await store.load(session.id)).messages.length, 1);
  });

  it('drops a frame the client sends again, and delivers it once', async () => {
    const {sessions, url} = await server();
    const ws = await silent(url);
    const [session] = sessions;
    ws.send('m1:once');
    ws.send('m1:once');
    ws.send('q2:1:asked once');
    ws.send('q2:1:asked once');
    const requests = [];
    session.on('request', (data, reply) => requests.push(String(data)) && reply('ok'));
    ws.send('m3:after');
    await until(() => session.received.length === 2, 'the messages');
    await sleep(50);
    assert.deepEqual(session.received, ['once', 'after']);
    assert.deepEqual(requests, ['asked once']);
    assert.equal(ws.readyState, WebSocket.OPEN, 'a duplicate is no error');
  });

  it('stops at bufferBytes too: the message that would cross it is refused', async () => {
    const {sessions, url} = await server({bufferBytes: 1000});
    await silent(url);
    const [session] = sessions;
    assert.equal(session.send('x'.repeat(900)), true);
    assert.equal(session.send('x'.repeat(200)), false);
    assert.equal(session.send('x'.repeat(50)), true);
    assert.equal(session.send(Buffer.alloc(51)), false);
  });

  it('closes a connection with 1002 on a malformed frame, and loses nothing of the session', async () => {
    const {sessions, url} = await server();
    const c = client(url);
    await c.connect();
    const [session] = sessions;
    c.send('before');
    await until(() => session.received.length === 1, 'before');
    c.ws.send('m99:not the next one');
    const closed = await c.ws.closed;
    assert.deepEqual(closed, {code: 1002, reason: 'message: sequence 99 after 1 (a gap)'});
    c.endpoint.disconnected();
    session.send('while it was gone');
    c.send('after');
    await c.connect();
    assert.equal(c.of('open').at(-1).resumed, true);
    await until(() => session.received.length === 2 && c.messages.length === 1, 'after');
    assert.deepEqual(session.received, ['before', 'after']);
    assert.deepEqual(c.messages, ['while it was gone']);
  });

  it('closes with 1002 a connection whose first frame is not hello or resume, or that sends none', async () => {
    const {url} = await server({timeout: 300});
    for (const [first, reason] of [
      ['m1:hello', 'expected hello or resume first, not message'],
      ['ping', 'p frame: bad ack'],
      [undefined, 'no hello or resume in time'],
    ]) {
      const ws = new WebSocket(url, [SUBPROTOCOL]);
      cleanup.push(() => ws.terminate());
      const closed = new Promise((resolve) => ws.once('close', (code, why) => resolve([code, String(why)])));
      await new Promise((resolve) => ws.once('open', resolve));
      if (first !== undefined) ws.send(first);
      assert.deepEqual(await closed, [1002, reason]);
    }
  });

  it('leaves plain connections alone, and keepAlive answers their ping', async () => {
    const {wss, sessions, url} = await server();
    const heard = [];
    wss.on('connection', (socket) => socket.on('message', (data) => heard.push(String(data))));
    for (const protocols of [[], ['chat']]) {
      const ws = new WebSocket(url, protocols);
      cleanup.push(() => ws.terminate());
      await new Promise((resolve) => ws.once('open', resolve));
      assert.equal(ws.protocol, protocols[0] ?? '');
      const pong = new Promise((resolve) => ws.once('message', (data) => resolve(String(data))));
      ws.send('ping');
      assert.equal(await pong, 'pong');
      ws.send('m1:looks like a frame');
      ws.send('{"type":"hello"}');
      await sleep(100);
      assert.equal(ws.readyState, WebSocket.OPEN, 'not closed as malformed');
    }
    assert.deepEqual(heard.filter((text) => text !== 'ping').length, 4);
    assert.equal(sessions.length, 0);
  });

  it("selects the subprotocol over the server's own handleProtocols, and gives it back on stop", async () => {
    const own = (protocols) => (protocols.has('chat') ? 'chat' : false);
    const {wss, r, url} = await server({}, {handleProtocols: own});
    const reliableClient = client(url, {protocols: ['chat', SUBPROTOCOL]});
    await reliableClient.connect();
    assert.equal(reliableClient.ws.protocol, SUBPROTOCOL);
    const chat = new WebSocket(url, ['chat']);
    cleanup.push(() => chat.terminate());
    await new Promise((resolve) => chat.once('open', resolve));
    assert.equal(chat.protocol, 'chat');
    r.stop();
    assert.equal(wss.options.handleProtocols, own);
  });

  it("answers the protocol's ping with a pong carrying its ack, and terminates a client that answers no ping", async () => {
    const {sessions, url} = await server({interval: 150, timeout: 150});
    const c = client(url, {ack: false});
    await c.connect();
    c.send('one');
    await until(() => sessions[0].received.length === 1, 'one');
    c.ping();
    await until(() => c.of('pong').length === 1, 'the pong');
    assert.equal(c.endpoint.queued, 0, 'the pong carried the ack');
    const ws = new WebSocket(url, [SUBPROTOCOL], {autoPong: false});
    cleanup.push(() => ws.terminate());
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send('{"type":"hello"}');
    const from = Date.now();
    const code = await new Promise((resolve) => ws.once('close', resolve));
    assert.equal(code, 1006, 'terminated');
    assert.ok(Date.now() - from <= 150 + 150 + 200, `after ${Date.now() - from} ms`);
  });

  it('closes the older connection with 1008 when the session is resumed on another', async () => {
    const {sessions, url} = await server();
    const c = client(url);
    await c.connect();
    const first = c.ws;
    // A second connection resumes while the first is still open (a half-open link, or another tab).
    const second = new Client(url);
    second.endpoint = c.endpoint;
    c.ws = undefined;
    c.endpoint.disconnected();
    await second.connect();
    cleanup.push(() => second.ws.terminate());
    assert.deepEqual(await first.closed, {code: 1008, reason: 'session resumed on another connection'});
    assert.equal(second.of('open')[0].resumed, true);
    assert.equal(sessions.length, 1);
    assert.equal(sessions[0].connected, true);
  });

  it('ends the session when the client sends end, and when the server calls close()', async () => {
    const {r, sessions, url} = await server();
    const c = client(url);
    await c.connect();
    c.ws.send(c.endpoint.end().frames[0]);
    assert.equal((await c.ws.closed).code, 1000);
    assert.equal(sessions[0].closed, 1);
    assert.equal(r.sessions.size, 0);
    const d = client(url);
    await d.connect();
    sessions[1].close();
    assert.equal((await d.ws.closed).code, 1000);
    assert.deepEqual(d.of('ended'), [{type: 'ended'}]);
    assert.equal(sessions[1].closed, 1);
    sessions[1].close();
    assert.equal(sessions[1].closed, 1, 'once');
  });

  it('writes a message, and acknowledges one, only once the store holds it', async () => {
    const base = new MemoryStore();
    let gate;
    const gated = {
      create: (session) => base.create(session),
      load: (id) => base.load(id),
      delete: (id) => base.delete(id),
      update: async (id, change) => {
        if (gate) await gate.promise;
        return base.update(id, change);
      },
    };
    const {sessions, url} = await server({store: gated});
    const c = client(url);
    await c.connect();
    const [session] = sessions;
    await sleep(50);
    gate = {};
    gate.promise = new Promise((resolve) => (gate.resolve = resolve));
    session.send('not yet');
    c.send('mine');
    await until(() => session.received.length === 1, 'delivered to the application');
    await sleep(100);
    assert.deepEqual(c.messages, [], 'not written before the store has it');
    assert.equal(c.endpoint.queued, 1, 'not acknowledged before the store has the mark');
    gate.resolve();
    gate = undefined;
    await until(() => c.messages.length === 1 && c.endpoint.queued === 0, 'after the store');
    assert.deepEqual((await base.load(session.id)).received, 1);
  });

  it('stops: closes reliable connections with 1001 and leaves no timer behind', async () => {
    const {r, url} = await server({resumeWindow: 60_000});
    const c = client(url);
    await c.connect();
    const other = client(url);
    await other.connect();
    other.kill();
    await sleep(50);
    r.stop();
    assert.equal((await c.ws.closed).code, 1001);
    assert.equal(r.sessions.size, 0);
    const script = `
      import {WebSocketServer} from 'ws';
      import WebSocket from 'ws';
      import {reliable} from './dist/server/index.js';
      const wss = new WebSocketServer({port: 0, host: '127.0.0.1'});
      await new Promise((resolve) => wss.once('listening', resolve));
      const r = reliable(wss, {interval: 50, timeout: 50, resumeWindow: 60000});
      const ws = new WebSocket('ws://127.0.0.1:' + wss.address().port, ['${SUBPROTOCOL}']);
      ws.on('open', () => ws.send('{"type":"hello"}'));
      ws.on('message', () => {
        ws.terminate();
        setTimeout(() => {
          r.stop();
          wss.close();
          setTimeout(() => {
            const left = process.getActiveResourcesInfo().filter((r) => r === 'Timeout');
            console.log(JSON.stringify(left));
          }, 200);
        }, 100);
      });
    `;
    const {stdout} = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      cwd: new URL('../..', import.meta.url).pathname,
      timeout: 10_000,
    });
    assert.ok(JSON.parse(stdout).length <= 1, stdout);
  });

  it('refuses options it cannot use, with a message that says why', () => {
    const wss = new WebSocketServer({noServer: true});
    const cases = [
      [{resumeWindow: -1}, /resumeWindow must be a whole number of ms from 0/],
      [{bufferLimit: 0}, /bufferLimit must be a whole number of messages from 1/],
      [{bufferBytes: 1.5}, /bufferBytes/],
      [{maxFrame: 10}, /maxFrame must be a whole number of bytes from 64/],
      [{store: {}}, /store must have create, load, update and delete/],
      [{interval: -1}, /reliable: interval must be a number of ms/],
      [{resumeWindo: 1}, /reliable: unknown option "resumeWindo"/],
      [null, /options must be an object/],
    ];
    for (const [options, message] of cases) {
      assert.throws(() => reliable(wss, options), {name: 'TypeError', message}, JSON.stringify(options));
    }
    assert.throws(() => reliable({}), TypeError);
    assert.equal(wss.listenerCount('connection'), 0, 'nothing was started');
  });
});
