// ws-connection/server.js: the server's half, for Node's `ws` package.
export {keepAlive, KEEP_ALIVE_DEFAULTS} from './keep-alive.js';
export type {KeepAlive, KeepAliveOptions, KeepAliveServer, KeepAliveSocket} from './keep-alive.js';
export {reliable, RELIABLE_DEFAULTS} from './reliable.js';
export type {
  HandleProtocols,
  Reliable,
  ReliableEvents,
  ReliableOptions,
  ReliableServerLike,
  ReliableSession,
  ReliableSessionEvents,
  ReliableSocket,
  Reply,
  SendableData,
  SessionData,
} from './reliable.js';
export {MemoryStore} from './store.js';
export type {SessionChange, SessionStore, StoredMessage, StoredSession, UpdateResult} from './store.js';
export {RedisStore} from './redis-store.js';
export type {RedisClientLike, RedisStoreOptions} from './redis-store.js';
export {SUBPROTOCOL} from '../protocol/frames.js';
