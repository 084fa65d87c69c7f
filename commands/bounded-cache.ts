/**
 * A Map with a size limit: when full, the entry used least recently goes. (A Map iterates in insertion
 * order, so re-inserting on every hit keeps the oldest-used entry first.)
 */
export class BoundedCache<Key, Value> {
  readonly #entries = new Map<Key, Value>();

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`cache limit must be a whole number ≥ 1, got ${limit}`);
  }

  get(key: Key): Value | undefined {
    const value = this.#entries.get(key);
    if (value !== undefined) {
      this.#entries.delete(key);
      this.#entries.set(key, value);
    }
    return value;
  }

  set(key: Key, value: Value): void {
    this.#entries.delete(key);
    this.#entries.set(key, value);
    if (this.#entries.size > this.limit) this.#entries.delete(this.#entries.keys().next().value as Key);
  }

  get size(): number {
    return this.#entries.size;
  }
}
