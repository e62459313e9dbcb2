// The engine against the real server rig, in each browser: real sockets,
// real timers, real faults.
import {expect} from '@open-wc/testing';
import {
  type Environment,
  type ErrorDetail,
  type StateChange,
  WsClient,
  type WsClientOptions,
} from '../../src/client/index.js';
import {becomeVisible} from '../support/page-signals.js';
import {Rig, sleep, until} from '../support/rig.js';
import {trackedWebSocket} from '../support/tracked-websocket.js';

interface Harness {
  client: WsClient;
  states: StateChange[];
  errors: ErrorDetail[];
  messages: unknown[];
  tracker: ReturnType<typeof trackedWebSocket>;
  reached(state: string, timeout?: number): Promise<void>;
}

let rig: Rig;
let harnesses: Harness[] = [];

function client(options: Partial<WsClientOptions>, environment: Partial<Environment> = {}): Harness {
  const tracker = trackedWebSocket();
  const client = new WsClient(
    {
      url: rig.url,
      heartbeatInterval: 300,
      timeout: 300,
      reconnectDelay: 100,
      maxReconnectDelay: 400,
      ...options,
    },
    {WebSocket: tracker.TrackedWebSocket, ...environment},
  );
  const h: Harness = {
    client,
    states: [],
    errors: [],
    messages: [],
    tracker,
    reached: (state, timeout = 5000) =>
      until(() => h.states.some((change) => change.state === state), {timeout, message: `state ${state}`}),
  };
  client.on('state', (change) => h.states.push(change));
  client.on('error', (error) => h.errors.push(error));
  client.on('message', ({data}) => h.messages.push(data));
  harnesses.push(h);
  return h;
}

describe('WsClient against a real server', () => {
  beforeEach(async () => {
    rig = await Rig.start();
  });

  afterEach(async () => {
    for (const h of harnesses) {
      h.client.close();
      expect(h.tracker.violations, 'never two sockets connecting or open').to.equal(0);
    }
    harnesses = [];
    await Rig.stopAll();
  });

  it('opens, sends, receives, and measures latency from pongs', async () => {
    const h = client({});
    h.client.connect();
    await h.reached('open');
    h.client.send('hello');
    await until(() => h.messages.length === 1);
    expect(h.messages).to.deep.equal(['hello']);
    await until(() => h.client.latency !== undefined, {message: 'a ping answered'});
    expect(h.client.latency).to.be.within(0, 300);
    expect(h.messages, 'pongs are not messages').to.deep.equal(['hello']);
  });

  it('declares a muted server dead and reconnects', async () => {
    const h = client({});
    h.client.connect();
    await h.reached('open');
    await rig.setPong(false);
    await until(() => h.errors.some((error) => error.kind === 'heartbeat-timeout'), {
      message: 'heartbeat-timeout',
    });
    await rig.setPong(true);
    await until(async () => (await rig.status()).accepted >= 2, {message: 'a new connection'});
    await until(() => h.client.state === 'open');
  });

  it('detects a half-open (blackholed) link within heartbeat-interval + timeout, plus slack', async () => {
    const h = client({url: rig.proxyUrl, heartbeatInterval: 500, timeout: 500});
    h.client.connect();
    await h.reached('open');
    h.client.send('warm up');
    await until(() => h.messages.length === 1);
    await rig.blackhole();
    const started = performance.now();
    await until(() => h.errors.some((error) => error.kind === 'heartbeat-timeout'), {
      timeout: 4000,
      message: 'heartbeat-timeout',
    });
    const elapsed = performance.now() - started;
    // The bound is interval + timeout; the slack covers timers and the rig's round trip on a busy machine.
    expect(elapsed).to.be.at.most(500 + 500 + 600);
    expect(h.client.state).to.be.oneOf(['reconnecting', 'connecting']);
    await rig.heal();
    await until(() => h.client.state === 'open', {timeout: 5000, message: 'open after heal'});
  });

  it('detects a half-open link in time while online and visible come every 300 ms', async () => {
    const h = client({url: rig.proxyUrl, heartbeatInterval: 500, timeout: 500});
    h.client.connect();
    await h.reached('open');
    h.client.send('warm up');
    await until(() => h.messages.length === 1);
    await rig.blackhole();
    const started = performance.now();
    let signal = 0;
    const signals = setInterval(
      () => (signal++ % 2 ? becomeVisible() : window.dispatchEvent(new Event('online'))),
      300,
    );
    try {
      await until(() => h.errors.some((error) => error.kind === 'heartbeat-timeout'), {
        timeout: 6000,
        message: 'heartbeat-timeout',
      });
    } finally {
      clearInterval(signals);
    }
    // Each probe would otherwise put the deadline off for good; the slack covers a busy machine.
    expect(performance.now() - started).to.be.at.most(500 + 500 + 1500);
    await rig.heal();
    await until(() => h.client.state === 'open', {timeout: 5000, message: 'open after heal'});
  });

  it('gives up a connect attempt that hangs (blackholed handshake) and succeeds after heal', async () => {
    await rig.blackhole();
    const h = client({url: rig.proxyUrl, timeout: 400});
    h.client.connect();
    await until(() => h.errors.some((error) => error.kind === 'connect-timeout'), {
      message: 'connect-timeout',
    });
    await rig.heal();
    await until(() => h.client.state === 'open', {timeout: 5000, message: 'open after heal'});
  });

  it('reconnects after a server restart', async () => {
    const h = client({});
    h.client.connect();
    await h.reached('open');
    await rig.restart(600);
    await h.reached('reconnecting');
    await until(() => h.client.state === 'open' && h.states.filter((s) => s.state === 'open').length === 2, {
      timeout: 6000,
      message: 'open again',
    });
    expect((await rig.status()).open).to.equal(1);
  });

  it('stops on a default stop code, and on a custom one, without reconnecting', async () => {
    const a = client({});
    a.client.connect();
    await a.reached('open');
    await rig.closeClients(1008, 'policy violation');
    await a.reached('closed');
    expect(a.states.at(-1)).to.deep.include({state: 'closed', code: 1008, reason: 'policy violation'});

    const b = client({stopCodes: '4000-4099'});
    b.client.connect();
    await b.reached('open');
    await rig.closeClients(4040, 'banned');
    await b.reached('closed');
    await sleep(700);
    expect((await rig.status()).accepted).to.equal(2);
  });

  it('retries after a non-stop code with the server’s code and reason in the state change', async () => {
    const h = client({});
    h.client.connect();
    await h.reached('open');
    // An application code: WebKit turns some registered codes (1012) into 1006.
    await rig.closeClients(4321, 'service restart');
    await h.reached('reconnecting');
    expect(h.states.find((s) => s.state === 'reconnecting')).to.deep.include({
      code: 4321,
      reason: 'service restart',
    });
    await until(async () => (await rig.status()).accepted === 2);
  });

  it('delivers messages queued while down in order, exactly once', async () => {
    // Firefox holds back reconnects to a host that just failed (RFC 6455
    // §7.2.3); a short connect timeout would abandon those held attempts.
    const h = client({openMessages: ['subscribe'], timeout: 3000});
    h.client.connect();
    await h.reached('open');
    await rig.kill();
    await h.reached('reconnecting');
    const sent = Array.from({length: 50}, (_, i) => `q${i}`);
    for (const message of sent) expect(h.client.send(message)).to.equal(true);
    await rig.takeReceived();
    await rig.revive();
    await until(async () => (await rig.received()).filter((m) => m !== 'ping').length >= 51, {
      timeout: 15_000,
      message: 'queue delivered',
    });
    await sleep(200);
    const received = (await rig.received()).filter((m) => m !== 'ping');
    expect(received).to.deep.equal(['subscribe', ...sent]);
    expect(h.client.queued).to.equal(0);
  });

  it('keeps one socket under forced races', async () => {
    const h = client({});
    h.client.connect();
    for (let i = 0; i < 20; i++) {
      h.client.connect();
      h.client.reconnect();
      window.dispatchEvent(new Event('online'));
      if (i % 5 === 0) h.client.configure({url: i % 10 ? rig.url : `${rig.url}/?n=${i}`});
    }
    await until(() => h.client.state === 'open');
    await rig.terminateClients();
    window.dispatchEvent(new Event('online'));
    h.client.connect();
    await until(() => h.client.state === 'open' && h.tracker.sockets.at(-1)!.readyState === WebSocket.OPEN);
    await sleep(300);
    const live = h.tracker.sockets.filter((socket) => socket.readyState <= WebSocket.OPEN);
    expect(live).to.have.length(1);
    await until(async () => (await rig.status()).open === 1, {message: 'the server holds one connection'});
  });

  it('closes and leaves nothing running: no socket at the server, no retry later', async () => {
    const h = client({});
    h.client.connect();
    await h.reached('open');
    h.client.send('x');
    h.client.close();
    await until(async () => (await rig.status()).open === 0);
    await sleep(500);
    expect((await rig.status()).accepted).to.equal(1);
  });

  it('in a tab whose timers all run 1.5 s late, declares a blackholed link dead within a few of them', async () => {
    const late = (callback: () => void, ms: number) => setTimeout(callback, ms + 1500);
    const h = client({url: rig.proxyUrl, heartbeatInterval: 300, timeout: 500}, {setTimeout: late});
    h.client.connect();
    await h.reached('open');
    await rig.blackhole();
    await until(() => h.errors.some((error) => error.kind === 'heartbeat-timeout'), {
      timeout: 15_000,
      message: 'heartbeat-timeout',
    });
    expect(h.states.at(-1)?.state).to.be.oneOf(['reconnecting', 'connecting']);
  });

  it('in a tab whose timers all run 1.5 s late, gives up a hanging handshake at the second connect timer, and retries', async () => {
    await rig.blackhole();
    let fired = 0;
    const late = (callback: () => void, ms: number) =>
      setTimeout(() => {
        fired++;
        callback();
      }, ms + 1500);
    const h = client({url: rig.proxyUrl, timeout: 400}, {setTimeout: late});
    // While connecting, the connect timer is the engine's only timer.
    let firedAtTimeout: number | undefined;
    h.client.on('error', ({kind}) => kind === 'connect-timeout' && (firedAtTimeout ??= fired));
    h.client.connect();
    await until(() => firedAtTimeout !== undefined, {timeout: 15_000, message: 'connect-timeout'});
    expect(firedAtTimeout, 'the late timer, then the one more timeout it granted').to.equal(2);
    expect(h.client.state).to.equal('reconnecting');
    await rig.heal();
    await until(() => h.client.state === 'open', {timeout: 10_000, message: 'open after heal'});
  });

  describe('page lifecycle', () => {
    /**
     * A retry far enough away that only the lifecycle event can explain a
     * prompt reconnect. The connect timeout is generous: after a dropped
     * connection Firefox delays the next one to the same host (RFC 6455 §7.2.3).
     */
    const slowRetry = () =>
      client(
        {reconnectDelay: 20_000, maxReconnectDelay: 20_000, heartbeatInterval: 0, timeout: 5000},
        {random: () => 0.99},
      );

    async function downAndWaiting(h: Harness) {
      h.client.connect();
      await h.reached('open');
      await rig.kill();
      await h.reached('reconnecting');
      expect(h.client.nextRetryAt! - Date.now(), 'the scheduled retry is far away').to.be.greaterThan(15_000);
      await rig.revive();
    }

    it('waits while offline, and connects at once when online', async () => {
      const h = slowRetry();
      await downAndWaiting(h);
      window.dispatchEvent(new Event('offline'));
      expect(h.client.state).to.equal('offline');
      expect(h.client.nextRetryAt).to.equal(undefined);
      await sleep(300);
      expect((await rig.status()).accepted).to.equal(1);
      const sockets = h.tracker.sockets.length;
      window.dispatchEvent(new Event('online'));
      expect(h.tracker.sockets.length, 'an attempt at once').to.equal(sockets + 1);
      await until(() => h.client.state === 'open', {timeout: 5000, message: 'open after online'});
    });

    it('closes an open connection at once on offline, queues what is sent, and connects at once on online', async () => {
      const h = client({heartbeatInterval: 0, timeout: 3000});
      h.client.connect();
      await h.reached('open');
      window.dispatchEvent(new Event('offline'));
      expect(h.client.state).to.equal('offline');
      await until(async () => (await rig.status()).open === 0, {message: 'closed at the server'});
      expect(h.client.send('while offline')).to.equal(true);
      expect(h.client.queued).to.equal(1);
      document.dispatchEvent(new Event('resume'));
      window.dispatchEvent(new PageTransitionEvent('pageshow', {persisted: true}));
      await sleep(300);
      expect((await rig.status()).accepted, 'nothing attempted while offline').to.equal(1);
      window.dispatchEvent(new Event('online'));
      expect(h.client.state, 'an attempt at once').to.equal('connecting');
      await until(async () => (await rig.received()).includes('while offline'), {
        timeout: 8000,
        message: 'the queue delivered after online',
      });
      expect(h.client.state).to.equal('open');
    });

    it('attempts at once when the page becomes visible during a retry wait', async () => {
      const h = slowRetry();
      await downAndWaiting(h);
      const sockets = h.tracker.sockets.length;
      becomeVisible();
      expect(h.tracker.sockets.length, 'an attempt at once').to.equal(sockets + 1);
      await until(() => h.client.state === 'open', {timeout: 5000, message: 'open after visible'});
    });

    it('closes cleanly on pagehide and reconnects on pageshow from the back/forward cache', async () => {
      const h = client({});
      h.client.connect();
      await h.reached('open');
      window.dispatchEvent(new PageTransitionEvent('pagehide', {persisted: true}));
      expect(h.client.state).to.equal('idle');
      await until(async () => (await rig.status()).open === 0, {message: 'closed at the server'});
      h.client.send('while hidden');
      window.dispatchEvent(new PageTransitionEvent('pageshow', {persisted: true}));
      await until(async () => (await rig.received()).includes('while hidden'), {
        message: 'reconnected and flushed',
      });
      expect(h.client.state).to.equal('open');
      expect((await rig.status()).accepted).to.equal(2);
    });
  });
});
