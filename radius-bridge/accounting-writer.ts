import type pg from 'pg';
import type { Logger } from 'pino';
import type { AccountingRecord } from './accounting-record.js';

/**
 * Writes accounting records to `radacct` in batches: whatever arrived while a lane's previous batch was in
 * flight goes in its next call of `ispbills_radacct_apply` (one round trip, one transaction, records applied in
 * arrival order with FreeRADIUS' statement chains). Under light load a batch is one record and waits for
 * nothing; under a login storm batches grow up to `max_batch`. A router is answered only after its record is
 * committed (RFC 2866 §2: the server must not acknowledge what it has not recorded).
 *
 * Records go to `lanes` lanes by their acctuniqueid, so one session's Start, interims and Stop stay in order
 * while different sessions are written in parallel. Accounting-On/Off close every session of a router, so
 * they wait for all lanes to drain and are written alone.
 *
 * When a batch fails, its records are retried one call each, so one bad record fails alone; a record that
 * fails on its own gets no Accounting-Response and the router sends it again.
 */
export type AccountingOutcome = Readonly<{ changed: number; session_open: boolean | null }>;

export type AccountingWriterOptions = Readonly<{
  max_batch?: number;
  /** Batches in flight at once (each a connection); 1 writes strictly in arrival order. */
  lanes?: number;
  /** Records waiting or in flight beyond which new ones are refused (the router retries). */
  max_queued?: number;
  logger?: Logger;
}>;

type Pending = { record: AccountingRecord; resolve: (outcome: AccountingOutcome) => void; reject: (error: unknown) => void };

export class AccountingQueueFull extends Error {
  readonly code = 'RADIUS_ACCOUNTING_QUEUE_FULL';
}

type Lane = { queue: Pending[]; draining: Promise<void> | null; current: Promise<void> | null };

const isRouterWide = (record: AccountingRecord): boolean => record.status === 'accounting-on' || record.status === 'accounting-off';

export class AccountingWriter {
  readonly #pool: pg.Pool;
  readonly #max_batch: number;
  readonly #max_queued: number;
  readonly #logger: Logger | undefined;
  readonly #lanes: Lane[];
  /** Accounting-On/Off, one after another; while one is written the lanes take no new batch. */
  #barrier: Promise<void> = Promise.resolve();
  #paused: Promise<void> | null = null;
  #queued = 0;
  batches = 0;
  records = 0;
  failures = 0;

  constructor(pool: pg.Pool, options: AccountingWriterOptions = {}) {
    this.#pool = pool;
    this.#max_batch = options.max_batch ?? 1_000;
    this.#max_queued = options.max_queued ?? 20_000;
    this.#logger = options.logger;
    this.#lanes = Array.from({ length: Math.max(1, options.lanes ?? 2) }, () => ({ queue: [], draining: null, current: null }));
  }

  get queued(): number {
    return this.#queued;
  }

  /** Resolves once the record is committed; rejects with AccountingQueueFull at once when the queue is full. */
  write(record: AccountingRecord): Promise<AccountingOutcome> {
    if (this.#queued >= this.#max_queued) return Promise.reject(new AccountingQueueFull(`${this.#queued} accounting records already queued`));
    this.#queued += 1;
    const done = new Promise<AccountingOutcome>((resolve, reject) => {
      const pending: Pending = { record, resolve, reject };
      if (isRouterWide(record)) {
        this.#barrier = this.#barrier.then(async () => {
          let resume!: () => void;
          this.#paused = new Promise((resolve) => (resume = resolve));
          try {
            // The batches already in flight were sent before it; what waits in the lanes comes after it.
            await Promise.all(this.#lanes.map((lane) => lane.current));
            await this.#write([pending]);
          } finally {
            this.#paused = null;
            resume();
          }
        });
        return;
      }
      const lane = this.#lanes[laneOf(record.acctuniqueid, this.#lanes.length)]!;
      lane.queue.push(pending);
      lane.draining ??= this.#drain(lane);
    });
    return done.finally(() => (this.#queued -= 1));
  }

  /** Resolves when everything queued so far is written (or failed). */
  async flush(): Promise<void> {
    await this.#barrier;
    for (const lane of this.#lanes) while (lane.draining !== null) await lane.draining;
  }

  async #drain(lane: Lane): Promise<void> {
    // Let the packets already in the socket's queue join the first batch.
    await new Promise((resolve) => setImmediate(resolve));
    try {
      while (lane.queue.length > 0) {
        while (this.#paused !== null) await this.#paused;
        const batch = lane.queue.splice(0, this.#max_batch);
        lane.current = this.#write(batch);
        await lane.current;
        lane.current = null;
      }
    } finally {
      lane.draining = null;
    }
  }

  async #write(batch: readonly Pending[]): Promise<void> {
    try {
      const outcomes = await this.#apply(batch.map((pending) => pending.record));
      this.batches += 1;
      this.records += batch.length;
      batch.forEach((pending, index) => pending.resolve(outcomes[index]!));
      return;
    } catch (error) {
      if (batch.length === 1) {
        this.failures += 1;
        this.#logger?.error({ err: error, acctuniqueid: batch[0]!.record.acctuniqueid, status: batch[0]!.record.status }, 'radius accounting: record not written; the router will resend it');
        batch[0]!.reject(error);
        return;
      }
      this.#logger?.warn({ err: error, records: batch.length }, 'radius accounting: batch failed; writing its records one by one');
    }
    for (const pending of batch) await this.#write([pending]);
  }

  async #apply(records: readonly AccountingRecord[]): Promise<AccountingOutcome[]> {
    const result = await this.#pool.query<{ ordinal: number; changed: string; session_open: boolean | null }>({
      name: 'ispbills-radacct-apply',
      text: 'SELECT ordinal, changed, session_open FROM ispbills_radacct_apply($1::jsonb)',
      values: [JSON.stringify(records)],
    });
    if (result.rows.length !== records.length) throw new Error(`ispbills_radacct_apply returned ${result.rows.length} rows for ${records.length} records`);
    return result.rows.map((row) => ({ changed: Number(row.changed), session_open: row.session_open }));
  }
}

/** A stable lane for a session: FNV-1a over its acctuniqueid. */
function laneOf(acctuniqueid: string, lanes: number): number {
  if (lanes === 1) return 0;
  let hash = 0x811c9dc5;
  for (let i = 0; i < acctuniqueid.length; i += 1) hash = Math.imul(hash ^ acctuniqueid.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % lanes;
}
