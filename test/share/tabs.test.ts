// One socket for every tab: same-origin frames stand in for tabs, against
// the real server, which counts the connections.
import {expect} from '@open-wc/testing';
import {Rig, sleep, until} from '../support/rig.js';
import {allOpen, closeTabs, leaders, openTab, startRig, type Tab} from './frames.js';

describe('shared across tabs', () => {
  let rig: Rig;
  let tabs: Tab[] = [];
  const open = async (count: number, query = '') => {
    for (let i = 0; i < count; i++) tabs.push(await openTab(query));
    return tabs;
  };

  beforeEach(async () => {
    rig = await startRig({echo: true});
    tabs = [];
  });
  afterEach(closeTabs);

  it('three frames with two elements each: one server connection, one holder', async () => {
    await open(3);
    for (const tab of tabs) {
      tab.add(rig.url);
      tab.add(rig.url);
    }
    const members = tabs.flatMap((tab) => tab.members);
    await allOpen(members);
    await sleep(300);
    const status = await rig.status();
    expect(status.accepted).to.equal(1);
    expect(status.open).to.equal(1);
    expect(leaders(tabs)).to.have.length(1);
    // Every element hears every message, wherever the socket is.
    await rig.push(3, 'all-');
    await until(() => members.every((m) => m.messages.length === 3), {message: 'messages everywhere'});
    for (const m of members) expect(m.messages).to.deep.equal(['all-0', 'all-1', 'all-2']);
    const follower = tabs.find((tab) => !leaders(tabs).includes(tab))!;
    const words = follower.members[0]!.el.shadowRoot!.querySelector('[part=status]')!.textContent;
    expect(words).to.contain('via another tab');
  });

  /** The tab's page still runs, but says nothing more to the others: a hung holder, as they see it. */
  const hush = (tab: Tab) => {
    tab.win.BroadcastChannel.prototype.postMessage = () => {};
  };
  /** No spread in the tab's probes, so that tabs made so take a silent holder's lock at the same moment. */
  const inStep = (tab: Tab) => {
    const random = tab.win.Math.random;
    tab.win.Math.random = () => random() * 1e-6;
  };

  /** Each tab's first element sends `t<i>-<n>` every 10 ms while its frame is in the page. */
  function keepSending(senders: Tab[]) {
    const sent = senders.map(() => [] as string[]);
    const timer = setInterval(() => {
      senders.forEach((tab, i) => {
        if (!tab.frame.isConnected) return;
        const message = `t${i}-${sent[i]!.length}`;
        if (tab.members[0]!.el.send(message)) sent[i]!.push(message);
      });
    }, 10);
    return {sent, stop: () => clearInterval(timer)};
  }

  /** Every message sent arrived, in each sender's order (a repeat after a handover is allowed). */
  async function expectDelivered(sent: string[][]) {
    const expected = sent.flat().length;
    let firsts: string[] = [];
    await until(
      async () => {
        const received = (await rig.received()).filter((m): m is string => typeof m === 'string');
        firsts = [...new Set(received.filter((m) => /^t\d+-/.test(m)))];
        return firsts.length >= expected;
      },
      {timeout: 10_000, message: `${expected} messages at the server`},
    );
    sent.forEach((messages, i) => {
      expect(firsts.filter((m) => m.startsWith(`t${i}-`))).to.deep.equal(messages);
    });
  }

  it("removing the holder's frame hands over: every frame's sends arrive, in order, none lost", async () => {
    await open(3);
    for (const tab of tabs) tab.add(rig.url);
    await allOpen(tabs.flatMap((tab) => tab.members));
    const holder = leaders(tabs)[0]!;
    const sending = keepSending(tabs);
    await sleep(200);
    holder.frame.remove();
    const rest = tabs.filter((tab) => tab !== holder);
    await until(async () => (await rig.status()).accepted === 2 && leaders(rest).length === 1, {
      message: 'a new holder',
    });
    await allOpen(rest.flatMap((tab) => tab.members));
    await sleep(200);
    sending.stop();
    expect(sending.sent.every((messages) => messages.length > 5)).to.equal(true);
    await expectDelivered(sending.sent);
    expect((await rig.status()).open).to.equal(1);
  });

  it("navigating the holder's frame away hands over", async () => {
    await open(2);
    for (const tab of tabs) tab.add(rig.url);
    await allOpen(tabs.flatMap((tab) => tab.members));
    const [holder] = leaders(tabs);
    const other = tabs.find((tab) => tab !== holder)!;
    // Counted from the navigation: a busy machine may cost the start a socket of its own.
    const before = (await rig.status()).accepted;
    holder!.frame.src = 'about:blank';
    await until(() => other.members[0]!.el.leader && other.members[0]!.el.state === 'open', {
      message: 'the other frame to hold the socket',
    });
    await sleep(200);
    const status = await rig.status();
    expect(status.accepted - before).to.equal(1);
    expect(status.open).to.equal(1);
  });

  it('pagehide hands the socket over; pageshow comes back as a follower', async () => {
    await open(2);
    for (const tab of tabs) tab.add(rig.url);
    await allOpen(tabs.flatMap((tab) => tab.members));
    const holder = leaders(tabs)[0]!;
    const other = tabs.find((tab) => tab !== holder)!;
    holder.win.dispatchEvent(new holder.win.PageTransitionEvent('pagehide', {persisted: true}));
    expect(holder.members[0]!.el.state).to.equal('idle');
    expect(holder.members[0]!.el.leader).to.equal(false);
    await until(() => other.members[0]!.el.leader && other.members[0]!.el.state === 'open', {
      message: 'the other frame to hold the socket',
    });
    holder.win.dispatchEvent(new holder.win.PageTransitionEvent('pageshow', {persisted: true}));
    await allOpen(holder.members);
    expect(holder.members[0]!.el.leader).to.equal(false);
    await sleep(200);
    const status = await rig.status();
    expect(status.accepted).to.equal(2);
    expect(status.open).to.equal(1);
  });

  it('a follower that leaves and comes back delivers what was sent while it was away', async () => {
    await open(2);
    for (const tab of tabs) tab.add(rig.url);
    await allOpen(tabs.flatMap((tab) => tab.members));
    const follower = tabs.find((tab) => !leaders(tabs).includes(tab))!;
    const el = follower.members[0]!.el;
    follower.win.dispatchEvent(new follower.win.PageTransitionEvent('pagehide', {persisted: true}));
    expect(el.state).to.equal('idle');
    expect(el.send('while-away')).to.equal(true);
    follower.win.dispatchEvent(new follower.win.PageTransitionEvent('pageshow', {persisted: true}));
    await allOpen(follower.members);
    expect(el.send('after')).to.equal(true);
    await until(async () => (await rig.received()).includes('after'), {message: 'after to arrive'});
    const received = await rig.received();
    expect(received).to.include('while-away');
    expect(received.indexOf('while-away')).to.be.below(received.indexOf('after'));
    expect((await rig.status()).accepted).to.equal(1);
  });

  it('a holder that goes silent is replaced within timeout, and gives its socket up', async () => {
    await open(2);
    for (const tab of tabs) tab.add(rig.url, {timeout: '1000'});
    await allOpen(tabs.flatMap((tab) => tab.members));
    const holder = leaders(tabs)[0]!;
    const other = tabs.find((tab) => tab !== holder)!;
    // Hung, as far as the other frames can tell: it says nothing more, and holds on to the lock.
    hush(holder);
    const silentAt = performance.now();
    await until(() => other.members[0]!.el.leader && other.members[0]!.el.state === 'open', {
      timeout: 5000,
      message: 'the other frame to take the socket',
    });
    expect(performance.now() - silentAt).to.be.below(1000 + 1500);
    await until(() => !holder.members[0]!.el.leader, {message: 'the stalled holder to give up'});
    await until(async () => (await rig.status()).open === 1, {message: 'one socket'});
    expect((await rig.status()).accepted).to.equal(2);
  });

  it('two followers that take over from a silent holder at the same moment open one socket', async () => {
    await open(3);
    const [holder, ...others] = tabs as [Tab, Tab, Tab];
    holder.add(rig.url, {timeout: '1000'});
    await allOpen(holder.members);
    for (const tab of others) {
      inStep(tab);
      tab.add(rig.url, {timeout: '1000'});
    }
    await allOpen(others.flatMap((tab) => tab.members));
    const before = (await rig.status()).accepted;
    hush(holder);
    await until(
      () => others.some((tab) => tab.members[0]!.el.leader && tab.members[0]!.el.state === 'open'),
      {
        timeout: 5000,
        message: 'a follower to take the socket',
      },
    );
    await sleep(500);
    expect((await rig.status()).accepted - before).to.equal(1);
    expect(leaders(others)).to.have.length(1);
  });

  it('two followers that take over at once, even under the same term, lose nothing they sent', async () => {
    await open(3);
    const [holder, ...others] = tabs as [Tab, Tab, Tab];
    holder.add(rig.url, {timeout: '1000'});
    await allOpen(holder.members);
    for (const tab of others) {
      inStep(tab);
      // And a clock that stands still, so that both may take the same term.
      const now = Date.now();
      tab.win.Date.now = () => now;
      tab.add(rig.url, {timeout: '1000'});
    }
    await allOpen(others.flatMap((tab) => tab.members));
    const sending = keepSending(others);
    await sleep(100);
    // Hung, as the others see it: it confirms nothing, and writes nothing, so
    // what they send now waits with them until one of them takes over.
    hush(holder);
    holder.win.WebSocket.prototype.send = () => {};
    await until(() => leaders(others).length === 1 && !holder.members[0]!.el.leader, {
      timeout: 5000,
      message: 'one follower to take the socket',
    });
    await allOpen(others.flatMap((tab) => tab.members));
    await sleep(300);
    sending.stop();
    await expectDelivered(sending.sent);
  });

  it('a holder that misses messages while paused asks for them again: none lost, in order', async () => {
    await open(3);
    const [holder, ...others] = tabs as [Tab, Tab, Tab];
    // A page paused in the debugger, as Chromium does it, misses what its
    // BroadcastChannel carries meanwhile; this one misses it while deaf.
    let deaf = false;
    const proto = holder.win.BroadcastChannel.prototype;
    const onmessage = Object.getOwnPropertyDescriptor(proto, 'onmessage')!;
    Object.defineProperty(proto, 'onmessage', {
      ...onmessage,
      set(this: BroadcastChannel, handler: ((event: MessageEvent) => void) | null) {
        onmessage.set!.call(this, handler && ((event: MessageEvent) => deaf || handler.call(this, event)));
      },
    });
    holder.add(rig.url);
    await allOpen(holder.members);
    for (const tab of others) tab.add(rig.url);
    await allOpen(others.flatMap((tab) => tab.members));
    const sending = keepSending(others);
    await sleep(200);
    deaf = true;
    await sleep(300);
    deaf = false;
    await sleep(300);
    sending.stop();
    expect(holder.members[0]!.el.leader).to.equal(true);
    await expectDelivered(sending.sent);
  });

  it("a follower watches for the holder's timeout, not its own", async () => {
    await open(2);
    const [holder, other] = tabs as [Tab, Tab];
    holder.add(rig.url, {timeout: '1000'});
    await allOpen(holder.members);
    // Its own timeout would leave a hung holder in place for 8 s.
    other.add(rig.url, {timeout: '8000'});
    await allOpen(other.members);
    expect(other.members[0]!.el.leader).to.equal(false);
    hush(holder);
    const silentAt = performance.now();
    await until(() => other.members[0]!.el.leader && other.members[0]!.el.state === 'open', {
      timeout: 5000,
      message: 'the other frame to take the socket',
    });
    expect(performance.now() - silentAt).to.be.below(1000 + 1500);
  });

  it('a stop code from the server closes the socket for every element in every frame', async () => {
    await open(2);
    for (const tab of tabs) {
      tab.add(rig.url);
      tab.add(rig.url);
    }
    const members = tabs.flatMap((tab) => tab.members);
    await allOpen(members);
    await rig.closeClients(1008, 'policy');
    await until(() => members.every(({el}) => el.state === 'closed'), {message: 'every element closed'});
    await sleep(500);
    const status = await rig.status();
    expect(status.accepted).to.equal(1);
    expect(status.open).to.equal(0);
  });

  it('close() on one element leaves the others connected; the last close() closes the socket', async () => {
    await open(2);
    const [a, b] = tabs as [Tab, Tab];
    a.add(rig.url);
    await allOpen(a.members);
    a.add(rig.url);
    b.add(rig.url);
    await allOpen([...a.members, ...b.members]);
    expect(a.members[0]!.el.leader).to.equal(true);
    a.members[0]!.el.close();
    await sleep(200);
    expect(a.members[1]!.el.state).to.equal('open');
    expect(b.members[0]!.el.state).to.equal('open');
    expect((await rig.status()).accepted).to.equal(1);
    // The holding frame's last user goes: the other frame takes the socket over.
    a.members[1]!.el.close();
    await until(() => b.members[0]!.el.leader && b.members[0]!.el.state === 'open', {message: 'handover'});
    expect((await rig.status()).open).to.equal(1);
    b.members[0]!.el.close();
    await until(async () => (await rig.status()).open === 0, {message: 'the socket to close'});
    await sleep(300);
    expect((await rig.status()).accepted).to.equal(2);
  });

  it('two different names give two sockets', async () => {
    await open(2);
    for (const tab of tabs) {
      tab.add(rig.url, {shared: 'prices'});
      tab.add(rig.url, {shared: 'news'});
    }
    await allOpen(tabs.flatMap((tab) => tab.members));
    await sleep(300);
    expect((await rig.status()).accepted).to.equal(2);
  });

  it('without Web Locks, elements share within their page only', async () => {
    await open(2, '?nolocks');
    for (const tab of tabs) {
      expect(tab.win.navigator.locks).to.equal(undefined);
      tab.add(rig.url);
      tab.add(rig.url);
    }
    await allOpen(tabs.flatMap((tab) => tab.members));
    await sleep(300);
    expect((await rig.status()).accepted).to.equal(2);
    for (const tab of tabs) expect(tab.members.every(({el}) => el.leader)).to.equal(true);
  });
});
