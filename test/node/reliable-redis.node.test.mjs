// reliable() with its sessions in Redis (RedisStore, after the build), in
// server processes of their own that the tests kill and start again:
// a restart resumes the session with nothing lost or repeated either way
// (and, with the memory store, ends it in session-lost with the right
// messages); two processes behind nginx, round-robin with no sticky
// sessions, hand a session back and forth as its client's connection is
// cut; a token for another session is refused across processes; and a
// client that never acknowledges stops at the bound in Redis too.
import assert from 'node:assert/strict';
import {fork} from 'node:child_process';
import {after, afterEach, before, describe, it as test} from 'node:test';
import {createClient} from 'redis';
import WebSocket, {WebSocketServer} from 'ws';
import {SUBPROTOCOL} from '../../dist/protocol/index.js';
import {RedisStore, reliable} from '../../dist/server/index.js';
import {startNginx} from '../support/nginx.mjs';
import {testRedis} from '../support/redis.mjs';
import {Client, sleep, until} from '../support/reliable-client.mjs';

const it = (name, fn) => test(name, {timeout: 30_000}, fn);

/** Waits until the asynchronous `check()` resolves truthy, polling; fails after `ms`. */
async function eventually(check, what, ms = 3000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}
let prefixes = 0;
const newPrefix = () => `ws-connection-test-${process.pid}-${prefixes++}:`;

/** What every server process's application heard, in the order it reached this process. */
const heard = [];

/** A server process of test/support/reliable-process.mjs. */
class ServerProcess {
  static async start(env) {
    const server = new ServerProcess();
    server.child = fork('test/support/reliable-process.mjs', {
      env: {...process.env, ...env},
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    server.exited = new Promise((resolve) => server.child.once('exit', resolve));
    server.child.on('message', (message) => heard.push(message));
    await Promise.race([
      until(() => server.#mine('listening').length, 'the server to listen', 10_000),
      server.exited.then((code) => {
        throw new Error(`the server process exited with ${code}`);
      }),
    ]);
    server.port = server.#mine('listening')[0].port;
    return server;
  }

  #mine(type) {
    return heard.filter((message) => message.pid === this.child.pid && message.type === type);
  }

  /** The `session` events of this process for session `id` (one each time it took the session on). */
  sessions(id) {
    return this.#mine('session').filter((message) => message.session === id);
  }

  /** What its application received of session `id`: messages, and requests as "?data". */
  received(id) {
    return heard
      .filter(
        (m) => m.pid === this.child.pid && m.session === id && (m.type === 'message' || m.type === 'request'),
      )
      .map((m) => (m.type === 'request' ? `?${m.data}` : m.data));
  }

  moved(id) {
    return this.#mine('moved').filter((message) => message.session === id);
  }

  /** Has its application send `data` on session `id`; resolves to whether send() accepted it. */
  async send(id, data) {
    const before = this.#mine('sent').length;
    this.child.send({type: 'send', session: id, data});
    await until(() => this.#mine('sent').length > before, 'the send');
    return this.#mine('sent')[before].ok;
  }

  /** Dies at once, as a crash would. */
  async kill() {
    this.child.kill('SIGKILL');
    await this.exited;
  }
}

/** Every message and request the applications of all processes received for `id`, in order. */
const allReceived = (id) =>
  heard
    .filter((m) => m.session === id && (m.type === 'message' || m.type === 'request'))
    .map((m) => (m.type === 'request' ? `?${m.data}` : m.data));

describe('reliable() with the Redis store', {timeout: 120_000}, () => {
  let redis;
  let redisClient;
  const cleanup = [];
  before(async () => {
    redis = await testRedis();
    redisClient = await createClient({socket: {host: '127.0.0.1', port: redis.port}}).connect();
  });
  after(async () => {
    await (redisClient?.close?.() ?? redisClient?.quit());
    await redis?.stop();
  });
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  async function serverProcess(env) {
    const server = await ServerProcess.start({REDIS_PORT: String(redis.port), ...env});
    cleanup.push(() => server.kill());
    return server;
  }

  function client(url) {
    const c = new Client(url);
    cleanup.push(() => c.ws?.terminate());
    return c;
  }

  /**
   * A session with traffic both ways; its connection cut; while it is cut,
   * the server's application sends three messages, and the client three
   * messages and a request; the server process killed; a new one on the same
   * port; and the client connecting again. Resolves to what each side had.
   */
  async function restart(store) {
    const prefix = newPrefix();
    const first = await serverProcess({STORE: store, REDIS_PREFIX: prefix});
    const c = client(`ws://127.0.0.1:${first.port}`);
    await c.connect();
    const id = c.of('open')[0].session;
    for (const data of ['c1', 'c2', 'c3']) c.send(data);
    await until(() => first.received(id).length === 3 && c.endpoint.queued === 0, 'c1 to c3, acknowledged');
    c.kill();
    for (const data of ['p1', 'p2', 'p3']) assert.equal(await first.send(id, data), true);
    for (const data of ['c4', 'c5', 'c6']) c.send(data);
    const reply = c.request('who');
    if (store === 'redis') {
      const list = `${prefix}session:{${id}}:messages`;
      const length = async () => Number(await redisClient.sendCommand(['LLEN', list]));
      await eventually(async () => (await length()) === 3, 'p1 to p3 in Redis');
    } else await sleep(100);
    await first.kill();
    const second = await serverProcess({STORE: store, REDIS_PREFIX: prefix, PORT: String(first.port)});
    const before = c.frames.received.length;
    await c.connect();
    return {c, id, first, second, reply, replayed: () => c.frames.received.slice(before).map(String)};
  }

  it('resumes after a server restart with nothing lost or repeated either way', async () => {
    const {c, id, first, second, reply, replayed} = await restart('redis');
    assert.deepEqual(
      c.of('open').map((event) => event.resumed),
      [false, true],
    );
    assert.deepEqual(c.of('session-lost'), []);
    await until(() => second.received(id).length === 4, 'what the client sent while no server ran');
    assert.equal(String((await reply).data), 're:who');
    assert.equal(await second.send(id, 'p4'), true);
    await until(() => c.messages.length === 4, 'p4');
    assert.deepEqual(c.messages, ['p1', 'p2', 'p3', 'p4'], 'each once, in order');
    assert.deepEqual(
      replayed().slice(1, 4),
      ['m1:p1', 'm2:p2', 'm3:p3'],
      'replayed from Redis after resumed',
    );
    assert.deepEqual(first.received(id), ['c1', 'c2', 'c3']);
    assert.deepEqual(second.received(id), ['c4', 'c5', 'c6', '?who']);
    await until(() => c.endpoint.queued === 0, 'every message of the client acknowledged');
  });

  it('with the memory store, a restart ends the session: session-lost with the messages the server may not have', async () => {
    const {c, id, second} = await restart('memory');
    assert.deepEqual(
      c.of('open').map((event) => event.resumed),
      [false, false],
    );
    const [lost] = c.of('session-lost');
    assert.deepEqual(
      lost.messages.map((message) => String(message.data)),
      ['c4', 'c5', 'c6', 'who'],
    );
    await sleep(100);
    assert.deepEqual(second.received(id), [], 'nothing of the old session reaches the new process');
    assert.deepEqual(c.messages, [], 'what the old process sent while the client was away is gone with it');
  });

  it('hands a session between two processes behind nginx, round-robin: nothing lost either way', async () => {
    const env = {STORE: 'redis', REDIS_PREFIX: newPrefix()};
    const servers = [await serverProcess(env), await serverProcess(env)];
    const nginx = await startNginx({upstreamPorts: servers.map((s) => s.port), idleTimeout: '30s'});
    cleanup.push(() => nginx.stop());
    const c = client(`ws://127.0.0.1:${nginx.port}`);
    await c.connect();
    const id = c.of('open')[0].session;
    await until(
      () => servers.some((server) => server.sessions(id).length),
      'the process that has it to say so',
    );
    const first = servers.find((server) => server.sessions(id).length === 1);
    const other = servers.find((server) => server !== first);
    /** Cuts the connection, sends while cut, and connects again until `to` takes the session on. */
    const cutTo = async (to, sent) => {
      const takes = to.sessions(id).length;
      for (let tries = 0; to.sessions(id).length === takes; tries++) {
        assert.ok(tries < 6, 'nginx sends a new connection to the other process');
        c.kill();
        for (const data of sent.splice(0)) c.send(data);
        await c.connect();
      }
    };

    for (const data of ['c1', 'c2']) c.send(data);
    assert.equal(await first.send(id, 'p1'), true);
    await until(() => first.received(id).length === 2 && c.messages.length === 1, 'c1, c2 and p1');

    // Only the client's messages on the other process, so that the client's ack stays within
    // what the first process's stale object knows, and only re-reading the store stops it.
    await cutTo(other, ['c3', 'c4']);
    await until(() => allReceived(id).length === 4, 'c3 and c4');

    // Back to the first process, whose object for the session is stale: it reads the store again.
    await cutTo(first, ['c5']);
    await until(() => allReceived(id).includes('c5'), 'c5');
    assert.equal(first.moved(id).length, 1, 'its stale object let go');
    assert.equal(await first.send(id, 'p2'), true);
    assert.equal(String((await c.request('where')).data), 're:where');
    assert.equal(await first.send(id, 'p3'), true);
    await until(() => c.messages.length === 3, 'p3');

    // The other process still has its object: its next write finds the session moved.
    const stale = await other.send(id, 'stale');
    await until(() => other.moved(id).length === 1, 'the other process to learn the session moved');
    assert.deepEqual(other.moved(id)[0].unsent, stale ? ['stale'] : []);
    assert.equal(await other.send(id, 'after'), false, 'a moved session refuses what it is given');
    await sleep(100);

    assert.deepEqual(c.messages, ['p1', 'p2', 'p3'], 'each once, in order; the stale one never');
    assert.deepEqual(allReceived(id), ['c1', 'c2', 'c3', 'c4', 'c5', '?where'], 'each once, in order');
    assert.deepEqual(c.of('session-lost'), []);
    assert.ok(
      c
        .of('open')
        .slice(1)
        .every((event) => event.resumed),
      'every connection after the first resumed',
    );
  });

  it('refuses a token for another session, on another process too', async () => {
    const env = {STORE: 'redis', REDIS_PREFIX: newPrefix()};
    const [a, b] = [await serverProcess(env), await serverProcess(env)];
    const mine = client(`ws://127.0.0.1:${a.port}`);
    const theirs = client(`ws://127.0.0.1:${a.port}`);
    await mine.connect();
    await theirs.connect();
    const sessionFrame = (c) => JSON.parse(c.frames.received[0]);
    const resume = async (session, token) => {
      const ws = new WebSocket(`ws://127.0.0.1:${b.port}`, [SUBPROTOCOL]);
      cleanup.push(() => ws.terminate());
      const first = new Promise((resolve) => ws.once('message', (data) => resolve(JSON.parse(String(data)))));
      await new Promise((resolve) => ws.once('open', resolve));
      ws.send(JSON.stringify({type: 'resume', session, token, ack: 0}));
      return first;
    };
    const refused = await resume(sessionFrame(mine).session, sessionFrame(theirs).token);
    assert.equal(refused.type, 'session');
    assert.equal(refused.refused, 'unknown-session');
    assert.notEqual(refused.session, sessionFrame(mine).session, 'a new session, not the one asked for');
    const accepted = await resume(sessionFrame(mine).session, sessionFrame(mine).token);
    assert.equal(accepted.type, 'resumed', 'its own token resumes it there');
  });

  it('stops at the bound in Redis when a client never acknowledges', async () => {
    const store = new RedisStore(redisClient, {prefix: newPrefix()});
    const wss = new WebSocketServer({port: 0, host: '127.0.0.1'});
    await new Promise((resolve) => wss.once('listening', resolve));
    const r = reliable(wss, {bufferLimit: 100, store});
    cleanup.push(() => new Promise((resolve) => wss.close(resolve)));
    cleanup.push(() => r.stop());
    const ws = new WebSocket(`ws://127.0.0.1:${wss.address().port}`, [SUBPROTOCOL]);
    cleanup.push(() => ws.terminate());
    const frames = [];
    ws.on('message', (data) => frames.push(String(data)));
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send('{"type":"hello"}');
    await until(() => r.sessions.size === 1, 'the session');
    const [session] = r.sessions.values();
    const list = store.keys(session.id)[1];
    const length = async () => Number(await redisClient.sendCommand(['LLEN', list]));
    let accepted = 0;
    for (let i = 0; i < 5000; i++) if (session.send(`flood ${i} ${'x'.repeat(100)}`)) accepted++;
    assert.equal(accepted, 100);
    await until(() => frames.length === 101, 'the hundred');
    await sleep(100);
    assert.equal(await length(), 100, 'Redis holds the hundred, no more');
    const bytes = Number(await redisClient.sendCommand(['MEMORY', 'USAGE', list]));
    assert.ok(bytes < 100 * 400, `the list stays small: ${bytes} bytes`);
    for (let i = 0; i < 1000; i++) assert.equal(session.send('more'), false);
    assert.equal(await length(), 100);
    ws.send('a100');
    await until(() => session.queued === 0, 'the ack');
    await eventually(async () => (await length()) === 0, 'Redis to let the acknowledged go');
    assert.equal(session.send('again'), true);
    await until(() => frames.at(-1) === 'm101:again', 'the next');
    assert.equal(await length(), 1);
  });
});
