import type {Environment, TimerHandle} from '../client/environment.js';
import type {ResolvedOptions} from '../client/options.js';
import {
  ConnectionState,
  type ErrorDetail,
  type ErrorKind,
  type StateChange,
  WsClient,
} from '../client/ws-client.js';
import type {ChannelLike, ShareEnvironment} from './environment.js';

/** The shared socket as every page sees it. */
export interface Snapshot {
  state: ConnectionState;
  attempt: number;
  latency: number | undefined;
  nextRetryAt: number | undefined;
  /** The holder's `timeout`: how long a follower waits for word of it. */
  timeout: number;
}

/** A message a member sent, numbered in its order, kept until the holder confirms it was written. */
export interface Sent {
  seq: number;
  payload: unknown;
}

/** What the hub needs from each of its page's members (a `SharedClient`). */
export interface HubMember {
  readonly id: number;
  readonly options: ResolvedOptions;
  /** Its `openMessages`, serialised. */
  openPayloads(): unknown[];
  unconfirmed(): readonly Sent[];
  confirmed(seq: number): void;
  shared(snapshot: Snapshot, change?: Partial<StateChange>): void;
  received(data: unknown): void;
  failed(detail: ErrorDetail): void;
  roleChanged(): void;
}

/** A lock request, pending or granted: how to withdraw it, and once granted, how to let it go. */
type LockHold = {abort: AbortController; release?: () => void};

/** A message waiting in the holder for the socket: whose it is, and its number. */
type Outgoing = Sent & {tab: string; member: number};

/**
 * What travels on a key's channel. The holder's messages carry its `term`;
 * the followers' carry their `tab`, and a `send` names the term it is for.
 */
type Wire =
  | {k: 'beat'; term: number; snap: Snapshot}
  | {k: 'state'; term: number; snap: Snapshot; change: StateChange}
  | {k: 'msg'; term: number; data: unknown}
  | {k: 'err'; term: number; kind: ErrorKind; message: string}
  | {k: 'ack'; term: number; tab: string; member: number; seq: number}
  | {k: 'bye'; term: number}
  | {k: 'again'; term: number; tab: string}
  | {k: 'hello'; tab: string}
  | {k: 'join'; tab: string; open: unknown[]}
  | {k: 'send'; tab: string; to: number; member: number; seq: number; payload: unknown; low: number}
  | {k: 'drop'; tab: string; member?: number}
  | {k: 'cmd'; tab: string; op: 'connect' | 'reconnect'};

/**
 * How long a follower waits for an answer to its probe before it takes the
 * lock: this, plus up to as much again at random, so that of several
 * followers the first to take it is heard by the others before they do.
 */
const PROBE_WAIT = 150;
/** How long a page that took the lock from a silent holder waits before it opens its socket. */
const TAKEOVER_SETTLE = 50;
/** The most a holder stays silent: followers take silence for `timeout` as a hung holder. */
const MAX_BEAT = 1000;
/** Errors about the hub's own writes, which it handles itself. */
const OWN_ERRORS: readonly ErrorKind[] = ['queue-overflow', 'send-failed', 'queue-discarded', 'parse-error'];

/** The page's hub for `key`, made on first use; it removes itself when its last member leaves. */
export function hubFor(key: string, env: Environment, share: ShareEnvironment): Hub {
  let hub = share.registry.get(key) as Hub | undefined;
  if (!hub) share.registry.set(key, (hub = new Hub(key, env, share)));
  return hub;
}

/**
 * One key's shared socket as one page takes part in it. The page's members
 * use it directly. Across pages, the page holding the key's Web Lock runs the
 * socket (a `WsClient`) and is its holder; the others are followers and relay
 * through the key's BroadcastChannel: their sends go to the holder, which
 * confirms each once written; the holder's state, messages and errors come
 * back. When the holder goes, the lock passes to the next page in line, in
 * the order they asked; followers send again whatever was not confirmed.
 */
export class Hub {
  readonly #key: string;
  /** The name of the key's lock and channel. */
  readonly #name: string;
  readonly #env: Environment;
  readonly #share: ShareEnvironment;
  /** This page, in the key's conversation. */
  readonly #tab = Math.random().toString(36).slice(2);
  /** Members using the socket, in the order they came. */
  readonly #members = new Set<HubMember>();
  #channel: ChannelLike | undefined;
  #unwatch: (() => void) | undefined;
  /** The page left (hidden, in the back/forward cache, or frozen) and has not returned. */
  #away = false;

  /** The newest holder's term known here; holders drop out in favour of a newer one. */
  #term = 0;
  /** This page told the current holder its `openMessages` and sent it what waits. */
  #introduced = false;
  #snap: Snapshot = {
    state: ConnectionState.connecting,
    attempt: 0,
    latency: undefined,
    nextRetryAt: undefined,
    timeout: 10_000,
  };
  /** Our lock request, pending or granted, and how to let it go. */
  #lock: LockHold | undefined;
  #timer: TimerHandle | undefined;
  /** When a follower last heard from the holder. */
  #heard = 0;

  // The holder's part.
  #engine: WsClient | undefined;
  #outbox: Outgoing[] = [];
  /** Per member (`tab:member`): the highest number taken into the outbox, and the highest written. */
  readonly #taken = new Map<string, number>();
  readonly #written = new Map<string, number>();
  /** Tabs asked to send again, until their next message in order. */
  readonly #asked = new Set<string>();
  /** Followers' `openMessages`, by tab; and the tabs whose went out on the current open. */
  readonly #remoteOpen = new Map<string, unknown[]>();
  readonly #openSent = new Set<string>();

  constructor(key: string, env: Environment, share: ShareEnvironment) {
    this.#key = key;
    this.#name = `ws-connection ${key}`;
    this.#env = env;
    this.#share = share;
  }

  /** True while this page holds the socket. */
  get leader(): boolean {
    return this.#engine !== undefined;
  }
  get snapshot(): Snapshot {
    return this.#snap;
  }

  join(member: HubMember): void {
    this.#members.add(member);
    if (this.#members.size === 1) this.#start();
    else if (this.#engine) for (const sent of member.unconfirmed()) this.#take(this.#tab, member.id, sent);
    else if (this.#introduced) {
      this.#introduce(false);
      for (const sent of member.unconfirmed()) this.#sendToHolder(member, sent);
    }
    member.shared(this.#snap);
  }

  /** Its messages not yet written stay with the member, which sends them again if it returns. */
  leave(member: HubMember, code?: number, reason?: string): void {
    if (!this.#members.delete(member)) return;
    if (!this.#members.size) {
      this.#stop(code, reason);
      return;
    }
    if (this.#engine) {
      this.#forget(this.#tab, member.id);
      this.#engine.configure(socketOptions(this.#first()));
    } else {
      this.#post({k: 'drop', tab: this.#tab, member: member.id});
      this.#introduce(false);
    }
  }

  submit(member: HubMember, sent: Sent): void {
    if (this.#engine) this.#take(this.#tab, member.id, sent);
    // Until the holder has heard what waited before it, in order, it waits too.
    else if (this.#introduced) this.#sendToHolder(member, sent);
  }

  /** `connect()` or `reconnect()` on the shared socket. */
  command(op: 'connect' | 'reconnect'): void {
    if (this.#engine) this.#engine[op]();
    else this.#post({k: 'cmd', tab: this.#tab, op});
  }

  /** A member's options changed: the first member's are the socket's; everyone's `openMessages` count. */
  reconfigured(): void {
    if (this.#engine) this.#engine.configure(socketOptions(this.#first()));
    else this.#introduce(false);
  }

  #first(): HubMember {
    return this.#members.values().next().value!;
  }

  #start(): void {
    const {locks, channel} = this.#share;
    if (!locks || !channel) {
      // Within the page only.
      this.#becomeHolder();
      return;
    }
    this.#unwatch = this.#share.watchPage((signal) =>
      signal === 'leave' ? this.#leavePage() : this.#returnToPage(),
    );
    this.#enter();
  }

  /** Opens the channel, asks who holds the socket, and queues for the lock. */
  #enter(): void {
    this.#channel = this.#share.channel!(this.#name);
    this.#channel.onmessage = ({data}) => this.#receive(data as Wire);
    this.#introduced = false;
    this.#heard = this.#env.now();
    this.#snap = {...this.#snap, timeout: this.#first().options.timeout};
    this.#post({k: 'hello', tab: this.#tab});
    this.#requestLock(false);
    this.#watchHolder();
  }

  /** Leaves the conversation: hands the socket over, or gives up the place in line. */
  #exit(code?: number, reason = 'handover'): void {
    if (this.#engine) this.#resign(true, code, reason);
    else this.#post({k: 'drop', tab: this.#tab});
    this.#lock?.abort.abort();
    this.#lock = undefined;
    this.#env.clearTimeout(this.#timer);
    this.#channel?.close();
    this.#channel = undefined;
  }

  #stop(code?: number, reason?: string): void {
    this.#share.registry.delete(this.#key);
    this.#unwatch?.();
    this.#unwatch = undefined;
    if (this.#channel) this.#exit(code, reason);
    else if (this.#engine) this.#resign(false, code, reason);
  }

  /** `pagehide` or `freeze`: hand over, so that the page may enter the back/forward cache. */
  #leavePage(): void {
    if (this.#away || !this.#channel) return;
    this.#away = true;
    this.#exit();
    this.#publish({...this.#snap, state: ConnectionState.idle});
  }

  /** `pageshow` or `resume`: back as a follower, in line for the lock. */
  #returnToPage(): void {
    if (!this.#away) return;
    this.#away = false;
    this.#snap = following(this.#snap);
    this.#publish(this.#snap);
    this.#enter();
  }

  #requestLock(steal: boolean): void {
    this.#lock?.abort.abort();
    const lock: LockHold = {abort: new AbortController()};
    this.#lock = lock;
    this.#share
      .locks!.request(
        this.#name,
        steal ? {steal} : {signal: lock.abort.signal},
        () =>
          new Promise<void>((release) => {
            lock.release = release;
            if (this.#lock === lock) this.#becomeHolder(steal);
            else release();
          }),
      )
      .catch(() => {
        // Aborted while waiting, or stolen while held by a holder that was
        // frozen or hung: it gives up its socket now that it runs again.
        if (this.#lock === lock && this.#engine) {
          this.#resign(false);
          this.#requestLock(false);
          this.#watchHolder();
        }
      });
  }

  /** With `stolen`, it took the lock from a silent holder. */
  #becomeHolder(stolen = false): void {
    this.#env.clearTimeout(this.#timer);
    // Later than any term heard of, and apart from a term another page took
    // in the same ms: a follower knows a new holder only by its term.
    this.#term = Math.floor(Math.max(this.#env.epochNow(), this.#term + 1)) + this.#env.random() / 2;
    const engine = new WsClient(socketOptions(this.#first()), this.#env);
    this.#engine = engine;
    engine.on('state', (change) => this.#engine === engine && this.#onState(change));
    engine.on('message', ({data}) => {
      if (this.#engine !== engine) return;
      this.#post({k: 'msg', term: this.#term, data});
      this.#each((member) => member.received(data));
    });
    engine.on('error', (detail) => {
      if (this.#engine !== engine || OWN_ERRORS.includes(detail.kind)) return;
      this.#post({k: 'err', term: this.#term, kind: detail.kind, message: detail.message});
      this.#each((member) => member.failed(detail));
    });
    engine.on('latency', () => this.#engine === engine && this.#announce());
    for (const member of this.#members)
      for (const sent of member.unconfirmed()) this.#take(this.#tab, member.id, sent);
    // Two followers that took the lock from a silent holder at the same
    // moment each hold it in turn: the first learns it lost the lock within
    // a few ms, so it waits a little before it opens, and only one socket
    // does. Meanwhile it says it is connecting, not what the last holder said.
    if (stolen) this.#snap = following(this.#snap);
    this.#announce();
    this.#beat();
    this.#each((member) => member.roleChanged());
    if (stolen) this.#env.setTimeout(() => this.#engine === engine && engine.connect(), TAKEOVER_SETTLE);
    else engine.connect();
  }

  /**
   * Gives up the socket: closes it, lets the lock go, and forgets what
   * waited to be written (the senders keep it until confirmed). With `bye`,
   * tells the followers, so that they know at once.
   */
  #resign(bye: boolean, code?: number, reason = 'handover'): void {
    const engine = this.#engine!;
    const final = engine.state === ConnectionState.closed;
    this.#engine = undefined;
    engine.close(code, reason);
    this.#env.clearTimeout(this.#timer);
    if (bye) this.#post({k: 'bye', term: this.#term});
    const release = this.#lock?.release;
    this.#lock = undefined;
    // At once, before the page may be frozen into the back/forward cache
    // with the lock still held; after a final close, late enough that every
    // follower has heard of it first.
    if (release && final) this.#env.setTimeout(release, 50);
    else release?.();
    this.#outbox = [];
    this.#taken.clear();
    this.#written.clear();
    this.#asked.clear();
    this.#remoteOpen.clear();
    // What its members sent waits for whichever holder it hears from next.
    this.#introduced = false;
    this.#snap = following(this.#snap);
    this.#each((member) => member.roleChanged());
  }

  #onState(change: StateChange): void {
    const engine = this.#engine!;
    if (change.state === ConnectionState.open) {
      // Everyone's subscriptions first, then what waited, before anyone hears of the open.
      this.#openSent.clear();
      for (const member of this.#members) this.#writeAll(member.openPayloads());
      for (const [tab, open] of this.#remoteOpen) this.#writeOpen(tab, open);
      this.#flush();
    }
    this.#snap = {
      state: change.state,
      attempt: change.attempt,
      latency: engine.latency,
      nextRetryAt: engine.nextRetryAt,
      timeout: engine.options.timeout,
    };
    this.#post({k: 'state', term: this.#term, snap: this.#snap, change});
    this.#publish(this.#snap, change);
  }

  /** Tells this page's members how the socket is. */
  #publish(snap: Snapshot, change?: Partial<StateChange>): void {
    this.#each((member) => member.shared(snap, change));
  }

  #announce(): void {
    const engine = this.#engine!;
    this.#snap = {...this.#snap, latency: engine.latency};
    this.#postBeat();
    this.#publish(this.#snap);
  }

  #postBeat(): void {
    this.#post({k: 'beat', term: this.#term, snap: this.#snap});
  }

  /** The holder speaks at least every second, so that silence means it is gone or hung. */
  #beat(): void {
    const interval = this.#engine!.options.heartbeatInterval || MAX_BEAT;
    this.#timer = this.#env.setTimeout(
      () => {
        if (!this.#engine) return;
        this.#post({k: 'beat', term: this.#term, snap: this.#snap});
        this.#beat();
      },
      Math.min(interval, MAX_BEAT),
    );
  }

  /**
   * A follower that hears nothing from the holder for `timeout`, while the
   * lock is held, asks once more and then takes the lock from it. The
   * timeout is the holder's (the follower's own until it hears from the
   * holder), watched anew whenever the holder announces a different one.
   */
  #watchHolder(): void {
    const watching = () => !this.#engine && this.#channel !== undefined;
    const silence = () => this.#env.now() - this.#heard;
    const arm = (next: () => void, ms: number) => {
      this.#env.clearTimeout(this.#timer);
      this.#timer = this.#env.setTimeout(next, ms);
    };
    const check = () => {
      if (!watching()) return;
      const {timeout} = this.#snap;
      if (silence() < timeout) return arm(check, timeout - silence());
      this.#post({k: 'hello', tab: this.#tab});
      arm(probe, PROBE_WAIT + this.#env.random() * PROBE_WAIT);
    };
    const probe = () => {
      if (!watching() || silence() < this.#snap.timeout) return check();
      void this.#share.locks!.query().then(({held = []}) => {
        if (!watching()) return;
        // Still silent with the lock held: take it. Heard from, or the lock
        // free (this page is in line for it): keep watching.
        if (silence() >= this.#snap.timeout && held.some((lock) => lock.name === this.#name)) {
          this.#requestLock(true);
        } else check();
      });
    };
    arm(check, this.#snap.timeout);
  }

  #receive(message: Wire): void {
    if (!message || typeof message !== 'object') return;
    if ('term' in message) this.#fromHolder(message);
    else if (this.#engine) this.#fromFollower(message);
  }

  #fromHolder(message: Extract<Wire, {term: number}>): void {
    if (message.term < this.#term) return;
    if (message.term > this.#term) {
      // A newer holder: a holder that was frozen gives up its socket.
      if (this.#engine) {
        this.#resign(false);
        this.#requestLock(false);
        this.#watchHolder();
      }
      this.#term = message.term;
      this.#introduced = false;
    }
    if (this.#engine) return;
    if (!this.#introduced) this.#introduce(true);
    this.#heard = this.#env.now();
    if (message.k === 'beat' || message.k === 'state') {
      const rewatch = message.snap.timeout !== this.#snap.timeout;
      this.#snap = message.snap;
      if (rewatch) this.#watchHolder();
      this.#publish(message.snap, message.k === 'state' ? message.change : undefined);
    } else if (message.k === 'msg') {
      this.#each((member) => member.received(message.data));
    } else if (message.k === 'err') {
      this.#each((member) => member.failed({kind: message.kind, message: message.message}));
    } else if (message.k === 'ack') {
      if (message.tab === this.#tab) this.#member(message.member)?.confirmed(message.seq);
    } else if (message.k === 'bye') {
      this.#snap = following(this.#snap);
      this.#publish(this.#snap);
    } else if (message.k === 'again') {
      if (message.tab === this.#tab) this.#introduce(true);
    }
  }

  #fromFollower(message: Exclude<Wire, {term: number}>): void {
    const {tab} = message;
    if (message.k === 'hello') {
      this.#postBeat();
    } else if (message.k === 'join') {
      this.#remoteOpen.set(tab, message.open);
      if (this.#engine!.state === ConnectionState.open) this.#writeOpen(tab, message.open);
    } else if (message.k === 'send') {
      if (message.to === this.#term) this.#take(tab, message.member, message, message.low);
    } else if (message.k === 'drop') {
      this.#forget(tab, message.member);
      if (message.member === undefined) this.#remoteOpen.delete(tab);
    } else if (message.k === 'cmd') {
      this.#engine![message.op]();
    }
  }

  /**
   * A follower tells the holder its `openMessages`; with `resend`, for a new
   * holder, it sends again, in order, whatever was not confirmed.
   */
  #introduce(resend: boolean): void {
    if (!this.#term || !this.#channel || (!resend && !this.#introduced)) return;
    this.#introduced = true;
    this.#post({
      k: 'join',
      tab: this.#tab,
      open: [...this.#members].flatMap((member) => member.openPayloads()),
    });
    if (!resend) return;
    for (const member of this.#members)
      for (const sent of member.unconfirmed()) this.#sendToHolder(member, sent);
  }

  /** With the first it still waits for (`low`), so that the holder can tell a message that went missing. */
  #sendToHolder(member: HubMember, {seq, payload}: Sent): void {
    const low = member.unconfirmed()[0]?.seq ?? seq;
    if (this.#term)
      this.#post({k: 'send', tab: this.#tab, to: this.#term, member: member.id, seq, payload, low});
  }

  /**
   * Takes a message into the holder's outbox, once and in its sender's
   * order, and writes what it can. One that skips a message this page never
   * got (a BroadcastChannel drops what comes while its page is paused) is
   * not taken: the sender is asked to send again what waits.
   */
  #take(tab: string, member: number, {seq, payload}: Sent, low = seq): void {
    const id = `${tab}:${member}`;
    const next = Math.max(this.#taken.get(id) ?? 0, low - 1) + 1;
    if (seq <= (this.#written.get(id) ?? 0)) {
      this.#confirm({tab, member, seq, payload});
    } else if (seq === next) {
      this.#asked.delete(tab);
      this.#taken.set(id, seq);
      this.#outbox.push({tab, member, seq, payload});
      this.#flush();
    } else if (seq > next && !this.#asked.has(tab)) {
      this.#asked.add(tab);
      this.#post({k: 'again', term: this.#term, tab});
    }
  }

  /** Drops what waits from a member (or a whole tab) that left. */
  #forget(tab: string, member?: number): void {
    const ours = (item: {tab: string; member: number}) =>
      item.tab === tab && (member === undefined || item.member === member);
    this.#outbox = this.#outbox.filter((item) => !ours(item));
    for (const map of [this.#taken, this.#written]) {
      for (const id of map.keys()) if (ours(parseId(id))) map.delete(id);
    }
  }

  #flush(): void {
    while (this.#outbox.length && this.#write(this.#outbox[0]!.payload)) this.#confirm(this.#outbox.shift()!);
  }

  #confirm(item: Outgoing): void {
    const {tab, member, seq} = item;
    const id = `${tab}:${member}`;
    this.#written.set(id, Math.max(seq, this.#written.get(id) ?? 0));
    if (tab === this.#tab) this.#member(member)?.confirmed(seq);
    else this.#post({k: 'ack', term: this.#term, tab, member, seq});
  }

  #writeOpen(tab: string, open: unknown[]): void {
    if (this.#openSent.has(tab)) return;
    this.#openSent.add(tab);
    this.#writeAll(open);
  }

  #writeAll(payloads: unknown[]): void {
    for (const payload of payloads) this.#write(payload);
  }

  /** True when written to the open socket. */
  #write(payload: unknown): boolean {
    const engine = this.#engine;
    return engine?.state === ConnectionState.open && engine.send(payload);
  }

  /** Calls each member of the moment: a member may leave while it is told. */
  #each(tell: (member: HubMember) => void): void {
    for (const member of [...this.#members]) tell(member);
  }

  #member(id: number): HubMember | undefined {
    for (const member of this.#members) if (member.id === id) return member;
    return undefined;
  }

  #post(message: Wire): void {
    try {
      this.#channel?.postMessage(message);
    } catch {
      // A payload the channel cannot carry; its sender keeps it.
    }
  }
}

/**
 * The socket's options: the first member's, with the parts each member
 * keeps to itself taken out. Raw frames come in (each member parses and
 * converts them its own way); nothing queues inside: the hub keeps what
 * waits, and writes only to an open socket.
 */
function socketOptions(first: HubMember): Partial<ResolvedOptions> {
  return {
    ...first.options,
    json: false,
    binaryType: 'arraybuffer',
    queueLimit: 0,
    openMessages: [],
  };
}

/** Between holders: the socket is being taken over. */
function following(snap: Snapshot): Snapshot {
  return {...snap, state: ConnectionState.connecting, latency: undefined, nextRetryAt: undefined};
}

function parseId(id: string): {tab: string; member: number} {
  const at = id.lastIndexOf(':');
  return {tab: id.slice(0, at), member: Number(id.slice(at + 1))};
}
