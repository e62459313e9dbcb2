// A complete Node server for <ws-connection>: the `ws` package, keepAlive
// from ws-connection/server.js (it answers the element's `ping` with `pong`,
// and lets go of clients that stopped answering), and a JSON feed with
// subscriptions. A page renews its subscriptions on every connection by
// giving them to the element as `openMessages`:
//
//   el.openMessages = [{type: 'subscribe', topic: 'clock'}];
//
// Run it with `node examples/server/server.mjs` (PORT, default 8081).
import {WebSocketServer} from 'ws';
import {keepAlive} from 'ws-connection/server.js';

/** The feed's topics: what each publishes, and how often (ms). `quiet` never says anything. */
const TOPICS = {
  clock: {every: 1000, next: () => ({now: new Date().toISOString()})},
  quiet: {every: 0, next: () => ({})},
};

/**
 * Starts the server; resolves to its url and a `stop()`. `interval` and
 * `timeout` go to keepAlive; `every` overrides how often the clock ticks.
 */
export async function startServer({port = 8081, host = '127.0.0.1', interval, timeout, every} = {}) {
  const wss = new WebSocketServer({port, host, maxPayload: 64 * 1024});
  await new Promise((resolve, reject) => wss.once('listening', resolve).once('error', reject));
  const keep = keepAlive(wss, {interval, timeout});
  /** The sockets subscribed to each topic. */
  const subscribers = new Map(Object.keys(TOPICS).map((topic) => [topic, new Set()]));
  const send = (ws, message) => ws.send(JSON.stringify(message));

  wss.on('connection', (ws) => {
    ws.on('message', (data, isBinary) => {
      if (keep.isHeartbeat(data, isBinary)) return;
      let message;
      try {
        message = JSON.parse(String(data));
      } catch {
        return send(ws, {type: 'error', message: 'send JSON: {"type":"subscribe","topic":"clock"}'});
      }
      const topic = subscribers.get(message?.topic);
      if (!topic) return send(ws, {type: 'error', message: `topics: ${Object.keys(TOPICS).join(', ')}`});
      if (message.type === 'subscribe') topic.add(ws);
      else if (message.type === 'unsubscribe') topic.delete(ws);
      else return send(ws, {type: 'error', message: 'type: subscribe or unsubscribe'});
      return send(ws, {type: `${message.type}d`, topic: message.topic});
    });
    // A connection's subscriptions end with it; the page renews them on the next.
    ws.on('close', () => {
      for (const topic of subscribers.values()) topic.delete(ws);
    });
  });

  const timers = Object.entries(TOPICS)
    .filter(([, {every: ms}]) => (every ?? ms) > 0)
    .map(([name, topic]) =>
      setInterval(() => {
        for (const ws of subscribers.get(name)) send(ws, {type: 'update', topic: name, data: topic.next()});
      }, every ?? topic.every),
    );

  return {
    url: `ws://${host}:${wss.address().port}`,
    wss,
    async stop() {
      for (const timer of timers) clearInterval(timer);
      for (const ws of wss.clients) ws.terminate();
      await new Promise((resolve) => wss.close(resolve));
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const {url} = await startServer({port: Number(process.env.PORT ?? 8081)});
  console.log(`feed server: ${url} (topics: ${Object.keys(TOPICS).join(', ')})`);
}
