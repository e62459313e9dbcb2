// `ws-connection/shared.js`: the engine with its socket shared across the
// page and the tabs of the origin. DOM-free, as `ws-connection/client.js` is.
export {SharedClient, type SharedClientEventMap, type SharedClientOptions} from './shared-client.js';
export type {ShareEnvironment} from './environment.js';
