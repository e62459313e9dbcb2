// RedisStore (ws-connection/server.js, run after the build) against a real
// redis-server: what it keeps and gives back, each change applied whole or
// not at all, expiry with the resume window, the holder that keeps two
// processes from writing one session, the key prefix; and the server entry
// loading where the `redis` package is not installed.
import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import {cpSync, mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, before, describe, it} from 'node:test';
import {createClient} from 'redis';
import {RedisStore} from '../../dist/server/index.js';
import {testRedis} from '../support/redis.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
let counter = 0;
const newId = () => `s${process.pid}x${Date.now()}x${counter++}`;

const message = (seq, data, kind = 'message', id = 0) => ({
  seq,
  kind,
  id,
  data,
  bytes: typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength,
});

const session = (id, fields = {}) => ({
  id,
  tokenHash: 'aGFzaA',
  createdAt: 1_700_000_000_000,
  expiresAt: undefined,
  lastSent: 0,
  acked: 0,
  received: 0,
  messages: [],
  holder: 'A',
  ...fields,
});

describe('RedisStore', {timeout: 60_000}, () => {
  let redis;
  let client;
  let store;
  before(async () => {
    redis = await testRedis();
    client = await createClient({socket: {host: '127.0.0.1', port: redis.port}}).connect();
    store = new RedisStore(client, {prefix: 'test:'});
  });
  after(async () => {
    await (client?.close?.() ?? client?.quit());
    await redis?.stop();
  });

  it('keeps a session and gives it back: numbers, holder, text and binary messages of every kind', async () => {
    const id = newId();
    const messages = [
      message(4, 'hello: with a colon'),
      message(5, new Uint8Array([0, 1, 255])),
      message(6, '{"name":"Ada"}', 'reply', 3),
      message(7, 'not allowed', 'error-reply', 4),
      message(8, ''),
    ];
    await store.create(session(id, {lastSent: 8, acked: 3, received: 2, messages}));
    const loaded = await store.load(id);
    assert.deepEqual(loaded, session(id, {lastSent: 8, acked: 3, received: 2, messages}));
    assert.equal(await store.load(newId()), undefined, 'an unknown session');
  });

  it('applies appends, acks, marks and expiry as steps, and says what became of each', async () => {
    const id = newId();
    await store.create(session(id));
    assert.equal(
      await store.update(id, {holder: 'A', append: [message(1, 'a'), message(2, 'b')]}),
      'applied',
    );
    assert.equal(
      await store.update(id, {holder: 'A', append: [message(3, 'c')], acked: 2, received: 5}),
      'applied',
    );
    let loaded = await store.load(id);
    assert.deepEqual(
      [loaded.lastSent, loaded.acked, loaded.received, loaded.messages.map((m) => [m.seq, m.data])],
      [3, 2, 5, [[3, 'c']]],
    );
    assert.equal(await store.update(id, {acked: 1, received: 4}), 'applied', 'without a holder, applied');
    loaded = await store.load(id);
    assert.deepEqual([loaded.acked, loaded.received], [2, 5], 'an old ack or mark does not go back');
    assert.equal(await store.update(id, {acked: 3}), 'applied');
    assert.deepEqual((await store.load(id)).messages, []);
    assert.equal(await store.update(newId(), {acked: 1}), 'gone', 'an unknown session is left gone');
  });

  it('lets one holder write a session: another is refused (moved) until it claims it', async () => {
    const id = newId();
    await store.create(session(id, {holder: 'A'}));
    assert.equal(await store.update(id, {holder: 'B', append: [message(1, 'from B')]}), 'moved');
    assert.equal((await store.load(id)).lastSent, 0, 'nothing applied');
    assert.equal(await store.update(id, {holder: 'B', claim: true, expiresAt: null}), 'applied');
    assert.equal((await store.load(id)).holder, 'B');
    assert.equal(await store.update(id, {holder: 'A', append: [message(1, 'from A')]}), 'moved');
    await store.delete(id, 'A');
    assert.ok(await store.load(id), 'a delete by a holder that lost it leaves it');
    await store.delete(id, 'B');
    assert.equal(await store.load(id), undefined);
  });

  it('applies a change whole or not at all: a refused one leaves the session as it was', async () => {
    const id = newId();
    await store.create(session(id, {holder: 'A'}));
    await store.update(id, {holder: 'A', append: [message(1, 'one'), message(2, 'two')], received: 1});
    const before = await store.load(id);
    // A message out of sequence, and an ack of a message never stored: each with other steps that must not land.
    await assert.rejects(
      store.update(id, {holder: 'B', claim: true, append: [message(4, 'gap')], acked: 1, received: 9}),
      /seq 4 after seq 2/,
    );
    await assert.rejects(
      store.update(id, {holder: 'A', acked: 7, received: 9, expiresAt: 1}),
      /beyond seq 2/,
    );
    assert.deepEqual(await store.load(id), before);
  });

  it('stays consistent under concurrent changes and readers on other connections', async () => {
    const id = newId();
    const other = await createClient({socket: {host: '127.0.0.1', port: redis.port}}).connect();
    try {
      const second = new RedisStore(other, {prefix: 'test:'});
      await store.create(session(id, {holder: undefined}));
      let seq = 0;
      const writes = [];
      const reads = [];
      for (let i = 1; i <= 300; i++) {
        const append = [message(++seq, `m${seq}`), message(++seq, `m${seq}`)];
        writes.push(store.update(id, {append, acked: Math.max(0, seq - 5), received: i}));
        reads.push(second.load(id));
      }
      assert.deepEqual(new Set(await Promise.all(writes)), new Set(['applied']));
      for (const loaded of await Promise.all(reads)) {
        assert.equal(loaded.messages.length, loaded.lastSent - loaded.acked, 'messages match the numbers');
        loaded.messages.forEach((m, index) => assert.equal(m.data, `m${loaded.acked + index + 1}`));
      }
      const last = await store.load(id);
      assert.deepEqual([last.lastSent, last.acked, last.received, last.messages.length], [600, 595, 300, 5]);
      // Two processes that both think they may write seq 601: one lands, the other is refused whole.
      const results = await Promise.allSettled([
        store.update(id, {append: [message(601, 'first')], received: 301}),
        second.update(id, {append: [message(601, 'second')], received: 302}),
      ]);
      assert.deepEqual(results.map((result) => result.status).sort(), ['fulfilled', 'rejected']);
      const settled = await store.load(id);
      const winner = results[0].status === 'fulfilled' ? ['first', 301] : ['second', 302];
      assert.deepEqual([settled.messages.at(-1).data, settled.received], winner);
    } finally {
      await (other.close?.() ?? other.quit());
    }
  });

  it('expires a waiting session with its resume window, and a held one after heldTtl', async () => {
    const id = newId();
    const [hash, list] = store.keys(id);
    await store.create(session(id));
    await store.update(id, {append: [message(1, 'kept')]});
    const held = Number(await client.sendCommand(['PTTL', list]));
    assert.ok(held > 86_000_000 && held <= 86_400_000, `held: a day (${held})`);
    await store.update(id, {expiresAt: Date.now() + 300});
    assert.ok(Number(await client.sendCommand(['PTTL', hash])) <= 300, 'the hash waits for the window');
    assert.ok(Number(await client.sendCommand(['PTTL', list])) <= 300, 'so do its messages');
    await store.update(id, {append: [message(2, 'while waiting')]});
    assert.ok(
      Number(await client.sendCommand(['PTTL', list])) <= 300,
      'a message while it waits keeps the window',
    );
    await sleep(400);
    assert.equal(await store.load(id), undefined);
    assert.equal(Number(await client.sendCommand(['EXISTS', hash, list])), 0, 'both keys are gone');
    assert.equal(await store.update(id, {expiresAt: null}), 'gone', 'and stay gone');

    const short = new RedisStore(client, {prefix: 'test:', heldTtl: 200});
    const other = newId();
    await short.create(session(other));
    await short.update(other, {expiresAt: Date.now() + 100});
    await short.update(other, {expiresAt: null});
    await sleep(150);
    assert.ok(await short.load(other), 'held again: the window no longer applies');
    await sleep(150);
    assert.equal(await short.load(other), undefined, 'after heldTtl with no change, gone');
  });

  it('keeps its keys under its prefix: two prefixes do not see each other', async () => {
    const id = newId();
    const mine = new RedisStore(client, {prefix: 'app-one:'});
    const theirs = new RedisStore(client, {prefix: 'app-two:'});
    await mine.create(session(id));
    assert.equal(await theirs.load(id), undefined);
    assert.deepEqual(await client.sendCommand(['KEYS', `app-one:*${id}*`]), [`app-one:session:{${id}}`]);
    assert.equal(new RedisStore(client).keys(id)[0], `ws-connection:session:{${id}}`, 'the default prefix');
    await mine.delete(id);
    assert.deepEqual(await client.sendCommand(['KEYS', `app-one:*${id}*`]), []);
  });

  it('refuses what it cannot use', () => {
    assert.throws(() => new RedisStore({}), /connected node-redis client/);
    assert.throws(() => new RedisStore(client, {heldTtl: 0}), /heldTtl/);
  });
});

describe('ws-connection/server.js without redis', () => {
  it('loads where the redis package is not installed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ws-connection-no-redis-'));
    try {
      cpSync('dist/server', join(dir, 'server'), {recursive: true});
      cpSync('dist/protocol', join(dir, 'protocol'), {recursive: true});
      const script = `import('./server/index.js').then((m) => console.log(typeof m.reliable, typeof m.RedisStore),
        (e) => { console.error(e.message); process.exit(1); });
        import('redis').then(() => process.exit(2), () => {});`;
      const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
        cwd: dir,
        encoding: 'utf8',
      });
      assert.equal(out.trim(), 'function function');
    } finally {
      rmSync(dir, {recursive: true, force: true});
    }
  });
});
