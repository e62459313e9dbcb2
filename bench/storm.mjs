// Reconnect storm: many WsClient engines in Node on one server that is
// restarted. Counts, per 100 ms window, the attempts that brought clients
// back, with our jittered backoff and with a fixed delay and no jitter. An
// attempt is timed when the client dials it: that is the policy's doing,
// while arrival at a busy 2-core server also measures its handshake speed.
import {fork} from 'node:child_process';
import WebSocket from 'ws';
import {WsClient} from '../dist/client/index.js';

const WINDOW = 100;

/** The server process, and a function to send it a command and await the answer. */
function startServer() {
  const child = fork(new URL('./storm-server.mjs', import.meta.url));
  let nextId = 0;
  const waiting = new Map();
  child.on('message', ({id, result}) => {
    waiting.get(id)(result);
    waiting.delete(id);
  });
  return (command) =>
    new Promise((resolve) => {
      const id = nextId++;
      waiting.set(id, resolve);
      child.send({id, command});
    });
}

async function waitFor(check, timeout, what) {
  const deadline = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`storm: timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Runs one storm: `clients` engines connect, the server goes down for
 * `downMs` and comes back, and each client's successful attempt is timed
 * from the kill. `fixed` gives every engine the same delay with no jitter.
 */
export async function storm({clients = 1000, downMs = 1000, fixed = false} = {}) {
  const server = startServer();
  const port = await server('listen');
  const options = {
    url: `ws://127.0.0.1:${port}`,
    heartbeatInterval: 0,
    timeout: 10_000,
    reconnectDelay: 1000,
  };
  if (fixed) options.maxReconnectDelay = 1000;
  let killedAt;
  let open = 0;
  /** ms after the kill at which each client dialed the attempt that brought it back. */
  const connections = [];
  const engines = Array.from({length: clients}, () => {
    let dialedAt = 0;
    const Dialing = class extends WebSocket {
      constructor(...args) {
        super(...args);
        dialedAt = performance.now();
      }
    };
    const environment = fixed ? {WebSocket: Dialing, random: () => 0.999_999} : {WebSocket: Dialing};
    const engine = new WsClient(options, environment);
    engine.on('state', ({state, previousState}) => {
      if (state === 'open') {
        open++;
        if (killedAt !== undefined) connections.push(Math.max(0, dialedAt - killedAt));
      } else if (previousState === 'open') open--;
    });
    return engine;
  });
  for (const engine of engines) engine.connect();
  await waitFor(() => open === clients, 30_000, 'every client open');

  killedAt = performance.now();
  await server('kill');
  await new Promise((resolve) => setTimeout(resolve, downMs));
  await server('revive');
  await waitFor(() => open === clients, 60_000, 'every client back');
  const allBackMs = Math.round(performance.now() - killedAt);
  for (const engine of engines) engine.close();
  await server('stop');

  const windows = new Map();
  for (const at of connections) {
    const slot = Math.floor(at / WINDOW);
    windows.set(slot, (windows.get(slot) ?? 0) + 1);
  }
  const busiest = Math.max(...windows.values());
  return {
    clients,
    downMs,
    busiestShare: busiest / clients,
    allBackMs,
    perWindow: [...windows].sort(([a], [b]) => a - b).map(([slot, count]) => ({atMs: slot * WINDOW, count})),
  };
}

/** Successful attempts per 100 ms window after the kill, both policies, as an SVG line chart. */
export function stormChart(jittered, fixedDelay) {
  const width = 720;
  const height = 320;
  const pad = {left: 56, right: 16, top: 36, bottom: 44};
  const series = [
    {name: 'ws-connection (doubling window, full jitter)', color: '#1a7f37', data: jittered.perWindow},
    {name: 'fixed 1 s delay, no jitter', color: '#cf222e', data: fixedDelay.perWindow},
  ];
  const maxX = Math.max(...series.flatMap((s) => s.data.map((d) => d.atMs))) + 100;
  const maxY = Math.max(...series.flatMap((s) => s.data.map((d) => d.count)));
  const x = (ms) => pad.left + (ms / maxX) * (width - pad.left - pad.right);
  const y = (count) => height - pad.bottom - (count / maxY) * (height - pad.top - pad.bottom);
  const line = ({data, color}) => {
    const points = [];
    for (let ms = 0; ms <= maxX; ms += 100) {
      const count = data.find((d) => d.atMs === ms)?.count ?? 0;
      points.push(`${x(ms).toFixed(1)},${y(count).toFixed(1)}`);
    }
    return `<polyline fill="none" stroke="${color}" stroke-width="2" points="${points.join(' ')}"/>`;
  };
  const ticks = [];
  for (let s = 0; s * 1000 <= maxX; s++) {
    ticks.push(`<text x="${x(s * 1000)}" y="${height - pad.bottom + 16}" text-anchor="middle">${s} s</text>`);
  }
  const legend = series.map(
    (s, i) =>
      `<rect x="${pad.left + 8}" y="${pad.top + 8 + i * 18}" width="12" height="3" fill="${s.color}"/>` +
      `<text x="${pad.left + 26}" y="${pad.top + 13 + i * 18}">${s.name}</text>`,
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">
<title>Reconnect storm: ${jittered.clients} clients, server down ${jittered.downMs} ms</title>
<rect width="100%" height="100%" fill="white"/>
<text x="${pad.left}" y="20" font-size="14">Reconnecting attempts per 100 ms: ${jittered.clients} clients, server down ${jittered.downMs / 1000} s</text>
<line x1="${pad.left}" y1="${height - pad.bottom}" x2="${width - pad.right}" y2="${height - pad.bottom}" stroke="#888"/>
<line x1="${pad.left}" y1="${pad.top}" x2="${pad.left}" y2="${height - pad.bottom}" stroke="#888"/>
<text x="${pad.left - 8}" y="${y(maxY) + 4}" text-anchor="end">${maxY}</text>
<text x="${pad.left - 8}" y="${height - pad.bottom + 4}" text-anchor="end">0</text>
${ticks.join('\n')}
${series.map(line).join('\n')}
${legend.join('\n')}
</svg>
`;
}
