import type {TimerHandle} from './environment.js';

type Listener<T> = (detail: T) => void;
type Outgoing<M> = {[K in keyof M]: [K, M[K]]}[keyof M];

/**
 * Events that wait until the change that caused them is complete. A change
 * runs inside `run`; what it emits goes out when the outermost `run` ends,
 * in the order emitted. A listener may call back into its owner: that call's
 * change runs at once, and its events queue behind the ones being delivered.
 */
export class Emitter<M extends object> {
  readonly #listeners = new Map<keyof M, Set<Listener<never>>>();
  readonly #outbox: Outgoing<M>[] = [];
  readonly #later: (callback: () => void, ms: number) => TimerHandle;
  #delivering = false;

  /** `later` reports a listener's error, as the platform does: later, without stopping the others. */
  constructor(later: (callback: () => void, ms: number) => TimerHandle) {
    this.#later = later;
  }

  on<K extends keyof M>(type: K, listener: Listener<M[K]>): () => void {
    let listeners = this.#listeners.get(type);
    if (!listeners) this.#listeners.set(type, (listeners = new Set()));
    listeners.add(listener as Listener<never>);
    return () => listeners.delete(listener as Listener<never>);
  }

  emit<K extends keyof M>(type: K, detail: M[K]): void {
    this.#outbox.push([type, detail] as Outgoing<M>);
  }

  run<T>(change: () => T): T {
    try {
      return change();
    } finally {
      this.#deliver();
    }
  }

  #deliver(): void {
    if (this.#delivering || !this.#outbox.length) return;
    this.#delivering = true;
    try {
      for (let next = this.#outbox.shift(); next; next = this.#outbox.shift()) {
        const [type, detail] = next;
        for (const listener of [...(this.#listeners.get(type) ?? [])]) {
          try {
            (listener as Listener<unknown>)(detail);
          } catch (error) {
            this.#later(() => {
              throw error;
            }, 0);
          }
        }
      }
    } finally {
      this.#delivering = false;
    }
  }
}
