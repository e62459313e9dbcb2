import type {Environment} from '../client/environment.js';
import type {ResolvedOptions} from '../client/options.js';
import type {ErrorDetail, StateChange} from '../client/ws-client.js';
import type {Final, Snapshot} from './wire.js';

/** A message a member sent, numbered in its order, kept until the holder confirms it was written. */
export interface Sent {
  seq: number;
  payload: unknown;
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
  /** The socket closed for good (a stop code, or retries exhausted): the member is `closed`. */
  ended(final: Final): void;
  roleChanged(): void;
}
