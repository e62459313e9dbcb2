import {WsConnection} from './ws-connection.js';

// Tolerates an earlier definition of the tag (two copies of the package on one
// page), and a server, which has no registry: there the import defines nothing.
if (globalThis.customElements && !customElements.get('ws-connection')) {
  customElements.define('ws-connection', WsConnection);
}

declare global {
  interface HTMLElementTagNameMap {
    'ws-connection': WsConnection;
  }
}
