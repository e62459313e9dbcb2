// A reliable client for Node tests, as the element is one: the protocol
// module's ClientEndpoint on a `ws` socket, with real timers for its acks,
// recording every event and frame; and the small waits the tests share.
import WebSocket from 'ws';
import {ClientEndpoint, SUBPROTOCOL} from '../../dist/protocol/index.js';

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `check()` is truthy, polling; fails after `ms`. */
export async function until(check, what, ms = 3000) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/**
 * A reliable client as the element will be: the protocol module's
 * ClientEndpoint on a `ws` socket, with real timers for its acks.
 */
export class Client {
  constructor(url, {startMessages, protocols = [SUBPROTOCOL], ack = true} = {}) {
    this.url = url;
    this.protocols = protocols;
    this.ack = ack;
    this.endpoint = new ClientEndpoint({startMessages});
    this.events = [];
    this.closes = [];
    /** Every frame this client wrote and read, as on the wire. */
    this.frames = {sent: [], received: []};
    this.replies = new Map();
  }

  get messages() {
    return this.events.filter((event) => event.type === 'message').map((event) => String(event.data));
  }

  of(type) {
    return this.events.filter((event) => event.type === type);
  }

  /** Opens a connection; resolves once the session is open on it (or the socket closed first). */
  connect() {
    const ws = new WebSocket(this.url, this.protocols);
    this.ws = ws;
    const opens = this.of('open').length;
    ws.on('open', () => this.#write(this.endpoint.open(performance.now()).frames));
    ws.on('message', (data, isBinary) => {
      const raw = isBinary ? new Uint8Array(data) : String(data);
      this.frames.received.push(raw);
      const out = this.endpoint.receive(raw, performance.now());
      this.#write(out.frames);
      for (const event of out.events) {
        this.events.push(event);
        if (event.type === 'reply' || event.type === 'error-reply') this.replies.get(event.id)?.(event);
        if (event.type === 'protocol-error') ws.close(event.code, event.reason);
      }
      this.#scheduleAck();
    });
    ws.closed = new Promise((resolve) =>
      ws.once('close', (code, reason) => {
        clearTimeout(this.timer);
        if (this.ws === ws) this.endpoint.disconnected();
        this.closes.push({code, reason: String(reason)});
        resolve({code, reason: String(reason)});
      }),
    );
    ws.once('error', () => {});
    return Promise.race([until(() => this.of('open').length > opens, 'the session to open'), ws.closed]);
  }

  send(data) {
    const result = this.endpoint.send(data, performance.now());
    this.#write(result.frames);
    return result;
  }

  request(data) {
    const result = this.endpoint.request(data, performance.now());
    this.#write(result.frames);
    return new Promise((resolve) => this.replies.set(result.id, resolve));
  }

  ping() {
    this.#write([this.endpoint.ping(performance.now())]);
  }

  /** The connection dies without a close frame. */
  kill() {
    this.ws.terminate();
    this.endpoint.disconnected();
  }

  #write(frames) {
    if (this.ws?.readyState !== WebSocket.OPEN) return;
    for (const frame of frames) {
      this.frames.sent.push(frame);
      this.ws.send(frame);
    }
  }

  #scheduleAck() {
    const deadline = this.endpoint.nextDeadline();
    if (!this.ack || deadline === undefined) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(
      () => {
        this.#write(this.endpoint.tick(performance.now()).frames);
        this.#scheduleAck();
      },
      Math.max(0, deadline - performance.now()),
    );
  }
}
