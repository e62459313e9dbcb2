// Angular, typed by `ws-connection/angular`: WsConnectionDirective makes the
// tag known, so the template is type-checked without CUSTOM_ELEMENTS_SCHEMA:
// its inputs, and `$event` of `(ws-*)` with `detail` typed.
import {Component, Input, signal} from '@angular/core';
import type {ConnectionState, WsConnection, WsErrorEvent} from 'ws-connection';
import {WsConnectionDirective} from 'ws-connection/angular';

@Component({
  selector: 'live-feed',
  imports: [WsConnectionDirective],
  template: `
    <section>
      <ws-connection
        #connection
        [url]="url"
        json
        heartbeatInterval="5000"
        (ws-state)="state.set($event.detail.state)"
        (ws-message)="messages.update((list) => [...list, $event.detail.data])"
        (ws-error)="warn($event)"
      >
        Live feed
      </ws-connection>
      <p class="state">{{ state() }}</p>
      <form (submit)="submit($event, connection)">
        <input aria-label="Message" [value]="text()" (input)="text.set(field.value)" #field />
        <button>Send</button>
      </form>
      <ul>
        @for (message of messages(); track $index) {
          <li>{{ stringify(message) }}</li>
        }
      </ul>
    </section>
  `,
})
export class LiveFeedComponent {
  // A decorator rather than input(): the browser test compiles it in the page (JIT).
  @Input({required: true}) url!: string;
  readonly state = signal<ConnectionState>('idle');
  readonly messages = signal<unknown[]>([]);
  readonly text = signal('');

  submit(event: Event, connection: WsConnection) {
    event.preventDefault();
    if (connection.send({text: this.text()})) this.text.set('');
  }

  warn(event: WsErrorEvent) {
    console.warn(event.detail.kind, event.detail.message);
  }

  stringify(message: unknown) {
    return JSON.stringify(message);
  }
}
