export {
  WsClient,
  ConnectionState,
  type ErrorDetail,
  type ErrorKind,
  type MessageDetail,
  type StateChange,
  type WsClientEventMap,
} from './ws-client.js';
export {RequestError, type RequestErrorKind} from './request-error.js';
export type {ResolvedOptions, WsClientOptions} from './options.js';
export type {
  Environment,
  LifecycleSignal,
  SocketConstructor,
  SocketLike,
  TimerHandle,
} from './environment.js';
export type {CodeRanges} from './close-codes.js';
