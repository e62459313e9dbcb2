// Plain JavaScript: listen to the element's events, call its methods.
const feed = document.querySelector('#feed');
const list = document.querySelector('#messages');

// Point the example at another server with ?url=ws://host/path.
const url = new URLSearchParams(location.search).get('url');
if (url) feed.url = url;

feed.addEventListener('ws-message', (event) => {
  const item = document.createElement('li');
  item.textContent = JSON.stringify(event.detail.data); // text, never markup
  list.append(item);
});

feed.addEventListener('ws-state', (event) => {
  document.body.dataset.state = event.detail.state;
});

feed.addEventListener('ws-error', (event) => {
  console.warn(`ws-connection ${event.detail.kind}: ${event.detail.message}`);
});

document.querySelector('#send').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = event.target.elements.text;
  // Queued while disconnected and sent after the next open; false if refused.
  if (feed.send({text: input.value})) input.value = '';
});
