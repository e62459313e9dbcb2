// The benchmarks' server: serves the page, the built package and the peers,
// and runs a WebSocket server that pushes on request (`push:N`), counts what
// it receives (`expect:N` → `received`), answers `ping` (keepAlive), and can
// be killed and revived on its port; a blackhole proxy stands in front of it.
// A second server, the server half's `reliable()`, does the same pushes and
// counts for sessions, so that `reliable` is measured against the plain element.
import {createServer} from 'node:http';
import {WebSocketServer} from 'ws';
import {keepAlive, reliable} from '../dist/server/index.js';
import {serveFiles} from '../scripts/serve-files.mjs';
import {BlackholeProxy} from '../test/support/rig-server.mjs';

export async function startBenchServer(peerModules) {
  const files = serveFiles({root: process.cwd(), dirs: ['bench', 'dist'], index: 'bench/page.html'});
  const http = createServer((request, response) => {
    const path = new URL(request.url, 'http://localhost').pathname;
    if (path.startsWith('/peers/')) {
      const body = peerModules[path.slice('/peers/'.length, -'.js'.length)];
      if (body) return response.writeHead(200, {'content-type': 'text/javascript'}).end(body);
    }
    return files(request, response);
  });
  await new Promise((resolve) => http.listen(0, '127.0.0.1', resolve));

  let wss;
  let port = 0;
  const accepted = [];
  const clients = new Set();

  async function listen() {
    wss = new WebSocketServer({port, host: '127.0.0.1', maxPayload: 1 << 20});
    await new Promise((resolve, reject) => wss.once('listening', resolve).once('error', reject));
    port = wss.address().port;
    const {isHeartbeat} = keepAlive(wss);
    wss.on('connection', (ws) => {
      accepted.push(Date.now());
      clients.add(ws);
      ws.on('close', () => clients.delete(ws));
      let expected = Infinity;
      let count = 0;
      ws.on('message', (data, isBinary) => {
        if (isHeartbeat(data, isBinary)) return undefined;
        const text = data.toString();
        if (text.startsWith('push:')) {
          const n = Number(text.slice(5));
          for (let i = 0; i < n; i++) ws.send(`message ${i}`);
          return undefined;
        }
        if (text.startsWith('expect:')) {
          expected = Number(text.slice(7));
          count = 0;
          return undefined;
        }
        if (++count === expected) ws.send('received');
        return undefined;
      });
    });
  }
  await listen();
  const reliableServer = await listenReliable();
  const proxy = new BlackholeProxy(port);
  await proxy.listen();

  return {
    pageUrl: `http://127.0.0.1:${http.address().port}/`,
    url: `ws://127.0.0.1:${port}`,
    proxyUrl: `ws://127.0.0.1:${proxy.port}`,
    reliableUrl: reliableServer.url,
    proxy,
    accepted,
    get open() {
      return clients.size;
    },
    async kill() {
      for (const ws of clients) ws.terminate();
      const closing = wss;
      wss = undefined;
      await new Promise((resolve) => closing.close(resolve));
    },
    revive: listen,
    async stop() {
      if (wss) await this.kill();
      await proxy.close();
      await reliableServer.stop();
      await new Promise((resolve) => http.close(resolve));
    },
  };
}

/**
 * `reliable()` on a port of its own: `push:N` sends N messages to the
 * session, as fast as its bound of unacknowledged messages lets it (a full
 * buffer refuses, and the next try waits a millisecond); `expect:N` answers
 * `received` once N more messages came.
 */
async function listenReliable() {
  const wss = new WebSocketServer({port: 0, host: '127.0.0.1', maxPayload: 1 << 20});
  await new Promise((resolve, reject) => wss.once('listening', resolve).once('error', reject));
  const server = reliable(wss);
  server.on('session', (session) => {
    let expected = Infinity;
    let count = 0;
    let ended = false;
    session.on('close', () => (ended = true));
    session.on('message', async (data) => {
      const text = String(data);
      if (text.startsWith('push:')) {
        const n = Number(text.slice(5));
        for (let i = 0; i < n && !ended;) {
          if (session.send(`message ${i}`)) i++;
          else await new Promise((resolve) => setTimeout(resolve, 1));
        }
      } else if (text.startsWith('expect:')) {
        expected = Number(text.slice(7));
        count = 0;
      } else if (++count === expected) {
        session.send('received');
      }
    });
  });
  return {
    url: `ws://127.0.0.1:${wss.address().port}`,
    async stop() {
      server.stop();
      for (const ws of wss.clients) ws.terminate();
      await new Promise((resolve) => wss.close(resolve));
    },
  };
}
