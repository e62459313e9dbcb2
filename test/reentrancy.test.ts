// Listeners that call the element's methods from inside its events, as
// applications do, against the real server in each browser. Every change is
// finished before the events about it go out, so each call takes full effect
// and there is never a second socket.
import {expect} from '@open-wc/testing';
import {Rig, sleep, until} from './support/rig.js';
import {trackedWebSocket} from './support/tracked-websocket.js';
import {onFirst, reached, watched} from './support/watched.js';

const PageWebSocket = window.WebSocket;
let rig: Rig;
let tracker: ReturnType<typeof trackedWebSocket>;

describe('listeners that call methods', () => {
  beforeEach(async () => {
    rig = await Rig.start();
    tracker = trackedWebSocket();
    // Elements made from now on take this constructor.
    window.WebSocket = tracker.TrackedWebSocket;
  });

  afterEach(async () => {
    window.WebSocket = PageWebSocket;
    for (const el of document.querySelectorAll('ws-connection')) el.close();
    expect(tracker.violations, 'never two sockets connecting or open').to.equal(0);
    await Rig.stopAll();
  });

  it('reconnect() in a ws-state listener on connecting: the first socket is closed, the second opens', async () => {
    const w = await watched(rig.url, {}, {connect: false});
    onFirst(
      w.el,
      'ws-state',
      (s) => s.state === 'connecting',
      () => w.el.reconnect(),
    );
    w.el.connect();
    expect(tracker.sockets).to.have.length(2);
    expect(tracker.sockets[0].readyState, 'the first is closing').to.be.at.least(PageWebSocket.CLOSING);
    await reached(w, 'open');
    await until(async () => (await rig.status()).open === 1, {message: 'one connection at the server'});
    await sleep(300);
    expect((await rig.status()).open).to.equal(1);
  });

  it('close() in a ws-state listener on connecting: closed, and nothing dials', async () => {
    const w = await watched(rig.url, {}, {connect: false});
    onFirst(
      w.el,
      'ws-state',
      (s) => s.state === 'connecting',
      () => w.el.close(),
    );
    w.el.connect();
    expect(w.el.state).to.equal('closed');
    await sleep(500);
    expect(w.el.state).to.equal('closed');
    expect(w.log).to.deep.equal(['state:connecting', 'state:closed']);
    expect(tracker.sockets.every((socket) => socket.readyState >= PageWebSocket.CLOSING)).to.equal(true);
    await until(async () => (await rig.status()).open === 0, {message: 'nothing open at the server'});
  });

  it('reconnect() in a ws-error listener on connect-timeout: the new attempt stands, with no retry scheduled', async () => {
    await rig.blackhole();
    const w = await watched(rig.proxyUrl, {timeout: '500'}, {connect: false});
    let after: unknown;
    onFirst(
      w.el,
      'ws-error',
      (e) => e.kind === 'connect-timeout',
      () => {
        w.el.reconnect();
        // Once the engine has finished with the timeout that raised this event.
        queueMicrotask(() => {
          after = {
            state: w.el.state,
            nextRetryAt: w.el.nextRetryAt,
            socket: tracker.sockets.at(-1)!.readyState,
          };
        });
      },
    );
    w.el.connect();
    await until(() => after !== undefined, {message: 'connect-timeout'});
    expect(after).to.deep.equal({
      state: 'connecting',
      nextRetryAt: undefined,
      socket: PageWebSocket.CONNECTING,
    });
    await rig.heal();
    await reached(w, 'open');
  });

  it('close() in a ws-error listener while the queue is flushed on open: open is reported, then closed', async () => {
    const w = await watched(rig.url, {json: ''}, {connect: false});
    // A BigInt has no JSON form: sending it on open fails, inside the flush.
    w.el.openMessages = [10n, {subscribe: 'prices'}];
    onFirst(
      w.el,
      'ws-error',
      (e) => e.kind === 'send-failed',
      () => w.el.close(),
    );
    w.el.send({queued: true});
    w.el.connect();
    await reached(w, 'closed');
    expect(w.log).to.deep.equal(['state:connecting', 'state:open', 'error:send-failed', 'state:closed']);
    await until(async () => (await rig.received()).length === 2, {message: 'what was flushed arrived'});
    expect(await rig.received()).to.deep.equal(['{"subscribe":"prices"}', '{"queued":true}']);
  });

  it('send() in an open listener goes after the subscriptions and the queue', async () => {
    const w = await watched(rig.url, {}, {connect: false});
    w.el.openMessages = ['subscribe'];
    onFirst(
      w.el,
      'ws-state',
      (s) => s.state === 'open',
      () => w.el.send('from the listener'),
    );
    w.el.send('queued 1');
    w.el.send('queued 2');
    w.el.connect();
    await until(async () => (await rig.received()).length === 4, {message: 'four messages'});
    expect(await rig.received()).to.deep.equal(['subscribe', 'queued 1', 'queued 2', 'from the listener']);
  });

  it('reconnect() in every open listener, three times: one socket at a time, and open at the end', async () => {
    const w = await watched(rig.url, {}, {connect: false});
    let reconnects = 0;
    w.el.addEventListener('ws-state', ({detail}) => {
      if (detail.state === 'open' && reconnects < 3) {
        reconnects++;
        w.el.reconnect();
      }
    });
    w.el.connect();
    await until(() => reconnects === 3 && w.el.state === 'open', {message: 'open after three reconnects'});
    await until(async () => (await rig.status()).open === 1, {message: 'one connection at the server'});
    expect((await rig.status()).accepted).to.equal(4);
  });

  it('connect() in a ws-error listener on retries-exhausted: starts again with a fresh budget', async () => {
    await rig.kill();
    const w = await watched(rig.url, {'max-retries': '1', timeout: '3000'}, {connect: false});
    let restarted = false;
    onFirst(
      w.el,
      'ws-error',
      (e) => e.kind === 'retries-exhausted',
      () => {
        restarted = true;
        // Budget enough to outlast the server's restart on a busy machine: the budget of one
        // retry ran out once, and is what connect() must renew.
        w.el.maxRetries = 50;
        w.el.connect();
      },
    );
    w.el.connect();
    await until(() => restarted, {message: 'retries-exhausted'});
    expect(w.el.state).to.be.oneOf(['connecting', 'reconnecting']);
    expect(w.el.attempt).to.be.at.most(1);
    await rig.revive();
    await reached(w, 'open');
  });

  it('removing the element from its own open listener closes the socket and leaves it idle', async () => {
    const w = await watched(rig.url, {}, {connect: false});
    onFirst(
      w.el,
      'ws-state',
      (s) => s.state === 'open',
      () => w.el.remove(),
    );
    w.el.connect();
    await until(() => w.el.state === 'idle' && w.log.includes('state:open'), {message: 'idle after removal'});
    await until(async () => (await rig.status()).open === 0, {message: 'closed at the server'});
  });
});
