// The page's life against the real server. It stalls while the network and
// server are fine: a long task or a frozen page holds every timer and event
// back, and when it lets go the heartbeat timer fires late, which must not be
// taken for a dead connection. It goes offline, and into the back/forward
// cache. It runs in a background tab whose timers are late every time.
import {expect} from '@open-wc/testing';
import {becomeVisible} from './support/page-signals.js';
import {Rig, sleep, until} from './support/rig.js';
import {reached, watched} from './support/watched.js';

/** Holds the main thread, as a long task or a frozen page does. */
function stall(ms: number) {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // Busy: no timer, no message event runs meanwhile.
  }
}

describe('a stalled page with a healthy server', () => {
  let rig: Rig;

  beforeEach(async () => {
    rig = await Rig.start();
  });

  afterEach(async () => {
    for (const el of document.querySelectorAll('ws-connection')) el.close();
    await Rig.stopAll();
  });

  for (const ms of [1500, 3000]) {
    it(`stalled ${ms} ms just after a ping: no timeout, the same connection`, async () => {
      // A 300 ms heartbeat and a 1000 ms timeout (FAST).
      const w = await watched(rig.url);
      await reached(w, 'open');
      const {el, errors} = w;
      // Stall right after the next ping leaves: its pong arrives meanwhile
      // and waits, unread, behind the stall.
      const send = WebSocket.prototype.send;
      let stalled = false;
      WebSocket.prototype.send = function (data) {
        send.call(this, data);
        if (data === 'ping' && !stalled) {
          stalled = true;
          stall(ms);
        }
      };
      try {
        await until(() => stalled, {message: 'a ping'});
      } finally {
        WebSocket.prototype.send = send;
      }
      await sleep(2500);
      expect(errors.map((e) => e.kind)).to.deep.equal([]);
      expect(el.state).to.equal('open');
      expect((await rig.status()).accepted).to.equal(1);
    });
  }
});

describe('offline, as the contract says', () => {
  let rig: Rig;

  beforeEach(async () => {
    rig = await Rig.start();
  });

  afterEach(async () => {
    window.dispatchEvent(new Event('online'));
    for (const el of document.querySelectorAll('ws-connection')) el.close();
    await Rig.stopAll();
  });

  for (const heartbeat of ['300', '0']) {
    it(`heartbeat-interval ${heartbeat}: offline closes at once and queues; nothing dials until online`, async () => {
      const w = await watched(rig.url, {'heartbeat-interval': heartbeat, timeout: '3000'});
      await reached(w, 'open');
      window.dispatchEvent(new Event('offline'));
      expect(w.el.state).to.equal('offline');
      await until(async () => (await rig.status()).open === 0, {message: 'closed at the server'});
      expect(w.el.send('while offline')).to.equal(true);
      expect(w.el.queued).to.equal(1);
      becomeVisible();
      document.dispatchEvent(new Event('resume'));
      window.dispatchEvent(new PageTransitionEvent('pageshow', {persisted: true}));
      await sleep(500);
      expect(w.el.state).to.equal('offline');
      expect((await rig.status()).accepted, 'nothing attempted while offline').to.equal(1);
      window.dispatchEvent(new Event('online'));
      expect(w.el.state, 'online connects at once').to.equal('connecting');
      await until(async () => (await rig.received()).includes('while offline'), {
        timeout: 8000,
        message: 'the queue delivered',
      });
      expect(w.el.state).to.equal('open');
    });
  }

  it('removed while offline, inserted again after online came: connects', async () => {
    const w = await watched(rig.url);
    await reached(w, 'open');
    window.dispatchEvent(new Event('offline'));
    const parent = w.el.parentElement!;
    w.el.remove();
    await sleep(0);
    window.dispatchEvent(new Event('online'));
    parent.append(w.el);
    await reached(w, 'open');
    expect((await rig.status()).accepted).to.equal(2);
  });

  it('pagehide during a pending async urlProvider suspends; pageshow connects', async () => {
    const w = await watched(undefined, {}, {connect: false});
    w.el.urlProvider = () => new Promise((resolve) => setTimeout(() => resolve(rig.url), 300));
    w.el.connect();
    expect(w.el.state).to.equal('connecting');
    window.dispatchEvent(new PageTransitionEvent('pagehide', {persisted: true}));
    expect(w.el.state).to.equal('idle');
    await sleep(600);
    expect(w.el.state).to.equal('idle');
    expect((await rig.status()).accepted, 'the late URL was not dialled').to.equal(0);
    window.dispatchEvent(new PageTransitionEvent('pageshow', {persisted: true}));
    await reached(w, 'open');
    expect((await rig.status()).accepted).to.equal(1);
  });
});

describe('a throttled background tab: every timer of a second or less runs 1.5 s late', () => {
  let rig: Rig;
  const pageSetTimeout = window.setTimeout;

  beforeEach(async () => {
    rig = await Rig.start();
    // The test's own short polls (20 ms) stay on time; the element's timers do not.
    window.setTimeout = ((callback: TimerHandler, ms = 0, ...args: unknown[]) =>
      pageSetTimeout(callback, ms >= 100 ? ms + 1500 : ms, ...args)) as typeof setTimeout;
  });

  afterEach(async () => {
    window.setTimeout = pageSetTimeout;
    for (const el of document.querySelectorAll('ws-connection')) el.close();
    await Rig.stopAll();
  });

  it('a silent (blackholed) link is declared dead within a few timer periods', async () => {
    const w = await watched(rig.proxyUrl, {'heartbeat-interval': '300', timeout: '500'});
    await reached(w, 'open');
    await rig.blackhole();
    const holedAt = performance.now();
    await until(() => w.errors.some((e) => e.kind === 'heartbeat-timeout'), {
      timeout: 15_000,
      message: 'heartbeat-timeout',
    });
    // Ping, late deadline and re-probe, late deadline, verdict: four late timers.
    expect(performance.now() - holedAt).to.be.below(4 * (1000 + 1500) + 1000);
  });

  it('a healthy link that answers each late probe is kept', async () => {
    const w = await watched(rig.url, {'heartbeat-interval': '300', timeout: '500'});
    await reached(w, 'open');
    await sleep(8000);
    expect(w.errors).to.deep.equal([]);
    expect(w.el.state).to.equal('open');
    expect((await rig.status()).accepted).to.equal(1);
  });
});
