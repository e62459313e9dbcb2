import type {Environment} from './client/environment.js';
import type {WsClientOptions} from './client/options.js';
import {type ConnectionState, type ErrorDetail, WsClient} from './client/ws-client.js';
import {Placement} from './placement.js';
import {SharedClient} from './share/shared-client.js';

/**
 * Lit's `ReactiveController` and `ReactiveControllerHost`, as Lit declares
 * them: any LitElement or ReactiveElement is such a host. Written out here so
 * that the package's types need no Lit of their own.
 */
interface ReactiveController {
  hostConnected?(): void;
  hostDisconnected?(): void;
  hostUpdate?(): void;
  hostUpdated?(): void;
}
interface ReactiveControllerHost {
  addController(controller: ReactiveController): void;
  removeController(controller: ReactiveController): void;
  requestUpdate(): void;
  readonly updateComplete: Promise<boolean>;
}

/** `In`: what the server's messages are, as `onMessage` gets them. */
export interface WebSocketControllerOptions<In = unknown> extends Partial<WsClientOptions> {
  /** Called with each message (pongs excluded; parsed with `json`). */
  onMessage?: (data: In) => void;
  onError?: (error: ErrorDetail) => void;
  /** Do not connect when the host connects; call `connect()`. */
  manual?: boolean;
  /**
   * Share one socket with every client of the same url and protocols (`true`)
   * or of the same name, in this page and in every tab of the origin.
   */
  shared?: boolean | string;
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
export class WebSocketController<In = unknown, Out = unknown> implements ReactiveController {
  readonly client: WsClient<In, Out> | SharedClient<In, Out>;
  readonly #host: ReactiveControllerHost;
  readonly #manual: boolean;
  /** `connect()` was called: the host reconnecting reconnects even when manual. */
  #started = false;
  /** `connect()` called while the host was out of the document: done on insertion. */
  #connectOnInsert = false;
  // Insertion resumes only what removal paused; a move changes nothing.
  readonly #placement = new Placement((change) => {
    if (change === 'removed') {
      this.client.pause('host removed');
      this.#host.requestUpdate();
    }
    if (!this.#placement.inDocument) return;
    if (this.#connectOnInsert || (change === 'inserted' && (!this.#manual || this.#started))) {
      this.#connectOnInsert = false;
      this.client.connect();
    }
  });

  constructor(
    host: ReactiveControllerHost,
    {onMessage, onError, manual = false, shared = false, ...options}: WebSocketControllerOptions<In> = {},
    environment?: Partial<Environment>,
  ) {
    this.#host = host;
    this.#manual = manual;
    this.client =
      shared === false
        ? new WsClient<In, Out>(options, environment)
        : new SharedClient<In, Out>({...options, share: shared === true ? '' : shared}, environment);
    const on = this.client.on.bind(this.client) as WsClient<In, Out>['on'];
    on('state', () => host.requestUpdate());
    if (onMessage) on('message', ({data}) => onMessage(data));
    if (onError) on('error', onError);
    host.addController(this);
  }

  get state(): ConnectionState {
    return this.client.state;
  }

  /** False while another tab holds the shared socket. */
  get leader(): boolean {
    return this.client instanceof SharedClient ? this.client.leader : true;
  }

  /**
   * With the `reliable` option: sends a request and resolves with the
   * server's reply; rejects with an `Error` whose `kind` says why
   * (`request-timeout`, `closed`, `session-lost`, …). It never hangs.
   *
   * @example
   * const price = await this.#socket.request({quote: 'ACME'}, {timeout: 2000});
   */
  request<Reply = In>(data: Out, options?: {timeout?: number}): Promise<Reply> {
    return this.client.request<Reply>(data, options);
  }

  /** Sends now, or queues until the next open; false (with an error) when not accepted. */
  send(data: Out): boolean {
    return this.client.send(data);
  }

  /** Starts, or retries at once; on a host out of the document, on its insertion. */
  connect(): void {
    this.#started = true;
    if (this.#placement.inDocument) this.client.connect();
    else this.#connectOnInsert = true;
  }

  close(code?: number, reason?: string): void {
    this.#connectOnInsert = false;
    this.client.close(code, reason);
  }

  hostConnected(): void {
    this.#placement.connected();
  }

  hostDisconnected(): void {
    this.#placement.disconnected();
  }
}
