/**
 * Everything the engine needs from the world it runs in — clocks, timers,
 * randomness, the WebSocket constructor and page lifecycle signals — behind
 * one small interface. The browser default reads globals guardedly, so the
 * same engine runs in Node (give it a WebSocket) and under a fake clock.
 */

/**
 * The part of the WebSocket API the engine uses; the browser's, Node 22's and
 * the `ws` package's all fit. Handlers take `never` so that each
 * implementation's own event types are accepted; the engine reads only
 * `data`, `code` and `reason` from them.
 */
export interface SocketLike {
  readonly readyState: number;
  /** The subprotocol the server selected; `''` for none. */
  readonly protocol?: string;
  binaryType: string;
  onopen: ((event: never) => void) | null;
  onmessage: ((event: never) => void) | null;
  onerror: ((event: never) => void) | null;
  onclose: ((event: never) => void) | null;
  send(data: never): void;
  close(code?: number, reason?: string): void;
}

export type SocketConstructor = new (url: string, protocols?: string | string[]) => SocketLike;

/**
 * What the page tells the engine: the network came or went, the page became
 * visible, woke up (`resume`), came back from the back/forward cache
 * (`pageshow`), or is being hidden or unloaded (`pagehide`).
 */
export type LifecycleSignal = 'online' | 'offline' | 'visible' | 'resume' | 'pageshow' | 'pagehide';

export type TimerHandle = unknown;

export interface Environment {
  /** Monotonic milliseconds, for measuring elapsed time. */
  now(): number;
  /** Epoch milliseconds, for times shown to people (`nextRetryAt`). */
  epochNow(): number;
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  /** Uniform in [0, 1). */
  random(): number;
  WebSocket: SocketConstructor | undefined;
  /** The URL relative socket paths resolve against (the page), if any. */
  baseUrl(): string | undefined;
  /** False only when the platform is sure there is no network. */
  isOnline(): boolean;
  /** Subscribes to lifecycle signals; returns the unsubscribe function. */
  watch(listener: (signal: LifecycleSignal) => void): () => void;
}

interface EventSource {
  addEventListener(type: string, listener: (event: {persisted?: boolean}) => void): void;
  removeEventListener(type: string, listener: (event: {persisted?: boolean}) => void): void;
}

interface Host extends Partial<EventSource> {
  performance?: {now(): number};
  WebSocket?: SocketConstructor;
  navigator?: {onLine?: boolean};
  location?: {href: string};
  document?: EventSource & {visibilityState?: string};
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** The environment of whatever runs the engine: a browser page, a worker, or Node. */
export function defaultEnvironment(): Environment {
  const host = globalThis as unknown as Host;
  const clock = host.performance ?? Date;
  return {
    now: () => clock.now(),
    epochNow: () => Date.now(),
    setTimeout: (callback, ms) => host.setTimeout(callback, ms),
    clearTimeout: (handle) => host.clearTimeout(handle),
    random: Math.random,
    WebSocket: host.WebSocket,
    baseUrl: () => host.location?.href,
    isOnline: () => host.navigator?.onLine !== false,
    watch(listener) {
      const doc = host.document;
      const subscriptions: [EventSource, string, (event: {persisted?: boolean}) => void][] = [
        [host as EventSource, 'online', () => listener('online')],
        [host as EventSource, 'offline', () => listener('offline')],
        [host as EventSource, 'pageshow', (event) => event.persisted && listener('pageshow')],
        [host as EventSource, 'pagehide', () => listener('pagehide')],
      ];
      if (doc) {
        subscriptions.push(
          [doc, 'visibilitychange', () => doc.visibilityState === 'visible' && listener('visible')],
          [doc, 'resume', () => listener('resume')],
        );
      }
      const usable = subscriptions.filter(([target]) => typeof target?.addEventListener === 'function');
      for (const [target, type, handler] of usable) target.addEventListener(type, handler);
      return () => {
        for (const [target, type, handler] of usable) target.removeEventListener(type, handler);
      };
    },
  };
}
