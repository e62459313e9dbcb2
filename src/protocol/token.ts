/**
 * Session ids and resume tokens (docs/PROTOCOL.md, section 4.1): 128 random
 * bits each, written as base64url, and compared in constant time. The random
 * source comes in from outside — `crypto.getRandomValues` in a browser,
 * `randomFillSync` in Node — so this module needs neither.
 */

/** Fills `bytes` with cryptographically secure random bytes, as `crypto.getRandomValues` does. */
export type RandomSource = (bytes: Uint8Array) => unknown;

/** Random bits in an id or a token. */
export const TOKEN_BITS = 128;

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * A new 128-bit token (or session id) from `random`: 22 base64url characters.
 *
 * @example
 * const token = newToken((bytes) => crypto.getRandomValues(bytes));
 */
export function newToken(random: RandomSource): string {
  const bytes = new Uint8Array(TOKEN_BITS / 8);
  random(bytes);
  return base64url(bytes);
}

/**
 * `bytes` as base64url, without padding. Joined once, not added to piece by
 * piece: a string built with `+=` stays a tree of its pieces, several times
 * its size, for as long as it lives (a server keeps one per session).
 */
export function base64url(bytes: Uint8Array): string {
  const text: string[] = [];
  for (let i = 0; i < bytes.length; i += 3) {
    const chunk = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    const left = bytes.length - i;
    text.push(ALPHABET[(chunk >> 18) & 63], ALPHABET[(chunk >> 12) & 63]);
    if (left > 1) text.push(ALPHABET[(chunk >> 6) & 63]);
    if (left > 2) text.push(ALPHABET[chunk & 63]);
  }
  return text.join('');
}

/**
 * Whether `a` and `b` hold the same bytes, taking the same time wherever they
 * differ, so that the time of a refusal tells a guesser nothing. Different
 * lengths return false at once: the length of a token is no secret.
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a[i] ^ b[i];
  return difference === 0;
}

/** {@link constantTimeEqual} for two strings, compared by UTF-16 code units. */
export function constantTimeEqualText(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return difference === 0;
}
