// `<ws-connection shared>` in real tabs of one Chromium browser context, as
// users leave them: the holding tab closed, sent into the back/forward cache
// and back, frozen as a background tab is, and hung. Every tab sends all the
// while; whatever the tabs still open had accepted must reach the server, in
// each element's order. (test/share/tabs.test.ts covers the same in all three
// engines, with frames standing in for tabs.)
/* global window -- page.evaluate callbacks run in the page */
import assert from 'node:assert/strict';
import {after, afterEach, before, describe, it} from 'node:test';
import {allOpen, deliveries, holder, sleep, startTabs, until} from '../support/tabs.mjs';

describe('shared in real Chromium tabs', () => {
  let rig;
  let key = 0;

  before(async () => {
    rig = await startTabs();
  });
  after(() => rig?.stop());
  afterEach(() => rig.closeTabs());

  /** `count` tabs of three elements on a share of their own, all open and sending every 50 ms. */
  async function openTabs(count) {
    const name = `share-${++key}`;
    const tabs = [];
    for (let i = 0; i < count; i++) tabs.push(await rig.open({key: name}));
    await allOpen(tabs);
    for (const tab of tabs) await tab.call('sendEvery', 50);
    return tabs;
  }

  /** Stops the tabs, lets what they sent arrive, and checks it against what the open ones had accepted. */
  async function finish(tabs) {
    const open = tabs.filter((tab) => !tab.closed);
    for (const tab of open) await tab.call('stopSending');
    await allOpen(open);
    await sleep(500);
    const sends = (await Promise.all(open.map((tab) => tab.call('sends')))).flat();
    const result = deliveries(rig.server.takeReceived(), sends);
    assert.ok(result.accepted > 0, 'the tabs sent something');
    assert.equal(result.lost, 0, `lost: ${result.lostExamples.join(', ')}`);
    assert.equal(result.outOfOrder, 0, 'each element’s messages arrive in its order');
    assert.deepEqual(rig.pageErrors, []);
  }

  it('gives three tabs of three elements one connection, and says so in the followers', async () => {
    const acceptedBefore = rig.server.accepted;
    const tabs = await openTabs(3);
    assert.equal(rig.server.open, 1);
    assert.equal(rig.server.accepted - acceptedBefore, 1);
    const leading = await holder(tabs);
    for (const tab of tabs.filter((t) => t !== leading)) {
      assert.match(await tab.call('status'), /via another tab/);
    }
    assert.doesNotMatch(await leading.call('status'), /via another tab/);
    await sleep(300);
    await finish(tabs);
  });

  it('hands over when the holding tab is closed, losing nothing the others sent', async () => {
    const tabs = await openTabs(3);
    const first = await holder(tabs);
    const acceptedBefore = rig.server.accepted;
    await sleep(300);
    await first.close();
    const next = await holder(tabs);
    assert.notEqual(next, first);
    await allOpen(tabs);
    assert.equal(rig.server.accepted - acceptedBefore, 1, 'one new connection');
    assert.equal(rig.server.open, 1);
    await sleep(300);
    await finish(tabs);
  });

  it('hands over when the holder goes into the back/forward cache, and rejoins as a follower when it comes back', async () => {
    // Whether a page is kept in the cache is the browser's call, and a busy one evicts now and
    // then; a page that held its lock or socket past pagehide would never be kept. So it has
    // three tries to be restored.
    let tabs;
    let first;
    let next;
    for (let attempt = 1; ; attempt++) {
      tabs = await openTabs(2);
      first = await holder(tabs);
      await first.page.goto('about:blank');
      next = await holder(tabs.filter((tab) => tab !== first));
      await allOpen([next]);
      assert.equal(rig.server.open, 1);
      await first.page.goBack();
      await first.page.waitForFunction('window.tabReady === true');
      const {shows} = await first.call('lifecycle');
      if (shows.length === 2 || attempt === 3) break;
      await rig.closeTabs();
    }
    // Restored, not reloaded: the lock was let go at once on pagehide, so
    // no other tab had to take it from a cached page (which evicts it).
    assert.deepEqual((await first.call('lifecycle')).shows, [false, true]);
    await allOpen(tabs);
    assert.equal(await first.leader(), false);
    assert.equal(await next.leader(), true);
    assert.equal(rig.server.open, 1);
    await sleep(300);
    await finish(tabs);
  });

  it('keeps the socket of a holder the browser evicts from the back/forward cache as its page last saw it, closed before the next opened', async () => {
    // A cached page that holds a lock another tab asks for is evicted. When that happens in the
    // middle of its pagehide, as the next tab takes over, what the page writes to storage or
    // sends after that is lost: here, everything after its elements' own pagehide listener. The
    // page it goes to finishes loading only a second and a half later, long after the next
    // holder opened; then the other tab asks for a lock the cached page holds, which evicts it.
    const tabs = await openTabs(2);
    const first = await holder(tabs);
    const [next] = tabs.filter((tab) => tab !== first);
    const contended = `contended-${key}`;
    await first.page.evaluate((name) => {
      window.addEventListener('pagehide', () => {
        Storage.prototype.setItem = () => {};
        navigator.sendBeacon = () => false;
      });
      return new Promise((held) => navigator.locks.request(name, () => (held(), new Promise(() => {}))));
    }, contended);
    await first.leave(`${rig.origin}/slow?ms=1500`);
    await allOpen([next]);
    await next.page.evaluate((name) => void navigator.locks.request(name, () => {}), contended);
    assert.equal(await first.back(), false, 'evicted, and loaded afresh');
    await first.call('sendEvery', 50);
    const [gone] = first.history;
    const [taken] = await next.sockets();
    assert.ok(gone && taken, 'a socket of each tab');
    assert.ok(
      gone.ended <= taken.opened,
      `the first socket began to close (${gone.ended}) before the next opened (${taken.opened})`,
    );
    await allOpen(tabs);
    await finish(tabs);
  });

  it('hands over when the holder is frozen, and takes the frozen tab back as a follower', async () => {
    const tabs = await openTabs(3);
    const first = await holder(tabs);
    await first.freeze();
    const others = tabs.filter((tab) => tab !== first);
    const next = await holder(others);
    await allOpen(others);
    await until(() => rig.server.open === 1, {message: 'the frozen holder’s socket to close'});
    await sleep(300);
    await first.freeze(false);
    await allOpen(tabs);
    assert.equal(await first.leader(), false);
    assert.equal(await next.leader(), true);
    assert.equal(rig.server.open, 1);
    await finish(tabs);
  });

  it('replaces a hung holder within its timeout, and the holder gives its socket up when it runs again', async () => {
    const tabs = await openTabs(3);
    const first = await holder(tabs);
    const acceptedBefore = rig.server.accepted;
    await first.stall();
    const others = tabs.filter((tab) => tab !== first);
    const next = await holder(others);
    await allOpen(others);
    assert.equal(rig.server.accepted - acceptedBefore, 1, 'one new connection');
    // The hung page's socket lives on until its script runs again.
    assert.equal(rig.server.open, 2);
    await sleep(500);
    await first.resume();
    await until(() => rig.server.open === 1, {message: 'the hung holder to give its socket up'});
    await allOpen(tabs);
    assert.equal(await first.leader(), false);
    assert.equal(await next.leader(), true);
    assert.equal(await first.call('liveSockets'), 0);
    await finish(tabs);
  });

  it('a tab opened while the holder is hung takes over by its own timeout (1 s), not by one it assumed', async () => {
    const tabs = await openTabs(1);
    const [first] = tabs;
    await first.stall();
    const late = await rig.open({key: `share-${key}`});
    tabs.push(late);
    const openedAt = Date.now();
    // Two probes of a second each at most, and the page's start: well under the 10 s it waited before.
    await allOpen([late], {timeout: 6000});
    assert.equal(await late.leader(), true, 'the new tab holds the socket');
    assert.ok(Date.now() - openedAt < 6000);
    await first.resume();
    await until(() => rig.server.open === 1, {message: 'the hung holder to give its socket up'});
    await finish(tabs);
  });
});
