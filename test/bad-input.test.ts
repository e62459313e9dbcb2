// Bad input, in each browser against the real server rig: every case gets a
// clear ws-error or a documented outcome, never an uncaught exception, never
// a second socket, and nothing queued is lost without a report.
import {expect, fixture, html, oneEvent} from '@open-wc/testing';
import '../src/index.js';
import type {ErrorDetail} from '../src/events.js';
import type {WsConnection} from '../src/ws-connection.js';
import {Rig, sleep, until} from './support/rig.js';
import {trackedWebSocket} from './support/tracked-websocket.js';
import {captureWarnings} from './support/warnings.js';

let rig: Rig;

const PageWebSocket = window.WebSocket;
/** The page's sockets in this test: the element's engine takes the global WebSocket when it is made. */
let tracker: ReturnType<typeof trackedWebSocket>;

/** An element created (so its engine captures the tracked WebSocket) but not connected yet. */
async function element(
  attributes: Record<string, string> = {},
): Promise<{el: WsConnection; errors: ErrorDetail[]}> {
  const el = await fixture<WsConnection>(html`<ws-connection manual></ws-connection>`);
  const errors: ErrorDetail[] = [];
  el.addEventListener('ws-error', (event) => errors.push(event.detail));
  for (const [name, value] of Object.entries(attributes)) el.setAttribute(name, value);
  return {el, errors};
}

const opened = (el: WsConnection) => until(() => el.state === 'open', {timeout: 10_000, message: 'open'});

describe('bad input', () => {
  beforeEach(async () => {
    rig = await Rig.start();
    tracker = trackedWebSocket();
    window.WebSocket = tracker.TrackedWebSocket;
  });

  afterEach(async () => {
    window.WebSocket = PageWebSocket;
    for (const el of document.querySelectorAll('ws-connection')) el.close();
    expect(tracker.violations, 'never two sockets connecting or open').to.equal(0);
    await Rig.stopAll();
  });

  describe('attributes', () => {
    const numeric = [
      'heartbeat-interval',
      'timeout',
      'reconnect-delay',
      'max-reconnect-delay',
      'max-retries',
      'queue-limit',
    ];
    // Which attributes take each value as valid: counts may be huge, and max-retries infinite.
    const cases: [string, string[]][] = [
      ['-1', []],
      ['NaN', []],
      ['', []],
      ['soon', []],
      ['1e400', ['max-retries']],
      ['99999999999', ['max-retries', 'queue-limit']],
    ];

    for (const [value, validFor] of cases) {
      it(`"${value}" on every numeric attribute: a warning for each invalid one, and it connects`, async () => {
        const capture = captureWarnings();
        try {
          const {el, errors} = await element(Object.fromEntries(numeric.map((name) => [name, value])));
          el.url = rig.url;
          el.connect();
          await opened(el);
          expect(errors).to.deep.equal([]);
        } finally {
          capture.restore();
        }
        expect(capture.warnings, capture.warnings.join('\n')).to.have.length(
          numeric.length - validFor.length,
        );
      });
    }

    it('binary-type and stop-codes out of range: warned, defaults kept, connected', async () => {
      const capture = captureWarnings();
      try {
        const {el} = await element({'binary-type': 'text', 'stop-codes': '1000 5000'});
        el.url = rig.url;
        el.connect();
        await opened(el);
        // The default stop codes still apply: 1000 ends it.
        await rig.closeClients(1000, 'done');
        await until(() => el.state === 'closed', {message: 'closed by 1000'});
      } finally {
        capture.restore();
      }
      expect(capture.warnings.join('\n')).to.contain('binaryType').and.to.contain('stopCodes');
    });
  });

  describe('URLs', () => {
    for (const url of [
      'not a url',
      'ftp://example.com/ws',
      'javascript:alert(1)',
      '//example.com/ws',
      'ws://',
    ]) {
      it(`"${url}": invalid-url, state idle, no socket`, async () => {
        const {el, errors} = await element();
        el.url = url;
        el.connect();
        await until(() => errors.length > 0, {message: 'an error'});
        expect(errors.map((e) => e.kind)).to.deep.equal(['invalid-url']);
        expect(el.state).to.equal('idle');
        expect(tracker.sockets).to.have.length(0);
      });
    }

    it('http: maps to ws: and connects', async () => {
      const {el} = await element();
      el.url = rig.url.replace('ws:', 'http:');
      el.connect();
      await opened(el);
      expect(tracker.sockets[0].url).to.equal(`${rig.url}/`);
    });

    it('paths resolve against the page, with ws: on an http: page', async () => {
      for (const [path, expected] of [
        ['/ws', `ws://${location.host}/ws`],
        ['./ws', new URL('./ws', location.href).href.replace('http:', 'ws:')],
        ['../ws', new URL('../ws', location.href).href.replace('http:', 'ws:')],
      ]) {
        const {el} = await element();
        el.url = path;
        el.connect();
        expect(tracker.sockets.at(-1)?.url, path).to.equal(expected);
        el.close();
        el.remove();
      }
    });
  });

  describe('messages', () => {
    it('send() of values JSON cannot carry: false, send-failed, nothing thrown or sent', async () => {
      const {el, errors} = await element({json: ''});
      el.url = rig.url;
      el.connect();
      await opened(el);
      const circular: Record<string, unknown> = {};
      circular.self = circular;
      for (const value of [10n, circular, () => 1, undefined, Symbol('s')]) {
        expect(el.send(value), String(typeof value)).to.equal(false);
      }
      expect(errors.map((e) => e.kind)).to.deep.equal(Array(5).fill('send-failed'));
      await sleep(100);
      expect(await rig.received()).to.deep.equal([]);
      expect(el.state).to.equal('open');
    });

    it('send() of an object without json: false and send-failed', async () => {
      const {el, errors} = await element();
      el.url = rig.url;
      el.connect();
      await opened(el);
      expect(el.send({a: 1})).to.equal(false);
      expect(errors.map((e) => e.kind)).to.deep.equal(['send-failed']);
      expect(errors[0].data).to.deep.equal({a: 1});
    });

    it('16 MB out and back in', async () => {
      const {el} = await element();
      el.url = rig.url;
      el.connect();
      await opened(el);
      const big = 'x'.repeat(16 * 1024 * 1024);
      const echoed = oneEvent(el, 'ws-message');
      expect(el.send(big)).to.equal(true);
      expect(((await echoed).detail.data as string).length).to.equal(big.length);
    });

    it('a binary frame with json on is dispatched as binary, not parsed', async () => {
      const {el, errors} = await element({json: ''});
      el.url = rig.url;
      el.connect();
      await opened(el);
      const message = oneEvent(el, 'ws-message');
      await rig.send('{"a":1}', true);
      expect((await message).detail.data).to.be.instanceOf(Blob);
      expect(errors).to.deep.equal([]);
    });

    it('"{bad" with json on: parse-error with the raw text, and the connection stays open', async () => {
      const {el, errors} = await element({json: ''});
      el.url = rig.url;
      el.connect();
      await opened(el);
      const received: unknown[] = [];
      el.addEventListener('ws-message', (event) => received.push(event.detail.data));
      await rig.send('{bad');
      await rig.send('{"good":true}');
      await until(() => received.length === 1, {message: 'the good message'});
      expect(received).to.deep.equal([{good: true}]);
      expect(errors).to.have.length(1);
      expect(errors[0]).to.include({kind: 'parse-error', data: '{bad'});
      expect(el.state).to.equal('open');
    });
  });

  describe('calls and changes at awkward moments', () => {
    it('1,000 rapid connect()/close() pairs: one socket at a time, closed at the end, none left at the server', async () => {
      const {el} = await element();
      el.url = rig.url;
      for (let i = 0; i < 1000; i++) {
        el.connect();
        el.close();
      }
      expect(el.state).to.equal('closed');
      await until(async () => (await rig.status()).open === 0, {message: 'none left open'});
      await sleep(300);
      expect((await rig.status()).open).to.equal(0);
    });

    it('1,000 rapid connect() calls: one connection', async () => {
      const {el} = await element();
      el.url = rig.url;
      for (let i = 0; i < 1000; i++) el.connect();
      await opened(el);
      expect(tracker.sockets).to.have.length(1);
      expect((await rig.status()).accepted).to.equal(1);
    });

    it('url changed mid-connect: the first attempt is dropped, the second opens', async () => {
      const other = await Rig.start();
      await rig.blackhole();
      const {el} = await element();
      el.url = rig.proxyUrl;
      el.connect();
      expect(el.state).to.equal('connecting');
      el.url = other.url;
      el.heartbeatInterval = 5000;
      await opened(el);
      await rig.heal();
      await sleep(300);
      // The abandoned handshake may still reach the first server once the
      // link heals (Firefox leaves its TCP connection to the proxy), but
      // nothing stays open there.
      await until(async () => (await rig.status()).open === 0, {message: 'nothing open at the first server'});
      expect((await other.status()).accepted).to.equal(1);
      expect(el.state).to.equal('open');
    });

    it('removed mid-connect: the attempt is dropped and nothing reconnects', async () => {
      await rig.blackhole();
      const {el} = await element();
      el.url = rig.proxyUrl;
      el.connect();
      el.remove();
      await until(() => el.state === 'idle', {message: 'idle after removal'});
      await rig.heal();
      await sleep(500);
      expect(tracker.sockets.every((socket) => socket.readyState >= PageWebSocket.CLOSING)).to.equal(true);
      expect((await rig.status()).open).to.equal(0);
    });

    it('moved mid-connect: keeps its one attempt, which opens', async () => {
      const {el} = await element();
      const elsewhere = document.body.appendChild(document.createElement('section'));
      try {
        el.url = rig.url;
        el.connect();
        elsewhere.append(el);
        await opened(el);
        expect(tracker.sockets).to.have.length(1);
      } finally {
        el.close();
        elsewhere.remove();
      }
    });
  });
});
