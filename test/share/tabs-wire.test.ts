// The tabs' conversation is versioned and checked: what another version of
// the library, or other code of the origin, posts on a key's channel never
// closes, stalls or takes over the socket, and never reaches an element.
// Same-origin frames stand in for tabs; the test page posts the junk.
import {expect} from '@open-wc/testing';
import {Rig, sleep, until} from '../support/rig.js';
import {junkFamilies} from '../support/junk.mjs';
import {allOpen, closeTabs, leaderIndexes, type Member, openTab, startRig, type Tab} from './frames.js';

/** The share key of a bare `shared` element on `url` with no protocols. */
const urlKey = (url: string) => `url ${new URL(url).href} `;
/** This version's channel and lock for a key. */
const versioned = (key: string) => `ws-connection.share.v2 ${key}`;
/** The name the previous, unversioned version used: a tab still on it after a deploy talks there. */
const unversioned = (key: string) => `ws-connection ${key}`;

/** What each element has reported so far, and who holds the socket. */
function record(members: Member[]) {
  return members.map(({el, states, messages, errors}) => ({
    states: [...states],
    messages: [...messages],
    errors: [...errors],
    leader: el.leader,
  }));
}

describe('shared across tabs: junk on the channel', () => {
  let rig: Rig;
  let tabs: Tab[] = [];
  let channels: BroadcastChannel[] = [];

  beforeEach(async () => {
    rig = await startRig();
    tabs = [];
  });
  afterEach(async () => {
    for (const channel of channels) channel.close();
    channels = [];
    await closeTabs();
  });

  /** A holding frame with two elements and a following frame with one, all open. */
  async function holderAndFollower() {
    const holder = await openTab();
    const follower = await openTab();
    tabs.push(holder, follower);
    holder.add(rig.url);
    await allOpen(holder.members);
    follower.add(rig.url);
    holder.add(rig.url);
    const members = [...holder.members, ...follower.members];
    await allOpen(members);
    expect(leaderIndexes(tabs)).to.deep.equal([0]);
    // Let the follower's introduction and the first beats pass.
    await sleep(500);
    return {holder, follower, members};
  }

  function post(names: string[], messages: unknown[]) {
    for (const name of names) {
      const channel = new BroadcastChannel(name);
      channels.push(channel);
      for (const message of messages) channel.postMessage(message);
    }
  }

  /** Messages still flow both ways: each frame's sends reach the server, and the server's reach every element. */
  async function expectFlowing(holder: Tab, follower: Tab, members: Member[], mark: string) {
    expect(follower.members[0]!.el.send(`${mark}-from-follower`)).to.equal(true);
    expect(holder.members[1]!.el.send(`${mark}-from-holder`)).to.equal(true);
    // Taken as it comes: a stranger's megabyte may be among it.
    const received: unknown[] = [];
    await until(
      async () => {
        received.push(...(await rig.takeReceived()));
        return received.includes(`${mark}-from-follower`) && received.includes(`${mark}-from-holder`);
      },
      {timeout: 5000, message: `${mark}: both frames' sends at the server`},
    );
    await rig.send(`${mark}-to-all`);
    await until(() => members.every(({messages}) => messages.includes(`${mark}-to-all`)), {
      timeout: 5000,
      message: `${mark}: the server's message at every element`,
    });
  }

  it("talks on a channel and a lock whose names carry the conversation's version", async () => {
    const key = urlKey(rig.url);
    const heard: unknown[] = [];
    const sniffer = new BroadcastChannel(versioned(key));
    channels.push(sniffer);
    sniffer.onmessage = ({data}) => heard.push(data);
    await holderAndFollower();
    const {held = []} = await navigator.locks.query();
    expect(held.map(({name}) => name)).to.include(versioned(key));
    expect(held.map(({name}) => name)).not.to.include(unversioned(key));
    await until(() => heard.length > 0, {message: `a message on "${versioned(key)}"`});
  });

  for (const family of Object.keys(junkFamilies(Date.now()))) {
    it(`ignores ${family}, on this version's channel and the unversioned one`, async () => {
      const key = urlKey(rig.url);
      // Who takes part, as heard on the channel: messages valid but for one field come in their names.
      const heard: {holder?: string; term?: number; follower?: string} = {};
      const sniffer = new BroadcastChannel(versioned(key));
      channels.push(sniffer);
      sniffer.onmessage = ({data}) => {
        if (data?.k === 'beat') Object.assign(heard, {holder: data.from, term: data.term});
        if (data?.k === 'ack') heard.follower = data.to;
      };
      const {holder, follower, members} = await holderAndFollower();
      follower.members[0]!.el.send('follower says');
      await until(() => !!heard.holder && !!heard.follower, {message: 'the holder and the follower heard'});
      await until(async () => (await rig.takeReceived()).includes('follower says'), {
        message: "the follower's message at the server",
      });
      const before = record(members);
      const accepted = (await rig.status()).accepted;
      post([versioned(key), unversioned(key)], junkFamilies(Date.now(), heard)[family]!);
      // Long enough for a follower's watch of the holder to run out, had the junk fooled it.
      await sleep(2000);
      const after = record(members);
      after.forEach((now, i) => {
        expect(now.states, `element ${i}: ws-state events`).to.deep.equal(before[i]!.states);
        expect(now.messages, `element ${i}: ws-message events`).to.deep.equal(before[i]!.messages);
        expect(now.errors, `element ${i}: ws-error events`).to.deep.equal(before[i]!.errors);
        expect(now.leader, `element ${i}: leader`).to.equal(before[i]!.leader);
      });
      expect(members.map(({el}) => el.state)).to.deep.equal(members.map(() => 'open'));
      expect(await rig.status()).to.include({accepted, open: 1});
      expect([...holder.pageErrors, ...follower.pageErrors]).to.deep.equal([]);
      await expectFlowing(holder, follower, members, 'after-junk');
      // And the next open, which renews every tab's subscriptions, still goes through.
      const opens = members.map(({states}) => states.filter((s) => s === 'open').length);
      await rig.terminateClients();
      await until(
        () => members.every(({states}, i) => states.filter((s) => s === 'open').length > opens[i]!),
        {
          timeout: 5000,
          message: 'every element open again after the server dropped the socket',
        },
      );
      await expectFlowing(holder, follower, members, 'after-reopen');
      expect(leaderIndexes(tabs)).to.deep.equal([0]);
      expect(await rig.status()).to.include({accepted: accepted + 1, open: 1});
      expect([...holder.pageErrors, ...follower.pageErrors]).to.deep.equal([]);
    });
  }
});
