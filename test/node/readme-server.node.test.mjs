// The README's server snippets for `reliable`, run as written (after the
// build), on a free port and the tests' Redis: a Node client built on the
// protocol module gets its echo and its reply, and with the Redis store it
// resumes its session after the snippet's process is killed and run again.
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {after, afterEach, before, describe, it} from 'node:test';
import {freePort, waitForPort} from '../../scripts/ports.mjs';
import {testRedis} from '../support/redis.mjs';
import {Client, until} from '../support/reliable-client.mjs';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const section = readme.split(/^### Delivery you can count on: the server half$/m)[1].split(/^##+ /m)[0];
const snippets = [...section.matchAll(/^```js\n([\s\S]*?)^```$/gm)].map((match) => match[1]);

describe("the README's reliable server snippets", {timeout: 60_000}, () => {
  let redis;
  // Inside the package (test-results/ is ignored by git), so that `ws-connection/server.js`,
  // `ws` and `redis` resolve as they do for a user.
  const cache = 'test-results';
  let dir;
  const cleanup = [];
  before(async () => {
    redis = await testRedis();
    mkdirSync(cache, {recursive: true});
    dir = mkdtempSync(join(cache, 'readme-server-'));
  });
  after(async () => {
    rmSync(dir, {recursive: true, force: true});
    await redis?.stop();
  });
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  /** Runs a snippet on `port`, with the tests' Redis in place of localhost:6379; resolves once it listens. */
  async function run(code, port) {
    const file = join(dir, `snippet-${port}.mjs`);
    const patched = code
      .replace('{port: 8080}', `{port: ${port}, host: '127.0.0.1'}`)
      .replace('redis://localhost:6379', `redis://127.0.0.1:${redis.port}`);
    assert.notEqual(patched, code, 'the snippet listens on port 8080');
    writeFileSync(file, patched);
    const child = spawn(process.execPath, [file], {stdio: ['ignore', 'ignore', 'inherit']});
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const stop = async () => {
      child.kill('SIGKILL');
      await exited;
    };
    cleanup.push(stop);
    await Promise.race([
      waitForPort(port, 10_000),
      exited.then((code) => {
        throw new Error(`the snippet exited with ${code}`);
      }),
    ]);
    return stop;
  }

  async function echoes(c) {
    c.send('hi');
    assert.equal(String((await c.request('anything')).data), '{"ok":true}');
    await until(() => c.messages.includes('echo hi'), 'the echo');
  }

  it('has the two snippets', () => {
    assert.equal(snippets.length, 2);
    assert.match(snippets[1], /new RedisStore\(redis/);
  });

  it('with the memory store: an echo and a reply', async () => {
    const port = await freePort();
    await run(snippets[0], port);
    const c = new Client(`ws://127.0.0.1:${port}`);
    cleanup.push(() => c.ws?.terminate());
    await c.connect();
    await echoes(c);
  });

  it('with the Redis store: the session outlives a restart', async () => {
    const port = await freePort();
    const stop = await run(snippets[1], port);
    const c = new Client(`ws://127.0.0.1:${port}`);
    cleanup.push(() => c.ws?.terminate());
    await c.connect();
    await echoes(c);
    const closed = c.ws.closed;
    await stop();
    await closed;
    c.send('after');
    await run(snippets[1], port);
    await c.connect();
    assert.deepEqual(
      c.of('open').map((event) => event.resumed),
      [false, true],
    );
    await until(() => c.messages.includes('echo after'), 'the echo after the restart');
    assert.deepEqual(c.messages, ['echo hi', 'echo after']);
  });
});
