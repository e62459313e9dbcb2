import type {Environment} from '../client/environment.js';
import {defaultShareEnvironment, type ShareEnvironment} from './environment.js';
import {Hub} from './hub.js';

/**
 * The page's hub for `key`, made on first use, in the page's registry
 * (`share.registry`); the hub removes itself when its last member leaves.
 * What `given` leaves out of sharing's environment is the platform's.
 */
export function hubFor(key: string, env: Environment, given: Partial<ShareEnvironment>): Hub {
  const share = {...defaultShareEnvironment(), ...given};
  let hub = share.registry.get(key) as Hub | undefined;
  if (!hub) share.registry.set(key, (hub = new Hub(key, env, share)));
  return hub;
}
