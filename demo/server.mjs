// `npm start`: serves the demo page and the built element, with a WebSocket
// chat server at /ws whose faults the page can switch on: stop answering
// pings, drop every connection, restart, or go silent without closing
// anything (a blackhole, the half-open case).
import {createServer} from 'node:http';
import {resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {WebSocketServer} from 'ws';
import {keepAlive} from '../dist/server/index.js';
import {serveFiles} from '../scripts/serve-files.mjs';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const files = serveFiles({root, dirs: ['demo', 'dist'], index: 'demo/index.html'});
const port = Number(process.env.PORT ?? 8080);
const host = process.env.HOST ?? '127.0.0.1';
const faults = {muted: false, blackholed: false, down: false};
/** Upgrade requests held while blackholed: the TCP connection is up, the handshake never answered. */
const heldUpgrades = [];
const wss = new WebSocketServer({noServer: true, maxPayload: 64 * 1024});
let nextUser = 1;

// The server's half of the heartbeat (ws-connection/server.js): it answers
// `ping` with `pong`, and lets go of clients that stopped answering. Muted
// or blackholed, the server answers nothing, so it is stopped until healed.
let stopKeepAlive = keepAlive(wss);
const {isHeartbeat} = stopKeepAlive;
function answerHeartbeats() {
  const answering = !faults.muted && !faults.blackholed;
  if (answering && !stopKeepAlive) stopKeepAlive = keepAlive(wss);
  if (!answering && stopKeepAlive) {
    stopKeepAlive();
    stopKeepAlive = undefined;
  }
}

function broadcast(message) {
  const text = JSON.stringify(message);
  for (const client of wss.clients) client.send(text);
}

function faultState() {
  return {...faults, clients: wss.clients.size};
}

wss.on('connection', (ws) => {
  const user = `guest-${nextUser++}`;
  ws.send(JSON.stringify({type: 'welcome', user, faults: faultState()}));
  ws.on('message', (data, isBinary) => {
    if (faults.blackholed || isHeartbeat(data, isBinary)) return;
    const text = isBinary ? '' : data.toString();
    let message;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (typeof message?.text === 'string' && message.text.trim()) {
      broadcast({type: 'chat', user, text: message.text.slice(0, 500), at: Date.now()});
    }
  });
});

// The ticker: something to watch arrive, and traffic that proves life.
setInterval(() => {
  if (!faults.blackholed && !faults.down)
    broadcast({type: 'tick', at: Date.now(), clients: wss.clients.size});
}, 5000).unref();

const controls = {
  mute: () => (faults.muted = true),
  unmute: () => (faults.muted = false),
  drop: () => {
    for (const client of wss.clients) client.terminate();
  },
  restart: () => {
    faults.down = true;
    for (const client of wss.clients) client.terminate();
    setTimeout(() => (faults.down = false), 3000);
  },
  blackhole: () => (faults.blackholed = true),
  heal: () => {
    faults.blackholed = false;
    for (const upgrade of heldUpgrades.splice(0)) accept(...upgrade);
  },
};

function accept(request, socket, head) {
  if (socket.destroyed) return;
  wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
}

const server = createServer((request, response) => {
  const url = new URL(request.url, `http://${request.headers.host}`);
  if (url.pathname.startsWith('/control/')) {
    const control = controls[url.pathname.slice('/control/'.length)];
    if (request.method !== 'POST' || !control) {
      response.writeHead(404).end();
      return;
    }
    control();
    answerHeartbeats();
    response.writeHead(200, {'content-type': 'application/json'}).end(JSON.stringify(faultState()));
    return;
  }
  files(request, response);
});

server.on('upgrade', (request, socket, head) => {
  const {pathname} = new URL(request.url, 'http://localhost');
  if (pathname !== '/ws' || faults.down) {
    socket.destroy();
    return;
  }
  if (faults.blackholed) heldUpgrades.push([request, socket, head]);
  else accept(request, socket, head);
});

server.listen(port, host, () => {
  console.log(`ws-connection demo: http://${host === '0.0.0.0' ? 'localhost' : host}:${port}/`);
  console.log('WebSocket server: /ws on the same origin. Ctrl-C to stop.');
});
