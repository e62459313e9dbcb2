// An element as a test watches it: made, configured and connected the way a
// page does it, with everything it reports recorded in order.
import {fixture, html} from '@open-wc/testing';
import '../../src/index.js';
import type {ErrorDetail, StateChange} from '../../src/events.js';
import type {WsConnection} from '../../src/ws-connection.js';
import {until} from './rig.js';

export interface Watched {
  el: WsConnection;
  states: StateChange[];
  errors: ErrorDetail[];
  messages: unknown[];
  /** Every event in the order it was dispatched: `state:open`, `error:send-failed`, `message`. */
  log: string[];
}

/** Short heartbeat, timeout and retry windows, so that faults show within a test. */
export const FAST = {
  'heartbeat-interval': '300',
  timeout: '1000',
  'reconnect-delay': '100',
  'max-reconnect-delay': '400',
};

/**
 * A `manual` element in the document with `attributes` (FAST by default) and
 * `url`, connected unless `connect` is false.
 */
export async function watched(
  url: string | undefined,
  attributes: Record<string, string> = {},
  {connect = true} = {},
): Promise<Watched> {
  const el = await fixture<WsConnection>(html`<ws-connection manual></ws-connection>`);
  const record: Watched = {el, states: [], errors: [], messages: [], log: []};
  el.addEventListener('ws-state', (event) => {
    record.states.push(event.detail);
    record.log.push(`state:${event.detail.state}`);
  });
  el.addEventListener('ws-error', (event) => {
    record.errors.push(event.detail);
    record.log.push(`error:${event.detail.kind}`);
  });
  el.addEventListener('ws-message', (event) => {
    record.messages.push(event.detail.data);
    record.log.push('message');
  });
  for (const [name, value] of Object.entries({...FAST, ...attributes})) el.setAttribute(name, value);
  el.url = url;
  if (connect) el.connect();
  return record;
}

export const reached = (w: Watched, state: string, timeout = 10_000) =>
  until(() => w.el.state === state, {timeout, message: `state ${state}`});

/** Calls `action` from inside the first `type` event whose detail matches, once. */
export function onFirst<K extends 'ws-state' | 'ws-error'>(
  el: WsConnection,
  type: K,
  match: (detail: K extends 'ws-state' ? StateChange : ErrorDetail) => boolean,
  action: () => void,
): void {
  const listener = (event: Event) => {
    if (!match((event as CustomEvent).detail)) return;
    el.removeEventListener(type, listener);
    action();
  };
  el.addEventListener(type, listener);
}

/** Moves the element elsewhere in the document in one task, as a framework reordering a list does. */
export function move(el: Element): void {
  const elsewhere = document.createElement('div');
  document.body.append(elsewhere);
  el.remove();
  elsewhere.append(el);
}
