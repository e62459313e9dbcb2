// Same-origin frames standing in for tabs, each with its own elements, and
// what the test needs to watch them.
import type {WsConnection} from '../../src/ws-connection.js';
import {FAST} from '../support/watched.js';
import {until} from '../support/rig.js';

export interface Tab {
  frame: HTMLIFrameElement;
  win: Window & typeof globalThis;
  /** Adds a `<ws-connection>` to the frame's page, connected to `url`. */
  add(url: string, attributes?: Record<string, string>): Member;
  members: Member[];
}

export interface Member {
  el: WsConnection;
  /** What arrived, as `ws-message` data. */
  messages: unknown[];
  states: string[];
  errors: string[];
}

/** A frame with the element defined in it; `query` `?nolocks` takes Web Locks away first. */
export async function openTab(query = ''): Promise<Tab> {
  const frame = document.createElement('iframe');
  frame.src = `/test/share/frame.html${query}`;
  document.body.append(frame);
  await until(() => !!(frame.contentWindow as unknown as {ready?: boolean})?.ready, {
    timeout: 10_000,
    message: 'the frame to load',
  });
  const win = frame.contentWindow as Window & typeof globalThis;
  const tab: Tab = {
    frame,
    win,
    members: [],
    add(url, attributes = {}) {
      const el = win.document.createElement('ws-connection') as WsConnection;
      for (const [name, value] of Object.entries({...FAST, shared: '', ...attributes})) {
        el.setAttribute(name, value);
      }
      el.setAttribute('url', url);
      const member: Member = {el, messages: [], states: [], errors: []};
      el.addEventListener('ws-message', (event) => member.messages.push(event.detail.data));
      el.addEventListener('ws-state', (event) => member.states.push(event.detail.state));
      el.addEventListener('ws-error', (event) => member.errors.push(event.detail.kind));
      win.document.body.append(el);
      tab.members.push(member);
      return member;
    },
  };
  return tab;
}

export const allOpen = (members: Member[], timeout = 10_000) =>
  until(() => members.every(({el}) => el.state === 'open'), {timeout, message: 'every element open'});

export const leaders = (tabs: Tab[]) => tabs.filter((tab) => tab.members.some(({el}) => el.leader));
