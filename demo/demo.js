// The demo's behaviour: listens to the element's events, sends chat lines,
// and asks the demo server for faults. Text from the network goes into
// textContent only, never into markup.
const conn = document.querySelector('#conn');
const messages = document.querySelector('#messages');
const log = document.querySelector('#log');
const form = document.querySelector('#chat-form');
const input = document.querySelector('#chat-input');
const queued = document.querySelector('#queued');
const shareToggle = document.querySelector('#share-toggle');
const holder = document.querySelector('#holder');

// `?shared`: every tab opened so shares one connection; the server's ticks count them.
shareToggle.checked = new URLSearchParams(location.search).has('shared');
conn.toggleAttribute('shared', shareToggle.checked);
shareToggle.addEventListener('change', () => {
  conn.toggleAttribute('shared', shareToggle.checked);
  history.replaceState(null, '', shareToggle.checked ? '?shared' : location.pathname);
});

function showHolder() {
  holder.textContent = !conn.hasAttribute('shared')
    ? 'This tab has a connection of its own.'
    : conn.leader
      ? 'This tab holds the shared connection.'
      : 'Another tab holds the shared connection; this tab relays through it.';
}
showHolder();
setInterval(showHolder, 500);

function append(list, text, className) {
  const item = document.createElement('li');
  item.textContent = text;
  if (className) item.className = className;
  list.append(item);
  while (list.children.length > 200) list.firstElementChild.remove();
  list.scrollTop = list.scrollHeight;
}

const time = () => new Date().toLocaleTimeString();
let welcomed = false;

conn.addEventListener('ws-state', ({detail}) => {
  const extra = [
    detail.code !== undefined ? `code ${detail.code}` : '',
    detail.reason ? `“${detail.reason}”` : '',
    detail.delay !== undefined ? `retry in ${detail.delay} ms` : '',
    detail.attempt ? `attempt ${detail.attempt}` : '',
  ].filter(Boolean);
  append(log, `${time()} state ${detail.previousState} → ${detail.state} ${extra.join(', ')}`, 'state');
  queued.textContent = conn.queued ? `${conn.queued} waiting to be sent` : '';
});

conn.addEventListener('ws-error', ({detail}) =>
  append(log, `${time()} error ${detail.kind}: ${detail.message}`, 'error'),
);

conn.addEventListener('ws-message', ({detail: {data}}) => {
  if (data?.type === 'chat') append(messages, `${data.user}: ${data.text}`);
  else if (data?.type === 'welcome') {
    append(messages, welcomed ? `Reconnected as ${data.user}.` : `You are ${data.user}.`, 'tick');
    welcomed = true;
  } else if (data?.type === 'tick')
    append(log, `${time()} tick from the server (${data.clients} connected)`, 'tick');
});

form.addEventListener('submit', (event) => {
  event.preventDefault();
  const text = input.value.trim();
  if (!text) return;
  if (conn.send({text})) input.value = '';
  queued.textContent = conn.queued ? `${conn.queued} waiting to be sent` : '';
});

for (const button of document.querySelectorAll('[data-control]')) {
  button.addEventListener('click', async () => {
    append(log, `${time()} asked the server to ${button.dataset.control}`);
    await fetch(`/control/${button.dataset.control}`, {method: 'POST'});
  });
}
