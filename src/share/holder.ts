import type {Environment, SocketConstructor, TimerHandle} from '../client/environment.js';
import type {ResolvedOptions} from '../client/options.js';
import {ConnectionState, type ErrorKind, type StateChange, WsClient} from '../client/ws-client.js';
import {type HubMember, lost, placed, refused as refuse, type Sent} from './member.js';
import {Vouched} from './vouched.js';
import {beatInterval} from './timing.js';
import type {Final, FollowerMessage, HolderMessage, Payload, SessionState, Snapshot} from './wire.js';

/** What the holder needs from its hub: the page's members, the channel, and what the tabs say. */
export interface HolderHost {
  readonly tab: string;
  /** This page's members, in the order they came. */
  members(): readonly HubMember[];
  /** Posts to the other tabs; absent when the socket is shared within the page only. */
  readonly post: ((message: HolderMessage) => void) | undefined;
  /** Of these tabs, those still taking part (their presence lock is held). */
  present(tabs: string[]): Promise<Set<string>>;
  /** Every tab taking part, whether or not it has said so to this holder. */
  everyTab(): Promise<string[]>;
  /** Every tab that took part has heard of the final close: the holder may go. */
  finalHeard(): void;
  /** Another tab holds the socket now (its socket resumed the session, or it has the lock): this one follows. */
  superseded(): void;
  /** Whether this page still holds the key's lock, as the lock manager says; absent without locks. */
  readonly stillHeld?: (() => Promise<boolean>) | undefined;
}

type Sender = {tab: string; member: number};
/** A holder's message before it is signed with the term and the tab. */
type Unsigned<T> = T extends unknown ? Omit<T, 'term' | 'from'> : never;
/** A message waiting in the holder for the socket: whose it is, and its number. */
type Outgoing = Sent & Sender;
type RemoteMember = Sender & {open: Payload[]};

/** Errors about the holder's own writes, which it handles itself. */
const OWN_ERRORS: readonly ErrorKind[] = ['queue-overflow', 'send-failed', 'queue-discarded', 'parse-error'];
/** The reason a server closes a session's older connection with (docs/PROTOCOL.md, 4.3). */
const RESUMED_ELSEWHERE = 'session resumed on another connection';

const idOf = (tab: string, member: number) => `${tab}:${member}`;

/**
 * The tab that runs the key's socket: a `WsClient`, the outbox of what every
 * member in every tab sent (taken once and in each sender's order, and
 * confirmed once written), everyone's `openMessages`, the beat that tells
 * the followers how the socket is, and the record of a final close.
 */
export class Holder {
  readonly term: number;
  readonly #host: HolderHost;
  readonly #env: Environment;
  readonly #engine: WsClient;
  #stopped = false;
  /** Between taking the lock and opening the socket. */
  #settling = false;
  #beat: TimerHandle | undefined;

  #outbox: Outgoing[] = [];
  /** Per sender: the highest number taken into the outbox, and the highest written. */
  readonly #taken = new Map<string, number>();
  readonly #written = new Map<string, number>();
  /** Senders whose acknowledgement changed in the current operation. */
  readonly #dirty = new Map<string, Sender>();
  /** Per sender: the numbers the session refused since the last word (it can never take them). */
  readonly #refused = new Map<string, number[]>();
  /** Tabs asked to send again, until their next message in order. */
  readonly #asked = new Set<string>();
  /** Other tabs' members, with their `openMessages`. */
  readonly #remote = new Map<string, RemoteMember>();
  readonly #vouched = new Vouched<Exclude<FollowerMessage, {k: 'probe'}>>(
    (tabs) => this.#host.present(tabs),
    (message) => this.#live() && this.#handle(message),
    () => this.#live(),
  );
  /** Per tab, the number of the last join or drop taken from it. */
  readonly #said = new Map<string, number>();
  /** Members (of any tab) whose `openMessages` went out on the current open (session), with the seq of the last. */
  readonly #opened = new Map<string, number>();

  /** With `reliable`: the last holder's session, to carry on, until this one's socket resumes it (or cannot). */
  #carried: SessionState | undefined;
  #adopted = false;
  /**
   * The server's mark when this holder resumed the carried session: what
   * the last holder wrote up to it the server has; what it wrote after, it
   * has not, and goes again, numbered on from the mark.
   */
  #mark: number | undefined;
  /** The socket speaks the delivery protocol: a message is done once the server acknowledges it. */
  #reliable = false;
  /** Written into the session and not yet acknowledged: whose, its number, and its seq in the session. */
  #ledger: (Sender & {seq: number; at: number})[] = [];
  /** Per sender: [number, seq in the session] of what was written since its last acknowledgement. */
  readonly #placed = new Map<string, number[][]>();

  /** Final closes in this term, the last one's cause, the tabs yet to hear of it, and those that have. */
  #finals = 0;
  #final: Final | undefined;
  readonly #unheard = new Set<string>();
  readonly #heardFinal = new Set<string>();
  /** Still asking which tabs take part, to wait for each. */
  #gathering = false;
  /**
   * When this holder's code last ran. After a gap as long as its `timeout`,
   * the page was paused (or its timers throttled), and a follower may have
   * taken the socket over meanwhile: nothing is written until the lock
   * manager says the lock is still this page's (`#doubting`).
   */
  #ranAt: number;
  #doubting = false;

  /**
   * `whenToOpen` calls back when the socket may open (see the hub's
   * `#becomeHolder`); `carried`, with `reliable`, is the session the last
   * holder told of.
   */
  constructor(
    host: HolderHost,
    env: Environment,
    term: number,
    whenToOpen: (open: () => void) => void,
    carried?: SessionState,
  ) {
    this.#host = host;
    this.#env = env;
    this.term = term;
    this.#carried = carried;
    this.#ranAt = env.now();
    const first = host.members()[0]!;
    const engine = new WsClient(socketOptions(first), {
      ...env,
      WebSocket: first.environment.WebSocket && socketOfFirst(host, () => this.#bindLink()),
    });
    this.#engine = engine;
    engine.on('state', (change) => this.#live() && this.#onState(change));
    engine.on('message', ({data}) => {
      if (!this.#live()) return;
      const session = this.#session();
      this.#post({k: 'msg', data: data as Payload, ...(session && {sid: session.id, seq: session.recv})});
      for (const member of host.members()) member.received(data);
    });
    engine.on('error', (detail) => {
      if (!this.#live()) return;
      if (detail.kind === 'session-lost') return this.#lost();
      if (OWN_ERRORS.includes(detail.kind)) return;
      this.#post({k: 'err', kind: detail.kind, message: detail.message});
      for (const member of host.members()) member.failed(detail);
    });
    engine.on('latency', () => this.#live() && this.#announce());
    for (const member of host.members())
      for (const sent of [...member.unconfirmed()]) this.#take(host.tab, member.id, sent);
    this.#scheduleBeat();
    this.#settling = true;
    whenToOpen(() => {
      this.#settling = false;
      if (this.#live()) engine.connect();
    });
    // Connecting, from the first word: never the engine's idle before it starts.
    this.#announce();
  }

  get reliable(): boolean {
    return this.#reliable;
  }

  get snapshot(): Snapshot {
    const engine = this.#engine;
    const state = this.#settling ? ConnectionState.connecting : engine.state;
    return {
      state,
      attempt: engine.attempt,
      latency: engine.latency,
      nextRetryAt: engine.nextRetryAt,
      timeout: engine.options.timeout,
    };
  }

  /** A final close that some tab has not heard of yet: the holder stays until it has. */
  get awaitingFinal(): boolean {
    return this.#gathering || this.#unheard.size > 0;
  }

  // This page's members.

  joined(member: HubMember): void {
    const engine = this.#engine;
    if (engine.state === ConnectionState.open)
      this.#writeOpenNow(idOf(this.#host.tab, member.id), member.openPayloads());
    // A copy: what is written is confirmed, and leaves the member's list, at once.
    for (const sent of [...member.unconfirmed()]) this.#take(this.#host.tab, member.id, sent);
    // A member that joins takes the socket as it is; only one that finds it stopped starts it.
    if (engine.state === ConnectionState.idle || engine.state === ConnectionState.closed) engine.connect();
  }

  left(member: HubMember): void {
    this.#forget(this.#host.tab, member.id);
    const first = this.#host.members()[0];
    if (first) this.#engine.configure(socketOptions(first));
  }

  submit(member: HubMember, sent: Sent): void {
    this.#take(this.#host.tab, member.id, sent);
  }

  /** The first member's options are the socket's. */
  reconfigured(): void {
    const first = this.#host.members()[0];
    if (first) this.#engine.configure(socketOptions(first));
  }

  command(op: 'connect' | 'reconnect' | 'probe'): void {
    this.#engine[op]();
  }

  /** Closes the socket for good; with `bye`, tells the followers that the socket moves. */
  stop(bye = false, code?: number, reason = 'handover'): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#env.clearTimeout(this.#beat);
    if (bye) this.#post({k: 'bye'});
    // Another tab carries the session on: it must not end with this socket.
    if ((this.#reliable || this.#adopted) && (!bye || this.#remote.size))
      this.#engine.link?.drain('closed', 'the socket moved to another tab');
    this.#engine.close(code, reason);
  }

  // The followers.

  receive(message: FollowerMessage): void {
    this.#mayWrite();
    // Anyone may ask whether the holder is there; everything else must come from a tab taking part.
    if (message.k === 'probe') this.#postBeat();
    else this.#vouched.take(message.tab, message);
  }

  #handle(message: Exclude<FollowerMessage, {k: 'probe'}>): void {
    const {tab} = message;
    switch (message.k) {
      case 'join': {
        this.#said.set(tab, Math.max(message.n, this.#said.get(tab) ?? 0));
        // Members of the tab it no longer has left with a word this page missed.
        for (const {tab: of, member} of [...this.#remote.values()]) {
          if (of === tab && !message.members.includes(member)) this.#forget(tab, member);
        }
        const id = idOf(tab, message.member);
        this.#remote.set(id, {tab, member: message.member, open: message.open});
        if (this.#engine.state === ConnectionState.open) this.#writeOpenNow(id, message.open);
        break;
      }
      case 'send':
        if (message.to !== this.term) break;
        // Its `openMessages` go first: a member the holder has not heard join is asked to again.
        if (this.#remote.has(idOf(tab, message.member)))
          this.#take(tab, message.member, message, message.low);
        else this.#askAgain(tab);
        break;
      case 'drop':
        this.#forget(tab, message.member);
        if (message.member !== undefined) {
          this.#said.set(tab, Math.max(message.n, this.#said.get(tab) ?? 0));
        } else {
          this.#said.delete(tab);
          this.#heard(tab);
        }
        break;
      case 'cmd':
        // Only from a tab taking part.
        if (this.#tabs().has(tab)) this.command(message.op);
        break;
      case 'seen':
        if (message.term === this.term && message.finals === this.#finals) this.#heard(tab);
        break;
    }
  }

  #live(): boolean {
    return !this.#stopped;
  }

  #onState(change: StateChange): void {
    if (change.state === ConnectionState.closed && this.#reliable && change.reason === RESUMED_ELSEWHERE) {
      // Not a stop code for the tabs: another tab's socket carries the session on.
      this.#host.superseded();
      return;
    }
    if (change.state === ConnectionState.open) {
      this.#reliable = change.resumed !== undefined;
      // Everyone's subscriptions first, then what waited, before anyone hears of the open.
      // A resumed reliable session has them still (and replays any not acknowledged).
      if (!change.resumed) this.#opened.clear();
      else if (this.#adopted) this.#carryOn(this.#engine.link!.sent);
      this.#adopted = false;
      this.#carried = undefined;
      this.#writeWaiting();
    }
    if (change.state === ConnectionState.closed) {
      // A stop code or exhausted retries: final for every tab, including
      // one that misses this message. It is recorded in every beat, and
      // the holder stays until each tab that took part has heard of it.
      this.#finals++;
      this.#final = {attempt: change.attempt, at: this.#env.epochNow()};
      if (change.code !== undefined)
        Object.assign(this.#final, {code: change.code, reason: change.reason ?? ''});
      this.#heardFinal.clear();
      for (const tab of this.#tabs()) this.#unheard.add(tab);
      this.#awaitEveryTab();
      this.#remote.clear();
      this.#outbox = this.#outbox.filter((item) => item.tab === this.#host.tab);
    }
    const snap = this.snapshot;
    this.#post({
      k: 'state',
      snap,
      finals: this.#finals,
      ...this.#finalField(),
      change,
      ...this.#sessionField(),
    });
    if (change.state !== ConnectionState.closed) {
      for (const member of this.#host.members()) member.shared(snap, change);
      return;
    }
    const final = this.#final!;
    for (const member of this.#host.members()) member.ended(final);
  }

  #finalField(): {final?: Final} {
    return this.#final ? {final: this.#final} : {};
  }

  #announce(): void {
    const snap = this.snapshot;
    this.#postBeat();
    for (const member of this.#host.members()) member.shared(snap);
  }

  #postBeat(): void {
    this.#post({
      k: 'beat',
      snap: this.snapshot,
      finals: this.#finals,
      ...this.#finalField(),
      waiting: this.#outbox.length,
      heard: Object.fromEntries(this.#said),
      ...this.#sessionField(),
    });
  }

  /** With `reliable`, the session as a next holder needs it; undefined on a plain socket. */
  #session(): SessionState | undefined {
    const session = this.#reliable ? this.#engine.link?.session : undefined;
    return (
      session && {
        id: session.id,
        token: session.token,
        recv: session.received,
        opened: Object.fromEntries(this.#opened),
      }
    );
  }

  #sessionField(): {session?: SessionState} {
    const session = this.#session();
    return session ? {session} : {};
  }

  /** Before each socket: hears the server's acknowledgements, and carries the last holder's session on. */
  #bindLink(): void {
    const link = this.#engine.link;
    if (!link) return;
    link.onAcknowledged = (upTo) => this.#live() && this.#serverHas(upTo);
    const carried = this.#carried;
    if (!carried || this.#adopted || link.session) return;
    this.#adopted = true;
    link.carry({id: carried.id, token: carried.token, received: carried.recv});
  }

  /**
   * The carried session resumed at the server's `mark`: subscriptions that
   * went out up to it are there; so are the messages the last holder wrote
   * up to it, which are done. Those it wrote after go first, in its order.
   */
  #carryOn(mark: number): void {
    this.#mark = mark;
    for (const [id, at] of Object.entries(this.#carried?.opened ?? {}))
      if (at <= mark) this.#opened.set(id, at);
    const waiting: Outgoing[] = [];
    for (const item of this.#outbox) {
      if (!this.#had(item)) waiting.push(item);
    }
    const carried = waiting.filter((item) => item.at !== undefined).sort((a, b) => a.at! - b.at!);
    this.#outbox = [...carried, ...waiting.filter((item) => item.at === undefined)];
    this.#acknowledge();
  }

  /** Whether the server had the message before this holder took over (it is done, and marked so). */
  #had({tab, member, seq, at}: Outgoing): boolean {
    if (at === undefined || this.#mark === undefined || at > this.#mark) return false;
    const id = idOf(tab, member);
    this.#written.set(id, Math.max(seq, this.#written.get(id) ?? 0));
    this.#dirty.set(id, {tab, member});
    return true;
  }

  /** The server acknowledged every message up to `upTo`: they are done, in every tab. */
  #serverHas(upTo: number): void {
    while (this.#ledger.length && this.#ledger[0]!.at <= upTo) {
      const {tab, member, seq} = this.#ledger.shift()!;
      const id = idOf(tab, member);
      this.#written.set(id, Math.max(seq, this.#written.get(id) ?? 0));
      this.#dirty.set(id, {tab, member});
    }
    // What waited for the session's bound, or for all before it to be acknowledged, goes now.
    this.#flush();
  }

  /** The server lost the session: every tab reports what was in it, and the rest goes into the new one. */
  #lost(): void {
    this.#mark = undefined;
    this.#carried = undefined;
    this.#adopted = false;
    this.#ledger = [];
    this.#placed.clear();
    this.#outbox = this.#outbox.filter((item) => item.at === undefined);
    this.#post({k: 'lost'});
    for (const member of this.#host.members()) lost(member);
  }

  /** Tabs that take part but have not said so to this holder (their word was lost) must hear of the final too. */
  #awaitEveryTab(): void {
    const finals = this.#finals;
    this.#gathering = true;
    void this.#host.everyTab().then((tabs) => {
      if (!this.#live() || finals !== this.#finals) return;
      this.#gathering = false;
      for (const tab of tabs) {
        if (tab !== this.#host.tab && !this.#heardFinal.has(tab)) this.#unheard.add(tab);
      }
      if (!this.#unheard.size) this.#host.finalHeard();
    });
  }

  /** The holder speaks at least every beat, so that silence means it is gone or hung. */
  #scheduleBeat(): void {
    if (!this.#host.post) return;
    this.#beat = this.#env.setTimeout(() => {
      if (!this.#live()) return;
      this.#mayWrite();
      this.#postBeat();
      this.#checkPresence();
      this.#scheduleBeat();
    }, beatInterval(this.#engine.options.timeout));
  }

  /** Forgets tabs that went without a word (killed, crashed): their subscriptions and what they sent. */
  #checkPresence(): void {
    const tabs = [...new Set([...this.#tabs(), ...this.#unheard])];
    if (!tabs.length) return;
    void this.#host.present(tabs).then((present) => {
      if (!this.#live()) return;
      for (const tab of tabs) {
        if (present.has(tab)) continue;
        this.#vouched.forget(tab);
        this.#forget(tab);
        this.#said.delete(tab);
        this.#heard(tab);
      }
    });
  }

  #heard(tab: string): void {
    this.#heardFinal.add(tab);
    if (!this.#unheard.delete(tab) || this.#unheard.size || this.#gathering) return;
    this.#host.finalHeard();
  }

  /** Tabs with members taking part. */
  #tabs(): Set<string> {
    return new Set([...this.#remote.values()].map(({tab}) => tab));
  }

  #askAgain(tab: string): void {
    if (this.#asked.has(tab)) return;
    this.#asked.add(tab);
    this.#post({k: 'again', to: tab});
  }

  /**
   * Takes a message into the outbox, once and in its sender's order, and
   * writes what it can. One that skips a message this page never got (a
   * BroadcastChannel drops what comes while its page is paused) is not
   * taken: the sender is asked to send again what waits.
   */
  #take(tab: string, member: number, {seq, payload, at}: Sent, low = seq): void {
    const id = idOf(tab, member);
    const taken = this.#taken.get(id) ?? 0;
    const next = Math.max(taken, low - 1) + 1;
    if (seq < next) {
      // Had already: tell the sender again, so that it stops offering it.
      this.#dirty.set(id, {tab, member});
    } else if (seq === next) {
      this.#asked.delete(tab);
      this.#taken.set(id, seq);
      const item = {tab, member, seq, payload, ...(at === undefined ? {} : {at})};
      this.#dirty.set(id, {tab, member});
      if (!this.#had(item)) this.#outbox.push(item);
      this.#flush();
    } else {
      this.#askAgain(tab);
    }
    this.#acknowledge();
  }

  /** Drops what waits from a member, or a whole tab, that left. */
  #forget(tab: string, member?: number): void {
    const ours = (id: string) => (member === undefined ? id.startsWith(`${tab}:`) : id === idOf(tab, member));
    this.#outbox = this.#outbox.filter((item) => !ours(idOf(item.tab, item.member)));
    this.#ledger = this.#ledger.filter((item) => !ours(idOf(item.tab, item.member)));
    for (const ids of [this.#remote, this.#taken, this.#written, this.#placed, this.#opened]) {
      for (const id of ids.keys()) if (ours(id)) ids.delete(id);
    }
  }

  /** Everyone's subscriptions not yet in, then what waits in the outbox. */
  #writeWaiting(): void {
    for (const member of this.#host.members())
      this.#writeOpen(idOf(this.#host.tab, member.id), member.openPayloads());
    for (const [id, {open}] of this.#remote) this.#writeOpen(id, open);
    this.#flush();
  }

  /** Notes that the holder runs; false while it must not write, until it knows it still holds the socket. */
  #mayWrite(): boolean {
    const now = this.#env.now();
    const gap = now - this.#ranAt;
    this.#ranAt = now;
    if (this.#doubting) return false;
    const {stillHeld} = this.#host;
    if (!stillHeld || gap < this.#engine.options.timeout) return true;
    this.#doubting = true;
    void stillHeld().then((held) => {
      if (!this.#live()) return;
      // Another tab has the lock: this page follows it, and writes nothing more here.
      if (!held) return this.#host.superseded();
      this.#doubting = false;
      if (this.#engine.state !== ConnectionState.open) return;
      this.#writeWaiting();
      if (this.#reliable) this.#postBeat();
    });
    return false;
  }

  #flush(): void {
    if (!this.#mayWrite()) return;
    while (this.#outbox.length) {
      const written = this.#write(this.#outbox[0]!.payload);
      // Refused by an open session with nothing unacknowledged, so not for its
      // bound: it can never go (larger than the server's maxFrame, or a Blob).
      const never =
        !written && this.#reliable && this.#engine.state === ConnectionState.open && !this.#engine.queued;
      if (!written && !never) break;
      const {tab, member, seq} = this.#outbox.shift()!;
      const id = idOf(tab, member);
      if (never) {
        this.#refused.set(id, [...(this.#refused.get(id) ?? []), seq]);
        // Nothing before it waits for the server: it is done, as far as the sender's numbers go.
        this.#written.set(id, Math.max(seq, this.#written.get(id) ?? 0));
      } else if (this.#reliable) {
        // Done once the server acknowledges it; until then its tab keeps it, and learns its seq.
        const at = this.#engine.link!.sent;
        this.#ledger.push({tab, member, seq, at});
        this.#placed.set(id, [...(this.#placed.get(id) ?? []), [seq, at]]);
      } else this.#written.set(id, Math.max(seq, this.#written.get(id) ?? 0));
      this.#dirty.set(id, {tab, member});
    }
    this.#acknowledge();
  }

  /** One acknowledgement per sender whose numbers moved: confirmed at once in this page, posted to another. */
  #acknowledge(): void {
    for (const [id, {tab, member}] of this.#dirty) {
      const written = this.#written.get(id) ?? 0;
      const at = this.#placed.get(id);
      const refused = this.#refused.get(id);
      this.#placed.delete(id);
      this.#refused.delete(id);
      if (tab === this.#host.tab) {
        const own = this.#host.members().find((m) => m.id === member);
        if (own) {
          placed(own, at);
          for (const seq of refused ?? []) refuse(own, seq);
          own.confirmed(written);
        }
      } else {
        const taken = this.#taken.get(id) ?? 0;
        this.#post({k: 'ack', to: tab, member, taken, written, ...(at && {at}), ...(refused && {refused})});
      }
    }
    this.#dirty.clear();
  }

  /** A member's subscriptions on the open socket; with `reliable`, the tabs hear they are in the session. */
  #writeOpenNow(id: string, open: readonly unknown[]): void {
    if (this.#writeOpen(id, open) && this.#reliable) this.#postBeat();
  }

  /** False when they went out already. */
  #writeOpen(id: string, open: readonly unknown[]): boolean {
    if (this.#opened.has(id) || !this.#mayWrite()) return false;
    let at = 0;
    for (const payload of open) if (this.#write(payload) && this.#reliable) at = this.#engine.link!.sent;
    this.#opened.set(id, at);
    return true;
  }

  /** True when written to the open socket. */
  #write(payload: unknown): boolean {
    const engine = this.#engine;
    return engine.state === ConnectionState.open && engine.send(payload);
  }

  #post(message: Unsigned<HolderMessage>): void {
    this.#host.post?.({...message, term: this.term, from: this.#host.tab} as HolderMessage);
  }
}

/** The socket is made with the first member's WebSocket, as it is with its options; `before` runs first. */
function socketOfFirst(host: HolderHost, before: () => void): SocketConstructor {
  return function (url: string, protocols?: string | string[]) {
    before();
    const Socket = host.members()[0]?.environment.WebSocket;
    if (!Socket) throw new TypeError('this environment has no WebSocket: pass one in the environment');
    return new Socket(url, protocols);
  } as unknown as SocketConstructor;
}

/**
 * The socket's options: the first member's, with the parts each member
 * keeps to itself taken out. Raw frames come in (each member parses and
 * converts them its own way); nothing queues inside: the holder keeps what
 * waits, and writes only to an open socket.
 */
function socketOptions(first: HubMember): Partial<ResolvedOptions> {
  // A reliable engine keeps what it wrote until the server acknowledges it: its limit must not refuse that.
  const queueLimit = first.options.reliable ? Number.MAX_SAFE_INTEGER : 0;
  return {...first.options, json: false, binaryType: 'arraybuffer', queueLimit, openMessages: []};
}
