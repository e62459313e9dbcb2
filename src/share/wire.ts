/**
 * Every message between the tabs that share a key's socket, and the one
 * check each passes before anything acts on it. The names of the key's lock
 * and channel carry the version of this conversation, so that tabs running
 * another version of the library (after a deploy) never hear it; within
 * it, anything this version did not write — an unknown kind, a field of the
 * wrong type, a command outside the list — is dropped here.
 */
import type {ConnectionState, ErrorKind, StateChange} from '../client/ws-client.js';

export const WIRE_VERSION = 2;

/** The key's lock and channel. */
export function wireName(key: string): string {
  return `ws-connection.share.v${WIRE_VERSION} ${key}`;
}

/** The lock a tab holds while it takes part: while it is held, the tab is there. */
export function presenceName(key: string, tab: string): string {
  return `${wireName(key)} tab ${tab}`;
}

/** The shared socket as the holder tells it. */
export interface Snapshot {
  state: ConnectionState;
  attempt: number;
  latency: number | undefined;
  nextRetryAt: number | undefined;
  /** The holder's `timeout`: how long a follower waits for an answer to its probe. */
  timeout: number;
}

/**
 * With `reliable`, the holder's session, for the next holder to carry on:
 * its id and resume token, `recv` the highest seq of the server's messages
 * it has, and per member (`tab:member`) the seq of the last of its
 * `openMessages` in the session, so that a resume does not send them again.
 */
export interface SessionState {
  id: string;
  token: string;
  recv: number;
  opened: Record<string, number>;
}

/** Why the socket closed for good (a stop code, or retries exhausted), and when (epoch ms). */
export interface Final {
  code?: number;
  reason?: string;
  attempt: number;
  at: number;
}

/** What `send()` puts on the wire: text or binary. */
export type Payload = string | ArrayBuffer | ArrayBufferView | Blob;

/** What a follower may ask the holder to do. */
export const COMMANDS = ['connect', 'reconnect', 'probe'] as const;
export type Command = (typeof COMMANDS)[number];

/**
 * The holder's messages carry its `term` (later holders have higher ones)
 * and its `from` (its tab); `finals` counts the socket's final closes in
 * this term, so that a tab that missed one learns of it from the next beat.
 */
type FromHolder = {term: number; from: string};
export type HolderMessage =
  /**
   * `waiting`: messages in the outbox (none: every message taken was
   * written). `heard`: per tab, the number of the last join or drop taken
   * from it, so that a tab whose word was lost says it again.
   */
  | (FromHolder & {
      k: 'beat';
      snap: Snapshot;
      finals: number;
      final?: Final;
      waiting: number;
      heard: Record<string, number>;
      session?: SessionState;
    })
  | (FromHolder & {
      k: 'state';
      snap: Snapshot;
      finals: number;
      final?: Final;
      change: StateChange;
      session?: SessionState;
    })
  /** With `reliable`, `seq` is the message's number in session `sid`: a tab dispatches each once. */
  | (FromHolder & {k: 'msg'; data: Payload; sid?: string; seq?: number})
  | (FromHolder & {k: 'err'; kind: ErrorKind; message: string})
  /**
   * Of member `member` of tab `to`: taken into the outbox up to `taken`,
   * done up to `written` (written; with `reliable`, acknowledged by the
   * server). `at`: with `reliable`, pairs of a message's number and its seq
   * in the session, for those written since the last word; `refused`, the
   * numbers of those the session can never take.
   */
  | (FromHolder & {
      k: 'ack';
      to: string;
      member: number;
      taken: number;
      written: number;
      at?: number[][];
      refused?: number[];
    })
  /** The server lost the session: each tab reports what it had in it (`session-lost`). */
  | (FromHolder & {k: 'lost'})
  /** Tab `to` should introduce itself again and send again what was not taken. */
  | (FromHolder & {k: 'again'; to: string})
  | (FromHolder & {k: 'bye'});

/** A follower's messages carry its `tab`. */
export type FollowerMessage =
  /** Are you there? Any message of the holder answers it. */
  | {k: 'probe'; tab: string}
  /**
   * Member `member` takes part, with these `openMessages`; `members` are all
   * the tab's members now. `n` numbers the tab's joins and drops.
   */
  | {k: 'join'; tab: string; n: number; member: number; open: Payload[]; members: number[]}
  /**
   * For the holder of term `to`; `low` is the sender's first unconfirmed
   * number; `at`, its seq in the session, when a holder wrote it there.
   */
  | {
      k: 'send';
      tab: string;
      to: number;
      member: number;
      seq: number;
      low: number;
      payload: Payload;
      at?: number;
    }
  /** A member left; without `member`, the whole tab. */
  | {k: 'drop'; tab: string; n: number; member?: number}
  | {k: 'cmd'; tab: string; op: Command}
  /** The tab heard of final close number `finals` of term `term`. */
  | {k: 'seen'; tab: string; term: number; finals: number};

export type Wire = HolderMessage | FollowerMessage;

/** How far ahead of this tab's clock a term may be: terms are epoch ms when a holder took over. */
const TERM_AHEAD = 60_000;
const MAX_ID = 64;
const STATES = new Set(['idle', 'connecting', 'open', 'reconnecting', 'offline', 'closed']);
const ERROR_KINDS = new Set([
  'invalid-url',
  'socket-error',
  'connect-timeout',
  'heartbeat-timeout',
  'parse-error',
  'queue-overflow',
  'queue-discarded',
  'retries-exhausted',
  'send-failed',
  'session-lost',
  'reliable-refused',
]);

type Fields = Record<string, unknown>;
type Check = (value: unknown) => boolean;

const isId: Check = (value) => typeof value === 'string' && value.length > 0 && value.length <= MAX_ID;
const isCount: Check = (value) => Number.isSafeInteger(value) && (value as number) >= 0;
const isSeq: Check = (value) => Number.isSafeInteger(value) && (value as number) > 0;
const isText: Check = (value) => typeof value === 'string';
const isSeqs: Check = (value) => Array.isArray(value) && value.every(isSeq);
const isMs: Check = (value) => typeof value === 'number' && Number.isFinite(value) && value >= 0;
const optional =
  (check: Check): Check =>
  (value) =>
    value === undefined || check(value);
const isState: Check = (value) => typeof value === 'string' && STATES.has(value);
const isPayload: Check = (value) =>
  typeof value === 'string' ||
  value instanceof ArrayBuffer ||
  ArrayBuffer.isView(value) ||
  (typeof Blob !== 'undefined' && value instanceof Blob);
const isObject = (value: unknown): value is Fields =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const shape =
  (fields: Record<string, Check>): Check =>
  (value) =>
    isObject(value) && Object.entries(fields).every(([name, check]) => check(value[name]));

const isSnapshot = shape({
  state: isState,
  attempt: isCount,
  latency: optional(isMs),
  nextRetryAt: optional(isMs),
  timeout: (value) => isMs(value) && (value as number) > 0,
});
const isFinal = shape({code: optional(isCount), reason: optional(isText), attempt: isCount, at: isMs});
const isHeard: Check = (value) =>
  isObject(value) && Object.entries(value).every(([tab, n]) => isId(tab) && isCount(n));
/** A session id or token (docs/PROTOCOL.md: 1 to 128 base64url characters). */
const isToken: Check = (value) => typeof value === 'string' && /^[\w-]{1,128}$/.test(value);
const isSession = shape({id: isToken, token: isToken, recv: isCount, opened: isHeard});
const isPairs: Check = (value) =>
  Array.isArray(value) &&
  value.every((pair) => Array.isArray(pair) && pair.length === 2 && pair.every(isSeq));
const isChange = shape({
  state: isState,
  previousState: isState,
  attempt: isCount,
  code: optional(isCount),
  reason: optional(isText),
  delay: optional(isMs),
  resumed: optional((value) => typeof value === 'boolean'),
});

const KINDS: Record<string, Record<string, Check>> = {
  beat: {
    snap: isSnapshot,
    finals: isCount,
    final: optional(isFinal),
    waiting: isCount,
    heard: isHeard,
    session: optional(isSession),
  },
  state: {
    snap: isSnapshot,
    finals: isCount,
    final: optional(isFinal),
    change: isChange,
    session: optional(isSession),
  },
  msg: {data: isPayload, sid: optional(isToken), seq: optional(isSeq)},
  err: {kind: (value) => typeof value === 'string' && ERROR_KINDS.has(value), message: isText},
  ack: {
    to: isId,
    member: isSeq,
    taken: isCount,
    written: isCount,
    at: optional(isPairs),
    refused: optional(isSeqs),
  },
  lost: {},
  again: {to: isId},
  bye: {},
  probe: {tab: isId},
  join: {
    tab: isId,
    n: isSeq,
    member: isSeq,
    open: (value) => Array.isArray(value) && value.every(isPayload),
    members: isSeqs,
  },
  send: {
    tab: isId,
    to: (value) => isMs(value),
    member: isSeq,
    seq: isSeq,
    low: isSeq,
    payload: isPayload,
    at: optional(isSeq),
  },
  drop: {tab: isId, n: isCount, member: optional(isSeq)},
  cmd: {tab: isId, op: (value) => (COMMANDS as readonly unknown[]).includes(value)},
  seen: {tab: isId, term: isMs, finals: isSeq},
};
const HOLDER_KINDS = new Set(['beat', 'state', 'msg', 'err', 'ack', 'lost', 'again', 'bye']);

export function fromHolder(message: Wire): message is HolderMessage {
  return HOLDER_KINDS.has(message.k);
}

/**
 * The message, when it is one this version wrote and its fields have their
 * types; otherwise undefined. `now` (epoch ms) bounds a holder's term, so
 * that no message can pin the conversation to a term far in the future.
 */
export function readWire(data: unknown, now: number): Wire | undefined {
  if (!isObject(data) || typeof data.k !== 'string' || !Object.hasOwn(KINDS, data.k)) return undefined;
  if (HOLDER_KINDS.has(data.k)) {
    const {term} = data;
    if (typeof term !== 'number' || !(term > 0) || term > now + TERM_AHEAD || !isId(data.from)) {
      return undefined;
    }
  }
  return shape(KINDS[data.k]!)(data) ? (data as unknown as Wire) : undefined;
}
