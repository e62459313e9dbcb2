// The public types: listeners are typed by event name on elements, document
// and window, and the tag is known to createElement. `npm run lint` compiles
// this file, so a broken type fails there; the test below runs it too.
import {expect} from '@open-wc/testing';
import '../src/index.js';
import {WsConnection} from '../src/index.js';
import type {ErrorKind, WsStateEvent} from '../src/index.js';
import {until} from './support/rig.js';

describe('public types', () => {
  it('types the tag, its events and their details, on the element and on document', async () => {
    const el = document.createElement('ws-connection');
    const kinds: ErrorKind[] = [];
    const changes: string[] = [];
    el.addEventListener('ws-message', (event) => {
      const data: unknown = event.detail.data;
      void data;
    });
    el.addEventListener('ws-error', (event) => kinds.push(event.detail.kind));
    const onState = (event: WsStateEvent) => {
      const state: 'idle' | 'connecting' | 'open' | 'reconnecting' | 'offline' | 'closed' =
        event.detail.state;
      // @ts-expect-error -- not a field of the ws-state detail
      void event.detail.data;
      changes.push(`${event.detail.previousState}→${state}`);
    };
    // Typed through GlobalEventHandlersEventMap: no cast needed on document.
    document.addEventListener('ws-state', onState);
    const writeState = () => {
      // @ts-expect-error -- the state is read-only
      el.state = 'open';
    };
    expect(writeState, 'read-only at run time too').to.throw(TypeError);
    expect(el).to.be.instanceOf(WsConnection);
    try {
      // Events the element itself dispatches: a refused URL, then a real attempt (to a closed port).
      el.url = 'ftp://nope.example/';
      document.body.append(el);
      await until(() => kinds.length === 1, {message: 'the invalid-url error'});
      el.url = 'ws://127.0.0.1:9/';
      await until(() => changes.length > 0, {message: 'a state change heard on document'});
      expect(kinds).to.deep.equal(['invalid-url']);
      expect(changes[0]).to.equal('idle→connecting');
    } finally {
      document.removeEventListener('ws-state', onState);
      el.close();
      el.remove();
    }
  });
});
