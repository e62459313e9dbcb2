// React 19 passes properties to custom elements and turns `on<event-name>`
// props into listeners for that exact event name.
import {useRef, useState} from 'react';
import 'ws-connection';

export function LiveFeed({url}) {
  const connection = useRef(null);
  const [state, setState] = useState('idle');
  const [messages, setMessages] = useState([]);
  const [text, setText] = useState('');

  function submit(event) {
    event.preventDefault();
    if (connection.current.send({text})) setText('');
  }

  return (
    <section>
      <ws-connection
        ref={connection}
        url={url}
        json
        onws-state={(event) => setState(event.detail.state)}
        onws-message={(event) => setMessages((list) => [...list, event.detail.data])}
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
