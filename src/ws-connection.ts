import {numberAttribute, sharedAttribute, textAttribute} from './attributes.js';
import {DEFAULT_OPTIONS, type WsClientOptions} from './client/options.js';
import {ConnectionState, WsClient} from './client/ws-client.js';
import {type ChangedProperties, ElementBase, type PropertyDeclarations} from './element-base.js';
import type {WsConnectionEventMap} from './events.js';
import {Placement} from './placement.js';
import {SharedClient} from './share/shared-client.js';
import {type StatusWords, statusText as wordsFor} from './status-text.js';

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
  'reliable',
] as const satisfies readonly (keyof WsClientOptions)[];

/**
 * Keeps a WebSocket alive: heartbeats that notice a half-open connection,
 * reconnects with backoff and jitter, one socket at a time, a queue for
 * messages sent while disconnected, and a small status area.
 *
 * @summary A WebSocket that stays connected, with events any page or framework can listen to.
 *
 * @fires {CustomEvent<StateChange>} ws-state - The connection changed state; `detail` is `{state, previousState, attempt, code?, reason?, delay?, resumed?}`; with `reliable`, `resumed` on `open` says whether the session carried on (bubbles, composed).
 * @fires {CustomEvent<MessageDetail>} ws-message - A message arrived; `detail.data` is a string, Blob or ArrayBuffer, or with `json` the parsed value (bubbles, composed).
 * @fires {CustomEvent<ErrorDetail>} ws-error - Something went wrong; `detail` is `{kind, message, error?, data?}` (bubbles, composed).
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
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- the interface below adds listener signatures, no member
export class WsConnection<In = unknown, Out = unknown> extends ElementBase {
  // One rule a line, written compactly: the CDN file carries this text as it is.
  static override styles = `
:host{display:block}
:host([hidden]),:host([hide-status]) [part='status']{display:none}
[part='status']{display:inline-flex;align-items:center;gap:0.4em;color:var(--ws-connection-status-color,inherit);font:var(--ws-connection-status-font,inherit)}
.indicator{inline-size:var(--ws-connection-indicator-size,0.6em);block-size:var(--ws-connection-indicator-size,0.6em);border-radius:50%;background:currentColor;opacity:0.5;flex:none}
:host([state='open']) .indicator{background:var(--ws-connection-open-color,#1a7f37);opacity:1}
:host([state='connecting']) .indicator,:host([state='reconnecting']) .indicator{background:var(--ws-connection-pending-color,#9a6700);opacity:1}
:host([state='offline']) .indicator,:host([state='closed']) .indicator{background:var(--ws-connection-down-color,#cf222e);opacity:1}
`;

  // Removing an attribute restores the engine's default.
  static override properties: PropertyDeclarations = {
    url: {converter: textAttribute(undefined)},
    protocols: {converter: textAttribute(undefined)},
    heartbeatInterval: {
      attribute: 'heartbeat-interval',
      converter: numberAttribute(DEFAULT_OPTIONS.heartbeatInterval),
    },
    timeout: {converter: numberAttribute(DEFAULT_OPTIONS.timeout)},
    pingMessage: {attribute: 'ping-message', converter: textAttribute(DEFAULT_OPTIONS.pingMessage)},
    pongMessage: {attribute: 'pong-message', converter: textAttribute(DEFAULT_OPTIONS.pongMessage)},
    reconnectDelay: {
      attribute: 'reconnect-delay',
      converter: numberAttribute(DEFAULT_OPTIONS.reconnectDelay),
    },
    maxReconnectDelay: {
      attribute: 'max-reconnect-delay',
      converter: numberAttribute(DEFAULT_OPTIONS.maxReconnectDelay),
    },
    maxRetries: {attribute: 'max-retries', converter: numberAttribute(DEFAULT_OPTIONS.maxRetries)},
    stopCodes: {attribute: 'stop-codes', converter: textAttribute('1000 1008')},
    queueLimit: {attribute: 'queue-limit', converter: numberAttribute(DEFAULT_OPTIONS.queueLimit)},
    json: {type: Boolean},
    binaryType: {attribute: 'binary-type', converter: textAttribute(DEFAULT_OPTIONS.binaryType)},
    manual: {type: Boolean},
    shared: {converter: sharedAttribute},
    reliable: {type: Boolean},
    hideStatus: {type: Boolean, attribute: 'hide-status', reflect: true},
    urlProvider: {attribute: false},
    openMessages: {attribute: false},
    statusText: {attribute: false},
  };

  /** `ws:`/`wss:`/`http:`/`https:` URL, or a path (`/ws`) resolved against the page. Changing it reconnects. */
  url?: string;

  /** Subprotocols, separated by commas or spaces. */
  protocols?: string;

  /** ms without sending or receiving after which a ping goes out; `0` turns heartbeats off. */
  heartbeatInterval = 30_000;

  /** ms to wait for anything after a ping before the connection is declared dead; also the longest a connect attempt may take. */
  timeout = 10_000;

  /** The heartbeat payload. */
  pingMessage = 'ping';

  /** An inbound message equal to this is a heartbeat reply and is not dispatched as `ws-message`. */
  pongMessage = 'pong';

  /** ms: base delay of the first retry; it doubles with each retry, with jitter. */
  reconnectDelay = 1000;

  /** ms: cap on the retry delay. */
  maxReconnectDelay = 30_000;

  /** Retries after which the element stops (`closed`, `ws-error` kind `retries-exhausted`); `0` never reconnects. */
  maxRetries: number = Infinity;

  /** Server close codes after which no retry is made: `1000 1008 4000-4099`. */
  stopCodes = '1000 1008';

  /** Messages held while not open; beyond it `send()` returns false. */
  queueLimit = 1000;

  /** Parse inbound text as JSON into `detail.data`; `send(object)` serialises. */
  json = false;

  /** As on WebSocket: `blob` or `arraybuffer`. */
  binaryType: 'blob' | 'arraybuffer' = 'blob';

  /** Do not connect on insertion; `connect()` starts it. */
  manual = false;

  /**
   * One socket for every `<ws-connection shared>` with the same url and
   * protocols, or with the same name (`shared="prices"`), in every tab,
   * window and same-origin frame of the origin. `leader` tells whether this
   * page holds it.
   */
  shared: boolean | string = false;

  /**
   * Acknowledged delivery and session resume with a server that speaks the
   * protocol (`reliable(wss)` from `ws-connection/server.js`): every message
   * reaches the other side exactly once and in order across reconnects
   * within the session's resume window, and `request()` works. Offers the
   * subprotocol `ws-connection.reliable.v1` after `protocols`; changing it
   * reconnects.
   */
  reliable = false;

  /** Hide the status area. */
  hideStatus = false;

  /**
   * The status area's words, in another language or your own: functions of
   * the state, the attempt, the countdown and the latency, which come
   * formatted with `Intl` for the element's `lang` (or the nearest
   * ancestor's, as `<html lang>`; English without one). Those left out stay
   * English.
   *
   * @example
   * el.statusText = {
   *   state: (state) => ({open: 'Verbunden', connecting: 'Verbinde…'})[state] ?? state,
   *   reconnecting: (attempt) => `Neuer Versuch ${attempt}`,
   *   retryIn: (seconds) => ` in ${seconds}`,
   * };
   */
  statusText: Partial<StatusWords> = {};

  /**
   * Called before every attempt for the URL (fresh tokens); may return a
   * promise. Assigning a new function never reconnects: it is called from
   * the next attempt.
   */
  urlProvider?: () => string | Promise<string>;

  /**
   * Sent on every open, before queued messages (subscriptions to renew after
   * a reconnect). Assigning a new array never reconnects: it is sent from
   * the next open.
   */
  openMessages: unknown[] = [];

  #client: WsClient | SharedClient = this.#bind(new WsClient());
  // Insertion resumes only what removal paused; a move changes nothing.
  readonly #placement = new Placement((change) => {
    if (change === 'removed') this.#client.pause('element removed');
    this.#tickWhileReconnecting();
    if (!this.#placement.inDocument) return;
    const requested =
      this.#onInsert ?? (change === 'inserted' && (!this.manual || this.#started) ? 'connect' : undefined);
    this.#onInsert = undefined;
    if (requested) this.#call(requested);
  });
  /** `connect()` was called: re-insertion reconnects even with `manual`. */
  #started = false;
  /** `connect()` or `reconnect()` called while detached: done on insertion. */
  #onInsert: 'connect' | 'reconnect' | undefined;
  #countdown: ReturnType<typeof setInterval> | undefined;
  #status: {text: Text; detail: Text} | undefined;
  /** Code and reason of the close behind the current state, shown while `closed`. */
  #lastClose: {code?: number; reason?: string | undefined} | undefined;

  /** Listens to a client; what it says after it was replaced (`shared` changed) is not heard. */
  #bind<C extends WsClient | SharedClient>(client: C): C {
    const current = () => client === this.#client;
    const on = client.on.bind(client) as WsClient['on'];
    on('state', (detail) => {
      if (!current()) return;
      this.#lastClose = detail.code === undefined ? undefined : {code: detail.code, reason: detail.reason};
      this.#reflectState();
      this.#tickWhileReconnecting();
      this.requestUpdate();
      this.dispatchEvent(connectionEvent('ws-state', detail));
    });
    on('message', (detail) => current() && this.dispatchEvent(connectionEvent('ws-message', detail)));
    on('error', (detail) => current() && this.dispatchEvent(connectionEvent('ws-error', detail)));
    on('latency', () => this.requestUpdate());
    if (client instanceof SharedClient) client.on('leader', () => this.requestUpdate());
    return client;
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
  /** `true` when this page holds the socket (always, without `shared`); `false` while another tab holds it. */
  get leader(): boolean {
    return this.#client instanceof SharedClient ? this.#client.leader : true;
  }

  /**
   * Sends now when open; otherwise queues (up to `queue-limit`) and sends in
   * order after the next open. Returns false when the message was not
   * accepted, and a `ws-error` says why. Never throws.
   *
   * @example
   * el.send(JSON.stringify({subscribe: 'prices'}));
   */
  send(data: Out): boolean {
    return this.#client.send(data);
  }

  /**
   * With `reliable`: sends a request and resolves with the server's reply
   * (parsed with `json`). Rejects with an `Error` whose `kind` says why:
   * `request-timeout` (no reply within `timeout` ms, by default the
   * element's `timeout`), `closed` (`close()`, a closed element, or no
   * reliable connection), `session-lost`, `error-reply` (the server's
   * handler failed), `send-failed` or `parse-error`. It never hangs.
   *
   * @example
   * const profile = await el.request({get: 'profile'}, {timeout: 5000});
   */
  request<Reply = In>(data: Out, options?: {timeout?: number}): Promise<Reply> {
    // Properties set in this task reach the engine with the next update: a request made meanwhile needs them now.
    if (this.state === ConnectionState.idle) this.#configure(['reliable', 'json', 'timeout']);
    return this.#client.request<Reply>(data, options);
  }

  /**
   * Starts, or retries at once, skipping any scheduled delay, with a fresh
   * retry budget. On an element that is not in the document, it happens on
   * insertion: a detached element holds no socket.
   */
  connect(): void {
    this.#call('connect');
  }

  /** Closes and stops reconnecting. Messages still queued are reported by one `ws-error` of kind `queue-discarded`. */
  close(code?: number, reason?: string): void {
    this.#onInsert = undefined;
    this.#client.close(code, reason);
  }

  /** Drops the current socket and connects again at once, with a fresh retry budget. */
  reconnect(): void {
    this.#call('reconnect');
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.#reflectState();
    this.#placement.connected();
  }

  disconnectedCallback(): void {
    this.#placement.disconnected();
  }

  #call(method: 'connect' | 'reconnect'): void {
    this.#started = true;
    if (!this.#placement.inDocument) {
      this.#onInsert = method;
      return;
    }
    this.#matchShared();
    this.#configure(OPTION_PROPERTIES);
    this.#client[method]();
  }

  /**
   * Uses a shared client when `shared` says so, and a client of its own
   * otherwise. On a change, what waited to be sent moves to the new client,
   * and a connection in use is made again through it.
   */
  #matchShared(): void {
    const share =
      this.shared === false || this.shared == null ? undefined : this.shared === true ? '' : `${this.shared}`;
    const old = this.#client;
    if (share === (old instanceof SharedClient ? old.share : undefined)) return;
    const carried: unknown[] = [];
    const running = old.state !== ConnectionState.idle && old.state !== ConnectionState.closed;
    const next = share === undefined ? new WsClient() : new SharedClient({share});
    next.configure(this.#options(OPTION_PROPERTIES));
    // A closed element stays closed, as it was: nothing changed, so nothing is said.
    if (old.state === ConnectionState.closed) next.close();
    this.#client = this.#bind(next);
    (old.on.bind(old) as WsClient['on'])(
      'error',
      ({kind, data}) => kind === 'queue-discarded' && carried.push(...(data as unknown[])),
    );
    old.close(1000, 'sharing changed');
    for (const data of carried) this.#client.send(data);
    if (running) this.#client.connect();
    this.requestUpdate();
  }

  protected override willUpdate(changed: ChangedProperties): void {
    if (changed.has('shared') && this.isConnected) this.#matchShared();
    const options = OPTION_PROPERTIES.filter((name) => changed.has(name));
    if (options.length && this.isConnected) this.#configure(options);
  }

  protected override update(changed: ChangedProperties): void {
    super.update(changed);
    this.#status ??= this.#renderStatusArea();
    // The page's language (`<html lang>`, or a nearer `lang`); English words go with English numbers.
    const lang = this.closest('[lang]')?.getAttribute('lang') || 'en';
    const {text, detail = ''} = wordsFor(
      {
        state: this.state,
        attempt: this.attempt,
        latency: this.latency,
        nextRetryAt: this.nextRetryAt,
        now: Date.now(),
        close: this.#lastClose,
        remote: !this.leader,
      },
      this.statusText,
      lang,
    );
    // Text nodes: words from the network (close reasons) never become markup.
    if (this.#status.text.data !== text) this.#status.text.data = text;
    if (this.#status.detail.data !== detail) this.#status.detail.data = detail;
  }

  /**
   * Builds the shadow DOM once; updates only change its two text nodes, which
   * is all lit-html would do here, without its weight in the bundle.
   */
  #renderStatusArea(): {text: Text; detail: Text} {
    const text = new Text();
    const detail = new Text();
    // The latency and the countdown change with every heartbeat or second:
    // hidden from assistive technology, so that the live region announces
    // the state, not each tick.
    this.shadowRoot!.append(
      element('slot'),
      element(
        'span',
        {part: 'status', role: 'status'},
        element(
          'slot',
          {name: 'status'},
          element('span', {class: 'indicator', 'aria-hidden': 'true'}),
          element('span', {}, text),
          element('span', {'aria-hidden': 'true'}, detail),
        ),
      ),
    );
    return {text, detail};
  }

  #configure(names: readonly (typeof OPTION_PROPERTIES)[number][]): void {
    this.#client.configure(this.#options(names));
  }

  #options(names: readonly (typeof OPTION_PROPERTIES)[number][]): Partial<WsClientOptions> {
    const options: Partial<WsClientOptions> = {};
    for (const name of names) (options as Record<string, unknown>)[name] = this[name];
    return options;
  }

  #reflectState(): void {
    if (this.getAttribute('state') !== this.state) this.setAttribute('state', this.state);
  }

  #tickWhileReconnecting(): void {
    const reconnecting = this.state === ConnectionState.reconnecting && this.isConnected;
    if (reconnecting && this.#countdown === undefined) {
      this.#countdown = setInterval(() => this.requestUpdate(), 1000);
    } else if (!reconnecting && this.#countdown !== undefined) {
      clearInterval(this.#countdown);
      this.#countdown = undefined;
    }
  }
}

type Listener<This, E> = (this: This, event: E) => unknown;

/**
 * Types the element's listeners by `In`: with `WsConnection<Price>`,
 * `addEventListener('ws-message', (event) => event.detail.data)` gets a
 * `Price`. Types only; the class above is the element.
 */
// eslint-disable-next-line @typescript-eslint/no-unused-vars -- `Out` as the class has it
export interface WsConnection<In = unknown, Out = unknown> {
  addEventListener<K extends keyof WsConnectionEventMap>(
    type: K,
    listener: Listener<this, WsConnectionEventMap<In>[K]>,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener<K extends keyof HTMLElementEventMap>(
    type: K,
    listener: Listener<this, HTMLElementEventMap[K]>,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject,
    options?: boolean | AddEventListenerOptions,
  ): void;
  removeEventListener<K extends keyof WsConnectionEventMap>(
    type: K,
    listener: Listener<this, WsConnectionEventMap<In>[K]>,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener<K extends keyof HTMLElementEventMap>(
    type: K,
    listener: Listener<this, HTMLElementEventMap[K]>,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject,
    options?: boolean | EventListenerOptions,
  ): void;
}

/** Events bubble and are composed, so a page can listen on `document`. */
function connectionEvent<K extends keyof WsConnectionEventMap>(
  type: K,
  detail: WsConnectionEventMap[K]['detail'],
): WsConnectionEventMap[K] {
  return new CustomEvent(type, {detail, bubbles: true, composed: true}) as WsConnectionEventMap[K];
}

function element(tag: string, attributes: Record<string, string> = {}, ...children: Node[]): HTMLElement {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}
