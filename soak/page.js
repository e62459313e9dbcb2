// The soak's browser side: one element under fire, used as applications use
// it. It sends a numbered message every 20 ms whatever the state, and one more
// from inside every open event; on the runner's word it moves the element in
// one task, or calls a method from inside the element's own event. It checks
// its invariants every 50 ms: never two sockets connecting or open, and the
// element's state agreeing with its socket; and after each move, that
// nothing changed.
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
  /** The numbers of the messages the server sent back (with `reliable`, it echoes each), as they arrived. */
  echoes: [],
  errors: {},
  inconsistencies: [],
  states: [],
  moves: 0,
  /** Moves after which the state, the retry time or the socket changed. */
  movesThatChanged: [],
  reentries: {},
};

/** The socket states the element's state allows. */
function consistent(state) {
  const live = sockets.filter((socket) => socket.readyState <= PageWebSocket.OPEN);
  if (live.length > 1) return false;
  const [socket] = live;
  // A socket the server or browser has begun to close says so only when it
  // is closed; until then the element is open, and queues what is sent.
  if (state === 'open') return socket?.readyState === PageWebSocket.OPEN || lastIsClosing();
  // With `reliable`, the session's handshake runs on an open socket before the element is open.
  if (state === 'connecting')
    return (
      socket === undefined ||
      socket.readyState === PageWebSocket.CONNECTING ||
      (el.reliable && socket.readyState === PageWebSocket.OPEN)
    );
  return socket === undefined;
}

const lastIsClosing = () => sockets.at(-1)?.readyState === PageWebSocket.CLOSING;

let el;
let sender;
let checker;
const homes = [document.createElement('main'), document.createElement('section')];

/** Sends the next numbered message, recording whether it went out at once or waited in the queue. */
function sendNext() {
  const seq = ++record.sent;
  const open = el.state === 'open';
  if (el.send(`s:${seq}`)) (open ? record.accepted : record.queued).push(seq);
}

window.soak = {
  start(url, settings) {
    el = document.createElement('ws-connection');
    for (const [name, value] of Object.entries(settings)) el.setAttribute(name, value);
    el.url = url;
    el.addEventListener('ws-message', ({detail}) => {
      if (typeof detail.data === 'string' && detail.data.startsWith('s:'))
        record.echoes.push(Number(detail.data.slice(2)));
    });
    el.addEventListener('ws-error', ({detail}) => {
      record.errors[detail.kind] = (record.errors[detail.kind] ?? 0) + 1;
      if (detail.kind === 'queue-overflow') record.refused++;
    });
    el.addEventListener('ws-state', ({detail}) => {
      record.states.push([
        Date.now(),
        detail.previousState,
        detail.state,
        detail.code ?? null,
        detail.reason ?? null,
      ]);
      // From inside the event, as applications do: it must go after the queue, and arrive once.
      if (detail.state === 'open') sendNext();
    });
    document.body.append(...homes);
    homes[0].append(el);
    sender = setInterval(sendNext, 20);
    checker = setInterval(() => {
      if (!consistent(el.state)) {
        record.inconsistencies.push(`${el.state} with sockets in states ${sockets.map((s) => s.readyState)}`);
      }
    }, 50);
  },
  state: () => el.state,
  /**
   * Moves the element to the other home in one task, in whatever state it
   * is; resolves to whether anything changed. Compared once the move's
   * microtasks have run and before any task can: a timer or socket event
   * cannot change the state in between, so any change is the move's.
   */
  async move() {
    const snapshot = () => ({state: el.state, nextRetryAt: el.nextRetryAt, sockets: sockets.length});
    const before = snapshot();
    const changes = record.states.length;
    record.moves++;
    const elsewhere = homes.find((home) => !home.contains(el));
    el.remove();
    elsewhere.append(el);
    for (let i = 0; i < 3; i++) await Promise.resolve();
    const after = snapshot();
    const changed =
      record.states.length !== changes || Object.keys(before).some((key) => before[key] !== after[key]);
    if (changed) record.movesThatChanged.push({before, after});
    return changed;
  },
  /**
   * Starts a reconnect, and from inside the connecting event it causes, calls
   * `action`: reconnect() or connect() again, send(), or a move.
   */
  reenter(action) {
    record.reentries[action] = (record.reentries[action] ?? 0) + 1;
    const listener = ({detail}) => {
      if (detail.state !== 'connecting') return;
      el.removeEventListener('ws-state', listener);
      if (action === 'reconnect') el.reconnect();
      else if (action === 'connect') el.connect();
      else if (action === 'send') sendNext();
      else if (action === 'move') homes.find((home) => !home.contains(el)).append(el);
    };
    el.addEventListener('ws-state', listener);
    el.reconnect();
  },
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
