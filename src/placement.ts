export type PlacementChange = 'inserted' | 'removed' | 'unchanged';

/**
 * Tells an insertion or a removal from a move. A host reports each of its
 * connected and disconnected callbacks; once the task's DOM work is done (a
 * microtask later), `settled` hears whether the host ended up in the document
 * when it was not (`inserted`), out of it when it was in (`removed`), or
 * where it was (`unchanged`: moved — removed and inserted again in one task,
 * as frameworks reorder a keyed list — or in and out again).
 *
 * Acting a microtask later also lets a framework that inserts the host
 * finish its own work before the host does anything its listeners hear of.
 *
 * @example
 * readonly #placement = new Placement((change) => change === 'removed' && this.#client.pause());
 * connectedCallback() { super.connectedCallback(); this.#placement.connected(); }
 * disconnectedCallback() { super.disconnectedCallback(); this.#placement.disconnected(); }
 */
export class Placement {
  readonly #settled: (change: PlacementChange) => void;
  #inDocument = false;
  /** In the document when `settled` was last called. */
  #wasIn = false;
  #settling = false;

  constructor(settled: (change: PlacementChange) => void) {
    this.#settled = settled;
  }

  /** In the document now, settled or not. */
  get inDocument(): boolean {
    return this.#inDocument;
  }

  connected(): void {
    this.#inDocument = true;
    this.#settle();
  }

  disconnected(): void {
    this.#inDocument = false;
    this.#settle();
  }

  #settle(): void {
    if (this.#settling) return;
    this.#settling = true;
    queueMicrotask(() => {
      this.#settling = false;
      const wasIn = this.#wasIn;
      this.#wasIn = this.#inDocument;
      this.#settled(wasIn === this.#inDocument ? 'unchanged' : this.#inDocument ? 'inserted' : 'removed');
    });
  }
}
