// The element in each browser against the real server rig.
import {expect, fixture, html, oneEvent} from '@open-wc/testing';
import '../src/index.js';
import type {WsConnection} from '../src/ws-connection.js';
import {deutsch, francais} from '../examples/i18n/status-words.js';
import {Rig, until} from './support/rig.js';

let rig: Rig;

async function connected(markup: ReturnType<typeof html>): Promise<WsConnection> {
  const el = await fixture<WsConnection>(markup);
  await until(() => el.state === 'open', {message: 'open'});
  return el;
}

const statusOf = (el: WsConnection) => el.shadowRoot!.querySelector('[part="status"]') as HTMLElement;

describe('<ws-connection>', () => {
  beforeEach(async () => {
    rig = await Rig.start();
  });

  afterEach(async () => {
    for (const el of document.querySelectorAll('ws-connection')) el.close();
    await Rig.stopAll();
  });

  it('is defined once, and a second definition attempt is tolerated', async () => {
    const {WsConnection} = await import('../src/ws-connection.js');
    expect(customElements.get('ws-connection')).to.equal(WsConnection);
    await import(`../src/define.ts?again=${Date.now()}`);
    expect(customElements.get('ws-connection')).to.equal(WsConnection);
  });

  it('connects on insertion, reflects state, and fires bubbling, composed ws-state events', async () => {
    const seen: string[] = [];
    const listener = (event: Event) => {
      const {detail, bubbles, composed} = event as CustomEvent;
      if (bubbles && composed) seen.push(`${detail.previousState}→${detail.state}`);
    };
    document.addEventListener('ws-state', listener);
    try {
      const el = await connected(html`<ws-connection url=${rig.url}></ws-connection>`);
      expect(el.getAttribute('state')).to.equal('open');
      expect(seen).to.deep.equal(['idle→connecting', 'connecting→open']);
    } finally {
      document.removeEventListener('ws-state', listener);
    }
  });

  it('dispatches ws-message with the data, parsed with json', async () => {
    const el = await connected(html`<ws-connection url=${rig.url} json></ws-connection>`);
    const message = oneEvent(el, 'ws-message');
    expect(el.send({n: 1})).to.equal(true);
    expect((await message).detail.data).to.deep.equal({n: 1});
  });

  it('has the engine’s defaults', async () => {
    const {DEFAULT_OPTIONS} = await import('../src/client/options.js');
    const {formatCodeRanges} = await import('../src/client/close-codes.js');
    const el = document.createElement('ws-connection');
    for (const name of [
      'heartbeatInterval',
      'timeout',
      'pingMessage',
      'pongMessage',
      'reconnectDelay',
      'maxReconnectDelay',
      'maxRetries',
      'queueLimit',
      'json',
      'binaryType',
    ] as const) {
      expect(el[name], name).to.equal(DEFAULT_OPTIONS[name]);
    }
    expect(el.stopCodes).to.equal(formatCodeRanges(DEFAULT_OPTIONS.stopCodes));
  });

  it('reads every attribute as its option', async () => {
    const el = await connected(
      html`<ws-connection
        url=${rig.url}
        heartbeat-interval="150"
        timeout="300"
        ping-message="hb?"
        pong-message="hb!"
        reconnect-delay="50"
        max-reconnect-delay="200"
        max-retries="7"
        stop-codes="4000-4099"
        queue-limit="3"
        binary-type="arraybuffer"
      ></ws-connection>`,
    );
    expect([
      el.heartbeatInterval,
      el.timeout,
      el.reconnectDelay,
      el.maxReconnectDelay,
      el.maxRetries,
    ]).to.deep.equal([150, 300, 50, 200, 7]);
    await until(async () => (await rig.received()).includes('hb?'), {message: 'custom ping'});
    const binary = oneEvent(el, 'ws-message');
    await rig.send('bytes', true);
    expect((await binary).detail.data).to.be.instanceOf(ArrayBuffer);
    await rig.closeClients(4010, 'custom stop');
    await until(() => el.state === 'closed');
  });

  it('warns about an invalid attribute and keeps working with the default', async () => {
    const warn = console.warn;
    const warnings: string[] = [];
    console.warn = (message: string) => warnings.push(message);
    try {
      await connected(
        html`<ws-connection url=${rig.url} heartbeat-interval="soon" stop-codes="1000 nope"></ws-connection>`,
      );
    } finally {
      console.warn = warn;
    }
    expect(warnings.join('\n')).to.contain('heartbeatInterval').and.to.contain('stopCodes');
  });

  it('reports an invalid url as ws-error and opens nothing', async () => {
    const el = document.createElement('ws-connection');
    el.url = 'ftp://nope.example/';
    const error = oneEvent(el, 'ws-error');
    document.body.append(el);
    expect((await error).detail.kind).to.equal('invalid-url');
    expect(el.state).to.equal('idle');
    el.remove();
  });

  it('does not connect with manual until connect()', async () => {
    const el = await fixture<WsConnection>(html`<ws-connection manual url=${rig.url}></ws-connection>`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(el.state).to.equal('idle');
    expect((await rig.status()).accepted).to.equal(0);
    el.connect();
    await until(() => el.state === 'open');
  });

  it('reconnects to a new url', async () => {
    const other = await Rig.start();
    const el = await connected(html`<ws-connection url=${rig.url}></ws-connection>`);
    el.url = other.url;
    await until(async () => (await other.status()).open === 1, {message: 'open at the new server'});
    await until(async () => (await rig.status()).open === 0, {message: 'gone from the old one'});
    expect(el.state).to.equal('open');
  });

  it('returns false and explains when sending while closed', async () => {
    const el = await connected(html`<ws-connection url=${rig.url}></ws-connection>`);
    el.close();
    const error = oneEvent(el, 'ws-error');
    expect(el.send('late')).to.equal(false);
    expect((await error).detail.kind).to.equal('send-failed');
  });

  it('closes its socket and clears its timers when removed; re-insertion reconnects', async () => {
    const el = await connected(html`<ws-connection url=${rig.url} heartbeat-interval="100"></ws-connection>`);
    const parent = el.parentElement!;
    el.remove();
    await until(async () => (await rig.status()).open === 0, {message: 'socket closed at the server'});
    expect(el.state).to.equal('idle');
    const received = (await rig.received()).length;
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect((await rig.received()).length, 'no heartbeat after removal').to.equal(received);
    parent.append(el);
    await until(() => el.state === 'open');
    expect((await rig.status()).accepted).to.equal(2);
  });

  it('keeps the connection when moved within the document in one task', async () => {
    const el = await connected(html`<ws-connection url=${rig.url}></ws-connection>`);
    const elsewhere = document.createElement('div');
    document.body.append(elsewhere);
    elsewhere.append(el);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(el.state).to.equal('open');
    expect(await rig.status()).to.include({accepted: 1, open: 1});
    elsewhere.remove();
  });

  it('restores the default when an attribute is removed', async () => {
    const el = await fixture<WsConnection>(html`<ws-connection manual></ws-connection>`);
    const attributes = {
      'heartbeat-interval': ['150', 'heartbeatInterval'],
      timeout: ['300', 'timeout'],
      'reconnect-delay': ['50', 'reconnectDelay'],
      'max-reconnect-delay': ['200', 'maxReconnectDelay'],
      'max-retries': ['7', 'maxRetries'],
      'queue-limit': ['3', 'queueLimit'],
      'ping-message': ['hb?', 'pingMessage'],
      'pong-message': ['hb!', 'pongMessage'],
      'stop-codes': ['4000', 'stopCodes'],
      'binary-type': ['arraybuffer', 'binaryType'],
      url: [rig.url, 'url'],
      protocols: ['chat', 'protocols'],
    } as const;
    const fresh = document.createElement('ws-connection');
    for (const [attribute, [value, property]] of Object.entries(attributes)) {
      el.setAttribute(attribute, value);
      expect(String(el[property]), attribute).to.equal(value);
      el.removeAttribute(attribute);
      expect(el[property], attribute).to.equal(fresh[property]);
    }
  });

  it('starts a fresh retry budget on reconnect() after retries-exhausted', async () => {
    await rig.kill();
    const el = await fixture<WsConnection>(
      html`<ws-connection
        url=${rig.url}
        max-retries="1"
        reconnect-delay="50"
        timeout="3000"
      ></ws-connection>`,
    );
    const log: string[] = [];
    el.addEventListener('ws-state', ({detail}) => log.push(detail.state));
    el.addEventListener('ws-error', ({detail}) => log.push(detail.kind));
    await until(() => log.includes('retries-exhausted'), {message: 'retries-exhausted'});
    await until(() => el.state === 'closed');
    log.length = 0;
    el.reconnect();
    await until(() => log.filter((entry) => entry === 'connecting').length === 2, {
      message: 'a retry after the first failure',
    });
    // One failure after reconnect() leaves a retry, not retries-exhausted.
    expect(log.filter((entry) => !entry.includes('-')).slice(0, 3)).to.deep.equal([
      'connecting',
      'reconnecting',
      'connecting',
    ]);
  });

  it('reports discarded messages as they were sent', async () => {
    const el = await fixture<WsConnection>(html`<ws-connection manual json></ws-connection>`);
    el.send({n: 1});
    el.send('two');
    const error = oneEvent(el, 'ws-error');
    el.close();
    expect((await error).detail).to.include({kind: 'queue-discarded'});
    expect((await error).detail.data).to.deep.equal([{n: 1}, 'two']);
  });

  it('is hidden by the hidden attribute', async () => {
    const el = await fixture<WsConnection>(html`<ws-connection manual hidden>Live</ws-connection>`);
    expect(getComputedStyle(el).display).to.equal('none');
    el.hidden = false;
    expect(getComputedStyle(el).display).to.equal('block');
  });

  describe('status area', () => {
    it('names the state in a role=status part, with latency while open', async () => {
      const el = await connected(
        html`<ws-connection url=${rig.url} heartbeat-interval="100"></ws-connection>`,
      );
      const status = statusOf(el);
      expect(status.getAttribute('role')).to.equal('status');
      await until(() => el.latency !== undefined);
      await el.updateComplete;
      await until(() => /Connected · \d+ ms/.test(status.textContent ?? ''), {message: 'latency shown'});
    });

    it('keeps the latency and the countdown out of what the live region announces', async () => {
      const el = await connected(
        html`<ws-connection url=${rig.url} heartbeat-interval="100" reconnect-delay="5000"></ws-connection>`,
      );
      const status = statusOf(el);
      /** The text assistive technology reads: everything not inside aria-hidden. */
      const announced = () => {
        const walker = document.createTreeWalker(status, NodeFilter.SHOW_TEXT);
        let text = '';
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
          if (!node.parentElement!.closest('[aria-hidden="true"]')) text += node.textContent;
        }
        return text;
      };
      await until(() => /\d+ ms/.test(status.textContent ?? ''), {message: 'latency shown'});
      expect(announced()).to.equal('Connected');
      await rig.kill();
      await until(() => el.state === 'reconnecting');
      await el.updateComplete;
      expect(status.textContent).to.match(/in \d sec/);
      expect(announced()).to.equal('Reconnecting, attempt 1');
    });

    it('counts down while reconnecting', async () => {
      const el = await connected(html`<ws-connection url=${rig.url} reconnect-delay="5000"></ws-connection>`);
      await rig.kill();
      await until(() => el.state === 'reconnecting');
      await el.updateComplete;
      expect(statusOf(el).textContent).to.match(/Reconnecting, attempt 1 in \d sec/);
    });

    it('speaks the words of statusText, with numbers in the language of the page part it is in', async function () {
      // A server's kill and the first failed retry take a while on a busy machine: more than the
      // sum of the waits below (15 s to open, 15 s to reconnecting, the kill), so that the slow
      // one says which it is rather than mocha timing the whole test out.
      this.timeout(60_000);
      // Not a fixture: for a plain element it waits for an animation frame, which a page in the
      // background (one of several test files run at once) never gets.
      const holder = document.createElement('div');
      holder.lang = 'de';
      document.body.append(holder);
      const el = document.createElement('ws-connection');
      el.setAttribute('url', rig.url);
      // A retry drawn from a minute: the countdown stays put while the words change.
      el.setAttribute('reconnect-delay', '60000');
      el.setAttribute('max-reconnect-delay', '60000');
      el.statusText = deutsch;
      holder.append(el);
      await until(() => el.state === 'open', {timeout: 15_000});
      await el.updateComplete;
      expect(statusOf(el).textContent).to.contain('Verbunden');
      await rig.kill();
      await until(() => el.state === 'reconnecting', {timeout: 15_000});
      await el.updateComplete;
      expect(statusOf(el).textContent).to.match(/^Verbinde neu, Versuch 1 in \d+\sSek\.$/);
      // Another language and its words, assigned as a framework does on every render: a fresh object.
      holder.lang = 'fr';
      el.statusText = {...francais};
      await el.updateComplete;
      expect(statusOf(el).textContent).to.match(/^Reconnexion, tentative 1 dans \d+\ss$/);
      // Words left out stay English; so do numbers where no lang is set.
      holder.removeAttribute('lang');
      el.statusText = {retryIn: (seconds) => ` — ${seconds}`};
      await el.updateComplete;
      expect(statusOf(el).textContent).to.match(/^Reconnecting, attempt 1 — \d+\ssec$/);
      holder.remove();
    });

    it('is replaced by slot="status" content and hidden by hide-status', async () => {
      const el = await connected(
        html`<ws-connection url=${rig.url}><span slot="status">custom</span></ws-connection>`,
      );
      const slot = statusOf(el).querySelector('slot[name="status"]') as HTMLSlotElement;
      expect(slot.assignedElements().map((node) => node.textContent)).to.deep.equal(['custom']);
      el.hideStatus = true;
      await el.updateComplete;
      expect(el.hasAttribute('hide-status')).to.equal(true);
      expect(getComputedStyle(statusOf(el)).display).to.equal('none');
    });

    it('shows the server’s close reason as text, never as markup', async () => {
      const el = await connected(html`<ws-connection url=${rig.url}></ws-connection>`);
      const reason = '<img src=x onerror="window.__injected=1"><b>bold</b>';
      await rig.closeClients(1008, reason);
      await until(() => el.state === 'closed');
      await el.updateComplete;
      const status = statusOf(el);
      expect(status.textContent).to.contain(`Closed (1008: ${reason})`);
      expect(status.querySelector('img, b')).to.equal(null);
      expect((window as {__injected?: number}).__injected).to.equal(undefined);
    });

    it('passes an accessibility check', async () => {
      const el = await connected(html`<ws-connection url=${rig.url}>Live prices</ws-connection>`);
      await expect(el).to.be.accessible();
    });
  });
});
