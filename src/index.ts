import './define.js';

export {WsConnection} from './ws-connection.js';
export {WebSocketController} from './controller.js';
export {WsClient, ConnectionState} from './client/index.js';
export type {ErrorDetail, ErrorKind, MessageDetail, StateChange, WsClientOptions} from './client/index.js';
export type {WsConnectionEventMap, WsErrorEvent, WsMessageEvent, WsStateEvent} from './events.js';
export type {StatusWords} from './status-text.js';
