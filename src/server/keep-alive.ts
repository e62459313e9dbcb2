/**
 * The server's half of the heartbeat, for a `WebSocketServer` of the `ws`
 * package: it answers the element's `ping` with `pong`, and lets go of
 * clients that stopped answering protocol-level pings (half-open: the
 * network went, and no close will ever come).
 *
 * It uses the server and its sockets only through the few methods below, so
 * `ws` is not imported here: it stays the application's own dependency.
 */

/** What `keepAlive` needs of a `ws` WebSocket. */
export interface KeepAliveSocket {
  readonly readyState: number;
  /** The subprotocol the connection selected (`ws` sets it; `''` for none). */
  readonly protocol?: string;
  send(data: string): void;
  ping(): void;
  terminate(): void;
  on(event: 'message', listener: (data: unknown, isBinary?: boolean) => void): unknown;
  on(event: 'pong' | 'close', listener: () => void): unknown;
  off(event: string, listener: (...args: never[]) => void): unknown;
}

/** What `keepAlive` needs of a `ws` WebSocketServer. */
export interface KeepAliveServer<Socket extends KeepAliveSocket = KeepAliveSocket> {
  readonly clients: Iterable<Socket>;
  on(event: 'connection', listener: (socket: Socket) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  off(event: string, listener: (...args: never[]) => void): unknown;
}

export interface KeepAliveOptions {
  /** ms between protocol-level pings to each client; `0` sends none. Default 30000. */
  interval: number;
  /** ms a client has to answer a ping (or send anything) before it is terminated. Default 10000. */
  timeout: number;
  /** The element's heartbeat message, answered with `pongMessage`. Default `'ping'`. */
  pingMessage: string;
  /** The answer. Default `'pong'`. */
  pongMessage: string;
}

/** Stops what `keepAlive` started; `isHeartbeat` tells the element's pings from the application's messages. */
export interface KeepAlive {
  (): void;
  /** True for a message equal to `pingMessage` (a string, or `ws` message data as it arrives, not binary). */
  isHeartbeat(data: unknown, isBinary?: boolean): boolean;
}

export const KEEP_ALIVE_DEFAULTS: Readonly<KeepAliveOptions> = Object.freeze({
  interval: 30_000,
  timeout: 10_000,
  pingMessage: 'ping',
  pongMessage: 'pong',
});

/** The most a timer can wait (2^31 - 1 ms): longer delays fire at once. */
const MAX_DELAY = 2_147_483_647;
const OPEN = 1;

/**
 * Keeps a `ws` server's connections honest in both directions:
 *
 * - answers every text message equal to `pingMessage` with `pongMessage`,
 *   on the same connection, so the element's heartbeat is answered;
 * - every `interval`, sends each client a protocol-level ping (browsers
 *   answer them by themselves), and terminates a client that has neither
 *   answered nor sent anything within `timeout` of it.
 *
 * Covers connections accepted before and after the call. Returns a function
 * that stops all of it and leaves no timer behind; closing the server stops
 * it too. Throws a `TypeError` for options it cannot use.
 *
 * @example
 * const wss = new WebSocketServer({port: 8080});
 * const keep = keepAlive(wss);
 * wss.on('connection', (ws) =>
 *   ws.on('message', (data, isBinary) => {
 *     if (keep.isHeartbeat(data, isBinary)) return;
 *     // the application's own messages
 *   }),
 * );
 */
export function keepAlive<Socket extends KeepAliveSocket>(
  server: KeepAliveServer<Socket>,
  options: Partial<KeepAliveOptions> = {},
): KeepAlive {
  checkServer(server);
  return watch(server, checkOptions(options), () => true);
}

/**
 * {@link keepAlive} with checked options, answering the text ping only on
 * connections `answersPing` picks: `reliable()` answers its own protocol's
 * pings, and an application's text that equals `ping` is not one there.
 */
export function watch<Socket extends KeepAliveSocket>(
  server: KeepAliveServer<Socket>,
  {interval, timeout, pingMessage, pongMessage}: KeepAliveOptions,
  answersPing: (socket: Socket) => boolean,
): KeepAlive {
  const ping = bytes(pingMessage);
  const isHeartbeat = (data: unknown, isBinary = false) => !isBinary && equals(data, pingMessage, ping);

  /**
   * Per socket: the first ping round it has not answered since it was last
   * heard from (undefined: heard since), and how to let it go.
   */
  const watched = new Map<Socket, {unanswered: number | undefined; forget: () => void}>();

  const track = (socket: Socket) => {
    if (watched.has(socket)) return;
    const state = {unanswered: undefined as number | undefined, forget: () => {}};
    const answers = answersPing(socket);
    const onMessage = (data: unknown, isBinary?: boolean) => {
      state.unanswered = undefined;
      if (answers && isHeartbeat(data, isBinary) && socket.readyState === OPEN) socket.send(pongMessage);
    };
    const onPong = () => (state.unanswered = undefined);
    const onClose = () => state.forget();
    state.forget = () => {
      socket.off('message', onMessage);
      socket.off('pong', onPong);
      socket.off('close', onClose);
      watched.delete(socket);
    };
    socket.on('message', onMessage);
    socket.on('pong', onPong);
    socket.on('close', onClose);
    watched.set(socket, state);
  };

  // Each round pings every client, and `timeout` later terminates those
  // that have not been heard from since that round (or an earlier one).
  // With a timeout longer than the interval, several rounds are pending.
  let round = 0;
  const deadlines = new Set<ReturnType<typeof setTimeout>>();
  const pingAll = () => {
    const thisRound = ++round;
    for (const [socket, state] of watched) {
      if (socket.readyState !== OPEN) continue;
      state.unanswered ??= thisRound;
      try {
        socket.ping();
      } catch {
        // Closing at this very moment: its close will follow.
      }
    }
    const deadline = setTimeout(() => {
      deadlines.delete(deadline);
      for (const [socket, state] of [...watched]) {
        if (state.unanswered !== undefined && state.unanswered <= thisRound && socket.readyState === OPEN) {
          state.forget();
          socket.terminate();
        }
      }
    }, timeout);
    deadlines.add(deadline);
  };
  const timer = interval > 0 ? setInterval(pingAll, interval) : undefined;

  for (const socket of server.clients) track(socket);
  server.on('connection', track);
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
    for (const deadline of deadlines) clearTimeout(deadline);
    deadlines.clear();
    server.off('connection', track);
    server.off('close', stop);
    for (const {forget} of [...watched.values()]) forget();
  };
  server.on('close', stop);
  return Object.assign(stop, {isHeartbeat});
}

export function checkServer(server: unknown): void {
  const candidate = server as Partial<KeepAliveServer> | null;
  if (
    typeof candidate?.on !== 'function' ||
    typeof candidate.off !== 'function' ||
    typeof (candidate.clients as Iterable<unknown> | undefined)?.[Symbol.iterator] !== 'function'
  ) {
    throw new TypeError(
      'keepAlive(server): server must be a WebSocketServer of the ws package (with clients, on and off)',
    );
  }
}

export function checkOptions(options: Partial<KeepAliveOptions>, who = 'keepAlive'): KeepAliveOptions {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`${who}(server, options): options must be an object, not ${String(options)}`);
  }
  for (const name of Object.keys(options)) {
    if (!(name in KEEP_ALIVE_DEFAULTS)) {
      throw new TypeError(
        `${who}: unknown option "${name}"; the options are ${Object.keys(KEEP_ALIVE_DEFAULTS).join(', ')}`,
      );
    }
  }
  const resolved = {...KEEP_ALIVE_DEFAULTS, ...definedOnly(options)};
  const duration = (name: 'interval' | 'timeout', allowZero: boolean) => {
    const value = resolved[name];
    if (
      typeof value !== 'number' ||
      !Number.isFinite(value) ||
      value < 0 ||
      (!allowZero && value === 0) ||
      value > MAX_DELAY
    ) {
      throw new TypeError(
        `${who}: ${name} must be a number of ms ${allowZero ? 'from 0' : 'above 0'} up to ${MAX_DELAY}, not ${describe(value)}`,
      );
    }
  };
  duration('interval', true);
  duration('timeout', false);
  for (const name of ['pingMessage', 'pongMessage'] as const) {
    const value = resolved[name];
    if (typeof value !== 'string' || value === '') {
      throw new TypeError(`${who}: ${name} must be a non-empty string, not ${describe(value)}`);
    }
  }
  return resolved;
}

function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

const encoder = new TextEncoder();
const bytes = (text: string) => encoder.encode(text);

/**
 * Whether `data` — a string, or what `ws` hands a message listener: a
 * Buffer, an ArrayBuffer, or the fragments of one message as Buffers — is
 * `text`, whose UTF-8 bytes are `expected`. Compares bytes, so nothing is
 * decoded for the application's messages.
 */
function equals(data: unknown, text: string, expected: Uint8Array): boolean {
  if (typeof data === 'string') return data === text;
  let view: Uint8Array;
  if (data instanceof ArrayBuffer) view = new Uint8Array(data);
  else if (ArrayBuffer.isView(data)) view = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  else if (Array.isArray(data) && data.every((part) => ArrayBuffer.isView(part))) {
    const parts = data as ArrayBufferView[];
    const length = parts.reduce((sum, part) => sum + part.byteLength, 0);
    if (length !== expected.length) return false;
    view = new Uint8Array(length);
    let at = 0;
    for (const part of parts) {
      view.set(new Uint8Array(part.buffer, part.byteOffset, part.byteLength), at);
      at += part.byteLength;
    }
  } else return false;
  return view.length === expected.length && view.every((byte, i) => byte === expected[i]);
}
