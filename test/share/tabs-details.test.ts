// The smaller promises of sharing, as they show in a browser: a closed
// element stays closed when it starts sharing, a key that cannot be told
// apart is refused, a following tab's page signals probe the socket, and
// the shared `closed` says how many retries were made. Same-origin frames
// stand in for tabs; the test page is a page of its own.
import {expect} from '@open-wc/testing';
import {Rig, sleep, until} from '../support/rig.js';
import {reached, watched} from '../support/watched.js';
import {
  allOpen,
  closeTabs,
  gateInbox,
  leaderIndexes,
  type Member,
  openTab,
  startRig,
  type Tab,
} from './frames.js';

/** The page signals on which the socket is probed at once, as a following frame receives them. */
const SIGNALS = {
  'becomes visible': (tab: Tab) => {
    Object.defineProperty(tab.win.document, 'visibilityState', {value: 'visible', configurable: true});
    tab.win.document.dispatchEvent(new tab.win.Event('visibilitychange'));
  },
  'is online': (tab: Tab) => tab.win.dispatchEvent(new tab.win.Event('online')),
  'is shown from the back/forward cache': (tab: Tab) =>
    tab.win.dispatchEvent(new tab.win.PageTransitionEvent('pageshow', {persisted: true})),
};

describe('shared across tabs: details', () => {
  let rig: Rig;
  let tabs: Tab[] = [];

  beforeEach(async () => {
    rig = await startRig();
    tabs = [];
  });
  afterEach(closeTabs);

  async function holderAndFollower(attributes: Record<string, string> = {}) {
    const holder = await openTab();
    const follower = await openTab();
    tabs.push(holder, follower);
    holder.add(rig.url, attributes);
    await allOpen(holder.members);
    follower.add(rig.url, attributes);
    await allOpen(follower.members);
    expect(leaderIndexes(tabs)).to.deep.equal([0]);
    return {holder, follower};
  }

  it('keeps a closed element closed when shared is turned on: state, attribute, and no event', async () => {
    const w = await watched(rig.url);
    await reached(w, 'open');
    w.el.close();
    await reached(w, 'closed');
    const events = w.states.length;
    w.el.setAttribute('shared', '');
    await w.el.updateComplete;
    await sleep(300);
    expect(w.el.state, 'state').to.equal('closed');
    expect(w.el.getAttribute('state'), 'the state attribute').to.equal('closed');
    expect(w.states.slice(events), 'ws-state events').to.deep.equal([]);
    expect((await rig.status()).open).to.equal(0);
    // It starts when asked, on the shared socket.
    w.el.connect();
    await reached(w, 'open');
    expect(w.el.leader).to.equal(true);
  });

  it('refuses a urlProvider with a bare shared and no url, with invalid-url and no socket; a name makes it share', async () => {
    const bare = await watched(undefined, {shared: ''}, {connect: false});
    bare.el.urlProvider = () => rig.url;
    bare.el.connect();
    await until(() => bare.errors.some(({kind}) => kind === 'invalid-url'), {
      timeout: 3000,
      message: 'an invalid-url error',
    });
    await sleep(500);
    expect((await rig.status()).accepted, 'sockets opened').to.equal(0);
    expect(bare.el.state).not.to.equal('open');
    const named = await watched(undefined, {shared: 'feed'}, {connect: false});
    named.el.urlProvider = () => rig.url;
    named.el.connect();
    await reached(named, 'open');
    expect(named.errors).to.deep.equal([]);
  });

  for (const [signal, fire] of Object.entries(SIGNALS)) {
    it(`probes the socket at once when a following frame ${signal}`, async () => {
      // No heartbeat of its own during the test: every ping is a probe.
      const {holder, follower} = await holderAndFollower({'heartbeat-interval': '30000'});
      await sleep(300);
      await rig.takeReceived();
      const pinged = async () => (await rig.received()).includes('ping');
      fire(holder);
      await until(pinged, {timeout: 1000, message: `a ping when the holding frame ${signal}`});
      await sleep(200);
      await rig.takeReceived();
      fire(follower);
      await until(pinged, {timeout: 1000, message: `a ping when the following frame ${signal}`});
      expect(leaderIndexes(tabs)).to.deep.equal([0]);
      expect(await rig.status()).to.include({accepted: 1, open: 1});
    });
  }

  it("reports the retries made in the shared closed that exhausted them, in every frame, as an unshared element's does", async () => {
    const settings = {'max-retries': '2'};
    const alone = await watched(rig.url, settings);
    await reached(alone, 'open');
    const {holder, follower} = await holderAndFollower(settings);
    await rig.kill();
    const members: Member[] = [...holder.members, ...follower.members];
    await until(() => alone.el.state === 'closed' && members.every(({el}) => el.state === 'closed'), {
      timeout: 10_000,
      message: 'every element closed',
    });
    expect(alone.states.at(-1)!.attempt, "the unshared element's closed").to.equal(2);
    expect(
      members.map(({changes}) => changes.at(-1)!.attempt),
      'attempt in each shared closed',
    ).to.deep.equal([2, 2]);
    expect(
      members.map(({el}) => el.attempt),
      'the attempt property',
    ).to.deep.equal([alone.el.attempt, alone.el.attempt]);
    for (const {errors} of members) expect(errors).to.include('retries-exhausted');
  });

  it('keeps the socket with a holder that answers probes late, within its timeout', async () => {
    const holder = await openTab();
    const others = [await openTab(), await openTab(), await openTab()];
    tabs.push(holder, ...others);
    // A busy page: what the others post reaches it 350 ms late, half its timeout.
    const inbox = gateInbox(holder);
    // A timeout below the holder's beat of a second: the others probe it between beats.
    const settings = {'heartbeat-interval': '30000', timeout: '700'};
    holder.add(rig.url, settings);
    await allOpen(holder.members);
    for (const tab of others) tab.add(rig.url, settings);
    const members = tabs.flatMap((tab) => tab.members);
    await allOpen(members);
    const before = members.map(({states}) => states.length);
    inbox.delay = 350;
    // Busy, it runs its timers late too: its beats come less often than the
    // others expect, so that they ask it, and its answers come late.
    const setTimer = holder.win.setTimeout.bind(holder.win);
    holder.win.setTimeout = ((callback: () => void, ms = 0) =>
      setTimer(callback, ms + 350)) as unknown as typeof setTimeout;
    // Over a few probes of each of the others; done at the first takeover.
    await until(() => leaderIndexes(tabs).join() !== '0', {timeout: 8000}).catch(() => {});
    expect(inbox.delayed, 'messages the holder heard late').to.be.above(0);
    expect(leaderIndexes(tabs), 'the holder').to.deep.equal([0]);
    expect(await rig.status()).to.include({accepted: 1, open: 1});
    expect(members.map(({el}) => el.state)).to.deep.equal(members.map(() => 'open'));
    expect(
      members.flatMap(({states}, i) => states.slice(before[i])),
      'state changes while the holder answered late',
    ).to.deep.equal([]);
  });

  it('stops renewing the subscriptions of a frame that went away without pagehide', async () => {
    const holder = await openTab();
    const follower = await openTab();
    tabs.push(holder, follower);
    holder.add(rig.url, {}, (el) => (el.openMessages = ['sub-holder']));
    await allOpen(holder.members);
    follower.add(rig.url, {}, (el) => (el.openMessages = ['sub-follower']));
    await allOpen(follower.members);
    // Renewed with both, as they are now.
    await rig.takeReceived();
    await rig.terminateClients();
    await until(
      async () => {
        const received = await rig.received();
        return received.includes('sub-holder') && received.includes('sub-follower');
      },
      {message: 'both subscriptions on the reopen'},
    );
    // Killed, as a crashed tab is: no pagehide, no unload, no word to the others.
    for (const type of ['pagehide', 'unload', 'beforeunload', 'visibilitychange', 'freeze']) {
      const target = type === 'visibilitychange' || type === 'freeze' ? follower.win.document : follower.win;
      target.addEventListener(type, (event) => event.stopImmediatePropagation(), {capture: true});
    }
    follower.win.BroadcastChannel.prototype.postMessage = () => {};
    follower.frame.remove();
    tabs = [holder];
    await sleep(3000);
    await rig.takeReceived();
    await rig.terminateClients();
    await until(async () => (await rig.received()).includes('sub-holder'), {message: 'the next reopen'});
    await sleep(500);
    expect((await rig.received()).filter((m) => typeof m === 'string' && m.startsWith('sub-'))).to.deep.equal(
      ['sub-holder'],
    );
  });
});
