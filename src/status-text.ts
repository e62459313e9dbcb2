import type {ConnectionState} from './client/ws-client.js';

export interface StatusInput {
  state: ConnectionState;
  attempt: number;
  latency: number | undefined;
  nextRetryAt: number | undefined;
  /** Epoch ms, for the countdown. */
  now: number;
  /** The close that ended the connection, when it is `closed`. */
  close?: {code?: number; reason?: string} | undefined;
  /** Another tab holds the shared socket. */
  remote?: boolean;
}

const WORDS: Record<ConnectionState, string> = {
  idle: 'Not connected',
  connecting: 'Connecting…',
  open: 'Connected',
  reconnecting: 'Reconnecting',
  offline: 'Offline',
  closed: 'Closed',
};

/**
 * The words of the status area: `text` names the state (with the attempt
 * while reconnecting, and the code and reason of an unusual close); `detail`
 * holds what changes with every heartbeat or second — the latency while
 * open, the countdown while reconnecting — and is kept apart so that a live
 * region announces the state, not each tick.
 *
 * @example
 * statusText({state: 'reconnecting', attempt: 2, nextRetryAt: now + 2500, now, latency: undefined});
 * // {text: 'Reconnecting, attempt 2', detail: ' in 3 s'}
 */
export function statusText(input: StatusInput): {text: string; detail?: string} {
  const words = stateWords(input);
  const live = input.state === 'open' || input.state === 'connecting' || input.state === 'reconnecting';
  if (input.remote && live) words.text += ' · via another tab';
  return words;
}

function stateWords({state, attempt, latency, nextRetryAt, now, close}: StatusInput): {
  text: string;
  detail?: string;
} {
  if (state === 'open' && latency !== undefined) {
    return {text: WORDS.open, detail: ` · ${Math.round(latency)} ms`};
  }
  if (state === 'reconnecting') {
    const seconds = nextRetryAt === undefined ? 0 : Math.max(0, Math.ceil((nextRetryAt - now) / 1000));
    return {text: `${WORDS.reconnecting}, attempt ${attempt}`, detail: ` in ${seconds} s`};
  }
  if (state === 'closed' && close?.code !== undefined && close.code !== 1000) {
    return {text: `${WORDS.closed} (${close.code}${close.reason ? `: ${close.reason}` : ''})`};
  }
  return {text: WORDS[state]};
}
