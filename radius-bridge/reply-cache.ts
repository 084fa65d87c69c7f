/**
 * RFC 5080 §2.2.2: a retransmitted request (same source address and port, Identifier and Request
 * Authenticator) gets the reply already sent, not a second decision or a second accounting write; one that
 * arrives while the first is still being answered is dropped (the answer is on its way). Bounded in entries and
 * in time; the oldest entries go first.
 */
export type CacheLookup = Readonly<{ kind: 'new' }> | Readonly<{ kind: 'in-flight' }> | Readonly<{ kind: 'answered'; reply: Buffer }>;

type Entry = { reply: Buffer | null; expires_at_ms: number };

export class ReplyCache {
  readonly #entries = new Map<string, Entry>();
  #claims = 0;

  constructor(
    private readonly ttl_ms: number,
    private readonly max_entries: number,
  ) {}

  get size(): number {
    return this.#entries.size;
  }

  static key(address: string, port: number, identifier: number, authenticator: Buffer): string {
    return `${address}|${port}|${identifier}|${authenticator.toString('latin1')}`;
  }

  /** Looks the request up and, when it is new, marks it in flight. */
  claim(key: string, now_ms: number): CacheLookup {
    const entry = this.#entries.get(key);
    if (entry !== undefined && entry.expires_at_ms > now_ms) return entry.reply === null ? { kind: 'in-flight' } : { kind: 'answered', reply: entry.reply };
    if (entry !== undefined) this.#entries.delete(key);
    // Eviction walks from the oldest entry; once every 64 claims (or when full) keeps it off the hot path.
    if ((this.#claims += 1) % 64 === 0 || this.#entries.size >= this.max_entries) this.#evict(now_ms);
    this.#entries.set(key, { reply: null, expires_at_ms: now_ms + this.ttl_ms });
    return { kind: 'new' };
  }

  answer(key: string, reply: Buffer, now_ms: number): void {
    this.#entries.delete(key);
    this.#entries.set(key, { reply, expires_at_ms: now_ms + this.ttl_ms });
  }

  /** The request was dropped after all (no reply): a retransmission is handled afresh. */
  forget(key: string): void {
    this.#entries.delete(key);
  }

  #evict(now_ms: number): void {
    for (const [key, entry] of this.#entries) {
      if (this.#entries.size < this.max_entries && entry.expires_at_ms > now_ms) return;
      this.#entries.delete(key);
    }
  }
}
