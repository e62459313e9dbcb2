import {css, html, LitElement, nothing, type PropertyValues} from 'lit';
import {property, state} from 'lit/decorators.js';
import {numberAttribute} from './attributes.js';
import type {WsClientOptions} from './client/options.js';
import {ConnectionState, WsClient} from './client/ws-client.js';
import {connectionEvent} from './events.js';
import {statusText} from './status-text.js';

/**
 * Element properties that are engine options of the same name. Their defaults
 * are written out below, where the manifest analyzer can read them; a test
 * keeps them equal to the engine's.
 */
const OPTION_PROPERTIES = [
  'url',
  'urlProvider',
  'protocols',
  'heartbeatInterval',
  'timeout',
  'pingMessage',
  'pongMessage',
  'reconnectDelay',
  'maxReconnectDelay',
  'maxRetries',
  'stopCodes',
  'queueLimit',
  'json',
  'binaryType',
  'openMessages',
] as const satisfies readonly (keyof WsClientOptions)[];

/**
 * Keeps a WebSocket alive: heartbeats that notice a half-open connection,
 * reconnects with backoff and jitter, one socket at a time, a queue for
 * messages sent while disconnected, and a small status area.
 *
 * @summary A WebSocket that stays connected, with events any page or framework can listen to.
 *
 * @fires ws-state - The connection changed state; `detail` is `{state, previousState, attempt, code?, reason?, delay?}` (bubbles, composed).
 * @fires ws-message - A message arrived; `detail.data` is a string, Blob or ArrayBuffer, or with `json` the parsed value (bubbles, composed).
 * @fires ws-error - Something went wrong; `detail` is `{kind, message, error?}` (bubbles, composed).
 *
 * @attr {'idle' | 'connecting' | 'open' | 'reconnecting' | 'offline' | 'closed'} state - Reflects the connection state (read-only), so CSS can select `ws-connection[state=open]`.
 *
 * @slot - Content shown before the status area.
 * @slot status - Replaces the default status text.
 *
 * @csspart status - The status area (`role="status"`).
 *
 * @cssprop --ws-connection-status-color - Text colour of the status area.
 * @cssprop --ws-connection-status-font - Font of the status area.
 * @cssprop --ws-connection-indicator-size - Size of the state dot.
 * @cssprop --ws-connection-open-color - Dot colour while open.
 * @cssprop --ws-connection-pending-color - Dot colour while connecting or reconnecting.
 * @cssprop --ws-connection-down-color - Dot colour while offline or closed.
 */
export class WsConnection extends LitElement {
  static override styles = css`
    :host {
      display: block;
    }
    :host([hide-status]) [part='status'] {
      display: none;
    }
    [part='status'] {
      display: inline-flex;
      align-items: center;
      gap: 0.4em;
      color: var(--ws-connection-status-color, inherit);
      font: var(--ws-connection-status-font, inherit);
    }
    .indicator {
      inline-size: var(--ws-connection-indicator-size, 0.6em);
      block-size: var(--ws-connection-indicator-size, 0.6em);
      border-radius: 50%;
      background: currentColor;
      opacity: 0.5;
      flex: none;
    }
    :host([state='open']) .indicator {
      background: var(--ws-connection-open-color, #1a7f37);
      opacity: 1;
    }
    :host([state='connecting']) .indicator,
    :host([state='reconnecting']) .indicator {
      background: var(--ws-connection-pending-color, #9a6700);
      opacity: 1;
    }
    :host([state='offline']) .indicator,
    :host([state='closed']) .indicator {
      background: var(--ws-connection-down-color, #cf222e);
      opacity: 1;
    }
  `;

  /** `ws:`/`wss:`/`http:`/`https:` URL, or a path (`/ws`) resolved against the page. Changing it reconnects. */
  @property() url?: string;

  /** Subprotocols, separated by commas or spaces. */
  @property() protocols?: string;

  /** ms without sending or receiving after which a ping goes out; `0` turns heartbeats off. */
  @property({attribute: 'heartbeat-interval', converter: numberAttribute})
  heartbeatInterval = 30_000;

  /** ms to wait for anything after a ping before the connection is declared dead; also the longest a connect attempt may take. */
  @property({converter: numberAttribute}) timeout = 10_000;

  /** The heartbeat payload. */
  @property({attribute: 'ping-message'}) pingMessage = 'ping';

  /** An inbound message equal to this is a heartbeat reply and is not dispatched as `ws-message`. */
  @property({attribute: 'pong-message'}) pongMessage = 'pong';

  /** ms: base delay of the first retry; it doubles with each retry, with jitter. */
  @property({attribute: 'reconnect-delay', converter: numberAttribute})
  reconnectDelay = 1000;

  /** ms: cap on the retry delay. */
  @property({attribute: 'max-reconnect-delay', converter: numberAttribute})
  maxReconnectDelay = 30_000;

  /** Retries after which the element stops (`closed`, `ws-error` kind `retries-exhausted`); `0` never reconnects. */
  @property({attribute: 'max-retries', converter: numberAttribute})
  maxRetries = Infinity;

  /** Server close codes after which no retry is made: `1000 1008 4000-4099`. */
  @property({attribute: 'stop-codes'}) stopCodes = '1000 1008';

  /** Messages held while not open; beyond it `send()` returns false. */
  @property({attribute: 'queue-limit', converter: numberAttribute})
  queueLimit = 1000;

  /** Parse inbound text as JSON into `detail.data`; `send(object)` serialises. */
  @property({type: Boolean}) json = false;

  /** As on WebSocket: `blob` or `arraybuffer`. */
  @property({attribute: 'binary-type'}) binaryType: 'blob' | 'arraybuffer' = 'blob';

  /** Do not connect on insertion; `connect()` starts it. */
  @property({type: Boolean}) manual = false;

  /** Hide the status area. */
  @property({type: Boolean, attribute: 'hide-status', reflect: true}) hideStatus = false;

  /** Called before every attempt for the URL (fresh tokens); may return a promise. */
  @property({attribute: false}) urlProvider?: () => string | Promise<string>;

  /** Sent on every open, before queued messages (subscriptions to renew after a reconnect). */
  @property({attribute: false}) openMessages: unknown[] = [];

  /** Ticks once a second while `reconnecting`, for the countdown. */
  @state() private now = Date.now();

  readonly #client = new WsClient();
  /** `connect()` was called: re-insertion reconnects even with `manual`. */
  #started = false;
  #countdown: ReturnType<typeof setInterval> | undefined;
  /** Code and reason of the close behind the current state, shown while `closed`. */
  #lastClose: {code?: number; reason?: string | undefined} | undefined;

  constructor() {
    super();
    this.#client.on('state', (detail) => {
      this.#lastClose = detail.code === undefined ? undefined : {code: detail.code, reason: detail.reason};
      this.#reflectState();
      this.#tickWhileReconnecting();
      this.requestUpdate();
      this.dispatchEvent(connectionEvent('ws-state', detail));
    });
    this.#client.on('message', (detail) => this.dispatchEvent(connectionEvent('ws-message', detail)));
    this.#client.on('error', (detail) => this.dispatchEvent(connectionEvent('ws-error', detail)));
    this.#client.on('latency', () => this.requestUpdate());
  }

  /** `idle`, `connecting`, `open`, `reconnecting`, `offline` or `closed`; reflected as the `state` attribute. */
  get state(): ConnectionState {
    return this.#client.state;
  }
  /** Retries since the last stable open. */
  get attempt(): number {
    return this.#client.attempt;
  }
  /** ms of the last ping→reply round trip, or undefined. */
  get latency(): number | undefined {
    return this.#client.latency;
  }
  /** Messages waiting to be sent. */
  get queued(): number {
    return this.#client.queued;
  }
  /** Epoch ms of the scheduled attempt, or undefined. */
  get nextRetryAt(): number | undefined {
    return this.#client.nextRetryAt;
  }

  /**
   * Sends now when open; otherwise queues (up to `queue-limit`) and sends in
   * order after the next open. Returns false when the message was not
   * accepted, and a `ws-error` says why. Never throws.
   *
   * @example
   * el.send(JSON.stringify({subscribe: 'prices'}));
   */
  send(data: unknown): boolean {
    return this.#client.send(data);
  }

  /** Starts, or retries at once, skipping any scheduled delay. */
  connect(): void {
    this.#started = true;
    this.#configure(OPTION_PROPERTIES);
    this.#client.connect();
  }

  /** Closes and stops reconnecting. Messages still queued are reported by one `ws-error` of kind `queue-discarded`. */
  close(code?: number, reason?: string): void {
    this.#client.close(code, reason);
  }

  /** Drops the current socket and connects again at once. */
  reconnect(): void {
    this.#started = true;
    this.#configure(OPTION_PROPERTIES);
    this.#client.reconnect();
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.#reflectState();
    if (!this.manual || this.#started) {
      this.#configure(OPTION_PROPERTIES);
      this.#client.connect();
    }
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    // A move within the document removes and re-inserts in the same task;
    // only an element still detached afterwards lets its connection go.
    queueMicrotask(() => {
      if (!this.isConnected) {
        this.#client.pause('element removed');
        this.#tickWhileReconnecting();
      }
    });
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    const options = OPTION_PROPERTIES.filter((name) => changed.has(name));
    if (options.length && this.isConnected) this.#configure(options);
  }

  protected override render() {
    return html`<slot></slot
      ><span part="status" role="status"
        ><slot name="status"
          ><span class="indicator" aria-hidden="true"></span>${this.#renderStatusText()}</slot
        ></span
      >`;
  }

  #renderStatusText() {
    const {text, countdown} = statusText({
      state: this.state,
      attempt: this.attempt,
      latency: this.latency,
      nextRetryAt: this.nextRetryAt,
      now: this.now,
      close: this.#lastClose,
    });
    // The countdown changes every second: hidden from assistive technology so
    // the live region announces the state, not each tick.
    return html`<span>${text}</span
      >${countdown ? html`<span aria-hidden="true">${countdown}</span>` : nothing}`;
  }

  #configure(names: readonly (typeof OPTION_PROPERTIES)[number][]): void {
    const options: Partial<WsClientOptions> = {};
    for (const name of names) (options as Record<string, unknown>)[name] = this[name];
    this.#client.configure(options);
  }

  #reflectState(): void {
    if (this.getAttribute('state') !== this.state) this.setAttribute('state', this.state);
  }

  #tickWhileReconnecting(): void {
    const reconnecting = this.state === ConnectionState.reconnecting && this.isConnected;
    if (reconnecting && this.#countdown === undefined) {
      this.#countdown = setInterval(() => (this.now = Date.now()), 1000);
    } else if (!reconnecting && this.#countdown !== undefined) {
      clearInterval(this.#countdown);
      this.#countdown = undefined;
    }
    this.now = Date.now();
  }
}
