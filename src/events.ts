import type {ErrorDetail, MessageDetail, StateChange} from './client/ws-client.js';

export type {ErrorDetail, MessageDetail, StateChange};

/** `ws-state`: the connection changed state. */
export type WsStateEvent = CustomEvent<StateChange>;
/**
 * `ws-message`: a message arrived (pongs excluded). `WsMessageEvent<Price>`
 * types what your server sends.
 */
export type WsMessageEvent<In = unknown> = CustomEvent<MessageDetail<In>>;
/** `ws-error`: something went wrong; `detail.kind` says what. */
export type WsErrorEvent = CustomEvent<ErrorDetail>;

/** The element's events by name; `In` types `ws-message`'s `detail.data` (`WsConnection<In>`). */
export interface WsConnectionEventMap<In = unknown> {
  'ws-state': WsStateEvent;
  'ws-message': WsMessageEvent<In>;
  'ws-error': WsErrorEvent;
}

declare global {
  // Types listeners on elements, `document` and `window` alike.
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- declaration merging
  interface GlobalEventHandlersEventMap extends WsConnectionEventMap {}
}
