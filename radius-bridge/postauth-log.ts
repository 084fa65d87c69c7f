import type pg from 'pg';
import type { Logger } from 'pino';

/**
 * `radpostauth`, as FreeRADIUS' post-auth query fills it (user name, reply type, time) plus the router's
 * Called- and Calling-Station-Id, which help support answer "why was I refused". Never the password: FreeRADIUS'
 * stock query stores User-Password in clear, which radius-bridge (and deploy/freeradius) do not.
 *
 * Written off the authentication path: entries queue in memory and go in one INSERT per flush. When the queue
 * is full (the database is down or slow), new entries are dropped and counted rather than holding up replies.
 */
export type PostAuthEntry = Readonly<{
  username: string;
  reply: 'Access-Accept' | 'Access-Reject';
  calledstationid: string | null;
  callingstationid: string | null;
  authdate: string;
}>;

export class PostAuthLog {
  #queue: PostAuthEntry[] = [];
  #timer: NodeJS.Timeout | null = null;
  #flushing: Promise<void> | null = null;
  dropped = 0;
  written = 0;

  constructor(
    private readonly pool: pg.Pool,
    private readonly options: Readonly<{ flush_interval_ms?: number; max_queued?: number; max_batch?: number; logger?: Logger }> = {},
  ) {}

  record(entry: PostAuthEntry): void {
    if (this.#queue.length >= (this.options.max_queued ?? 50_000)) {
      this.dropped += 1;
      return;
    }
    this.#queue.push(entry);
    this.#timer ??= setTimeout(() => {
      this.#timer = null;
      void this.flush();
    }, this.options.flush_interval_ms ?? 200);
  }

  async flush(): Promise<void> {
    while (this.#flushing !== null) await this.#flushing;
    if (this.#queue.length === 0) return;
    this.#flushing = this.#write().finally(() => (this.#flushing = null));
    await this.#flushing;
  }

  async stop(): Promise<void> {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    await this.flush();
  }

  async #write(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.options.max_batch ?? 5_000);
      try {
        await this.pool.query(
          `INSERT INTO radpostauth (username, pass, reply, calledstationid, callingstationid, authdate)
           SELECT username, NULL, reply, calledstationid, callingstationid, authdate
             FROM jsonb_to_recordset($1::jsonb) AS e(username text, reply text, calledstationid text, callingstationid text, authdate timestamptz)`,
          [JSON.stringify(batch)],
        );
        this.written += batch.length;
      } catch (error) {
        this.dropped += batch.length;
        this.options.logger?.warn({ err: error, entries: batch.length }, 'radius post-auth log: entries not written');
      }
    }
  }
}
