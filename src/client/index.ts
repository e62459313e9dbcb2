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
export {DEFAULT_OPTIONS, type ResolvedOptions, type WsClientOptions} from './options.js';
export {
  defaultEnvironment,
  type Environment,
  type LifecycleSignal,
  type SocketConstructor,
  type SocketLike,
  type TimerHandle,
} from './environment.js';
export {parseCodeRanges, formatCodeRanges, includesCode, type CodeRanges} from './close-codes.js';
export {resolveSocketUrl, redactUrl} from './url.js';
export {retryDelay} from './backoff.js';
