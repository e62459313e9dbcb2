// A deterministic world of several tabs in one Node process, for unit tests
// of sharing: one global clock that only the test moves, per-tab timers that
// can run late (aligned wake-ups, as browsers throttle background tabs), tabs
// that pause, hang, close or are killed, a fake Web Locks, a fake
// BroadcastChannel bus and a fake WebSocket server. Every tab's environment
// fits `SharedClient` (Environment & ShareEnvironment), with its own registry.
//
// Everything runs as a task of a tab (timers, lock grants, channel messages,
// socket events, page signals) or of the network (what reaches the server),
// in global-time order; microtasks are drained fully after each task. The
// fakes' promises settle only while the world runs: start `world.settle()`
// (or `advance`) before awaiting one.
//
//   const world = new TabWorld({seed, randomRange, trace});
//   const tab = world.tab({name, sandboxed, locks: false, channel: false});
//   new SharedClient(options, tab.environment);
//   await world.advance(ms) · world.settle() · world.runUntil(check, ms) → boolean
//   world.now · world.seed · world.tabs · world.pending · world.errors · world.unhandled
//   world.channelNames() · world.postRaw(name, data) · world.after(ms, run, label)
//   world.locks.snapshot() · world.locks.steals: [{at, name, tab, from}]
//   tab.throttle(alignMs) · tab.pause(ms) · tab.hang(ms) · await tab.close()
//   await tab.kill() · await tab.signal('online' | 'offline' | 'visible' |
//     'resume' | 'pageshow' | 'pagehide' | 'freeze')
//   tab.channelDelay = ms · tab.dropChannel = true | (data, {from, name}) => bool
//   tab.stealNotice = ms (how late the tab hears that its lock was stolen)
//   tab.state · tab.posts · tab.channelDropped · tab.timers · tab.watchers
//   tab.sockets · tab.errors · tab.unhandled · tab.online · tab.id (query()'s clientId)
//   world.server.mode = 'accept' | 'refuse' | 'hold' | 'blackhole'
//   world.server.answerPings · push(data) · closeAll(code, reason)
//   world.server.connections[i]: {id, tab, url, createdAt, openedAt, closedAt,
//     closedBy, code, reason, received: [{at, data}], lost, send(data), close(code)}
//   world.server.attempts · received · messages({pings}) · openConnections
//   world.server.live · open · peakLive · peakOpen · timeline · peak({open, exclude})
//   world.server.application: {accept(conn) → protocol | undefined, receive(conn, data),
//     ended(conn)}, a server application behind the fake (tab-world-reliable.mjs)

const drain = () => new Promise((resolve) => setImmediate(resolve));

/** Guards against a task that schedules itself at the same moment forever. */
const MAX_STEPS = 2_000_000;

const ENGINE_SIGNALS = new Set(['online', 'offline', 'visible', 'resume', 'pageshow', 'pagehide']);
const PAGE_SIGNALS = {pagehide: 'leave', freeze: 'leave', pageshow: 'return', resume: 'return'};
const SIGNALS = new Set([...ENGINE_SIGNALS, ...Object.keys(PAGE_SIGNALS)]);

/** Rejections our fakes made, by reason, so that an unhandled one names its tab. */
const reasonTab = new WeakMap();
/** Worlds alive, the latest last: an unhandled rejection nobody claims goes to it. */
const liveWorlds = new Set();

function onUnhandled(reason) {
  const tab = (reason !== null && typeof reason === 'object' && reasonTab.get(reason)) || undefined;
  const world = tab?.world ?? [...liveWorlds].at(-1);
  if (!world) return;
  const owner = tab ?? world.lastTab;
  const entry = {at: world.now, tab: owner?.name, reason};
  world.unhandled.push(entry);
  owner?.unhandled.push(entry);
}

function domError(tab, name, message) {
  const error = new DOMException(message, name);
  if (tab) reasonTab.set(error, tab);
  return error;
}

/** A small fast PRNG (mulberry32); its seed is mixed from the world's and the tab's number. */
function prng(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function mix(seed, index) {
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca77)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  return (h ^ (h >>> 15)) >>> 0;
}

function preview(data) {
  let text;
  try {
    text = typeof data === 'string' ? data : JSON.stringify(data);
  } catch {
    text = String(data);
  }
  text = String(text);
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}

function copyData(data) {
  if (data instanceof ArrayBuffer) return data.slice(0);
  if (ArrayBuffer.isView(data)) return data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
  return data;
}

/**
 * The world. `seed` drives every tab's `random()`; `randomRange` narrows the
 * values it gives (for a test that wants retry delays near their mean but
 * still distinct values); `trace` logs every task.
 */
export class TabWorld {
  /** Global monotonic time, ms; `epochNow()` is `epochStart + now`. */
  now = 0;
  /** Every rejection left unhandled while this world ran: `{at, tab, reason}`. */
  unhandled = [];
  /** Every error a task threw (a listener, a timer callback): `{at, tab, error}`. */
  errors = [];
  /** The tab whose task ran last. */
  lastTab = undefined;
  #tasks = new Set();
  #seq = 0;
  #tabs = [];
  #channels = new Set();
  /** When the last message from one sender to one receiving channel arrives, to keep their order. */
  #lastArrival = new WeakMap();
  #stranger = {};

  constructor({seed = 1, epochStart = 1_700_000_000_000, randomRange = [0, 1], trace = false} = {}) {
    this.seed = seed;
    this.epochStart = epochStart;
    this.randomRange = randomRange;
    this.trace = trace || process.env.TAB_WORLD_TRACE === '1';
    this.locks = new FakeLocks(this);
    this.server = new FakeServer(this);
    if (!liveWorlds.size) process.on('unhandledRejection', onUnhandled);
    liveWorlds.add(this);
  }

  /** Stops attributing unhandled rejections to this world. */
  dispose() {
    liveWorlds.delete(this);
    if (!liveWorlds.size) process.off('unhandledRejection', onUnhandled);
    this.#tasks.clear();
  }

  get tabs() {
    return [...this.#tabs];
  }

  /**
   * A new tab. Options: `name`, `sandboxed` (locks refuse with SecurityError,
   * and its channels reach only its own page, as an opaque origin's do),
   * `locks: false` / `channel: false` (the API is missing), `baseUrl`, `online`.
   */
  tab(options = {}) {
    const tab = new Tab(this, this.#tabs.length, options);
    this.#tabs.push(tab);
    return tab;
  }

  /** Moves global time forward by `ms`, running every task due on the way, in order. */
  async advance(ms) {
    await this.#runTo(this.now + ms);
  }

  /** Runs everything due now (and the microtasks it causes). */
  async settle() {
    await this.#runTo(this.now);
  }

  /**
   * Runs tasks until `check()` is true, for at most `ms`; true if it became
   * true (and then `now` is the moment it did), false if the time ran out.
   */
  async runUntil(check, ms) {
    return this.#runTo(this.now + ms, check);
  }

  /** Names of the channels open in any tab. */
  channelNames() {
    return [...new Set([...this.#channels].filter((c) => !c.closed).map((c) => c.name))].sort();
  }

  /** Posts `data` on channel `name` as other code of the origin would: every open channel of that name gets it. */
  postRaw(name, data) {
    this.busPost(undefined, name, structuredClone(data));
  }

  /**
   * Runs `run` in `ms`, as a task of the network: a change the test scripts
   * ahead, such as the end of a fault, happens in order with everything else.
   */
  after(ms, run, label = 'scripted') {
    return this.schedule(undefined, 'net', this.now + ms, run, label);
  }

  /** Tasks waiting, in the order they would run. */
  get pending() {
    return [...this.#tasks]
      .map((task) => ({task, at: this.#effective(task)}))
      .sort((a, b) => this.#compare(a, b))
      .map(({task, at}) => ({at, tab: task.tab?.name, kind: task.kind, label: task.label}));
  }

  // The parts the fakes use.

  /** Schedules `run` at global time `at`, as a task of `tab` (or of the network, without one). */
  schedule(tab, kind, at, run, label = '') {
    const task = {tab, kind, at: Math.max(at, this.now), seq: ++this.#seq, run, label};
    this.#tasks.add(task);
    return task;
  }

  cancel(task) {
    this.#tasks.delete(task);
  }

  dropTasksOf(tab) {
    for (const task of this.#tasks) if (task.tab === tab) this.#tasks.delete(task);
  }

  random(index) {
    const next = prng(mix(this.seed, index));
    const [low, high] = this.randomRange;
    return () => low + (high - low) * next();
  }

  addChannel(channel) {
    this.#channels.add(channel);
  }

  removeChannel(channel) {
    this.#channels.delete(channel);
  }

  /** Delivers a post from `from` (a tab's channel, or undefined for raw posts) to every other channel of the name. */
  busPost(from, name, data) {
    const sender = from?.tab;
    for (const to of this.#channels) {
      if (to === from || to.closed || to.name !== name) continue;
      const receiver = to.tab;
      // An opaque origin has a bus of its own.
      if ((sender?.sandboxed || receiver.sandboxed) && sender !== receiver) continue;
      if (receiver.gone) continue;
      const drop = receiver.dropChannel;
      if (drop === true || (typeof drop === 'function' && drop(data, {from: sender?.name, name}))) {
        receiver.channelDropped++;
        continue;
      }
      // A slow tab is slow at both ends; within one tab, once.
      const delay = receiver.channelDelay + (sender && sender !== receiver ? sender.channelDelay : 0);
      let lanes = this.#lastArrival.get(from ?? this.#stranger);
      if (!lanes) this.#lastArrival.set(from ?? this.#stranger, (lanes = new WeakMap()));
      const at = Math.max(this.now + delay, lanes.get(to) ?? 0);
      lanes.set(to, at);
      const copy = structuredClone(data);
      this.schedule(receiver, 'channel', at, () => to.deliver(copy), `${name}: ${preview(data)}`);
    }
  }

  // The scheduler.

  #effective(task) {
    const tab = task.tab;
    let at = task.at;
    if (!tab) return at;
    if (tab.blockedUntil > at) at = tab.blockedUntil;
    if (task.kind === 'timer' && tab.align > 0) at = Math.ceil(at / tab.align) * tab.align;
    return at;
  }

  #compare(a, b) {
    return a.at - b.at || a.task.at - b.task.at || a.task.seq - b.task.seq;
  }

  #next(end) {
    let best;
    for (const task of this.#tasks) {
      const at = this.#effective(task);
      if (at > end) continue;
      const candidate = {task, at};
      if (!best || this.#compare(candidate, best) < 0) best = candidate;
    }
    return best;
  }

  async #runTo(end, check) {
    await drain();
    if (check?.()) return true;
    for (let steps = 0; ; steps++) {
      if (steps > MAX_STEPS) throw new Error(`more than ${MAX_STEPS} tasks before t=${end}: a busy loop?`);
      const next = this.#next(end);
      if (!next) break;
      const {task, at} = next;
      this.#tasks.delete(task);
      this.now = Math.max(this.now, at);
      const tab = task.tab;
      // A paused page drops what its channels carried meanwhile, as Chromium does.
      if (task.kind === 'channel' && tab.pausedAt(task.at)) {
        tab.channelDropped++;
        continue;
      }
      if (this.trace) console.log(`[t=${this.now}] ${tab?.name ?? 'net'} ${task.kind} ${task.label}`);
      if (tab) this.lastTab = tab;
      try {
        task.run();
      } catch (error) {
        const entry = {at: this.now, tab: tab?.name, error};
        this.errors.push(entry);
        tab?.errors.push(entry);
      }
      await drain();
      if (check?.()) return true;
    }
    this.now = Math.max(this.now, end);
    return check ? Boolean(check()) : undefined;
  }
}

/** One tab (a page): its environment, and how the test steers it. */
class Tab {
  /** Extra ms for every channel message this tab posts or receives. */
  channelDelay = 0;
  /** How long after a steal this tab's held lock is rejected: the lock manager's word, slow under load. */
  stealNotice = 0;
  /** Drops channel messages posted to this tab: true, or `(data, {from, name}) => boolean`. */
  dropChannel = false;
  /** Channel messages this tab dropped (paused, or `dropChannel`). */
  channelDropped = 0;
  /** `postMessage` calls made by this tab's channels. */
  posts = 0;
  /** Rejections left unhandled that are this tab's. */
  unhandled = [];
  /** Errors thrown by this tab's tasks. */
  errors = [];
  /** Every WebSocket this tab made. */
  sockets = [];
  /** Timer alignment in ms (0: timers fire on time). */
  align = 0;
  /** No task of this tab runs before this time (paused or hung). */
  blockedUntil = 0;
  /** `'closed'` or `'killed'` once gone. */
  gone = undefined;
  #pauses = [];
  #listeners = [];
  #timers = new Map();
  #nextTimer = 1;
  channels = new Set();

  constructor(world, index, {name, sandboxed = false, locks = true, channel = true, baseUrl, online = true}) {
    this.world = world;
    this.index = index;
    this.name = name ?? `tab${index + 1}`;
    this.id = `client-${index + 1}`;
    this.sandboxed = sandboxed;
    this.online = online;
    const Socket = socketClassFor(this);
    this.environment = {
      now: () => world.now,
      epochNow: () => world.epochStart + world.now,
      setTimeout: (callback, ms) => this.#setTimeout(callback, ms),
      clearTimeout: (handle) => this.#clearTimeout(handle),
      random: world.random(index),
      WebSocket: Socket,
      baseUrl: () => baseUrl ?? 'https://app.example/page',
      isOnline: () => this.online,
      watch: (listener) => this.#listen('engine', listener),
      registry: new Map(),
      locks: locks ? world.locks.managerFor(this) : undefined,
      channel: channel ? (channelName) => new FakeChannel(this, channelName) : undefined,
      watchPage: (listener) => this.#listen('page', listener),
    };
  }

  /** `'running'`, `'paused'`, `'hung'`, `'closed'` or `'killed'`. */
  get state() {
    if (this.gone) return this.gone;
    if (this.blockedUntil > this.world.now) return this.pausedAt(this.world.now) ? 'paused' : 'hung';
    return 'running';
  }

  /** Timers set and not yet fired or cleared. */
  get timers() {
    return this.#timers.size;
  }

  /** Listeners subscribed through `watch` and `watchPage`. */
  get watchers() {
    return this.#listeners.length;
  }

  /** Timers fire only at multiples of `alignMs` of global time; 0 restores. */
  throttle(alignMs) {
    this.align = alignMs;
  }

  /**
   * A debugger breakpoint or a busy main thread, for `ms`: nothing of the tab
   * runs; channel messages that arrive meanwhile are dropped; socket events,
   * lock grants and timers wait and run after, in order.
   */
  pause(ms) {
    const from = this.world.now;
    this.#pauses.push([from, from + ms]);
    this.blockedUntil = Math.max(this.blockedUntil, from + ms);
  }

  /** Nothing of the tab runs for `ms`; everything waits and runs after, in order. */
  hang(ms) {
    this.blockedUntil = Math.max(this.blockedUntil, this.world.now + ms);
  }

  pausedAt(at) {
    return this.#pauses.some(([from, to]) => at >= from && at < to);
  }

  /**
   * Closes the tab cleanly: `pagehide` to its listeners (unless it is paused
   * or hung: then it cannot run them), microtasks, then it is gone.
   */
  async close() {
    if (this.gone) return;
    if (this.state === 'running') {
      this.#dispatch('pagehide');
      await drain();
    }
    this.#destroy('closed');
  }

  /** Gone at once, without `pagehide` (a crash, a killed process). */
  async kill() {
    if (this.gone) return;
    this.#destroy('killed');
    await drain();
  }

  /**
   * A page signal, as a task of this tab now: 'online', 'offline', 'visible',
   * 'resume', 'pageshow', 'pagehide' reach `watch` listeners; 'pagehide' and
   * 'freeze' reach `watchPage` listeners as `leave`, 'pageshow' and 'resume'
   * as `return`. Settles the world after.
   */
  async signal(name) {
    if (!SIGNALS.has(name)) throw new Error(`unknown signal ${name}`);
    if (!this.gone) this.world.schedule(this, 'signal', this.world.now, () => this.#dispatch(name), name);
    await this.world.settle();
  }

  #dispatch(name) {
    if (name === 'online') this.online = true;
    if (name === 'offline') this.online = false;
    const page = PAGE_SIGNALS[name];
    for (const entry of [...this.#listeners]) {
      if (!this.#listeners.includes(entry)) continue;
      try {
        if (entry.kind === 'engine' && ENGINE_SIGNALS.has(name)) entry.listener(name);
        if (entry.kind === 'page' && page) entry.listener(page);
      } catch (error) {
        const record = {at: this.world.now, tab: this.name, error};
        this.world.errors.push(record);
        this.errors.push(record);
      }
    }
  }

  #listen(kind, listener) {
    const entry = {kind, listener};
    if (!this.gone) this.#listeners.push(entry);
    return () => {
      const at = this.#listeners.indexOf(entry);
      if (at >= 0) this.#listeners.splice(at, 1);
    };
  }

  #setTimeout(callback, ms) {
    const id = this.#nextTimer++;
    if (this.gone) return id;
    const wait = Math.max(0, Number(ms) || 0);
    const task = this.world.schedule(
      this,
      'timer',
      this.world.now + wait,
      () => {
        this.#timers.delete(id);
        callback();
      },
      `${wait} ms`,
    );
    this.#timers.set(id, task);
    return id;
  }

  #clearTimeout(id) {
    const task = this.#timers.get(id);
    if (!task) return;
    this.#timers.delete(id);
    this.world.cancel(task);
  }

  #destroy(how) {
    this.gone = how;
    this.world.dropTasksOf(this);
    this.#timers.clear();
    this.#listeners = [];
    for (const channel of this.channels) channel.close();
    this.world.locks.forget(this);
    for (const socket of this.sockets) socket.pageGone(how === 'killed' ? 1006 : 1001);
  }
}

// Web Locks.

/**
 * The origin's lock manager. Exclusive and shared modes, FIFO grants per
 * name, `signal`, `steal`, `ifAvailable`, `query()`. A grant, a steal's
 * rejection and a query's answer are tasks of the requesting tab; a lock is
 * held from its grant until its callback's promise settles, or its tab goes.
 */
class FakeLocks {
  /** Every steal, in order: `{at, name, tab, from}` (the tabs it took the lock from). */
  steals = [];
  #world;
  /** name → {held: Request[], pending: Request[]} */
  #names = new Map();

  constructor(world) {
    this.#world = world;
  }

  /** What `navigator.locks` is in `tab`. */
  managerFor(tab) {
    return {
      request: (name, ...rest) => this.#request(tab, name, ...rest),
      query: () => this.#query(tab),
    };
  }

  /** A snapshot, as `query()` answers: `{held: [{name, mode, clientId}], pending: [...]}`. */
  snapshot() {
    const held = [];
    const pending = [];
    const info = ({name, mode, tab}) => ({name, mode, clientId: tab.id});
    for (const state of this.#names.values()) {
      held.push(...state.held.map(info));
      pending.push(...state.pending.map(info));
    }
    return {held, pending};
  }

  /** The tab is gone: its locks are released and its waiting requests dropped; their promises never settle. */
  forget(tab) {
    for (const [name, state] of this.#names) {
      const before = state.held.length + state.pending.length;
      state.held = state.held.filter((request) => request.tab !== tab);
      state.pending = state.pending.filter((request) => request.tab !== tab);
      if (state.held.length + state.pending.length !== before) this.#grant(name);
    }
  }

  #state(name) {
    let state = this.#names.get(name);
    if (!state) this.#names.set(name, (state = {held: [], pending: []}));
    return state;
  }

  #request(tab, name, optionsOrCallback, maybeCallback) {
    const callback = typeof optionsOrCallback === 'function' ? optionsOrCallback : maybeCallback;
    const options = typeof optionsOrCallback === 'function' ? {} : (optionsOrCallback ?? {});
    const {mode = 'exclusive', steal = false, ifAvailable = false, signal} = options;
    const fail = (kind, message) => Promise.reject(domError(tab, kind, message));
    if (tab.sandboxed) return fail('SecurityError', 'The request was denied.');
    if (tab.gone) return new Promise(() => {});
    if (typeof callback !== 'function') return Promise.reject(new TypeError('callback is not a function'));
    if (mode !== 'exclusive' && mode !== 'shared') return Promise.reject(new TypeError(`bad mode ${mode}`));
    if (String(name).startsWith('-'))
      return fail('NotSupportedError', 'Names starting with "-" are reserved.');
    if (steal && ifAvailable) return fail('NotSupportedError', 'steal and ifAvailable cannot both be set.');
    if (steal && mode !== 'exclusive') return fail('NotSupportedError', 'steal requires exclusive mode.');
    if (signal && (steal || ifAvailable))
      return fail('NotSupportedError', 'signal cannot be used with steal or ifAvailable.');
    if (signal?.aborted) {
      const reason = signal.reason ?? domError(tab, 'AbortError', 'The request was aborted.');
      if (reason && typeof reason === 'object') reasonTab.set(reason, tab);
      return Promise.reject(reason);
    }
    return new Promise((resolve, reject) => {
      const request = {name: String(name), mode, tab, callback, resolve, reject, signal, settled: false};
      const state = this.#state(request.name);
      if (steal) {
        const from = state.held.map((held) => held.tab.name);
        this.steals.push({at: this.#world.now, name: request.name, tab: tab.name, from});
        for (const victim of state.held) {
          this.#world.schedule(victim.tab, 'lock', this.#world.now + victim.tab.stealNotice, () =>
            this.#settle(victim, false, domError(victim.tab, 'AbortError', 'The lock was stolen.')),
          );
        }
        state.held = [];
        this.#hold(request);
        return;
      }
      if (ifAvailable && !this.#grantable(request, state, true)) {
        this.#world.schedule(
          tab,
          'lock',
          this.#world.now,
          () => this.#invoke(request, null),
          'not available',
        );
        return;
      }
      state.pending.push(request);
      if (signal) {
        request.onAbort = () => {
          const at = state.pending.indexOf(request);
          if (at < 0) return;
          state.pending.splice(at, 1);
          const reason = signal.reason ?? domError(tab, 'AbortError', 'The request was aborted.');
          if (reason && typeof reason === 'object') reasonTab.set(reason, tab);
          this.#settle(request, false, reason);
          this.#grant(request.name);
        };
        signal.addEventListener('abort', request.onAbort, {once: true});
      }
      this.#grant(request.name);
    });
  }

  /** Whether `request` could be granted now; `alone` asks as if it were first in line. */
  #grantable(request, state, alone) {
    if (!alone && state.pending[0] !== request) return false;
    if (alone && state.pending.length) return false;
    if (request.mode === 'exclusive') return state.held.length === 0;
    return state.held.every((held) => held.mode === 'shared');
  }

  /** Grants from the front of the line while it can: one exclusive, or a run of shared. */
  #grant(name) {
    const state = this.#state(name);
    while (state.pending.length && this.#grantable(state.pending[0], state, false)) {
      this.#hold(state.pending.shift());
    }
  }

  #hold(request) {
    const state = this.#state(request.name);
    if (request.onAbort) request.signal.removeEventListener('abort', request.onAbort);
    state.held.push(request);
    this.#world.schedule(
      request.tab,
      'lock',
      this.#world.now,
      () => this.#invoke(request, {name: request.name, mode: request.mode}),
      `granted ${request.name}`,
    );
  }

  #invoke(request, lock) {
    let result;
    try {
      result = Promise.resolve(request.callback(lock));
    } catch (error) {
      result = Promise.reject(error);
    }
    result.then(
      (value) => {
        this.#release(request);
        this.#settle(request, true, value);
      },
      (error) => {
        this.#release(request);
        this.#settle(request, false, error);
      },
    );
  }

  #release(request) {
    const state = this.#state(request.name);
    const at = state.held.indexOf(request);
    if (at < 0) return;
    state.held.splice(at, 1);
    this.#grant(request.name);
  }

  #settle(request, ok, value) {
    if (request.settled || request.tab.gone) return;
    request.settled = true;
    if (ok) request.resolve(value);
    else request.reject(value);
  }

  #query(tab) {
    if (tab.sandboxed) return Promise.reject(domError(tab, 'SecurityError', 'The request was denied.'));
    if (tab.gone) return new Promise(() => {});
    const snapshot = this.snapshot();
    return new Promise((resolve) =>
      this.#world.schedule(tab, 'lock', this.#world.now, () => resolve(snapshot)),
    );
  }
}

// BroadcastChannel.

class FakeChannel {
  onmessage = null;
  onmessageerror = null;
  closed = false;
  #listeners = new Set();

  constructor(tab, name) {
    this.tab = tab;
    this.name = String(name);
    if (tab.gone) {
      this.closed = true;
      return;
    }
    tab.channels.add(this);
    tab.world.addChannel(this);
  }

  /** Structured-cloned now, as the platform does (DataCloneError for what cannot be); delivered later. */
  postMessage(message) {
    if (this.closed) throw new DOMException('BroadcastChannel is closed.', 'InvalidStateError');
    const data = structuredClone(message);
    this.tab.posts++;
    this.tab.world.busPost(this, this.name, data);
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    this.tab.channels.delete(this);
    this.tab.world.removeChannel(this);
  }

  addEventListener(type, listener) {
    if (type === 'message') this.#listeners.add(listener);
  }

  removeEventListener(type, listener) {
    if (type === 'message') this.#listeners.delete(listener);
  }

  deliver(data) {
    if (this.closed) return;
    const event = {type: 'message', data, origin: 'https://app.example', target: this};
    this.onmessage?.(event);
    for (const listener of [...this.#listeners]) listener(event);
  }
}

// WebSocket and its server.

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

/**
 * The origin's WebSocket server, and the one network every tab reaches it
 * through. `mode`: 'accept' (a handshake opens after `handshake` ms),
 * 'refuse' (it fails: error, then close 1006), 'hold' (never answered),
 * 'blackhole' (open sockets go silent both ways and never close; new
 * handshakes are not answered). Frames take `latency` ms each way. It answers
 * the text `ping` with `pong` while `answerPings`.
 *
 * Counts are the clients' view, updated as sockets are made, opened and
 * closed, so even an overlap within one task shows: `live` (connecting or
 * open), `open`, their peaks, and `timeline` (`{at, live, open}` per change).
 */
class FakeServer {
  handshake = 1;
  latency = 1;
  answerPings = true;
  ping = 'ping';
  pong = 'pong';
  /** How long a client waits for the close reply of a blackholed connection before it gives up (1006). */
  closeTimeout = 1000;
  /** Every connection attempt, in order. */
  connections = [];
  /** What the server received from every connection, in order: `{at, conn, tab, data}`. */
  received = [];
  live = 0;
  open = 0;
  peakLive = 0;
  peakOpen = 0;
  timeline = [{at: 0, live: 0, open: 0}];
  #mode = 'accept';

  constructor(world) {
    this.world = world;
  }

  get mode() {
    return this.#mode;
  }

  set mode(mode) {
    if (!['accept', 'refuse', 'hold', 'blackhole'].includes(mode))
      throw new Error(`unknown server mode ${mode}`);
    this.#mode = mode;
    if (mode === 'blackhole') for (const conn of this.openConnections) conn.blackholed = true;
  }

  /** Connection attempts made so far. */
  get attempts() {
    return this.connections.length;
  }

  /** Connections open at the server. */
  get openConnections() {
    return this.connections.filter((conn) => conn.state === 'open');
  }

  /** What was received, as data, without pings unless `pings`. */
  messages({pings = false} = {}) {
    return this.received.filter(({data}) => pings || data !== this.ping).map(({data}) => data);
  }

  /** Sends `data` on every open connection. */
  push(data) {
    for (const conn of this.openConnections) conn.send(data);
  }

  /** Closes every open connection with `code` (1006: dropped, without a close frame). */
  closeAll(code = 1000, reason = '') {
    for (const conn of this.openConnections) conn.close(code, reason);
  }

  /**
   * The most sockets live (or, with `open`, OPEN) at once, leaving out any
   * moment within an `exclude` window (`[from, to]`, ms): a count that began
   * inside a window and ended by its end is not counted.
   */
  peak({open = false, exclude = []} = {}) {
    const key = open ? 'open' : 'live';
    let most = 0;
    this.timeline.forEach((entry, i) => {
      const until = this.timeline[i + 1]?.at ?? Infinity;
      const inside = exclude.some(([from, to]) => entry.at >= from && until <= to);
      if (!inside) most = Math.max(most, entry[key]);
    });
    return most;
  }

  count(live, open) {
    this.live += live;
    this.open += open;
    this.peakLive = Math.max(this.peakLive, this.live);
    this.peakOpen = Math.max(this.peakOpen, this.open);
    this.timeline.push({at: this.world.now, live: this.live, open: this.open});
  }

  /** A socket's handshake reaches the server. */
  connect(socket) {
    const conn = new ServerConnection(this, socket);
    this.connections.push(conn);
    this.world.schedule(
      undefined,
      'net',
      this.world.now + this.handshake,
      () => conn.handshake(),
      'handshake',
    );
    return conn;
  }

  receive(conn, data) {
    const entry = {at: this.world.now, conn: conn.id, tab: conn.tab, data};
    conn.received.push(entry);
    this.received.push(entry);
    if (this.answerPings && data === this.ping) conn.send(this.pong);
    this.application?.receive(conn, data);
  }
}

/** One connection as the server sees it. */
class ServerConnection {
  /** 'connecting', 'open', 'held', 'refused' or 'closed'. */
  state = 'connecting';
  openedAt = undefined;
  closedAt = undefined;
  code = undefined;
  reason = undefined;
  /** 'client', 'server', 'refused' or 'gone' (the tab closed or was killed). */
  closedBy = undefined;
  blackholed = false;
  received = [];
  /** Frames the client sent that the server never got: into the blackhole, or on the way when the connection ended. */
  lost = [];

  constructor(server, socket) {
    this.server = server;
    this.socket = socket;
    this.id = server.connections.length + 1;
    this.tab = socket.tab.name;
    this.url = socket.url;
    this.protocols = socket.protocolList;
    this.createdAt = server.world.now;
  }

  handshake() {
    if (this.state !== 'connecting') return;
    const mode = this.server.mode;
    if (mode === 'accept') {
      this.state = 'open';
      this.openedAt = this.server.world.now;
      this.protocol = this.server.application?.accept(this) ?? '';
      this.socket.deliver('open', this.protocol);
    } else if (mode === 'refuse') {
      this.#end('refused', 1006, '');
      this.socket.deliver('fail');
    } else {
      this.state = 'held';
    }
  }

  /** The server sends a frame. */
  send(data) {
    if (this.state !== 'open' || this.blackholed) return;
    this.socket.deliver('message', copyData(data));
  }

  /** The server closes (1006: the connection drops without a close frame). */
  close(code = 1000, reason = '') {
    if (this.state !== 'open' && this.state !== 'held') return;
    const wasOpen = this.state === 'open';
    this.#end('server', code, reason);
    if (this.blackholed) return;
    this.socket.deliver(code === 1006 || !wasOpen ? 'fail' : 'close', {code, reason});
  }

  /** A frame from the client arrives. */
  fromClient(data) {
    if (this.blackholed || this.state !== 'open') this.lost.push(data);
    else this.server.receive(this, data);
  }

  /** The client's close frame arrives, or the client gave up a handshake. */
  clientClosed(code, reason) {
    if (this.state === 'closed' || this.state === 'refused') return;
    const wasOpen = this.state === 'open';
    const blackholed = this.blackholed;
    if (!blackholed) this.#end('client', code, reason);
    if (wasOpen && !blackholed) this.socket.deliver('close', {code: code ?? 1005, reason: reason ?? ''});
  }

  /** The tab went away: the connection drops without a word from the page. */
  gone(code) {
    if (this.state === 'closed' || this.state === 'refused') return;
    this.#end('gone', code, '');
  }

  #end(by, code, reason) {
    const wasOpen = this.state === 'open';
    this.state = by === 'refused' ? 'refused' : 'closed';
    this.closedAt = this.server.world.now;
    this.closedBy = by;
    this.code = code;
    this.reason = reason;
    if (wasOpen) this.server.application?.ended(this);
  }
}

/** The WebSocket constructor of one tab. */
function socketClassFor(tab) {
  return class extends FakeWebSocket {
    constructor(url, protocols) {
      super(tab, url, protocols);
    }
  };
}

/** The page's WebSocket: its events are tasks of its tab. */
class FakeWebSocket {
  static CONNECTING = CONNECTING;
  static OPEN = OPEN;
  static CLOSING = CLOSING;
  static CLOSED = CLOSED;
  CONNECTING = CONNECTING;
  OPEN = OPEN;
  CLOSING = CLOSING;
  CLOSED = CLOSED;

  readyState = CONNECTING;
  binaryType = 'blob';
  bufferedAmount = 0;
  extensions = '';
  protocol = '';
  onopen = null;
  onmessage = null;
  onerror = null;
  onclose = null;
  /** What this page sent on it, in order. */
  sent = [];
  #server;

  constructor(tab, url, protocols) {
    let parsed;
    try {
      parsed = new URL(url);
    } catch {
      throw new DOMException(`The URL '${url}' is invalid.`, 'SyntaxError');
    }
    if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:')
      throw new DOMException(`The URL's scheme must be 'ws' or 'wss'.`, 'SyntaxError');
    this.tab = tab;
    this.url = parsed.href;
    this.protocolList = protocols === undefined ? [] : [protocols].flat().map(String);
    tab.sockets.push(this);
    this.#server = tab.world.server;
    if (tab.gone) {
      this.readyState = CLOSED;
      return;
    }
    this.#server.count(1, 0);
    this.connection = this.#server.connect(this);
  }

  send(data) {
    if (this.readyState === CONNECTING)
      throw new DOMException('Still in CONNECTING state.', 'InvalidStateError');
    if (this.readyState !== OPEN) return;
    const copy = copyData(data);
    this.sent.push(copy);
    const conn = this.connection;
    this.tab.world.schedule(
      undefined,
      'net',
      this.tab.world.now + this.#server.latency,
      () => conn.fromClient(copy),
      `${this.tab.name} → server: ${preview(copy)}`,
    );
  }

  close(code, reason) {
    if (code !== undefined && code !== 1000 && !(code >= 3000 && code <= 4999))
      throw new DOMException(
        `The code must be either 1000, or between 3000 and 4999. ${code} is neither.`,
        'InvalidAccessError',
      );
    if (reason !== undefined && new TextEncoder().encode(reason).length > 123)
      throw new DOMException('The message must not be greater than 123 bytes.', 'SyntaxError');
    if (this.readyState >= CLOSING) return;
    const wasOpen = this.readyState === OPEN;
    this.readyState = CLOSING;
    this.#server.count(-1, wasOpen ? -1 : 0);
    const world = this.tab.world;
    const conn = this.connection;
    if (!wasOpen) {
      // A handshake given up: the connection fails (error, then close 1006).
      world.schedule(undefined, 'net', world.now + this.#server.latency, () =>
        conn.clientClosed(code, reason),
      );
      this.deliver('fail');
      return;
    }
    world.schedule(undefined, 'net', world.now + this.#server.latency, () => conn.clientClosed(code, reason));
    if (conn.blackholed) this.deliver('fail', undefined, this.#server.closeTimeout);
  }

  /** A network event reaches the page, as a task of its tab. */
  deliver(kind, detail, after = this.#server.latency) {
    const world = this.tab.world;
    world.schedule(
      this.tab,
      'socket',
      world.now + after,
      () => this.#event(kind, detail),
      `${kind} ${preview(detail ?? '')}`,
    );
  }

  #event(kind, detail) {
    if (this.readyState === CLOSED) return;
    if (kind === 'open') {
      if (this.readyState !== CONNECTING) return;
      this.readyState = OPEN;
      this.protocol = detail ?? '';
      this.#server.count(0, 1);
      this.onopen?.({type: 'open', target: this});
    } else if (kind === 'message') {
      if (this.readyState !== OPEN) return;
      let data = detail;
      if (typeof data !== 'string' && this.binaryType === 'blob' && typeof Blob !== 'undefined')
        data = new Blob([data]);
      this.onmessage?.({type: 'message', data, target: this});
    } else {
      this.#closed();
      const failed = kind === 'fail';
      if (failed) this.onerror?.({type: 'error', target: this});
      const {code, reason} = failed ? {code: 1006, reason: ''} : detail;
      this.onclose?.({type: 'close', code, reason, wasClean: !failed, target: this});
    }
  }

  #closed() {
    if (this.readyState < CLOSING) this.#server.count(-1, this.readyState === OPEN ? -1 : 0);
    this.readyState = CLOSED;
  }

  /** Its page is gone: closed at once, without events. */
  pageGone(code) {
    if (this.readyState === CLOSED) return;
    this.#closed();
    this.connection?.gone(code);
  }
}
