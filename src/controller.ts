import type {ReactiveController, ReactiveControllerHost} from '@lit/reactive-element';
import type {Environment} from './client/environment.js';
import type {WsClientOptions} from './client/options.js';
import {type ConnectionState, type ErrorDetail, WsClient} from './client/ws-client.js';

export interface WebSocketControllerOptions extends Partial<WsClientOptions> {
  /** Called with each message (pongs excluded; parsed with `json`). */
  onMessage?: (data: unknown) => void;
  onError?: (error: ErrorDetail) => void;
  /** Do not connect when the host connects; call `connect()`. */
  manual?: boolean;
}

/**
 * The connection engine bound to a Lit element: connects when the host
 * connects, lets go when it disconnects, and re-renders the host on every
 * state change.
 *
 * @example
 * class PriceTicker extends LitElement {
 *   #socket = new WebSocketController(this, {
 *     url: '/prices',
 *     json: true,
 *     onMessage: (data) => (this.price = (data as {price: number}).price),
 *   });
 *   @state() price = 0;
 *   render() {
 *     return html`${this.#socket.state}: ${this.price}`;
 *   }
 * }
 */
export class WebSocketController implements ReactiveController {
  readonly client: WsClient;
  readonly #host: ReactiveControllerHost;
  readonly #manual: boolean;
  /** `connect()` was called: the host reconnecting reconnects even when manual. */
  #started = false;

  constructor(
    host: ReactiveControllerHost,
    {onMessage, onError, manual = false, ...options}: WebSocketControllerOptions = {},
    environment?: Partial<Environment>,
  ) {
    this.#host = host;
    this.#manual = manual;
    this.client = new WsClient(options, environment);
    this.client.on('state', () => host.requestUpdate());
    if (onMessage) this.client.on('message', ({data}) => onMessage(data));
    if (onError) this.client.on('error', onError);
    host.addController(this);
  }

  get state(): ConnectionState {
    return this.client.state;
  }

  /** Sends now, or queues until the next open; false (with an error) when not accepted. */
  send(data: unknown): boolean {
    return this.client.send(data);
  }

  connect(): void {
    this.#started = true;
    this.client.connect();
  }

  close(code?: number, reason?: string): void {
    this.client.close(code, reason);
  }

  hostConnected(): void {
    if (!this.#manual || this.#started) this.client.connect();
  }

  hostDisconnected(): void {
    this.client.pause('host disconnected');
    this.#host.requestUpdate();
  }
}
