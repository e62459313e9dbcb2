// keepAlive (ws-connection/server.js, run after the build) against real `ws`
// servers and clients: the pong reply, isHeartbeat, a client that stops
// answering protocol pings terminated, a healthy one kept, connections from
// before the call, stopping with no timer left, and bad options.
import assert from 'node:assert/strict';
import {execFile} from 'node:child_process';
import {afterEach, describe, it as test} from 'node:test';

const it = (name, fn) => test(name, {timeout: 10_000}, fn);
import {promisify} from 'node:util';
import WebSocket, {WebSocketServer} from 'ws';
import {keepAlive} from '../../dist/server/index.js';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Each test is bounded: a keepAlive that never terminates would otherwise leave it waiting.
describe('keepAlive', {timeout: 30_000}, () => {
  const cleanup = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  async function server(options) {
    const wss = new WebSocketServer({port: 0, host: '127.0.0.1'});
    await new Promise((resolve) => wss.once('listening', resolve));
    cleanup.push(() => new Promise((resolve) => wss.close(resolve)));
    const stop = options === undefined ? undefined : keepAlive(wss, options);
    if (stop) cleanup.push(stop);
    return {wss, stop, url: `ws://127.0.0.1:${wss.address().port}`};
  }

  /** A client; with `autoPong: false` it answers no protocol ping, as a half-open peer. */
  async function client(url, options = {}) {
    const ws = new WebSocket(url, options);
    cleanup.push(() => ws.terminate());
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    ws.closed = new Promise((resolve) => ws.once('close', (code) => resolve({code, at: Date.now()})));
    return ws;
  }

  const next = (ws) => new Promise((resolve) => ws.once('message', (data) => resolve(String(data))));

  it('answers ping with pong on the same connection, and nothing else', async () => {
    const {url} = await server({});
    const [a, b] = [await client(url), await client(url)];
    const heard = [];
    b.on('message', (data) => heard.push(String(data)));
    a.send('ping');
    assert.equal(await next(a), 'pong');
    a.send('hello');
    a.send(Buffer.from('ping'), {binary: true});
    await sleep(200);
    assert.deepEqual(heard, []);
  });

  it('answers its own pingMessage with its pongMessage', async () => {
    const {url} = await server({pingMessage: '{"t":"hb"}', pongMessage: '{"t":"hb-ok"}'});
    const ws = await client(url);
    ws.send('{"t":"hb"}');
    assert.equal(await next(ws), '{"t":"hb-ok"}');
  });

  it('tells heartbeats from application messages, as ws hands them over', async () => {
    const {wss, stop, url} = await server({});
    const seen = [];
    wss.on('connection', (ws) =>
      ws.on('message', (data, isBinary) => seen.push([String(data), stop.isHeartbeat(data, isBinary)])),
    );
    const ws = await client(url);
    ws.send('ping');
    ws.send('pingpong');
    ws.send('pin');
    ws.send(Buffer.from('ping'), {binary: true});
    ws.send('ping');
    await next(ws);
    await sleep(100);
    assert.deepEqual(seen, [
      ['ping', true],
      ['pingpong', false],
      ['pin', false],
      ['ping', false],
      ['ping', true],
    ]);
    assert.equal(stop.isHeartbeat('ping'), true);
    assert.equal(stop.isHeartbeat(new TextEncoder().encode('ping').buffer), true);
    assert.equal(stop.isHeartbeat([Buffer.from('pi'), Buffer.from('ng')]), true);
    assert.equal(stop.isHeartbeat([Buffer.from('pi'), Buffer.from('ngs')]), false);
    assert.equal(stop.isHeartbeat('pong'), false);
    assert.equal(stop.isHeartbeat(undefined), false);
  });

  it('terminates a client that answers no protocol ping, within interval + timeout', async () => {
    const interval = 200;
    const timeout = 150;
    const {wss, url} = await server({interval, timeout});
    const mute = await client(url, {autoPong: false});
    const from = Date.now();
    const {code, at} = await mute.closed;
    assert.equal(code, 1006, 'terminated, without a close frame');
    assert.ok(at - from <= interval + timeout + 150, `terminated after ${at - from} ms`);
    assert.ok(at - from >= timeout, `terminated after ${at - from} ms, before its timeout`);
    await sleep(50);
    assert.equal(wss.clients.size, 0);
  });

  it('terminates it with a timeout longer than the interval, too', async () => {
    const {url} = await server({interval: 100, timeout: 350});
    const mute = await client(url, {autoPong: false});
    const from = Date.now();
    const {at} = await mute.closed;
    assert.ok(at - from >= 350 && at - from <= 100 + 350 + 150, `terminated after ${at - from} ms`);
  });

  it('keeps a healthy client, and one that sends, however long', async () => {
    const {url} = await server({interval: 100, timeout: 100});
    const healthy = await client(url);
    const busy = await client(url, {autoPong: false});
    const sender = setInterval(() => busy.send('data'), 50);
    cleanup.push(() => clearInterval(sender));
    let pings = 0;
    healthy.on('ping', () => pings++);
    await sleep(1000);
    assert.ok(pings >= 5, `${pings} pings`);
    assert.equal(healthy.readyState, WebSocket.OPEN);
    assert.equal(busy.readyState, WebSocket.OPEN);
  });

  it('covers connections accepted before it was called', async () => {
    const {wss, url} = await server(undefined);
    const early = await client(url, {autoPong: false});
    const earlyHealthy = await client(url);
    cleanup.push(keepAlive(wss, {interval: 100, timeout: 100}));
    earlyHealthy.send('ping');
    assert.equal(await next(earlyHealthy), 'pong');
    await early.closed;
    assert.equal(earlyHealthy.readyState, WebSocket.OPEN);
  });

  it('stops: no more pings, pongs or terminations', async () => {
    const {wss, stop, url} = await server({interval: 100, timeout: 100});
    const mute = await client(url, {autoPong: false});
    stop();
    stop();
    let pings = 0;
    mute.on('ping', () => pings++);
    const heard = [];
    mute.on('message', (data) => heard.push(String(data)));
    mute.send('ping');
    await sleep(500);
    assert.equal(pings, 0);
    assert.deepEqual(heard, []);
    assert.equal(mute.readyState, WebSocket.OPEN);
    assert.equal(wss.listenerCount('connection'), 0);
  });

  it('leaves no timer behind once stopped, or once the server closes: the process exits', async () => {
    const script = (how) => `
      import {WebSocketServer} from 'ws';
      import {keepAlive} from './dist/server/index.js';
      const wss = new WebSocketServer({port: 0});
      const stop = keepAlive(wss, {interval: 50, timeout: 50});
      setTimeout(() => {
        ${how}
        setTimeout(() => {
          const left = process.getActiveResourcesInfo().filter((r) => r === 'Timeout');
          console.log(JSON.stringify(left));
        }, 200);
      }, 120);
    `;
    for (const how of ['stop(); wss.close();', 'wss.close();']) {
      const {stdout} = await promisify(execFile)(
        process.execPath,
        ['--input-type=module', '-e', script(how)],
        {
          cwd: new URL('../..', import.meta.url).pathname,
          timeout: 10_000,
        },
      );
      // Only the script's own reporting timer may still be listed while it runs.
      assert.ok(JSON.parse(stdout).length <= 1, `${how}: ${stdout}`);
    }
  });

  it('refuses options it cannot use, with a message that says why', () => {
    const wss = new WebSocketServer({noServer: true});
    const cases = [
      [{interval: -1}, /interval must be a number of ms from 0/],
      [{interval: '30000'}, /interval must be a number of ms from 0 up to \d+, not "30000"/],
      [{timeout: 0}, /timeout must be a number of ms above 0/],
      [{timeout: Infinity}, /timeout/],
      [{interval: 2 ** 31}, /interval/],
      [{pingMessage: ''}, /pingMessage must be a non-empty string/],
      [{pongMessage: 42}, /pongMessage must be a non-empty string, not 42/],
      [
        {intervall: 1000},
        /unknown option "intervall"; the options are interval, timeout, pingMessage, pongMessage/,
      ],
      [null, /options must be an object/],
    ];
    for (const [options, message] of cases) {
      assert.throws(() => keepAlive(wss, options), {name: 'TypeError', message}, JSON.stringify(options));
    }
    assert.throws(() => keepAlive({}), {name: 'TypeError', message: /WebSocketServer of the ws package/});
    assert.throws(() => keepAlive(undefined), TypeError);
    assert.equal(wss.listenerCount('connection'), 0, 'nothing was started');
    // Undefined options take their defaults.
    keepAlive(wss, {interval: undefined})();
  });
});
