// Pages paused for a moment (a breakpoint, a busy main thread) miss what
// their BroadcastChannel carried meanwhile: nothing a follower relayed is
// lost for it, and a stop code stays final for a follower that missed it.
// Same-origin frames stand in for tabs; a frame's inbox is gated to drop
// what arrives while it stands for a paused page.
import {expect} from '@open-wc/testing';
import {Rig, sleep, until} from '../support/rig.js';
import {allOpen, closeTabs, gateInbox, leaderIndexes, openTab, startRig, type Tab} from './frames.js';

describe('shared across tabs: paused pages', () => {
  let rig: Rig;
  let tabs: Tab[] = [];

  beforeEach(async () => {
    rig = await startRig();
    tabs = [];
  });
  afterEach(closeTabs);

  it('delivers a message a holder missed while paused within a beat of its running again, with no later send', async () => {
    const holder = await openTab();
    const follower = await openTab();
    tabs.push(holder, follower);
    const inbox = gateInbox(holder);
    holder.add(rig.url);
    await allOpen(holder.members);
    follower.add(rig.url);
    await allOpen(follower.members);
    await sleep(300);
    inbox.drop = true;
    await sleep(100);
    expect(follower.members[0]!.el.send('while-paused')).to.equal(true);
    await sleep(400);
    inbox.drop = false;
    const resumed = performance.now();
    expect(inbox.dropped, 'messages the paused holder missed').to.be.above(0);
    await until(async () => (await rig.received()).includes('while-paused'), {
      timeout: 2000,
      message: 'the message within a beat of the holder running again',
    });
    const waited = performance.now() - resumed;
    expect(leaderIndexes(tabs), `the same holder (arrived ${Math.round(waited)} ms after)`).to.deep.equal([
      0,
    ]);
    expect(await rig.status()).to.include({accepted: 1, open: 1});
    expect((await rig.received()).filter((m) => m === 'while-paused')).to.have.length(1);
  });

  it('keeps a stop code final for a follower that missed it while paused: it ends closed, and no socket opens', async () => {
    const holder = await openTab();
    const follower = await openTab();
    tabs.push(holder, follower);
    const inbox = gateInbox(follower);
    holder.add(rig.url);
    await allOpen(holder.members);
    follower.add(rig.url);
    await allOpen(follower.members);
    await sleep(300);
    const stopped = follower.members[0]!.states.length;
    inbox.drop = true;
    await rig.closeClients(1008, 'policy');
    await until(() => holder.members[0]!.el.state === 'closed', {message: 'the holder closed'});
    // Paused past the moment the holder's page let the lock go.
    await sleep(600);
    inbox.drop = false;
    expect(inbox.dropped, 'messages the paused follower missed').to.be.above(0);
    const el = follower.members[0]!.el;
    await until(async () => el.state === 'closed' || (await rig.status()).accepted > 1, {
      timeout: 5000,
      message: 'the follower to learn of the stop code',
    });
    expect((await rig.status()).accepted, 'sockets opened').to.equal(1);
    expect(el.state).to.equal('closed');
    await sleep(1000);
    expect(await rig.status()).to.include({accepted: 1, open: 0});
    expect(el.state).to.equal('closed');
    expect(follower.members[0]!.states.slice(stopped), "the follower's states after the stop").not.to.include(
      'open',
    );
    expect(holder.members[0]!.el.state).to.equal('closed');
    expect([...holder.pageErrors, ...follower.pageErrors]).to.deep.equal([]);
  });
});
