// React 19, typed by `ws-connection/react`: attributes, properties and the
// `onws-*` events of <ws-connection>, with `event.detail` typed.
import {type FormEvent, useRef, useState} from 'react';
import type {ConnectionState, WsConnection} from 'ws-connection';
import 'ws-connection';
import type {} from 'ws-connection/react';

export function LiveFeed({url}: {url: string}) {
  const connection = useRef<WsConnection>(null);
  const [state, setState] = useState<ConnectionState>('idle');
  const [messages, setMessages] = useState<unknown[]>([]);
  const [text, setText] = useState('');

  function submit(event: FormEvent) {
    event.preventDefault();
    if (connection.current?.send({text})) setText('');
  }

  return (
    <section>
      <ws-connection
        ref={connection}
        url={url}
        json
        heartbeat-interval={5000}
        onws-state={(event) => setState(event.detail.state)}
        onws-message={(event) => setMessages((list) => [...list, event.detail.data])}
        onws-error={(event) => console.warn(event.detail.kind, event.detail.message)}
      >
        Live feed
      </ws-connection>
      <p className="state">{state}</p>
      <form onSubmit={submit}>
        <input aria-label="Message" value={text} onChange={(event) => setText(event.target.value)} />
        <button>Send</button>
      </form>
      <ul>
        {messages.map((message, i) => (
          <li key={i}>{JSON.stringify(message)}</li>
        ))}
      </ul>
    </section>
  );
}
