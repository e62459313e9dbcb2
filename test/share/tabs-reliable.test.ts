// `shared` and `reliable` in real frames against the server half's
// reliable(), which echoes every message to its session: the holder's frame
// goes while every frame sends, and the session carries on in the next
// holder. The server application has each message once, in each sender's
// order, and every element still there dispatches every echo once, in order.
import {expect} from '@open-wc/testing';
import {Rig, sleep, until} from '../support/rig.js';
import {allOpen, leaders, openTab, type Tab} from './frames.js';

describe('shared and reliable across tabs', () => {
  let rig: Rig;
  let tabs: Tab[] = [];

  beforeEach(async () => {
    rig = await Rig.startReliable();
  });
  afterEach(async () => {
    for (const tab of tabs) tab.frame.remove();
    tabs = [];
    await Rig.stopAll();
  });

  /** Each tab's element sends `t<i>-<n>` every 10 ms while its frame is in the page and has its document. */
  function keepSending(senders: Tab[]) {
    const sent = senders.map(() => [] as string[]);
    const timer = setInterval(() => {
      senders.forEach((tab, i) => {
        if (!tab.frame.isConnected || tab.frame.contentWindow !== tab.win) return;
        const message = `t${i}-${sent[i]!.length}`;
        if (tab.members[0]!.el.send(message)) sent[i]!.push(message);
      });
    }, 10);
    return {sent, stop: () => clearInterval(timer)};
  }

  async function handOver(go: (holder: Tab) => void | Promise<void>, url = rig.url) {
    for (let i = 0; i < 3; i++) tabs.push(await openTab());
    const shared = `reliable ${Math.random()}`;
    for (const tab of tabs) tab.add(url, {reliable: '', shared});
    await allOpen(tabs.flatMap((tab) => tab.members));
    const holder = leaders(tabs)[0]!;
    const rest = tabs.filter((tab) => tab !== holder);
    const sending = keepSending(tabs);
    await sleep(300);
    await go(holder);
    await until(() => leaders(rest).length === 1, {timeout: 10_000, message: 'a new holder'});
    await allOpen(rest.flatMap((tab) => tab.members));
    await sleep(300);
    sending.stop();
    expect(sending.sent.every((messages) => messages.length > 5)).to.equal(true);
    const members = rest.flatMap((tab) => tab.members);
    await until(() => members.every(({el}) => el.queued === 0), {
      timeout: 10_000,
      message: 'every message acknowledged',
    });
    // The reliable rig records each message with the session it came in.
    const received = (await rig.received()) as unknown as {data: string; session: string}[];
    const data = received.map((entry) => entry.data);
    const sessions = new Set(received.map((entry) => entry.session));
    expect(sessions.size, 'one session, carried on').to.equal(1);
    sending.sent.forEach((messages, i) => {
      const got = data.filter((m) => m.startsWith(`t${i}-`));
      if (tabs[i] === holder) {
        // The holder's own: what reached the server before its frame went, once and in order.
        expect(got).to.deep.equal(messages.slice(0, got.length));
      } else {
        expect(got, `frame ${i}: each once, in order`).to.deep.equal(messages);
      }
    });
    // Every echo, once, in order, in every element still there.
    await until(() => members.every(({messages}) => messages.length >= data.length), {
      timeout: 10_000,
      message: 'every echo in every element',
    });
    await sleep(100);
    for (const member of members) expect(member.messages).to.deep.equal(data);
    for (const member of members) expect(member.errors).to.deep.equal([]);
  }

  it('refuses a message larger than the server’s maxFrame to the element that sent it, in any frame, and sends what comes after', async () => {
    const small = await Rig.startReliable({maxFrame: 1024});
    for (let i = 0; i < 2; i++) tabs.push(await openTab());
    const shared = `reliable ${Math.random()}`;
    for (const tab of tabs) tab.add(small.url, {reliable: '', shared});
    await allOpen(tabs.flatMap((tab) => tab.members));
    const members = tabs.map((tab) => tab.members[0]!);
    const refused = members.map(() => [] as unknown[]);
    members.forEach(({el}, i) =>
      el.addEventListener(
        'ws-error',
        ({detail}) => detail.kind === 'send-failed' && refused[i]!.push(detail.data),
      ),
    );
    const big = (i: number) => `${i}${'x'.repeat(2000)}`;
    members.forEach(({el}, i) => {
      expect(el.send(big(i)), 'accepted: the page cannot know the server’s bound').to.equal(true);
      expect(el.send(`after ${i}`)).to.equal(true);
    });
    await until(() => members.every(({el}) => el.queued === 0), {message: 'nothing waits'});
    const received = (await small.received()) as unknown as {data: string}[];
    expect(received.map(({data}) => data).sort()).to.deep.equal(['after 0', 'after 1']);
    expect(refused, 'each its own, with its message').to.deep.equal([[big(0)], [big(1)]]);
    expect(leaders(tabs).length, 'one of them holds the socket').to.equal(1);
  });

  it("removing the holder's frame while every frame sends: each message once, in order, both ways", async () => {
    await handOver((holder) => holder.frame.remove());
  });

  it("removing the holder's frame while what it wrote is still on the way: each message once, in order, both ways", async () => {
    await handOver(async (holder) => {
      // What the holder writes now never reaches the server: its connection is dropped while holed.
      await rig.blackhole();
      await sleep(200);
      holder.frame.remove();
      await rig.terminateClients();
      await rig.heal();
    }, rig.proxyUrl);
  });

  it("navigating the holder's frame away while every frame sends: each message once, in order, both ways", async () => {
    await handOver((holder) => {
      holder.frame.src = 'about:blank';
    });
  });
});
