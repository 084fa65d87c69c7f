/**
 * In-process locks by key, taken in sorted order so two holders of overlapping key sets cannot deadlock.
 * Commands that write a busy shared stream (a reseller's wallet) queue here instead of racing to a
 * concurrency conflict and retrying; across processes the event store's expected revisions still decide.
 */
export class KeyedMutex {
  readonly #tails = new Map<string, Promise<void>>();

  async acquire(keys: readonly string[]): Promise<() => void> {
    const unique = [...new Set(keys)].sort();
    const releases: (() => void)[] = [];
    for (const key of unique) {
      const previous = this.#tails.get(key) ?? Promise.resolve();
      let release!: () => void;
      const current = new Promise<void>((resolve) => (release = resolve));
      const tail = previous.then(() => current);
      this.#tails.set(key, tail);
      await previous;
      releases.push(() => {
        release();
        // The last holder leaves no entry behind, so the map does not grow with every key ever used.
        if (this.#tails.get(key) === tail) this.#tails.delete(key);
      });
    }
    return () => {
      for (const release of releases.reverse()) release();
    };
  }
}
