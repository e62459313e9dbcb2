// WebSocketController on a throwaway Lit host, against the real server.
import {expect, fixture, html as testHtml} from '@open-wc/testing';
import {html, LitElement} from 'lit';
import type {Environment} from '../src/client/environment.js';
import {WebSocketController, type WebSocketControllerOptions} from '../src/controller.js';
import {Rig, sleep, until} from './support/rig.js';
import {trackedWebSocket} from './support/tracked-websocket.js';
import {move} from './support/watched.js';

let rig: Rig;
let hostOptions: WebSocketControllerOptions = {};
let hostEnvironment: Partial<Environment> = {};

class PriceTicker extends LitElement {
  price: unknown = '–';
  renders = 0;
  readonly socket = new WebSocketController(
    this,
    {
      ...hostOptions,
      onMessage: (data) => {
        this.price = data;
        this.requestUpdate();
      },
    },
    hostEnvironment,
  );

  override render() {
    this.renders++;
    return html`<span>${this.socket.state}: ${this.price}</span>`;
  }
}
customElements.define('test-price-ticker', PriceTicker);

async function host(
  options: WebSocketControllerOptions,
  environment: Partial<Environment> = {},
): Promise<PriceTicker> {
  hostOptions = {heartbeatInterval: 200, timeout: 400, ...options};
  hostEnvironment = environment;
  return fixture<PriceTicker>(testHtml`<test-price-ticker></test-price-ticker>`);
}

describe('WebSocketController', () => {
  beforeEach(async () => {
    rig = await Rig.start();
  });
  afterEach(async () => {
    for (const el of document.querySelectorAll<PriceTicker>('test-price-ticker')) el.socket.close();
    await Rig.stopAll();
  });

  it('with shared, two hosts use one socket and both hear every message', async () => {
    const a = await host({url: rig.url, shared: true});
    const b = await host({url: rig.url, shared: true});
    await until(() => a.socket.state === 'open' && b.socket.state === 'open');
    expect(a.socket.leader).to.equal(true);
    await rig.send('tick');
    await until(() => a.price === 'tick' && b.price === 'tick', {message: 'both hosts to hear it'});
    expect((await rig.status()).accepted).to.equal(1);
    b.remove();
    await sleep(100);
    expect(a.socket.state).to.equal('open');
    expect((await rig.status()).open).to.equal(1);
  });

  it('connects when the host connects and re-renders the host on each state', async () => {
    const el = await host({url: rig.url, json: true});
    await until(() => el.socket.state === 'open');
    await el.updateComplete;
    expect(el.shadowRoot!.textContent).to.contain('open');
    el.socket.send({price: 42});
    await until(() => (el.price as {price?: number}).price === 42);
    await el.updateComplete;
    expect(el.shadowRoot!.textContent).to.contain('open: [object Object]');
  });

  it('lets go when the host disconnects, and reconnects when it returns', async () => {
    const el = await host({url: rig.url});
    await until(async () => (await rig.status()).open === 1);
    const parent = el.parentElement!;
    el.remove();
    await until(async () => (await rig.status()).open === 0, {message: 'closed with the host'});
    expect(el.socket.state).to.equal('idle');
    parent.append(el);
    await until(async () => (await rig.status()).open === 1, {message: 'open again'});
  });

  it('waits for connect() with manual', async () => {
    const el = await host({url: rig.url, manual: true});
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(el.socket.state).to.equal('idle');
    el.socket.connect();
    await until(() => el.socket.state === 'open');
  });

  it('hands errors to onError', async () => {
    const errors: string[] = [];
    const el = await host({url: 'ftp://nope.example/', onError: (error) => errors.push(error.kind)});
    expect(errors).to.deep.equal(['invalid-url']);
    expect(el.socket.state).to.equal('idle');
  });

  describe('its host moved within the document in one task (a keyed list reordered)', () => {
    it('open: keeps the connection', async () => {
      const el = await host({url: rig.url});
      await until(() => el.socket.state === 'open', {message: 'open'});
      move(el);
      await sleep(400);
      expect(el.socket.state).to.equal('open');
      expect(await rig.status()).to.include({accepted: 1, open: 1});
    });

    it('reconnecting: the retry keeps its time', async () => {
      const el = await host(
        {url: rig.url, reconnectDelay: 20_000, maxReconnectDelay: 20_000},
        {random: () => 0.99},
      );
      await until(() => el.socket.state === 'open', {message: 'open'});
      await rig.restart(0);
      await until(() => el.socket.state === 'reconnecting', {message: 'reconnecting'});
      const nextRetryAt = el.socket.client.nextRetryAt;
      move(el);
      await sleep(400);
      expect(el.socket.state).to.equal('reconnecting');
      expect(el.socket.client.nextRetryAt).to.equal(nextRetryAt);
      expect((await rig.status()).accepted).to.equal(1);
    });

    it('closed: stays closed', async () => {
      const el = await host({url: rig.url});
      await until(() => el.socket.state === 'open', {message: 'open'});
      await rig.closeClients(1008);
      await until(() => el.socket.state === 'closed', {message: 'closed'});
      move(el);
      await sleep(400);
      expect(el.socket.state).to.equal('closed');
      expect((await rig.status()).accepted).to.equal(1);
    });
  });

  it('connect() on a controller whose host was never inserted opens nothing until insertion', async () => {
    const tracker = trackedWebSocket();
    hostOptions = {url: rig.url, manual: true};
    hostEnvironment = {WebSocket: tracker.TrackedWebSocket};
    const el = document.createElement('test-price-ticker') as PriceTicker;
    el.socket.connect();
    await sleep(300);
    expect(el.socket.state).to.equal('idle');
    expect(tracker.sockets).to.have.length(0);
    document.body.append(el);
    try {
      await until(() => el.socket.state === 'open', {message: 'open on insertion'});
    } finally {
      el.remove();
    }
    await until(async () => (await rig.status()).open === 0, {message: 'closed on removal'});
  });
});
