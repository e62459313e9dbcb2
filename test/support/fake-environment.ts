/**
 * A fake clock and socket for exact tests of the engine: time moves only when
 * a test says so, and every socket the engine makes is recorded and steered.
 */
import type {Environment, LifecycleSignal, SocketLike} from '../../src/client/environment.js';

interface Timer {
  at: number;
  callback: () => void;
}

export class FakeClock {
  now = 0;
  readonly epochStart = 1_700_000_000_000;
  #nextId = 1;
  readonly #timers = new Map<number, Timer>();

  setTimeout = (callback: () => void, ms: number): number => {
    const id = this.#nextId++;
    this.#timers.set(id, {at: this.now + Math.max(0, ms), callback});
    return id;
  };

  clearTimeout = (id: unknown): void => {
    this.#timers.delete(id as number);
  };

  get pending(): number {
    return this.#timers.size;
  }

  /** Moves time forward by `ms`, running each timer at its due time, in order. */
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      const next = this.#next();
      if (!next || next[1].at > end) break;
      this.#timers.delete(next[0]);
      this.now = Math.max(this.now, next[1].at);
      next[1].callback();
    }
    this.now = end;
  }

  /**
   * Moves time forward by `ms` with no timer running on the way (a frozen or
   * sleeping page), then runs whatever became due, late.
   */
  sleep(ms: number): void {
    this.now += ms;
    this.advance(0);
  }

  #next(): [number, Timer] | undefined {
    let best: [number, Timer] | undefined;
    for (const entry of this.#timers) if (!best || entry[1].at < best[1].at) best = entry;
    return best;
  }
}

export class FakeSocket implements SocketLike {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;

  readyState = FakeSocket.CONNECTING;
  /** The subprotocol the server selected, set by `open`. */
  protocol = '';
  binaryType = 'blob';
  onopen: ((event: object) => void) | null = null;
  onmessage: ((event: {data: unknown}) => void) | null = null;
  onerror: ((event: object) => void) | null = null;
  onclose: ((event: {code: number; reason: string}) => void) | null = null;
  readonly sent: unknown[] = [];
  /** How the client closed it, if it did. */
  closedWith: {code?: number; reason?: string} | undefined;

  constructor(
    readonly registry: SocketRegistry,
    readonly url: string,
    readonly protocols: string | string[] | undefined,
  ) {
    registry.created(this);
  }

  send(data: never): void {
    if (this.readyState !== FakeSocket.OPEN) throw new Error(`send on a socket in state ${this.readyState}`);
    this.sent.push(data);
  }

  /** As a real socket: closing now, and the close event comes later, with the code sent (1005 for none). */
  close(code?: number, reason?: string): void {
    if (this.readyState >= FakeSocket.CLOSING) return;
    this.closedWith = {code, reason};
    this.readyState = FakeSocket.CLOSING;
    this.registry.ended(this);
    this.registry.clock.setTimeout(() => {
      if (this.readyState === FakeSocket.CLOSED) return;
      this.readyState = FakeSocket.CLOSED;
      this.onclose?.({code: code ?? 1005, reason: reason ?? ''});
    }, 0);
  }

  /** The server accepted the connection, selecting `protocol` if given. */
  open(protocol = ''): void {
    if (this.readyState !== FakeSocket.CONNECTING) return;
    this.protocol = protocol;
    this.readyState = FakeSocket.OPEN;
    this.onopen?.({});
  }

  receive(data: unknown): void {
    this.onmessage?.({data});
  }

  error(): void {
    this.onerror?.({type: 'error'});
  }

  /** The server began the closing handshake: the socket is closing, and no event has said so yet. */
  serverClosing(): void {
    if (this.readyState !== FakeSocket.OPEN) return;
    this.readyState = FakeSocket.CLOSING;
    this.registry.ended(this);
  }

  /** The connection ended from the other side (or the network). */
  serverClose(code = 1006, reason = ''): void {
    const wasLive = this.readyState < FakeSocket.CLOSING;
    this.readyState = FakeSocket.CLOSED;
    if (wasLive) this.registry.ended(this);
    this.onclose?.({code, reason});
  }

  /** Messages sent other than pings. */
  get messages(): unknown[] {
    return this.sent.filter((data) => data !== 'ping');
  }

  get pings(): number {
    return this.sent.filter((data) => data === 'ping').length;
  }
}

/** Every socket made, and the most that were ever connecting or open at once. */
export class SocketRegistry {
  readonly all: FakeSocket[] = [];
  live = 0;
  peak = 0;

  constructor(readonly clock: FakeClock) {}

  created(socket: FakeSocket): void {
    this.all.push(socket);
    this.live++;
    this.peak = Math.max(this.peak, this.live);
  }

  ended(_socket: FakeSocket): void {
    this.live--;
  }

  get last(): FakeSocket {
    const socket = this.all.at(-1);
    if (!socket) throw new Error('no socket was created');
    return socket;
  }
}

export interface FakeWorld {
  clock: FakeClock;
  sockets: SocketRegistry;
  environment: Environment;
  /** What `random()` returns next (default 0.5). */
  random: number;
  online: boolean;
  base: string | undefined;
  signal(signal: LifecycleSignal): void;
  /** Listeners currently subscribed to lifecycle signals. */
  readonly watchers: number;
}

export function fakeWorld(): FakeWorld {
  const clock = new FakeClock();
  const sockets = new SocketRegistry(clock);
  const listeners = new Set<(signal: LifecycleSignal) => void>();
  const world: FakeWorld = {
    clock,
    sockets,
    random: 0.5,
    online: true,
    base: 'https://app.example/page',
    environment: {
      now: () => clock.now,
      epochNow: () => clock.epochStart + clock.now,
      setTimeout: clock.setTimeout,
      clearTimeout: clock.clearTimeout,
      random: () => world.random,
      WebSocket: class extends FakeSocket {
        constructor(url: string, protocols?: string | string[]) {
          super(sockets, url, protocols);
        }
      },
      baseUrl: () => world.base,
      isOnline: () => world.online,
      watch(listener) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    },
    signal(signal) {
      if (signal === 'online') world.online = true;
      if (signal === 'offline') world.online = false;
      for (const listener of [...listeners]) listener(signal);
    },
    get watchers() {
      return listeners.size;
    },
  };
  return world;
}
