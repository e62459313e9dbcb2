// The soak's browser side: one element under fire. It sends a numbered
// message every 20 ms whatever the state, and checks its invariants every
// 50 ms: never two sockets connecting or open, and the element's state
// agreeing with its socket.
import '/dist/ws-connection.bundled.js';

const PageWebSocket = window.WebSocket;
const sockets = [];
let duplicateSockets = 0;
window.WebSocket = class extends PageWebSocket {
  constructor(...args) {
    super(...args);
    if (sockets.some((socket) => socket.readyState <= PageWebSocket.OPEN)) duplicateSockets++;
    sockets.push(this);
    // Keep only the sockets that can still matter.
    while (sockets.length > 8 && sockets[0].readyState === PageWebSocket.CLOSED) sockets.shift();
  }
};

const record = {
  sent: 0,
  accepted: [],
  queued: [],
  refused: 0,
  errors: {},
  inconsistencies: [],
  states: [],
};

/** The socket states the element's state allows. */
function consistent(state) {
  const live = sockets.filter((socket) => socket.readyState <= PageWebSocket.OPEN);
  if (live.length > 1) return false;
  const [socket] = live;
  // A socket the server or browser has begun to close says so only when it
  // is closed; until then the element is open, and queues what is sent.
  if (state === 'open') return socket?.readyState === PageWebSocket.OPEN || lastIsClosing();
  if (state === 'connecting') return socket === undefined || socket.readyState === PageWebSocket.CONNECTING;
  return socket === undefined;
}

const lastIsClosing = () => sockets.at(-1)?.readyState === PageWebSocket.CLOSING;

let el;
let sender;
let checker;

window.soak = {
  start(url, settings) {
    el = document.createElement('ws-connection');
    for (const [name, value] of Object.entries(settings)) el.setAttribute(name, value);
    el.url = url;
    el.addEventListener('ws-error', ({detail}) => {
      record.errors[detail.kind] = (record.errors[detail.kind] ?? 0) + 1;
      if (detail.kind === 'queue-overflow') record.refused++;
    });
    el.addEventListener('ws-state', ({detail}) =>
      record.states.push([
        Date.now(),
        detail.previousState,
        detail.state,
        detail.code ?? null,
        detail.reason ?? null,
      ]),
    );
    document.body.append(el);
    sender = setInterval(() => {
      const seq = ++record.sent;
      const open = el.state === 'open';
      if (el.send(`s:${seq}`)) (open ? record.accepted : record.queued).push(seq);
    }, 20);
    checker = setInterval(() => {
      if (!consistent(el.state)) {
        record.inconsistencies.push(`${el.state} with sockets in states ${sockets.map((s) => s.readyState)}`);
      }
    }, 50);
  },
  state: () => el.state,
  errors: () => ({...record.errors}),
  /** Stops sending; resolves once the queue is empty. */
  async stopSending() {
    clearInterval(sender);
    while (el.queued > 0) await new Promise((resolve) => setTimeout(resolve, 50));
  },
  finish() {
    clearInterval(checker);
    el.close();
    return {...record, duplicateSockets};
  },
  setVisibility(visible) {
    Object.defineProperty(document, 'visibilityState', {
      configurable: true,
      get: () => (visible ? 'visible' : 'hidden'),
    });
    document.dispatchEvent(new Event('visibilitychange'));
  },
};
window.soakReady = true;
