// A real tab sharing one socket, as the Chromium tab tests, the benchmarks
// and the soak drive it (test/support/tabs.mjs): a few `<ws-connection shared>`
// elements loaded from the CDN bundle, each sending numbered messages on the
// driver's word and counting what arrives, and a record of the sockets this
// page opened and of its lifecycle.
import '/dist/ws-connection.bundled.js';

// The tab's name, and a mark of this load of it, so that a reloaded tab's
// elements number their messages under names of their own.
const tab = `${new URLSearchParams(location.search).get('tab') ?? 'tab'}-${Math.random().toString(36).slice(2, 6)}`;

/** Every socket this page opened: when it opened, and when it was closed or began to close (epoch ms). */
const sockets = [];
const PageWebSocket = window.WebSocket;
window.WebSocket = class extends PageWebSocket {
  constructor(...args) {
    super(...args);
    const entry = {opened: Date.now(), ended: undefined};
    sockets.push(entry);
    this.addEventListener('close', () => (entry.ended ??= Date.now()));
    this.entry = entry;
  }
  close(...args) {
    this.entry.ended ??= Date.now();
    super.close(...args);
  }
};

const lifecycle = {shows: [], hides: 0, freezes: 0, resumes: 0};
addEventListener('pageshow', (event) => lifecycle.shows.push(event.persisted));
addEventListener('pagehide', () => lifecycle.hides++);
document.addEventListener('freeze', () => lifecycle.freezes++);
document.addEventListener('resume', () => lifecycle.resumes++);

/** The elements, each with its name (`tab.i`), what it sent and had accepted, and what it received. */
const members = [];
let sender;

/** Wall-clock time with sub-millisecond resolution, comparable between tabs. */
const now = () => performance.timeOrigin + performance.now();

window.tab = {
  /** Adds `elements` elements connected to `url`, shared under `key` ('' for the url's; null: not shared). */
  start({url, key = '', elements = 3, attributes = {}}) {
    for (let i = 0; i < elements; i++) {
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
      const member = {
        el,
        name: `${tab}.${i}`,
        sent: 0,
        accepted: [],
        acceptedAt: [],
        refused: 0,
        arrivals: new Map(),
        states: [],
      };
      el.addEventListener('ws-state', ({detail}) => member.states.push(detail.state));
      el.addEventListener('ws-message', ({detail}) => {
        const text = String(detail.data);
        if (text.startsWith('m') && !member.arrivals.has(text)) member.arrivals.set(text, now());
      });
      el.addEventListener('ws-error', ({detail}) => detail.kind === 'queue-overflow' && member.refused++);
      document.body.append(el);
      members.push(member);
    }
  },
  /** Each element sends `s:<name>:<n>`, numbered from 1, every `ms`. */
  sendEvery(ms) {
    clearInterval(sender);
    sender = setInterval(() => {
      for (const member of members) {
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
  state: () => members[0]?.el.state,
  states: () => members.map(({el}) => el.state),
  /** Each element's `ws-state` changes, in order. */
  stateLogs: () => members.map(({states}) => states),
  leader: () => members.some(({el}) => el.leader),
  status: () => members[0]?.el.shadowRoot?.querySelector('[part=status]')?.textContent ?? '',
  /** What each element sent and had accepted, and when (epoch ms). */
  sends: () =>
    members.map(({name, sent, accepted, acceptedAt, refused}) => ({
      name,
      sent,
      accepted,
      acceptedAt,
      refused,
    })),
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
  liveSockets: () => sockets.filter(({ended}) => ended === undefined).length,
  lifecycle: () => lifecycle,
};
window.tabReady = true;
