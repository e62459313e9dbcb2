import type {createLink} from './reliable.js';

/** Makes a reliable link: `createLink` of reliable.ts, once its code is here. */
export type LinkSource = typeof createLink;

let source: LinkSource | undefined;

/**
 * The delivery protocol's code is most of what `reliable` costs, and a page
 * that never turns it on should not pay for it: the engine loads it on first
 * use, by a dynamic import (a chunk of its own in the CDN build), as the
 * element loads sharing's code.
 */
export function loadedLink(): LinkSource | undefined {
  return source;
}

/** Loads the delivery protocol's code; resolves to the link source. */
export async function loadLink(): Promise<LinkSource> {
  source ??= (await import('./reliable.js')).createLink;
  return source;
}
