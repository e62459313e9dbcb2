/**
 * The tabs taking part in a key's conversation, as the lock manager tells:
 * each holds its presence lock while it takes part. A message from a tab
 * not yet known waits until the lock manager vouches for it, and is
 * dropped if it does not: a well-formed message from other code on the
 * channel never acts.
 */
export class Vouched<M> {
  readonly #present: (tabs: string[]) => Promise<Set<string>>;
  readonly #deliver: (message: M) => void;
  readonly #live: () => boolean;
  readonly #known = new Set<string>();
  readonly #waiting = new Map<string, M[]>();

  constructor(
    present: (tabs: string[]) => Promise<Set<string>>,
    deliver: (message: M) => void,
    live: () => boolean,
  ) {
    this.#present = present;
    this.#deliver = deliver;
    this.#live = live;
  }

  take(tab: string, message: M): void {
    if (this.#known.has(tab)) {
      this.#deliver(message);
      return;
    }
    const waiting = this.#waiting.get(tab);
    if (waiting) {
      // Bounded: a stranger's flood is not kept.
      if (waiting.length < MAX_WAITING) waiting.push(message);
      return;
    }
    this.#waiting.set(tab, [message]);
    void this.#present([tab]).then((present) => {
      const messages = this.#waiting.get(tab) ?? [];
      this.#waiting.delete(tab);
      if (!this.#live() || !present.has(tab)) return;
      this.#known.add(tab);
      for (const message of messages) this.#deliver(message);
    });
  }

  /** The tab went: what it says from now on waits for the lock manager again. */
  forget(tab: string): void {
    this.#known.delete(tab);
  }
}

const MAX_WAITING = 1000;
