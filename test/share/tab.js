// A real tab sharing one socket, as the Chromium tab tests, the benchmarks
// and the soak drive it (test/support/tabs.mjs): a few `<ws-connection shared>`
// elements loaded from the CDN bundle, each sending numbered messages on the
// driver's word and counting what arrives, and a record of the sockets this
// page opened and of its lifecycle. Elements can be added and removed later,
// and each keeps a log of its states, errors and messages while on the page.
import '/dist/ws-connection.bundled.js';

// The tab's name, and a mark of this load of it, so that a reloaded tab's
// elements number their messages under names of their own.
const tab = `${new URLSearchParams(location.search).get('tab') ?? 'tab'}-${Math.random().toString(36).slice(2, 6)}`;

/**
 * Every socket this page opened: when it opened, and when it was closed or
 * began to close (epoch ms), and when this page last took the lock from a
 * holder that did not answer (`steal`), if it did before this socket.
 */
const sockets = [];
let stoleAt;
const locks = navigator.locks;
if (locks) {
  const request = locks.request.bind(locks);
  locks.request = (name, ...rest) => {
    if (typeof rest[0] === 'object' && rest[0]?.steal) stoleAt = Date.now();
    return request(name, ...rest);
  };
}
const PageWebSocket = window.WebSocket;
window.WebSocket = class extends PageWebSocket {
  constructor(...args) {
    super(...args);
    const entry = {opened: Date.now(), ended: undefined, stoleAt};
    sockets.push(entry);
    this.addEventListener('close', () => (entry.ended ??= Date.now()));
    this.entry = entry;
  }
  close(...args) {
    this.entry.ended ??= Date.now();
    tellRig();
    super.close(...args);
  }
};

/**
 * While `Tab.leave` waits to know whether this load comes back: every
 * moment its records change as it goes (a socket it closes, the end of its
 * `pagehide`), they go to the rig in a beacon, which outlives the page. A
 * page that the browser evicts from the back/forward cache as it goes in
 * (another tab asked for a lock it held) loses what it writes to storage
 * after that, even within its `pagehide`, and its later beacons: the
 * earlier ones are its last word.
 */
let telling = false;
let leaving = false;
function tellRig() {
  if (!telling || !leaving) return;
  const word = JSON.stringify({at: Date.now(), sockets, logs: logs()});
  navigator.sendBeacon(`/last-word?load=${encodeURIComponent(tab)}`, word);
}

/** Counts of each lifecycle event, and each one as [epoch ms, type]. */
const lifecycle = {shows: [], hides: 0, freezes: 0, resumes: 0, events: []};
const happened = (type) => lifecycle.events.push([Date.now(), type]);
addEventListener('pageshow', (event) => {
  leaving = false;
  lifecycle.shows.push(event.persisted);
  happened('pageshow');
});
addEventListener('pagehide', () => {
  leaving = true;
  lifecycle.hides++;
  happened('pagehide');
});
document.addEventListener('freeze', () => {
  lifecycle.freezes++;
  happened('freeze');
});
document.addEventListener('resume', () => {
  lifecycle.resumes++;
  happened('resume');
});

/** The elements, each with its name (`tab.i`), what it sent and had accepted, and what it received. */
const members = [];
/** Those still on the page. */
const present = () => members.filter((member) => member.removedAt === undefined);
let sender;
let options;

/** Wall-clock time with sub-millisecond resolution, comparable between tabs. */
const now = () => performance.timeOrigin + performance.now();

/** What a log keeps of a text: enough to recognise it. */
const brief = (value) => String(value).slice(0, 80);

/**
 * Adds one element with the options given to `start`, or `overrides`;
 * resolves to its name and when it went in.
 */
function add(overrides = {}) {
  const {url, key, attributes, openMessages} = {...options, ...overrides};
  const el = document.createElement('ws-connection');
  const settings = {
    // `key: null` leaves sharing off, for comparison.
    ...(key === null ? {} : {shared: key}),
    'heartbeat-interval': '500',
    timeout: '1000',
    'reconnect-delay': '100',
    'max-reconnect-delay': '1000',
    ...attributes,
  };
  for (const [name, value] of Object.entries(settings)) el.setAttribute(name, value);
  el.url = url;
  const name = `${tab}.${members.length}`;
  // A subscription of its own, so that the server can tell whose went out on which connection.
  if (openMessages) el.openMessages = Array.isArray(openMessages) ? openMessages : [`o:${name}`];
  const member = {
    el,
    name,
    sent: 0,
    accepted: [],
    acceptedAt: [],
    refused: 0,
    arrivals: new Map(),
    insertedAt: Date.now(),
    removedAt: undefined,
    /** While on the page: [epoch ms, state, code] of each change, [epoch ms, kind, message] of each error. */
    states: [],
    errors: [],
    messages: 0,
    messageExamples: [],
  };
  const here = () => member.removedAt === undefined;
  el.addEventListener('ws-message', ({detail}) => {
    const text = String(detail.data);
    if (text.startsWith('m') && !member.arrivals.has(text)) member.arrivals.set(text, now());
    if (!here()) return;
    member.messages++;
    if (member.messageExamples.length < 5) member.messageExamples.push(brief(text));
  });
  el.addEventListener('ws-error', ({detail}) => {
    if (detail.kind === 'queue-overflow') member.refused++;
    if (here()) member.errors.push([Date.now(), detail.kind, brief(detail.message)]);
  });
  el.addEventListener('ws-state', ({detail}) => {
    if (here()) member.states.push([Date.now(), detail.state, detail.code ?? null]);
  });
  document.body.append(el);
  members.push(member);
  return {name, at: member.insertedAt};
}

/** Each element's stay on the page and what it saw meanwhile. */
const logs = () =>
  members.map(({name, insertedAt, removedAt, states, errors, messages, messageExamples}) => ({
    name,
    insertedAt,
    removedAt,
    states,
    errors,
    messages,
    messageExamples,
  }));

window.tab = {
  /**
   * Adds `elements` elements connected to `url`, shared under `key` ('' for
   * the url's; null: not shared), each with an `openMessages` of its own
   * (`o:<name>`) with `openMessages`; resolves to their names and times.
   */
  start({url, key = '', elements = 3, attributes = {}, openMessages = false}) {
    options = {url, key, attributes, openMessages};
    return Array.from({length: elements}, () => add());
  },
  /** Adds `count` more elements like the first ones. */
  add: (count = 1) => Array.from({length: count}, () => add()),
  /**
   * Adds one more element, as a page that adds a widget does, with its own
   * `openMessages`: its name and when it went into the page (epoch ms).
   */
  insert({url, key = '', attributes = {}, openMessages = []}) {
    options ??= {url, key, attributes, openMessages: false};
    const {name, at} = add({url, key, attributes, openMessages});
    return {name, insertedAt: at};
  },
  /** Takes the element named `name` out of the page: whether it was there. */
  removeNamed(name) {
    const member = present().find((candidate) => candidate.name === name);
    if (!member) return false;
    member.removedAt = Date.now();
    member.el.remove();
    return true;
  },
  /** Removes the `index`th element still on the page; resolves to its name and when, or null. */
  remove(index = 0) {
    const member = present()[index];
    if (!member) return null;
    member.removedAt = Date.now();
    member.el.remove();
    return {name: member.name, at: member.removedAt};
  },
  /** Calls `connect()` on every element on the page. */
  connectAll: () => present().forEach(({el}) => el.connect()),
  /** Each element sends `s:<name>:<n>`, numbered from 1, every `ms`. */
  sendEvery(ms) {
    clearInterval(sender);
    sender = setInterval(() => {
      for (const member of present()) {
        const n = ++member.sent;
        if (member.el.send(`s:${member.name}:${n}`)) {
          member.accepted.push(n);
          member.acceptedAt.push(Date.now());
        }
      }
    }, ms);
  },
  stopSending: () => clearInterval(sender),
  /** Element `i` sends `data` once; what `send()` returned. */
  send: (i, data) => members[i]?.el.send(data) ?? false,
  /** Each element's `ws-state` changes, in order. */
  stateLogs: () => members.map(({states}) => states.map(([, state]) => state)),
  state: () => present()[0]?.el.state,
  states: () => present().map(({el}) => el.state),
  leader: () => present().some(({el}) => el.leader),
  status: () => present()[0]?.el.shadowRoot?.querySelector('[part=status]')?.textContent ?? '',
  /** What each element sent and had accepted, and when (epoch ms); `removed` for one taken off the page. */
  sends: () =>
    members.map(({name, sent, accepted, acceptedAt, refused, removedAt}) => ({
      name,
      sent,
      accepted,
      acceptedAt,
      refused,
      ...(removedAt === undefined ? {} : {removed: true}),
    })),
  /** Each element's stay on the page and what it saw meanwhile. */
  logs,
  /** When the first element received each of `names` (`m…` messages), or null. */
  arrivals: (names) => names.map((name) => members[0]?.arrivals.get(name) ?? null),
  /** How many `m…` messages each element has received. */
  received: () => members.map(({arrivals}) => arrivals.size),
  /** The first element's first and last `m…` arrival, and how many arrived. */
  batch() {
    const times = [...(members[0]?.arrivals.values() ?? [])];
    return {count: times.length, first: Math.min(...times), last: Math.max(...times)};
  },
  clearArrivals: () => members.forEach(({arrivals}) => arrivals.clear()),
  sockets: () => sockets,
  /**
   * From now on, tells the rig of this load's records as it leaves, and
   * last at the end of its `pagehide` (this listener comes after its
   * elements'); resolves to the mark the rig keeps them under.
   */
  tellOnLeave() {
    if (!telling) addEventListener('pagehide', tellRig);
    telling = true;
    return tab;
  },
  liveSockets: () => sockets.filter(({ended}) => ended === undefined).length,
  lifecycle: () => lifecycle,
};
window.tabReady = true;
