// WebSocketController on a throwaway Lit host, against the real server.
import {expect, fixture, html as testHtml} from '@open-wc/testing';
import {html, LitElement} from 'lit';
import {WebSocketController, type WebSocketControllerOptions} from '../src/controller.js';
import {Rig, until} from './support/rig.js';

let rig: Rig;
let hostOptions: WebSocketControllerOptions = {};

class PriceTicker extends LitElement {
  price: unknown = '–';
  renders = 0;
  readonly socket = new WebSocketController(this, {
    ...hostOptions,
    onMessage: (data) => {
      this.price = data;
      this.requestUpdate();
    },
  });

  override render() {
    this.renders++;
    return html`<span>${this.socket.state}: ${this.price}</span>`;
  }
}
customElements.define('test-price-ticker', PriceTicker);

async function host(options: WebSocketControllerOptions): Promise<PriceTicker> {
  hostOptions = {heartbeatInterval: 200, timeout: 400, ...options};
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
});
