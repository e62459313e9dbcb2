// `shared` and `reliable` together, in the multi-tab world with the server
// half's reliable() behind its fake server: the session outlives the tab
// that holds the socket. Every message accepted by send() reaches the server
// application exactly once and in order across a handover, and every message
// the application sends is dispatched once, in order, in every tab.
// TAB_WORLD_SEED picks the seed (printed per test).
import assert from 'node:assert/strict';
import {before, describe, it} from 'node:test';
import {loadLink} from '../../dist/client/reliable-loader.js';
import {SharedClient} from '../../dist/share/index.js';
import {TabWorld} from '../support/tab-world.mjs';
import {reliableServer} from '../support/tab-world-reliable.mjs';

const URL = 'wss://app.example/feed';
const SEED = Number(process.env.TAB_WORLD_SEED ?? 19);

function newWorld(t, serverOptions = {}) {
  const world = new TabWorld({seed: SEED});
  t.diagnostic(`seed ${world.seed}`);
  const app = reliableServer(world, serverOptions);
  t.after(() => {
    app.stop();
    world.dispose();
  });
  return {world, app};
}

/** An element's client in `tab`, reliable and shared, connected; it records what it says. */
function insert(tab, name, options = {}) {
  const client = new SharedClient({url: URL, reliable: true, ...options}, tab.environment);
  const el = {client, tab, name, states: [], messages: [], errors: [], sent: []};
  el.toString = () => name;
  client.on('state', (detail) => el.states.push(detail));
  client.on('message', ({data}) => el.messages.push(data));
  client.on('error', (detail) => el.errors.push(detail));
  client.connect();
  return el;
}

/** `count` messages from `el`, named by it and numbered on from what it sent. */
function send(el, count) {
  for (let i = 0; i < count; i++) {
    const data = `${el.name}:${el.sent.length}`;
    assert.ok(el.client.send(data), `${el} accepts ${data}`);
    el.sent.push(data);
  }
}

/** A new world with three tabs of one element each; the first holds the socket. */
async function threeTabs(t, options = {}, serverOptions = {}) {
  const {world, app} = newWorld(t, serverOptions);
  const tabs = [world.tab({name: 'A'}), world.tab({name: 'B'}), world.tab({name: 'C'})];
  const els = [insert(tabs[0], 'A', options)];
  assert.ok(await world.runUntil(() => els[0].client.state === 'open', 5000), 'A open');
  els.push(insert(tabs[1], 'B', options), insert(tabs[2], 'C', options));
  assert.ok(
    await world.runUntil(() => els.every((el) => el.client.state === 'open'), 5000),
    'every element open',
  );
  await world.advance(500);
  assert.deepEqual(
    els.map((el) => el.client.leader),
    [true, false, false],
  );
  return {world, app, tabs, els};
}

/** What the server application received from `el`, in order. */
const from = (app, el) => app.messages.filter((data) => data.startsWith(`${el.name}:`));

/** Each of `els`' messages reached the application once, in order. */
function eachOnce(app, els) {
  for (const el of els) assert.deepEqual(from(app, el), el.sent, `what ${el} sent, once and in order`);
}

/** `push(count)` has the application send `count` numbered messages; `pushed` lists all it sent. */
function pusher(app) {
  const pushed = [];
  const push = (count) => {
    for (let i = 0; i < count; i++) {
      pushed.push(`s${pushed.length}`);
      app.send(pushed.at(-1));
    }
  };
  return {pushed, push};
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Until every element is open with nothing unacknowledged. The server half
 * acknowledges on Node's clock (10 ms after a message), not the world's: the
 * world moves on in steps, with a little real time between them.
 */
async function settled(world, els, within = 5000) {
  const done = () => els.every((el) => el.client.state === 'open' && el.client.queued === 0);
  for (let waited = 0; waited < within && !done(); waited += 20) {
    await world.advance(20);
    await sleep(12);
  }
  const ok = done();
  assert.ok(
    ok,
    `every element open with nothing unacknowledged: ${els.map((el) => `${el}=${el.client.state}/${el.client.queued}`)}`,
  );
}

const lostErrors = (el) => el.errors.filter(({kind}) => kind === 'session-lost');

describe('shared and reliable: the session outlives the holding tab', () => {
  before(async () => {
    // The protocol's code, loaded on first use, is here before any world runs.
    await loadLink();
  });

  it('keeps what followers sent until the server acknowledges it, and hands over with each message once, in order', async (t) => {
    const {world, app, tabs, els} = await threeTabs(t);
    const [, b, c] = els;
    for (const el of els) send(el, 3);
    await settled(world, els);
    eachOnce(app, els);

    // Written, not acknowledged: the followers keep them, and count them.
    app.holdAcks = true;
    for (const el of els) send(el, 5);
    await world.advance(50);
    assert.equal(from(app, b).length, 8, 'what B sent reached the server');
    assert.equal(b.client.queued, 5, 'B keeps what the server has not acknowledged');
    assert.equal(c.client.queued, 5);
    await tabs[0].close();
    app.holdAcks = false;
    for (const el of [b, c]) send(el, 4);
    await settled(world, [b, c]);
    eachOnce(app, els);
    assert.equal(app.sessions.length, 1, 'the next holder carried the session on');
    assert.ok(b.client.leader || c.client.leader);
    for (const el of [b, c]) {
      assert.deepEqual(lostErrors(el), []);
      assert.equal(el.states.filter(({state}) => state === 'open').at(-1).resumed, true, `${el}: resumed`);
    }
  });

  it('numbers on from the server’s mark what the last holder wrote and the server never got', async (t) => {
    const {world, app, tabs, els} = await threeTabs(t);
    const [a, b, c] = els;
    await settled(world, els);
    app.holdAcks = true;
    // A's own and the followers' messages are written; A is killed before they reach the server.
    send(a, 2);
    await world.advance(20);
    for (const el of [b, c]) send(el, 3);
    await world.runUntil(() => tabs[0].sockets.at(-1)?.sent.length >= 8, 100);
    await tabs[0].kill();
    app.holdAcks = false;
    for (const el of [b, c]) send(el, 2);
    await settled(world, [b, c]);
    eachOnce(app, [b, c]);
    assert.deepEqual(from(app, a), a.sent, 'A’s own, which reached the server before it was killed');
    assert.equal(app.sessions.length, 1);
  });

  it('replaces a hung holder without a duplicate, and the woken tab follows without closing', async (t) => {
    const {world, app, tabs, els} = await threeTabs(t);
    const [a, b, c] = els;
    // It hears that its lock was taken after its socket's close (the session resumed elsewhere).
    tabs[0].stealNotice = 5000;
    await settled(world, els);
    app.holdAcks = true;
    for (const el of els) send(el, 4);
    await world.advance(50);
    tabs[0].hang(30_000);
    app.holdAcks = false;
    for (const el of [b, c]) send(el, 3);
    assert.ok(await world.runUntil(() => b.client.leader || c.client.leader, 20_000), 'a follower took over');
    send(a, 2);
    await world.advance(31_000);
    await settled(world, els);
    eachOnce(app, els);
    assert.equal(app.sessions.length, 1);
    assert.ok(!a.client.leader, 'the woken tab follows');
    assert.ok(!a.states.some(({state}) => state === 'closed'), 'the woken tab’s element did not close');
  });

  it('dispatches what the server sends during a handover once in each tab, in order', async (t) => {
    const {world, app, tabs, els} = await threeTabs(t);
    const [, b, c] = els;
    await settled(world, els);
    const {pushed, push} = pusher(app);
    push(5);
    await world.advance(100);
    // B misses what A relays next (its channel drops it), so it resumes from an earlier mark
    // and the server replays to it what C had already.
    tabs[1].dropChannel = (data) => data?.k === 'msg';
    push(5);
    await world.advance(3);
    assert.equal(c.messages.length, 10, 'C had the five before the handover');
    await tabs[0].close();
    tabs[1].dropChannel = false;
    push(5);
    await world.advance(2000);
    await settled(world, [b, c]);
    push(3);
    await world.advance(500);
    for (const el of [b, c]) assert.deepEqual(el.messages, pushed, `${el}: each once, in order`);
    assert.equal(app.sessions.length, 1);
  });

  it('hands over from a page that enters the back/forward cache without ending the session', async (t) => {
    const {world, app, tabs, els} = await threeTabs(t);
    const [, b, c] = els;
    await settled(world, els);
    app.holdAcks = true;
    for (const el of els) send(el, 3);
    await world.advance(50);
    // The page stays, and its socket's last frames reach the server.
    await tabs[0].signal('pagehide');
    app.holdAcks = false;
    for (const el of [b, c]) send(el, 2);
    await settled(world, [b, c]);
    eachOnce(app, els);
    assert.equal(app.sessions.length, 1, 'one session, never ended');
    for (const el of [b, c]) assert.deepEqual(lostErrors(el), []);
  });

  it('resumes in a new holder that missed what the last one relayed and acknowledged', async (t) => {
    const {world, app, tabs, els} = await threeTabs(t);
    const [, b, c] = els;
    await settled(world, els);
    const {pushed, push} = pusher(app);
    push(3);
    await world.advance(100);
    // B's page drops what A relays; A acknowledges it all to the server before it goes.
    tabs[1].dropChannel = (data) => data?.k === 'msg';
    push(4);
    await world.advance(100);
    tabs[1].dropChannel = false;
    await tabs[0].close();
    push(3);
    await settled(world, [b, c]);
    await world.advance(500);
    assert.deepEqual(c.messages, pushed, 'C: each once, in order');
    assert.deepEqual(
      b.messages,
      [...pushed.slice(0, 3), ...pushed.slice(7)],
      'B: what its page did not drop',
    );
    assert.equal(app.sessions.length, 1);
  });

  it('does not send openMessages again on a resumed handover, and sends them on a new session', async (t) => {
    const {world, app} = newWorld(t);
    const tabs = [world.tab({name: 'A'}), world.tab({name: 'B'})];
    const a = insert(tabs[0], 'A', {openMessages: ['sub:A']});
    assert.ok(await world.runUntil(() => a.client.state === 'open', 5000));
    const b = insert(tabs[1], 'B', {openMessages: ['sub:B']});
    await settled(world, [a, b]);
    await world.advance(500);
    assert.deepEqual(app.messages, ['sub:A', 'sub:B']);
    await tabs[0].close();
    send(b, 2);
    await settled(world, [b]);
    assert.deepEqual(app.messages, ['sub:A', 'sub:B', 'B:0', 'B:1'], 'B’s subscription once');
    const opens = b.states.length;
    app.restart();
    assert.ok(await world.runUntil(() => b.states.slice(opens).some(({state}) => state === 'open'), 10_000));
    await settled(world, [b]);
    send(b, 1);
    await settled(world, [b]);
    assert.deepEqual(app.messages.slice(4), ['sub:B', 'B:2'], 'a new session starts with the subscription');
  });

  it('reports session-lost once per element, with its own messages the server may not have, when the resume is refused', async (t) => {
    const {world, app, tabs, els} = await threeTabs(t);
    const [, b, c] = els;
    await settled(world, els);
    app.holdAcks = true;
    for (const el of els) send(el, 3);
    await world.advance(50);
    const unacked = new Map(els.map((el) => [el, el.sent.slice(-3)]));
    await tabs[0].close();
    app.restart();
    app.holdAcks = false;
    await settled(world, [b, c]);
    for (const el of [b, c]) {
      assert.deepEqual(
        lostErrors(el).map(({data}) => data),
        [unacked.get(el)],
        `${el}: one session-lost with its messages`,
      );
      assert.equal(el.states.filter(({state}) => state === 'open').at(-1).resumed, false);
    }
    for (const el of [b, c]) send(el, 2);
    await settled(world, [b, c]);
    const second = app.sessions.at(-1).id;
    for (const el of [b, c]) {
      assert.deepEqual(
        app.received
          .filter((entry) => entry.session === second && entry.data.startsWith(`${el}:`))
          .map(({data}) => data),
        el.sent.slice(-2),
        `${el}: the new session has what it sent since, and not the lost ones`,
      );
    }
  });

  it('tells an element that joins the open session, in the holding tab or a following one, that it resumed nothing', async (t) => {
    const {world, tabs, els} = await threeTabs(t);
    await settled(world, els);
    const joiners = [insert(tabs[0], 'A2'), insert(tabs[1], 'B2'), insert(world.tab({name: 'D'}), 'D')];
    await settled(world, joiners);
    for (const el of joiners) {
      const opens = el.states.filter(({state}) => state === 'open');
      assert.deepEqual(
        opens.map(({resumed}) => resumed),
        [false],
        `${el}: one open, resumed false`,
      );
    }
  });

  it('writes on past the bound of unacknowledged messages as the server acknowledges, with no later send', async (t) => {
    const {world, app, els} = await threeTabs(t);
    const [a, b] = els;
    await settled(world, els);
    app.holdAcks = true;
    // More than the session's window of 1000 unacknowledged: the rest wait for acks.
    send(b, 700);
    send(a, 500);
    await world.advance(200);
    app.holdAcks = false;
    await settled(world, els, 20_000);
    eachOnce(app, els);
    for (const el of els) assert.deepEqual(el.errors, [], `${el}: no error`);
  });

  it('refuses a message larger than the server’s maxFrame to the element that sent it, and writes what comes after', async (t) => {
    const {world, app, els} = await threeTabs(t, {}, {maxFrame: 1024});
    const [a, b, c] = els;
    await settled(world, els);
    const big = (el) => `${el.name}!${'x'.repeat(2000)}`;
    for (const el of [a, b]) {
      assert.ok(el.client.send(big(el)), `${el} accepts it: it cannot know the server's bound`);
      send(el, 2);
    }
    send(c, 1);
    await settled(world, els);
    eachOnce(app, els);
    for (const el of [a, b]) {
      assert.deepEqual(
        el.errors.map(({kind, data}) => [kind, data]),
        [['send-failed', big(el)]],
        `${el}: one send-failed with its message`,
      );
    }
    assert.deepEqual(c.errors, [], 'C: no error');
  });

  it('reports session-lost in the holder’s own elements and the followers’ when the server restarts', async (t) => {
    const {world, app, els} = await threeTabs(t);
    await settled(world, els);
    app.holdAcks = true;
    for (const el of els) send(el, 2);
    await world.advance(50);
    app.restart();
    app.holdAcks = false;
    await settled(world, els);
    for (const el of els) {
      assert.deepEqual(
        lostErrors(el).map(({data}) => data),
        [el.sent.slice(-2)],
        `${el}: one session-lost with its two messages`,
      );
    }
  });
});
