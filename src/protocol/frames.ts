/**
 * The frames of `ws-connection.reliable.v1` (docs/PROTOCOL.md, section 2):
 * their types, and how each is written and read. Decoding checks every field
 * and never throws: a frame that breaks the rules comes back as a
 * {@link FrameFault} saying why, for a close with 1002.
 */

/** The subprotocol a reliable connection selects. */
export const SUBPROTOCOL = 'ws-connection.reliable.v1';

/** The largest number a frame may carry: 2^53 − 1. */
export const MAX_NUMBER = Number.MAX_SAFE_INTEGER;

/** Close code for a malformed frame, or one at the wrong time. */
export const PROTOCOL_ERROR = 1002;
/** Close code for a frame larger than the receiver's `maxFrame`. */
export const MESSAGE_TOO_BIG = 1009;

/** An application's message: text, or bytes. */
export type Payload = string | Uint8Array;

/** What goes on the socket: a string is a text frame, bytes a binary frame. */
export type Wire = string | Uint8Array;

/** A sequenced frame's kind, as the first character (text) or byte (binary) names it. */
export type SequencedKind = 'message' | 'request' | 'reply' | 'error-reply';

/** Every frame of the protocol, decoded. */
export type Frame =
  | {readonly type: 'message'; readonly seq: number; readonly data: Payload}
  | {readonly type: 'request'; readonly seq: number; readonly id: number; readonly data: Payload}
  | {readonly type: 'reply'; readonly seq: number; readonly id: number; readonly data: Payload}
  | {readonly type: 'error-reply'; readonly seq: number; readonly id: number; readonly data: string}
  | {readonly type: 'ack'; readonly ack: number}
  | {readonly type: 'ping'; readonly ack?: number}
  | {readonly type: 'pong'; readonly ack?: number}
  | {readonly type: 'hello'}
  | {readonly type: 'resume'; readonly session: string; readonly token: string; readonly ack: number}
  | {
      readonly type: 'session';
      readonly session: string;
      readonly token: string;
      readonly resumeWindow: number;
      readonly maxFrame: number;
      readonly refused?: 'unknown-session';
    }
  | {readonly type: 'resumed'; readonly ack: number; readonly maxFrame: number}
  | {readonly type: 'end'};

/** A frame that breaks the rules: the close code and reason to answer it with. */
export interface FrameFault {
  readonly code: typeof PROTOCOL_ERROR | typeof MESSAGE_TOO_BIG;
  /** Names the fault in at most 123 bytes of ASCII, as a close reason must fit. */
  readonly reason: string;
}

/** What {@link decode} gives: the frame, or the fault. */
export type Decoded = {readonly ok: true; readonly frame: Frame} | ({readonly ok: false} & FrameFault);

const TAG = {
  message: 0x6d, // m
  request: 0x71, // q
  reply: 0x72, // r
  'error-reply': 0x78, // x
  ack: 0x61, // a
  ping: 0x70, // p
  pong: 0x6f, // o
  control: 0x7b, // {
} as const;

/** A close reason fits in 123 bytes; the reasons written here are ASCII. */
export function fault(reason: string, code: FrameFault['code'] = PROTOCOL_ERROR): {ok: false} & FrameFault {
  return {ok: false, code, reason: reason.length > 123 ? `${reason.slice(0, 120)}...` : reason};
}

// ---- writing ----

/** The text or binary frame of a sequenced message; binary data makes a binary frame. */
export function encodeSequenced(kind: SequencedKind, seq: number, data: Payload, id = 0): Wire {
  if (typeof data === 'string') {
    const tag = String.fromCharCode(TAG[kind]);
    return kind === 'message' ? `${tag}${seq}:${data}` : `${tag}${seq}:${id}:${data}`;
  }
  if (kind === 'error-reply') throw new TypeError('an error-reply carries text');
  const header = [TAG[kind], ...varint(seq), ...(kind === 'message' ? [] : varint(id))];
  const frame = new Uint8Array(header.length + data.byteLength);
  frame.set(header, 0);
  frame.set(data, header.length);
  return frame;
}

/** Writes any frame. */
export function encode(frame: Frame): Wire {
  switch (frame.type) {
    case 'message':
      return encodeSequenced('message', frame.seq, frame.data);
    case 'request':
    case 'reply':
    case 'error-reply':
      return encodeSequenced(frame.type, frame.seq, frame.data, frame.id);
    case 'ack':
      return `a${frame.ack}`;
    case 'ping':
      return frame.ack === undefined ? 'p' : `p${frame.ack}`;
    case 'pong':
      return frame.ack === undefined ? 'o' : `o${frame.ack}`;
    default:
      return JSON.stringify(frame);
  }
}

/** The shortest unsigned LEB128 form of `value`. */
export function varint(value: number): number[] {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
  return bytes;
}

/** UTF-8 bytes of `text`, without encoding it. */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/** Bytes on the wire of a frame: UTF-8 for text. Cheap for short text, exact for long. */
export function wireLength(frame: Wire, limit = Infinity): number {
  if (typeof frame !== 'string') return frame.byteLength;
  // A UTF-16 code unit is 1 to 3 bytes of UTF-8: skip the count when the answer is plain.
  if (frame.length * 3 <= limit) return frame.length;
  return utf8Length(frame);
}

// ---- reading ----

/**
 * Reads one frame as it came off the socket (a string for a text frame, the
 * bytes of a binary one). Returns the frame, or the fault; never throws.
 */
export function decode(raw: Wire): Decoded {
  return typeof raw === 'string' ? decodeText(raw) : decodeBinary(raw);
}

function decodeText(raw: string): Decoded {
  if (raw.length === 0) return fault('empty frame');
  const tag = raw.charCodeAt(0);
  switch (tag) {
    case TAG.message: {
      const colon = raw.indexOf(':', 1);
      if (colon < 0) return fault('m frame without ":"');
      const seq = decimal(raw, 1, colon);
      if (seq < 1) return fault('m frame: bad sequence number');
      return {ok: true, frame: {type: 'message', seq, data: raw.slice(colon + 1)}};
    }
    case TAG.request:
    case TAG.reply:
    case TAG['error-reply']: {
      const name = raw[0];
      const first = raw.indexOf(':', 1);
      const second = first < 0 ? -1 : raw.indexOf(':', first + 1);
      if (second < 0) return fault(`${name} frame without its two ":"`);
      const seq = decimal(raw, 1, first);
      if (seq < 1) return fault(`${name} frame: bad sequence number`);
      const id = decimal(raw, first + 1, second);
      if (id < 1) return fault(`${name} frame: bad request id`);
      const data = raw.slice(second + 1);
      const type = tag === TAG.request ? 'request' : tag === TAG.reply ? 'reply' : 'error-reply';
      return {ok: true, frame: {type, seq, id, data}};
    }
    case TAG.ack: {
      const ack = decimal(raw, 1, raw.length);
      if (ack < 0) return fault('a frame: bad ack');
      return {ok: true, frame: {type: 'ack', ack}};
    }
    case TAG.ping:
    case TAG.pong: {
      const type = tag === TAG.ping ? 'ping' : 'pong';
      if (raw.length === 1) return {ok: true, frame: {type}};
      const ack = decimal(raw, 1, raw.length);
      if (ack < 0) return fault(`${raw[0]} frame: bad ack`);
      return {ok: true, frame: {type, ack}};
    }
    case TAG.control:
      return decodeControl(raw);
    default:
      return fault(`unknown frame ${JSON.stringify(raw.slice(0, 8))}`);
  }
}

/** The decimal number in `text[start, end)`, or -1 when it is not one (section 2.1). */
function decimal(text: string, start: number, end: number): number {
  const length = end - start;
  if (length < 1 || length > 16) return -1;
  if (length > 1 && text.charCodeAt(start) === 0x30) return -1;
  let value = 0;
  for (let i = start; i < end; i++) {
    const digit = text.charCodeAt(i) - 0x30;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value <= MAX_NUMBER ? value : -1;
}

function decodeBinary(raw: Uint8Array): Decoded {
  if (raw.byteLength === 0) return fault('empty binary frame');
  const tag = raw[0];
  if (tag !== TAG.message && tag !== TAG.request && tag !== TAG.reply) {
    return fault(`unknown binary frame 0x${tag.toString(16).padStart(2, '0')}`);
  }
  const name = String.fromCharCode(tag);
  const seq = readVarint(raw, 1);
  if (!seq || seq.value < 1) return fault(`binary ${name} frame: bad sequence number`);
  if (tag === TAG.message) {
    return {ok: true, frame: {type: 'message', seq: seq.value, data: raw.subarray(seq.end)}};
  }
  const id = readVarint(raw, seq.end);
  if (!id || id.value < 1) return fault(`binary ${name} frame: bad request id`);
  const type = tag === TAG.request ? 'request' : 'reply';
  return {ok: true, frame: {type, seq: seq.value, id: id.value, data: raw.subarray(id.end)}};
}

/** The varint at `bytes[start]`, and where it ends; undefined when there is none, or it is too long. */
function readVarint(bytes: Uint8Array, start: number): {value: number; end: number} | undefined {
  let value = 0;
  let scale = 1;
  for (let i = start; i < bytes.length && i < start + 8; i++) {
    const byte = bytes[i];
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return value <= MAX_NUMBER ? {value, end: i + 1} : undefined;
    scale *= 0x80;
  }
  return undefined;
}

const ID = /^[A-Za-z0-9_-]{1,128}$/;

function decodeControl(raw: string): Decoded {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return fault('control frame is not JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return fault('control frame is not a JSON object');
  }
  const fields = value as Record<string, unknown>;
  const type = fields.type;
  if (typeof type !== 'string') return fault('control frame without a string "type"');
  const bad = (field: string) => fault(`${type} frame: bad "${field}"`);
  const isCount = (field: string) => {
    const n = fields[field];
    return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= MAX_NUMBER;
  };
  const isId = (field: string) => typeof fields[field] === 'string' && ID.test(fields[field] as string);
  switch (type) {
    case 'hello':
      return {ok: true, frame: {type}};
    case 'end':
      return {ok: true, frame: {type}};
    case 'resume':
      for (const field of ['session', 'token']) if (!isId(field)) return bad(field);
      if (!isCount('ack')) return bad('ack');
      return {
        ok: true,
        frame: {
          type,
          session: fields.session as string,
          token: fields.token as string,
          ack: fields.ack as number,
        },
      };
    case 'session': {
      for (const field of ['session', 'token']) if (!isId(field)) return bad(field);
      for (const field of ['resumeWindow', 'maxFrame']) if (!isCount(field)) return bad(field);
      if (fields.refused !== undefined && fields.refused !== 'unknown-session') return bad('refused');
      const frame = {
        type,
        session: fields.session as string,
        token: fields.token as string,
        resumeWindow: fields.resumeWindow as number,
        maxFrame: fields.maxFrame as number,
      };
      return {ok: true, frame: fields.refused ? {...frame, refused: 'unknown-session'} : frame};
    }
    case 'resumed':
      for (const field of ['ack', 'maxFrame']) if (!isCount(field)) return bad(field);
      return {ok: true, frame: {type, ack: fields.ack as number, maxFrame: fields.maxFrame as number}};
    default:
      return fault(`unknown control frame ${JSON.stringify(type.slice(0, 20))}`);
  }
}
