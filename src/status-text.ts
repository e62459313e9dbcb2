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

/**
 * The words of the status area, each a function of what it says. Numbers
 * come formatted with `Intl` for the element's language (its `lang`, or the
 * nearest ancestor's, as `<html lang>`; English without one): the attempt
 * as a number, the countdown and the latency with their unit.
 *
 * @example
 * el.statusText = {
 *   state: (state) => ({open: 'Verbunden', closed: 'Getrennt'})[state] ?? state,
 *   retryIn: (seconds) => ` in ${seconds}`,
 * };
 */
export interface StatusWords {
  /** The name of a state: `Connected`. */
  state(state: ConnectionState): string;
  /** While reconnecting, with the attempt: `Reconnecting, attempt 2`. */
  reconnecting(attempt: string): string;
  /** The countdown to the next attempt, apart from the words: ` in 3 sec`. */
  retryIn(seconds: string): string;
  /** The latency while open, apart from the words: ` · 42 ms`. */
  latency(milliseconds: string): string;
  /** A close with an unusual code, and its reason (maybe empty): `Closed (4001: kicked)`. */
  closedWith(code: number, reason: string): string;
  /** Another tab holds the shared socket, said after the state's words: `Connected · via another tab`. */
  viaAnotherTab(text: string): string;
}

const STATES: Record<ConnectionState, string> = {
  idle: 'Not connected',
  connecting: 'Connecting…',
  open: 'Connected',
  reconnecting: 'Reconnecting',
  offline: 'Offline',
  closed: 'Closed',
};

/** The default words, in English. */
export const ENGLISH: Readonly<StatusWords> = Object.freeze({
  state: (state: ConnectionState) => STATES[state],
  reconnecting: (attempt: string) => `Reconnecting, attempt ${attempt}`,
  retryIn: (seconds: string) => ` in ${seconds}`,
  latency: (milliseconds: string) => ` · ${milliseconds}`,
  closedWith: (code: number, reason: string) => `Closed (${code}${reason ? `: ${reason}` : ''})`,
  viaAnotherTab: (text: string) => `${text} · via another tab`,
});

/** `n` written for `lang`, with `unit` (`second`, `millisecond`) if given; a language Intl does not know gets English. */
function formatted(n: number, lang: string, unit?: string): string {
  const options: Intl.NumberFormatOptions | undefined = unit
    ? {style: 'unit', unit, unitDisplay: 'short'}
    : undefined;
  try {
    return n.toLocaleString(lang, options);
  } catch {
    return n.toLocaleString('en', options);
  }
}

/**
 * The words of the status area: `text` names the state (with the attempt
 * while reconnecting, and the code and reason of an unusual close); `detail`
 * holds what changes with every heartbeat or second — the latency while
 * open, the countdown while reconnecting — and is kept apart so that a live
 * region announces the state, not each tick. `words` replace the English
 * ones they name; numbers are formatted for `lang`.
 *
 * @example
 * statusText({state: 'reconnecting', attempt: 2, nextRetryAt: now + 2500, now, latency: undefined});
 * // {text: 'Reconnecting, attempt 2', detail: ' in 3 sec'}
 */
export function statusText(
  input: StatusInput,
  words: Partial<StatusWords> = {},
  lang = 'en',
): {text: string; detail?: string} {
  const say = {...ENGLISH, ...words};
  const result = stateWords(input, say, lang);
  const live = input.state === 'open' || input.state === 'connecting' || input.state === 'reconnecting';
  if (input.remote && live) result.text = say.viaAnotherTab(result.text);
  return result;
}

function stateWords(
  {state, attempt, latency, nextRetryAt, now, close}: StatusInput,
  say: StatusWords,
  lang: string,
): {text: string; detail?: string} {
  if (state === 'open' && latency !== undefined) {
    return {text: say.state(state), detail: say.latency(formatted(Math.round(latency), lang, 'millisecond'))};
  }
  if (state === 'reconnecting') {
    const seconds = nextRetryAt === undefined ? 0 : Math.max(0, Math.ceil((nextRetryAt - now) / 1000));
    return {
      text: say.reconnecting(formatted(attempt, lang)),
      detail: say.retryIn(formatted(seconds, lang, 'second')),
    };
  }
  if (state === 'closed' && close?.code !== undefined && close.code !== 1000) {
    return {text: say.closedWith(close.code, close.reason ?? '')};
  }
  return {text: say.state(state)};
}
