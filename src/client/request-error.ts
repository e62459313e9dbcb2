/**
 * Why a `request()` did not get its reply: `request-timeout` (no reply in
 * time), `closed` (`close()` was called, the client is closed, or the
 * connection is not reliable), `session-lost` (the server lost the session
 * the request was in), `error-reply` (the server answered with an error; the
 * message is its reason), `send-failed` (the request was not accepted: not
 * serialisable, too big, or the queue full) and `parse-error` (with `json`,
 * a reply that is not JSON).
 */
export type RequestErrorKind =
  'request-timeout' | 'closed' | 'session-lost' | 'error-reply' | 'send-failed' | 'parse-error';

/**
 * The error a `request()` promise rejects with.
 *
 * @example
 * try {
 *   await client.request({get: 'profile'}, {timeout: 5000});
 * } catch (error) {
 *   if (error instanceof RequestError && error.kind === 'request-timeout') retryLater();
 * }
 */
export class RequestError extends Error {
  /** Why the request failed. */
  readonly kind: RequestErrorKind;

  constructor(kind: RequestErrorKind, message: string) {
    super(message);
    this.name = 'RequestError';
    this.kind = kind;
  }
}
