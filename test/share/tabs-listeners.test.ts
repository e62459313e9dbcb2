// A listener may call any method from inside any event of a shared element:
// `connect()` in the `closed` a server stop code brought reopens the socket
// for that element alone. Same-origin frames stand in for tabs.
import {expect} from '@open-wc/testing';
import type {WsConnection} from '../../src/ws-connection.js';
import {Rig, sleep, until} from '../support/rig.js';
import {allOpen, closeTabs, type Member, openTab, startRig, type Tab} from './frames.js';

describe('shared across tabs: connect() from a listener', () => {
  let rig: Rig;
  let tabs: Tab[] = [];

  beforeEach(async () => {
    rig = await startRig();
    tabs = [];
  });
  afterEach(closeTabs);

  /** Calls `connect()` from the element's first `closed` with code 1008, and records how that went. */
  function reconnectOnStop(calls: string[]) {
    return (el: WsConnection) =>
      el.addEventListener('ws-state', ({detail}) => {
        if (detail.state !== 'closed' || detail.code !== 1008 || calls.length) return;
        try {
          el.connect();
          calls.push('returned');
        } catch (error) {
          calls.push(`threw ${error}`);
        }
      });
  }

  async function expectOnlyItReopened(reopening: Member, others: Member[], calls: string[], frames: Tab[]) {
    await until(() => calls.length > 0, {message: 'the stop code’s closed'});
    expect(calls, 'connect() from the listener').to.deep.equal(['returned']);
    await until(() => reopening.el.state === 'open', {timeout: 5000, message: 'the element to reopen'});
    await sleep(500);
    expect(
      others.map(({el}) => el.state),
      'the other elements',
    ).to.deep.equal(others.map(() => 'closed'));
    expect(reopening.el.state).to.equal('open');
    expect(await rig.status()).to.include({accepted: 2, open: 1});
    expect(frames.flatMap((frame) => frame.pageErrors)).to.deep.equal([]);
    expect(reopening.el.send('after-reopen')).to.equal(true);
    await until(async () => (await rig.received()).includes('after-reopen'), {
      message: 'a send after the reopen',
    });
  }

  it('reopens for the element whose listener calls it, in the holding page with two elements', async () => {
    const holder = await openTab();
    tabs.push(holder);
    const calls: string[] = [];
    const reopening = holder.add(rig.url, {}, reconnectOnStop(calls));
    const other = holder.add(rig.url);
    await allOpen(holder.members);
    await rig.closeClients(1008, 'policy');
    await expectOnlyItReopened(reopening, [other], calls, tabs);
  });

  it('reopens for the element whose listener calls it, in a following frame with two elements', async () => {
    const holder = await openTab();
    const follower = await openTab();
    tabs.push(holder, follower);
    const held = holder.add(rig.url);
    await allOpen(holder.members);
    const calls: string[] = [];
    const reopening = follower.add(rig.url, {}, reconnectOnStop(calls));
    const other = follower.add(rig.url);
    await allOpen(follower.members);
    expect(reopening.el.leader).to.equal(false);
    await rig.closeClients(1008, 'policy');
    await expectOnlyItReopened(reopening, [other, held], calls, tabs);
  });
});
