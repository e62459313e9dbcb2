// `ws-connection/shared.js`: the engine with its socket shared across the
// page and the tabs of the origin. DOM-free, as `ws-connection/client.js` is.
// Importing it loads sharing's code at once: its clients join synchronously.
import {provideHubs} from './hubs.js';
import {hubFor} from './registry.js';

provideHubs(hubFor);

export {SharedClient, type SharedClientEventMap, type SharedClientOptions} from './shared-client.js';
export type {ShareEnvironment} from './environment.js';
