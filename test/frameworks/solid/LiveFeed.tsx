// Solid, typed by `ws-connection/solid`: `prop:` sets a property, `attr:`
// an attribute, and `on:` listens to an event by its exact name, with
// `event.detail` typed.
import {createSignal, For} from 'solid-js';
import type {ConnectionState, WsConnection} from 'ws-connection';
import 'ws-connection';
import type {} from 'ws-connection/solid';

export function LiveFeed(props: {url: string}) {
  let connection: WsConnection | undefined;
  const [state, setState] = createSignal<ConnectionState>('idle');
  const [messages, setMessages] = createSignal<unknown[]>([]);
  const [text, setText] = createSignal('');

  function submit(event: SubmitEvent) {
    event.preventDefault();
    if (connection?.send({text: text()})) setText('');
  }

  return (
    <section>
      <ws-connection
        ref={(element) => (connection = element)}
        prop:url={props.url}
        prop:json={true}
        attr:heartbeat-interval={5000}
        on:ws-state={(event) => setState(event.detail.state)}
        on:ws-message={(event) => setMessages((list) => [...list, event.detail.data])}
        on:ws-error={(event) => console.warn(event.detail.kind, event.detail.message)}
      >
        Live feed
      </ws-connection>
      <p class="state">{state()}</p>
      <form onSubmit={submit}>
        <input aria-label="Message" value={text()} onInput={(event) => setText(event.currentTarget.value)} />
        <button>Send</button>
      </form>
      <ul>
        <For each={messages()}>{(message) => <li>{JSON.stringify(message)}</li>}</For>
      </ul>
    </section>
  );
}
