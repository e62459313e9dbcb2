// On the server: the package's entries import in Node with no DOM, and
// React's renderToString of the tag gives its attributes and nothing else.
// No socket is made there, whatever the props say.
import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {createElement} from 'react';
import {renderToString} from 'react-dom/server';

describe('server-side rendering in Node', () => {
  it('renders the tag with its attributes, and makes no socket', async () => {
    let sockets = 0;
    globalThis.WebSocket = class {
      constructor() {
        sockets++;
      }
    };
    try {
      await import('ws-connection');
      assert.equal(typeof globalThis.document, 'undefined');
      const markup = renderToString(
        createElement(
          'main',
          null,
          createElement('ws-connection', {
            url: 'wss://example.com/feed',
            json: true,
            'heartbeat-interval': '5000',
            'onws-state': () => {},
          }),
        ),
      );
      assert.equal(
        markup,
        '<main><ws-connection url="wss://example.com/feed" json="" heartbeat-interval="5000"></ws-connection></main>',
      );
      assert.equal(sockets, 0);
    } finally {
      delete globalThis.WebSocket;
    }
  });
});
