// The same feed for a page React renders on the server and hydrates in the
// browser. React 19 does not attach `on<event-name>` listeners to custom
// elements while it hydrates (facebook/react#35446), and the element, upgraded
// as soon as its definition loads, may connect before React hydrates it: so
// listen with addEventListener once mounted, and read where it stands then.
import {useEffect, useRef, useState} from 'react';
import 'ws-connection';

export function ServerRenderedFeed({url}) {
  const connection = useRef(null);
  const [state, setState] = useState('idle');
  const [messages, setMessages] = useState([]);

  useEffect(() => {
    const element = connection.current;
    const onState = (event) => setState(event.detail.state);
    const onMessage = (event) => setMessages((list) => [...list, event.detail.data]);
    element.addEventListener('ws-state', onState);
    element.addEventListener('ws-message', onMessage);
    setState(element.state);
    return () => {
      element.removeEventListener('ws-state', onState);
      element.removeEventListener('ws-message', onMessage);
    };
  }, []);

  return (
    <section>
      <ws-connection ref={connection} url={url} json>
        Live feed
      </ws-connection>
      <p className="state">{state}</p>
      <ul>
        {messages.map((message, i) => (
          <li key={i}>{JSON.stringify(message)}</li>
        ))}
      </ul>
    </section>
  );
}
