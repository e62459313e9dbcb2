// Issue 18's cases, in the multi-tab world: `SharedClient`s (what
// `<ws-connection shared>` uses) driven as tabs use them, checked only by what
// the contract lets anyone observe: states, events, `leader`, `attempt`, and
// what the server receives and how many sockets it sees. Case 9 is the
// engine's, tested with it. TAB_WORLD_SEED picks the seed (printed per test).
import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {SharedClient} from '../../dist/share/index.js';
import {junkFamilies} from '../support/junk.mjs';
import {TabWorld} from '../support/tab-world.mjs';

const URL = 'wss://app.example/feed';
const SEED = Number(process.env.TAB_WORLD_SEED ?? 18);

function newWorld(t, options = {}) {
  const world = new TabWorld({seed: SEED, ...options});
  t.diagnostic(`seed ${world.seed}`);
  t.after(() => world.dispose());
  return world;
}

/** Elements inserted per tab, to name them `tab1.1`, `tab1.2`… */
const inserted = new WeakMap();

/**
 * An element's client in `tab`, inserted: made and connected, as
 * `<ws-connection shared>` does on insertion. Records what it says.
 */
function insert(tab, options = {}) {
  const client = new SharedClient({url: URL, ...options}, tab.environment);
  const now = () => tab.world.now;
  const el = {client, tab, states: [], messages: [], errors: [], leaders: []};
  const label = `${tab.name}.${(inserted.get(tab) ?? 0) + 1}`;
  inserted.set(tab, (inserted.get(tab) ?? 0) + 1);
  el.toString = () => label;
  client.on('state', (detail) => el.states.push({...detail, at: now()}));
  client.on('message', ({data}) => el.messages.push(data));
  client.on('error', (detail) => el.errors.push({...detail, at: now()}));
  client.on('leader', ({leader}) => el.leaders.push({leader, at: now()}));
  client.connect();
  return el;
}

const isOpen = (el) => el.client.state === 'open';

async function allOpen(world, els, within = 5000) {
  const ok = await world.runUntil(() => els.every(isOpen), within);
  assert.ok(ok, `every element open within ${within} ms: ${states(els)}`);
}

/**
 * Tabs with elements (`spec`: per tab, the options of each element), the
 * first tab's inserted and open before the others join, so that it holds the
 * socket. Returns the tabs and, per tab, its elements.
 */
async function openTabs(world, spec) {
  const tabs = spec.map(() => world.tab());
  const byTab = [spec[0].map((options) => insert(tabs[0], options))];
  await allOpen(world, byTab[0]);
  for (let i = 1; i < spec.length; i++) byTab.push(spec[i].map((options) => insert(tabs[i], options)));
  const els = byTab.flat();
  await allOpen(world, els);
  await world.advance(1000);
  assert.deepEqual(holders(els), byTab[0].map(String), 'the first tab holds the socket');
  return {tabs, byTab, els};
}

const states = (els) => els.map((el) => `${el}=${el.client.state}`).join(', ');

/** What each element recorded since `mark` (from `marks(els)`). */
function marks(els) {
  return els.map((el) => ({
    states: el.states.length,
    messages: el.messages.length,
    errors: el.errors.length,
    leaders: el.leaders.length,
  }));
}

function since(els, mark, key) {
  return els.flatMap((el, i) => el[key].slice(mark[i][key]).map((entry) => `${el}: ${show(entry)}`));
}

function show(entry) {
  if (entry && typeof entry === 'object' && 'state' in entry)
    return `${entry.previousState}→${entry.state} at ${entry.at}${entry.code ? ` (${entry.code})` : ''}`;
  if (entry && typeof entry === 'object' && 'kind' in entry) return `${entry.kind}: ${entry.message}`;
  const text = typeof entry === 'string' ? entry : JSON.stringify(entry);
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

function connections(world, most = 8) {
  const all = world.server.connections;
  const more = all.length > most ? `; … ${all.length - most} more` : '';
  return (
    all
      .slice(0, most)
      .map(
        (conn) =>
          `#${conn.id} ${conn.tab} made ${conn.createdAt}` +
          (conn.openedAt === undefined ? '' : ` open ${conn.openedAt}`) +
          (conn.closedAt === undefined ? '' : ` closed ${conn.closedAt} by ${conn.closedBy} ${conn.code}`),
      )
      .join('; ') + more || 'none'
  );
}

/** Messages (not pings) that connection `conn` received, as data. */
function receivedOn(world, conn) {
  return conn.received.map(({data}) => data).filter((data) => data !== world.server.ping);
}

function holders(els) {
  return els.filter((el) => el.client.leader).map(String);
}

function noErrorsThrown(world) {
  assert.deepEqual(
    world.errors.map(({tab, error}) => `${tab}: ${error?.message ?? error}`),
    [],
    'nothing threw in any tab',
  );
}

describe('issue 18 in the multi-tab world', () => {
  // Timeouts no longer than the wake-up period, where judging the holder by
  // the followers' own late timers (rather than by its answers) fails.
  for (const {align, timeout, run} of [
    {align: 5000, timeout: 5000, run: 65_000},
    {align: 60_000, timeout: 10_000, run: 300_000},
  ]) {
    it(`case 1: three tabs whose timers wake every ${align / 1000} s (timeout ${timeout / 1000} s) keep one holder and one open socket`, async (t) => {
      const world = newWorld(t);
      const tabs = [world.tab(), world.tab(), world.tab()];
      const els = tabs.map((tab) => insert(tab, {timeout}));
      await allOpen(world, els);
      await world.advance(2000);
      const holding = holders(els);
      const mark = marks(els);
      for (const tab of tabs) tab.throttle(align);
      await world.advance(run);
      assert.equal(
        world.server.attempts,
        1,
        `one socket all along, no handover, no reconnect, in ${run / 1000} s; connections: ${connections(world)}`,
      );
      assert.deepEqual(since(els, mark, 'states'), [], 'no element changed state');
      assert.deepEqual(since(els, mark, 'leaders'), [], 'no handover, not even for a moment');
      assert.deepEqual(holders(els), holding, 'the same tab holds the socket');
      assert.equal(world.server.connections[0].closedAt, undefined, 'the socket is still open');
      assert.equal(world.server.peakLive, 1);
      noErrorsThrown(world);
    });
  }

  it('case 2: a well-formed beat from a stranger with a term far in the future pins nothing and takes nothing over', async (t) => {
    const world = newWorld(t);
    const {els} = await openTabs(world, [[{}], [{}], [{}]]);
    const holding = holders(els);
    const mark = marks(els);
    const snap = {state: 'open', attempt: 0, timeout: 10_000};
    for (const name of world.channelNames()) {
      for (const term of [1e300, Date.now() + 1e9, world.now + 1e12]) {
        world.postRaw(name, {k: 'beat', term, from: 'stranger', snap, finals: 0});
      }
    }
    await world.advance(60_000);
    assert.deepEqual(since(els, mark, 'states'), [], 'no element changed state');
    assert.deepEqual(since(els, mark, 'leaders'), [], 'no handover');
    assert.equal(world.server.attempts, 1, `no new socket: ${connections(world)}`);
    assert.deepEqual(holders(els), holding);
    await flowsBothWays(world, els, 'after the stranger');
  });

  it('case 2: well-formed words from a tab not taking part, even under the current term, move nothing', async (t) => {
    const world = newWorld(t);
    const {tabs, els} = await openTabs(world, [[{}], [{}], [{}]]);
    const holding = holders(els);
    const [name] = world.channelNames();
    // What the holder says, heard as any code of the origin can hear it.
    let beat;
    const ear = tabs[2].environment.channel(name);
    ear.onmessage = ({data}) => (beat ??= data?.k === 'beat' ? data : undefined);
    await world.advance(2000);
    ear.close();
    assert.ok(beat, 'heard a beat');
    const mark = marks(els);
    const closed = {state: 'closed', attempt: 0, timeout: 10_000};
    const change = {state: 'closed', previousState: 'open', attempt: 0, code: 1008, reason: 'forged'};
    const final = {attempt: 0, at: Date.now(), code: 1008, reason: 'forged'};
    for (const message of [
      {k: 'join', tab: 'stranger', n: 1, member: 1, open: ['stranger sub'], members: [1]},
      {k: 'cmd', tab: 'stranger', op: 'reconnect'},
      {k: 'send', tab: 'stranger', to: beat.term, member: 1, seq: 1, low: 1, payload: 'stranger says'},
      {k: 'state', term: beat.term, from: 'stranger', snap: closed, finals: 1, final, change},
      {k: 'state', term: beat.term + 1, from: 'stranger', snap: closed, finals: 1, final, change},
      {...beat, from: 'stranger', snap: closed, finals: 1, final},
    ]) {
      world.postRaw(name, message);
    }
    await world.advance(30_000);
    assert.deepEqual(since(els, mark, 'states'), [], 'no element changed state');
    assert.equal(world.server.attempts, 1, `no reconnect: ${connections(world)}`);
    for (const junk of ['stranger sub', 'stranger says']) {
      assert.ok(!world.server.messages().includes(junk), `the server never got "${junk}"`);
    }
    assert.deepEqual(holders(els), holding);
    await flowsBothWays(world, els, 'after the stranger');
  });

  it('case 2: junk on the channel closes nothing, stalls nothing, takes nothing over, and reaches no element', async (t) => {
    const world = newWorld(t);
    const {
      tabs: [, b],
      els,
    } = await openTabs(world, [
      [{openMessages: ['sub a1']}, {openMessages: ['sub a2']}],
      [{openMessages: ['sub b1']}],
      [{openMessages: ['sub c1']}],
    ]);
    // Who takes part, as heard on the channel: messages valid but for one field come in their names.
    const heard = {};
    b.dropChannel = (data) => {
      if (data?.k === 'beat') Object.assign(heard, {holder: data.from, term: data.term});
      if (data?.k === 'ack') heard.follower = data.to;
      return false;
    };
    els[2].client.send('b says');
    await world.advance(2000);
    b.dropChannel = false;
    assert.ok(heard.holder && heard.follower, `heard the holder and a follower: ${JSON.stringify(heard)}`);
    const holding = holders(els);
    const mark = marks(els);
    const attempts = world.server.attempts;
    const names = world.channelNames();
    assert.ok(names.length > 0, 'the tabs talk on a channel');
    const junk = Object.values(junkFamilies(world.epochStart + world.now, heard)).flat();
    for (const name of names) for (const message of junk) world.postRaw(name, message);
    await world.advance(30_000);

    assert.deepEqual(
      since(els, mark, 'states'),
      [],
      'no element changed state (nothing closed or took over)',
    );
    assert.deepEqual(since(els, mark, 'messages'), [], 'no element got a message from the junk');
    assert.deepEqual(since(els, mark, 'errors'), [], 'no element got an error from the junk');
    assert.equal(world.server.attempts, attempts, `no new socket; connections: ${connections(world)}`);
    assert.deepEqual(since(els, mark, 'leaders'), [], 'no handover, not even for a moment');
    assert.deepEqual(holders(els), holding, 'the same tab holds the socket');
    noErrorsThrown(world);
    await flowsBothWays(world, els, 'after junk');

    // A later open still works: `{k: 'join', open: 5}` broke every one before.
    world.server.closeAll(4001, 'restart');
    await world.advance(100);
    await allOpen(world, els, 5000);
    await world.advance(100);
    const reopened = world.server.connections.at(-1);
    for (const sub of ['sub a1', 'sub a2', 'sub b1', 'sub c1']) {
      assert.equal(
        receivedOn(world, reopened).filter((data) => data === sub).length,
        1,
        `${sub} sent once on the next open`,
      );
    }
    await flowsBothWays(world, els, 'after the reopen');
    noErrorsThrown(world);
  });

  it('case 3: an element that joins an open socket in the holding page has its openMessages sent at once, before what it sends', async (t) => {
    const world = newWorld(t);
    const {
      tabs: [a],
      els,
    } = await openTabs(world, [[{openMessages: ['sub a1']}], [{openMessages: ['sub b1']}]]);
    const conn = world.server.connections.at(-1);
    const joined = insert(a, {openMessages: ['sub a2']});
    joined.client.send('a2 first');
    await world.advance(50);
    assert.ok(
      receivedOn(world, conn).includes('sub a2'),
      `the joiner's openMessages reached the open socket within 50 ms: ${receivedOn(world, conn)}`,
    );
    await world.advance(1000);
    const received = receivedOn(world, conn);
    assert.ok(
      received.indexOf('sub a2') < received.indexOf('a2 first'),
      `its openMessages went before what it sent: ${received}`,
    );
    await everyOpenSendsAll(world, [...els, joined], ['sub a1', 'sub a2', 'sub b1']);
  });

  it('case 3: an element that joins an open socket in a following tab has its openMessages sent at once, before what it sends', async (t) => {
    const world = newWorld(t);
    const {
      tabs: [, b],
      els,
    } = await openTabs(world, [[{openMessages: ['sub a1']}], [{openMessages: ['sub b1']}]]);
    const conn = world.server.connections.at(-1);
    const joined = insert(b, {openMessages: ['sub b2']});
    joined.client.send('b2 first');
    await world.advance(50);
    assert.ok(
      receivedOn(world, conn).includes('sub b2'),
      `the joiner's openMessages reached the open socket within 50 ms: ${receivedOn(world, conn)}`,
    );
    await world.advance(1000);
    const received = receivedOn(world, conn);
    assert.ok(
      received.indexOf('sub b2') < received.indexOf('b2 first'),
      `its openMessages went before what it sent: ${received}`,
    );
    // A new tab joining is covered too.
    const c = world.tab();
    const newcomer = insert(c, {openMessages: ['sub c1']});
    newcomer.client.send('c1 first');
    await world.advance(50);
    assert.ok(
      receivedOn(world, conn).includes('sub c1'),
      `a new tab's openMessages reached the open socket within 50 ms: ${receivedOn(world, conn)}`,
    );
    await world.advance(1000);
    const later = receivedOn(world, conn);
    assert.ok(
      later.indexOf('sub c1') < later.indexOf('c1 first'),
      `a new tab's openMessages went before what it sent: ${later}`,
    );
    await everyOpenSendsAll(world, [...els, joined, newcomer], ['sub a1', 'sub b1', 'sub b2', 'sub c1']);
  });

  it('case 4: insertions in four tabs while the server refuses do not restart the retry schedule', async (t) => {
    const options = {randomRange: [0.48, 0.52]};
    const alone = newWorld(t, options);
    alone.server.mode = 'refuse';
    insert(alone.tab());
    await alone.advance(10_000);
    const baseline = alone.server.attempts;

    const world = newWorld(t, options);
    world.server.mode = 'refuse';
    const tabs = [world.tab(), world.tab(), world.tab(), world.tab()];
    for (let i = 0; i < 10; i++) {
      insert(tabs[i % 4]);
      await world.advance(1000);
    }
    const attempts = world.server.connections.filter((conn) => conn.createdAt < 10_000).length;
    t.diagnostic(`attempts in 10 s: ${attempts} shared, ${baseline} for one element alone`);
    assert.ok(
      attempts <= 1.2 * baseline,
      `attempts in 10 s with an insertion every second: ${attempts}, more than 1.2 × ${baseline} (one element alone)`,
    );
  });

  it('case 4: max-retries still runs out for every element while elements keep joining', async (t) => {
    const world = newWorld(t, {randomRange: [0.48, 0.52]});
    world.server.mode = 'refuse';
    const tabs = [world.tab(), world.tab(), world.tab(), world.tab()];
    const els = [];
    // With retries 0.5, 1.5, 3.5 and 7.5 s in, the budget of 4 runs out at about 7.5 s.
    for (let i = 0; i < 7; i++) {
      els.push(insert(tabs[i % 4], {maxRetries: 4}));
      await world.advance(1000);
    }
    await world.advance(4000);
    assert.deepEqual(
      els.filter((el) => el.client.state !== 'closed').map((el) => `${el}=${el.client.state}`),
      [],
      `every element closed 11 s in: the budget of 4 retries ran out; connections: ${connections(world)}`,
    );
    for (const el of els) {
      assert.equal(
        el.errors.filter(({kind}) => kind === 'retries-exhausted').length,
        1,
        `${el}: retries-exhausted`,
      );
    }
    assert.equal(world.server.attempts, 5, 'one attempt and four retries');
  });

  it('case 5: a sandboxed frame, whose locks refuse, shares within its page and opens', async (t) => {
    const world = newWorld(t);
    const frame = world.tab({sandboxed: true});
    const els = [insert(frame), insert(frame)];
    const opened = await world.runUntil(() => els.every(isOpen), 2000);
    assert.ok(opened, `both elements open within 2 s: ${states(els)}`);
    assert.equal(world.server.attempts, 1, 'one socket for the page');
    assert.deepEqual(holders(els), els.map(String), 'the page holds its socket');
    await world.advance(30_000);
    assert.deepEqual(
      world.unhandled.map(({tab, reason}) => `${tab}: ${reason}`),
      [],
      'no unhandled rejection',
    );
    assert.ok(els.every(isOpen), `still open: ${states(els)}`);
    assert.equal(world.server.attempts, 1);
    noErrorsThrown(world);
  });

  for (const where of ['the holding page', 'a following tab']) {
    it(`case 6: connect() in the closed listener after stop code 1008, in ${where} with two elements, reopens that element only`, async (t) => {
      const world = newWorld(t);
      const {els} = await openTabs(world, [
        [{}, {}],
        [{}, {}],
      ]);
      const [again, other] = where === 'the holding page' ? [els[0], els[1]] : [els[2], els[3]];
      const thrown = [];
      again.client.on('state', ({state, code}) => {
        if (state !== 'closed' || code !== 1008) return;
        try {
          again.client.connect();
        } catch (error) {
          thrown.push(error.message);
        }
      });
      const stoppedAt = world.now;
      world.server.closeAll(1008, 'policy');
      await world.advance(3000);
      assert.deepEqual(thrown, [], 'connect() inside the closed listener does not throw');
      noErrorsThrown(world);
      assert.equal(
        again.client.state,
        'open',
        `the element that called connect() is open again: ${states(els)}`,
      );
      for (const el of els.filter((el) => el !== again)) {
        assert.equal(
          el.client.state,
          'closed',
          `${el} stays closed, as the stop code left it${el === other ? ' (same page)' : ''}`,
        );
      }
      const reopened = world.server.connections.filter((conn) => conn.createdAt >= stoppedAt);
      assert.equal(reopened.length, 1, `one new socket: ${connections(world)}`);
      assert.equal(world.server.live, 1);
    });
  }

  it('case 7: a message a follower relays while the holder is paused reaches the server within a beat after it runs again', async (t) => {
    const world = newWorld(t);
    const {
      tabs: [a],
      els,
    } = await openTabs(world, [[{}], [{}]]);
    const timeout = els[0].client.options.timeout;
    a.pause(timeout / 2);
    const resumesAt = world.now + timeout / 2;
    await world.advance(1000);
    assert.equal(els[1].client.send('while paused'), true);
    await world.advance(resumesAt - world.now);
    const arrived = await world.runUntil(() => world.server.messages().includes('while paused'), 1000);
    assert.ok(
      arrived,
      `the message arrived within 1 s after the holder ran again; the server has: ${world.server.messages().join(', ') || 'nothing'}`,
    );
    await world.advance(10_000);
    assert.equal(world.server.messages().filter((data) => data === 'while paused').length, 1, 'once');
    assert.equal(world.server.attempts, 1, `no takeover: ${connections(world)}`);
  });

  it('case 1: a follower paused while its probe waited asks again when it runs, and the holder keeps the socket', async (t) => {
    const world = newWorld(t);
    const {
      tabs: [a, b],
      els,
    } = await openTabs(world, [[{}], [{}]]);
    const timeout = els[0].client.options.timeout;
    // A background holder beats once a minute, and answers a little late.
    a.throttle(60_000);
    a.channelDelay = 50;
    const posted = b.posts;
    const probed = await world.runUntil(() => b.posts > posted, 5000);
    assert.ok(probed, 'the follower asked the quiet holder');
    // Paused before the answer comes: its channel drops it, and its deadline runs late.
    b.pause(timeout + 3000);
    await world.advance(timeout + 3000 + 5000);
    assert.equal(world.server.attempts, 1, `no takeover: ${connections(world)}`);
    assert.deepEqual(holders(els), [String(els[0])]);
    assert.ok(els.every(isOpen), states(els));
  });

  it('a handover between tabs says connecting, then open, and never idle', async (t) => {
    const world = newWorld(t);
    const {
      tabs: [a],
      byTab: [, ...rest],
    } = await openTabs(world, [[{}], [{}], [{}]]);
    const others = rest.flat();
    const mark = marks(others);
    await a.close();
    await world.advance(2000);
    await allOpen(world, others);
    const seen = since(others, mark, 'states').map((line) => line.replace(/ at .*/, ''));
    assert.ok(seen.length > 0, 'the followers saw the handover');
    assert.ok(
      seen.every((line) => !/\bidle\b/.test(line)),
      `no follower went idle on the way: ${seen.join('; ')}`,
    );
  });

  it('a holder whose lock goes as the next document commits, before its pagehide closes its socket: the next waits for its word, and two are never open', async (t) => {
    const world = newWorld(t);
    const {
      tabs: [a],
      byTab: [, rest],
    } = await openTabs(world, [[{}], [{}]]);
    // Navigating away: the lock manager lets the old document's locks go when the next one
    // commits; its pagehide, which closes the socket and says bye, runs a little later.
    const from = world.now;
    world.locks.forget(a);
    await world.advance(60);
    await a.close();
    assert.ok(
      await world.runUntil(
        () => world.server.openConnections.length === 1 && world.server.connections.length === 2,
        2000,
      ),
      'the next holder opened',
    );
    await allOpen(world, rest);
    assert.equal(world.server.peak({open: true}), 1, 'never two sockets open');
    const reopened = world.server.connections.at(-1).openedAt - from;
    assert.ok(
      reopened >= 60 && reopened < 60 + 100,
      `opened once the socket was let go, ${reopened} ms after the lock`,
    );
  });

  it('a tab that joined and heard no beat yet also waits for that word, when the lock it waited in line for comes to it', async (t) => {
    const world = newWorld(t);
    const a = world.tab();
    const first = insert(a);
    await allOpen(world, [first]);
    // The newcomer hears nothing of the holder yet (a background holder's beats wait for its
    // wake-ups) but its last word.
    const b = world.tab();
    b.dropChannel = (data) => data?.k !== 'bye';
    const joined = insert(b);
    await world.advance(300);
    const from = world.now;
    world.locks.forget(a);
    await world.advance(60);
    await a.close();
    b.dropChannel = false;
    assert.ok(
      await world.runUntil(() => world.server.connections.length === 2, 2000),
      'the next holder opened',
    );
    await allOpen(world, [joined]);
    assert.equal(world.server.peak({open: true}), 1, 'never two sockets open');
    const reopened = world.server.connections.at(-1).openedAt - from;
    assert.ok(reopened >= 60, `opened ${reopened} ms after the lock, once the socket was let go`);
  });

  it('a holder killed outright, which says nothing, is replaced a quarter of a second after its lock goes', async (t) => {
    const world = newWorld(t);
    const {
      tabs: [a],
      byTab: [, rest],
    } = await openTabs(world, [[{}], [{}]]);
    const from = world.now;
    await a.kill();
    assert.ok(
      await world.runUntil(() => world.server.connections.length === 2, 2000),
      'the next holder opened',
    );
    await allOpen(world, rest);
    const reopened = world.server.connections.at(-1).openedAt - from;
    assert.ok(reopened >= 250 && reopened < 250 + 100, `opened ${reopened} ms after the lock went`);
  });

  it("two followers that take a hung holder's lock at the same moment, the first hearing late that it lost it, make one socket", async (t) => {
    // No spread in the probes' deadlines: both followers give up on the holder at once.
    const world = newWorld(t, {randomRange: [0, 0]});
    const {
      tabs: [a, b, c],
      byTab: [, bs, cs],
    } = await openTabs(world, [[{timeout: 1000}], [{timeout: 1000}], [{timeout: 1000}]]);
    const before = world.server.connections.length;
    // The lock manager tells the first that the second took the lock from it only after its settle.
    b.stealNotice = c.stealNotice = 200;
    a.hang(60_000);
    await world.advance(4000);
    const stealers = new Set(world.locks.steals.map(({tab}) => tab));
    assert.ok(stealers.has(b.name) && stealers.has(c.name), `both took the lock: ${stealers.size}`);
    assert.equal(world.server.connections.length - before, 1, `one socket made: ${connections(world)}`);
    await allOpen(world, [...bs, ...cs]);
    assert.equal(holders([...bs, ...cs]).length, 1, 'one holder');
  });

  it('a hung holder that runs again writes nothing on its old socket before it knows whether it still holds the lock', async (t) => {
    const world = newWorld(t, {randomRange: [0, 0]});
    const {
      tabs: [a, b],
      byTab: [[el], bs],
    } = await openTabs(world, [[{timeout: 1000}], [{timeout: 1000}]]);
    const old = world.server.connections.at(-1);
    // Its element sends as the page runs again, before the lock manager's word that the lock was taken.
    a.hang(4000);
    a.environment.setTimeout(() => el.client.send('after the hang'), 0);
    assert.ok(
      await world.runUntil(() => world.server.connections.at(-1) !== old, 3000),
      'the follower took over with a socket of its own',
    );
    const next = world.server.connections.at(-1);
    assert.equal(next.tab, b.name);
    await world.advance(4000);
    await allOpen(world, [el]);
    const got = world.server.received.filter(({data}) => data === 'after the hang');
    assert.deepEqual(
      got.map(({conn}) => conn),
      [next.id],
      'once, on the new holder’s socket: two sockets cannot keep one element’s order',
    );
    assert.deepEqual(holders([el, ...bs]), bs.map(String), 'the hung tab follows');
  });

  it("a follower that has just joined judges a holder hung at once by the holder's timeout, not by the one it assumed before it knew the holder", async (t) => {
    const world = newWorld(t, {randomRange: [0, 0]});
    const a = world.tab();
    const as = [insert(a, {timeout: 1000})];
    await allOpen(world, as);
    // Its own element's timeout is longer: the holder's counts once it is known.
    const b = world.tab();
    const bs = [insert(b, {timeout: 5000})];
    await allOpen(world, bs);
    const hungAt = world.now;
    a.hang(60_000);
    assert.ok(await world.runUntil(() => world.locks.steals.length > 0, 5000), 'the follower took the lock');
    // A missed beat (312 ms after the last one), then the timeout counted from the probe.
    const took = world.locks.steals[0].at - hungAt;
    assert.ok(took <= 1400, `taken over ${took} ms after the holder hung, within probe delay + timeout`);
    await allOpen(world, bs);
  });

  it("a tab that opens while the holder is hung takes over after its own element's timeout, not after 10 s", async (t) => {
    const world = newWorld(t, {randomRange: [0, 0]});
    const a = world.tab();
    await allOpen(world, [insert(a, {timeout: 1000})]);
    await world.advance(1000);
    a.hang(60_000);
    const b = world.tab();
    const openedAt = world.now;
    const bs = [insert(b, {timeout: 1000})];
    assert.ok(await world.runUntil(() => world.locks.steals.length > 0, 12_000), 'the new tab took the lock');
    const took = world.locks.steals[0].at - openedAt;
    assert.ok(took <= 1400, `taken over ${took} ms after the tab opened, within its timeout`);
    await allOpen(world, bs);
  });

  it('a follower whose probe went to a hung holder does not take the lock from the follower that took over meanwhile', async (t) => {
    const world = newWorld(t);
    const {
      tabs: [a, b, c],
      byTab: [, bs, cs],
    } = await openTabs(world, [[{timeout: 1000}], [{timeout: 1000}], [{timeout: 1000}]]);
    const before = world.server.connections.length;
    // Neither follower hears the other until shortly after the first has taken over, so the
    // second's deadline comes before the new holder's word.
    const deaf = (tab, other) => (tab.dropChannel = (_data, {from}) => from === other.name);
    deaf(b, c);
    deaf(c, b);
    a.hang(60_000);
    assert.ok(await world.runUntil(() => world.locks.steals.length > 0, 3000), 'a follower took the lock');
    await world.advance(300);
    b.dropChannel = c.dropChannel = false;
    await world.advance(3000);
    assert.equal(world.locks.steals.length, 1, `one steal: ${world.locks.steals.map(({tab}) => tab)}`);
    assert.equal(world.server.connections.length - before, 1, `one socket made: ${connections(world)}`);
    await allOpen(world, [...bs, ...cs]);
  });

  for (const holderCloses of [false, true]) {
    it(`case 8: a follower paused while stop code 1008 came stays closed and opens no socket when it runs again${holderCloses ? ', also after the holder tab closes' : ''}`, async (t) => {
      const world = newWorld(t);
      const {
        tabs: [a, b],
        els,
      } = await openTabs(world, [[{}], [{}]]);
      const follower = els[1];
      b.pause(3000);
      const resumesAt = world.now + 3000;
      await world.advance(500);
      world.server.closeAll(1008, 'policy');
      const stoppedAt = world.now;
      await world.advance(resumesAt + 2000 - world.now);
      assert.equal(
        follower.client.state,
        'closed',
        `the paused follower's element is closed 2 s after it runs again: ${states(els)}`,
      );
      const closed = follower.states.filter(({state}) => state === 'closed');
      assert.equal(closed.at(-1)?.code, 1008, 'its closed says the stop code');
      assert.ok(
        !follower.states.some(({state, at}) => at >= stoppedAt && state !== 'closed'),
        `nothing but closed after the stop code: ${follower.states.map(show)}`,
      );
      if (holderCloses) await a.close();
      await world.advance(30_000);
      const after = world.server.connections.filter((conn) => conn.createdAt >= stoppedAt);
      assert.deepEqual(
        after.map((conn) => conn.tab),
        [],
        `no socket opened after the stop code: ${connections(world)}`,
      );
      assert.ok(
        els.every((el) => el.client.state === 'closed'),
        states(els),
      );
    });
  }

  for (const missing of ['locks', 'channel']) {
    it(`case 10: a page-only holder (no ${missing === 'locks' ? 'Web Locks' : 'BroadcastChannel'}) posts nothing and keeps no timer of its own`, async (t) => {
      const world = newWorld(t);
      const tab = world.tab({[missing]: false});
      const el = insert(tab, {heartbeatInterval: 0});
      await allOpen(world, [el]);
      await world.advance(10_000);
      assert.equal(tab.posts, 0, 'nothing posted');
      assert.equal(tab.timers, 0, 'no timer pending once open and stable, with heartbeats off');
    });
  }

  it('case 10: with timeout 1000, a holder whose channel is 200 ms slow keeps the socket', async (t) => {
    const world = newWorld(t);
    const {
      tabs: [a],
      els,
    } = await openTabs(world, [[{timeout: 1000}], [{timeout: 1000}]]);
    const mark = marks(els);
    a.channelDelay = 200;
    await world.advance(30_000);
    assert.equal(world.server.attempts, 1, `no takeover: ${connections(world)}`);
    assert.deepEqual(since(els, mark, 'states'), [], 'no element changed state');
    assert.deepEqual(since(els, mark, 'leaders'), [], 'no handover');
  });

  for (const signal of ['visible', 'online', 'pageshow']) {
    it(`case 10: '${signal}' in a following tab makes the shared socket probe at once`, async (t) => {
      const world = newWorld(t);
      const {
        tabs: [, b],
      } = await openTabs(world, [[{}], [{}]]);
      await world.advance(4000);
      if (signal === 'pageshow') {
        // Back from the back/forward cache: it left first.
        await b.signal('pagehide');
        await world.advance(1000);
      }
      const pings = world.server.messages({pings: true}).filter((data) => data === 'ping').length;
      await b.signal(signal);
      const probed = await world.runUntil(
        () => world.server.messages({pings: true}).filter((data) => data === 'ping').length > pings,
        100,
      );
      assert.ok(probed, `the server got a ping within 100 ms of '${signal}' in the following tab`);
    });
  }

  it('case 10: the shared closed after exhausted retries reports attempt equal to the retries made', async (t) => {
    const world = newWorld(t);
    world.server.mode = 'refuse';
    const [a, b] = [world.tab(), world.tab()];
    const els = [insert(a, {maxRetries: 2}), insert(b, {maxRetries: 2})];
    await world.advance(20_000);
    assert.ok(
      els.every((el) => el.client.state === 'closed'),
      states(els),
    );
    const retries = world.server.attempts - 1;
    for (const el of els) {
      const closed = el.states.find(({state}) => state === 'closed');
      assert.equal(closed.attempt, 2, `${el}: the closed state's attempt is the ${retries} retries made`);
      assert.equal(el.client.attempt, 2, `${el}: attempt stays ${retries}`);
    }
    assert.equal(retries, 2);
  });

  it('case 10: clients with a urlProvider, no url and a bare share get invalid-url and open no socket', async (t) => {
    const world = newWorld(t);
    const [a, b] = [world.tab(), world.tab()];
    const els = [
      insert(a, {url: undefined, urlProvider: () => 'wss://one.example/feed', share: ''}),
      insert(a, {url: undefined, urlProvider: () => 'wss://two.example/feed', share: ''}),
      insert(b, {url: undefined, urlProvider: () => 'wss://three.example/feed', share: ''}),
    ];
    await world.advance(5000);
    for (const el of els) {
      assert.ok(
        el.errors.some(({kind}) => kind === 'invalid-url'),
        `${el} says it needs a share name (ws-error invalid-url); it got: ${el.errors.map(show).join(', ') || 'no error'}`,
      );
    }
    assert.equal(world.server.attempts, 0, `no socket: ${connections(world)}`);
    // With a name, a urlProvider shares as it should.
    const named = [
      insert(a, {url: undefined, urlProvider: () => 'wss://one.example/feed?token=1', share: 'feed'}),
      insert(b, {url: undefined, urlProvider: () => 'wss://one.example/feed?token=2', share: 'feed'}),
    ];
    await allOpen(world, named);
    assert.equal(world.server.attempts, 1);
  });

  it('case 10: the openMessages of a tab killed without pagehide are not sent on later opens', async (t) => {
    const world = newWorld(t);
    const {
      tabs: [, , c],
      els,
    } = await openTabs(world, [
      [{openMessages: ['sub a1']}],
      [{openMessages: ['sub b1']}],
      [{openMessages: ['sub c1']}],
    ]);
    await c.kill();
    await world.advance(15_000);
    world.server.closeAll(4001, 'restart');
    await world.advance(100);
    await allOpen(world, els.slice(0, 2));
    await world.advance(100);
    const reopened = receivedOn(world, world.server.connections.at(-1));
    assert.ok(
      !reopened.includes('sub c1'),
      `the killed tab's openMessages are dropped: the new socket got ${reopened}`,
    );
    assert.ok(
      reopened.includes('sub a1') && reopened.includes('sub b1'),
      `the others' are sent: ${reopened}`,
    );
  });
});

/** Every element can send, and hears what the server pushes. */
async function flowsBothWays(world, els, when) {
  const mark = marks(els);
  els.forEach((el, i) => el.client.send(`${when} ${i}`));
  world.server.push(`${when} push`);
  await world.advance(2000);
  const received = world.server.messages();
  for (const [i, el] of els.entries()) {
    assert.ok(received.includes(`${when} ${i}`), `${when}: the server got what ${el} sent`);
  }
  assert.deepEqual(
    since(els, mark, 'messages'),
    els.map((el) => `${el}: ${when} push`),
    `${when}: every element heard the push`,
  );
}

/** The next open sends the openMessages of every element present, each once, before anything else. */
async function everyOpenSendsAll(world, els, subs) {
  world.server.closeAll(4001, 'restart');
  await world.advance(100);
  await allOpen(world, els);
  await world.advance(100);
  const received = receivedOn(world, world.server.connections.at(-1));
  assert.deepEqual(
    [...received.slice(0, subs.length)].sort(),
    [...subs].sort(),
    `the next open sends every element's openMessages first: ${received}`,
  );
  for (const sub of subs) assert.equal(received.filter((data) => data === sub).length, 1, `${sub} once`);
}
