// The fault matrix: the element against each way a server or network
// misbehaves, in each browser, with the real server rig. Every case checks
// the outcome, and that there was never more than one socket.
import {expect} from '@open-wc/testing';
import {Rig, sleep, until} from './support/rig.js';
import {reached, watched} from './support/watched.js';

let rig: Rig;

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
    const codes = [1000, 1001, 1011, 1012, 1013, 4000, 4999];
    const ua = navigator.userAgent;
    const isWebKit = /AppleWebKit/.test(ua) && !/Chrome|Chromium|Firefox/.test(ua);
    /**
     * The code the browser reports for one the server sent: as sent, except
     * that WebKit fails the connection on 1012 (Service Restart) and 1013
     * (Try Again Later), codes registered after RFC 6455, and reports 1006
     * without the reason.
     */
    const webKitFails = [1012, 1013];
    const reported = (code: number) => (isWebKit && webKitFails.includes(code) ? 1006 : code);

    async function closedWith(code: number, stopCodes?: string) {
      const w = await watched(rig.url, stopCodes === undefined ? {} : {'stop-codes': stopCodes});
      await reached(w, 'open');
      await rig.closeClients(code, LONG_REASON);
      await until(() => w.states.some((s) => s.previousState === 'open'), {message: `close ${code}`});
      const change = w.states.find((s) => s.previousState === 'open')!;
      expect(change.code, `code ${code} as reported`).to.equal(reported(code));
      expect(change.reason).to.equal(reported(code) === code ? LONG_REASON : '');
      return {w, change};
    }

    async function expectOutcome(w: Awaited<ReturnType<typeof closedWith>>['w'], stops: boolean) {
      expect(w.states.find((s) => s.previousState === 'open')!.state).to.equal(
        stops ? 'closed' : 'reconnecting',
      );
      if (stops) {
        await sleep(500);
        expect((await rig.status()).accepted, 'no retry').to.equal(1);
      } else {
        await reached(w, 'open');
      }
    }

    /** What a case expects where the code arrives as sent, and where WebKit reports 1006 instead. */
    const expectation = (code: number, stopsOn: (code: number) => boolean) => {
      const words = (stops: boolean) => (stops ? 'closed, no retry' : 'reconnects');
      if (!webKitFails.includes(code) || stopsOn(1006) === stopsOn(code)) return words(stopsOn(code));
      return `${words(stopsOn(code))} (in WebKit, which reports 1006: ${words(stopsOn(1006))})`;
    };

    for (const code of codes) {
      const stopsOn = (c: number) => [1000, 1008].includes(c);
      it(`${code}, default stop-codes (1000 1008): ${expectation(code, stopsOn)}`, async () => {
        const {w} = await closedWith(code);
        await expectOutcome(w, stopsOn(reported(code)));
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
      const stopsOn = (c: number) => [1001, 1011, 1012, 1013].includes(c) || (c >= 4000 && c <= 4999);
      it(`${code}, stop-codes "1001, 1011-1013 4000-4999": ${expectation(code, stopsOn)}`, async () => {
        const {w} = await closedWith(code, '1001, 1011-1013 4000-4999');
        await expectOutcome(w, stopsOn(reported(code)));
      });
    }
  });
});
