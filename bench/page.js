// The benchmarks' browser side: one adapter per library, so that every figure
// is measured by the same code for each. The page asks its own server for
// pushes over the socket being measured, so no round trip to the harness
// sits inside a timing.
import {WsClient} from '/dist/ws-connection.bundled.js';
import ReconnectingWebSocket from '/peers/reconnecting-websocket.js';
import PartySocket from '/peers/partysocket.js';
import WebsocketHeartbeatJs from '/peers/websocket-heartbeat-js.js';
import Sockette from '/peers/sockette.js';

/** Each adapter opens a connection and calls `on.open`, `on.message(data)`; it returns send and close. */
const adapters = {
  raw(url, on) {
    const ws = new WebSocket(url);
    ws.onopen = on.open;
    ws.onmessage = (event) => on.message(event.data);
    return {send: (data) => ws.send(data), close: () => ws.close()};
  },
  element(
    url,
    on,
    {heartbeat = 30_000, timeout = 10_000} = {},
    el = document.createElement('ws-connection'),
  ) {
    el.heartbeatInterval = heartbeat;
    el.timeout = timeout;
    el.url = url;
    el.addEventListener('ws-state', (event) => event.detail.state === 'open' && on.open());
    el.addEventListener('ws-message', (event) => on.message(event.detail.data));
    document.body.append(el);
    return {
      send: (data) => el.send(data),
      close: () => {
        el.close();
        el.remove();
      },
    };
  },
  /** The element with `reliable`, against the server half's `reliable()`: acknowledged both ways. */
  reliable(url, on, options) {
    const el = document.createElement('ws-connection');
    el.reliable = true;
    const handle = adapters.element(url, on, options, el);
    return {...handle, queued: () => el.queued};
  },
  engine(url, on, {heartbeat = 30_000, timeout = 10_000} = {}) {
    const client = new WsClient({url, heartbeatInterval: heartbeat, timeout});
    client.on('state', ({state}) => state === 'open' && on.open());
    client.on('message', ({data}) => on.message(data));
    client.connect();
    return {send: (data) => client.send(data), close: () => client.close()};
  },
  'reconnecting-websocket'(url, on) {
    const ws = new ReconnectingWebSocket(url);
    ws.addEventListener('open', on.open);
    ws.addEventListener('message', (event) => on.message(event.data));
    return {send: (data) => ws.send(data), close: () => ws.close()};
  },
  partysocket(url, on) {
    const ws = new PartySocket(url);
    ws.addEventListener('open', on.open);
    ws.addEventListener('message', (event) => on.message(event.data));
    return {send: (data) => ws.send(data), close: () => ws.close()};
  },
  'websocket-heartbeat-js'(url, on, {heartbeat = 15_000, timeout = 10_000} = {}) {
    const ws = new WebsocketHeartbeatJs({url, pingTimeout: heartbeat, pongTimeout: timeout, pingMsg: 'ping'});
    ws.onopen = on.open;
    ws.onmessage = (event) => on.message(event.data);
    return {send: (data) => ws.send(data), close: () => ws.close()};
  },
  sockette(url, on) {
    const ws = new Sockette(url, {onopen: on.open, onmessage: (event) => on.message(event.data)});
    return {send: (data) => ws.send(data), close: () => ws.close()};
  },
};

/** Opens with `name`, resolves once open; `onMessage` sees every message. */
function open(name, url, options, onMessage = () => {}) {
  return new Promise((resolve) => {
    let opened = 0;
    const handle = adapters[name](
      url,
      {
        open: () => {
          opened++;
          handle.opens = opened;
          handle.onOpen?.(opened);
          if (opened === 1) resolve(handle);
        },
        message: (data) => onMessage(data),
      },
      options,
    );
  });
}

/** Messages a reliable sender lets wait for acknowledgement, within the client's bound of 1000. */
const RELIABLE_WINDOW = 900;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

let current;

window.bench = {
  libraries: Object.keys(adapters),

  /** ms from asking for `count` pushed messages until the last one reached the library's listener. */
  async inbound(name, url, count) {
    let received = 0;
    let done;
    const finished = new Promise((resolve) => (done = resolve));
    const handle = await open(name, url, {}, () => ++received === count && done(performance.now()));
    const started = performance.now();
    handle.send(`push:${count}`);
    const ended = await finished;
    handle.close();
    return ended - started;
  },

  /** ms from the first of `count` send() calls until the server confirmed it received them all. */
  async outbound(name, url, count) {
    let done;
    const finished = new Promise((resolve) => (done = resolve));
    const handle = await open(name, url, {}, (data) => data === 'received' && done(performance.now()));
    handle.send(`expect:${count}`);
    await sleep(20);
    const started = performance.now();
    for (let i = 0; i < count; i++) {
      // A reliable element keeps what the server has not acknowledged, 1000 at most: room first.
      while (handle.queued?.() >= RELIABLE_WINDOW) await sleep(1);
      handle.send('m');
    }
    const ended = await finished;
    handle.close();
    return ended - started;
  },

  /**
   * µs per message received that the library itself spends, apart from the
   * network: its socket is a stand-in whose onmessage is called `count` times
   * in a loop, and the listener counts. Median of `runs`.
   */
  async ownCost(name, count, runs) {
    const PageWebSocket = window.WebSocket;
    const made = [];
    window.WebSocket = class {
      readyState = 0;
      constructor() {
        made.push(this);
      }
      send() {}
      close() {}
    };
    let received = 0;
    try {
      const handle = open(name, 'ws://stand-in.invalid/', {heartbeat: 0}, () => received++);
      await sleep(0);
      const [socket] = made;
      socket.readyState = 1;
      socket.onopen({});
      const opened = await handle;
      const times = [];
      for (let run = 0; run < runs; run++) {
        const started = performance.now();
        for (let i = 0; i < count; i++) socket.onmessage({data: 'm'});
        times.push(((performance.now() - started) * 1000) / count);
        await sleep(20);
      }
      opened.close();
      if (received !== count * runs) throw new Error(`${name} received ${received} of ${count * runs}`);
      return times.sort((a, b) => a - b)[Math.floor(runs / 2)];
    } finally {
      window.WebSocket = PageWebSocket;
    }
  },

  /** Opens through the proxy with the given heartbeat settings, and waits for it to be open and warm. */
  async arm(name, url, options) {
    current = await open(name, url, options);
    current.send('warm');
    await sleep(50);
    window.socketLog.closedByPage.length = 0;
    window.socketLog.created.length = 0;
    return true;
  },

  /** Epoch ms when the library gave its socket up, or null if it had not within `limit` ms. */
  async givenUp(limit) {
    const deadline = performance.now() + limit;
    while (!window.socketLog.closedByPage.length && performance.now() < deadline) await sleep(10);
    return window.socketLog.closedByPage[0] ?? null;
  },

  /** Epoch ms of the next open after `since` (the server came back), or null within `limit` ms. */
  async reopened(limit) {
    const before = current.opens;
    const deadline = performance.now() + limit;
    while (current.opens === before && performance.now() < deadline) await sleep(5);
    return current.opens > before ? Date.now() : null;
  },

  /** Dispatches `online` and returns ms until the library created a socket, or null within `limit`. */
  async onlineToAttempt(limit) {
    window.socketLog.created.length = 0;
    const started = Date.now();
    window.dispatchEvent(new Event('online'));
    const deadline = performance.now() + limit;
    while (!window.socketLog.created.length && performance.now() < deadline) await sleep(1);
    return window.socketLog.created.length ? window.socketLog.created[0] - started : null;
  },

  release() {
    current?.close();
    current = undefined;
    return true;
  },

  /** `cycles` times: an element is inserted, opens, is closed and removed. */
  async churn(url, cycles) {
    for (let i = 0; i < cycles; i++) {
      const handle = await open('element', url, {});
      handle.close();
    }
    await sleep(300);
    return {
      pendingTimers: window.pendingTimers(),
      elements: document.querySelectorAll('ws-connection').length,
    };
  },
};
window.benchReady = true;
