import {toPayload} from './payload.js';
import type {ErrorDetail, ErrorKind} from './ws-client.js';

/** An error's detail, with `error` and `data` only when there are some. */
export function errorDetail(
  kind: ErrorKind,
  message: string,
  {error, data}: {error?: unknown; data?: unknown} = {},
): ErrorDetail {
  const detail: ErrorDetail = {kind, message};
  if (error !== undefined) detail.error = error;
  if (data !== undefined) detail.data = data;
  return detail;
}

/** What `admit` needs to know of the client. */
export interface Admission {
  closed: boolean;
  json: boolean;
  queueLimit: number;
  /** It goes out at once, so the queue limit does not apply. */
  direct: boolean;
}

/**
 * The messages `send()` accepted and a client has not yet handed on, in
 * order: what is accepted, how it is serialised, the queue limit, and the
 * one `queue-discarded` error when the client closes, with the same rules
 * and the same words for `WsClient` and `SharedClient`.
 *
 * @example
 * const queue = new Outgoing<{data: unknown; payload: unknown}>((detail) => emit('error', detail));
 * const payload = queue.admit(data, {closed: false, json: true, queueLimit: 1000, direct: false});
 * if (payload !== undefined) queue.add({data, payload});
 */
export class Outgoing<T extends {data: unknown}> {
  #items: T[] = [];
  readonly #report: (detail: ErrorDetail) => void;

  constructor(report: (detail: ErrorDetail) => void) {
    this.#report = report;
  }

  get length(): number {
    return this.#items.length;
  }

  get items(): readonly T[] {
    return this.#items;
  }

  /**
   * The wire form of `data`, when the client may accept it: it is not
   * closed, the message can be serialised, and it goes out at once or fits
   * in the queue. Otherwise reports why, and returns undefined.
   */
  admit(data: unknown, {closed, json, queueLimit, direct}: Admission): unknown {
    if (closed) {
      this.#report(
        errorDetail('send-failed', 'the connection is closed: call connect() before sending', {data}),
      );
      return undefined;
    }
    const payload = this.serialize(data, json);
    if (payload === undefined || direct || this.#items.length < queueLimit) return payload;
    this.#report(errorDetail('queue-overflow', `the queue holds ${queueLimit} messages already`, {data}));
    return undefined;
  }

  /** The wire form of `data`; undefined, with a `send-failed` error, when it has none. */
  serialize(data: unknown, json: boolean): unknown {
    const result = toPayload(data, json);
    if ('payload' in result) return result.payload;
    this.#report(errorDetail('send-failed', result.problem, {error: result.error, data}));
    return undefined;
  }

  add(item: T): void {
    this.#items.push(item);
  }

  /** Puts `items` back before everything held (what a reliable session gave back goes first). */
  requeue(items: readonly T[]): void {
    this.#items = [...items, ...this.#items];
  }

  /** Everything held, in order; the queue is empty after. */
  take(): T[] {
    return this.#items.splice(0);
  }

  /** Lets go of the first messages, as long as `done` says so of each. */
  dropWhile(done: (item: T) => boolean): void {
    let count = 0;
    while (count < this.#items.length && done(this.#items[count]!)) count++;
    if (count) this.#items.splice(0, count);
  }

  /**
   * The client closed: what was held is reported, once, and let go. `fate`
   * says what became of it (a reliable session's messages may have been
   * sent, and not acknowledged).
   */
  discard(fate = 'were not sent'): void {
    const discarded = this.take().map(({data}) => data);
    if (!discarded.length) return;
    this.#report(
      errorDetail('queue-discarded', `${discarded.length} queued messages ${fate}`, {data: discarded}),
    );
  }
}
