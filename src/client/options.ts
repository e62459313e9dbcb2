import {type CodeRanges, DEFAULT_STOP_CODES, parseCodeRanges} from './close-codes.js';

export interface WsClientOptions {
  /** `ws:`/`wss:`/`http:`/`https:` URL or a path (`/ws`, `./ws`, `../ws`) resolved against the page. */
  url: string | undefined;
  /** Called before every attempt for a fresh URL (tokens); wins over `url`. */
  urlProvider: (() => string | Promise<string>) | undefined;
  /** Subprotocols: an array, or a string separated by commas or spaces. */
  protocols: string | readonly string[] | undefined;
  /** ms without sending or without receiving after which a ping goes out; 0 turns heartbeats off. */
  heartbeatInterval: number;
  /** ms to wait for anything after a ping, and the longest a connect attempt may take. */
  timeout: number;
  pingMessage: string;
  /** An inbound message equal to this is a heartbeat reply and is not dispatched. */
  pongMessage: string;
  /** ms: the window of the first retry; it doubles with each retry. */
  reconnectDelay: number;
  /** ms: the largest retry window. */
  maxReconnectDelay: number;
  /** Retries before giving up; `Infinity` never gives up, 0 never retries. */
  maxRetries: number;
  /** Close codes from the server after which no retry is made (`1000 1008 4000-4099`). */
  stopCodes: CodeRanges | string;
  /** Messages held while not open; beyond it `send()` refuses. */
  queueLimit: number;
  /** Parse inbound text as JSON; serialise what is sent. */
  json: boolean;
  binaryType: 'blob' | 'arraybuffer';
  /** Sent on every open, before the queue (subscriptions to renew). */
  openMessages: readonly unknown[];
  /** ms a connection must stay open before the retry count starts again from zero. */
  stableAfter: number;
  /** Log what the engine does (URLs without their query): true for the console, or a function. */
  debug: boolean | ((line: string) => void);
  /**
   * Acknowledged delivery and session resume with a server that speaks the
   * protocol (docs/PROTOCOL.md): offers the subprotocol
   * `ws-connection.reliable.v1` after `protocols`. Changing it reconnects.
   */
  reliable: boolean;
}

export interface ResolvedOptions extends Omit<WsClientOptions, 'stopCodes'> {
  stopCodes: CodeRanges;
}

export const DEFAULT_OPTIONS: ResolvedOptions = {
  url: undefined,
  urlProvider: undefined,
  protocols: undefined,
  heartbeatInterval: 30_000,
  timeout: 10_000,
  pingMessage: 'ping',
  pongMessage: 'pong',
  reconnectDelay: 1000,
  maxReconnectDelay: 30_000,
  maxRetries: Infinity,
  stopCodes: DEFAULT_STOP_CODES,
  queueLimit: 1000,
  json: false,
  binaryType: 'blob',
  openMessages: [],
  stableAfter: 5000,
  debug: false,
  reliable: false,
};

type Check = (value: unknown) => boolean;

const isCount: Check = (value) => typeof value === 'number' && value >= 0 && Number.isInteger(value);
/** The longest a timer can wait: beyond it, browsers and Node fire at once. */
const MAX_DELAY = 2 ** 31 - 1;

const isDuration: Check = (value) => typeof value === 'number' && value >= 0 && value <= MAX_DELAY;
const isPositiveDuration: Check = (value) => isDuration(value) && (value as number) > 0;

const checks: {[K in keyof ResolvedOptions]?: [Check, string]} = {
  heartbeatInterval: [isDuration, `a number of ms from 0 to ${MAX_DELAY}`],
  timeout: [isPositiveDuration, `a number of ms above 0, up to ${MAX_DELAY}`],
  reconnectDelay: [isPositiveDuration, `a number of ms above 0, up to ${MAX_DELAY}`],
  maxReconnectDelay: [isPositiveDuration, `a number of ms above 0, up to ${MAX_DELAY}`],
  maxRetries: [(value) => value === Infinity || isCount(value), 'an integer ≥ 0, or Infinity'],
  queueLimit: [isCount, 'an integer ≥ 0'],
  stableAfter: [isDuration, `a number of ms from 0 to ${MAX_DELAY}`],
  pingMessage: [(value) => typeof value === 'string', 'a string'],
  pongMessage: [(value) => typeof value === 'string', 'a string'],
  binaryType: [(value) => value === 'blob' || value === 'arraybuffer', '"blob" or "arraybuffer"'],
  openMessages: [Array.isArray, 'an array'],
  reliable: [(value) => typeof value === 'boolean', 'true or false'],
};

/**
 * Merges `changes` into `current`. An invalid value is reported through
 * `warn` and leaves the option at its default, so one typo never stops the
 * connection or half-applies.
 */
export function mergeOptions(
  current: ResolvedOptions,
  changes: Partial<WsClientOptions>,
  warn: (message: string) => void,
): ResolvedOptions {
  const next = {...current} as Record<string, unknown>;
  for (const [key, value] of Object.entries(changes)) {
    if (!(key in DEFAULT_OPTIONS)) {
      warn(`unknown option "${key}" ignored`);
      continue;
    }
    const name = key as keyof ResolvedOptions;
    if (value === undefined) {
      next[name] = DEFAULT_OPTIONS[name];
      continue;
    }
    if (name === 'stopCodes' && typeof value === 'string') {
      const parsed = parseCodeRanges(value);
      if (!parsed)
        warn(
          `stopCodes "${value}" is not a list of close codes or ranges (1000 1008 4000-4099); using the default`,
        );
      next.stopCodes = parsed ?? DEFAULT_OPTIONS.stopCodes;
      continue;
    }
    const check = checks[name];
    if (check && !check[0](value)) {
      warn(`${name} must be ${check[1]}, not ${String(value)}; using the default`);
      next[name] = DEFAULT_OPTIONS[name];
      continue;
    }
    next[name] = value;
  }
  return next as unknown as ResolvedOptions;
}

/**
 * A console warning for each distinct message, once: a host re-applying the
 * same bad value (a framework on every render) must not repeat it.
 */
export function warnOnce(): (message: string) => void {
  const warned = new Set<string>();
  return (message) => {
    if (warned.has(message)) return;
    warned.add(message);
    console.warn(`[ws-connection] ${message}`);
  };
}

/** Subprotocols as the WebSocket constructor takes them. */
export function protocolList(protocols: ResolvedOptions['protocols']): string[] {
  if (protocols === undefined) return [];
  return typeof protocols === 'string' ? protocols.split(/[\s,]+/).filter(Boolean) : [...protocols];
}
