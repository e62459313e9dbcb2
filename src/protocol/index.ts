// The delivery protocol, ws-connection.reliable.v1 (docs/PROTOCOL.md): pure,
// imported by the client and by the server half, so that the two ends cannot
// drift apart.
export {
  decode,
  encode,
  encodeSequenced,
  MESSAGE_TOO_BIG,
  PROTOCOL_ERROR,
  SUBPROTOCOL,
  utf8Length,
  varint,
  wireLength,
} from './frames.js';
export type {Decoded, Frame, FrameFault, Payload, SequencedKind, Wire} from './frames.js';
export {Inbox, Outbox, payloadBytes} from './sequence.js';
export type {AckPolicy, Arrival, OutboxLimits, OutboxState, OutgoingMessage} from './sequence.js';
export {ClientEndpoint, DEFAULT_MAX_FRAME, readFirstFrame, ServerEndpoint} from './endpoint.js';
export type {
  ConnectionState,
  EndpointEvent,
  EndpointOptions,
  EndpointState,
  FirstFrame,
  Output,
  Refusal,
  SendResult,
} from './endpoint.js';
export {base64url, constantTimeEqual, constantTimeEqualText, newToken, TOKEN_BITS} from './token.js';
export type {RandomSource} from './token.js';
