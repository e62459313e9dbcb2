/// <reference types="node" />
/**
 * A {@link SessionStore} in Redis, so that sessions outlive a server process
 * and are shared by every process behind a load balancer. It uses a client
 * of the `redis` package (node-redis) that the application made and
 * connected, through `sendCommand` alone: this module does not import
 * `redis`, so `ws-connection/server.js` loads without it.
 *
 * Each session is two keys, a hash (the numbers, the token's hash, the
 * holder) and a list (the messages the client has not acknowledged), both
 * with the session's id in a hash tag so that they live in one slot. Every
 * change is one Lua script, checked before it writes anything, so it is
 * applied as a whole or not at all, whichever process sends it.
 */
import {createHash} from 'node:crypto';
import {payloadBytes, type SequencedKind} from '../protocol/index.js';
import type {SessionChange, SessionStore, StoredMessage, StoredSession, UpdateResult} from './store.js';

/** What the store needs of a node-redis client (v4 or later, `createClient()`), connected. */
export interface RedisClientLike {
  sendCommand(args: string[]): Promise<unknown>;
}

/** Options of {@link RedisStore}. */
export interface RedisStoreOptions {
  /** Put before every key, to share a Redis with other data. Default `ws-connection:`. */
  prefix?: string;
  /**
   * ms a session held by a connection is kept after its last change. A
   * session waiting for its client expires at the end of its resume window;
   * this bounds the one whose process died holding it, should its client
   * never come back. Default 86 400 000 (a day).
   */
  heldTtl?: number;
}

/** Expiry of both keys: the resume window's end when one is set, else `heldTtl` from now. */
const EXPIRE = `
local function expire(h, m, heldTtl)
  local at = redis.call('HGET', h, 'expiresAt')
  if not at or at == '' then
    redis.call('PEXPIRE', h, heldTtl)
    redis.call('PEXPIRE', m, heldTtl)
  else
    redis.call('PEXPIREAT', h, at)
    redis.call('PEXPIREAT', m, at)
  end
end
local function int(n) return string.format('%.0f', n) end
`;

/** KEYS: hash, list. ARGV: id, tokenHash, createdAt, expiresAt ('' for none), lastSent, acked, received, holder, heldTtl, messages… */
const CREATE = `${EXPIRE}
local h, m = KEYS[1], KEYS[2]
redis.call('DEL', h, m)
redis.call('HSET', h, 'id', ARGV[1], 'tokenHash', ARGV[2], 'createdAt', ARGV[3], 'expiresAt', ARGV[4],
  'lastSent', ARGV[5], 'acked', ARGV[6], 'received', ARGV[7], 'holder', ARGV[8])
for i = 10, #ARGV, 1000 do redis.call('RPUSH', m, unpack(ARGV, i, math.min(i + 999, #ARGV))) end
expire(h, m, ARGV[9])
return 1
`;

/** KEYS: hash, list. Returns false, or {the hash as field, value…, the messages}. */
const LOAD = `
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
return {redis.call('HGETALL', KEYS[1]), redis.call('LRANGE', KEYS[2], 0, -1)}
`;

/**
 * KEYS: hash, list. ARGV: holder ('' for anyone), claim ('1' or ''), acked
 * (''), received (''), expiresAt ('' unchanged, '-' none, or ms), heldTtl,
 * the first appended seq (''), then the appended messages. Every check comes
 * before the first write: a refused change leaves the session as it was.
 */
const UPDATE = `${EXPIRE}
local h, m = KEYS[1], KEYS[2]
if redis.call('EXISTS', h) == 0 then return 'gone' end
local holder = ARGV[1]
if ARGV[2] ~= '1' and holder ~= '' and redis.call('HGET', h, 'holder') ~= holder then return 'moved' end
local lastSent = tonumber(redis.call('HGET', h, 'lastSent'))
local acked = tonumber(redis.call('HGET', h, 'acked'))
local count = #ARGV - 7
if count > 0 and tonumber(ARGV[7]) ~= lastSent + 1 then
  return redis.error_reply('ws-connection: a message of seq ' .. ARGV[7] .. ' after seq ' .. int(lastSent))
end
local last = lastSent + count
if ARGV[3] ~= '' and tonumber(ARGV[3]) > last then
  return redis.error_reply('ws-connection: an ack of seq ' .. ARGV[3] .. ' beyond seq ' .. int(last))
end
if ARGV[2] == '1' then redis.call('HSET', h, 'holder', holder) end
for i = 8, #ARGV, 1000 do redis.call('RPUSH', m, unpack(ARGV, i, math.min(i + 999, #ARGV))) end
if count > 0 then redis.call('HSET', h, 'lastSent', int(last)) end
if ARGV[3] ~= '' then
  local ack = tonumber(ARGV[3])
  if ack > acked then
    redis.call('LTRIM', m, ack - acked, -1)
    redis.call('HSET', h, 'acked', ARGV[3])
  end
end
if ARGV[4] ~= '' and tonumber(ARGV[4]) > tonumber(redis.call('HGET', h, 'received')) then
  redis.call('HSET', h, 'received', ARGV[4])
end
if ARGV[5] == '-' then redis.call('HSET', h, 'expiresAt', '')
elseif ARGV[5] ~= '' then redis.call('HSET', h, 'expiresAt', ARGV[5]) end
expire(h, m, ARGV[6])
return 'applied'
`;

/** KEYS: hash, list. ARGV: holder ('' for anyone). */
const DELETE = `
if ARGV[1] ~= '' and redis.call('HGET', KEYS[1], 'holder') ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1], KEYS[2])
`;

const KIND_LETTER: Record<SequencedKind, string> = {
  message: 'm',
  request: 'q',
  reply: 'r',
  'error-reply': 'x',
};
const LETTER_KIND: Record<string, SequencedKind> = {m: 'message', q: 'request', r: 'reply', x: 'error-reply'};

/**
 * Sessions in Redis: a session resumes on any server process that shares
 * the Redis, and a server restart loses nothing. Give it a client of the
 * `redis` package that you made and connected (and close it yourself).
 *
 * Memory stays bounded: a session holds at most `bufferLimit` messages
 * (`reliable()`'s bound) and expires with its resume window.
 *
 * @example
 * import {createClient} from 'redis';
 * const redis = await createClient({url: 'redis://localhost:6379'}).connect();
 * reliable(wss, {store: new RedisStore(redis, {prefix: 'chat:'})});
 */
export class RedisStore implements SessionStore {
  readonly #client: RedisClientLike;
  readonly #prefix: string;
  readonly #heldTtl: string;
  readonly #sha = new Map<string, string>();

  constructor(client: RedisClientLike, options: RedisStoreOptions = {}) {
    if (typeof client?.sendCommand !== 'function') {
      throw new TypeError(
        'RedisStore(client): client must be a connected node-redis client (createClient())',
      );
    }
    const {prefix = 'ws-connection:', heldTtl = 86_400_000} = options;
    if (typeof prefix !== 'string') throw new TypeError('RedisStore: prefix must be a string');
    if (!Number.isInteger(heldTtl) || heldTtl < 1) {
      throw new TypeError(
        `RedisStore: heldTtl must be a whole number of ms, at least 1, not ${String(heldTtl)}`,
      );
    }
    this.#client = client;
    this.#prefix = prefix;
    this.#heldTtl = String(heldTtl);
  }

  /** The two keys of session `id`: its hash and its list of messages. */
  keys(id: string): [hash: string, messages: string] {
    const hash = `${this.#prefix}session:{${id}}`;
    return [hash, `${hash}:messages`];
  }

  /** Keeps a new session (replacing any of the same id), expiring as `heldTtl` says. */
  async create(session: StoredSession): Promise<void> {
    await this.#run(CREATE, this.keys(session.id), [
      session.id,
      session.tokenHash,
      String(session.createdAt),
      session.expiresAt === undefined ? '' : String(session.expiresAt),
      String(session.lastSent),
      String(session.acked),
      String(session.received),
      session.holder ?? '',
      this.#heldTtl,
      ...session.messages.map(encodeMessage),
    ]);
  }

  /** The session, read in one step, or undefined when it is unknown, deleted or expired. */
  async load(id: string): Promise<StoredSession | undefined> {
    const reply = await this.#run(LOAD, this.keys(id), []);
    if (!Array.isArray(reply)) return undefined;
    const [pairs, messages] = reply as [string[], string[]];
    const fields = new Map<string, string>();
    for (let i = 0; i < pairs.length; i += 2) fields.set(String(pairs[i]), String(pairs[i + 1]));
    const number = (name: string) => Number(fields.get(name));
    const acked = number('acked');
    const expiresAt = fields.get('expiresAt');
    return {
      id,
      tokenHash: fields.get('tokenHash') ?? '',
      createdAt: number('createdAt'),
      expiresAt: expiresAt ? Number(expiresAt) : undefined,
      lastSent: number('lastSent'),
      acked,
      received: number('received'),
      messages: messages.map((text, index) => decodeMessage(String(text), acked + index + 1)),
      holder: fields.get('holder') || undefined,
    };
  }

  /**
   * Applies a change in one script, whole or not at all. Rejects, changing
   * nothing, for messages out of sequence or an ack of a message never stored.
   */
  async update(id: string, change: SessionChange): Promise<UpdateResult> {
    const append = change.append ?? [];
    const expiresAt =
      change.expiresAt === undefined ? '' : change.expiresAt === null ? '-' : String(change.expiresAt);
    const reply = await this.#run(UPDATE, this.keys(id), [
      change.holder ?? '',
      change.claim ? '1' : '',
      change.acked === undefined ? '' : String(change.acked),
      change.received === undefined ? '' : String(change.received),
      expiresAt,
      this.#heldTtl,
      append.length ? String(append[0].seq) : '',
      ...append.map(encodeMessage),
    ]);
    return String(reply) as UpdateResult;
  }

  /** Forgets the session; with `holder`, only while that is its holder. */
  async delete(id: string, holder?: string): Promise<void> {
    await this.#run(DELETE, this.keys(id), [holder ?? '']);
  }

  /** Runs a script by its SHA-1, loading it the first time Redis does not know it. */
  async #run(script: string, keys: string[], args: string[]): Promise<unknown> {
    let sha = this.#sha.get(script);
    if (!sha) {
      sha = createHash('sha1').update(script).digest('hex');
      this.#sha.set(script, sha);
    }
    const tail = [String(keys.length), ...keys, ...args];
    try {
      return await this.#client.sendCommand(['EVALSHA', sha, ...tail]);
    } catch (error) {
      if (!String((error as Error)?.message ?? error).startsWith('NOSCRIPT')) throw error;
      return this.#client.sendCommand(['EVAL', script, ...tail]);
    }
  }
}

/** A message as the list keeps it: kind letter, request id, `:`, `t` or `b`, then the text or base64 bytes. */
function encodeMessage(message: StoredMessage): string {
  const head = `${KIND_LETTER[message.kind]}${message.id}:`;
  const data = message.data;
  if (typeof data === 'string') return `${head}t${data}`;
  return `${head}b${Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64')}`;
}

function decodeMessage(text: string, seq: number): StoredMessage {
  const colon = text.indexOf(':');
  const kind = LETTER_KIND[text[0]];
  const id = Number(text.slice(1, colon));
  if (!kind || colon < 2 || !Number.isInteger(id)) {
    throw new Error(`RedisStore: a stored message of seq ${seq} is not one this store wrote`);
  }
  const body = text.slice(colon + 2);
  const data = text[colon + 1] === 'b' ? new Uint8Array(Buffer.from(body, 'base64')) : body;
  return {seq, kind, id, data, bytes: payloadBytes(data)};
}
