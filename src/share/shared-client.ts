import {Emitter} from '../client/emitter.js';
import {defaultEnvironment, type Environment} from '../client/environment.js';
import {
  DEFAULT_OPTIONS,
  mergeOptions,
  protocolList,
  type ResolvedOptions,
  warnOnce,
  type WsClientOptions,
} from '../client/options.js';
import {errorDetail, Outgoing} from '../client/outgoing.js';
import {fromPayload} from '../client/payload.js';
import {RequestError} from '../client/request-error.js';
import {resolveSocketUrl} from '../client/url.js';
import {
  ConnectionState,
  type ErrorDetail,
  type ErrorKind,
  type StateChange,
  type WsClientEventMap,
} from '../client/ws-client.js';
import type {ShareEnvironment} from './environment.js';
import type {Hub} from './hub.js';
import {type HubSource, loadedHubs, loadHubs} from './hubs.js';
import type {HubMember, Sent} from './member.js';
import type {Final, Snapshot} from './wire.js';

export interface SharedClientOptions extends WsClientOptions {
  /**
   * The share key: clients with the same non-empty name share one socket;
   * with `''` (the default), clients with the same url and protocols do.
   */
  share: string;
}

export interface SharedClientEventMap<In = unknown> extends WsClientEventMap<In> {
  /** This page took the socket over, or handed it to another. */
  leader: {leader: boolean};
}

let lastId = 0;

/**
 * A `WsClient` that shares its socket: with every `SharedClient` of the same
 * key in the page, and through the page that holds it, with those of every
 * tab, window and same-origin frame of the origin. It has the interface of
 * `WsClient`, and `leader`.
 *
 * The socket's options are those of the first client of the holding page.
 * Each client keeps its own `json`, `binaryType`, `queueLimit`,
 * `openMessages` and events. What it sends is kept, in its order, until the
 * holder has written it; across a handover it is sent again: at least once.
 * With `reliable`, it is kept until the server acknowledges it, and the next
 * holder carries the session on: exactly once.
 *
 * @example
 * const feed = new SharedClient({url: 'wss://example.com/feed', json: true});
 * feed.on('message', ({data}) => render(data));
 * feed.connect(); // ten tabs, one connection
 */
export class SharedClient<In = unknown, Out = unknown> implements HubMember {
  readonly id = ++lastId;
  readonly #env: Environment;
  /** What it was given of sharing's environment; sharing's code fills in the platform's for the rest. */
  readonly #shareEnv: Partial<ShareEnvironment>;
  readonly #events: Emitter<SharedClientEventMap>;
  #options: ResolvedOptions = DEFAULT_OPTIONS;
  #share = '';
  /** The hub, while this client uses the socket (`connect()` was called, and not `close()` or `pause()`). */
  #hub: Hub | undefined;
  /** While sharing's code loads for this client's join: whether `reconnect()` was asked meanwhile. */
  #loading: {reconnect: boolean} | undefined;
  #state: ConnectionState = ConnectionState.idle;
  #attempt = 0;
  #latency: number | undefined;
  #seq = 0;
  readonly #unconfirmed = new Outgoing<Sent & {data: unknown}>((detail) =>
    this.#events.emit('error', detail),
  );
  readonly #warn = warnOnce();

  constructor(
    options: Partial<SharedClientOptions> = {},
    environment: Partial<Environment & ShareEnvironment> = {},
  ) {
    this.#env = {...defaultEnvironment(), ...environment};
    this.#shareEnv = environment;
    this.#events = new Emitter((callback, ms) => this.#env.setTimeout(callback, ms));
    this.configure(options);
  }

  get state(): ConnectionState {
    return this.#state;
  }
  get attempt(): number {
    return this.#attempt;
  }
  get latency(): number | undefined {
    return this.#hub ? this.#latency : undefined;
  }
  /** Messages accepted and not yet written to the socket; with `reliable`, not yet acknowledged by the server. */
  get queued(): number {
    return this.#unconfirmed.length;
  }
  get nextRetryAt(): number | undefined {
    return this.#state === ConnectionState.reconnecting ? this.#hub?.snapshot.nextRetryAt : undefined;
  }
  /** The environment it was made with; a holder makes the socket with its first member's WebSocket. */
  get environment(): Readonly<Environment> {
    return this.#env;
  }
  get options(): Readonly<ResolvedOptions> {
    return this.#options;
  }
  /** The share key's name, or `''` when the url and protocols are the key. */
  get share(): string {
    return this.#share;
  }
  /** False while another page holds the socket. */
  get leader(): boolean {
    return this.#hub?.leader ?? true;
  }

  on<K extends keyof SharedClientEventMap<In>>(
    type: K,
    listener: (detail: SharedClientEventMap<In>[K]) => void,
  ): () => void {
    return this.#events.on(type, listener as (detail: SharedClientEventMap[K]) => void);
  }

  /** As `WsClient.configure`; a new `share`, `url` or `protocols` moves the client to that key's socket. */
  configure({share, ...changes}: Partial<SharedClientOptions>): void {
    this.#run(() => {
      const before = this.#key();
      if (share !== undefined) this.#share = share;
      this.#options = mergeOptions(this.#options, changes, this.#warn);
      const moved = this.#key() !== before;
      if (this.#hub && moved) {
        // To the new key's socket, as it is.
        this.#deactivate();
        this.#activate();
      } else if (moved && this.#state === ConnectionState.closed && 'url' in changes) {
        this.connect();
      } else {
        this.#hub?.reconfigured();
      }
    });
  }

  /**
   * Joins the key's socket and takes it as it is (starting it if it is not
   * running); on a client that uses it already, retries at once with a
   * fresh retry budget, for every client that shares it.
   */
  connect(): void {
    this.#run(() => {
      if (this.#hub) this.#hub.command('connect');
      else this.#activate();
    });
  }

  /** Drops the shared socket and connects again at once: for every client that shares it. */
  reconnect(): void {
    this.#run(() => {
      if (!this.#activate()) return;
      if (this.#hub) this.#hub.command('reconnect');
      else this.#loading!.reconnect = true;
    });
  }

  /** Ends this client's use of the socket; the socket closes when no client in any page uses it. */
  close(code?: number, reason?: string): void {
    this.#run(() => {
      if (this.#state === ConnectionState.closed && !this.#hub) return;
      this.#enterClosed({code: code ?? 1000, reason: reason ?? ''});
    });
  }

  /** Stops using the socket for now, keeping what waits to be sent, and goes `idle` until `connect()`. */
  pause(): void {
    this.#run(() => {
      if (this.#state === ConnectionState.closed) return;
      this.#deactivate();
      this.#setState(ConnectionState.idle);
    });
  }

  send(data: Out): boolean {
    return this.#run(() => {
      const {json, queueLimit} = this.#options;
      const closed = this.#state === ConnectionState.closed;
      // While open, what waits for the holder's confirmation is on its way, not queued.
      const direct = this.#state === ConnectionState.open;
      const payload = this.#unconfirmed.admit(data, {closed, json, queueLimit, direct});
      if (payload === undefined) return false;
      const sent = {seq: ++this.#seq, payload, data};
      this.#unconfirmed.add(sent);
      this.#hub?.submit(this, sent);
      return true;
    });
  }

  /**
   * Not available on a shared client yet: rejects with kind `closed`. With
   * `shared` and `reliable`, messages (not requests) go exactly once across
   * handovers between tabs.
   *
   * @example
   * await feed.request('x').catch((error) => console.log(error.kind)); // 'closed'
   */
  request<Reply = In>(_data: Out, _options?: {timeout?: number}): Promise<Reply> {
    return Promise.reject(
      new RequestError(
        'closed',
        'request() is not available on a shared client: use reliable without shared',
      ),
    );
  }

  // The hub's side.

  openPayloads(): unknown[] {
    return this.#run(() =>
      this.#options.openMessages
        .map((message) => this.#unconfirmed.serialize(message, this.#options.json))
        .filter((payload) => payload !== undefined),
    );
  }

  unconfirmed(): readonly Sent[] {
    return this.#unconfirmed.items;
  }

  confirmed(seq: number): void {
    this.#unconfirmed.dropWhile((sent) => sent.seq <= seq);
  }

  shared(snap: Snapshot, change: Partial<StateChange> = {}): void {
    this.#run(() => {
      if (!this.#hub) return;
      this.#attempt = snap.attempt;
      this.#setState(snap.state, change);
      if (snap.latency !== this.#latency) {
        this.#latency = snap.latency;
        if (snap.latency !== undefined) this.#events.emit('latency', {latency: snap.latency});
      }
    });
  }

  received(data: unknown): void {
    this.#run(() => {
      if (!this.#hub) return;
      if (data instanceof ArrayBuffer && this.#options.binaryType === 'blob' && typeof Blob !== 'undefined') {
        data = new Blob([data]);
      }
      const result = fromPayload(data, this.#options.json);
      if ('data' in result) this.#events.emit('message', result);
      else this.#error('parse-error', result.problem, data, result.error);
    });
  }

  ended({code, reason, attempt}: Final): void {
    this.#run(() => {
      if (!this.#hub) return;
      this.#attempt = attempt;
      this.#enterClosed(code === undefined ? {} : {code, reason: reason ?? ''});
    });
  }

  failed(detail: ErrorDetail): void {
    this.#run(() => this.#hub && this.#events.emit('error', {...detail}));
  }

  forget(test: (sent: Sent) => boolean): unknown[] {
    const items = this.#unconfirmed.take();
    for (const item of items) if (!test(item)) this.#unconfirmed.add(item);
    return items.filter(test).map((item) => item.data);
  }

  roleChanged(): void {
    this.#run(() => this.#events.emit('leader', {leader: this.leader}));
  }

  #run<T>(change: () => T): T {
    return this.#events.run(change);
  }

  #key(): string {
    const {url, protocols} = this.#options;
    const target = url === undefined ? '' : (resolveSocketUrl(url, this.#env.baseUrl()) ?? url);
    // A reliable socket and a plain one are not the same socket.
    const reliable = this.#options.reliable ? ' reliable' : '';
    return this.#share
      ? `name ${this.#share}${reliable}`
      : `url ${target} ${protocolList(protocols).join(',')}${reliable}`;
  }

  /** Joins the key's socket, or starts to once sharing's code is here; false, with an error, when there is no key to join. */
  #activate(): boolean {
    if (this.#hub || this.#loading) return true;
    const {url, urlProvider} = this.#options;
    if (!this.#share && url === undefined && urlProvider) {
      // Every such client would have the same key, whatever endpoint its provider gives.
      this.#error(
        'invalid-url',
        'a shared client with a urlProvider and no url needs a share name (shared="feed"), ' +
          'so that clients of different endpoints do not share one socket',
      );
      this.#setState(ConnectionState.idle);
      return false;
    }
    const hubs = loadedHubs();
    if (hubs) this.#join(hubs);
    else this.#load();
    return true;
  }

  #join(hubs: HubSource): void {
    // The key as it is now: options that changed while sharing's code loaded count.
    this.#hub = hubs(this.#key(), this.#env, this.#shareEnv);
    this.#hub.join(this);
    if (!this.#hub.leader) this.#events.emit('leader', {leader: false});
  }

  /** Connecting until sharing's code is here, then joins; what is sent meanwhile waits, as it does for any socket. */
  #load(): void {
    const loading = (this.#loading = {reconnect: false});
    this.#setState(ConnectionState.connecting);
    loadHubs().then(
      (hubs) =>
        this.#run(() => {
          // Closed, paused or moved meanwhile: stale.
          if (this.#loading !== loading) return;
          this.#loading = undefined;
          this.#join(hubs);
          if (loading.reconnect) this.#hub!.command('reconnect');
        }),
      (error: unknown) =>
        this.#run(() => {
          if (this.#loading !== loading) return;
          this.#loading = undefined;
          // Nothing is lost: what waits stays for the next `connect()`, which tries again.
          this.#error(
            'socket-error',
            `sharing's code could not be loaded (${String(error)}); connect() tries again`,
            undefined,
            error,
          );
          this.#setState(ConnectionState.idle);
        }),
    );
  }

  #deactivate(code?: number, reason?: string): void {
    const hub = this.#hub;
    this.#hub = undefined;
    this.#loading = undefined;
    this.#latency = undefined;
    hub?.leave(this, code, reason);
  }

  #enterClosed(cause: Partial<StateChange>): void {
    this.#deactivate(cause.code, cause.reason);
    this.#unconfirmed.discard();
    this.#setState(ConnectionState.closed, cause);
  }

  #setState(state: ConnectionState, {code, reason, delay, resumed}: Partial<StateChange> = {}): void {
    const previousState = this.#state;
    if (state === previousState) return;
    this.#state = state;
    const detail: StateChange = {state, previousState, attempt: this.attempt};
    if (code !== undefined) Object.assign(detail, {code, reason: reason ?? ''});
    if (delay !== undefined && state === ConnectionState.reconnecting) detail.delay = delay;
    // An element that comes to a reliable session's open socket (it joined, or heard of the open
    // only from a beat) starts its part of it: it resumed nothing.
    const carried = resumed ?? (this.#hub?.reliable ? false : undefined);
    if (carried !== undefined && state === ConnectionState.open) detail.resumed = carried;
    this.#events.emit('state', detail);
  }

  #error(kind: ErrorKind, message: string, data?: unknown, error?: unknown): void {
    this.#events.emit('error', errorDetail(kind, message, {error, data}));
  }
}
