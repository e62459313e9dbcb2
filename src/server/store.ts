/**
 * Where `reliable()` keeps its sessions between connections. The interface
 * is asynchronous and changes a session by small steps (a few new messages,
 * an ack, a new high-water mark), so that a store shared by several server
 * processes (Redis) can apply each step atomically and cheaply. The memory
 * store is the default: one process, and a restart forgets every session.
 */
import type {OutgoingMessage} from '../protocol/index.js';

/** An outgoing message as a store keeps it, until the client acknowledges it. */
export type StoredMessage = OutgoingMessage;

/** A session as a store keeps it: enough to resume it in another process. */
export interface StoredSession {
  readonly id: string;
  /** SHA-256 of the resume token, base64url: the token itself is never stored. */
  readonly tokenHash: string;
  /** ms since the epoch when the session was made. */
  readonly createdAt: number;
  /**
   * ms since the epoch after which the session is gone, when no connection
   * holds it; undefined while one does. A store never returns a session past it.
   */
  readonly expiresAt: number | undefined;
  /** The highest seq given to a message to the client. */
  readonly lastSent: number;
  /** The highest seq the client acknowledged. */
  readonly acked: number;
  /** The high-water mark of the client's messages delivered to the application. */
  readonly received: number;
  /** The messages to the client it has not acknowledged, in order: seqs `acked + 1` to `lastSent`. */
  readonly messages: readonly StoredMessage[];
  /**
   * Who holds the session: a random id of the `reliable()` session object
   * that made or last took it. A process that loads a session another one
   * held takes it (`claim`); the one that held it then finds its changes
   * refused (`moved`), so two processes never both write one session.
   */
  readonly holder?: string;
}

/**
 * What became of an update: `applied`; `gone` (the session is unknown,
 * deleted or expired: nothing was applied); `moved` (another holder took the
 * session: nothing was applied).
 */
export type UpdateResult = 'applied' | 'gone' | 'moved';

/** One step of a session's life, applied as a whole. */
export interface SessionChange {
  /** New messages to the client, in order, after those held: `lastSent` becomes the last one's seq. */
  readonly append?: readonly StoredMessage[];
  /** The client acknowledged up to this seq: drop those messages. */
  readonly acked?: number;
  /** The new high-water mark of the client's messages. */
  readonly received?: number;
  /** A new expiry: a time, or null when a connection holds the session again. */
  readonly expiresAt?: number | null;
  /**
   * Who makes the change. A store applies it only while this is the
   * session's holder (else `moved`); without it, the change is applied whoever holds it.
   */
  readonly holder?: string;
  /** The change's `holder` takes the session first (it loaded the session to resume it). */
  readonly claim?: boolean;
}

/**
 * A place for sessions. Every method may be asynchronous; `reliable()` calls
 * `update` for one session one at a time, in order, and waits for each.
 * `reliable()` writes a message to the client, or acknowledges one from it,
 * only after the store has said it holds it.
 */
export interface SessionStore {
  /** Keeps a new session. */
  create(session: StoredSession): Promise<void>;
  /** The session, or undefined when it is unknown, deleted or expired. */
  load(id: string): Promise<StoredSession | undefined>;
  /**
   * Applies a change to the session as a whole, or not at all; a session
   * that is gone is left gone. Resolves to what became of it (a store that
   * resolves to nothing is taken to have applied it).
   */
  update(id: string, change: SessionChange): Promise<UpdateResult | void>;
  /** Forgets the session; with `holder`, only while that is the session's holder. */
  delete(id: string, holder?: string): Promise<void>;
}

interface Entry {
  tokenHash: string;
  createdAt: number;
  expiresAt: number | undefined;
  lastSent: number;
  acked: number;
  received: number;
  messages: StoredMessage[];
  holder: string | undefined;
}

/**
 * The default store: sessions in this process's memory. It shares the
 * messages' objects with the sessions that sent them, so it costs little
 * beyond them; and it forgets everything when the process ends (a client
 * then reports `session-lost`).
 *
 * @example
 * reliable(wss, {store: new MemoryStore()});
 */
export class MemoryStore implements SessionStore {
  readonly #sessions = new Map<string, Entry>();
  readonly #now: () => number;

  /** `now` gives ms since the epoch, for expiry; `Date.now` by default. */
  constructor(options: {now?: () => number} = {}) {
    this.#now = options.now ?? Date.now;
  }

  /** How many sessions it holds, expired ones included until they are next looked at. */
  get size(): number {
    return this.#sessions.size;
  }

  async create(session: StoredSession): Promise<void> {
    this.#sessions.set(session.id, {
      tokenHash: session.tokenHash,
      createdAt: session.createdAt,
      expiresAt: session.expiresAt,
      lastSent: session.lastSent,
      acked: session.acked,
      received: session.received,
      messages: [...session.messages],
      holder: session.holder,
    });
  }

  async load(id: string): Promise<StoredSession | undefined> {
    const entry = this.#live(id);
    return entry && {id, ...entry, messages: [...entry.messages]};
  }

  async update(id: string, change: SessionChange): Promise<UpdateResult> {
    const entry = this.#live(id);
    if (!entry) return 'gone';
    if (change.claim) entry.holder = change.holder;
    else if (change.holder !== undefined && change.holder !== entry.holder) return 'moved';
    if (change.append?.length) {
      entry.messages.push(...change.append);
      entry.lastSent = change.append[change.append.length - 1].seq;
    }
    if (change.acked !== undefined && change.acked > entry.acked) {
      entry.messages.splice(0, change.acked - entry.acked);
      entry.acked = change.acked;
    }
    if (change.received !== undefined) entry.received = Math.max(entry.received, change.received);
    if (change.expiresAt !== undefined) entry.expiresAt = change.expiresAt ?? undefined;
    return 'applied';
  }

  async delete(id: string, holder?: string): Promise<void> {
    if (holder !== undefined && this.#sessions.get(id)?.holder !== holder) return;
    this.#sessions.delete(id);
  }

  /** The entry, unless it expired (then it is dropped). */
  #live(id: string): Entry | undefined {
    const entry = this.#sessions.get(id);
    if (entry?.expiresAt !== undefined && entry.expiresAt <= this.#now()) {
      this.#sessions.delete(id);
      return undefined;
    }
    return entry;
  }
}
