/** What other code, or another version of the library, may post on a key's channel: families of messages (junk.mjs). */
export function junkFamilies(
  now: number,
  as?: {holder?: string; term?: number; follower?: string},
): Record<string, unknown[]>;
