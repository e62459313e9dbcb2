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
 * connects, lets go when it is removed, and re-renders the host on every
 * state change. A host moved within the document in one task (a keyed list
 * reordered) keeps its connection as it was.
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
  /** The host was removed, and it is not yet known whether for good or for a move within this task. */
  #leaving = false;

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
    // Insertion resumes only what removal paused: a move changes nothing.
    const moved = this.#leaving;
    this.#leaving = false;
    if (!moved && (!this.#manual || this.#started)) this.client.connect();
  }

  hostDisconnected(): void {
    this.#leaving = true;
    queueMicrotask(() => {
      if (!this.#leaving) return;
      this.#leaving = false;
      this.client.pause('host disconnected');
      this.#host.requestUpdate();
    });
  }
}
