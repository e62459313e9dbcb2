import {retryDelay} from './backoff.js';
import {includesCode} from './close-codes.js';
import {
  defaultEnvironment,
  type Environment,
  type LifecycleSignal,
  type SocketLike,
  type TimerHandle,
} from './environment.js';
import {Emitter} from './emitter.js';
import {Heartbeat, type HeartbeatClock, LATE_TIMER_SLACK} from './heartbeat.js';
import {
  DEFAULT_OPTIONS,
  mergeOptions,
  protocolList,
  type ResolvedOptions,
  warnOnce,
  type WsClientOptions,
} from './options.js';
import {errorDetail, Outgoing} from './outgoing.js';
import {describe, fromPayload} from './payload.js';
import type {ReliableLink, Waiting} from './reliable.js';
import {loadedLink, loadLink} from './reliable-loader.js';
import {RequestError} from './request-error.js';
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
  | 'send-failed'
  | 'session-lost'
  | 'reliable-refused';

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
  /** On `open` with `reliable`: true when the session carried on, false when a new one began. */
  resumed?: boolean;
}

/** `In`: what the application's messages from the server are (the client's first type parameter). */
export interface MessageDetail<In = unknown> {
  /** A string, Blob or ArrayBuffer; with `json`, the parsed value. */
  data: In;
}

export interface ErrorDetail {
  kind: ErrorKind;
  message: string;
  error?: unknown;
  /**
   * What could not be handled, as it was given: the raw text for
   * `parse-error`, the message for `send-failed` and `queue-overflow`, the
   * messages for `queue-discarded`, and for `session-lost` the messages the
   * server may not have received, in order.
   */
  data?: unknown;
}

export interface WsClientEventMap<In = unknown> {
  state: StateChange;
  message: MessageDetail<In>;
  error: ErrorDetail;
  /** A ping was answered; `latency` is the round trip in ms. */
  latency: {latency: number};
}

type TimerName = 'connect' | 'retry' | 'stable';
type Cause = {code?: number; reason?: string};
/**
 * A message waiting for the next open: what `send()` was given, and what
 * goes on the wire; or a request, until the reliable link takes it.
 */
type Queued = Waiting;

/** Close code the client uses when it gives a socket up (the browser allows 1000 and 3000–4999). */
const CLOSE_NORMAL = 1000;
const CLOSE_DEAD = 4000;
/** The longest a timer can wait. */
const MAX_TIMER = 2 ** 31 - 1;
/** `readyState` of an open WebSocket. */
const SOCKET_OPEN = 1;

/**
 * The connection engine: one WebSocket kept alive with heartbeats, backoff
 * with jitter, an outgoing queue and page lifecycle awareness. Free of the
 * DOM, so the element, the Lit controller and Node programs share it.
 *
 * Every change is complete before anyone hears of it: events wait in an
 * outbox until the call or callback that caused them has finished, and go
 * out in the order the changes happened. A listener may call any method, and
 * the call takes full effect.
 *
 * @example
 * const client = new WsClient({url: 'wss://example.com/feed', json: true});
 * client.on('message', ({data}) => console.log(data));
 * client.on('state', ({state}) => console.log(state));
 * client.connect();
 * client.send({subscribe: 'prices'});
 */
export class WsClient<In = unknown, Out = unknown> {
  readonly #env: Environment;
  #options: ResolvedOptions = DEFAULT_OPTIONS;
  readonly #events: Emitter<WsClientEventMap>;

  #state: ConnectionState = ConnectionState.idle;
  #socket: SocketLike | undefined;
  /** Identifies the current attempt, so a late `urlProvider` result for an older one is dropped. */
  #attemptId = 0;
  #attempt = 0;
  /** Someone asked for a connection: `connect()` was called, and not `close()` or `pause()` since. */
  #active = false;
  /** Closed on `pagehide`; reopened on the next `pageshow`, `visible` or `resume`. */
  #suspended = false;
  /** The page said `offline` and has not said `online` since. */
  #offlineSignalled = false;
  #unwatch: (() => void) | undefined;
  readonly #queue = new Outgoing<Queued>((detail) => this.#reportError(detail));
  readonly #warn = warnOnce();

  readonly #timers = new Map<TimerName, TimerHandle>();
  /** The environment's clock and timers, whose callbacks run as changes of this client (the heartbeat's, the link's). */
  readonly #clock: HeartbeatClock;
  #connectDueAt = 0;
  readonly #heartbeat: Heartbeat;
  #latency: number | undefined;
  #nextRetryAt: number | undefined;
  /** A pong has arrived, on any connection, since this client was made. */
  #ponged = false;
  /** The reliable session, while `reliable` is on and its code is loaded; undefined whenever it is off. */
  #link: ReliableLink | undefined;
  /** The current socket selected the delivery subprotocol. */
  #reliableSocket = false;
  /** `reliable-refused` was reported: it is said once. */
  #refusalReported = false;

  constructor(options: Partial<WsClientOptions> = {}, environment: Partial<Environment> = {}) {
    this.#env = {...defaultEnvironment(), ...environment};
    const env = this.#env;
    this.#events = new Emitter((callback, ms) => env.setTimeout(callback, ms));
    this.#clock = {
      now: () => env.now(),
      setTimeout: (callback, ms) => env.setTimeout(() => this.#run(callback), ms),
      clearTimeout: (handle) => env.clearTimeout(handle),
    };
    this.#heartbeat = new Heartbeat(this.#clock, {
      ping: () => this.#transmit(this.#reliableSocket ? this.#link!.ping() : this.#options.pingMessage),
      dead: () => this.#attemptFailed('heartbeat-timeout', this.#heartbeatTimeoutMessage()),
      log: (line) => this.#log(line),
    });
    this.configure(options);
  }

  get state(): ConnectionState {
    return this.#state;
  }
  /** Retries since the last stable open, or since `connect()` or `reconnect()`. */
  get attempt(): number {
    return this.#attempt;
  }
  /** ms of the last ping→pong round trip, or undefined before the first. */
  get latency(): number | undefined {
    return this.#latency;
  }
  /** Messages waiting for the next open; with `reliable`, every message until the server acknowledges it. */
  get queued(): number {
    return this.#queue.length + (this.#link?.queued ?? 0);
  }
  /** Epoch ms of the scheduled attempt while `reconnecting`. */
  get nextRetryAt(): number | undefined {
    return this.#nextRetryAt;
  }
  get options(): Readonly<ResolvedOptions> {
    return this.#options;
  }

  /** The reliable session's link, once its code is loaded (sharing carries the session between tabs). */
  get link(): ReliableLink | undefined {
    if (this.#options.reliable) this.#prepareLink();
    return this.#link;
  }

  /** Subscribes to `state`, `message`, `error` or `latency`; returns the unsubscribe function. */
  on<K extends keyof WsClientEventMap<In>>(
    type: K,
    listener: (detail: WsClientEventMap<In>[K]) => void,
  ): () => void {
    return this.#events.on(type, listener as (detail: WsClientEventMap[K]) => void);
  }

  /**
   * Changes options. A new `url` or `protocols` reconnects (or starts, from
   * `closed`). A new `urlProvider` or `openMessages` never does by itself:
   * they apply from the next attempt or open. Heartbeat changes apply to the
   * open socket.
   */
  configure(changes: Partial<WsClientOptions>): void {
    this.#run(() => {
      const before = this.#options;
      this.#options = mergeOptions(before, changes, this.#warn);
      const after = this.#options;
      // A reliable socket reads frames as ArrayBuffer; a plain one as the application says.
      if (this.#socket && (!after.reliable || this.#plainOpen())) this.#socket.binaryType = after.binaryType;
      this.#heartbeat.configure(heartbeatSettings(after));
      if (after.reliable) this.#prepareLink();
      else if (this.#link) {
        // What the session held goes back to the plain queue; its requests fail.
        this.#queue.requeue(this.#link.drain('closed', 'reliable was turned off'));
        this.#link = undefined;
      } else this.#dropDeferred(undefined, 'closed', 'reliable was turned off');
      const target = (options: ResolvedOptions) =>
        `${options.url} ${protocolList(options.protocols)} ${options.reliable}`;
      const hasTarget = (options: ResolvedOptions) => options.url !== undefined || !!options.urlProvider;
      const wanted = this.#active && !this.#suspended;
      if (target(before) !== target(after) && (wanted || this.#state === ConnectionState.closed)) {
        this.#activate();
        this.#attempt = 0;
        this.#attemptConnection();
      } else if (wanted && this.#state === ConnectionState.idle && !hasTarget(before) && hasTarget(after)) {
        this.#attemptConnection();
      }
    });
  }

  /**
   * Starts, or retries at once, skipping any scheduled delay, with a fresh
   * retry budget. Does nothing more while connecting or open; while the
   * network is down it waits for it.
   */
  connect(): void {
    this.#run(() => {
      this.#activate();
      this.#attempt = 0;
      if (this.#state === ConnectionState.open || this.#state === ConnectionState.connecting) return;
      this.#attemptConnection();
    });
  }

  /** Drops the current socket and connects again at once, with a fresh retry budget. */
  reconnect(): void {
    this.#run(() => {
      this.#activate();
      this.#attempt = 0;
      this.#attemptConnection();
    });
  }

  /**
   * Checks the connection now, as when the page becomes visible: a
   * heartbeat probe while open (keeping the deadline of one already
   * unanswered), an attempt at once while a retry is scheduled.
   */
  probe(): void {
    this.#run(() => this.#active && !this.#suspended && this.#onLifecycle('visible'));
  }

  /** Closes and stops reconnecting; messages still queued are reported by one `queue-discarded` error. */
  close(code = CLOSE_NORMAL, reason = ''): void {
    this.#run(() => {
      if (this.#state === ConnectionState.closed && !this.#socket) return;
      this.#enterClosed({code, reason});
    });
  }

  /**
   * Closes the socket and clears every timer, keeping the queue, and goes
   * `idle` until `connect()`. For a host that is going away for a while
   * (an element removed from the page). A `closed` client stays closed.
   */
  pause(reason = 'paused'): void {
    this.#run(() => {
      if (this.#state === ConnectionState.closed) return;
      this.#deactivate();
      this.#halt(reason);
      this.#setState(ConnectionState.idle);
    });
  }

  /**
   * Sends now when open; otherwise queues, up to `queueLimit`, for the next
   * open. Returns false, and reports why as an error, when not accepted.
   */
  send(data: Out): boolean {
    return this.#run(() => {
      // A socket the server has begun to close (CLOSING, no event yet) would drop it.
      const direct = this.#state === ConnectionState.open && this.#socket?.readyState === SOCKET_OPEN;
      const {json, queueLimit} = this.#options;
      const closed = this.#state === ConnectionState.closed;
      const link = this.#plainOpen() ? undefined : this.#link;
      // Kept until acknowledged, a reliable message counts against the limit even when it goes out at once.
      const payload = this.#queue.admit(data, {closed, json, queueLimit, direct: direct && !link});
      if (payload === undefined) return false;
      if (link) return this.#withinLimit(data) && link.send(data, payload);
      if (direct) return this.#transmit(payload, data);
      this.#queue.add({data, payload});
      return true;
    });
  }

  /**
   * With `reliable`: sends a request and resolves with the server's reply
   * (parsed with `json`). Delivered once, like any message, across
   * reconnects. Rejects with a {@link RequestError} whose `kind` says why:
   * `request-timeout` (no reply within `timeout` ms, by default the
   * client's `timeout`), `closed` (`close()` was called, the client is
   * closed, or the connection is not reliable: `reliable` is off or the
   * server refused it), `session-lost`, `error-reply` (the server's handler
   * failed), `send-failed` (not accepted) or `parse-error`. It never hangs.
   *
   * @example
   * const client = new WsClient({url: '/ws', reliable: true, json: true});
   * client.connect();
   * const profile = await client.request({get: 'profile'}, {timeout: 5000});
   */
  request<Reply = In>(data: Out, options?: {timeout?: number}): Promise<Reply> {
    return this.#run((): Promise<Reply> => {
      // Read guardedly: a promise API rejects, it does not throw.
      const timeout = (options as {timeout?: unknown} | null | undefined)?.timeout;
      const refuse = (kind: 'closed' | 'send-failed', message: string) =>
        Promise.reject(new RequestError(kind, message));
      const {reliable, json, queueLimit} = this.#options;
      if (!reliable) {
        return refuse(
          'closed',
          'request() needs reliable delivery: turn the reliable option on (and reliable() on the server)',
        );
      }
      if (this.#state === ConnectionState.closed) {
        return refuse('closed', 'the connection is closed: call connect() before requesting');
      }
      if (this.#plainOpen()) {
        return refuse(
          'closed',
          `the server did not select ${this.#link!.subprotocol}: this connection is plain`,
        );
      }
      const wait = timeout ?? this.#options.timeout;
      // Beyond the longest a timer can wait, browsers and Node fire at once.
      if (typeof wait !== 'number' || !(wait > 0 && wait <= MAX_TIMER)) {
        return refuse(
          'send-failed',
          `timeout must be a number of ms above 0, up to ${MAX_TIMER}, not ${String(wait)}`,
        );
      }
      const payload = this.#queue.serialize(data, json);
      if (payload === undefined) return refuse('send-failed', 'the request cannot be serialised');
      if (!this.#withinLimit(data))
        return refuse('send-failed', `the queue holds ${queueLimit} messages already`);
      // The reply is what the server sent: typed as the caller says it is.
      if (this.#link) return this.#link.request(data, payload, wait) as Promise<Reply>;
      // Until the protocol's code is here; it times out even if it never comes.
      return new Promise<Reply>((resolve, reject) => {
        const timer = this.#env.setTimeout(
          () => this.#run(() => this.#dropDeferred(request, 'request-timeout', `no reply within ${wait} ms`)),
          wait,
        );
        const request = {deadline: this.#env.now() + wait, timer, resolve, reject};
        this.#queue.add({data, payload, request});
      });
    });
  }

  /**
   * Makes a change, then tells the listeners. Every way into the engine (a
   * method, a socket or timer callback, a page signal) goes through here;
   * calls made by listeners run their change at once and add their events
   * behind the ones being delivered.
   */
  #run<T>(change: () => T): T {
    return this.#events.run(change);
  }

  /** Marks the client as wanted, and watches the page for network and lifecycle changes. */
  #activate(): void {
    this.#active = true;
    this.#suspended = false;
    this.#unwatch ??= this.#env.watch((signal) => this.#run(() => this.#onLifecycle(signal)));
  }

  /** Marks the client as not wanted, and stops watching the page. */
  #deactivate(): void {
    this.#active = false;
    this.#suspended = false;
    // Unwatched, an `online` would go unheard: from now on the platform's word counts.
    this.#offlineSignalled = false;
    this.#unwatch?.();
    this.#unwatch = undefined;
  }

  /** Ends whatever is under way: the socket, a pending `urlProvider`, every timer. */
  #halt(reason: string, code = CLOSE_NORMAL): void {
    this.#attemptId++;
    this.#dropSocket(code, reason);
    this.#clearTimers();
  }

  /** The open connection is a plain one: the server did not select the subprotocol. */
  #plainOpen(): boolean {
    return this.#state === ConnectionState.open && !this.#reliableSocket;
  }

  /** Whether one more message fits under `queueLimit`; reports `queue-overflow` when not. */
  #withinLimit(data: unknown): boolean {
    const {queueLimit} = this.#options;
    if (this.queued < queueLimit) return true;
    this.#emitError('queue-overflow', `the queue holds ${queueLimit} messages already`, undefined, data);
    return false;
  }

  /**
   * Makes the reliable link, loading its code first if need be; what waited
   * in the queue moves into it. Returns the wait for the code, if there is one.
   */
  #prepareLink(): Promise<unknown> | undefined {
    if (this.#link) return undefined;
    const source = loadedLink();
    if (!source) {
      const loading = loadLink();
      // A failure is reported by the attempt that waits for it.
      loading.then(
        () => this.#run(() => this.#options.reliable && this.#prepareLink()),
        () => undefined,
      );
      return loading;
    }
    this.#link = source(
      {
        ...this.#clock,
        write: (frame) => this.#socket && this.#reliableSocket && this.#transmit(frame),
        message: (data) => this.#deliver(data),
        error: (kind, message, data, error) => this.#emitError(kind, message, error, data),
        opened: (resumed) => this.#opened({resumed}),
        // The server broke the protocol: the connection goes, the session stays, and the next one resumes it.
        // 1002 or 1009, as the protocol says; browsers allow only 1000 and 3000–4999, and there it closes without a code.
        broken: (code, reason, message, raw) => {
          this.#halt(reason, code);
          this.#emitError('parse-error', message, undefined, raw);
          this.#scheduleRetry({code, reason});
        },
        startMessages: () => this.#openMessages(),
        binaryType: () => this.#options.binaryType,
        parse: (data) => fromPayload(data, this.#options.json),
        requestError: (kind, message) => new RequestError(kind, message),
      },
      this.#queue.take(),
    );
    return undefined;
  }

  /** A request that waited for the protocol's code fails: it timed out, or the client closed or left reliable. */
  #dropDeferred(request: Queued['request'], kind: 'request-timeout' | 'closed', message: string): void {
    const items = this.#queue.take();
    for (const item of items) {
      if (request ? item.request !== request : !item.request) {
        this.#queue.add(item);
        continue;
      }
      this.#env.clearTimeout(item.request!.timer);
      item.request!.reject(new RequestError(kind, message));
    }
  }

  /** The open messages that can go on the wire, each with what the application gave. */
  #openMessages(): Queued[] {
    const messages: Queued[] = [];
    for (const data of this.#options.openMessages) {
      const payload = this.#queue.serialize(data, this.#options.json);
      if (payload !== undefined) messages.push({data, payload});
    }
    return messages;
  }

  #offline(): boolean {
    return this.#offlineSignalled || !this.#env.isOnline();
  }

  /** The one way a socket is made: now, or `offline` until the network returns. */
  #attemptConnection(): void {
    this.#halt('reconnect');
    if (this.#offline()) {
      this.#setState(ConnectionState.offline);
      return;
    }
    const {url, urlProvider} = this.#options;
    if (!urlProvider && url === undefined) {
      this.#setState(ConnectionState.idle);
      return;
    }
    const attemptId = this.#attemptId;
    this.#setState(ConnectionState.connecting);
    this.#armConnectTimer();
    const current = () => attemptId === this.#attemptId;
    const loading = this.#options.reliable ? this.#prepareLink() : undefined;
    if (loading) {
      loading.then(
        // After the link is made: its own wait for the code was the first to be told.
        () => this.#run(() => current() && this.#resolveUrl(current)),
        (error) =>
          this.#run(
            () =>
              current() &&
              this.#attemptFailed(
                'socket-error',
                `the reliable delivery code could not be loaded: ${describe(error)}; the next attempt tries again`,
                error,
              ),
          ),
      );
      return;
    }
    this.#resolveUrl(current);
  }

  /** The url of this attempt, from `url` or `urlProvider`; then the socket. */
  #resolveUrl(current: () => boolean): void {
    const {url, urlProvider} = this.#options;
    if (!urlProvider) {
      this.#dial(url);
      return;
    }
    const failed = (error: unknown) =>
      current() && this.#attemptFailed('invalid-url', `urlProvider failed: ${describe(error)}`, error);
    let provided: unknown;
    try {
      provided = urlProvider();
    } catch (error) {
      failed(error);
      return;
    }
    if (isPromiseLike(provided)) {
      provided.then(
        (value) => this.#run(() => current() && this.#dial(value)),
        (error) => this.#run(() => failed(error)),
      );
    } else {
      this.#dial(provided);
    }
  }

  #dial(raw: unknown): void {
    const provided = this.#options.urlProvider !== undefined;
    const fail = (kind: ErrorKind, message: string, error?: unknown) =>
      provided ? this.#attemptFailed(kind, message, error) : this.#giveUp(kind, message, error);
    const url = typeof raw === 'string' ? resolveSocketUrl(raw, this.#env.baseUrl()) : undefined;
    if (!url) {
      const shown = typeof raw === 'string' ? `"${redactUrl(raw)}"` : String(raw);
      fail(
        'invalid-url',
        `${shown} is not a ws:, wss:, http: or https: URL, nor a path beginning with /, ./ or ../`,
      );
      return;
    }
    const Socket = this.#env.WebSocket;
    if (!Socket) {
      this.#giveUp('socket-error', 'this environment has no WebSocket: pass one in the environment');
      return;
    }
    this.#log(`connecting to ${redactUrl(url)}`);
    let socket: SocketLike;
    const link = this.#link;
    const protocols = protocolList(this.#options.protocols);
    try {
      socket = new Socket(url, link ? [...protocols, link.subprotocol] : protocols);
    } catch (error) {
      // The constructor refuses a malformed URL or protocol list (SyntaxError)
      // and, in browsers, an insecure ws: from an https: page (SecurityError).
      fail('invalid-url', `cannot open ${redactUrl(url)}: ${describe(error)}`, error);
      return;
    }
    // Frames are read at once; the application's Blobs are made from their bytes.
    socket.binaryType = link ? 'arraybuffer' : this.#options.binaryType;
    // Handlers check identity: a socket that was replaced or dropped is ignored.
    socket.onopen = () => this.#run(() => socket === this.#socket && this.#onOpen());
    socket.onmessage = (event: {data: unknown}) =>
      this.#run(() => socket === this.#socket && this.#onMessage(event.data));
    socket.onerror = (event: unknown) =>
      this.#run(
        () =>
          socket === this.#socket &&
          this.#emitError('socket-error', 'the WebSocket reported an error', event),
      );
    socket.onclose = (event: {code: number; reason: string}) =>
      this.#run(() => socket === this.#socket && this.#onClose(event.code, event.reason));
    this.#socket = socket;
  }

  #onOpen(): void {
    const link = this.#link;
    if (link && this.#socket!.protocol === link.subprotocol) {
      // Open once the server has answered the handshake; the connect timer waits for that too.
      this.#reliableSocket = true;
      link.open();
      return;
    }
    if (link) {
      // The server did not select the subprotocol: this connection is plain, and what the session held goes on it.
      this.#queue.requeue(link.refused(!this.#refusalReported));
      this.#refusalReported = true;
      this.#socket!.binaryType = this.#options.binaryType;
    }
    this.#opened();
    // Renewed subscriptions first, then what waited, before any listener
    // hears of the open, so that nothing sent from a listener overtakes them.
    for (const {data, payload} of [...this.#openMessages(), ...this.#queue.take()])
      this.#transmit(payload, data);
  }

  /** Open: on a plain connection at once, on a reliable one once the session is answered (`resumed` says how). */
  #opened(cause: {resumed?: boolean} = {}): void {
    this.#clearTimer('connect');
    this.#log('open');
    this.#setState(ConnectionState.open, cause);
    this.#heartbeat.start(heartbeatSettings(this.#options));
    this.#setTimer('stable', this.#options.stableAfter, () => (this.#attempt = 0));
  }

  #onMessage(data: unknown): void {
    if (this.#reliableSocket) {
      this.#noteReceived(this.#link!.receive(data));
      return;
    }
    const isPong = data === this.#options.pongMessage;
    this.#noteReceived(isPong);
    if (!isPong) this.#deliver(data);
  }

  /** Anything arrived: the connection is alive; a pong also measures the round trip. */
  #noteReceived(isPong: boolean): void {
    if (isPong) this.#ponged = true;
    const latency = this.#heartbeat.received(isPong);
    if (latency !== undefined) {
      this.#latency = latency;
      this.#emit('latency', {latency});
    }
  }

  #deliver(data: unknown): void {
    const result = fromPayload(data, this.#options.json);
    if ('data' in result) this.#emit('message', result);
    else this.#emitError('parse-error', result.problem, result.error, data);
  }

  /**
   * Why the heartbeat gave up. A server that has never answered one is most
   * likely not answering heartbeats at all, rather than gone: say so, and
   * what to do, here and once on the console.
   */
  #heartbeatTimeoutMessage(): string {
    const {timeout, pingMessage, pongMessage} = this.#options;
    const message = `no reply from the server within ${timeout} ms of a ping`;
    if (this.#ponged) return message;
    const diagnosis =
      `no "${pongMessage}" has arrived on any connection so far: the server seems not to answer ` +
      `heartbeats. Make it answer "${pingMessage}" with "${pongMessage}" (or with anything), or turn ` +
      `heartbeats off: heartbeat-interval="0"`;
    this.#warn(`heartbeat-timeout: ${diagnosis}. See "Your server" in the README.`);
    return `${message}; ${diagnosis}`;
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
    this.#halt(kind, CLOSE_DEAD);
    this.#emitError(kind, message, error);
    this.#scheduleRetry({});
  }

  /** Retrying cannot help (a malformed URL): report it and wait for new options. */
  #giveUp(kind: ErrorKind, message: string, error?: unknown): void {
    this.#halt(kind);
    this.#emitError(kind, message, error);
    this.#setState(ConnectionState.idle);
  }

  #scheduleRetry(cause: Cause): void {
    this.#clearTimers();
    if (this.#offline()) {
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
    this.#setTimer('retry', delay, () => this.#attemptConnection());
    this.#nextRetryAt = this.#env.epochNow() + delay;
    this.#log(`retry ${this.#attempt} in ${delay} ms`);
    this.#setState(ConnectionState.reconnecting, {...cause, delay});
  }

  #enterClosed(cause: Cause): void {
    this.#deactivate();
    // The session ends for good: `end` goes out before the socket closes, and what it held is reported.
    const unsent = this.#link?.end() ?? [];
    this.#link = undefined;
    this.#halt(cause.reason ?? '', cause.code ?? CLOSE_NORMAL);
    this.#dropDeferred(undefined, 'closed', 'the connection was closed');
    this.#queue.requeue(unsent);
    this.#queue.discard(unsent.length ? 'were not sent, or not acknowledged' : undefined);
    this.#setState(ConnectionState.closed, cause);
  }

  #onLifecycle(signal: LifecycleSignal): void {
    if (signal === 'offline') this.#offlineSignalled = true;
    if (signal === 'online') this.#offlineSignalled = false;
    if (!this.#active) return;
    const state = this.#state;
    const live =
      state === ConnectionState.connecting ||
      state === ConnectionState.open ||
      state === ConnectionState.reconnecting;
    if (signal === 'pagehide') {
      // Closed cleanly, so that the page may enter the back/forward cache.
      if (live || state === ConnectionState.offline) {
        this.#suspended = true;
        this.#halt('page hidden');
        this.#setState(ConnectionState.idle);
      }
    } else if (signal === 'offline') {
      // At once, as socket.io and centrifuge do: what is sent now is queued, not written into a dead link.
      if (live) {
        this.#halt('offline');
        this.#setState(ConnectionState.offline);
      }
    } else if (this.#suspended) {
      if (signal !== 'online') {
        this.#suspended = false;
        this.#attemptConnection();
      }
    } else if (state === ConnectionState.open) {
      this.#heartbeat.probe();
    } else if (
      state === ConnectionState.reconnecting ||
      (state === ConnectionState.offline && signal === 'online')
    ) {
      this.#attemptConnection();
    }
  }

  /** Each attempt's own connect timer; `granted` marks the one more `timeout` a late timer earned. */
  #armConnectTimer(granted = false): void {
    const wait = this.#options.timeout;
    this.#connectDueAt = this.#env.now() + wait;
    this.#setTimer('connect', wait, () => {
      if (!granted && this.#env.now() - this.#connectDueAt > LATE_TIMER_SLACK) {
        // The page slept through the attempt; it deserves a fair wait from now, once:
        // in a tab whose timers always run late, every wait would be late.
        this.#armConnectTimer(true);
        return;
      }
      this.#attemptFailed('connect-timeout', `still connecting after ${this.#options.timeout} ms`);
    });
  }

  /** Writes to the socket; `data` is what the caller gave, reported if the socket refuses it. */
  #transmit(payload: unknown, data: unknown = payload): boolean {
    try {
      this.#socket!.send(payload as never);
    } catch (error) {
      this.#emitError('send-failed', `the socket refused a message: ${describe(error)}`, error, data);
      return false;
    }
    this.#heartbeat.sent();
    return true;
  }

  /**
   * Forgets the current socket without closing it (it closed by itself), and
   * its heartbeat. Its handlers stay: they check identity and ignore a socket
   * that is not the current one, and the `ws` package throws on an error with
   * no listener. The callers clear the timers.
   */
  #detach(): void {
    this.#socket = undefined;
    this.#heartbeat.stop();
    if (this.#reliableSocket) this.#link?.disconnected();
    this.#reliableSocket = false;
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
    const handle = this.#env.setTimeout(
      () =>
        this.#run(() => {
          this.#clearTimer(name);
          callback();
        }),
      wait,
    );
    this.#timers.set(name, handle);
  }

  #clearTimer(name: TimerName): void {
    if (this.#timers.has(name)) this.#env.clearTimeout(this.#timers.get(name));
    this.#timers.delete(name);
    if (name === 'retry') this.#nextRetryAt = undefined;
  }

  #clearTimers(): void {
    for (const name of [...this.#timers.keys()]) this.#clearTimer(name);
  }

  /** The one way the state changes; its event waits in the outbox until the change is complete. */
  #setState(state: ConnectionState, cause: Cause & {delay?: number; resumed?: boolean} = {}): void {
    const previousState = this.#state;
    if (state === previousState) return;
    this.#state = state;
    this.#log(`${previousState} → ${state}`);
    this.#emit('state', {state, previousState, attempt: this.#attempt, ...cause});
  }

  #emitError(kind: ErrorKind, message: string, error?: unknown, data?: unknown): void {
    this.#reportError(errorDetail(kind, message, {error, data}));
  }

  #reportError(detail: ErrorDetail): void {
    this.#log(`${detail.kind}: ${detail.message}`);
    this.#emit('error', detail);
  }

  #emit<K extends keyof WsClientEventMap>(type: K, detail: WsClientEventMap[K]): void {
    this.#events.emit(type, detail);
  }

  #log(line: string): void {
    const {debug} = this.#options;
    if (debug === true) console.debug(`[ws-connection] ${line}`);
    else if (debug) debug(line);
  }
}

function heartbeatSettings({heartbeatInterval, timeout}: ResolvedOptions) {
  return {interval: heartbeatInterval, timeout};
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === 'function';
}
