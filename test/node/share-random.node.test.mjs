// Issue 18's seeded randomized test: many histories in the multi-tab world of
// tabs that come and go, hang, pause and throttle, channels that drop or lag,
// clients that join, leave and send, server faults and stop codes. After every
// step it checks what the contract promises, by what anyone can observe: the
// server's records, each page's sockets, and each client's state and events.
// A failure names its seed, its step and the steps before it.
//
//   SHARE_RANDOM_SEED=n   history n alone (with SHARE_RANDOM_RUNS, n and those after it)
//   SHARE_RANDOM_RUNS=k   k histories (200 by default, from seed 1)
//   SHARE_RANDOM_STEPS=s  steps per history (60 by default)
//   SHARE_RANDOM_TRACE=1  print each step as it runs
import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {SharedClient} from '../../dist/share/index.js';
import {TabWorld} from '../support/tab-world.mjs';

const URL = 'wss://app.example/feed';
const FIRST = Number(process.env.SHARE_RANDOM_SEED ?? 1);
const RUNS = Number(process.env.SHARE_RANDOM_RUNS ?? (process.env.SHARE_RANDOM_SEED ? 1 : 200));
const STEPS = Number(process.env.SHARE_RANDOM_STEPS ?? 60);
const TRACE = process.env.SHARE_RANDOM_TRACE === '1';

const MAX_TABS = 5;
const MAX_PRESENT = 10;
/** Steps shown with a failure. */
const RECENT = 15;

/** States in which a client does not use the socket. */
const ABSENT = new Set(['idle', 'closed']);

/** The generator's own dice (mulberry32), apart from the world's, so that a step's choices do not shift the tabs' random(). */
class Dice {
  #state;

  constructor(seed) {
    this.#state = (seed * 0x9e3779b1) >>> 0;
  }

  float() {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(low, high) {
    return low + Math.floor(this.float() * (high - low + 1));
  }

  chance(p) {
    return this.float() < p;
  }

  pick(list) {
    return list[Math.floor(this.float() * list.length)];
  }

  /** Spread evenly over orders of magnitude, as pauses and outages are. */
  span(low, high) {
    return Math.round(low * (high / low) ** this.float());
  }

  weighted(entries) {
    let roll = this.float() * entries.reduce((sum, [, weight]) => sum + weight, 0);
    for (const [value, weight] of entries) if ((roll -= weight) < 0) return value;
    return entries.at(-1)[0];
  }
}

const STEP_KINDS = [
  ['advance', 14],
  ['send', 10],
  ['join', 4],
  ['leave', 3],
  ['addTab', 3],
  ['closeTab', 1],
  ['killTab', 1],
  ['hang', 2],
  ['pause', 2],
  ['throttle', 2],
  ['drop', 2],
  ['delay', 1.5],
  ['connect', 1],
  ['arm', 1.5],
  ['refuse', 1],
  ['blackhole', 1],
  ['cut', 1.5],
  ['stop', 1.5],
];

/** `cN#k`: the k-th message client cN sent; `sub cN`: its openMessages. */
function parse(data) {
  const sent = /^(c\d+)#(\d+)$/.exec(data);
  if (sent) return {client: sent[1], seq: Number(sent[2])};
  const sub = /^sub (c\d+)$/.exec(data);
  if (sub) return {client: sub[1], sub: true};
  return undefined;
}

/** Time windows, merged where they touch. */
function union(windows) {
  const merged = [];
  for (const [from, to] of [...windows].sort((a, b) => a[0] - b[0])) {
    const last = merged.at(-1);
    if (last && from <= last[1]) last[1] = Math.max(last[1], to);
    else merged.push([from, to]);
  }
  return merged;
}

class History {
  /** Every step taken, as said when it was taken. */
  log = [];
  step = 0;
  clients = [];
  /** Every connect() and reconnect() a client made, from a step or a listener: `{at, client, op}`. */
  calls = [];
  /** Windows in which a tab with a live socket could not run (hung or paused). */
  blocks = [];
  /** Per tab: until when a fault touched it (it is quiet after). */
  touched = new Map();
  /** Until when a server fault lasts, or when the server last cut connections. */
  serverTouched = 0;
  /** Per tab: the drop and delay in force, so that only the latest one's end lifts it. */
  /** Until when each tab's channel drops what comes. */
  #deafUntil = new Map();
  #channelFault = new Map();
  #serverFault = 0;
  /** How far each check has read the server's records. */
  #timelineRead = 0;
  #receivedRead = 0;
  /** Per connection: clients whose openMessages it received. */
  #subs = new Map();
  /** Per client: the message numbers first received, the last one. */
  #firstSeen = new Set();
  #lastFirst = new Map();
  stops = 0;

  constructor(seed) {
    this.seed = seed;
    this.dice = new Dice(seed);
    this.world = new TabWorld({seed});
    const dice = this.dice;
    // One set of socket options per history: the socket's are its holding page's first client's.
    this.options = {
      timeout: dice.pick([1000, 3000, 5000, 10_000]),
      heartbeatInterval: dice.pick([1000, 5000, 15_000]),
      maxReconnectDelay: dice.pick([4000, 10_000]),
    };
  }

  get now() {
    return this.world.now;
  }

  get server() {
    return this.world.server;
  }

  liveTabs() {
    return this.world.tabs.filter((tab) => !tab.gone);
  }

  runningTabs() {
    return this.world.tabs.filter((tab) => tab.state === 'running');
  }

  present() {
    return this.clients.filter((c) => !c.tab.gone && !ABSENT.has(c.client.state));
  }

  note(text) {
    const line = `#${this.step} t=${this.now} ${text}`;
    this.log.push(line);
    if (TRACE) console.log(`[${this.seed}] ${line}`);
  }

  fail(invariant, detail) {
    const recent = this.log.slice(-RECENT).join('\n  ');
    const conns = this.server.connections
      .slice(-8)
      .map(
        (conn) =>
          `#${conn.id} ${conn.tab} made ${conn.createdAt}` +
          (conn.openedAt === undefined ? '' : ` open ${conn.openedAt}`) +
          (conn.closedAt === undefined ? '' : ` closed ${conn.closedAt} by ${conn.closedBy} ${conn.code}`) +
          (conn.blackholed ? ' blackholed' : ''),
      )
      .join('\n  ');
    const clients = this.clients
      .map((c) => `${c.name}@${c.tab.name}${c.tab.gone ? `(${c.tab.gone})` : ''}=${c.client.state}`)
      .join(' ');
    assert.fail(
      `seed ${this.seed}, step ${this.step} (t=${this.now} ms): ${invariant}: ${detail}\n` +
        `options: ${JSON.stringify(this.options)}\n` +
        `recent steps:\n  ${recent}\n` +
        `clients: ${clients}\n` +
        `last connections:\n  ${conns}\n` +
        `steals: ${this.world.locks.steals.map(({at, tab, from}) => `${tab} from ${from.join(', ')} at ${at}`).join('; ') || 'none'}\n` +
        `replay: SHARE_RANDOM_SEED=${this.seed} SHARE_RANDOM_TRACE=1 node --test test/node/share-random.node.test.mjs`,
    );
  }

  touch(tab, until = this.now) {
    this.touched.set(tab, Math.max(this.touched.get(tab) ?? 0, until));
  }

  // Clients.

  insert(tab) {
    const name = `c${this.clients.length + 1}`;
    const client = new SharedClient(
      {url: URL, ...this.options, openMessages: [`sub ${name}`]},
      tab.environment,
    );
    const record = {name, client, tab, accepted: [], seq: 0, discarded: new Set(), joinedAt: undefined};
    record.toString = () => name;
    client.on('state', (change) => {
      record.last = {...change, at: this.now};
      if (ABSENT.has(change.previousState) && !ABSENT.has(change.state)) {
        record.joinedAt = this.now;
        // Long enough for a probe, its answer and the join to cross the slowest channels.
        const slowest = Math.max(0, ...this.liveTabs().map((tab) => tab.channelDelay));
        record.joinRace = 6 * slowest + 100;
      }
      const armed = record.armed;
      if (armed?.on !== change.state) return;
      record.armed = undefined;
      this.note(`  ↳ ${name} calls ${armed.op}() in its '${change.state}' listener`);
      this.call(record, armed.op);
    });
    client.on('error', ({kind, data}) => {
      if (kind === 'queue-discarded') for (const item of data) record.discarded.add(item);
    });
    this.clients.push(record);
    this.call(record, 'connect');
    return record;
  }

  call(record, op) {
    this.calls.push({at: this.now, client: record, op});
    record.client[op]();
  }

  sendFrom(record, count) {
    const results = [];
    for (let i = 0; i < count; i++) {
      const data = `${record.name}#${++record.seq}`;
      const accepted = record.client.send(data);
      if (accepted) record.accepted.push(data);
      results.push(accepted ? data : `${data} refused`);
    }
    return results.join(', ');
  }

  // Steps: each says what it does, or undefined when it cannot be taken now.

  async take() {
    this.step++;
    for (;;) {
      const kind = this.dice.weighted(STEP_KINDS);
      const action = this[kind]();
      if (!action) continue;
      const [text, run] = action;
      this.note(text);
      await run?.();
      await this.world.settle();
      return;
    }
  }

  advance() {
    const dice = this.dice;
    const ms = dice.weighted([
      [dice.int(0, 1000), 7],
      [dice.int(1000, 5000), 2],
      [dice.int(5000, 30_000), 1],
    ]);
    return [`advance ${ms} ms`, () => this.world.advance(ms)];
  }

  addTab() {
    if (this.liveTabs().length >= MAX_TABS) return undefined;
    return [
      'add a tab with a client',
      () => {
        const tab = this.world.tab();
        const record = this.insert(tab);
        this.log[this.log.length - 1] += `: ${tab.name}, ${record}`;
      },
    ];
  }

  #leaveTab(how) {
    const tabs = this.liveTabs();
    if (tabs.length < 2) return undefined;
    const tab = this.dice.pick(tabs);
    return [`${how} ${tab.name} (${tab.state})`, () => tab[how]()];
  }

  closeTab() {
    return this.#leaveTab('close');
  }

  killTab() {
    return this.#leaveTab('kill');
  }

  #block(how) {
    const tab = this.dice.pick(this.liveTabs());
    if (!tab) return undefined;
    const timeout = this.options.timeout;
    const ms = this.dice.chance(0.8) ? this.dice.span(100, 2 * timeout) : this.dice.span(timeout, 30_000);
    return [
      `${how} ${tab.name} for ${ms} ms`,
      () => {
        const holding = tab.sockets.some((socket) => socket.readyState <= 1);
        tab[how](ms);
        if (holding) this.blocks.push([this.now, tab.blockedUntil]);
        this.touch(tab, tab.blockedUntil);
      },
    ];
  }

  hang() {
    return this.#block('hang');
  }

  pause() {
    return this.#block('pause');
  }

  throttle() {
    const tab = this.dice.pick(this.liveTabs());
    if (!tab) return undefined;
    const align = this.dice.pick([0, 1000, 5000, 60_000].filter((ms) => ms !== tab.align));
    return [
      `throttle ${tab.name} to ${align} ms`,
      () => {
        tab.throttle(align);
        this.touch(tab);
      },
    ];
  }

  #channel(kind) {
    const tab = this.dice.pick(this.liveTabs());
    if (!tab) return undefined;
    const ms = this.dice.span(200, 3 * this.options.timeout);
    const delay = kind === 'delay' ? this.dice.span(20, 1500) : 0;
    return [
      `${kind === 'drop' ? 'drop' : `delay by ${delay} ms`} ${tab.name}'s channel for ${ms} ms`,
      () => {
        const faults = this.#channelFault.get(tab) ?? {drop: 0, delay: 0};
        this.#channelFault.set(tab, faults);
        const token = ++faults[kind];
        if (kind === 'drop') {
          tab.dropChannel = true;
          this.#deafUntil.set(tab, Math.max(this.#deafUntil.get(tab) ?? 0, this.now + ms));
        } else tab.channelDelay = delay;
        this.touch(tab, this.now + ms);
        this.world.after(ms, () => {
          if (faults[kind] !== token) return;
          if (kind === 'drop') tab.dropChannel = false;
          else tab.channelDelay = 0;
        });
      },
    ];
  }

  drop() {
    return this.#channel('drop');
  }

  delay() {
    return this.#channel('delay');
  }

  join() {
    const tabs = this.runningTabs();
    if (!tabs.length || this.present().length >= MAX_PRESENT) return undefined;
    const tab = this.dice.pick(tabs);
    const back = this.clients.filter((c) => c.tab === tab && ABSENT.has(c.client.state));
    if (back.length && this.dice.chance(0.4)) {
      const record = this.dice.pick(back);
      return [
        `${record} (${record.client.state}) in ${tab.name} calls connect()`,
        () => this.call(record, 'connect'),
      ];
    }
    return [
      `join a client in ${tab.name}`,
      () => {
        this.log[this.log.length - 1] += `: ${this.insert(tab)}`;
      },
    ];
  }

  #inRunningTab(filter = () => true) {
    const list = this.clients.filter((c) => c.tab.state === 'running' && filter(c));
    return list.length ? this.dice.pick(list) : undefined;
  }

  leave() {
    const record = this.#inRunningTab((c) => !ABSENT.has(c.client.state));
    if (!record) return undefined;
    const how = this.dice.pick(['pause', 'close']);
    return [`${record} in ${record.tab.name} calls ${how}()`, () => record.client[how]()];
  }

  send() {
    const record = this.#inRunningTab();
    if (!record) return undefined;
    const count = this.dice.int(1, 4);
    return [
      `${record} (${record.client.state}) in ${record.tab.name} sends`,
      () => {
        this.log[this.log.length - 1] += ` ${this.sendFrom(record, count)}`;
      },
    ];
  }

  connect() {
    const record = this.#inRunningTab((c) => !ABSENT.has(c.client.state));
    if (!record) return undefined;
    const op = this.dice.pick(['connect', 'reconnect']);
    return [`${record} in ${record.tab.name} calls ${op}()`, () => this.call(record, op)];
  }

  arm() {
    const record = this.#inRunningTab();
    if (!record) return undefined;
    const armed = {
      on: this.dice.pick(['closed', 'closed', 'open', 'reconnecting', 'connecting']),
      op: this.dice.pick(['connect', 'reconnect']),
    };
    return [
      `${record} will call ${armed.op}() in its next '${armed.on}' listener`,
      () => {
        record.armed = armed;
      },
    ];
  }

  #serverMode(mode) {
    const ms = this.dice.span(500, 20_000);
    return [
      `the server ${mode === 'refuse' ? 'refuses' : 'blackholes'} for ${ms} ms`,
      () => {
        const token = ++this.#serverFault;
        this.server.mode = mode;
        this.serverTouched = Math.max(this.serverTouched, this.now + ms);
        this.world.after(ms, () => {
          if (this.#serverFault === token) this.server.mode = 'accept';
        });
      },
    ];
  }

  refuse() {
    return this.#serverMode('refuse');
  }

  blackhole() {
    return this.#serverMode('blackhole');
  }

  cut() {
    const code = this.dice.pick([1006, 1011, 1012]);
    return [
      `the server closes every connection with ${code}`,
      () => {
        this.server.closeAll(code, 'fault');
        this.serverTouched = Math.max(this.serverTouched, this.now);
      },
    ];
  }

  /**
   * A stop code, when it is clear whom it stops: one connection open, its
   * page running and holding the socket. (A stop code that reaches a hung
   * holder whose lock another tab took meanwhile reaches a socket nobody
   * uses any more.) Sometimes a following tab is paused or throttled first.
   */
  stop() {
    // As the pages see it: a socket they are closing, or one still connecting, might miss it.
    const live = this.liveTabs().flatMap((tab) => tab.sockets.filter((socket) => socket.readyState <= 1));
    if (live.length !== 1 || live[0].readyState !== 1 || this.server.mode !== 'accept') return undefined;
    const [socket] = live;
    if (socket.connection.state !== 'open' || socket.connection.blackholed) return undefined;
    const holder = socket.tab;
    const holds = this.present().some((c) => c.tab === holder && c.client.leader);
    if (holder.state !== 'running' || !holds) return undefined;
    const followers = this.liveTabs().filter((tab) => tab !== holder);
    const dice = this.dice;
    const before = followers.length && dice.chance(0.6) ? dice.pick(followers) : undefined;
    const how = before && dice.pick(['pause', 'throttle']);
    const ms = how === 'pause' ? dice.span(300, 10_000) : dice.pick([5000, 60_000]);
    const text = before ? `${before.name} ${how}d (${ms} ms), then ` : '';
    return [`${text}stop code: the server closes with 1008`, () => this.#stopCode(before, how, ms)];
  }

  async #stopCode(before, how, ms) {
    if (before) {
      if (how === 'pause') {
        before.pause(ms);
        this.touch(before, before.blockedUntil);
      } else {
        before.throttle(ms);
        this.touch(before);
      }
    }
    this.stops++;
    const stoppedAt = this.now;
    // A client whose join may still be on its way when the stop code comes
    // races it: it may as well have joined just after, and then takes the
    // socket as it is. Any other client present is stopped.
    const present = this.present();
    const stopped = present.filter((c) => c.joinedAt + c.joinRace <= stoppedAt);
    const racing = present.length > stopped.length;
    this.server.closeAll(1008, 'policy');
    // Until every tab runs, and hears its channel, again (a tab that cannot
    // hear cannot learn of it), then long enough for a late timer to wake and ask.
    const world = this.world;
    const until = (tab) => Math.max(tab.blockedUntil, this.#deafUntil.get(tab) ?? 0);
    const blocked = Math.max(0, ...this.liveTabs().map(until)) - this.now;
    if (blocked > 0) await world.advance(blocked);
    const align = Math.max(0, ...this.liveTabs().map((tab) => tab.align));
    const called = (c) => this.calls.some((call) => call.client === c && call.at >= stoppedAt);
    const final = (c) => c.client.state === 'closed' || c.tab.gone || called(c);
    await world.runUntil(() => stopped.every(final), 2 * this.options.timeout + 2 * align + 5000);
    const settled = () => {
      const open = stopped.filter((c) => !final(c));
      if (open.length)
        this.fail(
          'a stop code is final everywhere',
          `after the stop code at ${stoppedAt}, not closed: ${open.map((c) => `${c}@${c.tab.name}=${c.client.state}`).join(', ')}`,
        );
      const wrong = stopped.filter((c) => !called(c) && !c.tab.gone && c.last?.code !== 1008);
      if (wrong.length)
        this.fail(
          'a stop code is final everywhere',
          `closed without the stop code: ${wrong.map((c) => `${c} (${c.last?.code})`).join(', ')}`,
        );
    };
    settled();
    await world.advance(this.options.timeout + align + 2000);
    settled();
    const reopened = this.server.connections.filter((conn) => conn.createdAt >= stoppedAt);
    if (reopened.length && !racing && !this.calls.some((call) => call.at >= stoppedAt))
      this.fail(
        'a stop code is final everywhere',
        `no client called connect() after the stop code at ${stoppedAt}, yet connections were made: ` +
          reopened.map((conn) => `#${conn.id} by ${conn.tab} at ${conn.createdAt}`).join(', '),
      );
    this.log[this.log.length - 1] += `: final for ${stopped.join(', ') || 'nobody'}; now t=${this.now}`;
    // The history goes on with fresh clients.
    for (let i = this.dice.int(1, 2); i > 0; i--) {
      const tab = this.dice.pick(this.runningTabs());
      if (tab) this.log[this.log.length - 1] += `; joins ${this.insert(tab)} in ${tab.name}`;
    }
  }

  // Invariants, after every step.

  check({final = false} = {}) {
    this.#noErrors();
    this.#oneSocket(final);
    this.#received();
    this.#nothingDropped();
    this.#subsArrive();
  }

  #noErrors() {
    const {errors, unhandled} = this.world;
    if (errors.length)
      this.fail(
        'nothing throws',
        errors.map(({at, tab, error}) => `${tab} at ${at}: ${error?.stack ?? error}`).join('; '),
      );
    if (unhandled.length)
      this.fail(
        'no unhandled rejection',
        unhandled.map(({at, tab, reason}) => `${tab} at ${at}: ${reason?.stack ?? reason}`).join('; '),
      );
  }

  /** The windows in which two open sockets are allowed: a holder hung or paused, and timeout + 1 s after a steal. */
  windows() {
    const grace = this.options.timeout + 1000;
    return union([...this.blocks, ...this.world.locks.steals.map(({at}) => [at, at + grace])]);
  }

  /** 1. At most one socket OPEN across tabs, outside the stated windows. */
  #oneSocket(final) {
    const timeline = this.server.timeline;
    const windows = this.windows();
    // A count is judged once it has ended: until then it may still end inside a window.
    const end = final ? timeline.length : timeline.length - 1;
    for (; this.#timelineRead < end; this.#timelineRead++) {
      const entry = timeline[this.#timelineRead];
      if (entry.open <= 1) continue;
      const until = timeline[this.#timelineRead + 1]?.at ?? this.now;
      if (windows.some(([from, to]) => entry.at >= from && until <= to)) continue;
      this.fail(
        'at most one socket open across tabs',
        `${entry.open} open from ${entry.at} to ${until}, outside every stated window ` +
          `(${windows.map(([from, to]) => `${from}–${to}`).join(', ') || 'none'})`,
      );
    }
  }

  /**
   * 3. Each client's messages arrive in its order (first arrivals; a repeat
   * after a handover is allowed); 4. on every connection, a client's
   * openMessages before anything it sent there; and nothing else arrives.
   */
  #received() {
    const received = this.server.received;
    for (; this.#receivedRead < received.length; this.#receivedRead++) {
      const {conn, data, at} = received[this.#receivedRead];
      if (data === this.server.ping) continue;
      const message = parse(data);
      if (!message)
        this.fail('nothing but what clients sent arrives', `#${conn} got ${JSON.stringify(data)}`);
      let subs = this.#subs.get(conn);
      if (!subs) this.#subs.set(conn, (subs = new Set()));
      if (message.sub) {
        subs.add(message.client);
        continue;
      }
      if (!subs.has(message.client))
        this.fail(
          "every client's openMessages on every open",
          `${data} arrived on #${conn} at ${at} before sub ${message.client} did`,
        );
      if (this.#firstSeen.has(data)) continue;
      this.#firstSeen.add(data);
      const last = this.#lastFirst.get(message.client) ?? 0;
      if (message.seq < last)
        this.fail(
          "each client's order kept",
          `${data} first arrived on #${conn} at ${at}, after ${message.client}#${last} had`,
        );
      this.#lastFirst.set(message.client, message.seq);
    }
  }

  /** Everything written to a socket, by any page. */
  written() {
    const written = new Set();
    for (const tab of this.world.tabs)
      for (const socket of tab.sockets) for (const data of socket.sent) written.add(data);
    return written;
  }

  /**
   * 2, as it stands at every step: a message a client no longer keeps (the
   * holder confirmed it) was written to a socket, unless the client said it
   * discarded it. What it still keeps it sends again; the end checks that it did.
   */
  #nothingDropped() {
    const written = this.written();
    for (const record of this.clients) {
      if (record.tab.gone) continue;
      const kept = new Set(record.client.unconfirmed().map(({data}) => data));
      const dropped = record.accepted.filter(
        (data) => !kept.has(data) && !record.discarded.has(data) && !written.has(data),
      );
      if (dropped.length)
        this.fail(
          'no accepted message lost',
          `${record} no longer keeps ${dropped.join(', ')}, which no page wrote to a socket`,
        );
    }
  }

  /** 4, that they arrive: once a client and a connection have been open a while with nothing in the way. */
  #subsArrive() {
    const open = this.server.openConnections.filter((conn) => !conn.blackholed);
    if (open.length !== 1 || this.server.mode !== 'accept') return;
    const [conn] = open;
    const holder = this.world.tabs.find((tab) => tab.name === conn.tab);
    const quietSince = (tab, extra) =>
      Math.max(this.touched.get(tab) ?? 0, this.serverTouched, conn.openedAt, extra) +
      this.options.timeout +
      3000 +
      2 * Math.max(holder.align, tab.align);
    const subs = this.#subs.get(conn.id) ?? new Set();
    for (const record of this.present()) {
      if (record.client.state !== 'open' || subs.has(record.name)) continue;
      const since = Math.max(quietSince(holder, record.joinedAt), quietSince(record.tab, record.joinedAt));
      if (this.now < since || holder.state !== 'running' || record.tab.state !== 'running') continue;
      this.fail(
        "every client's openMessages on every open",
        `${record} in ${record.tab.name} is open (since ${record.joinedAt}) on #${conn.id} ` +
          `(${conn.tab}, open since ${conn.openedAt}), quiet since ${since - this.options.timeout - 3000}, ` +
          `and sub ${record} never arrived there`,
      );
    }
  }

  // The end: every fault healed, everyone back.

  async heal() {
    this.step++;
    this.note('heal: every fault lifted, paused clients connect() again, a fresh client joins');
    for (const tab of this.liveTabs()) {
      tab.throttle(0);
      tab.dropChannel = false;
      tab.channelDelay = 0;
      this.touch(tab);
    }
    this.#channelFault.clear();
    this.#serverFault++;
    this.server.mode = 'accept';
    this.serverTouched = this.now;
    const blocked = Math.max(0, ...this.liveTabs().map((tab) => tab.blockedUntil)) - this.now;
    if (blocked > 0) await this.world.advance(blocked);
    for (const record of this.clients)
      if (!record.tab.gone && record.client.state === 'idle') this.call(record, 'connect');
    const tab = this.runningTabs()[0] ?? this.world.tab();
    this.insert(tab);
    await this.world.settle();
    this.check();
    const remaining = () => this.clients.filter((c) => !c.tab.gone && c.client.state !== 'closed');
    const recovered = () =>
      remaining().every((c) => c.client.state === 'open' && c.client.queued === 0) &&
      this.#unaccounted().length === 0;
    const limit = 3 * this.options.timeout + this.options.heartbeatInterval + 60_000;
    await this.world.runUntil(recovered, limit);
    this.check({final: true});
    const stuck = remaining().filter((c) => c.client.state !== 'open' || c.client.queued > 0);
    if (stuck.length)
      this.fail(
        'recovery: every remaining client open once the faults are healed',
        `${limit} ms after healing: ${stuck.map((c) => `${c}@${c.tab.name}=${c.client.state}, ${c.client.queued} queued`).join('; ')}`,
      );
    const missing = this.#unaccounted();
    if (missing.length)
      this.fail(
        'no accepted message lost',
        `never reached the server, nor lost in flight, nor reported discarded: ${missing.join(', ')}`,
      );
  }

  /** Accepted messages of clients still in a page that neither arrived, nor were lost in flight, nor were reported discarded. */
  #unaccounted() {
    const arrived = new Set(this.server.received.map(({data}) => data));
    const inFlight = this.lostInFlight();
    return this.clients
      .filter((c) => !c.tab.gone)
      .flatMap((c) =>
        c.accepted.filter((data) => !arrived.has(data) && !inFlight.has(data) && !c.discarded.has(data)),
      );
  }

  /**
   * The documented exception: a message written to a connection that the
   * server cut or blackholed, or whose page went, on its way; by cause.
   */
  lostInFlight() {
    const lost = new Map();
    for (const conn of this.server.connections) {
      const cause = conn.blackholed ? 'blackholed' : conn.closedBy;
      for (const data of conn.lost) if (parse(data)?.seq) lost.set(data, `#${conn.id} ${cause}`);
    }
    return lost;
  }

  /** The exception is taken only where it applies: never on a connection the page closed itself. */
  checkLost() {
    const arrived = new Set(this.server.received.map(({data}) => data));
    for (const [data, where] of this.lostInFlight()) {
      if (arrived.has(data)) continue;
      if (!/ (server|blackholed|gone)$/.test(where))
        this.fail(
          'no accepted message lost',
          `${data} was lost in flight on ${where}, which the server did not cut`,
        );
    }
  }

  summary() {
    const arrived = new Set(this.server.received.map(({data}) => data));
    const lost = [...this.lostInFlight()].filter(([data]) => !arrived.has(data));
    const accepted = this.clients.reduce((sum, c) => sum + c.accepted.length, 0);
    return (
      `seed ${this.seed}: ${this.log.length} steps to t=${this.now}, ${this.world.tabs.length} tabs, ` +
      `${this.clients.length} clients, ${accepted} accepted, ${this.server.attempts} connections, ` +
      `${this.world.locks.steals.length} steals, ${this.stops} stop codes; lost in flight: ` +
      (lost.map(([data, where]) => `${data} (${where})`).join(', ') || 'none')
    );
  }
}

async function runHistory(seed, steps, history = new History(seed)) {
  try {
    for (let i = history.dice.int(1, 3); i > 0; i--) history.insert(history.world.tab());
    await history.world.settle();
    for (let i = 0; i < steps; i++) {
      await history.take();
      history.check();
    }
    await history.heal();
    history.checkLost();
    return history;
  } finally {
    history.world.dispose();
  }
}

describe('sharing in random histories of the multi-tab world', () => {
  for (let seed = FIRST; seed < FIRST + RUNS; seed++) {
    it(`history ${seed}: ${STEPS} steps, every invariant after each`, async (t) => {
      const history = await runHistory(seed, STEPS);
      t.diagnostic(history.summary());
    });
  }

  it('replays a seed step for step, failure and all', async () => {
    const replays = [];
    for (let i = 0; i < 2; i++) {
      const history = new History(FIRST);
      const outcome = await runHistory(FIRST, STEPS, history).then(
        () => 'passed',
        (error) => error.message,
      );
      replays.push({
        outcome,
        log: history.log,
        received: history.server.received.map(({at, conn, data}) => `${at} #${conn} ${data}`),
      });
    }
    assert.deepEqual(replays[0], replays[1]);
  });
});
