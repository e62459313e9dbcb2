// A WebSocket server that tests steer: echo or mute (keepAlive answers its
// heartbeats, unless muted), push, close, terminate, kill and revive on the
// same port, and a TCP proxy in front of it that can blackhole the link. Runs
// in Node, inside the test runner's process.
import {connect, createServer} from 'node:net';
import {WebSocketServer} from 'ws';
import {keepAlive, reliable} from '../../dist/server/index.js';
import {startNginx} from './nginx.mjs';

/**
 * Forwards TCP between browser and server. While blackholed it stops reading
 * either side of every connection (new ones included) and closes nothing: both
 * ends see a link that is up but silent, as with a dropped Wi-Fi or a sleeping
 * NAT. Healing resumes the flow of whatever the kernel buffered meanwhile.
 */
export class BlackholeProxy {
  #targetPort;
  #server = createServer((client) => this.#accept(client));
  #links = new Set();
  holed = false;
  port = 0;

  constructor(targetPort) {
    this.#targetPort = targetPort;
  }

  async listen() {
    await new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(0, '127.0.0.1', resolve);
    });
    this.port = this.#server.address().port;
  }

  get connections() {
    return this.#links.size;
  }

  blackhole() {
    this.holed = true;
    for (const link of this.#links) {
      link.client.pause();
      link.upstream?.pause();
    }
  }

  heal() {
    this.holed = false;
    for (const link of this.#links) {
      if (!link.upstream) this.#connectUpstream(link);
      link.client.resume();
      link.upstream.resume();
    }
  }

  /** Writes raw bytes to every browser-side socket, bypassing the server. */
  inject(bytes) {
    for (const link of this.#links) link.client.write(bytes);
  }

  async close() {
    for (const link of this.#links) this.#drop(link);
    await new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client) {
    const link = {client, upstream: undefined};
    this.#links.add(link);
    client.on('error', () => this.#drop(link));
    client.on('close', () => this.#drop(link));
    if (this.holed) client.pause();
    else this.#connectUpstream(link);
  }

  #connectUpstream(link) {
    const upstream = (link.upstream = connect(this.#targetPort, '127.0.0.1'));
    upstream.on('error', () => this.#drop(link));
    upstream.on('close', () => this.#drop(link));
    this.#forward(link.client, upstream);
    this.#forward(upstream, link.client);
  }

  #forward(from, to) {
    from.on('data', (chunk) => {
      if (!to.write(chunk)) {
        from.pause();
        to.once('drain', () => {
          if (!this.holed) from.resume();
        });
      }
    });
    from.on('end', () => to.end());
  }

  #drop(link) {
    if (!this.#links.delete(link)) return;
    link.client.destroy();
    link.upstream?.destroy();
  }
}

/**
 * One isolated server for one test: its own port, its own proxy, its own
 * record of what it received and how many connections it held.
 */
export class RigServer {
  echo = true;
  pong = true;
  /** Accept each connection and drop it at once, as a server in a crash loop does. */
  flap = false;
  received = [];
  /** For each entry of `received`, the number of the connection it came on (1 for the first). */
  receivedOn = [];
  accepted = 0;
  peak = 0;
  /** Each accepted connection: the subprotocols the client offered, the one chosen, the request path, and when (epoch ms). */
  connections = [];
  port = 0;
  #wss;
  #stopKeepAlive;
  /** Tells `ping` from other messages, whether or not keepAlive is answering it. */
  #isHeartbeat = () => false;
  #clients = new Set();
  #reviveTimer;
  proxy;
  #nginx;

  async start() {
    await this.#listen(0);
    this.proxy = new BlackholeProxy(this.port);
    await this.proxy.listen();
  }

  get listening() {
    return this.#wss !== undefined;
  }

  get open() {
    return this.#clients.size;
  }

  status() {
    return {
      listening: this.listening,
      open: this.open,
      accepted: this.accepted,
      peak: this.peak,
      received: this.received.length,
      holed: this.proxy.holed,
      proxyConnections: this.proxy.connections,
    };
  }

  set({echo, pong, flap}) {
    if (echo !== undefined) this.echo = Boolean(echo);
    if (pong !== undefined) this.pong = Boolean(pong);
    if (flap !== undefined) this.flap = Boolean(flap);
    this.#answerHeartbeats();
  }

  /** keepAlive answers `ping` while `pong` is on; muted, the server answers nothing. */
  #answerHeartbeats() {
    const answering = this.pong && this.#wss !== undefined;
    if (answering && !this.#stopKeepAlive) {
      this.#stopKeepAlive = keepAlive(this.#wss);
      this.#isHeartbeat = this.#stopKeepAlive.isHeartbeat;
    }
    if (!answering && this.#stopKeepAlive) {
      this.#stopKeepAlive();
      this.#stopKeepAlive = undefined;
    }
  }

  /** Sends `count` messages `${prefix}${i}` to every client, as fast as it can. */
  push({count = 1, prefix = 'm'} = {}) {
    for (const ws of this.#clients) {
      for (let i = 0; i < count; i++) ws.send(`${prefix}${i}`);
    }
    return this.#clients.size;
  }

  send({data, binary = false}) {
    const payload = binary ? Buffer.from(data) : data;
    for (const ws of this.#clients) ws.send(payload, {binary});
    return this.#clients.size;
  }

  closeClients({code = 1000, reason = ''} = {}) {
    for (const ws of this.#clients) ws.close(code, reason);
    return this.#clients.size;
  }

  terminateClients() {
    const count = this.#clients.size;
    for (const ws of this.#clients) ws.terminate();
    return count;
  }

  /** Stops the server as a crash would: every connection dropped, port closed. */
  async kill() {
    clearTimeout(this.#reviveTimer);
    const wss = this.#wss;
    if (!wss) return;
    this.#wss = undefined;
    this.#answerHeartbeats();
    this.terminateClients();
    await new Promise((resolve) => wss.close(() => resolve()));
  }

  async revive() {
    clearTimeout(this.#reviveTimer);
    if (!this.#wss) await this.#listen(this.port);
  }

  /** Kills the server now and brings it back on the same port after `downMs`. */
  async restart({downMs = 0} = {}) {
    await this.kill();
    this.#reviveTimer = setTimeout(() => this.revive().catch(() => {}), downMs);
  }

  takeReceived() {
    const received = this.received;
    this.received = [];
    this.receivedOn = [];
    return received;
  }

  /** Puts nginx in front of the server (idle timeout 2 s); resolves to its port. */
  async startNginx() {
    this.#nginx ??= await startNginx({upstreamPort: this.port});
    return this.#nginx.port;
  }

  async stop() {
    await this.kill();
    await this.proxy?.close();
    await this.#nginx?.stop();
  }

  async #listen(port) {
    const wss = new WebSocketServer({port, host: '127.0.0.1'});
    await new Promise((resolve, reject) => {
      wss.once('listening', resolve);
      wss.once('error', reject);
    });
    this.#wss = wss;
    this.port = wss.address().port;
    wss.on('connection', (ws, request) => this.#accept(ws, request));
    this.#answerHeartbeats();
  }

  #accept(ws, request) {
    this.#clients.add(ws);
    this.accepted++;
    const offered = request.headers['sec-websocket-protocol'];
    this.connections.push({
      protocols: offered ? offered.split(/\s*,\s*/) : [],
      protocol: ws.protocol,
      path: request.url,
      at: Date.now(),
    });
    this.peak = Math.max(this.peak, this.#clients.size);
    if (this.flap) {
      this.#clients.delete(ws);
      ws.terminate();
      return;
    }
    ws.on('close', () => this.#clients.delete(ws));
    ws.on('error', () => this.#clients.delete(ws));
    const connection = this.accepted;
    ws.on('message', (data, isBinary) => {
      const text = isBinary ? undefined : data.toString();
      this.received.push(isBinary ? {binary: data.length} : text);
      this.receivedOn.push(connection);
      if (this.echo && !this.#isHeartbeat(data, isBinary)) ws.send(data, {binary: isBinary});
    });
  }
}

/**
 * A server speaking the delivery protocol, `reliable()` over `ws`, with its
 * memory store, behind its own blackhole proxy. Records every message its
 * sessions received, in order; echoes each back to its session (while
 * `echo`), answers each request with `re:` and its text (while `answer`),
 * and pushes numbered messages to every session, connected or not. A kill
 * or restart loses every session, as a restart with the memory store does,
 * unless the options give a `store` of their own, which outlives it.
 */
export class ReliableRigServer {
  echo = true;
  answer = true;
  /** What the sessions received, in order: `{session, data}`. */
  received = [];
  /** Sessions begun since start, in order. */
  sessions = [];
  accepted = 0;
  port = 0;
  proxy;
  #options;
  #wss;
  #reliable;
  #reviveTimer;

  constructor({resumeWindow = 120_000, interval = 1000, timeout = 1000, ...more} = {}) {
    this.#options = {resumeWindow, interval, timeout, ...more};
  }

  async start() {
    await this.#listen(0);
    this.proxy = new BlackholeProxy(this.port);
    await this.proxy.listen();
  }

  status() {
    return {
      listening: this.#wss !== undefined,
      open: this.#wss?.clients.size ?? 0,
      accepted: this.accepted,
      sessions: this.sessions.length,
      received: this.received.length,
      holed: this.proxy.holed,
      proxyConnections: this.proxy.connections,
    };
  }

  set({echo, answer}) {
    if (echo !== undefined) this.echo = Boolean(echo);
    if (answer !== undefined) this.answer = Boolean(answer);
  }

  /** Sends `count` messages `${prefix}${i}` to every session this process holds; resolves to their number. */
  push({count = 1, prefix = 'm'} = {}) {
    const sessions = [...(this.#reliable?.sessions.values() ?? [])];
    for (const session of sessions) for (let i = 0; i < count; i++) session.send(`${prefix}${i}`);
    return sessions.length;
  }

  terminateClients() {
    const clients = [...(this.#wss?.clients ?? [])];
    for (const ws of clients) ws.terminate();
    return clients.length;
  }

  /** Closes every connection with `code`; the sessions wait for their clients to resume. */
  closeClients({code = 1000, reason = ''} = {}) {
    const clients = [...(this.#wss?.clients ?? [])];
    for (const ws of clients) ws.close(code, reason);
    return clients.length;
  }

  async kill() {
    clearTimeout(this.#reviveTimer);
    const wss = this.#wss;
    if (!wss) return;
    this.#wss = undefined;
    // As a crash: no close frame, then every session forgotten (unless a store given keeps them).
    for (const ws of wss.clients) ws.terminate();
    this.#reliable.stop();
    await new Promise((resolve) => wss.close(() => resolve()));
  }

  async revive() {
    clearTimeout(this.#reviveTimer);
    if (!this.#wss) await this.#listen(this.port);
  }

  async restart({downMs = 0} = {}) {
    await this.kill();
    this.#reviveTimer = setTimeout(() => this.revive().catch(() => {}), downMs);
  }

  takeReceived() {
    const received = this.received;
    this.received = [];
    return received;
  }

  async stop() {
    await this.kill();
    await this.proxy?.close();
  }

  async #listen(port) {
    const wss = new WebSocketServer({port, host: '127.0.0.1'});
    await new Promise((resolve, reject) => {
      wss.once('listening', resolve);
      wss.once('error', reject);
    });
    this.#wss = wss;
    this.port = wss.address().port;
    wss.on('connection', () => this.accepted++);
    // A new memory store, unless the options give one: what the last process held is gone.
    this.#reliable = reliable(wss, this.#options);
    this.#reliable.on('session', (session) => {
      this.sessions.push(session.id);
      session.on('message', (data) => {
        const text = typeof data === 'string' ? data : `binary ${[...data].join(',')}`;
        this.received.push({session: session.id, data: text});
        if (this.echo) session.send(data);
      });
      session.on('request', (data, reply) => {
        if (this.answer) reply(`re:${data}`);
      });
    });
  }
}
