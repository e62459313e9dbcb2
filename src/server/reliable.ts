/// <reference types="node" />
/**
 * The server's half of `reliable` delivery (docs/PROTOCOL.md) for a
 * `WebSocketServer` of the `ws` package: sessions that outlive connections,
 * with acknowledged messages both ways, replay on resume, and requests.
 *
 * The protocol's bookkeeping is `src/protocol`'s, shared with the client;
 * this module adds sockets, timers and the store. As `keepAlive` does, it
 * uses the server and its sockets through a few methods only, so `ws` is not
 * imported here.
 */
import {createHash, randomFillSync} from 'node:crypto';
import {EventEmitter} from 'node:events';
import {
  constantTimeEqual,
  DEFAULT_MAX_FRAME,
  type EndpointEvent,
  newToken,
  type Output,
  type Payload,
  readFirstFrame,
  type SendResult,
  ServerEndpoint,
  SUBPROTOCOL,
  type Wire,
} from '../protocol/index.js';
import {
  checkOptions,
  checkServer,
  KEEP_ALIVE_DEFAULTS,
  type KeepAlive,
  type KeepAliveOptions,
  type KeepAliveServer,
  type KeepAliveSocket,
  watch,
} from './keep-alive.js';
import {
  MemoryStore,
  type SessionChange,
  type SessionStore,
  type StoredMessage,
  type StoredSession,
  type UpdateResult,
} from './store.js';

/** What `reliable` needs of a `ws` WebSocket, beyond what `keepAlive` does. */
export interface ReliableSocket extends KeepAliveSocket {
  readonly protocol: string;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  on(event: 'message', listener: (data: unknown, isBinary?: boolean) => void): unknown;
  on(event: 'pong' | 'close' | 'error', listener: () => void): unknown;
}

/** What `reliable` needs of a `ws` WebSocketServer. */
export interface ReliableServerLike extends KeepAliveServer<ReliableSocket> {
  /** The server's options, whose `handleProtocols` `reliable` wraps so that it selects the subprotocol. */
  options?: {handleProtocols?: HandleProtocols | null};
}

/** The `handleProtocols` option of a `ws` WebSocketServer. */
export type HandleProtocols = (protocols: Set<string>, request: unknown) => string | false;

export interface ReliableOptions extends KeepAliveOptions {
  /** ms a session waits for its client to come back after its connection is gone. Default 120000. */
  resumeWindow: number;
  /**
   * Messages to a client it has not acknowledged, at most, per session.
   * Beyond it `session.send()` and `reply()` return false and keep nothing:
   * memory stays bounded however long a client fails to acknowledge. Default 10000.
   */
  bufferLimit: number;
  /** Their bytes at most, with the same rule. Default 8 MiB. */
  bufferBytes: number;
  /** The largest frame, in bytes, either side may send; larger ones are refused (sending) or closed with 1009 (receiving). Default 1 MiB. */
  maxFrame: number;
  /** Where sessions are kept between connections. Default: a new {@link MemoryStore}. */
  store: SessionStore;
}

/** What a session's `message` and `request` listeners get: text as a string, binary as a Buffer. */
export type SessionData = string | Buffer;

/** What a session can send: text, or bytes. */
export type SendableData = string | ArrayBuffer | ArrayBufferView;

/** Answers one request, once; later calls return false. */
export interface Reply {
  /** Answers with data; false when the session ended, the buffer is full, or it was answered already. */
  (data: SendableData): boolean;
  /** Answers with an error the client's `request()` rejects with. */
  error(message: string): boolean;
}

/** The events of a {@link ReliableSession}. */
export interface ReliableSessionEvents {
  /** A message from the client, delivered once and in order. */
  message: [data: SessionData];
  /** A request from the client; answer it with `reply(data)` or `reply.error(message)`. */
  request: [data: SessionData, reply: Reply];
  /** The session ended for good: the client ended it, its resume window passed, or `close()` was called. Once. */
  close: [];
  /**
   * Another server process sharing the store took the session (its client
   * resumed there): this object is finished, and `send()` returns false from
   * now on; the session lives on in the other process. `unsent` holds what
   * this object accepted after the other took it, before that was known: it
   * is not delivered, for the application to pass to the other process.
   */
  moved: [unsent: SessionData[]];
}

/** One client's session, which outlives its connections for `resumeWindow`. */
export interface ReliableSession extends EventEmitter<ReliableSessionEvents> {
  /** The session id (not secret: the resume token is). */
  readonly id: string;
  /** Whether a connection holds the session now. */
  readonly connected: boolean;
  /** Messages to the client it has not acknowledged. */
  readonly queued: number;
  /**
   * Sends a message to the client, exactly once and in order: now if it is
   * connected, else when it resumes. False when the session ended, the
   * message is larger than `maxFrame`, or `bufferLimit`/`bufferBytes` is reached.
   */
  send(data: SendableData): boolean;
  /** Ends the session for good: the client is told (`end`), and `close` fires. */
  close(): void;
}

/** The events of what {@link reliable} returns. */
export interface ReliableEvents {
  /** A new session (or one this process takes on from a shared store); attach its listeners here. */
  session: [session: ReliableSession];
  /** The store failed; the connection concerned was closed with 1011 and the client will resume. */
  error: [error: unknown];
}

/** What {@link reliable} returns: the sessions, their events, and `stop()`. */
export interface Reliable extends EventEmitter<ReliableEvents> {
  /** The sessions this process holds, by id, connected or waiting for their client. */
  readonly sessions: ReadonlyMap<string, ReliableSession>;
  /** True for a plain (not reliable) connection's message equal to `pingMessage`, as `keepAlive`'s. */
  isHeartbeat(data: unknown, isBinary?: boolean): boolean;
  /**
   * Stops it all: closes the reliable connections with 1001, clears every
   * timer, forgets the sessions in this process without `close` (a shared
   * store keeps them), and gives back the server's `handleProtocols`.
   */
  stop(): void;
}

export const RELIABLE_DEFAULTS: Readonly<Omit<ReliableOptions, 'store'>> = Object.freeze({
  ...KEEP_ALIVE_DEFAULTS,
  resumeWindow: 120_000,
  bufferLimit: 10_000,
  bufferBytes: 8 << 20,
  maxFrame: DEFAULT_MAX_FRAME,
});

const OPEN = 1;
const GOING_AWAY = 1001;
const INTERNAL_ERROR = 1011;
const POLICY_VIOLATION = 1008;
const MAX_DELAY = 2_147_483_647;

const random = (bytes: Uint8Array) => randomFillSync(bytes);
const hashToken = (token: string) => createHash('sha256').update(token).digest();
const monotonic = () => performance.now();

/**
 * Makes a `ws` `WebSocketServer` speak the delivery protocol on every
 * connection that selected `ws-connection.reliable.v1`, and includes
 * {@link keepAlive} for every connection. Connections without the
 * subprotocol are left as they are: plain.
 *
 * It wraps the server's `handleProtocols` so that a client offering the
 * subprotocol gets it (a connection selects one subprotocol only, so that
 * client's other offers are not selected); other offers go to the server's
 * own `handleProtocols`, or to ws's default (the first offered).
 *
 * Returns an event emitter: `session` for each new session. `stop()` stops
 * it all; closing the server stops it too. Throws a `TypeError` for options
 * it cannot use.
 *
 * @example
 * const wss = new WebSocketServer({port: 8080});
 * const server = reliable(wss, {resumeWindow: 60_000});
 * server.on('session', (session) => {
 *   session.send('welcome');
 *   session.on('message', (data) => session.send(`echo ${data}`));
 *   session.on('request', (data, reply) => reply(JSON.stringify({ok: true})));
 *   session.on('close', () => console.log(`session ${session.id} ended`));
 * });
 */
export function reliable(server: ReliableServerLike, options: Partial<ReliableOptions> = {}): Reliable {
  checkServer(server);
  const resolved = checkReliableOptions(options);
  return new ReliableServer(server, resolved);
}

class ReliableServer extends EventEmitter<ReliableEvents> implements Reliable {
  readonly #server: ReliableServerLike;
  readonly #options: ReliableOptions;
  readonly #keepAlive: KeepAlive;
  readonly #sessions = new Map<string, Session>();
  readonly #connections = new Set<Connection>();
  /** Sessions being loaded from the store, so that two resumes of one session load it once. */
  readonly #loading = new Map<string, Promise<Session | undefined>>();
  readonly #handleProtocols: HandleProtocols | null | undefined;
  /** What every session tells the server: one object for all of them, as a server may keep many idle. */
  readonly #sessionHooks: SessionHooks = {
    ended: (session) => {
      if (this.#sessions.get(session.id) === session) this.#sessions.delete(session.id);
    },
    failed: (error) => this.#report(error),
  };
  #stopped = false;

  constructor(server: ReliableServerLike, options: ReliableOptions) {
    super();
    this.#server = server;
    this.#options = options;
    const {interval, timeout, pingMessage, pongMessage} = options;
    this.#keepAlive = watch(
      server,
      {interval, timeout, pingMessage, pongMessage},
      (socket) => socket.protocol !== SUBPROTOCOL,
    );
    const serverOptions = server.options;
    this.#handleProtocols = serverOptions?.handleProtocols;
    if (serverOptions) {
      const own = this.#handleProtocols;
      serverOptions.handleProtocols = (protocols, request) => {
        if (protocols.has(SUBPROTOCOL)) return SUBPROTOCOL;
        if (own) return own(protocols, request);
        return protocols.values().next().value ?? false;
      };
    }
    for (const socket of server.clients) this.#accept(socket);
    server.on('connection', this.#accept);
    server.on('close', this.stop);
  }

  get sessions(): ReadonlyMap<string, ReliableSession> {
    return this.#sessions;
  }

  isHeartbeat(data: unknown, isBinary?: boolean): boolean {
    return this.#keepAlive.isHeartbeat(data, isBinary);
  }

  stop = (): void => {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#keepAlive();
    this.#server.off('connection', this.#accept);
    this.#server.off('close', this.stop);
    if (this.#server.options) this.#server.options.handleProtocols = this.#handleProtocols ?? null;
    for (const connection of [...this.#connections]) connection.close(GOING_AWAY, 'server stopping');
    for (const session of [...this.#sessions.values()]) session.forget();
    this.#sessions.clear();
  };

  #accept = (socket: ReliableSocket): void => {
    if (this.#stopped || socket.protocol !== SUBPROTOCOL || socket.readyState !== OPEN) return;
    const connection = new Connection(socket, this.#options.timeout, {
      first: (frame) => this.#handshake(connection, frame),
      gone: () => this.#connections.delete(connection),
    });
    this.#connections.add(connection);
  };

  /** The connection's first frame was `hello` or `resume`: bind it to a session, new or carried on. */
  async #handshake(
    connection: Connection,
    frame: {type: 'hello'} | {type: 'resume'; session: string; token: string; ack: number},
  ): Promise<void> {
    try {
      if (frame.type === 'resume') {
        const session = await this.#find(frame.session);
        if (this.#stopped || connection.isClosed) return;
        if (
          session &&
          constantTimeEqual(hashToken(frame.token), Buffer.from(session.tokenHash, 'base64url'))
        ) {
          session.resume(connection, frame.ack);
          return;
        }
      }
      await this.#start(connection, frame.type === 'resume');
    } catch (error) {
      connection.close(INTERNAL_ERROR, 'session store unavailable');
      this.#report(error);
    }
  }

  /** A new session on `connection`; `refused`: it answers a resume the server could not accept. */
  async #start(connection: Connection, refused: boolean): Promise<void> {
    const id = newToken(random);
    const token = newToken(random);
    const tokenHash = hashToken(token).toString('base64url');
    const holder = newToken(random);
    const record: StoredSession = {
      id,
      tokenHash,
      createdAt: Date.now(),
      expiresAt: undefined,
      lastSent: 0,
      acked: 0,
      received: 0,
      messages: [],
      holder,
    };
    await this.#options.store.create(record);
    if (this.#stopped || connection.isClosed) {
      // The client went before it had the token, so it cannot resume: nobody will want the session.
      await this.#options.store.delete(id);
      return;
    }
    const session = this.#adopt(record, holder);
    session.welcome(connection, token, refused);
    this.emit('session', session);
  }

  /** The session `id` to resume, as the store holds it, or undefined. Two resumes of one session load it once. */
  async #find(id: string): Promise<Session | undefined> {
    let loading = this.#loading.get(id);
    if (!loading) {
      loading = this.#load(id);
      this.#loading.set(id, loading);
      loading.finally(() => this.#loading.delete(id)).catch(() => {});
    }
    return loading;
  }

  /**
   * The live session, if this process still holds it; else the store's, taken
   * on here (another process made or held it since: a live one here is stale).
   */
  async #load(id: string): Promise<Session | undefined> {
    await this.#sessions.get(id)?.settled();
    const record = await this.#options.store.load(id);
    if (!record || this.#stopped) return undefined;
    const live = this.#sessions.get(id);
    // A store that keeps no holder serves one process: its live session is current.
    if (live && (record.holder === undefined || record.holder === live.holder)) return live;
    live?.moved();
    const session = this.#adopt(record, newToken(random), true);
    this.emit('session', session);
    return session;
  }

  /** A session object for `record`, held as `holder`; `claim`: it takes the session from whoever held it. */
  #adopt(record: StoredSession, holder: string, claim = false): Session {
    const session = new Session(record, holder, claim, this.#options, this.#sessionHooks);
    this.#sessions.set(record.id, session);
    return session;
  }

  #report(error: unknown): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
    else console.warn('[ws-connection] reliable: the session store failed:', error);
  }
}

/**
 * One reliable connection: reads its first frame, answers pings while the
 * session is found, then hands every frame to its session.
 */
class Connection {
  readonly socket: ReliableSocket;
  #session: Session | undefined;
  #closed = false;
  #handshaking = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #hooks: {first: (frame: FirstFrameOf) => void; gone: () => void};
  readonly #onMessage = (data: unknown, isBinary?: boolean) => this.#receive(toWire(data, isBinary));
  readonly #onClose = () => this.#gone();

  constructor(
    socket: ReliableSocket,
    timeout: number,
    hooks: {first: (frame: FirstFrameOf) => void; gone: () => void},
  ) {
    this.socket = socket;
    this.#hooks = hooks;
    socket.on('message', this.#onMessage);
    socket.on('close', this.#onClose);
    socket.on('error', this.#onClose);
    this.#timer = setTimeout(() => this.close(1002, 'no hello or resume in time'), timeout);
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  /** The session this connection now carries. */
  bind(session: Session): void {
    this.#session = session;
    this.#handshaking = false;
  }

  /** Writes frames while the socket is open. */
  write(frames: readonly Wire[]): void {
    if (this.#closed || this.socket.readyState !== OPEN) return;
    for (const frame of frames) {
      try {
        this.socket.send(frame);
      } catch {
        // Closing at this very moment: its close event follows.
        return;
      }
    }
  }

  /** Closes the socket (with a code, or at once without one) and lets its session know. */
  close(code?: number, reason?: string): void {
    if (this.#closed) return;
    try {
      if (code === undefined) this.socket.terminate();
      else this.socket.close(code, reason);
    } catch {
      this.socket.terminate();
    }
    this.#gone();
  }

  #receive(raw: Wire): void {
    if (this.#closed) return;
    if (this.#session) return this.#session.receive(this, raw);
    const first = readFirstFrame(raw);
    if (!first.ok) return this.close(first.code, first.reason);
    if (first.frame.type === 'ping') return this.write(['o']);
    if (this.#handshaking) return this.close(1002, `${first.frame.type} before the answer to the first`);
    this.#handshaking = true;
    clearTimeout(this.#timer);
    this.#hooks.first(first.frame);
  }

  #gone(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.socket.off('message', this.#onMessage);
    this.socket.off('close', this.#onClose);
    this.socket.off('error', this.#onClose);
    this.#hooks.gone();
    this.#session?.detached(this);
  }
}

/** The store's next change for a session, gathered while the previous one is stored. */
interface PendingChange {
  append: StoredMessage[];
  claim?: boolean;
  acked?: number;
  received?: number;
  expiresAt?: number | null;
}

type FirstFrameOf = {type: 'hello'} | {type: 'resume'; session: string; token: string; ack: number};

/** A session: its endpoint, its connection (when one holds it), its store entry and its timers. */
/** A session's word to its server: it ended (or moved), or the store failed. */
interface SessionHooks {
  ended(session: Session): void;
  failed(error: unknown): void;
}

class Session extends EventEmitter<ReliableSessionEvents> implements ReliableSession {
  readonly id: string;
  readonly tokenHash: string;
  /** This object's id as the store's holder of the session. */
  readonly holder: string;
  readonly #endpoint: ServerEndpoint;
  readonly #options: ReliableOptions;
  readonly #hooks: SessionHooks;
  #connection: Connection | undefined;
  #ended = false;
  #expiry: ReturnType<typeof setTimeout> | undefined;
  #ackTimer: ReturnType<typeof setTimeout> | undefined;
  #ackDue = Infinity;
  /** The change the store has not been given yet. */
  #change: PendingChange | undefined;
  #storing = false;
  /** Who waits for the store to have every change made so far. */
  #settling: (() => void)[] = [];

  constructor(
    record: StoredSession,
    holder: string,
    claim: boolean,
    options: ReliableOptions,
    hooks: SessionHooks,
  ) {
    super();
    this.id = record.id;
    this.tokenHash = record.tokenHash;
    this.holder = holder;
    // Taken from another holder: the first change stored claims it.
    if (claim) this.#change = {append: [], claim: true};
    this.#options = options;
    this.#hooks = hooks;
    this.#endpoint = new ServerEndpoint({
      session: record.id,
      gated: true,
      maxUnacked: options.bufferLimit,
      maxUnackedBytes: options.bufferBytes,
      maxFrame: options.maxFrame,
      restore: {
        outbox: {lastSeq: record.lastSent, acked: record.acked, messages: record.messages},
        received: record.received,
      },
    });
  }

  get connected(): boolean {
    return this.#connection !== undefined;
  }

  get queued(): number {
    return this.#endpoint.queued;
  }

  send(data: SendableData): boolean {
    const payload = toPayload(data);
    if (payload === undefined || this.#ended) return false;
    return this.#sent(this.#endpoint.send(payload));
  }

  close(): void {
    if (this.#ended) return;
    const connection = this.#connection;
    connection?.write(this.#endpoint.end().frames);
    this.#end();
    connection?.close(1000, 'session ended');
  }

  /** A new session's first connection. */
  welcome(connection: Connection, token: string, refused: boolean): void {
    this.#attach(connection);
    connection.write(this.#endpoint.welcome(token, this.#options.resumeWindow, refused).frames);
  }

  /** A connection resumed this session; the client has everything up to `ack`. */
  resume(connection: Connection, ack: number): void {
    if (this.#ended) return;
    const previous = this.#connection;
    if (previous) {
      this.#connection = undefined;
      this.#endpoint.disconnected();
      previous.close(POLICY_VIOLATION, 'session resumed on another connection');
    }
    this.#attach(connection);
    const out = this.#endpoint.resume(ack);
    this.#apply(connection, out);
  }

  /** A frame from the session's connection. */
  receive(connection: Connection, raw: Wire): void {
    if (connection !== this.#connection) return;
    this.#apply(connection, this.#endpoint.receive(raw, monotonic()));
  }

  /** The connection is gone: the resume window starts. */
  detached(connection: Connection): void {
    if (this.#ended || connection !== this.#connection) return;
    this.#connection = undefined;
    this.#endpoint.disconnected();
    clearTimeout(this.#ackTimer);
    this.#ackTimer = undefined;
    this.#ackDue = Infinity;
    const window = this.#options.resumeWindow;
    clearTimeout(this.#expiry);
    this.#expiry = setTimeout(() => void this.#expire(), window);
    this.#store((change) => (change.expiresAt = Date.now() + window));
  }

  /** The process stops: timers cleared, nothing said to the application or the store. */
  forget(): void {
    this.#ended = true;
    clearTimeout(this.#expiry);
    clearTimeout(this.#ackTimer);
    this.#connection = undefined;
  }

  /** Resolves once the store holds every change made so far (or failed to). */
  settled(): Promise<void> {
    if (!this.#storing) return Promise.resolve();
    return new Promise((resolve) => this.#settling.push(resolve));
  }

  /**
   * Another holder took the session: this object lets it go, without
   * touching the store. `refused`: messages of a change the store refused.
   */
  moved(refused: readonly StoredMessage[] = []): void {
    if (this.#ended) return;
    const connection = this.#connection;
    const unsent = [...refused, ...(this.#change?.append ?? [])].map((message) =>
      toSessionData(message.data),
    );
    this.forget();
    this.#hooks.ended(this);
    connection?.close(POLICY_VIOLATION, 'session resumed on another connection');
    this.emit('moved', unsent);
  }

  /** The resume window passed with no connection: the session ends, unless another process took it. */
  async #expire(): Promise<void> {
    this.#expiry = undefined;
    let result: UpdateResult | void = 'applied';
    try {
      result = await this.#options.store.update(this.id, {holder: this.holder});
    } catch (error) {
      this.#hooks.failed(error);
    }
    if (this.#ended || this.#connection) return;
    if (result === 'moved') this.moved();
    else this.#end();
  }

  #attach(connection: Connection): void {
    clearTimeout(this.#expiry);
    this.#expiry = undefined;
    this.#connection = connection;
    connection.bind(this);
    this.#store((change) => (change.expiresAt = null));
  }

  /** Writes an endpoint's frames and acts on its events. */
  #apply(connection: Connection, out: Output): void {
    connection.write(out.frames);
    let received = false;
    for (const event of out.events) {
      if (event.type === 'message' || event.type === 'request') received = true;
      this.#event(connection, event);
      if (this.#ended) return;
    }
    if (received) {
      const mark = this.#endpoint.received;
      this.#store((change) => (change.received = mark));
    }
    this.#scheduleAck();
  }

  #event(connection: Connection, event: EndpointEvent): void {
    switch (event.type) {
      case 'message':
        this.#deliver('message', toSessionData(event.data));
        return;
      case 'request':
        return this.#request(event.id, toSessionData(event.data));
      case 'acknowledged':
        this.#store((change) => (change.acked = event.upTo));
        return;
      case 'ended':
        this.#end();
        connection.close(1000, 'session ended');
        return;
      case 'protocol-error':
        connection.close(event.code, event.reason);
        return;
      default:
        // duplicate: dropped, as the protocol says; pong: the server sends no pings of its own.
        return;
    }
  }

  #request(id: number, data: SessionData): void {
    let answered = false;
    const answer = (result: () => SendResult) => {
      if (answered || this.#ended) return false;
      const accepted = this.#sent(result());
      answered = accepted;
      return accepted;
    };
    const reply: Reply = Object.assign(
      (value: SendableData) => {
        const payload = toPayload(value);
        return payload !== undefined && answer(() => this.#endpoint.reply(id, payload));
      },
      {error: (message: string) => answer(() => this.#endpoint.replyError(id, String(message)))},
    );
    if (this.listenerCount('request') === 0) {
      reply.error('no handler for requests');
      return;
    }
    if (!this.#deliver('request', data, reply) && !answered)
      reply.error('the server failed to handle the request');
  }

  /** Emits to the application; a listener's error is thrown again later, as Node would, with the session consistent. */
  #deliver<K extends 'message' | 'request'>(type: K, ...args: ReliableSessionEvents[K]): boolean {
    try {
      (this.emit as (type: K, ...args: ReliableSessionEvents[K]) => boolean)(type, ...args);
      return true;
    } catch (error) {
      setImmediate(() => {
        throw error;
      });
      return false;
    }
  }

  /** A message the endpoint accepted goes to the store; it goes on the wire once the store has it. */
  #sent(result: SendResult): boolean {
    if (!result.accepted) return false;
    const {message} = result;
    this.#store((change) => change.append.push(message));
    return true;
  }

  /**
   * Adds to the store's next change, and sends changes one at a time: while
   * one is being stored, the next gathers everything that happens meanwhile.
   * After each, what it made safe goes out: messages, and the ack.
   */
  #store(edit: (change: PendingChange) => void): void {
    if (this.#ended) return;
    this.#change ??= {append: []};
    edit(this.#change);
    if (!this.#storing) void this.#flush();
  }

  async #flush(): Promise<void> {
    this.#storing = true;
    try {
      while (this.#change && !this.#ended) {
        const change = this.#change;
        this.#change = undefined;
        // What this change makes safe: its messages, and its mark (earlier ones were stored before).
        const sent = change.append.length ? change.append[change.append.length - 1].seq : 0;
        const received = change.received ?? 0;
        let result: UpdateResult | void;
        try {
          result = await this.#options.store.update(this.id, compact(change, this.holder));
        } catch (error) {
          // Nothing it held is released: merged back, it is tried again with the next change.
          this.#change = merge(change, this.#change);
          this.#hooks.failed(error);
          this.#connection?.close(INTERNAL_ERROR, 'session store unavailable');
          return;
        }
        if (this.#ended) return;
        if (result === 'moved') return this.moved(change.append);
        if (result === 'gone') {
          // The store lost it: what it did not hold cannot be promised, so the session ends.
          const connection = this.#connection;
          this.#end();
          connection?.close(INTERNAL_ERROR, 'session lost by the store');
          return;
        }
        const connection = this.#connection;
        const out = this.#endpoint.stored(sent, received, monotonic());
        if (connection) connection.write(out.frames);
        this.#scheduleAck();
      }
    } finally {
      this.#storing = false;
      for (const resolve of this.#settling.splice(0)) resolve();
    }
  }

  #scheduleAck(): void {
    const deadline = this.#endpoint.nextDeadline();
    if (deadline === undefined || !this.#connection) return;
    if (this.#ackTimer !== undefined && this.#ackDue <= deadline) return;
    clearTimeout(this.#ackTimer);
    this.#ackDue = deadline;
    this.#ackTimer = setTimeout(
      () => {
        this.#ackTimer = undefined;
        this.#ackDue = Infinity;
        const connection = this.#connection;
        if (!connection || this.#ended) return;
        connection.write(this.#endpoint.tick(monotonic()).frames);
        this.#scheduleAck();
      },
      Math.max(0, Math.min(MAX_DELAY, deadline - monotonic())),
    );
  }

  /** The session ends for good: once, `close`. */
  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    clearTimeout(this.#expiry);
    clearTimeout(this.#ackTimer);
    this.#connection = undefined;
    this.#hooks.ended(this);
    this.#options.store.delete(this.id, this.holder).catch((error) => this.#hooks.failed(error));
    this.emit('close');
  }
}

function compact(change: PendingChange, holder: string): SessionChange {
  const result: {-readonly [K in keyof SessionChange]: SessionChange[K]} = {holder};
  if (change.claim) result.claim = true;
  if (change.append.length) result.append = change.append;
  if (change.acked !== undefined) result.acked = change.acked;
  if (change.received !== undefined) result.received = change.received;
  if (change.expiresAt !== undefined) result.expiresAt = change.expiresAt;
  return result;
}

function merge(earlier: PendingChange, later: PendingChange | undefined): PendingChange {
  if (!later) return earlier;
  return {
    append: [...earlier.append, ...later.append],
    claim: earlier.claim || later.claim,
    acked: later.acked ?? earlier.acked,
    received: later.received ?? earlier.received,
    expiresAt: later.expiresAt !== undefined ? later.expiresAt : earlier.expiresAt,
  };
}

/** A message as `ws` hands it over: text as a string, binary as bytes. */
function toWire(data: unknown, isBinary?: boolean): Wire {
  const bytes = Array.isArray(data)
    ? Buffer.concat(data as Uint8Array[])
    : data instanceof ArrayBuffer
      ? Buffer.from(data)
      : Buffer.isBuffer(data)
        ? data
        : ArrayBuffer.isView(data)
          ? Buffer.from(data.buffer, data.byteOffset, data.byteLength)
          : Buffer.from(String(data));
  return isBinary ? bytes : bytes.toString('utf8');
}

/** What the application sends, as the protocol carries it: binary data is copied, as it is kept for a replay. */
function toPayload(data: SendableData): Payload | undefined {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data.slice(0));
  if (ArrayBuffer.isView(data))
    return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  return undefined;
}

function toSessionData(data: Payload): SessionData {
  if (typeof data === 'string') return data;
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

function checkReliableOptions(options: Partial<ReliableOptions>): ReliableOptions {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`reliable(server, options): options must be an object, not ${String(options)}`);
  }
  const names = [...Object.keys(RELIABLE_DEFAULTS), 'store'];
  for (const name of Object.keys(options)) {
    if (!names.includes(name)) {
      throw new TypeError(`reliable: unknown option "${name}"; the options are ${names.join(', ')}`);
    }
  }
  const {resumeWindow, bufferLimit, bufferBytes, maxFrame, store, ...keep} = options;
  const keepAlive = checkOptions(keep, 'reliable');
  const resolved = {
    ...keepAlive,
    resumeWindow: resumeWindow ?? RELIABLE_DEFAULTS.resumeWindow,
    bufferLimit: bufferLimit ?? RELIABLE_DEFAULTS.bufferLimit,
    bufferBytes: bufferBytes ?? RELIABLE_DEFAULTS.bufferBytes,
    maxFrame: maxFrame ?? RELIABLE_DEFAULTS.maxFrame,
    store: store ?? new MemoryStore(),
  };
  const isCount = (value: unknown, min: number, max: number) =>
    typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
  const checks: [keyof ReliableOptions, number, number, string][] = [
    ['resumeWindow', 0, MAX_DELAY, 'ms'],
    ['bufferLimit', 1, Number.MAX_SAFE_INTEGER, 'messages'],
    ['bufferBytes', 1, Number.MAX_SAFE_INTEGER, 'bytes'],
    ['maxFrame', 64, Number.MAX_SAFE_INTEGER, 'bytes'],
  ];
  for (const [name, min, max, unit] of checks) {
    const value = resolved[name];
    if (!isCount(value, min, max)) {
      throw new TypeError(
        `reliable: ${name} must be a whole number of ${unit} from ${min} up to ${max}, not ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`,
      );
    }
  }
  const candidate = resolved.store as Partial<SessionStore> | null;
  if (
    candidate === null ||
    typeof candidate !== 'object' ||
    !(['create', 'load', 'update', 'delete'] as const).every(
      (method) => typeof candidate[method] === 'function',
    )
  ) {
    throw new TypeError('reliable: store must have create, load, update and delete methods (a SessionStore)');
  }
  return resolved;
}
