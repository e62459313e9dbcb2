import type {Environment} from '../client/environment.js';
import {ConnectionState} from '../client/ws-client.js';
import type {ChannelLike, ShareEnvironment} from './environment.js';
import {Follower, handingOver, type LockHolder} from './follower.js';
import {Holder} from './holder.js';
import {FAREWELL_WAIT, PROMPT_GRANT, TAKEOVER_SETTLE} from './timing.js';
import type {HubMember, Sent} from './member.js';
import {
  type Command,
  fromHolder,
  presenceName,
  readWire,
  type Snapshot,
  type Wire,
  wireName,
} from './wire.js';

/** A lock request, pending or granted: how to withdraw it, and once granted, how to let it go. */
type LockHold = {abort: AbortController; release?: () => void};

const STARTING: Snapshot = {
  state: ConnectionState.connecting,
  attempt: 0,
  latency: undefined,
  nextRetryAt: undefined,
  timeout: 10_000,
};

/**
 * One key's shared socket as one page takes part in it. The page's members
 * use it directly. Across pages, the page holding the key's Web Lock is the
 * holder (holder.ts) and runs the socket; the others follow (follower.ts)
 * and relay through the key's BroadcastChannel (wire.ts). When the holder
 * goes, the lock passes to the next page in line, in the order they asked.
 * Where locks or channels are missing or refused, the page shares within
 * itself only.
 */
export class Hub {
  readonly #key: string;
  readonly #name: string;
  readonly #env: Environment;
  readonly #share: ShareEnvironment;
  /** This page, in the key's conversation. */
  readonly tab = Math.random().toString(36).slice(2, 12);
  /** Members using the socket, in the order they came, and when each came (epoch ms). */
  readonly #members = new Set<HubMember>();
  readonly #joinedAt = new WeakMap<HubMember, number>();
  #role: Holder | Follower | undefined;
  #channel: ChannelLike | undefined;
  #lock: LockHold | undefined;
  #presence: LockHold | undefined;
  #unwatch: (() => void)[] = [];
  /** The page left (hidden, in the back/forward cache, or frozen) and has not returned. */
  #away = false;
  /** The newest holder's term known here: a new holder takes a later one. */
  #term = 0;
  /** When this page last asked for the lock, by `now()`. */
  #askedAt = 0;
  /** While a new holder waits for the last one's word that it let the socket go: what it does then. */
  #onFarewell: (() => void) | undefined;
  #started = false;

  constructor(key: string, env: Environment, share: ShareEnvironment) {
    this.#key = key;
    this.#name = wireName(key);
    this.#env = env;
    this.#share = share;
  }

  /** True while this page holds the socket. */
  get leader(): boolean {
    return this.#role instanceof Holder;
  }

  /** The socket carries a reliable session (docs/PROTOCOL.md). */
  get reliable(): boolean {
    const role = this.#role;
    return role instanceof Holder ? role.reliable : !!role?.session;
  }

  get snapshot(): Snapshot {
    if (this.#role) return this.#role.snapshot;
    // Before a holder is known, its timeout is taken to be this page's: the
    // same key mostly means the same options, and a follower times its first
    // probe by it.
    const [first] = this.#members;
    return first ? {...STARTING, timeout: first.options.timeout} : STARTING;
  }

  members(): readonly HubMember[] {
    return [...this.#members];
  }

  join(member: HubMember): void {
    this.#members.add(member);
    this.#joinedAt.set(member, this.#env.epochNow());
    if (!this.#started) this.#start();
    else this.#role?.joined(member);
    const snap = this.snapshot;
    member.shared(snap.state === ConnectionState.closed ? handingOver(snap) : snap);
  }

  /** Its messages not yet written stay with the member, which sends them again if it returns. */
  leave(member: HubMember, code?: number, reason?: string): void {
    if (!this.#members.delete(member)) return;
    this.#role?.left(member);
    if (this.#members.size) return;
    // The last to hear of a final close keeps the lock until every tab has.
    if (this.#role instanceof Holder && this.#role.awaitingFinal) return;
    this.#stop(code, reason);
  }

  submit(member: HubMember, sent: Sent): void {
    this.#role?.submit(member, sent);
  }

  /** `connect()`, `reconnect()` or a probe on the shared socket. */
  command(op: Command): void {
    this.#role?.command(op);
  }

  /** A member's options changed: the first member's are the socket's; everyone's `openMessages` count. */
  reconfigured(): void {
    this.#role?.reconfigured();
  }

  #start(): void {
    this.#started = true;
    const {locks, channel} = this.#share;
    if (!locks || !channel || !this.#enter()) {
      this.#pageOnly();
      return;
    }
    this.#unwatch = [
      this.#share.watchPage((signal) => (signal === 'leave' ? this.#leavePage() : this.#returnToPage())),
      this.#env.watch((signal) => {
        if (signal === 'visible' || signal === 'online' || signal === 'pageshow') {
          if (this.#role instanceof Follower) this.#role.wake();
        }
      }),
    ];
  }

  /** Within the page only: no lock, no channel, no beat. */
  #pageOnly(): void {
    this.#leaveConversation();
    this.#becomeHolder(false);
  }

  /** Opens the channel, says this page is here, and queues for the lock; false when the platform refuses. */
  #enter(): boolean {
    let channel: ChannelLike;
    try {
      channel = this.#share.channel!(this.#name);
    } catch {
      return false;
    }
    this.#channel = channel;
    channel.onmessage = ({data}) => this.#receive(data);
    this.#presence = this.#hold(presenceName(this.#key, this.tab), {}, () => {});
    this.#follow(this.snapshot);
    this.#queueForLock();
    return true;
  }

  /** Leaves the conversation: hands the socket over, or gives up its place in line. */
  #leaveConversation(code?: number, reason = 'handover'): void {
    const role = this.#role;
    this.#role = undefined;
    if (role instanceof Holder) role.stop(!!this.#channel, code, reason);
    else role?.stop(true);
    for (const hold of [this.#lock, this.#presence]) {
      hold?.abort.abort();
      hold?.release?.();
    }
    this.#lock = this.#presence = undefined;
    this.#channel?.close();
    this.#channel = undefined;
  }

  #stop(code?: number, reason?: string): void {
    if (this.#share.registry.get(this.#key) === this) this.#share.registry.delete(this.#key);
    for (const unwatch of this.#unwatch) unwatch();
    this.#unwatch = [];
    this.#leaveConversation(code, reason);
  }

  /** `pagehide` or `freeze`: hand over at once, so that the page may enter the back/forward cache. */
  #leavePage(): void {
    if (this.#away || !this.#channel) return;
    this.#away = true;
    const snap = this.snapshot;
    this.#leaveConversation();
    for (const member of this.#members) member.shared({...snap, state: ConnectionState.idle});
    this.#tellRole();
  }

  /** `pageshow` or `resume`: back as a follower, in line for the lock. */
  #returnToPage(): void {
    if (!this.#away) return;
    this.#away = false;
    if (!this.#members.size) return;
    if (!this.#enter()) this.#pageOnly();
    this.#publish();
    this.#tellRole();
  }

  /**
   * Requests a lock and holds it until let go. A refusal (a sandboxed
   * frame's opaque origin, storage denied) makes the page share within
   * itself; an abort after it was granted means another tab took it.
   */
  #hold(name: string, options: {steal?: boolean}, granted: (hold: LockHold) => void): LockHold {
    const hold: LockHold = {abort: new AbortController()};
    const request = options.steal ? {steal: true} : {signal: hold.abort.signal};
    let held = false;
    const holding = () =>
      new Promise<void>((release) => {
        held = true;
        hold.release = release;
        if (hold.abort.signal.aborted) release();
        else granted(hold);
      });
    let pending: Promise<unknown>;
    try {
      pending = this.#share.locks!.request(name, request, holding);
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending.catch((error: unknown) => {
      if (hold.abort.signal.aborted) return;
      if (!held && (error as {name?: string} | undefined)?.name !== 'AbortError') {
        if (this.#channel) {
          this.#pageOnly();
          this.#tellRole();
        }
        return;
      }
      if (this.#lock !== hold || !(this.#role instanceof Holder)) return;
      // A tab that took the lock while a final close waits to be heard has
      // not heard of it (it could not hear this one): take the lock back
      // before it opens, and keep telling it.
      if (this.#role.awaitingFinal) this.#lock = this.#hold(this.#name, {steal: true}, () => {});
      // Stolen while held: a holder that was frozen or hung gives up its
      // socket now that it runs again, and queues for the lock once more.
      else this.#resign();
    });
    return hold;
  }

  #becomeHolder(stolen: boolean): void {
    if (!this.#members.size) return;
    // The last holder said it let the socket go; or, where this page heard of no holder, the
    // lock came at once, free; a lock this page waited in line for was someone's.
    const heard = this.#role instanceof Follower ? this.#role.farewell : true;
    const carried = this.#role instanceof Follower ? this.#role.session : undefined;
    const farewell = heard ?? this.#env.now() - this.#askedAt < PROMPT_GRANT;
    this.#role?.stop();
    // Later than any term heard of, and apart from a term another page took
    // in the same ms: a follower knows a new holder only by its term.
    this.#term = Math.floor(Math.max(this.#env.epochNow(), this.#term + 1)) + this.#env.random() / 2;
    const channel = this.#channel;
    this.#role = new Holder(
      {
        tab: this.tab,
        members: () => this.members(),
        post: channel && ((message) => this.#post(message)),
        present: (tabs) => this.#present(tabs),
        everyTab: () => this.#everyTab(),
        finalHeard: () => this.#finalHeard(),
        superseded: () => this.#superseded(),
        stillHeld: channel && (() => this.#lockHolder().then(({mine}) => mine !== false)),
      },
      this.#env,
      this.#term,
      (open) => {
        if (stolen) {
          // Two followers that took the lock from a silent holder at the same
          // moment each hold it in turn: the first may not have heard yet that
          // it lost the lock, so it waits a little, then asks the lock manager
          // whose it is, and opens only if it is this page's.
          this.#env.setTimeout(
            () => void this.#lockHolder().then(({mine}) => mine !== false && open()),
            TAKEOVER_SETTLE,
          );
        } else if (channel) {
          // A grant that waited while the page was paused may be followed by
          // word that another tab took the lock meanwhile: that word comes first.
          const go = () => void this.#lockHolder().then(() => open());
          if (farewell) go();
          else this.#awaitFarewell(go);
        } else {
          open();
        }
      },
      carried,
    );
    this.#tellRole();
  }

  /** Joins the line for the key's lock; granted, this page holds the socket. */
  #queueForLock(): void {
    this.#askedAt = this.#env.now();
    this.#lock = this.#hold(this.#name, {}, (lock) => this.#lock === lock && this.#becomeHolder(false));
  }

  /** Runs `go` once the last holder says it let the socket go, or after FAREWELL_WAIT. */
  #awaitFarewell(go: () => void): void {
    const once = () => {
      if (this.#onFarewell !== once) return;
      this.#onFarewell = undefined;
      this.#env.clearTimeout(timer);
      go();
    };
    this.#onFarewell = once;
    const timer = this.#env.setTimeout(once, FAREWELL_WAIT);
  }

  /** The lock was taken from this page: its holder gives the socket up and follows. */
  #resign(): void {
    const snap = this.snapshot;
    (this.#role as Holder).stop(false);
    // A holder that stayed only for a final close to be heard has nothing left to follow.
    if (!this.#members.size) {
      this.#stop();
      return;
    }
    this.#follow(snap);
    this.#queueForLock();
    this.#publish();
    this.#tellRole();
  }

  /** Another tab holds the socket now: this page's holder lets the lock go (if it still has it) and follows. */
  #superseded(): void {
    if (!(this.#role instanceof Holder)) return;
    const lock = this.#lock;
    this.#lock = undefined;
    lock?.abort.abort();
    lock?.release?.();
    this.#resign();
  }

  #follow(snap: Snapshot): void {
    this.#role = new Follower(
      {
        tab: this.tab,
        members: () => this.members(),
        post: (message) => this.#post(message),
        takeOver: () => this.#takeOver(),
        lockHolder: () => this.#lockHolder(),
        present: (tabs) => this.#present(tabs),
        joinedAt: (member) => this.#joinedAt.get(member) ?? 0,
      },
      this.#env,
      snap,
    );
  }

  /** The holder did not answer: take its lock. */
  #takeOver(): void {
    this.#lock?.abort.abort();
    this.#lock = this.#hold(
      this.#name,
      {steal: true},
      (lock) => this.#lock === lock && this.#becomeHolder(true),
    );
  }

  #finalHeard(): void {
    if (!this.#members.size) this.#stop();
  }

  /**
   * Who holds the key's lock, as the lock manager says; `mine` compares its
   * client with that of this page's presence lock (undefined where the
   * platform names no clients).
   */
  async #lockHolder(): Promise<LockHolder & {mine?: boolean}> {
    try {
      const {held = []} = await this.#share.locks!.query();
      const lock = held.find(({name}) => name === this.#name);
      if (!lock) return {held: false, mine: false};
      const self = held.find(({name}) => name === presenceName(this.#key, this.tab))?.clientId;
      const client = lock.clientId;
      return {
        held: true,
        client,
        mine: client === undefined || self === undefined ? undefined : client === self,
      };
    } catch {
      return {held: false};
    }
  }

  /** Of `tabs`, those whose presence lock is held. */
  async #present(tabs: string[]): Promise<Set<string>> {
    try {
      const {held = []} = await this.#share.locks!.query();
      const names = new Set(held.map((lock) => lock.name));
      return new Set(tabs.filter((tab) => names.has(presenceName(this.#key, tab))));
    } catch {
      return new Set(tabs);
    }
  }

  /** Every tab whose presence lock is held. */
  async #everyTab(): Promise<string[]> {
    if (!this.#channel) return [];
    const prefix = presenceName(this.#key, '');
    try {
      const {held = []} = await this.#share.locks!.query();
      return held.flatMap(({name}) => (name?.startsWith(prefix) ? [name.slice(prefix.length)] : []));
    } catch {
      return [];
    }
  }

  #receive(data: unknown): void {
    const message = readWire(data, this.#env.epochNow());
    const role = this.#role;
    if (!message || !role) return;
    if (fromHolder(message)) {
      if (message.from === this.tab) return;
      if (message.k === 'bye') this.#onFarewell?.();
      this.#term = Math.max(this.#term, message.term);
      // A holder ignores other holders: only the lock says who holds.
      if (role instanceof Follower) role.receive(message);
    } else if (role instanceof Holder && message.tab !== this.tab) {
      role.receive(message);
    }
  }

  #publish(): void {
    const snap = this.snapshot;
    for (const member of this.#members) member.shared(snap);
  }

  #tellRole(): void {
    for (const member of this.members()) member.roleChanged();
  }

  #post(message: Wire): void {
    try {
      this.#channel?.postMessage(message);
    } catch {
      // A payload the channel cannot carry; its sender keeps it.
    }
  }
}
