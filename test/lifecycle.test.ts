// The page stalls while the network and server are fine: a long task or a
// frozen page holds every timer and event back, and when it lets go the
// heartbeat timer fires late. That must not be taken for a dead connection.
import {expect, fixture, html} from '@open-wc/testing';
import '../src/index.js';
import type {ErrorDetail} from '../src/events.js';
import type {WsConnection} from '../src/ws-connection.js';
import {Rig, until} from './support/rig.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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

  async function beating() {
    const el = await fixture<WsConnection>(html`<ws-connection manual></ws-connection>`);
    const errors: ErrorDetail[] = [];
    el.addEventListener('ws-error', (event) => errors.push(event.detail));
    el.heartbeatInterval = 300;
    el.timeout = 1000;
    el.url = rig.url;
    el.connect();
    await until(() => el.state === 'open', {timeout: 10_000, message: 'open'});
    return {el, errors};
  }

  for (const ms of [1500, 3000]) {
    it(`stalled ${ms} ms just after a ping: no timeout, the same connection`, async () => {
      const {el, errors} = await beating();
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
