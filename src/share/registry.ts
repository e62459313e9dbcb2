import type {Environment} from '../client/environment.js';
import type {ShareEnvironment} from './environment.js';
import {Hub} from './hub.js';

/**
 * The page's hub for `key`, made on first use, in the page's registry
 * (`share.registry`); the hub removes itself when its last member leaves.
 */
export function hubFor(key: string, env: Environment, share: ShareEnvironment): Hub {
  let hub = share.registry.get(key) as Hub | undefined;
  if (!hub) share.registry.set(key, (hub = new Hub(key, env, share)));
  return hub;
}
