// The server half's figures for `reliable`, which need no browser: server
// memory per idle session (memory store), the bytes the protocol adds to a
// message on the wire, and the request round trip. The clients are Node
// clients on the protocol module (test/support/reliable-client.mjs), not
// the element, and the rows say so. The server runs in a process of its own
// (this file, with `serve`), so that its heap holds nothing but the server.
import assert from 'node:assert/strict';
import {fork} from 'node:child_process';
import {fileURLToPath} from 'node:url';
import WebSocket, {WebSocketServer} from 'ws';
import {SUBPROTOCOL} from '../dist/protocol/index.js';
import {reliable} from '../dist/server/index.js';
import {Client, until} from '../test/support/reliable-client.mjs';

const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 10_000);
const WIRE_MESSAGES = 10_000;
const REQUESTS = 2000;

const quantile = (values, q) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
};
const median = (values) => quantile(values, 0.5);

/** The server process: reliable() on a loopback port; pushes, replies, and reports its heap on demand. */
async function serve() {
  const wss = new WebSocketServer({port: 0, host: '127.0.0.1'});
  await new Promise((resolve) => wss.once('listening', resolve));
  const server = reliable(wss, {resumeWindow: 600_000});
  server.on('session', (session) => {
    session.on('message', (data) => {
      const push = /^push:(\d+):(.*)$/.exec(String(data));
      if (push) for (let i = 0; i < Number(push[1]); i++) session.send(push[2]);
    });
    session.on('request', (data, reply) => reply(data));
  });
  process.on('message', (message) => {
    if (message.type !== 'heap') return;
    for (let i = 0; i < 3; i++) globalThis.gc();
    const {heapUsed, arrayBuffers} = process.memoryUsage();
    process.send({type: 'heap', bytes: heapUsed + arrayBuffers, sessions: server.sessions.size});
  });
  process.send({type: 'listening', port: wss.address().port});
}

function startServer() {
  const child = fork(fileURLToPath(import.meta.url), ['serve'], {execArgv: ['--expose-gc']});
  const next = (type) => new Promise((resolve) => child.on('message', (m) => m.type === type && resolve(m)));
  const heap = () => {
    const answer = next('heap');
    child.send({type: 'heap'});
    return answer;
  };
  return next('listening').then(({port}) => ({port, heap, stop: () => child.kill()}));
}

/** Opens `count` sessions (hello, the session frame, then the socket closes): idle, in their resume window. */
async function openSessions(port, count) {
  const batch = 200;
  for (let done = 0; done < count; done += batch) {
    const sockets = Array.from({length: Math.min(batch, count - done)}, () => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}`, [SUBPROTOCOL]);
      return new Promise((resolve, reject) => {
        ws.once('open', () => ws.send('{"type":"hello"}'));
        ws.once('message', () => {
          ws.once('close', resolve);
          ws.close();
        });
        ws.once('error', reject);
      });
    });
    await Promise.all(sockets);
  }
}

/** Memory per idle session: the server's heap after GC, before and after `SESSIONS` sessions. */
async function memoryPerSession(log) {
  const server = await startServer();
  try {
    await openSessions(server.port, 200); // warm up: code, pools and first allocations
    const before = await server.heap();
    await openSessions(server.port, SESSIONS);
    const after = await server.heap();
    log(`${after.sessions - before.sessions} idle sessions: ${after.bytes - before.bytes} bytes more`);
    return (after.bytes - before.bytes) / (after.sessions - before.sessions);
  } finally {
    server.stop();
  }
}

/**
 * Bytes on the wire beyond the application's, per message, with acks: the
 * client sends `WIRE_MESSAGES` messages and the server as many, in a
 * session; every frame either way is counted at the client.
 */
async function wireBytes(port) {
  const c = new Client(`ws://127.0.0.1:${port}`);
  await c.connect();
  const skip = {sent: c.frames.sent.length, received: c.frames.received.length};
  const payload = 'x'.repeat(20);
  c.send(`push:${WIRE_MESSAGES}:${payload}`);
  // In batches within the client's bound of 1000 unacknowledged messages.
  for (let sent = 0; sent < WIRE_MESSAGES; sent += 500) {
    await until(() => c.endpoint.queued <= 500, 'room in the client buffer', 10_000);
    for (let i = 0; i < 500; i++) assert.equal(c.send(payload).accepted, true);
  }
  await until(() => c.messages.length === WIRE_MESSAGES && c.endpoint.queued === 0, 'the messages', 60_000);
  const bytes = (frame) => (typeof frame === 'string' ? Buffer.byteLength(frame) : frame.byteLength);
  const frames = [...c.frames.sent.slice(skip.sent + 1), ...c.frames.received.slice(skip.received)];
  const data = frames.filter((frame) => typeof frame === 'string' && frame.endsWith(`:${payload}`));
  const headers = data.map((frame) => bytes(frame) - payload.length);
  const total = frames.reduce((sum, frame) => sum + bytes(frame), 0) - data.length * payload.length;
  c.ws.close();
  return {median: median(headers), mean: total / data.length, messages: data.length};
}

/** Request round trips, one at a time: from request() to its reply at the client. */
async function roundTrips(port) {
  const c = new Client(`ws://127.0.0.1:${port}`);
  await c.connect();
  const times = [];
  for (let i = 0; i < REQUESTS + 200; i++) {
    const started = performance.now();
    await c.request(`{"n":${i}}`);
    if (i >= 200) times.push(performance.now() - started);
  }
  c.ws.close();
  return {p50: median(times), p99: quantile(times, 0.99)};
}

/** The rows, as bench/run.mjs prints them. */
export async function reliableServerFigures({log}) {
  log(`reliable server: memory of ${SESSIONS} idle sessions`);
  const perSession = await memoryPerSession(log);
  const server = await startServer();
  try {
    log('reliable server: bytes on the wire');
    const wire = await wireBytes(server.port);
    log('reliable server: request round trips');
    const rtt = await roundTrips(server.port);
    const rows = [
      {
        figure: `Reliable, server memory per idle session (memory store, ${SESSIONS} sessions in their resume window; Node server)`,
        ours: `${(perSession / 1024).toFixed(2)} KB`,
        target: '≤ 2 KB',
        met: perSession <= 2048,
      },
      {
        figure: `Reliable, added bytes per message on the wire, median (mean with acks), ${wire.messages} messages both ways; Node client`,
        ours: `${wire.median} B (${wire.mean.toFixed(1)} B)`,
        target: '≤ 16 B',
        met: wire.median <= 16,
      },
      {
        figure: `Reliable, request round trip on localhost, p50 / p99 of ${REQUESTS}; Node client`,
        ours: `${rtt.p50.toFixed(2)} / ${rtt.p99.toFixed(2)} ms`,
        target: '≤ 2 / ≤ 10 ms',
        met: rtt.p50 <= 2 && rtt.p99 <= 10,
      },
    ];
    return {rows, raw: {perSession, wire, rtt, sessions: SESSIONS}};
  } finally {
    server.stop();
  }
}

if (process.argv[2] === 'serve') await serve();
