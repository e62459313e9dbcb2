import {retryDelay} from './backoff.js';
import {includesCode} from './close-codes.js';
import {
  defaultEnvironment,
  type Environment,
  type LifecycleSignal,
  type SocketLike,
  type TimerHandle,
} from './environment.js';
import {
  DEFAULT_OPTIONS,
  mergeOptions,
  protocolList,
  type ResolvedOptions,
  type WsClientOptions,
} from './options.js';
import {redactUrl, resolveSocketUrl} from './url.js';

export const ConnectionState = {
  idle: 'idle',
  connecting: 'connecting',
  open: 'open',
  reconnecting: 'reconnecting',
  offline: 'offline',
  closed: 'closed',
} as const;
export type ConnectionState = (typeof ConnectionState)[keyof typeof ConnectionState];

export type ErrorKind =
  | 'invalid-url'
  | 'socket-error'
  | 'connect-timeout'
  | 'heartbeat-timeout'
  | 'parse-error'
  | 'queue-overflow'
  | 'queue-discarded'
  | 'retries-exhausted'
  | 'send-failed';

export interface StateChange {
  state: ConnectionState;
  previousState: ConnectionState;
  /** Retries since the last stable open. */
  attempt: number;
  /** The close code, when a close caused the change. */
  code?: number;
  reason?: string;
  /** ms until the next attempt, when entering `reconnecting`. */
  delay?: number;
}

export interface MessageDetail {
  /** A string, Blob or ArrayBuffer; with `json`, the parsed value. */
  data: unknown;
}

export interface ErrorDetail {
  kind: ErrorKind;
  message: string;
  error?: unknown;
  /** What could not be handled: the raw text for `parse-error`, the messages for `queue-discarded`. */
  data?: unknown;
}

export interface WsClientEventMap {
  state: StateChange;
  message: MessageDetail;
  error: ErrorDetail;
  /** A ping was answered; `latency` is the round trip in ms. */
  latency: {latency: number};
}

type Listener<K extends keyof WsClientEventMap> = (detail: WsClientEventMap[K]) => void;
type TimerName = 'connect' | 'retry' | 'stable' | 'heartbeat';

/** A timer firing later than this after its due time was delayed by throttling or sleep. */
const LATE_TIMER_SLACK = 1000;
/** Close code the client uses when it gives a socket up (the browser allows 1000 and 3000–4999). */
const CLOSE_NORMAL = 1000;
const CLOSE_DEAD = 4000;
/** `readyState` of an open WebSocket. */
const SOCKET_OPEN = 1;

/**
 * The connection engine: one WebSocket kept alive with heartbeats, backoff
 * with jitter, an outgoing queue and page lifecycle awareness. Free of the
 * DOM, so the element, the Lit controller and Node programs share it.
 *
 * @example
 * const client = new WsClient({url: 'wss://example.com/feed', json: true});
 * client.on('message', ({data}) => console.log(data));
 * client.on('state', ({state}) => console.log(state));
 * client.connect();
 * client.send({subscribe: 'prices'});
 */
export class WsClient {
  readonly #env: Environment;
  #options: ResolvedOptions = DEFAULT_OPTIONS;
  readonly #listeners: {[K in keyof WsClientEventMap]: Set<Listener<K>>} = {
    state: new Set(),
    message: new Set(),
    error: new Set(),
    latency: new Set(),
  };

  #state: ConnectionState = ConnectionState.idle;
  #socket: SocketLike | undefined;
  /** Identifies the current attempt, so a late `urlProvider` result for an older one is dropped. */
  #attemptId = 0;
  #attempt = 0;
  /** Someone asked for a connection: `connect()` was called, and not `close()` or `pause()` since. */
  #active = false;
  /** Closed on `pagehide`; reopened on the next `pageshow`. */
  #suspended = false;
  #unwatch: (() => void) | undefined;
  #queue: unknown[] = [];
  readonly #warned = new Set<string>();

  readonly #timers = new Map<TimerName, TimerHandle>();
  #connectDueAt = 0;
  #heartbeatDueAt = 0;
  #lastSent = 0;
  #lastReceived = 0;
  /** When the unanswered liveness probe went out; any inbound message answers it. */
  #probeSentAt: number | undefined;
  /** When the unanswered ping went out; only the pong answers it (for latency). */
  #pingSentAt: number | undefined;
  #latency: number | undefined;
  #nextRetryAt: number | undefined;

  constructor(options: Partial<WsClientOptions> = {}, environment: Partial<Environment> = {}) {
    this.#env = {...defaultEnvironment(), ...environment};
    this.configure(options);
  }

  get state(): ConnectionState {
    return this.#state;
  }
  /** Retries since the last stable open. */
  get attempt(): number {
    return this.#attempt;
  }
  /** ms of the last ping→pong round trip, or undefined before the first. */
  get latency(): number | undefined {
    return this.#latency;
  }
  /** Messages waiting for the next open. */
  get queued(): number {
    return this.#queue.length;
  }
  /** Epoch ms of the scheduled attempt while `reconnecting`. */
  get nextRetryAt(): number | undefined {
    return this.#nextRetryAt;
  }
  get options(): Readonly<ResolvedOptions> {
    return this.#options;
  }

  /** Subscribes to `state`, `message`, `error` or `latency`; returns the unsubscribe function. */
  on<K extends keyof WsClientEventMap>(type: K, listener: Listener<K>): () => void {
    const listeners = this.#listeners[type] as Set<Listener<K>>;
    listeners.add(listener);
    return () => listeners.delete(listener);
  }

  /**
   * Changes options. A new `url`, `urlProvider` or `protocols` reconnects
   * (or starts, from `closed`); heartbeat changes apply to the open socket.
   */
  configure(changes: Partial<WsClientOptions>): void {
    const before = this.#options;
    this.#options = mergeOptions(before, changes, (message) => {
      // Once each: a host re-applying the same bad value must not repeat it.
      if (this.#warned.has(message)) return;
      this.#warned.add(message);
      console.warn(`[ws-connection] ${message}`);
    });
    const after = this.#options;
    if (this.#socket && after.binaryType !== before.binaryType) this.#socket.binaryType = after.binaryType;
    const target = (options: ResolvedOptions) => [
      options.url,
      options.urlProvider,
      protocolList(options.protocols).join(),
    ];
    const retarget = target(before).some((value, i) => value !== target(after)[i]);
    if (retarget && (this.#active || this.#state === ConnectionState.closed)) {
      this.#attempt = 0;
      this.#start();
      this.#openSocket();
    } else if (this.#state === ConnectionState.open) {
      this.#armHeartbeat();
    }
  }

  /** Starts, or retries at once, skipping any scheduled delay. Does nothing while connecting or open. */
  connect(): void {
    if (this.#state === ConnectionState.closed) this.#attempt = 0;
    this.#start();
    if (this.#state === ConnectionState.open || this.#state === ConnectionState.connecting) return;
    this.#openSocket();
  }

  /** Drops the current socket and connects again at once. */
  reconnect(): void {
    this.#start();
    this.#openSocket();
  }

  /** Closes and stops reconnecting; messages still queued are reported by one `queue-discarded` error. */
  close(code = CLOSE_NORMAL, reason = ''): void {
    if (this.#state === ConnectionState.closed && !this.#socket) return;
    this.#enterClosed({code, reason});
  }

  /**
   * Closes the socket and clears every timer, keeping the queue, and goes
   * `idle` until `connect()`. For a host that is going away for a while
   * (an element removed from the page).
   */
  pause(reason = 'paused'): void {
    this.#stop();
    this.#dropSocket(CLOSE_NORMAL, reason);
    this.#setState(ConnectionState.idle);
  }

  /**
   * Sends now when open; otherwise queues, up to `queueLimit`, for the next
   * open. Returns false, and reports why as an error, when not accepted.
   */
  send(data: unknown): boolean {
    if (this.#state === ConnectionState.closed) {
      this.#emitError('send-failed', 'the connection is closed: call connect() before sending');
      return false;
    }
    const payload = this.#serialize(data);
    if (payload === undefined) return false;
    // A socket the server has begun to close (CLOSING, no event yet) would drop it.
    if (this.#state === ConnectionState.open && this.#socket?.readyState === SOCKET_OPEN) {
      return this.#transmit(payload);
    }
    if (this.#queue.length >= this.#options.queueLimit) {
      this.#emitError(
        'queue-overflow',
        `the queue holds ${this.#options.queueLimit} messages already`,
        undefined,
        data,
      );
      return false;
    }
    this.#queue.push(payload);
    return true;
  }

  #start(): void {
    this.#active = true;
    this.#suspended = false;
    this.#unwatch ??= this.#env.watch((signal) => this.#onLifecycle(signal));
  }

  #stop(): void {
    this.#active = false;
    this.#suspended = false;
    this.#unwatch?.();
    this.#unwatch = undefined;
    this.#clearTimers();
  }

  #openSocket(): void {
    this.#dropSocket(CLOSE_NORMAL, 'reconnect');
    this.#clearTimers();
    const {url, urlProvider} = this.#options;
    if (!urlProvider && url === undefined) {
      this.#setState(ConnectionState.idle);
      return;
    }
    const attemptId = ++this.#attemptId;
    this.#setState(ConnectionState.connecting);
    this.#armConnectTimer(this.#options.timeout);
    if (!urlProvider) {
      this.#dial(url);
      return;
    }
    const current = () => attemptId === this.#attemptId && this.#state === ConnectionState.connecting;
    const failed = (error: unknown) =>
      current() && this.#attemptFailed('invalid-url', `urlProvider failed: ${describe(error)}`, error);
    let provided: unknown;
    try {
      provided = urlProvider();
    } catch (error) {
      failed(error);
      return;
    }
    if (isPromiseLike(provided)) provided.then((value) => current() && this.#dial(value), failed);
    else this.#dial(provided);
  }

  #dial(raw: unknown): void {
    const provided = this.#options.urlProvider !== undefined;
    const url = typeof raw === 'string' ? resolveSocketUrl(raw, this.#env.baseUrl()) : undefined;
    if (!url) {
      const shown = typeof raw === 'string' ? `"${redactUrl(raw)}"` : String(raw);
      const message = `${shown} is not a ws:, wss:, http: or https: URL, nor a path beginning with /, ./ or ../`;
      if (provided) this.#attemptFailed('invalid-url', message);
      else this.#giveUp('invalid-url', message);
      return;
    }
    const Socket = this.#env.WebSocket;
    if (!Socket) {
      this.#giveUp('socket-error', 'this environment has no WebSocket: pass one in the environment');
      return;
    }
    this.#log(`connecting to ${redactUrl(url)}`);
    let socket: SocketLike;
    try {
      socket = new Socket(url, protocolList(this.#options.protocols));
    } catch (error) {
      // The constructor refuses a malformed URL or protocol list (SyntaxError)
      // and, in browsers, an insecure ws: from an https: page (SecurityError).
      if (provided)
        this.#attemptFailed('invalid-url', `cannot open ${redactUrl(url)}: ${describe(error)}`, error);
      else this.#giveUp('invalid-url', `cannot open ${redactUrl(url)}: ${describe(error)}`, error);
      return;
    }
    socket.binaryType = this.#options.binaryType;
    socket.onopen = () => socket === this.#socket && this.#onOpen();
    socket.onmessage = (event: {data: unknown}) => socket === this.#socket && this.#onMessage(event.data);
    socket.onerror = (event: unknown) =>
      socket === this.#socket && this.#emitError('socket-error', 'the WebSocket reported an error', event);
    socket.onclose = (event: {code: number; reason: string}) =>
      socket === this.#socket && this.#onClose(event.code, event.reason);
    this.#socket = socket;
  }

  #onOpen(): void {
    const socket = this.#socket;
    this.#clearTimer('connect');
    const now = this.#env.now();
    this.#lastSent = this.#lastReceived = now;
    this.#probeSentAt = this.#pingSentAt = undefined;
    this.#state = ConnectionState.open;
    this.#log('open');
    // Renewed subscriptions first, then what waited, all before anyone hears
    // of the open, so that nothing sent from a state listener overtakes them.
    for (const message of this.#options.openMessages) {
      const payload = this.#serialize(message);
      if (payload !== undefined && this.#socket === socket) this.#transmit(payload);
    }
    while (this.#queue.length && this.#socket === socket) this.#transmit(this.#queue.shift());
    if (this.#socket !== socket) return;
    this.#setTimer('stable', this.#options.stableAfter, () => (this.#attempt = 0));
    this.#armHeartbeat();
    this.#emitState(ConnectionState.connecting);
  }

  #onMessage(data: unknown): void {
    const now = this.#env.now();
    this.#lastReceived = now;
    if (this.#probeSentAt !== undefined) {
      // Answered: the timer waits for the reply's deadline, so set it for
      // the next ping instead (once per ping, not per message).
      this.#probeSentAt = undefined;
      this.#armHeartbeat();
    }
    if (data === this.#options.pongMessage) {
      if (this.#pingSentAt !== undefined) {
        this.#latency = now - this.#pingSentAt;
        this.#pingSentAt = undefined;
        this.#emit('latency', {latency: this.#latency});
      }
      return;
    }
    if (this.#options.json && typeof data === 'string') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(data);
      } catch (error) {
        this.#emitError('parse-error', `an inbound message is not JSON: ${describe(error)}`, error, data);
        return;
      }
      this.#emit('message', {data: parsed});
      return;
    }
    this.#emit('message', {data});
  }

  #onClose(code: number, reason: string): void {
    this.#log(`closed by the server or network: ${code}${reason ? ` ${reason}` : ''}`);
    this.#detach();
    if (includesCode(this.#options.stopCodes, code)) {
      this.#enterClosed({code, reason});
      return;
    }
    this.#scheduleRetry({code, reason});
  }

  /** This attempt or connection is over; report why and try again later. */
  #attemptFailed(kind: ErrorKind, message: string, error?: unknown): void {
    this.#emitError(kind, message, error);
    this.#dropSocket(CLOSE_DEAD, kind);
    this.#scheduleRetry({});
  }

  /** Retrying cannot help (a malformed URL): report it and wait for new options. */
  #giveUp(kind: ErrorKind, message: string, error?: unknown): void {
    this.#clearTimers();
    this.#emitError(kind, message, error);
    this.#setState(ConnectionState.idle);
  }

  #scheduleRetry(cause: {code?: number; reason?: string}): void {
    this.#clearTimers();
    if (!this.#env.isOnline()) {
      this.#setState(ConnectionState.offline, cause);
      return;
    }
    if (this.#attempt >= this.#options.maxRetries) {
      this.#emitError('retries-exhausted', `gave up after ${this.#attempt} retries`);
      this.#enterClosed(cause);
      return;
    }
    this.#attempt++;
    const {reconnectDelay, maxReconnectDelay} = this.#options;
    const delay = retryDelay(this.#attempt, reconnectDelay, maxReconnectDelay, this.#env.random);
    this.#setTimer('retry', delay, () => this.#openSocket());
    this.#nextRetryAt = this.#env.epochNow() + delay;
    this.#log(`retry ${this.#attempt} in ${delay} ms`);
    this.#setState(ConnectionState.reconnecting, {...cause, delay});
  }

  #enterClosed(cause: {code?: number; reason?: string}): void {
    this.#stop();
    this.#dropSocket(cause.code ?? CLOSE_NORMAL, cause.reason ?? '');
    if (this.#queue.length) {
      const discarded = this.#queue;
      this.#queue = [];
      this.#emitError(
        'queue-discarded',
        `${discarded.length} queued messages were not sent`,
        undefined,
        discarded,
      );
    }
    this.#setState(ConnectionState.closed, cause);
  }

  #onLifecycle(signal: LifecycleSignal): void {
    const state = this.#state;
    if (signal === 'pagehide') {
      if (this.#socket || this.#timers.has('retry')) {
        this.#dropSocket(CLOSE_NORMAL, 'page hidden');
        this.#clearTimers();
        this.#suspended = true;
        this.#setState(ConnectionState.idle);
      }
    } else if (signal === 'offline') {
      if (state === ConnectionState.open) this.#probe();
      else if (state === ConnectionState.connecting || state === ConnectionState.reconnecting) {
        this.#dropSocket(CLOSE_NORMAL, 'offline');
        this.#clearTimers();
        this.#setState(ConnectionState.offline);
      }
    } else if (this.#suspended) {
      if (signal === 'pageshow' || signal === 'visible' || signal === 'resume') {
        this.#suspended = false;
        this.#openSocket();
      }
    } else if (state === ConnectionState.open) {
      this.#probe();
    } else if (state === ConnectionState.reconnecting || state === ConnectionState.offline) {
      this.#openSocket();
    }
  }

  /** Asks the server for a sign of life now, when heartbeats are on. */
  #probe(): void {
    if (!this.#socket || this.#state !== ConnectionState.open || this.#options.heartbeatInterval <= 0) return;
    const now = this.#env.now();
    if (this.#transmit(this.#options.pingMessage)) {
      this.#probeSentAt = this.#pingSentAt = now;
    }
    this.#armHeartbeat();
  }

  /** One timer serves the heartbeat: it is due at the next ping, or at the deadline of the last one. */
  #armHeartbeat(): void {
    this.#clearTimer('heartbeat');
    const {heartbeatInterval, timeout} = this.#options;
    if (this.#state !== ConnectionState.open || heartbeatInterval <= 0) return;
    this.#heartbeatDueAt = this.#probeSentAt !== undefined ? this.#probeSentAt + timeout : this.#nextPingAt();
    const wait = Math.max(0, this.#heartbeatDueAt - this.#env.now());
    this.#setTimer('heartbeat', wait, () => this.#onHeartbeatTimer());
  }

  /** A ping is due once `heartbeatInterval` passed without sending, or without receiving. */
  #nextPingAt(): number {
    return Math.min(this.#lastSent, this.#lastReceived) + this.#options.heartbeatInterval;
  }

  #onHeartbeatTimer(): void {
    const now = this.#env.now();
    const {timeout} = this.#options;
    if (this.#probeSentAt === undefined) {
      // Traffic since arming may have moved the next ping later; the timer is
      // only re-armed here, never on each message, to keep messages cheap.
      if (now >= this.#nextPingAt()) this.#probe();
      else this.#armHeartbeat();
      return;
    }
    if (now - this.#heartbeatDueAt > LATE_TIMER_SLACK) {
      // Throttled, frozen or asleep: the silence may be ours, not the server's.
      this.#log(`heartbeat timer ${Math.round(now - this.#heartbeatDueAt)} ms late; probing again`);
      this.#probe();
    } else if (now - this.#probeSentAt >= timeout) {
      // A timer late by less than the slack means a busy or throttled page,
      // and the reply may be waiting behind it: give it as long again
      // before the verdict. A reply re-arms the heartbeat, which cancels it.
      this.#setTimer('heartbeat', Math.max(0, now - this.#heartbeatDueAt), () => {
        this.#log(`no reply to the ping within ${timeout} ms`);
        this.#attemptFailed('heartbeat-timeout', `no reply from the server within ${timeout} ms of a ping`);
      });
    } else {
      this.#armHeartbeat();
    }
  }

  #armConnectTimer(wait: number): void {
    this.#connectDueAt = this.#env.now() + wait;
    this.#setTimer('connect', wait, () => {
      if (this.#env.now() - this.#connectDueAt > LATE_TIMER_SLACK) {
        // The page slept through the attempt; it deserves a fair wait from now.
        this.#armConnectTimer(this.#options.timeout);
        return;
      }
      this.#attemptFailed('connect-timeout', `still connecting after ${this.#options.timeout} ms`);
    });
  }

  #transmit(payload: unknown): boolean {
    try {
      this.#socket!.send(payload as never);
    } catch (error) {
      this.#emitError('send-failed', `the socket refused a message: ${describe(error)}`, error, payload);
      return false;
    }
    this.#lastSent = this.#env.now();
    return true;
  }

  #serialize(data: unknown): unknown {
    if (typeof data === 'string' || isBinary(data)) return data;
    if (!this.#options.json) {
      this.#emitError(
        'send-failed',
        'only strings and binary data can be sent; turn json on to send other values',
        undefined,
        data,
      );
      return undefined;
    }
    try {
      const text = JSON.stringify(data);
      if (text === undefined) throw new TypeError(`${typeof data} has no JSON form`);
      return text;
    } catch (error) {
      this.#emitError('send-failed', `cannot serialise the message as JSON: ${describe(error)}`, error, data);
      return undefined;
    }
  }

  /**
   * Forgets the current socket without closing it (it closed by itself). Its
   * handlers stay: they check identity and ignore a socket that is not the
   * current one, and the `ws` package throws on an error with no listener.
   */
  #detach(): void {
    if (!this.#socket) return;
    this.#socket = undefined;
    this.#clearTimer('connect');
    this.#clearTimer('heartbeat');
    this.#clearTimer('stable');
  }

  #dropSocket(code: number, reason: string): void {
    const socket = this.#socket;
    if (!socket) return;
    this.#detach();
    try {
      socket.close(code, reason);
    } catch {
      // Browsers refuse codes outside 1000 and 3000–4999 and reasons over 123 bytes.
      socket.close();
    }
  }

  #setTimer(name: TimerName, wait: number, callback: () => void): void {
    this.#clearTimer(name);
    const handle = this.#env.setTimeout(() => {
      this.#timers.delete(name);
      callback();
    }, wait);
    this.#timers.set(name, handle);
  }

  #clearTimer(name: TimerName): void {
    if (this.#timers.has(name)) this.#env.clearTimeout(this.#timers.get(name));
    this.#timers.delete(name);
    if (name === 'retry') this.#nextRetryAt = undefined;
  }

  #clearTimers(): void {
    for (const name of [...this.#timers.keys()]) this.#clearTimer(name);
    this.#nextRetryAt = undefined;
  }

  #setState(state: ConnectionState, extra: {code?: number; reason?: string; delay?: number} = {}): void {
    const previousState = this.#state;
    if (state === previousState) return;
    this.#state = state;
    this.#emitState(previousState, extra);
  }

  #emitState(
    previousState: ConnectionState,
    extra: {code?: number; reason?: string; delay?: number} = {},
  ): void {
    const detail: StateChange = {state: this.#state, previousState, attempt: this.#attempt, ...extra};
    this.#log(`${previousState} → ${this.#state}`);
    this.#emit('state', detail);
  }

  #emitError(kind: ErrorKind, message: string, error?: unknown, data?: unknown): void {
    const detail: ErrorDetail = {kind, message};
    if (error !== undefined) detail.error = error;
    if (data !== undefined) detail.data = data;
    this.#log(`${kind}: ${message}`);
    this.#emit('error', detail);
  }

  #emit<K extends keyof WsClientEventMap>(type: K, detail: WsClientEventMap[K]): void {
    for (const listener of this.#listeners[type] as Set<Listener<K>>) {
      try {
        listener(detail);
      } catch (error) {
        // A listener's mistake must not leave the engine half-way through a
        // change: report it as the platform reports listener errors, later.
        this.#env.setTimeout(() => {
          throw error;
        }, 0);
      }
    }
  }

  #log(line: string): void {
    const {debug} = this.#options;
    if (debug === true) console.debug(`[ws-connection] ${line}`);
    else if (debug) debug(line);
  }
}

function isBinary(data: unknown): boolean {
  return (
    data instanceof ArrayBuffer ||
    ArrayBuffer.isView(data) ||
    (typeof Blob !== 'undefined' && data instanceof Blob)
  );
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === 'function';
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
