// Sharing's code loads on first use: a `SharedClient` made from the module
// the element imports (not the `shared.js` entry, which loads it at once)
// waits for it `connecting`, keeps what it is sent, and then joins as the
// options are by then. Every client here starts before the code is loaded,
// so each case happens while it loads; the rig's real server and the `ws`
// package's WebSocket carry the socket.
import assert from 'node:assert/strict';
import {after, before, describe, it} from 'node:test';
import WebSocket from 'ws';
import {SharedClient} from '../../dist/share/shared-client.js';
import {loadedHubs, loadHubs} from '../../dist/share/hubs.js';
import {RigServer} from '../support/rig-server.mjs';

async function until(check, {timeout = 5000, message = 'condition'} = {}) {
  const deadline = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${message}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Every client made, closed after the test whatever happened, so that a failure leaves no socket behind. */
const clients = [];

function watched(client) {
  clients.push(client);
  const seen = {states: [], messages: [], errors: []};
  client.on('state', ({state}) => seen.states.push(state));
  client.on('message', ({data}) => seen.messages.push(data));
  client.on('error', ({kind}) => seen.errors.push(kind));
  return seen;
}

describe('SharedClient while sharing’s code loads', () => {
  let rig;
  let other;
  before(async () => {
    rig = new RigServer();
    await rig.start();
    other = new RigServer();
    await other.start();
  });
  after(async () => {
    for (const client of clients) client.close();
    await rig.stop();
    await other.stop();
  });

  it('is connecting at once, keeps what is sent, and joins as its options are once the code is here', async () => {
    assert.equal(loadedHubs(), undefined, 'nothing loaded sharing’s code before this test');
    const url = `ws://127.0.0.1:${rig.port}`;
    const otherUrl = `ws://127.0.0.1:${other.port}`;
    // Sends while it loads, then opens and sends them.
    const sender = new SharedClient({url}, {WebSocket});
    const sent = watched(sender);
    sender.connect();
    assert.equal(sender.state, 'connecting');
    assert.deepEqual(sent.states, ['connecting']);
    assert.equal(sender.send('while loading'), true);
    assert.equal(sender.queued, 1);
    // Closed while it loads: it never joins.
    const closer = new SharedClient({url: otherUrl}, {WebSocket});
    const closed = watched(closer);
    closer.connect();
    closer.send('discarded');
    closer.close();
    // Paused while it loads, then started again: one join.
    const pauser = new SharedClient({url, share: 'paused'}, {WebSocket});
    const paused = watched(pauser);
    pauser.connect();
    pauser.pause();
    pauser.connect();
    // Moved to another url while it loads: it joins that url's socket.
    const mover = new SharedClient({url: otherUrl, share: ''}, {WebSocket});
    const moved = watched(mover);
    mover.connect();
    mover.configure({url});
    assert.equal(loadedHubs(), undefined, 'still loading');

    await loadHubs();
    await until(() => [sender, pauser, mover].every((client) => client.state === 'open'), {
      message: 'every client that still wants the socket open',
    });
    assert.deepEqual(sent.states, ['connecting', 'open']);
    await until(() => rig.received.includes('while loading'), {message: 'the message sent while loading'});
    assert.equal(sender.queued, 0);
    assert.deepEqual(closed.states, ['connecting', 'closed']);
    assert.deepEqual(closed.errors, ['queue-discarded']);
    assert.equal(closer.state, 'closed');
    assert.deepEqual(paused.states, ['connecting', 'idle', 'connecting', 'open']);
    assert.deepEqual(moved.states, ['connecting', 'open']);
    // The sender and the mover share the url's socket; the pauser has one of its name; nothing reached the other server.
    assert.equal(rig.status().accepted, 2);
    assert.equal(other.status().accepted, 0);
    for (const seen of [sent, paused, moved]) assert.deepEqual(seen.errors, []);

    for (const client of [sender, pauser, mover]) client.close();
    await until(() => rig.status().open === 0, {message: 'every socket closed'});
  });
});
