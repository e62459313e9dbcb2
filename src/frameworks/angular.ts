import {Directive, ElementRef, EventEmitter, inject, Input, Output} from '@angular/core';
import 'ws-connection';
import type {WsConnection, WsErrorEvent, WsMessageEvent, WsStateEvent} from 'ws-connection';

// Typed transforms, unlike Angular's `numberAttribute` and `booleanAttribute`
// (which take `unknown`): a template may write `json` or `timeout="5000"` as
// static attributes, and `[timeout]="'5s'"` is still an error.
function toNumber(value: number | `${number}`): number {
  return Number(value);
}
function toBoolean(value: boolean | ''): boolean {
  return value !== false;
}

/**
 * Makes `<ws-connection>` known to Angular's template compiler, so that
 * templates using it are type-checked without `CUSTOM_ELEMENTS_SCHEMA`:
 * each input is the element's property of the same name, typed as it is,
 * and the outputs give `$event` the type of the element's events. Importing
 * it defines the element.
 *
 * @example
 * ```ts
 * @Component({
 *   imports: [WsConnectionDirective],
 *   template: `<ws-connection [url]="url" json (ws-message)="onMessage($event)" />`,
 * })
 * ```
 */
@Directive({selector: 'ws-connection'})
export class WsConnectionDirective {
  readonly #element: WsConnection = inject<ElementRef<WsConnection>>(ElementRef).nativeElement;

  /** `ws:`/`wss:`/`http:`/`https:` URL, or a path (`/ws`) resolved against the page. Changing it reconnects. */
  @Input() set url(value: WsConnection['url']) {
    this.#element.url = value;
  }
  /** Subprotocols, separated by commas or spaces. */
  @Input() set protocols(value: WsConnection['protocols']) {
    this.#element.protocols = value;
  }
  /** ms without sending or receiving after which a ping goes out; `0` turns heartbeats off. */
  @Input({transform: toNumber}) set heartbeatInterval(value: WsConnection['heartbeatInterval']) {
    this.#element.heartbeatInterval = value;
  }
  /** ms to wait for anything after a ping, or for a connect attempt, before giving up on it. */
  @Input({transform: toNumber}) set timeout(value: WsConnection['timeout']) {
    this.#element.timeout = value;
  }
  /** The heartbeat payload. */
  @Input() set pingMessage(value: WsConnection['pingMessage']) {
    this.#element.pingMessage = value;
  }
  /** An inbound message equal to this is a heartbeat reply, not a `ws-message`. */
  @Input() set pongMessage(value: WsConnection['pongMessage']) {
    this.#element.pongMessage = value;
  }
  /** ms: base delay of the first retry. */
  @Input({transform: toNumber}) set reconnectDelay(value: WsConnection['reconnectDelay']) {
    this.#element.reconnectDelay = value;
  }
  /** ms: cap on the retry delay. */
  @Input({transform: toNumber}) set maxReconnectDelay(value: WsConnection['maxReconnectDelay']) {
    this.#element.maxReconnectDelay = value;
  }
  /** Retries after which the element stops; `0` never reconnects. */
  @Input({transform: toNumber}) set maxRetries(value: WsConnection['maxRetries']) {
    this.#element.maxRetries = value;
  }
  /** Server close codes after which no retry is made: `1000 1008 4000-4099`. */
  @Input() set stopCodes(value: WsConnection['stopCodes']) {
    this.#element.stopCodes = value;
  }
  /** Messages held while not open. */
  @Input({transform: toNumber}) set queueLimit(value: WsConnection['queueLimit']) {
    this.#element.queueLimit = value;
  }
  /** Parse inbound text as JSON into `detail.data`; `send(object)` serialises. */
  @Input({transform: toBoolean}) set json(value: WsConnection['json']) {
    this.#element.json = value;
  }
  /** As on WebSocket: `blob` or `arraybuffer`. */
  @Input() set binaryType(value: WsConnection['binaryType']) {
    this.#element.binaryType = value;
  }
  /** Do not connect on insertion; `connect()` starts it. */
  @Input({transform: toBoolean}) set manual(value: WsConnection['manual']) {
    this.#element.manual = value;
  }
  /** One socket for every element with the same url and protocols, or the same name, in every tab. */
  @Input() set shared(value: WsConnection['shared']) {
    this.#element.shared = value;
  }
  /** Acknowledged delivery and session resume with a server that speaks the protocol; changing it reconnects. */
  @Input({transform: toBoolean}) set reliable(value: WsConnection['reliable']) {
    this.#element.reliable = value;
  }
  /** Hide the status area. */
  @Input({transform: toBoolean}) set hideStatus(value: WsConnection['hideStatus']) {
    this.#element.hideStatus = value;
  }
  /** Called before every attempt for the URL; assigning a new function never reconnects. */
  @Input() set urlProvider(value: WsConnection['urlProvider']) {
    this.#element.urlProvider = value;
  }
  /** Sent on every open, before queued messages; assigning a new array never reconnects. */
  @Input() set openMessages(value: WsConnection['openMessages']) {
    this.#element.openMessages = value;
  }
  /** The status area's words, in another language or your own. */
  @Input() set statusText(value: WsConnection['statusText']) {
    this.#element.statusText = value;
  }

  // Angular listens to the element's own event of the same name as well as
  // to an output, so these never emit: they are here for their types.
  /** The connection changed state. */
  @Output('ws-state') readonly wsState = new EventEmitter<WsStateEvent>();
  /** A message arrived. */
  @Output('ws-message') readonly wsMessage = new EventEmitter<WsMessageEvent>();
  /** Something went wrong; `detail.kind` says what. */
  @Output('ws-error') readonly wsError = new EventEmitter<WsErrorEvent>();
}
