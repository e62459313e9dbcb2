// The server half's reliable() behind the tab world's fake server: each
// connection that offers the delivery subprotocol is handed to reliable() as
// a `ws` socket would be, so that sharing's tabs talk to the real session
// code while the world keeps its one clock. The server half's own timers
// (its heartbeat, the resume window) run on Node's clock, and a test is over
// long before they fire; `stop()` clears them.
//
//   const app = reliableServer(world, {resumeWindow});
//   app.received · app.messages · app.sessions · app.send(data) (to every session)
//   app.holdAcks = true (the server's acks do not reach the clients)
//   app.restart() (a server with its store in memory restarts: every resume is refused) · app.stop()
import {EventEmitter} from 'node:events';
import {SUBPROTOCOL} from '../../dist/protocol/index.js';
import {MemoryStore, reliable} from '../../dist/server/index.js';

const OPEN = 1;
const CLOSED = 3;

/** A connection of the fake server, as reliable() sees a `ws` socket. */
class Socket extends EventEmitter {
  readyState = OPEN;
  protocol = SUBPROTOCOL;

  constructor(conn, app) {
    super();
    this.conn = conn;
    this.app = app;
  }

  send(data) {
    if (this.readyState !== OPEN) return;
    if (typeof data !== 'string') return this.conn.send(new Uint8Array(data).slice().buffer);
    // Acks held back: the client keeps everything, as if each ack were still on its way.
    if (this.app.holdAcks) {
      if (/^a\d+$/.test(data)) return;
      data = data.replace(/^([po])\d+$/, '$1');
    }
    this.conn.send(data);
  }

  close(code, reason) {
    if (this.readyState !== OPEN) return;
    this.conn.close(code, reason);
  }

  terminate() {
    if (this.readyState !== OPEN) return;
    this.conn.close(1006);
  }

  ping() {}

  /** The connection ended, by either side: as ws does, the close event comes after. */
  ended() {
    if (this.readyState === CLOSED) return;
    this.readyState = CLOSED;
    queueMicrotask(() => this.emit('close'));
  }
}

export function reliableServer(world, options = {}) {
  const wss = new EventEmitter();
  wss.clients = new Set();
  wss.options = {};
  const sockets = new Map();
  const start = () => {
    const server = reliable(wss, {interval: 0, store: new MemoryStore(), ...options});
    server.on('session', (session) => {
      app.sessions.push(session);
      session.on('message', (data) =>
        app.received.push({session: session.id, data: typeof data === 'string' ? data : String(data)}),
      );
      session.on('close', () => (session.closed = true));
    });
    return server;
  };
  const app = {
    /** What the sessions received, in order: `{session, data}`. */
    received: [],
    /** Every session begun, in order. */
    sessions: [],
    server: undefined,
    /** While true, the server's acks do not reach the clients. */
    holdAcks: false,
    /** Sends `data` to every session that has not ended. */
    send(data) {
      for (const session of app.server.sessions.values()) session.send(data);
    },
    /** What the sessions received, as data. */
    get messages() {
      return app.received.map(({data}) => data);
    },
    restart() {
      app.server.stop();
      for (const session of app.sessions) session.closed = true;
      app.server = start();
    },
    stop() {
      app.server.stop();
      world.server.application = undefined;
    },
  };
  app.server = start();
  world.server.application = {
    accept(conn) {
      if (!conn.protocols.includes(SUBPROTOCOL)) return undefined;
      const socket = new Socket(conn, app);
      sockets.set(conn, socket);
      wss.clients.add(socket);
      // As ws does: the connection event once the handshake is done.
      queueMicrotask(() => wss.emit('connection', socket, {}));
      return SUBPROTOCOL;
    },
    receive(conn, data) {
      const socket = sockets.get(conn);
      if (!socket || socket.readyState !== OPEN) return;
      const binary = typeof data !== 'string';
      socket.emit('message', binary ? Buffer.from(data) : Buffer.from(data), binary);
    },
    ended(conn) {
      const socket = sockets.get(conn);
      if (!socket) return;
      wss.clients.delete(socket);
      socket.ended();
    },
  };
  return app;
}
