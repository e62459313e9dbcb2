// Exact tests of the engine's rules under a fake clock and socket. The same
// behaviours are tested against the real server in ws-client.real.test.ts.
import {expect} from '@open-wc/testing';
import {type ErrorDetail, type StateChange, WsClient, type WsClientOptions} from '../../src/client/index.js';
import type {SocketConstructor} from '../../src/client/environment.js';
import {fakeWorld, type FakeWorld} from '../support/fake-environment.js';
import {captureWarnings} from '../support/warnings.js';

interface Harness {
  world: FakeWorld;
  client: WsClient;
  states: StateChange[];
  errors: ErrorDetail[];
  messages: unknown[];
}

let harnesses: Harness[] = [];

function setup(options: Partial<WsClientOptions> = {}): Harness {
  const world = fakeWorld();
  const client = new WsClient(
    {url: 'wss://server.example/ws', heartbeatInterval: 1000, timeout: 500, ...options},
    world.environment,
  );
  const harness: Harness = {world, client, states: [], errors: [], messages: []};
  client.on('state', (change) => harness.states.push(change));
  client.on('error', (error) => harness.errors.push(error));
  client.on('message', ({data}) => harness.messages.push(data));
  harnesses.push(harness);
  return harness;
}

/** Connects and opens the first socket. */
function opened(options: Partial<WsClientOptions> = {}): Harness {
  const harness = setup(options);
  harness.client.connect();
  harness.world.sockets.last.open();
  return harness;
}

/** Lets the scheduled retry happen. */
const retryNow = (h: Harness) =>
  h.world.clock.advance(h.client.nextRetryAt! - h.world.clock.epochStart - h.world.clock.now);
const kinds = (h: Harness) => h.errors.map((error) => error.kind);
const stateNames = (h: Harness) => h.states.map((change) => change.state);

afterEach(() => {
  for (const {world} of harnesses) {
    expect(world.sockets.peak, 'never two sockets connecting or open').to.be.at.most(1);
  }
  harnesses = [];
});

describe('WsClient states and events', () => {
  it('goes idle → connecting → open, reporting each change once with the previous state', () => {
    const h = setup();
    expect(h.client.state).to.equal('idle');
    h.client.connect();
    expect(h.world.sockets.last.url).to.equal('wss://server.example/ws');
    h.world.sockets.last.open();
    expect(h.states).to.deep.equal([
      {state: 'connecting', previousState: 'idle', attempt: 0},
      {state: 'open', previousState: 'connecting', attempt: 0},
    ]);
  });

  it('stays idle without a url, and starts when one is set', () => {
    const h = setup({url: undefined});
    h.client.connect();
    expect(h.client.state).to.equal('idle');
    expect(h.world.sockets.all).to.have.length(0);
    h.client.configure({url: 'ws://late.example/'});
    expect(h.client.state).to.equal('connecting');
    expect(h.world.sockets.last.url).to.equal('ws://late.example/');
  });

  it('reports the close code, reason and retry delay when a close causes the change', () => {
    const h = opened();
    h.world.sockets.last.serverClose(1011, 'server error');
    expect(h.states.at(-1)).to.deep.equal({
      state: 'reconnecting',
      previousState: 'open',
      attempt: 1,
      code: 1011,
      reason: 'server error',
      delay: 500,
    });
    expect(h.client.nextRetryAt).to.equal(h.world.clock.epochStart + 500);
  });

  it('keeps the engine consistent when a listener throws, and reports the error later', () => {
    const h = setup();
    h.client.on('state', () => {
      throw new Error('listener bug');
    });
    h.client.connect();
    h.world.sockets.last.open();
    expect(h.client.state).to.equal('open');
    expect(stateNames(h)).to.deep.equal(['connecting', 'open']);
    expect(() => h.world.clock.advance(0)).to.throw('listener bug');
  });
});

describe('WsClient URLs', () => {
  it('maps http(s) to ws(s) and resolves paths against the page, wss on https', () => {
    const h = setup({url: '/live?token=secret'});
    h.client.connect();
    expect(h.world.sockets.last.url).to.equal('wss://app.example/live?token=secret');
    h.client.configure({url: 'http://plain.example/ws'});
    expect(h.world.sockets.last.url).to.equal('ws://plain.example/ws');
  });

  it('reports an invalid url as invalid-url and opens no socket', () => {
    for (const url of ['ftp://files.example/', 'not a url', 'ws/relative-without-dot', '//host.example/ws']) {
      const h = setup({url});
      h.client.connect();
      expect(kinds(h), url).to.deep.equal(['invalid-url']);
      expect(h.errors[0].message).to.contain('not a ws:');
      expect(h.world.sockets.all, url).to.have.length(0);
      expect(h.client.state).to.equal('idle');
      expect(h.world.clock.pending, 'no timer left behind').to.equal(0);
    }
  });

  it('calls a synchronous urlProvider before every attempt', () => {
    let n = 0;
    const h = opened({url: undefined, urlProvider: () => `wss://server.example/ws?token=${++n}`});
    expect(h.world.sockets.last.url).to.equal('wss://server.example/ws?token=1');
    h.world.sockets.last.serverClose(1006);
    h.world.clock.advance(500);
    expect(h.world.sockets.last.url).to.equal('wss://server.example/ws?token=2');
  });

  it('waits for an async urlProvider, and reports a rejection and retries with backoff', async () => {
    let fail = true;
    const h = setup({
      url: undefined,
      urlProvider: () =>
        fail ? Promise.reject(new Error('token service down')) : Promise.resolve('wss://a.example/'),
    });
    h.client.connect();
    expect(h.client.state).to.equal('connecting');
    await Promise.resolve();
    await Promise.resolve();
    expect(kinds(h)).to.deep.equal(['invalid-url']);
    expect(h.errors[0].message).to.contain('token service down');
    expect(h.client.state).to.equal('reconnecting');
    expect(h.world.sockets.all).to.have.length(0);
    fail = false;
    h.world.clock.advance(500);
    await Promise.resolve();
    await Promise.resolve();
    expect(h.world.sockets.last.url).to.equal('wss://a.example/');
  });

  it('drops a urlProvider result that arrives after the attempt was abandoned', async () => {
    let resolve!: (url: string) => void;
    const h = setup({url: undefined, urlProvider: () => new Promise<string>((r) => (resolve = r))});
    h.client.connect();
    h.client.close();
    resolve('wss://late.example/');
    await Promise.resolve();
    await Promise.resolve();
    expect(h.world.sockets.all).to.have.length(0);
    expect(h.client.state).to.equal('closed');
  });

  it('reports a URL the browser refuses (ws: from an https: page) as invalid-url, and keeps no socket', () => {
    // What browsers throw for an insecure ws: URL on an https: page.
    const refusing = class {
      constructor() {
        throw new DOMException(
          'An insecure WebSocket connection may not be initiated from an HTTPS page.',
          'SecurityError',
        );
      }
    } as unknown as SocketConstructor;
    const world = fakeWorld();
    const client = new WsClient(
      {url: 'ws://plain.example/ws?token=secret'},
      {...world.environment, WebSocket: refusing},
    );
    const errors: ErrorDetail[] = [];
    client.on('error', (error) => errors.push(error));
    client.connect();
    expect(errors.map((e) => e.kind)).to.deep.equal(['invalid-url']);
    expect(errors[0].message).to.contain('insecure').and.not.contain('secret');
    expect(errors[0].error).to.be.instanceOf(DOMException);
    expect(client.state).to.equal('idle');
    expect(world.clock.pending, 'no timer left behind').to.equal(0);
  });

  it('queues, rather than loses, what is sent while the server is closing the socket', () => {
    const h = opened({reconnectDelay: 100});
    const closing = h.world.sockets.last;
    closing.serverClosing();
    expect(h.client.send('late')).to.equal(true);
    expect(h.client.queued).to.equal(1);
    expect(h.errors).to.deep.equal([]);
    closing.serverClose(1001, 'going away');
    h.world.clock.advance(100);
    h.world.sockets.last.open();
    expect(h.world.sockets.last.messages).to.deep.equal(['late']);
  });

  it('keeps the query string out of invalid-url messages', () => {
    const h = setup({url: 'ftp://files.example/x?token=secret'});
    h.client.connect();
    expect(h.errors[0].message).to.contain('ftp://files.example/x?…').and.not.contain('secret');
  });

  it('never logs a query string', () => {
    const lines: string[] = [];
    const h = opened({url: 'wss://server.example/ws?token=secret#frag', debug: (line) => lines.push(line)});
    h.world.sockets.last.serverClose(1006);
    h.world.clock.advance(500);
    expect(lines.some((line) => line.includes('wss://server.example/ws?…'))).to.equal(true);
    expect(lines.join('\n')).not.to.contain('secret');
  });
});

describe('WsClient heartbeat', () => {
  it('sends a ping after heartbeat-interval of silence, not before', () => {
    const h = opened();
    h.world.clock.advance(999);
    expect(h.world.sockets.last.pings).to.equal(0);
    h.world.clock.advance(1);
    expect(h.world.sockets.last.pings).to.equal(1);
  });

  it('pings when the client has been silent even if the server is chatty', () => {
    const h = opened();
    for (let t = 0; t < 4; t++) {
      h.world.clock.advance(250);
      h.world.sockets.last.receive('news');
    }
    expect(h.world.sockets.last.pings).to.equal(1);
  });

  it('does not ping a connection that is busy both ways', () => {
    const h = opened();
    for (let t = 0; t < 20; t++) {
      h.world.clock.advance(400);
      h.client.send('hello');
      h.world.sockets.last.receive('news');
    }
    expect(h.world.sockets.last.pings).to.equal(0);
  });

  it('keeps pinging every heartbeat-interval when the timeout is longer than the interval', () => {
    // An idle proxy cuts at its own timeout: the next ping must not wait for the last one's deadline.
    const h = opened({heartbeatInterval: 500, timeout: 10_000});
    for (let ping = 1; ping <= 5; ping++) {
      h.world.clock.advance(500);
      expect(h.world.sockets.last.pings, `ping ${ping}`).to.equal(ping);
      h.world.clock.advance(5);
      h.world.sockets.last.receive('pong');
    }
  });

  it('swallows the pong and records the round trip', () => {
    const h = opened();
    const latencies: number[] = [];
    h.client.on('latency', ({latency}) => latencies.push(latency));
    h.world.clock.advance(1000);
    h.world.clock.advance(42);
    h.world.sockets.last.receive('pong');
    h.world.sockets.last.receive('pong');
    expect(h.messages).to.deep.equal([]);
    expect(h.client.latency).to.equal(42);
    expect(latencies, 'an unasked pong measures nothing').to.deep.equal([42]);
  });

  it('declares the connection dead at interval + timeout with no reply, closing the socket itself', () => {
    const h = opened();
    const socket = h.world.sockets.last;
    h.world.clock.advance(1499);
    expect(h.client.state).to.equal('open');
    h.world.clock.advance(1);
    expect(kinds(h)).to.deep.equal(['heartbeat-timeout']);
    expect(socket.closedWith?.code).to.equal(4000);
    expect(h.client.state).to.equal('reconnecting');
    h.world.clock.advance(500);
    expect(h.world.sockets.all).to.have.length(2);
  });

  it('says, once on the console, that a server that never answered a ping probably does not answer them', () => {
    const console = captureWarnings();
    try {
      const h = opened();
      h.world.clock.advance(1500);
      retryNow(h);
      h.world.sockets.last.open();
      h.world.clock.advance(1500);
      expect(kinds(h)).to.deep.equal(['heartbeat-timeout', 'heartbeat-timeout']);
      for (const {message} of h.errors) {
        expect(message).to.equal(
          'no reply from the server within 500 ms of a ping; no "pong" has arrived on any connection so far: ' +
            'the server seems not to answer heartbeats. Make it answer "ping" with "pong" (or with anything), ' +
            'or turn heartbeats off: heartbeat-interval="0"',
        );
      }
      expect(console.warnings).to.have.length(1);
      expect(console.warnings[0]).to.match(/^\[ws-connection\] heartbeat-timeout: no "pong" has arrived/);
      expect(console.warnings[0]).to.include('heartbeat-interval="0"');
    } finally {
      console.restore();
    }
  });

  it('makes no such diagnosis once a pong has arrived, on this connection or an earlier one', () => {
    const console = captureWarnings();
    try {
      const h = opened();
      h.world.clock.advance(1000);
      h.world.sockets.last.receive('pong');
      h.world.sockets.last.serverClose(1011, 'restart');
      retryNow(h);
      h.world.sockets.last.open();
      h.world.clock.advance(1500);
      expect(kinds(h)).to.deep.equal(['heartbeat-timeout']);
      expect(h.errors[0]!.message).to.equal('no reply from the server within 500 ms of a ping');
      expect(console.warnings).to.deep.equal([]);
    } finally {
      console.restore();
    }
  });

  it('takes any inbound message as proof of life', () => {
    const h = opened();
    h.world.clock.advance(1000);
    h.world.clock.advance(300);
    h.world.sockets.last.receive('unrelated data');
    h.world.clock.advance(1000);
    expect(h.client.state).to.equal('open');
    expect(h.errors).to.deep.equal([]);
    expect(h.messages).to.deep.equal(['unrelated data']);
  });

  it('uses the configured ping and pong payloads', () => {
    const h = opened({pingMessage: '{"type":"ping"}', pongMessage: '{"type":"pong"}'});
    h.world.clock.advance(1000);
    expect(h.world.sockets.last.sent).to.deep.equal(['{"type":"ping"}']);
    h.world.sockets.last.receive('pong');
    h.world.sockets.last.receive('{"type":"pong"}');
    expect(h.messages).to.deep.equal(['pong']);
  });

  it('sends no pings with heartbeat-interval 0', () => {
    const h = opened({heartbeatInterval: 0});
    h.world.clock.advance(60_000);
    expect(h.world.sockets.last.pings).to.equal(0);
    expect(h.client.state).to.equal('open');
    h.world.signal('visible');
    expect(h.world.sockets.last.pings).to.equal(0);
  });

  it('re-probes instead of declaring death when its timer fires late (throttled, frozen, asleep)', () => {
    const h = opened();
    h.world.clock.advance(1000);
    expect(h.world.sockets.last.pings).to.equal(1);
    h.world.clock.sleep(60_000);
    expect(h.client.state, 'a late deadline is not a death').to.equal('open');
    expect(h.world.sockets.last.pings).to.equal(2);
    h.world.sockets.last.receive('pong');
    h.world.clock.advance(600);
    expect(h.client.state).to.equal('open');
    expect(h.errors).to.deep.equal([]);
  });

  it('still declares death after a late timer when the re-probe goes unanswered', () => {
    const h = opened();
    h.world.clock.advance(1000);
    h.world.clock.sleep(60_000);
    h.world.clock.advance(500);
    expect(kinds(h)).to.deep.equal(['heartbeat-timeout']);
  });

  it('gives a reply as long again as its deadline timer was late, before declaring death', () => {
    // interval 1000, timeout 500: the ping at 1000 is due an answer by 1500.
    const answered = opened();
    answered.world.clock.advance(1000);
    answered.world.clock.sleep(800);
    expect(answered.errors, 'a stall of 300 ms past the deadline is no verdict yet').to.deep.equal([]);
    answered.world.sockets.last.receive('pong');
    answered.world.clock.advance(300);
    expect(answered.errors).to.deep.equal([]);
    expect(answered.client.state).to.equal('open');

    const silent = opened();
    silent.world.clock.advance(1000);
    silent.world.clock.sleep(800);
    silent.world.clock.advance(299);
    expect(silent.errors).to.deep.equal([]);
    silent.world.clock.advance(1);
    expect(kinds(silent)).to.deep.equal(['heartbeat-timeout']);
  });

  it('declares a half-open link dead within interval + timeout while online and visible come every 300 ms', () => {
    const h = opened();
    let diedAt: number | undefined;
    h.client.on('error', ({kind}) => kind === 'heartbeat-timeout' && (diedAt ??= h.world.clock.now));
    for (let n = 0; diedAt === undefined && n < 40; n++) {
      h.world.clock.advance(300);
      h.world.signal(n % 2 ? 'visible' : 'online');
    }
    expect(kinds(h)).to.deep.equal(['heartbeat-timeout']);
    expect(diedAt, 'interval + timeout').to.be.at.most(1500);
  });

  it('keeps the deadline of an unanswered ping when a probe comes meanwhile', () => {
    const h = opened();
    h.world.clock.advance(1000);
    h.world.clock.advance(400);
    h.world.signal('online');
    expect(h.world.sockets.last.pings).to.equal(2);
    h.world.clock.advance(99);
    expect(h.client.state).to.equal('open');
    h.world.clock.advance(1);
    expect(kinds(h), 'at the first ping deadline').to.deep.equal(['heartbeat-timeout']);
  });

  it('applies a new heartbeat-interval to the open connection', () => {
    const h = opened();
    h.client.configure({heartbeatInterval: 200});
    h.world.clock.advance(200);
    expect(h.world.sockets.last.pings).to.equal(1);
  });
});

describe('WsClient connect timeout', () => {
  it('abandons an attempt still connecting after timeout and retries', () => {
    const h = setup();
    h.client.connect();
    const first = h.world.sockets.last;
    h.world.clock.advance(499);
    expect(h.client.state).to.equal('connecting');
    h.world.clock.advance(1);
    expect(kinds(h)).to.deep.equal(['connect-timeout']);
    expect(first.closedWith).to.not.equal(undefined);
    expect(h.client.state).to.equal('reconnecting');
  });

  it('gives an attempt a fair wait when the page slept through it', () => {
    const h = setup();
    h.client.connect();
    h.world.clock.sleep(30_000);
    expect(h.client.state).to.equal('connecting');
    h.world.sockets.last.open();
    expect(h.client.state).to.equal('open');
    expect(h.errors).to.deep.equal([]);
  });

  it('grants a late connect timer one more timeout, which fails on time after exactly that', () => {
    const h = setup();
    h.client.connect();
    h.world.clock.sleep(30_000);
    h.world.clock.advance(499);
    expect(h.client.state).to.equal('connecting');
    h.world.clock.advance(1);
    expect(kinds(h)).to.deep.equal(['connect-timeout']);
    expect(h.client.state).to.equal('reconnecting');
  });

  it('fails an attempt whose connect timers always fire late after two of them, and retries', () => {
    // A background tab whose timers run once every 30 s, and a handshake that never completes.
    const h = setup();
    h.client.connect();
    let firings = 0;
    while (!kinds(h).includes('connect-timeout') && firings < 20) {
      h.world.clock.sleep(30_000);
      firings++;
    }
    expect(kinds(h)).to.deep.equal(['connect-timeout']);
    expect(firings, 'the late firing, then the one it granted').to.equal(2);
    expect(h.world.sockets.all[0].closedWith?.code).to.equal(4000);
    expect(h.client.state).to.equal('reconnecting');
    h.world.clock.sleep(30_000);
    expect(h.world.sockets.all, 'the retry dialled').to.have.length(2);
    h.world.clock.sleep(30_000);
    expect(kinds(h), 'the new attempt has its own late grace').to.deep.equal(['connect-timeout']);
    h.world.clock.sleep(30_000);
    expect(kinds(h)).to.deep.equal(['connect-timeout', 'connect-timeout']);
  });
});

describe('WsClient reconnect', () => {
  it('doubles the retry window up to the cap, drawing the delay from it', () => {
    const h = opened({reconnectDelay: 100, maxReconnectDelay: 1000});
    h.world.random = 0.999;
    h.world.sockets.last.serverClose(1006);
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      delays.push(h.states.at(-1)!.delay!);
      h.world.clock.advance(h.states.at(-1)!.delay!);
      h.world.sockets.last.serverClose(1006);
    }
    expect(delays).to.deep.equal([99, 199, 399, 799, 999, 999]);
    h.world.random = 0.25;
    h.world.clock.advance(999);
    h.world.sockets.last.serverClose(1006);
    expect(h.states.at(-1)!.delay).to.equal(250);
  });

  it('keeps counting retries across connections that drop before they are stable', () => {
    const h = opened({stableAfter: 3000, heartbeatInterval: 0});
    for (let i = 1; i <= 3; i++) {
      h.world.sockets.last.serverClose(1006);
      expect(h.client.attempt).to.equal(i);
      retryNow(h);
      h.world.sockets.last.open();
      h.world.clock.advance(100);
    }
    h.world.clock.advance(3000);
    expect(h.client.attempt).to.equal(0);
  });

  it('does not retry after a stop code, and reports it', () => {
    const h = opened();
    h.world.sockets.last.serverClose(1008, 'policy');
    expect(h.states.at(-1)).to.deep.include({state: 'closed', code: 1008, reason: 'policy'});
    h.world.clock.advance(60_000);
    expect(h.world.sockets.all).to.have.length(1);
    expect(h.world.clock.pending).to.equal(0);
  });

  it('takes custom stop codes with ranges', () => {
    const h = opened({stopCodes: '4000-4099, 4500'});
    h.world.sockets.last.serverClose(1000);
    expect(h.client.state).to.equal('reconnecting');
    retryNow(h);
    h.world.sockets.last.open();
    h.world.sockets.last.serverClose(4042);
    expect(h.client.state).to.equal('closed');
  });

  it('stops after max-retries with retries-exhausted', () => {
    const h = setup({maxRetries: 2});
    h.client.connect();
    h.world.sockets.last.serverClose(1006);
    retryNow(h);
    h.world.sockets.last.serverClose(1006);
    retryNow(h);
    h.world.sockets.last.serverClose(1006);
    expect(kinds(h)).to.deep.equal(['retries-exhausted']);
    expect(h.client.state).to.equal('closed');
    expect(h.world.sockets.all).to.have.length(3);
  });

  it('never reconnects with max-retries 0', () => {
    const h = opened({maxRetries: 0});
    h.world.sockets.last.serverClose(1006);
    expect(h.client.state).to.equal('closed');
    expect(kinds(h)).to.deep.equal(['retries-exhausted']);
  });

  it('connect() skips the scheduled wait; reconnect() replaces an open socket', () => {
    const h = opened();
    h.world.sockets.last.serverClose(1006);
    h.client.connect();
    expect(h.world.sockets.all).to.have.length(2);
    h.world.sockets.last.open();
    const second = h.world.sockets.last;
    h.client.reconnect();
    expect(second.closedWith?.code).to.equal(1000);
    expect(h.world.sockets.all).to.have.length(3);
    expect(h.client.state).to.equal('connecting');
  });
});

describe('WsClient page lifecycle', () => {
  it('waits offline without burning attempts, and tries at once when online', () => {
    const h = opened();
    h.world.sockets.last.serverClose(1006);
    h.world.signal('offline');
    expect(h.client.state).to.equal('offline');
    expect(h.world.clock.pending).to.equal(0);
    h.world.clock.advance(60_000);
    expect(h.world.sockets.all).to.have.length(1);
    h.world.signal('online');
    expect(h.world.sockets.all).to.have.length(2);
    expect(h.client.attempt).to.equal(1);
  });

  it('goes offline, not reconnecting, when a connection drops with no network', () => {
    const h = opened();
    h.world.online = false;
    h.world.sockets.last.serverClose(1006);
    expect(h.client.state).to.equal('offline');
    expect(h.client.attempt).to.equal(0);
  });

  it('probes an open socket on online, visible and resume', () => {
    const h = opened();
    for (const signal of ['online', 'visible', 'resume'] as const) {
      h.world.signal(signal);
      h.world.sockets.last.receive('pong');
    }
    expect(h.world.sockets.last.pings).to.equal(3);
    expect(h.client.state).to.equal('open');
  });

  it('attempts at once when visible during a scheduled retry', () => {
    const h = opened({heartbeatInterval: 0});
    h.world.sockets.last.serverClose(1006);
    h.world.signal('visible');
    expect(h.client.state).to.equal('connecting');
    expect(h.world.sockets.all).to.have.length(2);
    h.world.sockets.last.open();
    h.world.clock.advance(10_000);
    expect(h.world.sockets.all, 'the cancelled retry does not fire').to.have.length(2);
  });

  it('closes cleanly on pagehide and reconnects on pageshow', () => {
    const h = opened();
    const socket = h.world.sockets.last;
    h.world.signal('pagehide');
    expect(socket.closedWith?.code).to.equal(1000);
    expect(h.client.state).to.equal('idle');
    h.world.clock.advance(0);
    expect(h.world.clock.pending).to.equal(0);
    h.client.send('kept');
    h.world.signal('pageshow');
    h.world.sockets.last.open();
    expect(h.world.sockets.last.messages).to.deep.equal(['kept']);
  });

  it('stops listening to the page when closed', () => {
    const h = opened();
    expect(h.world.watchers).to.equal(1);
    h.client.close();
    expect(h.world.watchers).to.equal(0);
  });
});

describe('WsClient queue', () => {
  it('sends openMessages first, then the queue in order, exactly once', () => {
    const h = setup({openMessages: ['subscribe']});
    h.client.connect();
    expect(h.client.send('a')).to.equal(true);
    expect(h.client.send('b')).to.equal(true);
    expect(h.client.queued).to.equal(2);
    h.world.sockets.last.open();
    expect(h.world.sockets.last.sent).to.deep.equal(['subscribe', 'a', 'b']);
    expect(h.client.queued).to.equal(0);
    h.world.sockets.last.serverClose(1006);
    h.world.clock.advance(500);
    h.world.sockets.last.open();
    expect(h.world.sockets.last.sent).to.deep.equal(['subscribe']);
  });

  it('delivers the queue before anything sent from a state listener', () => {
    const h = setup();
    h.client.on('state', ({state}) => state === 'open' && h.client.send('from listener'));
    h.client.connect();
    h.client.send('queued');
    h.world.sockets.last.open();
    expect(h.world.sockets.last.sent).to.deep.equal(['queued', 'from listener']);
  });

  it('refuses beyond queue-limit with queue-overflow', () => {
    const h = setup({queueLimit: 2});
    h.client.connect();
    expect([
      h.client.send(1 as never),
      h.client.send('x'),
      h.client.send('y'),
      h.client.send('z'),
    ]).to.deep.equal([false, true, true, false]);
    expect(kinds(h)).to.deep.equal(['send-failed', 'queue-overflow']);
    expect(h.errors[1].data).to.equal('z');
  });

  it('never queues pings', () => {
    const h = opened();
    h.world.sockets.last.serverClose(1006);
    h.world.clock.advance(400);
    h.client.send('m');
    h.world.clock.advance(100);
    h.world.sockets.last.open();
    expect(h.world.sockets.last.sent).to.deep.equal(['m']);
  });

  it('reports discarded messages on close, once, and refuses sends while closed', () => {
    const h = setup();
    h.client.connect();
    h.client.send('a');
    h.client.send('b');
    h.client.close();
    expect(kinds(h)).to.deep.equal(['queue-discarded']);
    expect(h.errors[0].data).to.deep.equal(['a', 'b']);
    expect(h.client.send('c')).to.equal(false);
    expect(kinds(h)).to.deep.equal(['queue-discarded', 'send-failed']);
    h.client.close();
    expect(h.errors).to.have.length(2);
  });

  it('serialises with json, and refuses what cannot be serialised', () => {
    const h = opened({json: true});
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(h.client.send({a: 1})).to.equal(true);
    expect(h.client.send('raw')).to.equal(true);
    expect(h.client.send(cyclic)).to.equal(false);
    expect(h.client.send(undefined)).to.equal(false);
    expect(h.client.send(10n)).to.equal(false);
    expect(h.world.sockets.last.sent).to.deep.equal(['{"a":1}', 'raw']);
    expect(kinds(h)).to.deep.equal(['send-failed', 'send-failed', 'send-failed']);
  });

  it('parses json inbound, reports bad JSON with its text, and passes binary through', () => {
    const h = opened({json: true});
    const bytes = new ArrayBuffer(4);
    h.world.sockets.last.receive('{"price":3}');
    h.world.sockets.last.receive('{bad');
    h.world.sockets.last.receive(bytes);
    expect(h.messages).to.deep.equal([{price: 3}, bytes]);
    expect(kinds(h)).to.deep.equal(['parse-error']);
    expect(h.errors[0].data).to.equal('{bad');
  });
});

describe('WsClient one socket', () => {
  it('schedules one retry when error and close both fire', () => {
    const h = opened();
    h.world.sockets.last.error();
    h.world.sockets.last.serverClose(1006);
    expect(stateNames(h).filter((state) => state === 'reconnecting')).to.have.length(1);
    h.world.clock.advance(500);
    expect(h.world.sockets.all).to.have.length(2);
  });

  it('opens one socket when online arrives during a scheduled retry', () => {
    const h = opened({heartbeatInterval: 0});
    h.world.sockets.last.serverClose(1006);
    h.world.signal('online');
    h.world.sockets.last.open();
    h.world.clock.advance(5000);
    expect(h.world.sockets.all).to.have.length(2);
  });

  it('replaces a connecting socket when the url changes, ignoring the old one after', () => {
    const h = setup();
    h.client.connect();
    const old = h.world.sockets.last;
    h.client.configure({url: 'wss://other.example/'});
    expect(old.closedWith).to.not.equal(undefined);
    expect(h.world.sockets.last.url).to.equal('wss://other.example/');
    old.open();
    old.receive('stale');
    old.serverClose(1006);
    expect(h.client.state).to.equal('connecting');
    expect(h.messages).to.deep.equal([]);
  });

  it('makes one socket for many connect() calls', () => {
    const h = setup();
    for (let i = 0; i < 100; i++) h.client.connect();
    expect(h.world.sockets.all).to.have.length(1);
  });

  it('creates nothing later when closed during a pending retry', () => {
    const h = opened();
    h.world.sockets.last.serverClose(1006);
    h.client.close();
    h.world.clock.advance(60_000);
    expect(h.world.sockets.all).to.have.length(1);
    expect(h.world.clock.pending).to.equal(0);
    expect(h.client.state).to.equal('closed');
  });

  it('leaves no socket and no timer after rapid connect/close cycles', () => {
    const h = setup();
    for (let i = 0; i < 1000; i++) {
      h.client.connect();
      if (i % 3 === 0) h.world.sockets.last.open();
      h.client.close();
    }
    expect(h.world.sockets.live).to.equal(0);
    h.world.clock.advance(0);
    expect(h.world.clock.pending).to.equal(0);
  });

  it('pause() closes the socket, clears every timer and keeps the queue', () => {
    const h = opened();
    h.world.sockets.last.serverClose(1006);
    h.client.send('kept');
    h.client.pause();
    expect(h.client.state).to.equal('idle');
    expect(h.world.clock.pending).to.equal(0);
    expect(h.world.watchers).to.equal(0);
    h.client.connect();
    h.world.sockets.last.open();
    expect(h.world.sockets.last.messages).to.deep.equal(['kept']);
  });
});

describe('WsClient options', () => {
  it('warns about an invalid value and keeps the default', () => {
    const {warnings, restore} = captureWarnings();
    try {
      const h = setup({heartbeatInterval: -5, timeout: NaN, queueLimit: 1.5, stopCodes: '1000 x'});
      expect(h.client.options.heartbeatInterval).to.equal(30_000);
      expect(h.client.options.timeout).to.equal(10_000);
      expect(h.client.options.queueLimit).to.equal(1000);
      expect(h.client.options.stopCodes).to.deep.equal([
        [1000, 1000],
        [1008, 1008],
      ]);
    } finally {
      restore();
    }
    expect(warnings).to.have.length(4);
    expect(warnings[0]).to.contain('heartbeatInterval');
  });

  it('refuses durations beyond what timers can wait (2^31 - 1 ms), which would fire at once', () => {
    const {warnings, restore} = captureWarnings();
    try {
      const h = opened({
        heartbeatInterval: 3e9,
        timeout: 1e12,
        reconnectDelay: 2 ** 31,
        maxReconnectDelay: Infinity,
      });
      expect(h.client.options).to.include({
        heartbeatInterval: 30_000,
        timeout: 10_000,
        reconnectDelay: 1000,
        maxReconnectDelay: 30_000,
      });
      h.world.clock.advance(10);
      expect(h.world.sockets.last.pings).to.equal(0);
      expect(h.client.state).to.equal('open');
    } finally {
      restore();
    }
    expect(warnings).to.have.length(4);
    expect(warnings[0]).to.contain('2147483647');
  });

  it('warns once about the same invalid value, and again about a new one', () => {
    const {warnings, restore} = captureWarnings();
    try {
      const h = setup({timeout: -1});
      h.client.configure({timeout: -1});
      h.client.configure({timeout: -2});
    } finally {
      restore();
    }
    expect(warnings).to.have.length(2);
    expect(warnings[1]).to.contain('-2');
  });
});

describe('WsClient listeners that call methods (re-entrancy)', () => {
  /** Calls `action` from inside the first event that matches, once. */
  function once<K extends 'state' | 'error'>(
    h: Harness,
    type: K,
    match: (detail: K extends 'state' ? StateChange : ErrorDetail) => boolean,
    action: () => void,
  ) {
    let done = false;
    h.client.on(type, (detail) => {
      if (done || !match(detail as never)) return;
      done = true;
      action();
    });
  }

  it('reconnect() from a connecting listener leaves one socket, and the first is closed', () => {
    const h = setup();
    once(
      h,
      'state',
      (s) => s.state === 'connecting',
      () => h.client.reconnect(),
    );
    h.client.connect();
    expect(h.world.sockets.all).to.have.length(2);
    expect(h.world.sockets.all[0].closedWith, 'the first socket is closed').to.not.equal(undefined);
    expect(h.world.sockets.live).to.equal(1);
    h.world.clock.advance(0);
    h.world.sockets.last.open();
    expect(h.client.state).to.equal('open');
  });

  it('close() from a connecting listener leaves it closed: no dial, no socket, no timer', () => {
    const h = setup();
    once(
      h,
      'state',
      (s) => s.state === 'connecting',
      () => h.client.close(),
    );
    h.client.connect();
    expect(h.client.state).to.equal('closed');
    expect(h.world.sockets.live).to.equal(0);
    h.world.sockets.all.forEach((socket) => socket.open());
    h.world.clock.advance(60_000);
    expect(stateNames(h)).to.deep.equal(['connecting', 'closed']);
    expect(h.client.state).to.equal('closed');
    expect(h.world.clock.pending).to.equal(0);
  });

  it('reconnect() from a connect-timeout error listener takes full effect: its socket is kept, no retry', () => {
    const h = setup();
    once(
      h,
      'error',
      (e) => e.kind === 'connect-timeout',
      () => h.client.reconnect(),
    );
    h.client.connect();
    h.world.clock.advance(500);
    expect(kinds(h)).to.deep.equal(['connect-timeout']);
    const fresh = h.world.sockets.last;
    expect(h.world.sockets.all).to.have.length(2);
    expect(fresh.closedWith, 'the new socket is not closed').to.equal(undefined);
    expect(h.client.state).to.equal('connecting');
    expect(h.client.nextRetryAt, 'no retry scheduled').to.equal(undefined);
    fresh.open();
    h.world.clock.advance(100);
    expect(h.client.state).to.equal('open');
    expect(h.world.sockets.all).to.have.length(2);
  });

  it('close() from an error listener during the flush on open: open is reported, then closed', () => {
    const h = setup({json: true, openMessages: [10n]});
    const order: string[] = [];
    h.client.on('state', ({state}) => order.push(state));
    h.client.on('error', ({kind}) => order.push(kind));
    once(
      h,
      'error',
      (e) => e.kind === 'send-failed',
      () => h.client.close(),
    );
    h.client.connect();
    h.client.send('queued');
    h.world.sockets.last.open();
    expect(order).to.deep.equal(['connecting', 'open', 'send-failed', 'closed']);
    expect(h.world.sockets.last.sent, 'the queue was flushed before anyone heard of the open').to.deep.equal([
      'queued',
    ]);
    expect(h.client.state).to.equal('closed');
  });

  it('reports each change with the state it made, in order, when a listener changes it again', () => {
    const h = setup();
    once(
      h,
      'state',
      (s) => s.state === 'open',
      () => h.client.close(4001, 'from listener'),
    );
    h.client.connect();
    h.world.sockets.last.open();
    expect(h.states.map(({previousState, state}) => `${previousState}→${state}`)).to.deep.equal([
      'idle→connecting',
      'connecting→open',
      'open→closed',
    ]);
    expect(h.world.sockets.last.closedWith).to.deep.equal({code: 4001, reason: 'from listener'});
  });

  it('a state listener sees the change complete: the socket is there when it hears connecting', () => {
    const h = setup();
    let seen = -1;
    h.client.on('state', ({state}) => state === 'connecting' && (seen = h.world.sockets.live));
    h.client.connect();
    expect(seen).to.equal(1);
  });

  it('connect() from a retries-exhausted listener starts again with a fresh budget', () => {
    const h = setup({maxRetries: 1});
    once(
      h,
      'error',
      (e) => e.kind === 'retries-exhausted',
      () => h.client.connect(),
    );
    h.client.connect();
    h.world.sockets.last.serverClose(1006);
    retryNow(h);
    h.world.sockets.last.serverClose(1006);
    expect(kinds(h)).to.deep.equal(['retries-exhausted']);
    expect(h.client.state).to.equal('connecting');
    expect(h.client.attempt).to.equal(0);
    h.world.sockets.last.serverClose(1006);
    expect(h.client.state, 'one more retry is allowed').to.equal('reconnecting');
  });

  it('ignores the late close event of a socket it replaced', () => {
    const h = opened();
    const first = h.world.sockets.last;
    h.client.reconnect();
    h.world.clock.advance(0);
    expect(first.readyState).to.equal(3);
    expect(h.client.state).to.equal('connecting');
    expect(stateNames(h)).to.deep.equal(['connecting', 'open', 'connecting']);
  });
});

describe('WsClient retry budget', () => {
  function exhausted() {
    const h = setup({maxRetries: 1});
    h.client.connect();
    h.world.sockets.last.serverClose(1006);
    retryNow(h);
    h.world.sockets.last.serverClose(1006);
    expect(kinds(h)).to.deep.equal(['retries-exhausted']);
    return h;
  }

  for (const method of ['connect', 'reconnect'] as const) {
    it(`${method}() after retries-exhausted starts a fresh budget`, () => {
      const h = exhausted();
      h.client[method]();
      expect(h.client.attempt).to.equal(0);
      h.world.sockets.last.serverClose(1006);
      expect(kinds(h)).to.deep.equal(['retries-exhausted']);
      expect(h.client.state).to.equal('reconnecting');
      expect(h.client.attempt).to.equal(1);
    });
  }

  it('pause() and connect() (a removal and a re-insertion) start a fresh budget', () => {
    const h = exhausted();
    h.client.pause();
    expect(h.client.state, 'a closed client stays closed when paused').to.equal('closed');
    h.client.connect();
    h.world.sockets.last.serverClose(1006);
    expect(h.client.state).to.equal('reconnecting');
  });

  it('connect() during a backoff resets the attempt count it reports', () => {
    const h = opened();
    h.world.sockets.last.serverClose(1006);
    retryNow(h);
    h.world.sockets.last.serverClose(1006);
    expect(h.client.attempt).to.equal(2);
    h.client.connect();
    expect(h.states.at(-1)).to.include({state: 'connecting', attempt: 0});
  });
});

describe('WsClient offline', () => {
  it('closes an open socket at once on offline, queues what is sent, and waits for online', () => {
    const h = opened();
    const socket = h.world.sockets.last;
    h.world.signal('offline');
    expect(h.client.state).to.equal('offline');
    expect(socket.closedWith?.code).to.equal(1000);
    expect(h.world.sockets.live).to.equal(0);
    expect(h.client.send('while offline')).to.equal(true);
    expect(socket.sent, 'nothing written into the dead link').to.deep.equal([]);
    expect(h.client.queued).to.equal(1);
    h.world.clock.advance(0);
    expect(h.world.clock.pending, 'no timer while offline').to.equal(0);
    for (const signal of ['visible', 'resume', 'pageshow'] as const) h.world.signal(signal);
    h.world.clock.advance(60_000);
    expect(h.world.sockets.all, 'nothing attempted while offline').to.have.length(1);
    h.world.signal('online');
    expect(h.world.sockets.all, 'online connects at once').to.have.length(2);
    h.world.sockets.last.open();
    expect(h.world.sockets.last.sent).to.deep.equal(['while offline']);
  });

  it('goes offline even with heartbeats off', () => {
    const h = opened({heartbeatInterval: 0});
    h.world.signal('offline');
    expect(h.client.state).to.equal('offline');
    expect(h.world.sockets.live).to.equal(0);
  });

  it('stops a connect attempt and a scheduled retry on offline', () => {
    const connecting = setup();
    connecting.client.connect();
    connecting.world.signal('offline');
    expect(connecting.client.state).to.equal('offline');
    expect(connecting.world.sockets.live).to.equal(0);

    const waiting = opened();
    waiting.world.sockets.last.serverClose(1006);
    waiting.world.signal('offline');
    expect(waiting.client.state).to.equal('offline');
    expect(waiting.client.nextRetryAt).to.equal(undefined);
    waiting.world.clock.advance(60_000);
    expect(waiting.world.sockets.all).to.have.length(1);
  });

  it('attempts nothing on connect() or reconnect() while the network is down', () => {
    const h = setup();
    h.world.online = false;
    h.client.connect();
    expect(h.client.state).to.equal('offline');
    h.client.reconnect();
    expect(h.world.sockets.all).to.have.length(0);
    h.world.signal('online');
    expect(h.client.state).to.equal('connecting');
  });

  it('does not miss an online that came while paused (a removed element)', () => {
    const h = opened();
    h.world.signal('offline');
    h.client.pause();
    h.world.signal('online');
    h.client.connect();
    expect(h.client.state).to.equal('connecting');
  });

  it('a page shown again while offline waits offline', () => {
    const h = opened();
    h.world.signal('pagehide');
    h.world.signal('offline');
    h.world.signal('pageshow');
    expect(h.client.state).to.equal('offline');
    expect(h.world.sockets.all).to.have.length(1);
    h.world.signal('online');
    expect(h.world.sockets.all).to.have.length(2);
  });

  it('pagehide during a pending async urlProvider suspends, and its late result is dropped', async () => {
    let resolve!: (url: string) => void;
    const h = setup({url: undefined, urlProvider: () => new Promise<string>((r) => (resolve = r))});
    h.client.connect();
    h.world.signal('pagehide');
    expect(h.client.state).to.equal('idle');
    resolve('wss://late.example/');
    await Promise.resolve();
    await Promise.resolve();
    expect(h.world.sockets.all).to.have.length(0);
    expect(h.world.clock.pending, 'no connect timer left').to.equal(0);
    h.world.signal('pageshow');
    expect(h.client.state).to.equal('connecting');
    resolve('wss://fresh.example/');
    await Promise.resolve();
    await Promise.resolve();
    expect(h.world.sockets.last.url).to.equal('wss://fresh.example/');
  });
});

describe('WsClient options that frameworks assign on every render', () => {
  it('a fresh urlProvider never reconnects; the next attempt calls the latest', () => {
    const h = opened({url: undefined, urlProvider: () => 'wss://server.example/ws?token=0'});
    for (let render = 1; render <= 5; render++) {
      h.client.configure({urlProvider: () => `wss://server.example/ws?token=${render}`});
    }
    expect(h.world.sockets.all).to.have.length(1);
    expect(h.client.state).to.equal('open');
    h.world.sockets.last.serverClose(1006);
    retryNow(h);
    expect(h.world.sockets.last.url).to.equal('wss://server.example/ws?token=5');
  });

  it('a fresh openMessages array never reconnects; the next open sends it', () => {
    const h = opened({openMessages: ['sub:a']});
    expect(h.world.sockets.last.sent).to.deep.equal(['sub:a']);
    for (let render = 0; render < 5; render++) h.client.configure({openMessages: ['sub:a', 'sub:b']});
    expect(h.world.sockets.all).to.have.length(1);
    h.world.sockets.last.serverClose(1006);
    retryNow(h);
    h.world.sockets.last.open();
    expect(h.world.sockets.last.sent).to.deep.equal(['sub:a', 'sub:b']);
  });

  it('a urlProvider given to a client waiting without a url starts it', () => {
    const h = setup({url: undefined});
    h.client.connect();
    expect(h.client.state).to.equal('idle');
    h.client.configure({urlProvider: () => 'wss://late.example/'});
    expect(h.world.sockets.last.url).to.equal('wss://late.example/');
  });

  it('new protocols reconnect with them; the same protocols written another way do not', () => {
    const h = opened({protocols: 'chat.v2, chat.v1'});
    expect(h.world.sockets.last.protocols).to.deep.equal(['chat.v2', 'chat.v1']);
    h.client.configure({protocols: ['chat.v2', 'chat.v1']});
    h.client.configure({protocols: 'chat.v2 chat.v1'});
    expect(h.world.sockets.all).to.have.length(1);
    h.client.configure({protocols: 'chat.v3'});
    expect(h.world.sockets.all).to.have.length(2);
    expect(h.world.sockets.all[0].closedWith?.code).to.equal(1000);
    expect(h.world.sockets.last.protocols).to.deep.equal(['chat.v3']);
  });
});

describe('WsClient in a throttled background tab', () => {
  it('declares a silent link dead within a few timer periods when every timer runs 60 s late', () => {
    const h = opened();
    let periods = 0;
    while (!kinds(h).includes('heartbeat-timeout') && periods < 20) {
      h.world.clock.sleep(60_000);
      periods++;
    }
    expect(kinds(h)).to.deep.equal(['heartbeat-timeout']);
    expect(periods).to.be.at.most(4);
    expect(h.world.sockets.all[0].closedWith?.code).to.equal(4000);
  });

  it('keeps a healthy link that answers each late probe', () => {
    const h = opened();
    for (let period = 0; period < 20; period++) {
      h.world.clock.sleep(60_000);
      h.world.sockets.last.receive('pong');
    }
    expect(h.errors).to.deep.equal([]);
    expect(h.world.sockets.all).to.have.length(1);
  });
});

describe('WsClient queue reports', () => {
  it('reports discarded and refused messages as they were given, not serialised', () => {
    const h = setup({json: true, queueLimit: 1});
    h.client.connect();
    h.client.send({a: 1});
    h.client.send({b: 2});
    h.client.close();
    expect(h.errors.map(({kind, data}) => [kind, data])).to.deep.equal([
      ['queue-overflow', {b: 2}],
      ['queue-discarded', [{a: 1}]],
    ]);
  });
});
