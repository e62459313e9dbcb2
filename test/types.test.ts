// The public types: listeners are typed by event name on elements, document
// and window, and the tag is known to createElement. `npm run lint` compiles
// this file, so a broken type fails there; the test below runs it too.
import {expect} from '@open-wc/testing';
import '../src/index.js';
import {WsConnection} from '../src/index.js';
import type {ErrorKind, WsMessageEvent, WsStateEvent} from '../src/index.js';
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

  it('types the element by what it receives and sends: WsConnection<In, Out>', () => {
    type Price = {symbol: string; price: number};
    type Order = {buy: string; quantity: number};
    const el = document.createElement('ws-connection') as WsConnection<Price, Order>;
    el.manual = true;
    const prices: number[] = [];
    const onPrice = (event: WsMessageEvent<Price>) => prices.push(event.detail.data.price);
    el.addEventListener('ws-message', (event) => prices.push(event.detail.data.price));
    el.addEventListener('ws-message', (event) => {
      // @ts-expect-error -- not a field of Price
      void event.detail.data.cost;
    });
    el.addEventListener('ws-message', onPrice);
    el.removeEventListener('ws-message', onPrice);
    // The other events keep their types, the element's and any element's.
    el.addEventListener('ws-state', (event) => event.detail.previousState);
    el.addEventListener('click', (event) => event.clientX);
    // @ts-expect-error -- not a Price
    el.addEventListener('ws-message', (event: WsMessageEvent<Order>) => event.detail.data.quantity);
    expect(el.send({buy: 'ACME', quantity: 1})).to.be.a('boolean');
    // @ts-expect-error -- not an Order
    el.send({sell: 'ACME'});
    const ask = () => {
      const reply: Promise<Price> = el.request({buy: 'ACME', quantity: 2});
      const quote: Promise<{ok: true}> = el.request<{ok: true}>({buy: 'ACME', quantity: 3});
      // @ts-expect-error -- not an Order
      void el.request({sell: 'ACME'});
      return [reply, quote];
    };
    void ask;
    // Untyped, as before: anything in, anything out.
    const plain = document.createElement('ws-connection');
    plain.addEventListener('ws-message', (event) => {
      const data: unknown = event.detail.data;
      void data;
    });
    el.dispatchEvent(new CustomEvent('ws-message', {detail: {data: {symbol: 'ACME', price: 3}}}));
    expect(prices).to.deep.equal([3]);
    el.close();
  });

  it('types the messages in and out of the engine, the shared engine and the controller', async () => {
    const {WsClient} = await import('../src/client/index.js');
    const {SharedClient} = await import('../src/share/shared-client.js');
    type Price = {symbol: string; price: number};
    type Order = {buy: string; quantity: number};
    const seen: number[] = [];
    const client = new WsClient<Price, Order>({url: 'ws://127.0.0.1:9/', json: true});
    client.on('message', ({data}) => seen.push(data.price));
    // @ts-expect-error -- not a field of Price
    client.on('message', ({data}) => seen.push(data.cost));
    expect(client.send({buy: 'ACME', quantity: 1})).to.be.a('boolean');
    // @ts-expect-error -- not an Order
    client.send({sell: 'ACME'});
    const reply: Promise<Price> = client.request({buy: 'ACME', quantity: 2});
    const quote: Promise<{ok: true}> = client.request<{ok: true}>({buy: 'ACME', quantity: 3});
    const shared = new SharedClient<Price, Order>({url: 'ws://127.0.0.1:9/', json: true});
    shared.on('message', ({data}) => seen.push(data.price));
    // @ts-expect-error -- not a field of Price
    shared.on('message', ({data}) => seen.push(data.cost));
    // @ts-expect-error -- not an Order
    shared.send({sell: 'ACME'});
    const sharedReply: Promise<Price> = shared.request({buy: 'ACME', quantity: 4});
    await Promise.allSettled([reply, quote, sharedReply]);
    client.close();
    shared.close();
    // Untyped, as before: anything in, anything out.
    const plain = new WsClient({url: 'ws://127.0.0.1:9/'});
    plain.on('message', ({data}) => {
      const value: unknown = data;
      void value;
    });
    plain.send(42);
    plain.close();
    const onMessage = (event: WsMessageEvent<Price>) => seen.push(event.detail.data.price);
    void onMessage;
    // The controller, checked by the compiler only: it needs a Lit host to run.
    const {WebSocketController} = await import('../src/controller.js');
    const typedController = (host: import('@lit/reactive-element').ReactiveControllerHost) => {
      const socket = new WebSocketController<Price, Order>(host, {
        onMessage: (data) => seen.push(data.price),
      });
      // @ts-expect-error -- not an Order
      socket.send({sell: 'ACME'});
      const price: Promise<Price> = socket.request({buy: 'ACME', quantity: 5});
      return price;
    };
    void typedController;
    expect(seen).to.deep.equal([]);
  });
});
