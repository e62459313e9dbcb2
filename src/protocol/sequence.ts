/**
 * Sequence and ack bookkeeping for one direction each (docs/PROTOCOL.md,
 * section 2.2): the sender's outgoing buffer, which numbers messages, keeps
 * them until acknowledged and says what to write on a connection; and the
 * receiver's high-water mark, which drops duplicates and decides when an ack
 * is due. Neither knows about sockets or timers: times come in as `now`.
 */
import {type Payload, type SequencedKind, utf8Length} from './frames.js';

/** A message in the outgoing buffer. */
export interface OutgoingMessage {
  /** Its sequence number; 0 while it waits for a session to be numbered in. */
  readonly seq: number;
  readonly kind: SequencedKind;
  /** The request id, for a request, reply or error-reply; 0 for a message. */
  readonly id: number;
  readonly data: Payload;
  /** Bytes of `data` (UTF-8 for text), which count towards the byte bound. */
  readonly bytes: number;
}

/** The sender's bounds (docs/PROTOCOL.md, section 6). */
export interface OutboxLimits {
  /** Unacknowledged messages at most; the next one is refused. */
  readonly maxMessages: number;
  /** Unacknowledged bytes at most; the message that would cross it is refused. */
  readonly maxBytes: number;
}

/** Bytes of a payload, as the byte bound counts them. */
export function payloadBytes(data: Payload): number {
  return typeof data === 'string' ? utf8Length(data) : data.byteLength;
}

/**
 * The sender's side of a direction: numbers each message, keeps it until the
 * peer acknowledges it, and on each connection writes what the peer has not
 * acknowledged, in order, before anything new.
 *
 * Writing may be gated (`gated`): a message is then written only once
 * {@link Outbox.allowWrite} says the store holds it, so that a peer never
 * acknowledges a message the server could lose.
 *
 * @example
 * const outbox = new Outbox({maxMessages: 1000, maxBytes: 8 << 20});
 * outbox.push('message', 'hi');
 * outbox.connected(0); // a new connection; the peer has nothing yet
 * for (const message of outbox.take()) write(message);
 * outbox.acknowledge(1); // released
 */
export class Outbox {
  readonly limits: OutboxLimits;
  readonly #gated: boolean;
  #buffer: OutgoingMessage[] = [];
  /** Index of the first unacknowledged message in `#buffer` (released ones are dropped lazily). */
  #head = 0;
  #bytes = 0;
  #lastSeq = 0;
  #acked = 0;
  /** The highest seq written on the current connection; undefined while there is none. */
  #written: number | undefined;
  /** The highest seq the store holds, when gated. */
  #writable = 0;

  constructor(limits: OutboxLimits, options: {gated?: boolean; restore?: OutboxState} = {}) {
    this.limits = limits;
    this.#gated = options.gated ?? false;
    const restore = options.restore;
    if (restore) {
      this.#buffer = restore.messages.filter((message) => message.seq > restore.acked);
      this.#bytes = this.#buffer.reduce((sum, message) => sum + message.bytes, 0);
      this.#lastSeq = restore.lastSeq;
      this.#acked = restore.acked;
      this.#writable = restore.lastSeq;
    }
  }

  /** The highest sequence number given out. */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  /** The highest sequence number the peer acknowledged. */
  get acked(): number {
    return this.#acked;
  }

  /** Messages kept, unacknowledged. */
  get size(): number {
    return this.#buffer.length - this.#head;
  }

  /** Their bytes. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Why a message of `bytes` would be refused now, or undefined when it fits. */
  refusal(bytes: number): 'buffer-full' | undefined {
    if (this.size >= this.limits.maxMessages) return 'buffer-full';
    if (this.#bytes + bytes > this.limits.maxBytes) return 'buffer-full';
    return undefined;
  }

  /** Numbers a message and keeps it. The caller checked {@link Outbox.refusal} first. */
  push(kind: SequencedKind, data: Payload, id = 0, bytes = payloadBytes(data)): OutgoingMessage {
    const message: OutgoingMessage = {seq: ++this.#lastSeq, kind, id, data, bytes};
    this.#buffer.push(message);
    this.#bytes += bytes;
    if (!this.#gated) this.#writable = this.#lastSeq;
    return message;
  }

  /**
   * The peer has everything up to `ack`. Returns how many messages that
   * released (0 for an ack that is not news), or -1 for an ack of a message
   * never sent, which is a protocol error.
   */
  acknowledge(ack: number): number {
    if (ack > this.#lastSeq) return -1;
    if (ack <= this.#acked) return 0;
    const released = ack - this.#acked;
    for (let i = 0; i < released; i++) this.#bytes -= this.#buffer[this.#head + i].bytes;
    this.#head += released;
    this.#acked = ack;
    // Drop released entries in batches, so that acks stay cheap.
    if (this.#head > 1024 && this.#head * 2 > this.#buffer.length) {
      this.#buffer = this.#buffer.slice(this.#head);
      this.#head = 0;
    }
    if (this.#written !== undefined && this.#written < ack) this.#written = ack;
    return released;
  }

  /**
   * A connection opened, and the peer has everything up to `ack`: what
   * follows is written again. Returns what {@link Outbox.acknowledge} returns.
   */
  connected(ack: number): number {
    if (ack > this.#lastSeq) return -1;
    this.#written = this.#acked;
    return this.acknowledge(ack);
  }

  /** The connection is gone: nothing is written until the next. */
  disconnected(): void {
    this.#written = undefined;
  }

  /** The store holds every message up to `seq`: those may now be written. */
  allowWrite(seq: number): void {
    this.#writable = Math.max(this.#writable, Math.min(seq, this.#lastSeq));
  }

  /** The messages to write now, in order: unwritten on this connection, and held by the store if gated. */
  take(): OutgoingMessage[] {
    if (this.#written === undefined) return [];
    const upTo = this.#writable;
    if (this.#written >= upTo) return [];
    const from = this.#head + (this.#written - this.#acked);
    const to = this.#head + (upTo - this.#acked);
    this.#written = upTo;
    return this.#buffer.slice(from, to);
  }

  /** The unacknowledged messages, in order. */
  unacknowledged(): OutgoingMessage[] {
    return this.#buffer.slice(this.#head);
  }

  /** What a store keeps to rebuild this buffer elsewhere. */
  state(): OutboxState {
    return {lastSeq: this.#lastSeq, acked: this.#acked, messages: this.unacknowledged()};
  }
}

/** An outgoing buffer as a store keeps it. */
export interface OutboxState {
  readonly lastSeq: number;
  readonly acked: number;
  /** The unacknowledged messages, in order. */
  readonly messages: readonly OutgoingMessage[];
}

/** When the receiver acknowledges (docs/PROTOCOL.md, section 2.2). */
export interface AckPolicy {
  /** Ack after this many messages since the last ack. */
  readonly every: number;
  /** Ack at most this many ms after the first message not yet acknowledged. */
  readonly delay: number;
}

/** The receiver's verdict on a sequence number. */
export type Arrival = 'next' | 'duplicate' | 'gap';

/**
 * The receiver's side of a direction: the high-water mark that drops
 * duplicates and refuses gaps, and the schedule of cumulative acks.
 *
 * Acks may be gated too (`gated`): the mark then counts as acknowledgeable
 * only once {@link Inbox.allowAck} says the store holds it.
 *
 * @example
 * const inbox = new Inbox({every: 64, delay: 10});
 * if (inbox.arrive(frame.seq) === 'next') deliver(frame), inbox.delivered(frame.seq, now);
 * const ack = inbox.takeAck(now); // a number when one is due
 */
export class Inbox {
  readonly policy: AckPolicy;
  readonly #gated: boolean;
  #received: number;
  #ackable: number;
  #ackSent: number;
  #sinceAck = 0;
  /** When the oldest message not yet acknowledged was delivered. */
  #firstUnackedAt: number | undefined;

  constructor(policy: AckPolicy, options: {gated?: boolean; received?: number} = {}) {
    this.policy = policy;
    this.#gated = options.gated ?? false;
    this.#received = this.#ackable = this.#ackSent = options.received ?? 0;
  }

  /** The high-water mark: the highest seq delivered. */
  get received(): number {
    return this.#received;
  }

  /** The highest seq that may be acknowledged (the store holds it, when gated). */
  get ackable(): number {
    return this.#ackable;
  }

  /** Whether `seq` is the next one, one delivered already, or beyond a gap. */
  arrive(seq: number): Arrival {
    if (seq <= this.#received) return 'duplicate';
    return seq === this.#received + 1 ? 'next' : 'gap';
  }

  /** The application has the message `seq` (the next one). */
  delivered(seq: number, now: number): void {
    this.#received = seq;
    if (!this.#gated) this.#ackable = seq;
    this.#sinceAck++;
    this.#firstUnackedAt ??= now;
  }

  /** The store holds the mark up to `seq`: it may be acknowledged. */
  allowAck(seq: number): void {
    this.#ackable = Math.max(this.#ackable, Math.min(seq, this.#received));
  }

  /** The peer was told the mark (a handshake carried it): no ack is owed for it. */
  told(ack: number): void {
    this.#ackSent = Math.max(this.#ackSent, ack);
    if (this.#ackSent >= this.#received) {
      this.#sinceAck = 0;
      this.#firstUnackedAt = undefined;
    }
  }

  /** Whether an ack is due at `now`: enough messages, or the oldest has waited long enough. */
  due(now: number): boolean {
    if (this.#ackable <= this.#ackSent) return false;
    return (
      this.#sinceAck >= this.policy.every ||
      (this.#firstUnackedAt !== undefined && now - this.#firstUnackedAt >= this.policy.delay)
    );
  }

  /** The ack to send when one is due (or `always`, to ride on a ping or pong), else undefined. */
  takeAck(now: number, always = false): number | undefined {
    if (this.#ackable <= this.#ackSent || !(always || this.due(now))) return undefined;
    this.told(this.#ackable);
    if (this.#ackSent < this.#received) {
      // Delivered but not yet acknowledgeable: the wait for those starts again.
      this.#sinceAck = this.#received - this.#ackSent;
      this.#firstUnackedAt = now;
    }
    return this.#ackSent;
  }

  /** When the next ack falls due by time, or undefined when none is owed. */
  deadline(): number | undefined {
    // Nothing acknowledgeable yet (the store is behind): the store's answer brings the ack, not time.
    if (this.#firstUnackedAt === undefined || this.#ackable <= this.#ackSent) return undefined;
    return this.#firstUnackedAt + this.policy.delay;
  }
}
