import type {Environment} from '../client/environment.js';
import type {ShareEnvironment} from './environment.js';
import type {Hub} from './hub.js';

/** The page's hub for a key: `hubFor` of registry.ts, once its code is here. */
export type HubSource = (key: string, env: Environment, share: Partial<ShareEnvironment>) => Hub;

let source: HubSource | undefined;

/**
 * Sharing's code (the hub, the holder, the follower, the wire) is most of
 * what sharing costs, and a page that never shares should not pay for it:
 * the element and the controller load it on first use, by a dynamic import
 * (a chunk of its own in the CDN build). `ws-connection/shared.js` provides
 * it at once, so that a `SharedClient` made from there joins synchronously.
 */
export function provideHubs(hubs: HubSource): void {
  source = hubs;
}

/** The hub source when sharing's code is loaded already. */
export function loadedHubs(): HubSource | undefined {
  return source;
}

/** Loads sharing's code; resolves to the hub source. */
export async function loadHubs(): Promise<HubSource> {
  source ??= (await import('./registry.js')).hubFor;
  return source;
}
