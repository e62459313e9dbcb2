// `<ws-connection shared>` in real Chromium tabs that run as background
// tabs do (their timers late, aligned on wake-ups), and in tabs paused in
// the debugger, which miss what their BroadcastChannel carries meanwhile.
// (test/share/tabs-paused.test.ts emulates the pause in all three engines.)
import assert from 'node:assert/strict';
import {after, afterEach, before, describe, it} from 'node:test';
import {allOpen, holder, lateTimers, sleep, startTabs, until} from '../support/tabs.mjs';

/** How long the background tabs are watched. */
const WATCH = 30_000;
/** Their timers' wake-ups: every 5 s, between Chromium's 1 s and its 1 min of intensive throttling. */
const WAKE_UPS = 5000;

describe('shared in real Chromium tabs in the background and paused', () => {
  let rig;
  let key = 0;

  before(async () => {
    rig = await startTabs();
  });
  after(() => rig?.stop());
  afterEach(() => rig.closeTabs());

  async function open(count, options = {}) {
    const opened = [];
    for (let i = 0; i < count; i++) opened.push(await rig.open(options));
    return opened;
  }

  /** Pauses `tab` in the debugger, or fails if no script of it runs to be paused. */
  async function pause(tab) {
    await Promise.race([
      tab.stall(),
      sleep(5000).then(() => {
        throw new Error(`${tab.name} never ran a script to pause in`);
      }),
    ]);
  }

  it(`keeps one holder and one connection, open, for ${WATCH / 1000} s in three tabs whose timers all run late`, async () => {
    const init = lateTimers(WAKE_UPS);
    const connectionsBefore = rig.server.connections.length;
    const shared = await open(3, {key: `share-${++key}`, elements: 2, init});
    // An unshared element under the same timers, on a path of its own: the engine alone keeps its connection.
    const [alone] = await open(1, {key: null, elements: 1, init, url: `${rig.url()}alone`});
    await allOpen([...shared, alone], {timeout: 30_000});
    const first = await holder(shared);
    const holders = [first.name];
    const end = Date.now() + WATCH;
    while (Date.now() < end) {
      await sleep(500);
      const leading = await Promise.all(shared.map((tab) => tab.leader()));
      const now = shared.filter((_, i) => leading[i]).map((tab) => tab.name);
      const current = now.length === 1 ? now[0] : `[${now.join(' ')}]`;
      if (current !== holders.at(-1)) holders.push(current);
    }
    const paths = rig.server.connections.slice(connectionsBefore).map(({path}) => path);
    const logs = Object.fromEntries(
      await Promise.all([...shared, alone].map(async (tab) => [tab.name, await tab.call('stateLogs')])),
    );
    const states = JSON.stringify(logs);
    assert.equal(
      paths.filter((path) => path === '/alone').length,
      1,
      `the unshared element's connections; ${states}`,
    );
    assert.deepEqual(await alone.call('states'), ['open'], 'the unshared element at the end');
    assert.deepEqual(holders, [first.name], `the holders, in turn; ${states}`);
    assert.equal(
      paths.filter((path) => path === '/').length,
      1,
      `connections of the shared socket; ${states}`,
    );
    for (const tab of shared) {
      assert.deepEqual(await tab.call('states'), ['open', 'open'], `${tab.name} at the end; ${states}`);
    }
    assert.deepEqual(rig.pageErrors, []);
  });

  it('delivers what a follower sent while the holder was paused within a beat of its running again, with no later send', async () => {
    const pair = await open(2, {key: `share-${++key}`, elements: 1});
    await allOpen(pair);
    const leading = await holder(pair);
    const follower = pair.find((tab) => tab !== leading);
    const accepted = rig.server.accepted;
    await sleep(300);
    rig.server.takeReceived();
    await pause(leading);
    assert.equal(await follower.call('send', 0, 'while-paused'), true);
    await sleep(500);
    await leading.resume();
    const resumed = Date.now();
    await until(() => rig.server.received.includes('while-paused'), {
      timeout: 2000,
      message: 'the message within a beat of the holder running again',
    });
    assert.equal(await holder(pair), leading, `the same holder (arrived ${Date.now() - resumed} ms after)`);
    assert.equal(rig.server.accepted, accepted, 'the same socket');
    assert.deepEqual(rig.pageErrors, []);
  });

  it('keeps a stop code final for a follower paused when it came: it ends closed, and no socket opens', async () => {
    const pair = await open(2, {key: `share-${++key}`, elements: 1});
    await allOpen(pair);
    const leading = await holder(pair);
    const follower = pair.find((tab) => tab !== leading);
    const accepted = rig.server.accepted;
    await pause(follower);
    rig.server.closeClients({code: 1008, reason: 'policy'});
    await until(async () => (await leading.state()) === 'closed', {message: 'the holder closed'});
    // Paused past the moment the holder's page let the lock go.
    await sleep(600);
    await follower.resume();
    await until(async () => (await follower.state()) === 'closed' || rig.server.accepted > accepted, {
      timeout: 5000,
      message: 'the follower to learn of the stop code',
    });
    assert.equal(rig.server.accepted, accepted, 'sockets opened after the stop code');
    await sleep(1000);
    assert.equal(rig.server.accepted, accepted, 'sockets opened after the stop code');
    assert.equal(rig.server.open, 0);
    assert.deepEqual(await follower.call('states'), ['closed']);
    assert.equal(await follower.call('liveSockets'), 0);
    const [log] = await follower.call('stateLogs');
    assert.ok(
      !log.slice(log.indexOf('open') + 1).includes('open'),
      `the follower's states: ${log.join(' ')}`,
    );
    assert.deepEqual(rig.pageErrors, []);
  });
});
