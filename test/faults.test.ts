// The fault matrix: the element against each way a server or network
// misbehaves, in each browser, with the real server rig. Every case checks
// the outcome, and that there was never more than one socket.
import {expect, fixture, html} from '@open-wc/testing';
import '../src/index.js';
import type {ErrorDetail, StateChange} from '../src/events.js';
import type {WsConnection} from '../src/ws-connection.js';
import {Rig, until} from './support/rig.js';

let rig: Rig;

interface Watched {
  el: WsConnection;
  states: StateChange[];
  errors: ErrorDetail[];
  messages: unknown[];
}

/** A fast-beating element on `url`, with everything it reports recorded. */
async function watched(url: string, attributes: Record<string, string> = {}): Promise<Watched> {
  const el = await fixture<WsConnection>(html`<ws-connection manual></ws-connection>`);
  const record: Watched = {el, states: [], errors: [], messages: []};
  el.addEventListener('ws-state', (event) => record.states.push(event.detail));
  el.addEventListener('ws-error', (event) => record.errors.push(event.detail));
  el.addEventListener('ws-message', (event) => record.messages.push(event.detail.data));
  const settings = {
    'heartbeat-interval': '300',
    timeout: '1000',
    'reconnect-delay': '100',
    'max-reconnect-delay': '400',
    ...attributes,
  };
  for (const [name, value] of Object.entries(settings)) el.setAttribute(name, value);
  el.url = url;
  el.connect();
  return record;
}

const reached = (w: Watched, state: string, timeout = 10_000) =>
  until(() => w.el.state === state, {timeout, message: `state ${state}`});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** 120 bytes of UTF-8 in 60 characters: close to the 123 bytes a close reason may hold. */
const LONG_REASON = 'é'.repeat(60);

describe('fault matrix', () => {
  beforeEach(async () => {
    rig = await Rig.start();
  });

  afterEach(async () => {
    for (const el of document.querySelectorAll('ws-connection')) el.close();
    await Rig.stopAll();
  });

  it('muted server: declared dead by the heartbeat, reconnected, and fine once it answers', async () => {
    const w = await watched(rig.url);
    await reached(w, 'open');
    await rig.setPong(false);
    await rig.setEcho(false);
    await until(() => w.errors.some((e) => e.kind === 'heartbeat-timeout'), {message: 'heartbeat-timeout'});
    await rig.setPong(true);
    await until(async () => (await rig.status()).accepted >= 2 && w.el.state === 'open', {
      timeout: 10_000,
      message: 'open again',
    });
    expect((await rig.status()).peak).to.equal(1);
  });

  it('half-open link: given up within heartbeat-interval + timeout plus slack, and back after heal', async () => {
    const w = await watched(rig.proxyUrl);
    await reached(w, 'open');
    await sleep(50);
    await rig.blackhole();
    const holedAt = performance.now();
    await until(() => w.errors.some((e) => e.kind === 'heartbeat-timeout'), {message: 'heartbeat-timeout'});
    // A ping is due at most 300 ms after the last traffic, the reply 1000 ms after it.
    expect(performance.now() - holedAt).to.be.below(300 + 1000 + 700);
    expect(w.el.state).to.be.oneOf(['reconnecting', 'connecting']);
    await rig.heal();
    await reached(w, 'open');
  });

  it('server killed and back after a second: reconnects and delivers what was sent meanwhile, once, in order', async () => {
    // Firefox holds back reconnects to a host that just failed (RFC 6455
    // §7.2.3); a short connect timeout would abandon those held attempts.
    const w = await watched(rig.url, {timeout: '3000'});
    await reached(w, 'open');
    await rig.restart(1000);
    await reached(w, 'reconnecting');
    const sent = ['a', 'b', 'c', 'd', 'e'];
    for (const message of sent) expect(w.el.send(message)).to.equal(true);
    await rig.takeReceived();
    await until(async () => w.el.state === 'open' && (await rig.status()).listening, {
      timeout: 15_000,
      message: 'open after the restart',
    });
    await until(async () => (await rig.status()).received >= sent.length, {message: 'the queue delivered'});
    expect((await rig.received()).filter((m) => m !== 'ping')).to.deep.equal(sent);
    expect(w.el.queued).to.equal(0);
  });

  it('flapping server: backs off instead of looping, never two sockets, and settles when it stops', async () => {
    await rig.setFlap(true);
    const w = await watched(rig.url);
    await sleep(2500);
    const {accepted, peak} = await rig.status();
    // Retry windows of 100, 200, 400, 400… ms allow about a dozen tries in 2.5 s; a tight loop makes hundreds.
    expect(accepted).to.be.within(2, 20);
    expect(peak).to.be.at.most(1);
    const attempts = w.states.filter((s) => s.state === 'reconnecting').map((s) => s.attempt);
    expect(attempts.length).to.be.at.least(2);
    // Connections that drop at once are not stable: the count never starts again.
    attempts.forEach((attempt, i) => expect(attempt).to.equal(i + 1));
    await rig.setFlap(false);
    await reached(w, 'open');
  });

  it('handshake that never completes: abandoned after timeout, retried, and open once it does', async () => {
    await rig.blackhole();
    const w = await watched(rig.proxyUrl);
    await until(() => w.errors.some((e) => e.kind === 'connect-timeout'), {message: 'connect-timeout'});
    expect(w.el.state).to.be.oneOf(['reconnecting', 'connecting']);
    await rig.heal();
    await reached(w, 'open');
    expect((await rig.status()).peak).to.equal(1);
  });

  it('garbage bytes from the network: the browser fails the connection and the element reconnects', async () => {
    const w = await watched(rig.proxyUrl);
    await reached(w, 'open');
    // A frame with reserved bits set and a reserved opcode: every browser must fail it.
    await rig.inject([0xff, 0xff, 0xff, 0xff]);
    await until(() => w.states.some((s) => s.previousState === 'open'), {message: 'the connection failed'});
    // Chromium and WebKit fail it at once (1006); Firefox may hold the socket
    // until the heartbeat gives it up.
    const failed = w.states.find((s) => s.previousState === 'open')!;
    if (failed.code === undefined) expect(w.errors.map((e) => e.kind)).to.include('heartbeat-timeout');
    else expect(failed.code).to.equal(1006);
    await until(async () => w.el.state === 'open' && (await rig.status()).accepted === 2, {
      timeout: 10_000,
      message: 'open again',
    });
    expect(w.messages).to.deep.equal([]);
  });

  describe('close codes, with a 120-byte UTF-8 reason', () => {
    // Browsers may report some registered codes as 1006 (WebKit does for
    // 1012); the element acts on the code the browser gives it.
    const codes = [1000, 1001, 1011, 1012, 1013, 4000, 4999];

    async function closedWith(code: number, stopCodes?: string) {
      const w = await watched(rig.url, stopCodes === undefined ? {} : {'stop-codes': stopCodes});
      await reached(w, 'open');
      await rig.closeClients(code, LONG_REASON);
      await until(() => w.states.some((s) => s.previousState === 'open'), {message: `close ${code}`});
      const change = w.states.find((s) => s.previousState === 'open')!;
      if (change.code === code) expect(change.reason).to.equal(LONG_REASON);
      else expect(change.code, `code ${code} as reported`).to.equal(1006);
      return {w, change};
    }

    for (const code of codes) {
      const expected = code === 1000 ? 'closed, no retry' : 'reconnects';
      it(`${code}, default stop-codes (1000 1008): ${expected}`, async () => {
        const {w, change} = await closedWith(code);
        const stops = change.code === 1000 || change.code === 1008;
        expect(change.state).to.equal(stops ? 'closed' : 'reconnecting');
        if (stops) {
          await sleep(500);
          expect((await rig.status()).accepted).to.equal(1);
        } else {
          await reached(w, 'open');
        }
      });
    }

    it('1006 (no close frame), default stop-codes: reconnects', async () => {
      const w = await watched(rig.url);
      await reached(w, 'open');
      await rig.terminateClients();
      await until(() => w.states.some((s) => s.previousState === 'open'), {message: 'dropped'});
      expect(w.states.find((s) => s.previousState === 'open')).to.include({
        state: 'reconnecting',
        code: 1006,
      });
      await until(async () => w.el.state === 'open' && (await rig.status()).accepted === 2, {
        timeout: 10_000,
        message: 'open again',
      });
    });

    for (const code of codes) {
      const expected =
        code === 1000
          ? 'reconnects'
          : code === 1012
            ? 'closed, no retry (reconnects where the browser reports 1006: WebKit)'
            : 'closed, no retry';
      it(`${code}, stop-codes "1001, 1011-1013 4000-4999": ${expected}`, async () => {
        const {w, change} = await closedWith(code, '1001, 1011-1013 4000-4999');
        const stops =
          [1001, 1011, 1012, 1013].includes(change.code!) || (change.code! >= 4000 && change.code! <= 4999);
        expect(change.state).to.equal(stops ? 'closed' : 'reconnecting');
        if (!stops) await reached(w, 'open');
      });
    }
  });
});
