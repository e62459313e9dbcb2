// ws-connection/server.js: the server's half, for Node's `ws` package.
export {keepAlive, KEEP_ALIVE_DEFAULTS} from './keep-alive.js';
export type {KeepAlive, KeepAliveOptions, KeepAliveServer, KeepAliveSocket} from './keep-alive.js';
