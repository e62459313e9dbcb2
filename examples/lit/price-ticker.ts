// A Lit element that owns its connection through WebSocketController: it
// connects when the element connects, lets go when it is removed, and
// re-renders on every state change.
import {html, LitElement} from 'lit';
import {customElement, state} from 'lit/decorators.js';
import {WebSocketController} from 'ws-connection/controller.js';

@customElement('price-ticker')
export class PriceTicker extends LitElement {
  @state() private price?: number;

  readonly #socket = new WebSocketController(this, {
    url: '/prices',
    json: true,
    openMessages: [{subscribe: 'EURUSD'}],
    onMessage: (data) => (this.price = (data as {price: number}).price),
  });

  override render() {
    return html`<span>${this.#socket.state}</span> <strong>${this.price ?? '–'}</strong>`;
  }
}
