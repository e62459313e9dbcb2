// The multi-tab world's fakes, on their own: the tests of sharing are only as
// good as these are faithful to the platform.
import assert from 'node:assert/strict';
import {afterEach, describe, it} from 'node:test';
import {TabWorld} from '../support/tab-world.mjs';

let world;
afterEach(() => world?.dispose());

function newWorld(options) {
  world = new TabWorld(options);
  return world;
}

describe('tab world: clock and tasks', () => {
  it('runs every tab’s timers in global time order, and drains microtasks between tasks', async () => {
    const w = newWorld();
    const [a, b] = [w.tab(), w.tab()];
    const log = [];
    a.environment.setTimeout(() => {
      log.push(`a@${w.now}`);
      Promise.resolve().then(() => log.push('a.then'));
    }, 30);
    b.environment.setTimeout(() => log.push(`b@${w.now}`), 10);
    b.environment.setTimeout(() => log.push(`b2@${w.now}`), 30);
    const cleared = a.environment.setTimeout(() => log.push('never'), 20);
    a.environment.clearTimeout(cleared);
    assert.equal(a.timers, 1);
    await w.advance(100);
    assert.deepEqual(log, ['b@10', 'a@30', 'a.then', 'b2@30']);
    assert.equal(w.now, 100);
    assert.equal(a.timers + b.timers, 0);
    assert.equal(a.environment.epochNow(), w.epochStart + 100);
  });

  it('gives each tab its own seeded random sequence, the same for the same seed', () => {
    const draw = (seed) => {
      const w = new TabWorld({seed});
      const values = [w.tab(), w.tab()].map((tab) => [tab.environment.random(), tab.environment.random()]);
      w.dispose();
      return values;
    };
    assert.deepEqual(draw(7), draw(7));
    assert.notDeepEqual(draw(7), draw(8));
    const [[a1], [b1]] = draw(7);
    assert.notEqual(a1, b1);
    const narrow = new TabWorld({randomRange: [0.45, 0.55]});
    const tab = narrow.tab();
    for (let i = 0; i < 100; i++) {
      const value = tab.environment.random();
      assert.ok(value >= 0.45 && value < 0.55);
    }
    narrow.dispose();
  });

  it('fires a throttled tab’s timers only at multiples of the alignment, while now() reads true time', async () => {
    const w = newWorld();
    const tab = w.tab();
    const fired = [];
    await w.advance(1200);
    tab.throttle(5000);
    tab.environment.setTimeout(() => fired.push(tab.environment.now()), 100);
    tab.environment.setTimeout(() => fired.push(tab.environment.now()), 6000);
    await w.advance(10_000);
    assert.deepEqual(fired, [5000, 10_000]);
    tab.throttle(0);
    tab.environment.setTimeout(() => fired.push(tab.environment.now()), 100);
    await w.advance(1000);
    assert.deepEqual(fired, [5000, 10_000, 11_300]);
  });

  it('runs what the test scripts ahead at its time, in order with the tabs’ tasks', async () => {
    const w = newWorld();
    const tab = w.tab();
    const log = [];
    tab.environment.setTimeout(() => log.push(`timer@${w.now}`), 100);
    w.after(100, () => log.push(`after@${w.now}`));
    w.after(50, () => log.push(`early@${w.now}`));
    tab.hang(500);
    await w.advance(1000);
    assert.deepEqual(log, ['early@50', 'after@100', 'timer@500']);
  });

  it('runs until a condition holds, and says when it did not', async () => {
    const w = newWorld();
    const tab = w.tab();
    let done = false;
    tab.environment.setTimeout(() => (done = true), 300);
    assert.equal(await w.runUntil(() => done, 1000), true);
    assert.equal(w.now, 300);
    assert.equal(await w.runUntil(() => false, 500), false);
    assert.equal(w.now, 800);
  });

  it('holds a paused tab’s timers and socket events until it runs again, and drops its channel messages', async () => {
    const w = newWorld();
    const [a, b] = [w.tab(), w.tab()];
    const got = [];
    const channel = b.environment.channel('c');
    channel.onmessage = ({data}) => got.push(`${data}@${w.now}`);
    const sender = a.environment.channel('c');
    const socket = new b.environment.WebSocket('wss://app.example/feed');
    socket.onopen = () => got.push(`open@${w.now}`);
    b.environment.setTimeout(() => got.push(`timer@${w.now}`), 100);
    b.pause(500);
    assert.equal(b.state, 'paused');
    sender.postMessage('during');
    await w.advance(600);
    sender.postMessage('after');
    await w.advance(10);
    assert.deepEqual(got, ['open@500', 'timer@500', 'after@600']);
    assert.equal(b.channelDropped, 1);
    assert.equal(b.state, 'running');
  });

  it('queues everything for a hung tab and delivers it after, in order', async () => {
    const w = newWorld();
    const [a, b] = [w.tab(), w.tab()];
    const got = [];
    b.environment.channel('c').onmessage = ({data}) => got.push(`${data}@${w.now}`);
    const sender = a.environment.channel('c');
    b.environment.setTimeout(() => got.push(`timer@${w.now}`), 50);
    b.hang(300);
    assert.equal(b.state, 'hung');
    sender.postMessage('one');
    await w.advance(100);
    sender.postMessage('two');
    await w.advance(300);
    assert.deepEqual(got, ['one@300', 'timer@300', 'two@300']);
  });

  it('closes a tab cleanly with pagehide, and kills one without; either way it is gone', async () => {
    const w = newWorld();
    const [a, b, c] = [w.tab(), w.tab(), w.tab()];
    const heard = [];
    for (const tab of [a, b]) {
      tab.environment.watch((signal) => heard.push(`${tab.name} engine ${signal}`));
      tab.environment.watchPage((signal) => heard.push(`${tab.name} page ${signal}`));
    }
    const sockets = [a, b].map((tab) => new tab.environment.WebSocket('wss://app.example/feed'));
    await w.advance(10);
    assert.equal(w.server.openConnections.length, 2);
    const granted = [];
    const hold = (tab) =>
      tab.environment.locks.request('L', () => {
        granted.push(tab.name);
        return new Promise(() => {});
      });
    hold(a);
    hold(b);
    hold(c);
    const fired = [];
    a.environment.setTimeout(() => fired.push('a'), 100);
    b.environment.setTimeout(() => fired.push('b'), 100);
    await w.settle();
    assert.deepEqual(granted, ['tab1']);
    await a.close();
    await w.settle();
    assert.deepEqual(granted, ['tab1', 'tab2']);
    await b.kill();
    await w.advance(200);
    assert.deepEqual(granted, ['tab1', 'tab2', 'tab3']);
    assert.deepEqual(heard, ['tab1 engine pagehide', 'tab1 page leave']);
    assert.deepEqual(fired, []);
    assert.deepEqual(
      w.server.connections.map(({closedBy, code}) => [closedBy, code]),
      [
        ['gone', 1001],
        ['gone', 1006],
      ],
    );
    assert.deepEqual(
      sockets.map((socket) => socket.readyState),
      [3, 3],
    );
    assert.equal(w.server.live, 0);
    assert.deepEqual([a.state, b.state], ['closed', 'killed']);
  });

  it('sends each page signal to the engine’s and the share’s listeners as they name it', async () => {
    const w = newWorld();
    const tab = w.tab();
    const heard = [];
    const unwatch = tab.environment.watch((signal) => heard.push(`engine ${signal}`));
    tab.environment.watchPage((signal) => heard.push(`page ${signal}`));
    for (const signal of ['online', 'offline', 'visible', 'resume', 'pageshow', 'pagehide', 'freeze']) {
      await tab.signal(signal);
    }
    assert.deepEqual(heard, [
      'engine online',
      'engine offline',
      'engine visible',
      'engine resume',
      'page return',
      'engine pageshow',
      'page return',
      'engine pagehide',
      'page leave',
      'page leave',
    ]);
    assert.equal(tab.environment.isOnline(), false);
    await tab.signal('online');
    assert.equal(tab.environment.isOnline(), true);
    unwatch();
    assert.equal(tab.watchers, 1);
    await assert.rejects(tab.signal('nonsense'));
  });

  it('records what a task throws, with its tab, and goes on', async () => {
    const w = newWorld();
    const tab = w.tab();
    let after = false;
    tab.environment.setTimeout(() => {
      throw new Error('listener failed');
    }, 10);
    tab.environment.setTimeout(() => (after = true), 20);
    await w.advance(30);
    assert.equal(after, true);
    assert.deepEqual(
      tab.errors.map(({at, error}) => [at, error.message]),
      [[10, 'listener failed']],
    );
    assert.equal(w.errors.length, 1);
  });
});

describe('tab world: Web Locks', () => {
  const hold = (tab, name, log, options = {}) => {
    let release;
    const done = tab.environment.locks.request(name, options, (lock) => {
      log.push(`${tab.name} ${lock?.mode ?? 'none'}`);
      return new Promise((resolve) => (release = resolve));
    });
    return {done, release: () => release()};
  };

  it('grants a name in the order it was asked for, and the next when the callback’s promise settles', async () => {
    const w = newWorld();
    const [a, b, c] = [w.tab(), w.tab(), w.tab()];
    const log = [];
    const first = hold(a, 'L', log);
    const second = hold(b, 'L', log);
    hold(c, 'L', log);
    hold(a, 'other', log);
    await w.settle();
    assert.deepEqual(log, ['tab1 exclusive', 'tab1 exclusive']);
    first.release();
    await w.settle();
    assert.deepEqual(log.slice(2), ['tab2 exclusive']);
    second.release();
    await w.settle();
    assert.deepEqual(log.slice(3), ['tab3 exclusive']);
    const callbackThrows = a.environment.locks.request('T', () => {
      throw new Error('inside');
    });
    const returns = a.environment.locks.request('T', () => 42);
    const thrown = assert.rejects(callbackThrows, /inside/);
    await w.settle();
    await thrown;
    assert.equal(await returns, 42);
  });

  it('withdraws a waiting request whose signal aborts, with an AbortError', async () => {
    const w = newWorld();
    const [a, b, c] = [w.tab(), w.tab(), w.tab()];
    const log = [];
    const first = hold(a, 'L', log);
    const abort = new AbortController();
    const waiting = hold(b, 'L', log, {signal: abort.signal});
    hold(c, 'L', log);
    await w.settle();
    abort.abort();
    await assert.rejects(
      waiting.done,
      (error) => error instanceof DOMException && error.name === 'AbortError',
    );
    first.release();
    await w.settle();
    assert.deepEqual(log, ['tab1 exclusive', 'tab3 exclusive']);
    const already = new AbortController();
    already.abort();
    await assert.rejects(
      a.environment.locks.request('L', {signal: already.signal}, () => {}),
      (error) => error.name === 'AbortError',
    );
  });

  it('lets a steal take the lock at once, rejecting the holder’s request with an AbortError', async () => {
    const w = newWorld();
    const [a, b, c] = [w.tab(), w.tab(), w.tab()];
    const log = [];
    const first = hold(a, 'L', log);
    hold(c, 'L', log);
    await w.settle();
    let stolen;
    first.done.catch((error) => (stolen = error));
    hold(b, 'L', log, {steal: true});
    await w.settle();
    assert.deepEqual(log, ['tab1 exclusive', 'tab2 exclusive']);
    assert.deepEqual(w.locks.steals, [{at: 0, name: 'L', tab: 'tab2', from: ['tab1']}]);
    assert.equal(stolen?.name, 'AbortError');
    assert.ok(stolen instanceof DOMException);
    // The robbed holder letting go later frees nothing.
    first.release();
    await w.settle();
    assert.deepEqual(log.length, 2);
    const query = a.environment.locks.query();
    await w.settle();
    const {held, pending} = await query;
    assert.deepEqual(held, [{name: 'L', mode: 'exclusive', clientId: 'client-2'}]);
    assert.deepEqual(pending, [{name: 'L', mode: 'exclusive', clientId: 'client-3'}]);
    await assert.rejects(
      b.environment.locks.request('L', {steal: true, signal: new AbortController().signal}, () => {}),
      (error) => error.name === 'NotSupportedError',
    );
  });

  it('answers a stolen holder only when its tab runs: a hung holder learns after', async () => {
    const w = newWorld();
    const [a, b] = [w.tab(), w.tab()];
    const log = [];
    const first = hold(a, 'L', log);
    await w.settle();
    let stolenAt;
    first.done.catch(() => (stolenAt = w.now));
    a.hang(1000);
    hold(b, 'L', log, {steal: true});
    await w.advance(2000);
    assert.equal(stolenAt, 1000);
  });

  it('calls back with null for ifAvailable when the lock is taken, and grants shared locks together', async () => {
    const w = newWorld();
    const [a, b, c] = [w.tab(), w.tab(), w.tab()];
    const log = [];
    const first = hold(a, 'L', log);
    hold(b, 'L', log, {ifAvailable: true});
    await w.settle();
    assert.deepEqual(log, ['tab1 exclusive', 'tab2 none']);
    first.release();
    await w.settle();
    const readers = [hold(a, 'S', log, {mode: 'shared'}), hold(b, 'S', log, {mode: 'shared'})];
    hold(c, 'S', log);
    await w.settle();
    assert.deepEqual(log.slice(2), ['tab1 shared', 'tab2 shared']);
    readers[0].release();
    await w.settle();
    assert.equal(log.length, 4);
    readers[1].release();
    await w.settle();
    assert.deepEqual(log.slice(4), ['tab3 exclusive']);
  });

  it('refuses every request and query of a sandboxed tab with a SecurityError, and has no API where told', async () => {
    const w = newWorld();
    const sandboxed = w.tab({sandboxed: true});
    const security = (error) => error instanceof DOMException && error.name === 'SecurityError';
    assert.ok(sandboxed.environment.locks);
    await assert.rejects(
      sandboxed.environment.locks.request('L', () => {}),
      security,
    );
    await assert.rejects(sandboxed.environment.locks.query(), security);
    assert.deepEqual(sandboxed.unhandled, []);
    assert.equal(w.tab({locks: false}).environment.locks, undefined);
    assert.equal(w.tab({channel: false}).environment.channel, undefined);
  });
});

describe('tab world: BroadcastChannel', () => {
  it('reaches every other channel of the name, in every tab, never the poster, as a clone, in order', async () => {
    const w = newWorld();
    const [a, b] = [w.tab(), w.tab()];
    const got = [];
    const listen = (tab, name, label) => {
      const channel = tab.environment.channel(name);
      channel.onmessage = ({data}) => got.push([label, data]);
      return channel;
    };
    const poster = listen(a, 'c', 'a1');
    listen(a, 'c', 'a2');
    listen(b, 'c', 'b1');
    listen(b, 'other', 'b-other');
    const message = {n: 1};
    poster.postMessage(message);
    poster.postMessage('second');
    message.n = 2;
    assert.deepEqual(got, []);
    await w.settle();
    assert.deepEqual(got, [
      ['a2', {n: 1}],
      ['b1', {n: 1}],
      ['a2', 'second'],
      ['b1', 'second'],
    ]);
    assert.notEqual(got[0][1], got[1][1]);
    assert.equal(a.posts, 2);
    assert.deepEqual(w.channelNames(), ['c', 'other']);
    assert.throws(
      () => poster.postMessage(() => {}),
      (error) => error.name === 'DataCloneError',
    );
    poster.close();
    assert.throws(
      () => poster.postMessage('x'),
      (error) => error.name === 'InvalidStateError',
    );
  });

  it('delays by both tabs’ channelDelay, drops for a tab that says so, and carries raw posts', async () => {
    const w = newWorld();
    const [a, b, c] = [w.tab(), w.tab(), w.tab()];
    const got = [];
    for (const tab of [a, b, c]) {
      tab.environment.channel('c').onmessage = ({data}) => got.push(`${tab.name} ${data}@${w.now}`);
    }
    const poster = a.environment.channel('c');
    a.channelDelay = 100;
    b.channelDelay = 50;
    c.dropChannel = (data) => data === 'drop me';
    poster.postMessage('hi');
    poster.postMessage('drop me');
    w.postRaw('c', 'raw');
    await w.advance(1000);
    assert.deepEqual(got.sort(), [
      'tab1 drop me@100',
      'tab1 hi@100',
      'tab1 raw@100',
      'tab2 drop me@150',
      'tab2 hi@150',
      'tab2 raw@50',
      'tab3 hi@100',
      'tab3 raw@0',
    ]);
    assert.equal(c.channelDropped, 1);
    c.dropChannel = true;
    w.postRaw('c', 'gone');
    await w.advance(1000);
    assert.ok(!got.some((line) => line.startsWith('tab3 gone')));
  });

  it('keeps an opaque origin’s channels to its own page', async () => {
    const w = newWorld();
    const [sandboxed, other] = [w.tab({sandboxed: true}), w.tab()];
    const got = [];
    sandboxed.environment.channel('c').onmessage = ({data}) => got.push(`sandboxed ${data}`);
    other.environment.channel('c').onmessage = ({data}) => got.push(`other ${data}`);
    sandboxed.environment.channel('c').postMessage('own');
    await w.settle();
    assert.deepEqual(got, ['sandboxed own']);
  });
});

describe('tab world: WebSocket server', () => {
  const URL = 'wss://app.example/feed';

  function watch(socket) {
    const events = [];
    socket.onopen = () => events.push('open');
    socket.onmessage = ({data}) => events.push(`message ${data}`);
    socket.onerror = () => events.push('error');
    socket.onclose = ({code}) => events.push(`close ${code}`);
    return events;
  }

  it('accepts after a millisecond, answers ping with pong, records what it received, and pushes', async () => {
    const w = newWorld();
    const tab = w.tab();
    const socket = new tab.environment.WebSocket(URL);
    socket.binaryType = 'arraybuffer';
    const events = watch(socket);
    assert.throws(
      () => socket.send('early'),
      (error) => error.name === 'InvalidStateError',
    );
    await w.advance(1);
    assert.deepEqual(events, []);
    await w.advance(1);
    assert.deepEqual(events, ['open']);
    socket.send('ping');
    socket.send('hello');
    await w.advance(5);
    w.server.push('news');
    await w.advance(5);
    assert.deepEqual(events, ['open', 'message pong', 'message news']);
    assert.deepEqual(w.server.messages(), ['hello']);
    assert.deepEqual(w.server.messages({pings: true}), ['ping', 'hello']);
    const [conn] = w.server.connections;
    assert.equal(conn.tab, 'tab1');
    assert.equal(conn.openedAt, 1);
    w.server.answerPings = false;
    socket.send('ping');
    await w.advance(5);
    assert.equal(events.length, 3);
    socket.close(1000, 'bye');
    assert.equal(socket.readyState, 2);
    await w.advance(5);
    assert.deepEqual(events.slice(3), ['close 1000']);
    assert.deepEqual([conn.closedBy, conn.code, conn.reason], ['client', 1000, 'bye']);
    assert.throws(
      () => new tab.environment.WebSocket(URL).close(1001),
      (error) => error.name === 'InvalidAccessError',
    );
    assert.throws(
      () => new tab.environment.WebSocket('https://app.example/'),
      (error) => error.name === 'SyntaxError',
    );
  });

  it('refuses with an error and a close 1006, holds a handshake, and blackholes open sockets', async () => {
    const w = newWorld();
    const tab = w.tab();
    w.server.mode = 'refuse';
    const refused = watch(new tab.environment.WebSocket(URL));
    await w.advance(10);
    assert.deepEqual(refused, ['error', 'close 1006']);
    w.server.mode = 'hold';
    const held = new tab.environment.WebSocket(URL);
    const heldEvents = watch(held);
    await w.advance(10_000);
    assert.deepEqual(heldEvents, []);
    assert.equal(held.readyState, 0);
    held.close();
    await w.advance(10);
    assert.deepEqual(heldEvents, ['error', 'close 1006']);
    w.server.mode = 'accept';
    const open = new tab.environment.WebSocket(URL);
    const openEvents = watch(open);
    await w.advance(10);
    w.server.mode = 'blackhole';
    open.send('ping');
    w.server.push('lost');
    w.server.closeAll(1000);
    await w.advance(60_000);
    assert.deepEqual(openEvents, ['open']);
    assert.equal(open.readyState, 1);
    assert.deepEqual(w.server.connections.at(-1).lost, ['ping']);
    assert.equal(w.server.attempts, 3);
  });

  it('closes from the server with a code, and counts live and open sockets over time', async () => {
    const w = newWorld();
    const [a, b] = [w.tab(), w.tab()];
    const first = new a.environment.WebSocket(URL);
    const events = watch(first);
    await w.advance(100);
    const second = new b.environment.WebSocket(URL);
    await w.advance(100);
    assert.deepEqual([w.server.live, w.server.open], [2, 2]);
    w.server.closeAll(1008, 'policy');
    await w.advance(10);
    assert.deepEqual(events, ['open', 'close 1008']);
    assert.equal(second.readyState, 3);
    assert.deepEqual([w.server.live, w.server.open, w.server.peakLive, w.server.peakOpen], [0, 0, 2, 2]);
    assert.equal(w.server.peak({exclude: [[100, 300]]}), 1);
    assert.equal(w.server.peak({open: true, exclude: [[0, 50]]}), 2);
    const abrupt = new a.environment.WebSocket(URL);
    const abruptEvents = watch(abrupt);
    await w.advance(10);
    w.server.closeAll(1006);
    await w.advance(10);
    assert.deepEqual(abruptEvents, ['open', 'error', 'close 1006']);
    // A frame still on the way when the server cuts the connection is lost, and said to be.
    const cut = new a.environment.WebSocket(URL);
    await w.advance(10);
    cut.send('on the way');
    w.server.closeAll(1011);
    await w.advance(10);
    assert.deepEqual(w.server.connections.at(-1).lost, ['on the way']);
    assert.deepEqual(w.server.connections.at(-1).received, []);
  });

  it('delivers a hung tab’s socket events after it runs again, in order', async () => {
    const w = newWorld();
    const tab = w.tab();
    const socket = new tab.environment.WebSocket(URL);
    const events = watch(socket);
    await w.advance(10);
    tab.hang(1000);
    w.server.push('one');
    w.server.push('two');
    w.server.closeAll(4001);
    await w.advance(500);
    assert.deepEqual(events, ['open']);
    assert.equal(socket.readyState, 1);
    await w.advance(1000);
    assert.deepEqual(events, ['open', 'message one', 'message two', 'close 4001']);
  });
});
