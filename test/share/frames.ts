// Same-origin frames standing in for tabs, each with its own elements, and
// what the test needs to watch them.
import type {StateChange} from '../../src/events.js';
import type {WsConnection} from '../../src/ws-connection.js';
import {FAST} from '../support/watched.js';
import {Rig, until} from '../support/rig.js';

export interface Tab {
  frame: HTMLIFrameElement;
  win: Window & typeof globalThis;
  /**
   * Adds a `<ws-connection>` to the frame's page, connected to `url`;
   * `prepare` sees it before it is inserted (to set `openMessages`, a listener).
   */
  add(url: string, attributes?: Record<string, string>, prepare?: (el: WsConnection) => void): Member;
  members: Member[];
  /** Uncaught errors and unhandled rejections in the frame's page, in order. */
  pageErrors: string[];
  /** The url of every WebSocket the frame's page made, in order. */
  socketUrls: string[];
}

export interface Member {
  el: WsConnection;
  /** What arrived, as `ws-message` data. */
  messages: unknown[];
  states: string[];
  /** Every `ws-state` detail, in order. */
  changes: StateChange[];
  errors: string[];
}

/** Every frame `openTab` made that `closeTabs` has not removed yet. */
const opened = new Set<HTMLIFrameElement>();

/** A rig for the next test; with its echo off unless `echo`. Each tab test's `beforeEach`. */
export async function startRig({echo = false} = {}): Promise<Rig> {
  const rig = await Rig.start();
  if (!echo) await rig.setEcho(false);
  return rig;
}

/** Removes every frame `openTab` made, then stops every rig: each tab test's `afterEach`. */
export async function closeTabs(): Promise<void> {
  for (const frame of opened) frame.remove();
  opened.clear();
  await Rig.stopAll();
}

/** A frame with the element defined in it; `query` `?nolocks` takes Web Locks away first. */
export async function openTab(query = ''): Promise<Tab> {
  const frame = document.createElement('iframe');
  frame.src = `/test/share/frame.html${query}`;
  opened.add(frame);
  document.body.append(frame);
  await until(() => !!(frame.contentWindow as unknown as {ready?: boolean})?.ready, {
    timeout: 10_000,
    message: 'the frame to load',
  });
  const win = frame.contentWindow as Window &
    typeof globalThis & {pageErrors: string[]; socketUrls: string[]};
  const tab: Tab = {
    frame,
    win,
    members: [],
    pageErrors: win.pageErrors,
    socketUrls: win.socketUrls,
    add(url, attributes = {}, prepare) {
      const el = win.document.createElement('ws-connection') as WsConnection;
      for (const [name, value] of Object.entries({...FAST, shared: '', ...attributes})) {
        el.setAttribute(name, value);
      }
      el.setAttribute('url', url);
      const member: Member = {el, messages: [], states: [], changes: [], errors: []};
      el.addEventListener('ws-message', (event) => member.messages.push(event.detail.data));
      el.addEventListener('ws-state', (event) => {
        member.states.push(event.detail.state);
        member.changes.push(event.detail);
      });
      el.addEventListener('ws-error', (event) => member.errors.push(event.detail.kind));
      prepare?.(el);
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

/** What reaches a frame's BroadcastChannel listeners: all of it, nothing (`drop`), or all of it `delay` ms late. */
export interface Inbox {
  drop: boolean;
  delay: number;
  /** Deliveries dropped and delayed so far, one per listener: proof that the gate is in the way. */
  dropped: number;
  delayed: number;
}

/**
 * Puts a gate between the frame's BroadcastChannels and the listeners given
 * to them from now on (`onmessage` and `addEventListener('message')`
 * alike). A page paused in the debugger, as Chromium does it,
 * misses what its channels carry meanwhile: `drop` stands in for that; a
 * busy page answers late: `delay`. Call it before the frame's elements join.
 */
export function gateInbox(tab: Tab): Inbox {
  const inbox: Inbox = {drop: false, delay: 0, dropped: 0, delayed: 0};
  const proto = tab.win.BroadcastChannel.prototype;
  const listen = tab.win.EventTarget.prototype.addEventListener;
  const unlisten = tab.win.EventTarget.prototype.removeEventListener;
  const gate = (deliver: (target: BroadcastChannel, event: MessageEvent) => void) =>
    function (this: BroadcastChannel, event: MessageEvent) {
      if (inbox.drop) {
        inbox.dropped++;
      } else if (inbox.delay > 0) {
        inbox.delayed++;
        tab.win.setTimeout(() => deliver(this, event), inbox.delay);
      } else {
        deliver(this, event);
      }
    };
  const onmessage = Object.getOwnPropertyDescriptor(proto, 'onmessage')!;
  Object.defineProperty(proto, 'onmessage', {
    ...onmessage,
    set(this: BroadcastChannel, handler: ((event: MessageEvent) => void) | null) {
      onmessage.set!.call(this, handler && gate((target, event) => handler.call(target, event)));
    },
  });
  const gated = new WeakMap<object, EventListener>();
  const gatedFor = (listener: EventListenerOrEventListenerObject) => {
    let wrapped = gated.get(listener);
    if (!wrapped) {
      wrapped = gate((target, event) =>
        typeof listener === 'function' ? listener.call(target, event) : listener.handleEvent(event),
      ) as EventListener;
      gated.set(listener, wrapped);
    }
    return wrapped;
  };
  type Listen = EventTarget['addEventListener'];
  proto.addEventListener = function (
    this: BroadcastChannel,
    ...[type, listener, options]: Parameters<Listen>
  ) {
    const gatedListener = type === 'message' && listener ? gatedFor(listener) : listener;
    listen.call(this, type, gatedListener, options);
  } as Listen;
  proto.removeEventListener = function (
    this: BroadcastChannel,
    ...[type, listener, options]: Parameters<EventTarget['removeEventListener']>
  ) {
    const gatedListener = type === 'message' && listener ? (gated.get(listener) ?? listener) : listener;
    unlisten.call(this, type, gatedListener, options);
  } as EventTarget['removeEventListener'];
  return inbox;
}

/** Which of `tabs` hold the socket, by their place in `tabs`: a failure then says which. */
export const leaderIndexes = (tabs: Tab[]) =>
  tabs.flatMap((tab, i) => (tab.members.some(({el}) => el.leader) ? [i] : []));
