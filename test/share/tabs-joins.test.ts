// Elements that join a shared socket later, in the holding page or in
// another tab: their subscriptions go out on the socket as it is, and they
// take its retry schedule as it is. Same-origin frames stand in for tabs.
import {expect} from '@open-wc/testing';
import {Rig, sleep, until} from '../support/rig.js';
import {allOpen, closeTabs, type Member, openTab, startRig, type Tab} from './frames.js';

describe('shared across tabs: elements that join later', () => {
  let rig: Rig;
  let tabs: Tab[] = [];
  const open = async (count: number) => {
    const opened: Tab[] = [];
    for (let i = 0; i < count; i++) opened.push(await openTab());
    tabs.push(...opened);
    return opened;
  };

  beforeEach(async () => {
    rig = await startRig();
    tabs = [];
  });
  afterEach(closeTabs);

  /** Adds an element with `openMessages` that sends `first` as soon as it is in the page. */
  const join = (tab: Tab, url: string, openMessages: string[], first: string) => {
    const member = tab.add(url, {}, (el) => (el.openMessages = openMessages));
    expect(member.el.send(first)).to.equal(true);
    return member;
  };

  /** Resolves once the server has `subscription` and `first`, and says that the one came before the other. */
  async function expectSubscribedFirst(subscription: string, first: string) {
    await until(
      async () => {
        const received = await rig.received();
        return received.includes(subscription) && received.includes(first);
      },
      {timeout: 3000, message: `"${subscription}" and "${first}" at the server, on the open socket`},
    );
    const received = await rig.received();
    expect(received.indexOf(subscription), `"${subscription}" before "${first}"`).to.be.below(
      received.indexOf(first),
    );
  }

  it("sends the openMessages of an element that joins the holding page's open socket at once, before what it sends", async () => {
    const [holder] = (await open(1)) as [Tab];
    holder.add(rig.url, {}, (el) => (el.openMessages = ['sub-a']));
    await allOpen(holder.members);
    await until(async () => (await rig.received()).includes('sub-a'), {message: 'the first subscription'});
    join(holder, rig.url, ['sub-b'], 'b-1');
    await expectSubscribedFirst('sub-b', 'b-1');
    await allOpen(holder.members);
    expect((await rig.status()).accepted, 'the same socket').to.equal(1);
  });

  it("sends the openMessages of elements that join in a following frame at once, the frame's first and later ones", async () => {
    const [holder, follower] = (await open(2)) as [Tab, Tab];
    holder.add(rig.url, {}, (el) => (el.openMessages = ['sub-h']));
    await allOpen(holder.members);
    join(follower, rig.url, ['sub-f1'], 'f1-1');
    await expectSubscribedFirst('sub-f1', 'f1-1');
    await allOpen(follower.members);
    await sleep(200);
    join(follower, rig.url, ['sub-f2'], 'f2-1');
    await expectSubscribedFirst('sub-f2', 'f2-1');
    await allOpen([...holder.members, ...follower.members]);
    expect(follower.members.every(({el}) => !el.leader)).to.equal(true);
    expect((await rig.status()).accepted, 'the same socket').to.equal(1);
  });

  it('does not restart the retry schedule for elements inserted in any frame during an outage', async () => {
    // The same socket settings on two paths, so that the server counts each socket's attempts apart.
    const alone = `${rig.url}/alone`;
    const busy = `${rig.url}/busy`;
    const [lone, ...frames] = (await open(4)) as [Tab, Tab, Tab, Tab];
    lone.add(alone);
    frames[0]!.add(busy);
    await allOpen([...lone.members, ...frames[0]!.members]);
    const before = (await rig.connections()).length;
    const madeBefore = tabs.map((tab) => tab.socketUrls.length);
    // A server in a crash loop: each attempt is accepted, so counted, and dropped at once.
    await rig.setFlap(true);
    await rig.terminateClients();
    const start = performance.now();
    let inserted = 0;
    while (performance.now() - start < 5000) {
      await sleep(250);
      frames[inserted++ % frames.length]!.add(busy);
    }
    // The shared socket's retries count on, one by one, whoever joins: no insertion starts them over.
    const retries = frames[0]!.members[0]!.changes.filter(({state}) => state === 'reconnecting').map(
      ({attempt}) => attempt,
    );
    expect(retries.length, 'retries during the outage').to.be.above(3);
    const restarted = retries.findIndex((n, i) => n !== i + 1);
    expect(restarted, `where the retry numbers stop counting on: ${retries.join(' ')}`).to.equal(-1);
    // Counted by the server, and where the pages make them: Firefox holds back
    // reconnects to a host whose connections keep failing (RFC 6455 §7.2.3),
    // so that there only the pages see every attempt.
    const accepted = (await rig.connections()).slice(before).map(({path}) => path);
    const started = tabs.flatMap((tab, i) =>
      tab.socketUrls.slice(madeBefore[i]).map((url) => new URL(url).pathname),
    );
    for (const [where, paths] of [
      ['at the server', accepted],
      ['in the pages', started],
    ] as const) {
      const byAlone = paths.filter((path) => path === '/alone').length;
      const byBusy = paths.filter((path) => path === '/busy').length;
      expect(byAlone, `attempts of the element alone, ${where}`).to.be.above(3);
      // Full jitter makes the two counts differ by chance; restarting the schedule multiplies one.
      expect(byBusy, `attempts ${where} with ${inserted} insertions, against ${byAlone} alone`).to.be.at.most(
        Math.ceil(byAlone * 1.5) + 2,
      );
    }
  });

  it('lets max-retries run out while elements keep joining in every frame', async () => {
    const settings = {'max-retries': '5'};
    const frames = await open(3);
    frames[0]!.add(rig.url, settings);
    await allOpen(frames[0]!.members);
    frames[1]!.add(rig.url, settings);
    const originals: Member[] = [...frames[0]!.members, ...frames[1]!.members];
    await allOpen(originals);
    const accepted = (await rig.status()).accepted;
    await rig.setFlap(true);
    await rig.terminateClients();
    const closed = (members: Member[]) => members.every(({el}) => el.state === 'closed');
    const deadline = performance.now() + 8000;
    let inserted = 0;
    // Insertions stop once the retries ran out anywhere: an element inserted
    // after that is new, and starts the socket afresh.
    for (;;) {
      await sleep(100);
      if (originals.some(({el}) => el.state === 'closed') || performance.now() > deadline) break;
      frames[inserted++ % frames.length]!.add(rig.url, settings);
    }
    await until(() => closed(originals), {timeout: 3000, message: 'the first elements closed'});
    expect(
      originals.map(({el}) => el.state),
      `the first elements after ${inserted} insertions, one every 100 ms`,
    ).to.deep.equal(originals.map(() => 'closed'));
    for (const {errors} of originals) expect(errors).to.include('retries-exhausted');
    const everyone = frames.flatMap((frame) => frame.members);
    await until(() => closed(everyone), {timeout: 3000, message: 'every element closed'});
    const attempts = (await rig.status()).accepted - accepted;
    expect(attempts, 'attempts after the server began to drop every connection').to.be.at.most(5 + 1);
    await sleep(1000);
    expect((await rig.status()).accepted - accepted, 'no attempt after the socket closed').to.equal(attempts);
  });
});
