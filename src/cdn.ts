// The entry of the single-file CDN build: the element, defined on load, and
// the engine, for plain pages. WebSocketController is left out: it is for Lit
// projects, which have their own Lit and import it from the package.
import './define.js';

export {WsConnection} from './ws-connection.js';
export {WsClient, ConnectionState} from './client/index.js';
export {SharedClient} from './share/shared-client.js';
export type {ErrorDetail, ErrorKind, MessageDetail, StateChange, WsClientOptions} from './client/index.js';
export type {WsConnectionEventMap, WsErrorEvent, WsMessageEvent, WsStateEvent} from './events.js';
