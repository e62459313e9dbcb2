// The public types: listeners are typed by event name on elements, document
// and window, and the tag is known to createElement. `npm run lint` compiles
// this file, so a broken type fails there; the test below runs it too.
import {expect} from '@open-wc/testing';
import '../src/index.js';
import {WsConnection} from '../src/index.js';
import type {ErrorKind} from '../src/index.js';

describe('public types', () => {
  it('types the tag, its events and their details', () => {
    const el = document.createElement('ws-connection');
    const kinds: ErrorKind[] = [];
    el.addEventListener('ws-message', (event) => {
      const data: unknown = event.detail.data;
      void data;
    });
    el.addEventListener('ws-error', (event) => kinds.push(event.detail.kind));
    document.addEventListener('ws-state', (event) => {
      const state: 'idle' | 'connecting' | 'open' | 'reconnecting' | 'offline' | 'closed' =
        event.detail.state;
      void state;
      // @ts-expect-error -- not a field of the ws-state detail
      void event.detail.data;
    });
    const writeState = () => {
      // @ts-expect-error -- the state is read-only
      el.state = 'open';
    };
    expect(writeState, 'read-only at run time too').to.throw(TypeError);
    expect(el).to.be.instanceOf(WsConnection);
    el.dispatchEvent(new CustomEvent('ws-error', {detail: {kind: 'parse-error', message: 'x'}}));
    expect(kinds).to.deep.equal(['parse-error']);
  });
});
