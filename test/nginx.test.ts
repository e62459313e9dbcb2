// Behind a real reverse proxy: nginx closes a WebSocket idle for 2 s, as
// many production proxies do (with longer timeouts). Heartbeats keep the
// connection alive through it; without them it is cut (the control).
import {expect, fixture, html} from '@open-wc/testing';
import '../src/index.js';
import type {StateChange} from '../src/events.js';
import type {WsConnection} from '../src/ws-connection.js';
import {Rig, sleep, until} from './support/rig.js';

describe('behind nginx with 2 s idle timeouts', () => {
  let rig: Rig;
  let url: string;

  beforeEach(async () => {
    rig = await Rig.start();
    url = await rig.startNginx();
  });

  afterEach(async () => {
    for (const el of document.querySelectorAll('ws-connection')) el.close();
    await Rig.stopAll();
  });

  async function idleConnection(heartbeatInterval: number) {
    const el = await fixture<WsConnection>(html`<ws-connection manual></ws-connection>`);
    const states: StateChange[] = [];
    el.addEventListener('ws-state', (event) => states.push(event.detail));
    el.heartbeatInterval = heartbeatInterval;
    el.url = url;
    el.connect();
    await until(() => el.state === 'open', {timeout: 10_000, message: 'open'});
    return {el, states};
  }

  it('8 s without application traffic, heartbeats every 500 ms: stays up, zero reconnects', async () => {
    // Well inside the proxy's timeout: a test page in a background tab has its
    // timers held to one wake-up a second.
    const {el, states} = await idleConnection(500);
    await sleep(8000);
    expect(el.state).to.equal('open');
    expect(states.map((s) => s.state)).to.deep.equal(['connecting', 'open']);
    expect((await rig.status()).accepted).to.equal(1);
    expect((await rig.received()).filter((m) => m === 'ping').length).to.be.at.least(6);
  });

  it('no application traffic, heartbeats off (the control): cut by nginx, and the element reconnects', async () => {
    const {el, states} = await idleConnection(0);
    await until(() => states.some((s) => s.previousState === 'open'), {
      timeout: 6000,
      message: 'cut by nginx',
    });
    expect(states.find((s) => s.previousState === 'open')!.state).to.equal('reconnecting');
    await until(async () => el.state === 'open' && (await rig.status()).accepted === 2, {
      timeout: 10_000,
      message: 'open again',
    });
  });
});
