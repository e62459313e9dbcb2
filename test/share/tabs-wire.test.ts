// The tabs' conversation is versioned and checked: what another version of
// the library, or other code of the origin, posts on a key's channel never
// closes, stalls or takes over the socket, and never reaches an element.
// Same-origin frames stand in for tabs; the test page posts the junk.
import {expect} from '@open-wc/testing';
import {Rig, sleep, until} from '../support/rig.js';
import {allOpen, leaderIndexes, type Member, openTab, type Tab} from './frames.js';

/** The share key of a bare `shared` element on `url` with no protocols. */
const urlKey = (url: string) => `url ${new URL(url).href} `;
/** This version's channel and lock for a key. */
const versioned = (key: string) => `ws-connection.share.v2 ${key}`;
/** The name the previous, unversioned version used: a tab still on it after a deploy talks there. */
const unversioned = (key: string) => `ws-connection ${key}`;

const STRANGER = 'stranger';
/** Terms no holder has: far off, and later than any a holder of today's clock could take. */
const FAR = 1e300;
const LATER = Date.now() * 1000;
const OPEN_SNAP = {state: 'open', attempt: 0, latency: 1, nextRetryAt: undefined, timeout: 1000};
const CLOSED_SNAP = {...OPEN_SNAP, state: 'closed'};
const CLOSED_CHANGE = {state: 'closed', previousState: 'open', attempt: 0, code: 1008, reason: 'junk'};
const MEGABYTE = 'x'.repeat(1 << 20);

const KINDS = [
  'beat',
  'state',
  'msg',
  'err',
  'ack',
  'again',
  'bye',
  'probe',
  'hello',
  'join',
  'send',
  'drop',
  'cmd',
] as const;

/** Every field any kind has, each of a type it never has. */
const WRONG_FIELDS: Record<string, unknown>[] = [
  {
    term: 'x',
    tab: 7,
    snap: 'open',
    change: 5,
    kind: 3,
    message: {},
    member: 'm',
    seq: 'n',
    to: null,
    low: [],
    open: 'abc',
    op: 9,
    data: undefined,
    id: {},
    v: 'x',
  },
  {
    term: null,
    tab: null,
    snap: null,
    change: null,
    kind: null,
    message: null,
    member: null,
    seq: null,
    to: 'x',
    low: null,
    open: null,
    op: null,
  },
  {
    term: [],
    tab: [],
    snap: [],
    change: [],
    kind: [],
    member: [],
    seq: [],
    to: [],
    low: 'x',
    open: {},
    op: [],
  },
  {
    term: {},
    tab: {},
    snap: {state: 7, attempt: 'x', timeout: 'x'},
    change: {state: 'closed', code: 'x'},
    member: -1,
    seq: -1,
    to: -1,
    low: -1,
    op: {},
  },
  {term: -1, snap: {state: 'closed', timeout: null}, seq: 1.5, member: 1.5, low: 2 ** 53, to: NaN, open: [5]},
  {term: NaN, snap: {...OPEN_SNAP, timeout: 0}, change: {}, seq: Infinity, member: Infinity, op: 'close'},
];

const JUNK: Record<string, unknown[]> = {
  'commands from no tab taking part': [
    {k: 'cmd', op: 'close'},
    {k: 'cmd', tab: STRANGER, op: 'reconnect'},
    {k: 'cmd', tab: STRANGER, op: 'connect'},
    {k: 'cmd', tab: STRANGER, op: 'close', code: 1000},
    {k: 'cmd', op: 'constructor'},
    {k: 'cmd', tab: STRANGER, op: 'toString'},
    {v: 1, k: 'cmd', tab: STRANGER, op: 'close'},
  ],
  'word of a closed socket from no holder': [
    {k: 'state', term: LATER, snap: CLOSED_SNAP, change: CLOSED_CHANGE},
    {k: 'state', term: FAR, snap: CLOSED_SNAP, change: {...CLOSED_CHANGE, code: 1000}},
    {k: 'state', term: 1, snap: CLOSED_SNAP, change: CLOSED_CHANGE},
    {k: 'beat', term: LATER, snap: CLOSED_SNAP},
    {k: 'beat', term: 0, snap: CLOSED_SNAP},
    {k: 'err', term: LATER, kind: 'retries-exhausted', message: 'junk'},
    {k: 'bye', term: LATER},
  ],
  'terms no holder has': [
    {k: 'beat', term: FAR, snap: OPEN_SNAP},
    {k: 'beat', term: Infinity, snap: OPEN_SNAP},
    {k: 'beat', term: -Infinity, snap: OPEN_SNAP},
    {k: 'beat', term: NaN, snap: OPEN_SNAP},
    {k: 'beat', term: LATER, snap: {...OPEN_SNAP, timeout: 0}},
    {k: 'beat', term: LATER, snap: {...OPEN_SNAP, timeout: -1}},
    {k: 'again', term: FAR, tab: STRANGER},
    {k: 'bye', term: FAR},
  ],
  'joins whose openMessages are not a list': [
    {k: 'join', open: 5},
    {k: 'join', tab: STRANGER, open: 5},
    {k: 'join', tab: STRANGER, open: 'abc'},
    {k: 'join', tab: STRANGER, open: null},
    {k: 'join', tab: STRANGER, open: {length: 3}},
    {k: 'join', tab: STRANGER},
  ],
  'every kind with fields of the wrong type': KINDS.flatMap((k) =>
    WRONG_FIELDS.map((fields) => ({k, ...fields})),
  ),
  'every kind with plausible fields, from no tab taking part': [
    {k: 'beat', term: LATER, snap: OPEN_SNAP},
    {
      k: 'state',
      term: LATER,
      snap: {...OPEN_SNAP, state: 'reconnecting'},
      change: {state: 'reconnecting', previousState: 'open', attempt: 1, delay: 100},
    },
    {k: 'msg', term: LATER, data: 'junk-msg'},
    {k: 'msg', term: 1, data: 'junk-msg'},
    {k: 'err', term: LATER, kind: 'heartbeat-timeout', message: 'junk'},
    {k: 'ack', term: LATER, tab: STRANGER, member: 1, seq: 1e9},
    {k: 'again', term: LATER, tab: STRANGER},
    {k: 'bye', term: 1},
    {k: 'probe', tab: STRANGER},
    {k: 'probe', tab: STRANGER, term: LATER, id: 1},
    {k: 'hello', tab: STRANGER},
    {k: 'join', tab: STRANGER, open: []},
    {k: 'send', tab: STRANGER, to: LATER, member: 1, seq: 1, payload: 'junk-send', low: 1},
    {k: 'drop', tab: STRANGER},
    {k: 'drop', tab: STRANGER, member: 1},
    {k: 'cmd', tab: `${STRANGER}-unheard`, op: 'reconnect'},
  ],
  'what is not a message of any kind, and a megabyte': [
    null,
    undefined,
    0,
    1,
    true,
    '',
    'beat',
    [],
    [{k: 'cmd', op: 'close'}],
    new ArrayBuffer(8),
    new Uint8Array([1, 2]),
    new Date(0),
    {},
    {k: 1},
    {k: null},
    {k: ['cmd'], op: 'close'},
    {k: '__proto__'},
    {k: 'constructor'},
    {k: 'toString'},
    {k: 'hasOwnProperty'},
    {k: 'takeover', term: FAR},
    {k: 'BEAT', term: FAR, snap: CLOSED_SNAP},
    MEGABYTE,
    new ArrayBuffer(1 << 20),
    {k: 'msg', term: LATER, data: MEGABYTE},
    {k: 'send', tab: STRANGER, to: LATER, member: 1, seq: 1, low: 1, payload: MEGABYTE},
    {k: 'join', tab: STRANGER, open: [MEGABYTE]},
  ],
};

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
    rig = await Rig.start();
    await rig.setEcho(false);
  });
  afterEach(async () => {
    for (const channel of channels) channel.close();
    channels = [];
    for (const tab of tabs) tab.frame.remove();
    tabs = [];
    await Rig.stopAll();
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

  for (const [family, junk] of Object.entries(JUNK)) {
    it(`ignores ${family}, on this version's channel and the unversioned one`, async () => {
      const {holder, follower, members} = await holderAndFollower();
      const before = record(members);
      const accepted = (await rig.status()).accepted;
      const key = urlKey(rig.url);
      post([versioned(key), unversioned(key)], junk);
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
