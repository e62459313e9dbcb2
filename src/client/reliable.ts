/**
 * The engine's side of a reliable session (docs/PROTOCOL.md): drives the
 * protocol's `ClientEndpoint` for `WsClient`, keeps what the application
 * gave for each message it has not seen acknowledged, and settles requests.
 * Loaded on first use (reliable-loader.ts), so that a page without
 * `reliable` does not pay for the protocol's code; what it needs of the
 * engine's own modules comes in through its hooks, so that the CDN entry
 * exports nothing more for it.
 */
import {ClientEndpoint, type EndpointEvent, type Output, type SendResult} from '../protocol/endpoint.js';
import {type Payload, SUBPROTOCOL, type Wire} from '../protocol/frames.js';
import type {TimerHandle} from './environment.js';
import type {HeartbeatClock} from './heartbeat.js';
import type {RequestErrorKind} from './request-error.js';
import type {ErrorKind} from './ws-client.js';

/** What the link needs from the engine: its clock and timers (whose callbacks run as the engine's own), and these. */
export interface LinkHooks extends HeartbeatClock {
  /** Writes a frame on the open reliable connection. */
  write(frame: Wire): void;
  /** Delivers an application message. */
  message(data: unknown): void;
  error(kind: ErrorKind, message: string, data?: unknown, error?: unknown): void;
  /** The session is open on this connection: carried on (`resumed`), or new. */
  opened(resumed: boolean): void;
  /** The server broke the protocol: the connection must close with `code`; `message` says so to the application. */
  broken(code: number, reason: string, message: string, raw: unknown): void;
  /** The open messages, serialised, for the start of each new session. */
  startMessages(): {payload: unknown}[];
  /** How inbound binary data is given to the application. */
  binaryType(): 'blob' | 'arraybuffer';
  /** A reply as the application reads it: with `json`, parsed. */
  parse(data: unknown): {data: unknown} | {problem: string};
  /** The error a request rejects with. */
  requestError(kind: RequestErrorKind, message: string): Error;
}

/** An accepted message not yet acknowledged: what the application gave, and the request it is, if one. */
interface Entry {
  readonly data: unknown;
  readonly payload: Payload;
  /** The request id; 0 for a message; -1 for an open message (not the application's to get back). */
  readonly id: number;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: TimerHandle;
}

/** Something the application handed back when a session ends or stops being reliable. */
export interface Unsent {
  readonly data: unknown;
  readonly payload: unknown;
}

/**
 * What the engine accepted while the protocol's code was loading, in
 * order: a message, or a request, which its own timer fails if the code
 * never comes.
 */
export interface Waiting extends Unsent {
  readonly request?: {
    /** `now()` by which it must have its reply. */
    readonly deadline: number;
    readonly timer: TimerHandle;
    resolve(value: unknown): void;
    reject(error: unknown): void;
  };
}

/** A session as another client needs it to carry it on: its id, its token, and the mark of what was received. */
export interface CarriedSession {
  readonly id: string;
  readonly token: string;
  readonly received: number;
}

/** Makes the link, which takes on what waited for it; the engine gets it from the lazily loaded module. */
export function createLink(hooks: LinkHooks, waiting: readonly Waiting[] = []): ReliableLink {
  const link = new ReliableLink(hooks);
  for (const {data, payload, request} of waiting) {
    if (!request) {
      link.send(data, payload);
      continue;
    }
    hooks.clearTimeout(request.timer);
    const left = Math.max(1, request.deadline - hooks.now());
    link.request(data, payload, left).then(request.resolve, request.reject);
  }
  return link;
}

/**
 * One reliable session as the engine sees it. Every frame it must write
 * goes out through `hooks.write`, every event through the other hooks.
 *
 * @example
 * const link = createLink(hooks);
 * socket.onopen = () => socket.protocol === link.subprotocol && link.open();
 * socket.onmessage = ({data}) => link.receive(data);
 * link.send('hello', 'hello');
 */
export class ReliableLink {
  /** The subprotocol the client offers and the server must select. */
  readonly subprotocol = SUBPROTOCOL;
  readonly #hooks: LinkHooks;
  #endpoint: ClientEndpoint;
  /** The accepted messages not yet acknowledged, in order, as the endpoint keeps them. */
  #entries: Entry[] = [];
  readonly #pending = new Map<number, Pending>();
  /** The timer of the endpoint's next deadline (an ack owed, a retransmission), while connected, and when it fires. */
  #timer: TimerHandle | undefined;
  #timerAt: number | undefined;
  /** Called with each acknowledgement from the server: it has every message up to `upTo` (sharing confirms them to their tabs). */
  onAcknowledged: ((upTo: number) => void) | undefined;

  constructor(hooks: LinkHooks) {
    this.#hooks = hooks;
    this.#endpoint = this.#newEndpoint();
  }

  /** Messages not yet acknowledged, open messages included. */
  get queued(): number {
    return this.#endpoint.queued;
  }

  /** The session as another client needs it to carry it on (sharing's next holder); undefined before the first. */
  get session(): CarriedSession | undefined {
    const {session: id, token, received} = this.#endpoint;
    return id === undefined ? undefined : {id, token: token!, received};
  }

  /** The seq of the last message accepted into the session. */
  get sent(): number {
    return this.#endpoint.lastSent;
  }

  /** Carries on a session another client began: the next connection resumes it. */
  carry({id, token, received}: CarriedSession): void {
    this.#endpoint.adopt(id, token, received);
  }

  /** The connection selected the subprotocol: writes `hello` or `resume`. */
  open(): void {
    this.#apply(this.#endpoint.open(this.#hooks.now()));
  }

  /** A frame arrived; true when it was a pong. */
  receive(raw: unknown): boolean {
    if (typeof raw !== 'string' && !(raw instanceof ArrayBuffer) && !ArrayBuffer.isView(raw)) {
      // A socket that ignored binaryType (a Blob): nothing to read it with at once.
      this.#broken(1003, 'a binary frame that is not an ArrayBuffer', raw);
      return false;
    }
    const frame: Wire = typeof raw === 'string' ? raw : toBytes(raw);
    return this.#apply(this.#endpoint.receive(frame, this.#hooks.now()), raw);
  }

  /** The heartbeat's ping, carrying the ack when one is owed. */
  ping(): Wire {
    const frame = this.#endpoint.ping(this.#hooks.now());
    this.#schedule();
    return frame;
  }

  /** The connection is gone; everything unacknowledged is kept for the next. */
  disconnected(): void {
    this.#endpoint.disconnected();
    this.#schedule();
  }

  /** Accepts a message; false, with an error reported, when it is refused. */
  send(data: unknown, payload: unknown): boolean {
    const kept = this.#payload(data, payload);
    if (kept === undefined) return false;
    const result = this.#endpoint.send(kept, this.#hooks.now());
    if (!this.#accepted(result, data)) return false;
    this.#entries.push({data, payload: kept, id: 0});
    this.#write(result.frames);
    return true;
  }

  /** Sends a request; the promise settles with its reply, or rejects with a `RequestError`. */
  request(data: unknown, payload: unknown, timeout: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const kept = this.#payload(data, payload);
      if (kept === undefined) return reject(this.#error('send-failed', 'the request cannot be sent'));
      const result = this.#endpoint.request(kept, this.#hooks.now());
      if (!this.#accepted(result, data)) {
        return reject(this.#error('send-failed', `the request was refused: ${refusal(result)}`));
      }
      const {id} = result;
      const timer = this.#hooks.setTimeout(() => {
        this.#pending.delete(id);
        reject(this.#error('request-timeout', `no reply to the request within ${timeout} ms`));
      }, timeout);
      this.#pending.set(id, {resolve, reject, timer});
      this.#entries.push({data, payload: kept, id});
      this.#write(result.frames);
    });
  }

  /**
   * Ends the session for good (`close()`): writes `end` while connected,
   * rejects the waiting requests with `closed`, and hands back the messages
   * not acknowledged, in order.
   */
  end(): Unsent[] {
    this.#write(this.#endpoint.end().frames);
    return this.drain('closed', 'the connection was closed before the reply came');
  }

  /**
   * The server did not select the subprotocol: the connection is plain.
   * Says so when `report` (the engine does once), and drains the session
   * for the plain connection.
   */
  refused(report: boolean): Unsent[] {
    if (report) {
      this.#hooks.error(
        'reliable-refused',
        `the server did not select ${SUBPROTOCOL}: the connection is plain, without acknowledgements ` +
          'or resume. Use reliable(wss) from ws-connection/server.js, or a server that speaks docs/PROTOCOL.md',
      );
    }
    return this.drain('closed', `the server did not select ${SUBPROTOCOL}`);
  }

  /**
   * Gives up the session without a word to the server (the connection is
   * plain, or reliable was turned off): rejects the waiting requests and
   * hands back the messages not acknowledged, in order, for the caller to
   * send as plain ones. A new session starts on the next reliable connection.
   */
  drain(kind: RequestErrorKind, why: string): Unsent[] {
    const messages = this.#entries.filter((entry) => entry.id === 0);
    this.#entries = [];
    this.#rejectAll(kind, why);
    this.#endpoint = this.#newEndpoint();
    this.#schedule();
    return messages.map(({data, payload}) => ({data, payload}));
  }

  /** The session survives a broken connection: the next one resumes it. */
  #broken(code: number, reason: string, raw: unknown): void {
    this.#hooks.broken(
      code,
      reason,
      `the server broke the delivery protocol (${reason}): closed with ${code}; the session resumes on the next connection`,
      raw,
    );
  }

  #newEndpoint(): ClientEndpoint {
    return new ClientEndpoint({
      maxUnacked: Infinity,
      startMessages: () => this.#hooks.startMessages().map(({payload}) => payload as Payload),
    });
  }

  /** What the endpoint keeps of a message: text, or a copy of its bytes (the caller may reuse its buffer). */
  #payload(data: unknown, payload: unknown): Payload | undefined {
    if (typeof payload === 'string') return payload;
    if (payload instanceof ArrayBuffer) return new Uint8Array(payload.slice(0));
    if (ArrayBuffer.isView(payload)) {
      return new Uint8Array(
        payload.buffer.slice(payload.byteOffset, payload.byteOffset + payload.byteLength),
      );
    }
    this.#hooks.error(
      'send-failed',
      'with reliable, binary messages must be an ArrayBuffer or a typed array: a Blob cannot be kept for a replay',
      data,
    );
    return undefined;
  }

  #accepted(result: SendResult, data: unknown): result is SendResult & {accepted: true} {
    if (result.accepted) return true;
    const kind = result.reason === 'buffer-full' ? 'queue-overflow' : 'send-failed';
    this.#hooks.error(kind, `the message was refused: ${refusal(result)}`, data);
    return false;
  }

  #write(frames: readonly Wire[]): void {
    for (const frame of frames) this.#hooks.write(frame);
  }

  /** Writes the frames, then delivers the events, in order; true when a pong was among them. */
  #apply(output: Output, raw?: unknown): boolean {
    this.#write(output.frames);
    let pong = false;
    for (const event of output.events) pong = this.#handle(event, raw) || pong;
    this.#schedule();
    return pong;
  }

  /**
   * Times the endpoint's next deadline, if it has one, in place of the last.
   * The deadline stays the same from one message to the next until an ack
   * goes: the timer is set again only when it moves, not for every message.
   */
  #schedule(): void {
    const at = this.#endpoint.nextDeadline();
    if (at === this.#timerAt) return;
    this.#hooks.clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer =
      at === undefined
        ? undefined
        : this.#hooks.setTimeout(
            () => {
              // It fired (a timer may fire a ms early): set again if something is still owed.
              this.#timerAt = undefined;
              this.#apply(this.#endpoint.tick(this.#hooks.now()));
            },
            Math.max(0, at - this.#hooks.now()),
          );
  }

  #handle(event: EndpointEvent, raw: unknown): boolean {
    switch (event.type) {
      case 'message':
        this.#hooks.message(this.#read(event.data));
        break;
      case 'reply':
        this.#settle(event.id, (pending) => {
          const read = this.#hooks.parse(this.#read(event.data));
          if ('data' in read) pending.resolve(read.data);
          else pending.reject(this.#error('parse-error', `the reply: ${read.problem}`));
        });
        break;
      case 'error-reply':
        this.#settle(event.id, (pending) => pending.reject(this.#error('error-reply', event.message)));
        break;
      case 'acknowledged':
        this.#entries.splice(0, event.count);
        this.onAcknowledged?.(event.upTo);
        break;
      case 'pong':
        return true;
      case 'open':
        if (!event.resumed) {
          // The endpoint put the open messages first: they are acknowledged like any other.
          const opening: Entry[] = Array.from({length: event.started}, () => ({
            data: 0,
            payload: '',
            id: -1,
          }));
          this.#entries.unshift(...opening);
          // One that can never go out is said, not dropped in silence.
          for (const payload of event.skipped)
            this.#hooks.error('send-failed', "an open message is larger than the server's maxFrame", payload);
        }
        this.#hooks.opened(event.resumed);
        break;
      case 'session-lost':
        this.#lost(this.#entries.splice(0), 'the server lost the session');
        break;
      case 'refused': {
        const refused = new Set(event.messages.map((message) => message.data));
        const [tooBig, kept] = partition(this.#entries, (entry) => refused.has(entry.payload));
        this.#entries = kept;
        for (const entry of tooBig) {
          this.#settle(entry.id, (pending) =>
            pending.reject(this.#error('send-failed', "the request is larger than the server's maxFrame")),
          );
          this.#hooks.error('send-failed', "the message is larger than the server's maxFrame", entry.data);
        }
        break;
      }
      case 'ended': {
        const entries = this.#entries.splice(0);
        this.#endpoint = this.#newEndpoint();
        this.#lost(entries, 'the server ended the session');
        break;
      }
      case 'protocol-error':
        this.#broken(event.code, event.reason, raw);
        break;
    }
    return false;
  }

  /** Reports the messages the server may not have, and fails every request waiting for a reply. */
  #lost(entries: Entry[], why: string): void {
    this.#rejectAll('session-lost', `${why} before the reply came`);
    const messages = entries.filter((entry) => entry.id === 0).map((entry) => entry.data);
    this.#hooks.error(
      'session-lost',
      `${why}: a new session began; ${messages.length} messages it may not have received are in data`,
      messages,
    );
  }

  #settle(id: number, settle: (pending: Pending) => void): void {
    const pending = this.#pending.get(id);
    // A reply to a request the client gave up on (timed out) is dropped.
    if (!pending) return;
    this.#pending.delete(id);
    this.#hooks.clearTimeout(pending.timer);
    settle(pending);
  }

  #rejectAll(kind: RequestErrorKind, why: string): void {
    for (const id of [...this.#pending.keys()]) {
      this.#settle(id, (pending) => pending.reject(this.#error(kind, why)));
    }
  }

  /** Inbound data as the application reads it: text, or bytes as a Blob or an ArrayBuffer. */
  #read(data: Payload): unknown {
    if (typeof data === 'string') return data;
    const buffer = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
    return this.#hooks.binaryType() === 'arraybuffer' ? buffer : new Blob([buffer]);
  }

  #error(kind: RequestErrorKind, message: string): Error {
    return this.#hooks.requestError(kind, message);
  }
}

function toBytes(data: ArrayBuffer | ArrayBufferView): Uint8Array {
  return data instanceof ArrayBuffer
    ? new Uint8Array(data)
    : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function refusal(result: SendResult): string {
  if (result.accepted) return '';
  return {
    'buffer-full': 'too many bytes are waiting for acknowledgement',
    'too-big': "it is larger than the server's maxFrame",
    ended: 'the session has ended',
  }[result.reason];
}

function partition<T>(items: readonly T[], test: (item: T) => boolean): [T[], T[]] {
  const yes: T[] = [];
  const no: T[] = [];
  for (const item of items) (test(item) ? yes : no).push(item);
  return [yes, no];
}
