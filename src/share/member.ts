import type {Environment} from '../client/environment.js';
import type {ResolvedOptions} from '../client/options.js';
import type {ErrorDetail, StateChange} from '../client/ws-client.js';
import type {Final, Snapshot} from './wire.js';

/**
 * A message a member sent, numbered in its order, kept until the holder
 * confirms it was written (with `reliable`: until the server acknowledged
 * it). `at`: with `reliable`, its seq in the session, once a holder wrote it.
 */
export interface Sent {
  seq: number;
  payload: unknown;
  at?: number;
}

/** What the hub needs from each of its page's members (a `SharedClient`). */
export interface HubMember {
  readonly id: number;
  readonly options: ResolvedOptions;
  readonly environment: Readonly<Environment>;
  /** Its `openMessages`, serialised. */
  openPayloads(): unknown[];
  /** What it sent and was not confirmed, in order; `confirmed()` takes from its front. */
  unconfirmed(): readonly Sent[];
  confirmed(seq: number): void;
  /** How the socket is; `change` when a state change of the socket caused it. */
  shared(snapshot: Snapshot, change?: Partial<StateChange>): void;
  received(data: unknown): void;
  failed(detail: ErrorDetail): void;
  /** Lets go of the messages `test` picks; returns what the application gave for each, in order. */
  forget(test: (sent: Sent) => boolean): unknown[];
  /** The socket closed for good (a stop code, or retries exhausted): the member is `closed`. */
  ended(final: Final): void;
  roleChanged(): void;
}

/**
 * The server lost the session: the member reports what a holder wrote
 * into it (`session-lost`) and lets it go; the rest goes into the new one.
 */
export function lost(member: HubMember): void {
  const data = member.forget((sent) => sent.at !== undefined);
  member.failed({
    kind: 'session-lost',
    message: `the server lost the session: a new session began; ${data.length} messages it may not have received are in data`,
    data,
  });
}

/** The session refused the member's message `seq` for good: it says so (`send-failed`, with the message) and lets it go. */
export function refused(member: HubMember, seq: number): void {
  const [data] = member.forget((sent) => sent.seq === seq);
  if (data === undefined) return;
  member.failed({
    kind: 'send-failed',
    message: "the message was refused: over the server's maxFrame, or a Blob",
    data,
  });
}

/** Records the seq in the session of each of the member's messages in `at` ([number, seq] pairs). */
export function placed(member: HubMember, at: readonly number[][] = []): void {
  if (!at.length) return;
  const seqs = new Map(at.map(([seq, inSession]) => [seq, inSession]));
  for (const sent of member.unconfirmed()) sent.at = seqs.get(sent.seq) ?? sent.at;
}
