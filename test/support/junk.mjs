/**
 * What other code of the origin, or another version of the library, may post
 * on a key's channel: none of it may close, stall or take over the socket,
 * or reach an element. One list for the multi-tab world
 * (test/node/share-world.node.test.mjs), the frames of
 * test/share/tabs-wire.test.ts and the shared soak (soak/shared.mjs), which
 * runs this function in a page as it is: so it uses no name from outside.
 *
 * `now` is epoch ms: the term a holder of today would take. `as` names the
 * tabs taking part, as heard on the channel: the holder's tab and term, and a
 * following tab. Messages valid but for one field come in their names, so
 * that only the check of that field stops them; the rest come from tabs that
 * take no part. Each family is a list of messages; every text in them says
 * `junk`, so that an element that got one would tell.
 *
 * @param {number} now
 * @param {{holder?: string, term?: number, follower?: string}} [as]
 * @returns {Record<string, unknown[]>}
 */
export function junkFamilies(now, {holder = 'junk', term = now, follower = 'junk'} = {}) {
  const megabyte = 'junk'.repeat(262_144);
  /** Terms no holder has: far off, and later than any a holder of today's clock could take. */
  const far = 1e300;
  const later = now * 1000;
  const openSnap = {state: 'open', attempt: 0, latency: 1, nextRetryAt: undefined, timeout: 1000};
  const closedSnap = {...openSnap, state: 'closed'};
  const final = {code: 1008, reason: 'junk', attempt: 0};
  const change = {state: 'closed', previousState: 'open', attempt: 0, code: 1008, reason: 'junk'};
  // Each kind of today's wire (src/share/wire.ts), whole.
  const holderKinds = {
    beat: {snap: closedSnap, finals: 1, final},
    state: {snap: closedSnap, finals: 1, final, change},
    msg: {data: 'junk msg'},
    err: {kind: 'socket-error', message: 'junk err'},
    ack: {to: 'junk', member: 1, taken: 1e6, written: 1e6},
    again: {to: 'junk'},
    bye: {},
  };
  const followerKinds = {
    probe: {tab: 'junk'},
    join: {tab: 'junk', member: 1, open: ['junk join']},
    send: {tab: 'junk', to: 1, member: 1, seq: 1, low: 1, payload: 'junk send'},
    drop: {tab: 'junk', member: 1},
    cmd: {tab: 'junk', op: 'reconnect'},
    seen: {tab: 'junk', term: 1, finals: 1},
  };
  const kinds = [...Object.keys(holderKinds), ...Object.keys(followerKinds), 'hello'];
  // Fields a message may leave out.
  const optional = new Set(['final', 'member@drop']);
  // Of no field's type: each makes a message invalid wherever it stands.
  const wrong = [null, Number.NaN, -1, Infinity, {}, true, [1], 'x'.repeat(70)];

  /** Valid but for one field (left out, or of a wrong type), from the holder in its term, or a following tab. */
  const butOne = [];
  const variants = (k, base) => {
    for (const field of Object.keys(base)) {
      if (field === 'k') continue;
      if (!optional.has(field) && !optional.has(`${field}@${k}`)) {
        const {[field]: _, ...without} = base;
        butOne.push(without);
      }
      for (const value of wrong) {
        // A long string is a payload or a reason: wrong only for an id or a kind.
        if (typeof value === 'string' && !['tab', 'to', 'from', 'kind', 'op'].includes(field)) continue;
        butOne.push({...base, [field]: value});
      }
    }
  };
  /** Whole, from a holder long gone, from one whose term is too far ahead to be real, from a tab not taking part. */
  const whole = [];
  for (const [k, fields] of Object.entries(holderKinds)) {
    variants(k, {k, term, from: holder, ...fields});
    whole.push(
      {k, term: 1, from: 'junk', ...fields},
      {k, term: far, from: 'junk', ...fields},
      {k, term: now + 3_600_000, from: 'junk', ...fields},
    );
  }
  for (const [k, fields] of Object.entries(followerKinds)) {
    variants(k, {k, ...fields, tab: follower});
    whole.push({k, ...fields});
  }

  return {
    'commands from no tab taking part': [
      {k: 'cmd', op: 'close'},
      {k: 'cmd', tab: 'junk', op: 'close'},
      {k: 'cmd', tab: 'junk', op: 'connect'},
      {k: 'cmd', tab: 'junk', op: 'close', code: 1000},
      {k: 'cmd', tab: 'junk', op: 'send'},
      {k: 'cmd', op: 'constructor'},
      {k: 'cmd', tab: 'junk', op: 'toString'},
      {v: 1, k: 'cmd', tab: 'junk', op: 'close'},
    ],
    'word of a closed socket from no holder': [
      {k: 'state', term: later, from: 'junk', snap: closedSnap, finals: 1, final, change},
      {k: 'state', term: far, snap: closedSnap, change: {...change, code: 1000}},
      {k: 'state', term: 1, snap: closedSnap, change},
      {k: 'beat', term: later, snap: closedSnap},
      {k: 'beat', term: 0, snap: closedSnap},
      {k: 'err', term: later, kind: 'retries-exhausted', message: 'junk'},
      {k: 'bye', term: later},
    ],
    'terms no holder has': [
      {k: 'beat', term: far, snap: openSnap},
      {k: 'beat', term: Infinity, snap: openSnap},
      {k: 'beat', term: -Infinity, snap: openSnap},
      {k: 'beat', term: Number.NaN, snap: openSnap},
      {k: 'beat', term: later, snap: {...openSnap, timeout: 0}},
      {k: 'beat', term: later, snap: {...openSnap, timeout: -1}},
      {k: 'again', term: far, tab: 'junk'},
      {k: 'bye', term: far},
    ],
    'joins whose openMessages are not a list': [
      {k: 'join', open: 5},
      {k: 'join', tab: 'junk', open: 5},
      {k: 'join', tab: 'junk', open: 'junk'},
      {k: 'join', tab: 'junk', open: null},
      {k: 'join', tab: 'junk', open: {length: 3}},
      {k: 'join', tab: 'junk'},
    ],
    'every kind valid but for one field': butOne,
    'every kind with every field of a type it never has': kinds.flatMap((k) =>
      [
        {term: 'x', tab: 7, snap: 'open', change: 5, kind: 3, message: {}, member: 'm', seq: 'n', to: null},
        {low: [], open: 'junk', op: 9, data: undefined, id: {}, v: 'x', finals: 'x', final: 'x'},
        {term: null, tab: null, snap: null, change: null, kind: null, member: null, seq: null, op: null},
        {term: [], tab: [], snap: [], change: [], kind: [], member: [], seq: [], to: [], op: []},
        {
          term: {},
          tab: {},
          snap: {state: 7, attempt: 'x', timeout: 'x'},
          change: {state: 'closed', code: 'x'},
        },
        {term: -1, snap: {state: 'closed', timeout: null}, seq: 1.5, member: 1.5, low: 2 ** 53, open: [5]},
        {term: Number.NaN, snap: {...openSnap, timeout: 0}, change: {}, seq: Infinity, member: Infinity},
      ].map((fields) => ({k, ...fields})),
    ),
    'every kind whole, from a holder long gone, too far ahead, or no tab taking part': whole,
    'every kind whole, as other versions might word it': whole.flatMap((message) => {
      const {k, ...rest} = message;
      return [
        {...message, v: 1},
        {...message, v: 2},
        {...message, version: 2},
        {...rest, type: k},
        {...rest, kind: k},
      ];
    }),
    'the unversioned wire of the library before it': [
      {k: 'beat', term: far},
      {k: 'beat', term: now, snap: closedSnap},
      {k: 'state', term: now, snap: closedSnap, change},
      {k: 'msg', term: now, data: 'junk old msg'},
      {k: 'err', term: now, kind: 'socket-error', message: 'junk old err'},
      {k: 'join', tab: 'junk', open: 5},
      {k: 'hello', tab: 'junk'},
      {k: 'ack', term: now, tab: 'junk', member: 0, seq: 1e9},
      {k: 'bye', term: now},
    ],
    'what is not a message of any kind, and a megabyte': [
      null,
      undefined,
      0,
      42,
      -1,
      Number.NaN,
      true,
      false,
      10n,
      '',
      'beat',
      [],
      [1, 2],
      [{k: 'cmd', op: 'close'}],
      new ArrayBuffer(16),
      new Uint8Array([1, 2, 3]),
      new Blob(['junk blob']),
      new Date(0),
      new Map([['k', 'cmd']]),
      new Set(['beat']),
      /beat/,
      {},
      {term: far},
      {tab: 'junk'},
      {k: 1},
      {k: null},
      {k: ''},
      {k: ['cmd'], op: 'close'},
      {k: 'junk', tab: 'junk'},
      {k: '__proto__', tab: 'junk'},
      {k: 'constructor', tab: 'junk'},
      {k: 'toString', term: now, from: 'junk'},
      {k: 'hasOwnProperty', tab: 'junk'},
      {k: 'BEAT', term: far, snap: closedSnap},
      {k: 'beat', term: far, extra: 'junk'.repeat(256)},
      megabyte,
      new ArrayBuffer(1 << 20),
      {k: 'msg', term: 1, from: 'junk', data: megabyte},
      {k: 'send', tab: 'junk', to: now, member: 1, seq: 1, low: 1, payload: megabyte},
      {k: 'join', tab: 'junk', open: [megabyte]},
    ],
  };
}
