/**
 * The state machine each end of a reliable session runs (docs/PROTOCOL.md):
 * the handshake, replay before new traffic, acks, the heartbeat's frames and
 * request ids. It holds no timer and no socket. Each call says what happened
 * (a connection opened, a frame arrived, the application sent, time passed)
 * and returns an {@link Output}: the frames to write, in order, and the
 * events to deliver, in order. `now` is any monotonic clock in ms.
 */
import {
  decode,
  type Decoded,
  encode,
  encodeSequenced,
  fault,
  type Frame,
  type FrameFault,
  MESSAGE_TOO_BIG,
  type Payload,
  type SequencedKind,
  type Wire,
  wireLength,
} from './frames.js';
import {
  type AckPolicy,
  Inbox,
  Outbox,
  type OutboxLimits,
  type OutboxState,
  type OutgoingMessage,
  payloadBytes,
} from './sequence.js';

/** The largest frame, in bytes, until the server says otherwise. */
export const DEFAULT_MAX_FRAME = 1 << 20;

/** The most a sequenced frame's header adds to its payload: a tag, two 16-digit numbers and two colons. */
const MAX_HEADER = 35;

/** The bounds and ack schedule of an endpoint; each has a default. */
export interface EndpointOptions {
  /** Unacknowledged messages this end keeps at most. */
  maxUnacked?: number;
  /** Their bytes at most. */
  maxUnackedBytes?: number;
  /** Ack after this many messages. Default 64. */
  ackEvery?: number;
  /** Ack at most this many ms after the first unacknowledged message. Default 10. */
  ackDelay?: number;
  /** The largest frame this end accepts (the server announces it). Default 1 MiB. */
  maxFrame?: number;
}

/** What an end delivers to its application, or reports. */
export type EndpointEvent =
  /** An application message, delivered once and in order. */
  | {readonly type: 'message'; readonly data: Payload}
  /** A request (server), with the id its reply must name. */
  | {readonly type: 'request'; readonly id: number; readonly data: Payload}
  /** The reply to the request `id` (client). */
  | {readonly type: 'reply'; readonly id: number; readonly data: Payload}
  /** The server answered the request `id` with an error (client). */
  | {readonly type: 'error-reply'; readonly id: number; readonly message: string}
  /** A replayed frame that had arrived already was dropped. */
  | {readonly type: 'duplicate'; readonly seq: number}
  /** The peer acknowledged `count` more messages, up to `upTo`: they left the buffer. */
  | {readonly type: 'acknowledged'; readonly count: number; readonly upTo: number}
  /** The answer to a ping. */
  | {readonly type: 'pong'}
  /**
   * The session is open on this connection (client): carried on, or new.
   * A new one began with `started` start messages; those larger than the
   * server's `maxFrame` were left out, and are in `skipped`.
   */
  | {
      readonly type: 'open';
      readonly session: string;
      readonly resumed: boolean;
      readonly started: number;
      readonly skipped: readonly Payload[];
    }
  /**
   * A resume was refused and a new session began (client): these are the
   * messages the server may not have, in order. Requests among them, and
   * requests still waiting for a reply, will get none.
   */
  | {readonly type: 'session-lost'; readonly messages: readonly OutgoingMessage[]}
  /** Messages accepted before the first session that exceed the `maxFrame` the server announced (client). */
  | {readonly type: 'refused'; readonly messages: readonly OutgoingMessage[]; readonly reason: 'too-big'}
  /** The peer ended the session for good. */
  | {readonly type: 'ended'}
  /** The peer broke the protocol: close the connection with this code and reason. The session survives. */
  | ({readonly type: 'protocol-error'} & FrameFault);

/** Frames to write, in order, and events to deliver, in order. */
export interface Output {
  readonly frames: Wire[];
  readonly events: EndpointEvent[];
}

/** Why a message was not accepted. */
export type Refusal = 'buffer-full' | 'too-big' | 'ended';

/** The answer to a send: accepted (written now, or held for later), or refused. */
export type SendResult =
  | {
      readonly accepted: true;
      /** True when nothing went out now: no open connection (or the store is behind). */
      readonly held: boolean;
      /** The message as kept (`seq` 0 while it waits for the first session). */
      readonly message: OutgoingMessage;
      /** The frames to write now. */
      readonly frames: Wire[];
    }
  | {readonly accepted: false; readonly reason: Refusal; readonly frames: Wire[]};

/** The connection's part of the state. */
export type ConnectionState = 'none' | 'handshake' | 'open' | 'failed';

const output = (): Output => ({frames: [], events: []});

/** What both ends share: sequenced frames, acks, ping and pong, bounds. */
abstract class Endpoint {
  protected outbox: Outbox;
  protected inbox: Inbox;
  protected connection: ConnectionState = 'none';
  protected ended = false;
  /**
   * The next sequenced frame may skip ahead (a session carried on from
   * another client): what it skips, that client delivered and acknowledged.
   */
  protected leap = false;
  protected readonly limits: OutboxLimits;
  protected readonly policy: AckPolicy;
  /** The largest frame this end accepts. */
  protected maxFrame: number;
  /** The largest frame the peer accepts. */
  protected peerMaxFrame: number;

  protected constructor(options: EndpointOptions, gated: boolean, restore?: EndpointState) {
    this.limits = {
      maxMessages: options.maxUnacked ?? 1000,
      maxBytes: options.maxUnackedBytes ?? 8 << 20,
    };
    this.policy = {every: options.ackEvery ?? 64, delay: options.ackDelay ?? 10};
    this.maxFrame = this.peerMaxFrame = options.maxFrame ?? DEFAULT_MAX_FRAME;
    this.outbox = new Outbox(this.limits, {gated, restore: restore?.outbox});
    this.inbox = new Inbox(this.policy, {gated, received: restore?.received});
  }

  /** Where the connection stands. */
  get state(): ConnectionState {
    return this.connection;
  }

  /** Whether the session ended for good (`end` sent or received). */
  get isEnded(): boolean {
    return this.ended;
  }

  /** The highest seq given to an outgoing message. */
  get lastSent(): number {
    return this.outbox.lastSeq;
  }

  /** The high-water mark of the peer's messages delivered here. */
  get received(): number {
    return this.inbox.received;
  }

  /** Messages not yet acknowledged (and, before the first session, not yet sent). */
  get queued(): number {
    return this.outbox.size;
  }

  /** The unacknowledged messages, in order. */
  unacknowledged(): OutgoingMessage[] {
    return this.outbox.unacknowledged();
  }

  /** A frame arrived on the connection. */
  receive(raw: Wire, now: number): Output {
    const out = output();
    if (this.connection === 'none' || this.connection === 'failed' || this.ended) return out;
    if (wireLength(raw, this.maxFrame) > this.maxFrame) {
      this.fail(out, fault(`frame larger than ${this.maxFrame} bytes`, MESSAGE_TOO_BIG));
      return out;
    }
    const decoded = decode(raw);
    if (!decoded.ok) this.fail(out, decoded);
    else this.handle(decoded.frame, now, out);
    return out;
  }

  /** A ping to send now, carrying the ack when one is owed. */
  ping(now: number): Wire {
    return encode({type: 'ping', ...this.#ride(now)});
  }

  /** Time passed: the acks that fell due. */
  tick(now: number): Output {
    const out = output();
    if (this.connection === 'open') this.#ack(now, out);
    return out;
  }

  /** When {@link Endpoint.tick} has something to do next, or undefined when nothing is owed. */
  nextDeadline(): number | undefined {
    return this.connection === 'open' ? this.inbox.deadline() : undefined;
  }

  /** The connection is gone (closed, failed, timed out). Unacknowledged messages are kept for the next. */
  disconnected(): void {
    this.connection = 'none';
    this.outbox.disconnected();
  }

  /** Ends the session for good: the `end` frame to write (none when no connection is open). */
  end(): Output {
    const out = output();
    if (this.ended) return out;
    this.ended = true;
    if (this.connection === 'open' || this.connection === 'handshake') out.frames.push(encode({type: 'end'}));
    return out;
  }

  protected handle(frame: Frame, now: number, out: Output): void {
    switch (frame.type) {
      case 'message':
      case 'request':
      case 'reply':
      case 'error-reply':
        return this.#sequenced(frame, now, out);
      case 'ack':
        if (this.connection !== 'open') return this.fail(out, fault('a frame before the handshake'));
        this.acknowledge(frame.ack, out);
        return;
      case 'ping':
      case 'pong':
        if (frame.ack !== undefined) {
          if (this.connection !== 'open')
            return this.fail(out, fault(`${frame.type} with an ack before the handshake`));
          if (!this.acknowledge(frame.ack, out)) return;
        }
        if (frame.type === 'ping') out.frames.push(encode({type: 'pong', ...this.#ride(now)}));
        else out.events.push({type: 'pong'});
        return;
      case 'end':
        this.ended = true;
        out.events.push({type: 'ended'});
        return;
      default:
        return this.control(frame, now, out);
    }
  }

  /** A control frame of the handshake, which only one end may receive. */
  protected abstract control(frame: Frame, now: number, out: Output): void;

  /** Whether this end may receive a sequenced frame of `kind`, and its id is one it can take. */
  protected abstract accepts(kind: SequencedKind, id: number): string | undefined;

  protected fail(out: Output, problem: FrameFault): void {
    this.connection = 'failed';
    out.events.push({type: 'protocol-error', code: problem.code, reason: problem.reason});
  }

  /** Releases what `ack` covers; false when it is a protocol error (the connection failed). */
  protected acknowledge(ack: number, out: Output): boolean {
    const released = this.outbox.acknowledge(ack);
    if (released < 0) {
      this.fail(out, fault(`ack ${ack} of a frame never sent (last ${this.outbox.lastSeq})`));
      return false;
    }
    if (released > 0) out.events.push({type: 'acknowledged', count: released, upTo: ack});
    return true;
  }

  /** Keeps a message, and writes it when a connection is open; or refuses it. */
  protected enqueue(kind: SequencedKind, data: Payload, id: number): SendResult {
    const refused = (reason: Refusal): SendResult => ({accepted: false, reason, frames: []});
    if (this.ended) return refused('ended');
    const bytes = payloadBytes(data);
    if (bytes + MAX_HEADER > this.peerMaxFrame) return refused('too-big');
    const full = this.refusal(bytes);
    if (full) return refused(full);
    const message = this.keep(kind, data, id, bytes);
    const frames = this.written();
    return {accepted: true, held: frames.length === 0, message, frames};
  }

  protected refusal(bytes: number): Refusal | undefined {
    return this.outbox.refusal(bytes);
  }

  protected keep(kind: SequencedKind, data: Payload, id: number, bytes: number): OutgoingMessage {
    return this.outbox.push(kind, data, id, bytes);
  }

  /** The frames of every message due on the open connection. */
  protected written(): Wire[] {
    if (this.connection !== 'open') return [];
    return this.outbox
      .take()
      .map((message) => encodeSequenced(message.kind, message.seq, message.data, message.id));
  }

  #sequenced(frame: Frame & {seq: number; data: Payload}, now: number, out: Output): void {
    if (this.connection !== 'open') return this.fail(out, fault(`${frame.type} before the handshake`));
    const id = 'id' in frame ? frame.id : 0;
    const wrong = this.accepts(frame.type as SequencedKind, id);
    if (wrong) return this.fail(out, fault(wrong));
    let arrival = this.inbox.arrive(frame.seq);
    if (arrival === 'gap' && this.leap) {
      this.inbox = new Inbox(this.policy, {received: frame.seq - 1});
      arrival = 'next';
    }
    this.leap = false;
    if (arrival === 'duplicate') {
      out.events.push({type: 'duplicate', seq: frame.seq});
      return;
    }
    if (arrival === 'gap') {
      return this.fail(
        out,
        fault(`${frame.type}: sequence ${frame.seq} after ${this.inbox.received} (a gap)`),
      );
    }
    // Delivered first, acknowledged after: an ack never covers what the application has not had.
    switch (frame.type) {
      case 'message':
        out.events.push({type: 'message', data: frame.data});
        break;
      case 'error-reply':
        out.events.push({type: 'error-reply', id, message: frame.data as string});
        break;
      default:
        out.events.push({type: frame.type as 'request' | 'reply', id, data: frame.data});
    }
    this.inbox.delivered(frame.seq, now);
    this.#ack(now, out);
  }

  #ack(now: number, out: Output): void {
    const ack = this.inbox.takeAck(now);
    if (ack !== undefined) out.frames.push(encode({type: 'ack', ack}));
  }

  /** The ack a ping or pong carries: whatever is owed, due or not. */
  #ride(now: number): {ack?: number} {
    if (this.connection !== 'open') return {};
    const ack = this.inbox.takeAck(now, true);
    return ack === undefined ? {} : {ack};
  }
}

/**
 * The client's end. On each connection that selected the subprotocol call
 * {@link ClientEndpoint.open} and write what it returns; feed it every frame
 * with {@link ClientEndpoint.receive}; send with
 * {@link ClientEndpoint.send} and {@link ClientEndpoint.request}; call
 * {@link ClientEndpoint.tick} at {@link ClientEndpoint.nextDeadline}; and
 * {@link ClientEndpoint.disconnected} when the connection goes.
 *
 * @example
 * const endpoint = new ClientEndpoint({startMessages: () => ['{"subscribe":"news"}']});
 * socket.onopen = () => write(endpoint.open(clock.now()));
 * socket.onmessage = ({data}) => {
 *   const {frames, events} = endpoint.receive(data, clock.now());
 *   frames.forEach((frame) => socket.send(frame));
 *   events.forEach(deliver);
 * };
 * const result = endpoint.send('hello', clock.now()); // result.frames go out now, or it is held
 */
export class ClientEndpoint extends Endpoint {
  readonly #startMessages: () => readonly Payload[];
  #session: string | undefined;
  #token: string | undefined;
  #resumeSent = false;
  /** The session was carried on from another client: its own sequence is not known here. */
  #adopted = false;
  /** Messages accepted before the first session: numbered when it starts, after the start messages. */
  #pending: OutgoingMessage[] = [];
  #pendingBytes = 0;
  #lastRequestId = 0;

  /**
   * `startMessages` gives the messages that start every new session (the
   * element's `openMessages`), sent before anything else; never on a resume.
   */
  constructor(options: EndpointOptions & {startMessages?: () => readonly Payload[]} = {}) {
    super(options, false);
    this.#startMessages = options.startMessages ?? (() => []);
  }

  /** The session id, once the server gave one. */
  get session(): string | undefined {
    return this.#session;
  }

  override get queued(): number {
    return this.#pending.length + this.outbox.size;
  }

  /** The session's resume token, once the server gave one. */
  get token(): string | undefined {
    return this.#token;
  }

  /**
   * Carries on a session that another client began (sharing: a new holding
   * tab takes over the last one's): the next connection resumes it with the
   * mark `received`. On `resumed`, this end's sequence carries on from the
   * server's ack; nothing the other client kept is replayed from here.
   */
  adopt(session: string, token: string, received: number): void {
    this.#session = session;
    this.#token = token;
    this.#adopted = true;
    this.outbox = new Outbox(this.limits);
    this.inbox = new Inbox(this.policy, {received});
  }

  /** The messages not yet acknowledged, in order: those sent, then those not yet sent. */
  override unacknowledged(): OutgoingMessage[] {
    return [...this.outbox.unacknowledged(), ...this.#pending];
  }

  /**
   * A connection opened with the subprotocol selected: the `hello` (or, with
   * a session to carry on, the `resume`) to write first.
   */
  open(_now: number): Output {
    const out = output();
    if (this.ended) return out;
    this.outbox.disconnected();
    this.connection = 'handshake';
    this.#resumeSent = this.#session !== undefined;
    if (this.#session !== undefined && this.#token !== undefined) {
      const ack = this.inbox.received;
      this.inbox.told(ack);
      out.frames.push(encode({type: 'resume', session: this.#session, token: this.#token, ack}));
    } else out.frames.push(encode({type: 'hello'}));
    return out;
  }

  /**
   * Sends a message now if the session is open, else holds it for the
   * next connection. Refused when the buffer is full, the frame would be too
   * big, or the session ended.
   */
  send(data: Payload, _now: number): SendResult {
    return this.enqueue('message', data, 0);
  }

  /** Sends a request; its reply comes as a `reply` or `error-reply` event naming `id`. */
  request(data: Payload, _now: number): SendResult & {readonly id: number} {
    const id = ++this.#lastRequestId;
    return {...this.enqueue('request', data, id), id};
  }

  protected override refusal(bytes: number): Refusal | undefined {
    if (this.#session !== undefined) return this.outbox.refusal(bytes);
    if (this.#pending.length >= this.limits.maxMessages) return 'buffer-full';
    return this.#pendingBytes + bytes > this.limits.maxBytes ? 'buffer-full' : undefined;
  }

  protected override keep(kind: SequencedKind, data: Payload, id: number, bytes: number): OutgoingMessage {
    if (this.#session !== undefined) return super.keep(kind, data, id, bytes);
    const message = {seq: 0, kind, data, id, bytes};
    this.#pending.push(message);
    this.#pendingBytes += bytes;
    return message;
  }

  protected override accepts(kind: SequencedKind, id: number): string | undefined {
    if (kind === 'request') return 'q frame: requests go from client to server';
    if (kind !== 'message' && id > this.#lastRequestId) return `${kind} names request ${id}, never sent`;
    return undefined;
  }

  protected override control(frame: Frame, _now: number, out: Output): void {
    if (frame.type === 'session') return this.#started(frame, out);
    if (frame.type === 'resumed') return this.#resumed(frame, out);
    this.fail(out, fault(`${frame.type} frame from the server`));
  }

  #started(frame: Frame & {type: 'session'}, out: Output): void {
    if (this.connection !== 'handshake') return this.fail(out, fault('session frame outside the handshake'));
    this.#adopted = this.leap = false;
    if (this.#resumeSent) {
      out.events.push({type: 'session-lost', messages: this.outbox.unacknowledged()});
      this.outbox = new Outbox(this.limits);
      this.inbox = new Inbox(this.policy);
    }
    this.#session = frame.session;
    this.#token = frame.token;
    this.peerMaxFrame = frame.maxFrame;
    this.connection = 'open';
    this.outbox.connected(0);
    const fits = (bytes: number) => bytes + MAX_HEADER <= this.peerMaxFrame;
    const skipped: Payload[] = [];
    let started = 0;
    for (const data of this.#startMessages()) {
      const bytes = payloadBytes(data);
      if (fits(bytes)) {
        this.outbox.push('message', data, 0, bytes);
        started++;
      } else skipped.push(data);
    }
    out.events.push({type: 'open', session: frame.session, resumed: false, started, skipped});
    const tooBig: OutgoingMessage[] = [];
    for (const message of this.#pending) {
      if (fits(message.bytes)) this.outbox.push(message.kind, message.data, message.id, message.bytes);
      else tooBig.push(message);
    }
    this.#pending = [];
    this.#pendingBytes = 0;
    if (tooBig.length) out.events.push({type: 'refused', messages: tooBig, reason: 'too-big'});
    out.frames.push(...this.written());
  }

  #resumed(frame: Frame & {type: 'resumed'}, out: Output): void {
    if (this.connection !== 'handshake' || !this.#resumeSent) {
      return this.fail(out, fault('resumed frame outside a resume'));
    }
    if (this.#adopted) {
      this.#adopted = false;
      this.leap = true;
      this.outbox = new Outbox(this.limits, {restore: {lastSeq: frame.ack, acked: frame.ack, messages: []}});
    }
    const released = this.outbox.connected(frame.ack);
    if (released < 0) {
      return this.fail(
        out,
        fault(`resumed: ack ${frame.ack} of a frame never sent (last ${this.outbox.lastSeq})`),
      );
    }
    this.peerMaxFrame = frame.maxFrame;
    this.connection = 'open';
    if (released > 0) out.events.push({type: 'acknowledged', count: released, upTo: frame.ack});
    out.events.push({type: 'open', session: this.#session!, resumed: true, started: 0, skipped: []});
    out.frames.push(...this.written());
  }
}

/** A server endpoint's state, as a store keeps it to resume the session elsewhere. */
export interface EndpointState {
  readonly outbox: OutboxState;
  /** The high-water mark of the client's messages. */
  readonly received: number;
}

/** The first frame of a connection, as the server reads it before it knows the session. */
export type FirstFrame =
  | {readonly ok: true; readonly frame: Frame & {type: 'hello' | 'resume' | 'ping'}}
  | ({readonly ok: false} & FrameFault);

/**
 * Reads the first frames of a connection, before a session is bound to it:
 * `hello`, `resume`, or a bare `ping` (answered at once). Anything else is a
 * protocol error.
 */
export function readFirstFrame(raw: Wire, maxFrame = DEFAULT_MAX_FRAME): FirstFrame {
  if (wireLength(raw, maxFrame) > maxFrame)
    return fault(`frame larger than ${maxFrame} bytes`, MESSAGE_TOO_BIG);
  const decoded: Decoded = decode(raw);
  if (!decoded.ok) return decoded;
  const {frame} = decoded;
  if (
    frame.type === 'hello' ||
    frame.type === 'resume' ||
    (frame.type === 'ping' && frame.ack === undefined)
  ) {
    return {ok: true, frame};
  }
  return fault(`expected hello or resume first, not ${frame.type}`);
}

/**
 * The server's end of one session. The server reads a connection's first
 * frame with {@link readFirstFrame}, finds or makes the session, and then
 * calls {@link ServerEndpoint.welcome} (new session) or
 * {@link ServerEndpoint.resume}.
 *
 * With `gated`, messages go on the wire, and acks cover messages, only once
 * {@link ServerEndpoint.stored} says the store holds them.
 *
 * @example
 * const endpoint = new ServerEndpoint({session: id, gated: true});
 * write(endpoint.welcome(token, 120_000));
 * const sent = endpoint.send('hi', now); // frames come with stored() once the store has it
 */
export class ServerEndpoint extends Endpoint {
  /** The session id. */
  readonly session: string;

  constructor(options: EndpointOptions & {session: string; gated?: boolean; restore?: EndpointState}) {
    super(options, options.gated ?? false, options.restore);
    this.session = options.session;
  }

  /** The `session` frame that starts this new session on its connection (`refused`: it answers a resume). */
  welcome(token: string, resumeWindow: number, refused = false): Output {
    const out = output();
    this.connection = 'open';
    this.outbox.connected(0);
    out.frames.push(
      encode({
        type: 'session',
        session: this.session,
        token,
        resumeWindow,
        maxFrame: this.maxFrame,
        ...(refused ? {refused: 'unknown-session' as const} : {}),
      }),
    );
    out.frames.push(...this.written());
    return out;
  }

  /**
   * A connection resumed the session; the client has everything up to
   * `ack`. Returns `resumed` and the replay of what the client does not have,
   * in order, before anything new.
   */
  resume(ack: number): Output {
    const out = output();
    const released = this.outbox.connected(ack);
    if (released < 0) {
      this.fail(out, fault(`resume: ack ${ack} of a frame never sent (last ${this.outbox.lastSeq})`));
      return out;
    }
    this.connection = 'open';
    if (released > 0) out.events.push({type: 'acknowledged', count: released, upTo: ack});
    // The mark the store holds: what is above it comes again, and is dropped as a duplicate.
    const mark = this.inbox.ackable;
    this.inbox.told(mark);
    out.frames.push(encode({type: 'resumed', ack: mark, maxFrame: this.maxFrame}));
    out.frames.push(...this.written());
    return out;
  }

  /** Sends a message to the client: written now when the connection is open (and the store has it). */
  send(data: Payload): SendResult {
    return this.enqueue('message', data, 0);
  }

  /** Answers the request `id`. */
  reply(id: number, data: Payload): SendResult {
    return this.enqueue('reply', data, id);
  }

  /** Answers the request `id` with an error. */
  replyError(id: number, message: string): SendResult {
    return this.enqueue('error-reply', message, id);
  }

  /**
   * The store holds the outgoing messages up to `sent` and the high-water
   * mark `received`: the messages and the ack that may now go out.
   */
  stored(sent: number, received: number, now: number): Output {
    const out = output();
    this.outbox.allowWrite(sent);
    this.inbox.allowAck(received);
    if (this.connection !== 'open') return out;
    out.frames.push(...this.written());
    const ack = this.inbox.takeAck(now);
    if (ack !== undefined) out.frames.push(encode({type: 'ack', ack}));
    return out;
  }

  /** What a store keeps of this session's delivery state. */
  snapshot(): EndpointState {
    return {outbox: this.outbox.state(), received: this.inbox.received};
  }

  protected override accepts(kind: SequencedKind): string | undefined {
    return kind === 'message' || kind === 'request' ? undefined : `${kind} frame from the client`;
  }

  protected override control(frame: Frame, _now: number, out: Output): void {
    this.fail(out, fault(`${frame.type} frame after the handshake`));
  }
}
