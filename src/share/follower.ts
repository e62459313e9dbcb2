import type {Environment, TimerHandle} from '../client/environment.js';
import {ConnectionState} from '../client/ws-client.js';
import {type HubMember, lost, placed, refused, type Sent} from './member.js';
import {Vouched} from './vouched.js';
import {LATE_PROBE, PROBE_SPREAD, probeAfter} from './timing.js';
import type {
  Command,
  Final,
  FollowerMessage,
  HolderMessage,
  Payload,
  SessionState,
  Snapshot,
} from './wire.js';

/** What a follower needs from its hub. */
export interface FollowerHost {
  readonly tab: string;
  members(): readonly HubMember[];
  post(message: FollowerMessage): void;
  /** The holder did not answer: take its lock. */
  takeOver(): void;
  /** Who holds the key's lock: no one (this tab is in line for it, and will get it), or which client, where the platform says. */
  lockHolder(): Promise<LockHolder>;
  /** Of these tabs, those taking part (their presence lock is held). */
  present(tabs: string[]): Promise<Set<string>>;
  /** When the member joined (epoch ms): a final close ends only those that were there for it. */
  joinedAt(member: HubMember): number;
}

/** The key's lock: whether it is held, and by which client (`query()`'s `clientId`, where given). */
export interface LockHolder {
  held: boolean;
  client?: string;
}

/**
 * A probe: when it went out and is due, whether it is already the second,
 * and which client held the lock as it went out (null: no one; undefined:
 * not known yet, or the platform does not say).
 */
interface Probe {
  sentAt: number;
  dueAt: number;
  again: boolean;
  holder?: string | null;
}

/** Between holders: the socket is being taken over. */
export function handingOver(snapshot: Snapshot): Snapshot {
  return {...snapshot, state: ConnectionState.connecting, latency: undefined, nextRetryAt: undefined};
}

/**
 * A tab that relays through the holder: it tells the holder its members and
 * their `openMessages`, sends what they send (again, until the holder has
 * taken it), hands them what the holder hears, and watches that the holder
 * answers.
 */
export class Follower {
  readonly #host: FollowerHost;
  readonly #env: Environment;
  #stopped = false;
  /** The holder followed, by its term (0: none heard of yet), and its tab. */
  #term = 0;
  #holder: string | undefined;
  /** The holder of the term said it let the socket go (`bye`). */
  #farewell = false;
  readonly #vouched: Vouched<HolderMessage>;
  #snap: Snapshot;
  /** Final closes of this term already heard of. */
  #finals = 0;
  /** Per member: the highest number the holder has taken. */
  readonly #taken = new Map<number, number>();
  /** The page woke before this tab knew the holder: it probes the socket once introduced. */
  #woken = false;
  /** How many joins and drops this tab has posted: the holder's beat says how many it took. */
  #said = 0;
  /** Per member: the `openMessages` last told to this holder. */
  readonly #told = new Map<number, unknown[]>();
  /** With `reliable`: the holder's session as it last told it, and the highest seq of it dispatched here. */
  #session: SessionState | undefined;
  #dispatched = {sid: '', seq: 0};

  #timer: TimerHandle | undefined;
  /** When the holder was last heard from. */
  #heard: number;
  /** The probe waiting for an answer. */
  #probe: Probe | undefined;

  constructor(host: FollowerHost, env: Environment, snapshot: Snapshot) {
    this.#host = host;
    this.#env = env;
    this.#snap = handingOver(snapshot);
    this.#heard = env.now();
    this.#vouched = new Vouched(
      (tabs) => host.present(tabs),
      (message) => !this.#stopped && message.term >= this.#term && this.#fromHolder(message),
      () => !this.#stopped,
    );
    // Who holds the socket? Its answer introduces it.
    this.#sendProbe(false);
  }

  /** Whether the holder known said it let the socket go (`bye`); undefined while no holder is known. */
  get farewell(): boolean | undefined {
    return this.#holder === undefined ? undefined : this.#farewell;
  }

  get snapshot(): Snapshot {
    return this.#snap;
  }

  /** With `reliable`, the session for this tab to carry on if it takes over: with all it has of the server's messages. */
  get session(): SessionState | undefined {
    const session = this.#session;
    if (!session || this.#dispatched.sid !== session.id) return session;
    return {...session, recv: Math.max(session.recv, this.#dispatched.seq)};
  }

  /** With `leave`, tells the holder that this tab takes no more part. */
  stop(leave = false): void {
    this.#stopped = true;
    this.#env.clearTimeout(this.#timer);
    if (leave) this.#host.post({k: 'drop', tab: this.#host.tab, n: ++this.#said});
  }

  // This page's members.

  joined(member: HubMember): void {
    if (!this.#term) return;
    this.#tell(member, true);
    for (const sent of member.unconfirmed()) this.#sendToHolder(member, sent);
  }

  left(member: HubMember): void {
    this.#told.delete(member.id);
    this.#taken.delete(member.id);
    this.#host.post({k: 'drop', tab: this.#host.tab, n: ++this.#said, member: member.id});
  }

  submit(member: HubMember, sent: Sent): void {
    this.#sendToHolder(member, sent);
  }

  /** A member's `openMessages` may have changed: the holder keeps everyone's. */
  reconfigured(): void {
    if (!this.#term) return;
    for (const member of this.#host.members()) this.#tell(member, false);
  }

  command(op: Command): void {
    this.#host.post({k: 'cmd', tab: this.#host.tab, op});
  }

  /** The page woke, came back or found the network: probe the socket, through the holder, and the holder. */
  wake(): void {
    // A holder takes commands only from tabs it knows: until this one has introduced itself, it waits.
    if (this.#term) this.command('probe');
    else this.#woken = true;
    if (!this.#probe) this.#sendProbe(false);
  }

  // The holder.

  receive(message: HolderMessage): void {
    if (message.term < this.#term) return;
    if (message.term === this.#term && message.from === this.#holder) this.#fromHolder(message);
    // A new holder, once the lock manager vouches that its tab takes part.
    else if (message.term > this.#term) this.#vouched.take(message.from, message);
  }

  #fromHolder(message: HolderMessage): void {
    if (message.term > this.#term) {
      // A new holder makes itself known by its beat or a state change.
      if (message.k !== 'beat' && message.k !== 'state') return;
      this.#term = message.term;
      this.#holder = message.from;
      this.#farewell = false;
      // A final close before this tab knew the holder still ends the members that were here for it.
      const missed = message.finals > 0 && message.final;
      this.#finals = message.finals;
      this.#taken.clear();
      this.#introduce();
      if (missed) this.#ended(message.finals, missed);
    }
    this.#heard = this.#env.now();
    this.#answered();
    switch (message.k) {
      case 'beat':
      case 'state': {
        if (message.session) this.#session = message.session;
        if (message.finals > this.#finals) this.#ended(message.finals, message.final);
        // A watch timed by the timeout this tab assumed is timed again by the holder's.
        const retime = message.snap.timeout !== this.#snap.timeout;
        this.#snap = message.snap;
        if (retime && !this.#probe) this.#watch();
        this.#publish(message.k === 'state' ? message.change : undefined);
        if (message.k === 'beat') {
          // A join or drop the holder missed is said again, with all of them.
          if (this.#said && message.heard[this.#host.tab] !== this.#said) this.#tellAll();
          this.#offerAgain(message.waiting === 0);
        }
        break;
      }
      case 'msg': {
        const {sid, seq} = message;
        if (sid !== undefined && seq !== undefined) {
          // A new holder's replay repeats what the last one relayed: each is dispatched once.
          if (sid === this.#dispatched.sid && seq <= this.#dispatched.seq) break;
          this.#dispatched = {sid, seq};
        }
        for (const member of this.#host.members()) member.received(message.data);
        break;
      }
      case 'lost':
        for (const member of this.#host.members()) lost(member);
        break;
      case 'err':
        for (const member of this.#host.members())
          member.failed({kind: message.kind, message: message.message});
        break;
      case 'ack': {
        if (message.to !== this.#host.tab) break;
        const member = this.#host.members().find(({id}) => id === message.member);
        if (!member) break;
        this.#taken.set(member.id, Math.max(message.taken, this.#taken.get(member.id) ?? 0));
        placed(member, message.at);
        for (const seq of message.refused ?? []) refused(member, seq);
        member.confirmed(message.written);
        break;
      }
      case 'again':
        if (message.to === this.#host.tab) this.#introduce();
        break;
      case 'bye':
        this.#farewell = true;
        this.#snap = handingOver(this.#snap);
        this.#publish();
        break;
    }
  }

  /** The members' view of the socket: after a final close, the ones still here wait for it to start again. */
  #publish(change?: Partial<HolderMessage & {k: 'state'}>['change']): void {
    const snap = this.#snap.state === ConnectionState.closed ? handingOver(this.#snap) : this.#snap;
    for (const member of this.#host.members()) member.shared(snap, change);
  }

  /**
   * The socket closed for good: every member that was here then hears it,
   * even in a tab that missed the message; one that came later carries on.
   */
  #ended(finals: number, final?: Final): void {
    this.#finals = finals;
    this.#host.post({k: 'seen', tab: this.#host.tab, term: this.#term, finals});
    const at = final?.at ?? Infinity;
    for (const member of this.#host.members()) {
      if (this.#host.joinedAt(member) <= at) member.ended(final ?? {attempt: this.#snap.attempt, at});
    }
  }

  /** Tells a new holder, or one that asks, every member and sends again what it has not taken. */
  #introduce(): void {
    this.#tellAll();
    for (const member of this.#host.members()) {
      for (const sent of member.unconfirmed()) this.#sendToHolder(member, sent);
    }
    if (this.#woken) this.command('probe');
    this.#woken = false;
  }

  /**
   * On the holder's beat, sends again what it has not taken: a message it
   * dropped (a paused page's channel drops what comes meanwhile) arrives
   * within a beat of the holder running again, without waiting for a later
   * send. With `all` (its outbox is empty: everything it took was written),
   * also what it took, whose confirmation this tab missed.
   */
  #offerAgain(all: boolean): void {
    for (const member of this.#host.members()) {
      const taken = all ? 0 : (this.#taken.get(member.id) ?? 0);
      for (const sent of member.unconfirmed()) if (sent.seq > taken) this.#sendToHolder(member, sent);
    }
  }

  #tellAll(): void {
    this.#told.clear();
    for (const member of this.#host.members()) this.#tell(member, true);
  }

  #tell(member: HubMember, always: boolean): void {
    const open = member.openPayloads();
    const told = this.#told.get(member.id);
    if (!always && told && sameMessages(told, open)) return;
    this.#told.set(member.id, open);
    this.#host.post({
      k: 'join',
      tab: this.#host.tab,
      n: ++this.#said,
      member: member.id,
      open: open as Payload[],
      members: this.#host.members().map(({id}) => id),
    });
  }

  /** With the first it still waits for (`low`), so that the holder can tell a message that went missing. */
  #sendToHolder(member: HubMember, {seq, payload, at}: Sent): void {
    if (!this.#term) return;
    const low = member.unconfirmed()[0]?.seq ?? seq;
    this.#host.post({
      k: 'send',
      tab: this.#host.tab,
      to: this.#term,
      member: member.id,
      seq,
      low,
      payload: payload as Payload,
      ...(at === undefined ? {} : {at}),
    });
  }

  // Watching the holder: by its answers, never by this tab's own sense of time.

  #arm(ms: number, next: () => void): void {
    this.#env.clearTimeout(this.#timer);
    this.#timer = this.#env.setTimeout(() => !this.#stopped && next(), Math.max(0, ms));
  }

  /** Silence as long as a missed beat: ask. */
  #watch(): void {
    const wait = probeAfter(this.#snap.timeout) - (this.#env.now() - this.#heard);
    if (wait > 0) this.#arm(wait, () => this.#watch());
    else this.#sendProbe(false);
  }

  #sendProbe(again: boolean): void {
    const sentAt = this.#env.now();
    const wait = this.#snap.timeout + this.#env.random() * PROBE_SPREAD;
    const probe: Probe = {sentAt, dueAt: sentAt + wait, again};
    this.#probe = probe;
    this.#host.post({k: 'probe', tab: this.#host.tab});
    this.#arm(wait, () => this.#deadline());
    void this.#host.lockHolder().then(({held, client}) => {
      if (client !== undefined || !held) probe.holder = held ? client : null;
    });
  }

  #answered(): void {
    if (!this.#probe) return;
    this.#probe = undefined;
    this.#watch();
  }

  #deadline(): void {
    const probe = this.#probe;
    if (!probe) return this.#watch();
    // A late timer cannot tell whose silence it measured: ask once more.
    if (this.#env.now() - probe.dueAt > LATE_PROBE && !probe.again) return this.#sendProbe(true);
    void this.#host.lockHolder().then(({held, client}) => {
      if (this.#stopped || this.#probe !== probe) return;
      // Free: this tab is in line for it.
      if (!held) return this.#sendProbe(probe.again);
      // Taken since the probe went out (another follower took over, or the
      // next in line got it): the new holder has not been asked yet.
      if (probe.holder !== undefined && client !== undefined && client !== probe.holder)
        return this.#sendProbe(false);
      // Held by a holder that did not answer: take it.
      this.#host.takeOver();
    });
  }
}

/** Equal as far as the holder is concerned: the same payloads, in order. */
function sameMessages(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((item, i) => item === b[i]);
}
