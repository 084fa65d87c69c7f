import type pg from 'pg';
import { comparePositions, START, type EventStore, type RecordedEvent } from '../eventstore/event-store.js';
import { RowCache } from './apply-batch.js';
import { applyCheckpointed, applyInTransaction } from './checkpointed-apply.js';
import { copyRows } from './copy-rows.js';
import {
  advanceGeneration,
  compareGenerations,
  createGeneration,
  createSecondaryIndexes,
  liveGeneration,
  lockGeneration,
  swapGenerations,
  type Generation,
} from './generations.js';
import { MemoryFold } from './in-memory.js';
import { ProjectionHandlerError, type Projection, type Row, type TableSpec } from './projection.js';
import type { TableComparison } from './table-sql.js';

export type RebuildProgress = Readonly<{
  projection: string;
  applied: number;
  /** Events in the log when the rebuild started (new ones arrive meanwhile, so this is an estimate). */
  total: number;
  events_per_second: number;
  eta_seconds: number | null;
}>;

export type RebuildReport = Readonly<{
  projection: string;
  version: number;
  generation: number;
  replaced_generation: number | null;
  events_applied: number;
  seconds: number;
  events_per_second: number;
  /** Table by table against the live generation at the same position; null when there was none of the same version. */
  comparison: readonly TableComparison[] | null;
  identical: boolean | null;
}>;

export type RebuildOptions = Readonly<{
  /** Events per page read from the log, and per transaction once a rebuild went on from the database. */
  batch_size?: number;
  /**
   * Rows all the rebuilt projections together may hold in memory. The log is folded in memory and every row
   * written once with COPY; past this many rows the folds are written out and the rest of the log is applied
   * batch by batch, reading and writing the tables as the live projector does.
   */
  memory_rows?: number;
  on_progress?: (progress: RebuildProgress) => void;
  progress_interval_ms?: number;
  /** Told when the log has been read and folded, and when the folds are written out (benchmarks time the stages). */
  on_stage?: (stage: 'folded' | 'written') => void;
  now?: () => number;
}>;

export const DEFAULT_REBUILD_BATCH = 5_000;
/** About 2 GB of rows on the heap; `ispbills rebuild` gives Node room for that. */
export const DEFAULT_MEMORY_ROWS = 5_000_000;
/** Generations written out, indexed and swapped at a time: PostgreSQL gets two backends on a 2-core machine. */
const WRITERS = 2;

/** One projection rebuilt on its own: the same path as several at once. */
export async function rebuildProjection(pool: pg.Pool, store: EventStore, projection: Projection, options: RebuildOptions = {}): Promise<RebuildReport> {
  const [report] = await rebuildProjections(pool, store, [projection], options);
  return report!;
}

/**
 * Builds each projection's current version into a fresh generation from position 0 while the live generations
 * keep serving, then swaps each in one transaction: with both checkpoints locked (the live worker waits), the new
 * generation catches up with the log, the live one is brought to the same position when it runs the same
 * version, the two are compared table by table, and the views move. Events are never edited.
 *
 * The log is read once for all of them and folded in memory by the projections' own handlers; each row is then
 * written once, in its final state, with COPY, and the secondary indexes are built after the load. Applying the
 * log batch by batch instead rewrites a customer's row at every one of its events and maintains every index
 * row by row, which costs an order of magnitude more; it remains the path past the memory budget.
 */
export async function rebuildProjections(pool: pg.Pool, store: EventStore, projections: readonly Projection[], options: RebuildOptions = {}): Promise<RebuildReport[]> {
  const now = options.now ?? (() => performance.now());
  const batch_size = options.batch_size ?? DEFAULT_REBUILD_BATCH;
  const memory_rows = options.memory_rows ?? DEFAULT_MEMORY_ROWS;
  const started = now();
  const total = await eventCount(pool);
  const fresh: Generation[] = [];
  for (const projection of projections) fresh.push(await createGeneration(pool, projection, { state: 'building', defer_indexes: true }));
  const label = projections.length === 1 ? projections[0]!.name : `${projections.length} models`;
  let applied = 0;
  let last_report = started;
  const report = (): void => {
    const seconds = (now() - started) / 1000;
    const rate = seconds > 0 ? applied / seconds : 0;
    options.on_progress?.({
      projection: label,
      applied,
      total,
      events_per_second: Math.round(rate),
      eta_seconds: rate > 0 ? Math.max(0, Math.round((total - applied) / rate)) : null,
    });
  };

  const folds = projections.map((projection) => new MemoryFold(projection, true));
  const streamer = new RowStreamer(pool, folds, fresh);
  let in_memory = true;
  const caches = projections.map(() => new RowCache());
  let last_event: RecordedEvent | null = null;
  // The next page is read while this one is applied: reading and applying overlap.
  let reading = store.readAll(START, { max_count: batch_size });
  for (;;) {
    const events = await reading;
    if (events.length === 0) break;
    const last = events[events.length - 1]!;
    reading = store.readAll(last.position, { max_count: batch_size });
    // Observed at once: if it fails while the apply runs, the next turn's await throws it, and if the apply
    // fails first, the read's failure must not surface as an unhandled rejection that ends the process.
    reading.catch(() => undefined);
    if (in_memory) {
      for (const event of events) for (const fold of folds) foldEvent(fold, event);
      await streamer.offer(STREAMED_ROWS_PER_COPY);
    } else {
      const expected = last_event!.position;
      await eachAtMost(WRITERS, projections, (projection, index) => applyCheckpointed(pool, projection, fresh[index]!, events, caches[index]!, { expected }));
    }
    applied += events.length;
    last_event = last;
    if (in_memory && folds.reduce((sum, fold) => sum + fold.rows, 0) > memory_rows) {
      await streamer.drain();
      await writeFolds(pool, folds, fresh, last, applied);
      for (const fold of folds) fold.clear();
      in_memory = false;
    }
    if (now() - last_report >= (options.progress_interval_ms ?? 1_000)) {
      last_report = now();
      report();
    }
  }
  if (in_memory) await streamer.drain();
  options.on_stage?.('folded');
  // Once the streams are drained the write-once tables are complete (up to the catch-up): PostgreSQL builds their
  // indexes, the bulk of the index work, while Node formats the other tables' COPY.
  const indexed_early = (spec: TableSpec): boolean => in_memory && spec.write_once === true;
  const early = in_memory ? eachAtMost(1, projections, (projection, index) => createSecondaryIndexes(pool, projection, fresh[index]!, indexed_early)) : Promise.resolve([]);
  early.catch(() => undefined);
  if (in_memory && last_event !== null) await writeFolds(pool, folds, fresh, last_event, applied);
  for (const fold of folds) fold.clear();
  options.on_stage?.('written');
  await early;

  // A swap holds a connection while the catch-up reads the log on another: two at a time need four connections.
  const swappers = Math.max(1, Math.min(WRITERS, Math.floor((pool.options.max ?? 10) / 2)));
  const reports = await eachAtMost(swappers, projections, async (projection, index) => {
    // Outside the swap's locks, so the live generation keeps serving (and its worker writing) meanwhile; the
    // catch-up below then maintains the indexes for the few events that arrived since.
    await createSecondaryIndexes(pool, projection, fresh[index]!, (spec) => !indexed_early(spec));
    let caught_up = 0;
    const client = await pool.connect();
    let swap: { replaced: Generation | null; comparison: readonly TableComparison[] | null };
    try {
      await client.query('BEGIN');
      swap = await catchUpAndSwap(client, store, projection, fresh[index]!, caches[index]!, batch_size, (count) => {
        caught_up += count;
      });
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release(true);
      throw error;
    }
    client.release();
    const seconds = (now() - started) / 1000;
    const events_applied = applied + caught_up;
    return {
      projection: projection.name,
      version: projection.version,
      generation: fresh[index]!.generation,
      replaced_generation: swap.replaced?.generation ?? null,
      events_applied,
      seconds,
      events_per_second: seconds > 0 ? Math.round(events_applied / seconds) : 0,
      comparison: swap.comparison,
      identical: swap.comparison === null ? null : swap.comparison.every((table) => table.only_live === 0 && table.only_new === 0),
    } satisfies RebuildReport;
  });
  report();
  return reports;
}

/** A handler that throws names the event it failed on: the rebuild stops there, as the live projector would. */
function foldEvent(fold: MemoryFold, event: RecordedEvent): void {
  try {
    fold.apply(event);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ProjectionHandlerError(
      `projection ${fold.projection.name} failed on event ${event.global_position} (${event.type} ${event.event_id} on ${event.stream_id}): ${reason}`,
    );
  }
}

/** Each fold's rows into its generation's empty tables with COPY, and the checkpoint to `last`, in one transaction. */
async function writeFolds(pool: pg.Pool, folds: readonly MemoryFold[], generations: readonly Generation[], last: RecordedEvent, events: number): Promise<void> {
  await eachAtMost(WRITERS, folds, async (fold, index) => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const generation = await lockGeneration(client, generations[index]!.name, generations[index]!.generation);
      if (generation.events_applied !== 0n) throw new Error(`bug: generation ${generation.schema_name} was written by someone else during its rebuild`);
      for (const spec of fold.projection.tables) {
        const rows = fold.tables.get(spec.name)!;
        if (rows.size > 0) await copyRows(client, generation.schema_name, spec, rows.values());
      }
      await advanceGeneration(client, generation, last, events);
      await client.query('COMMIT');
      client.release();
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release(true);
      throw error;
    }
  });
}

/** Write-once rows are sent once this many wait; the fold goes on while they are written. */
const STREAMED_ROWS_PER_COPY = 20_000;

/**
 * Write-once rows (journal lines, timeline lines) on their way to the fresh generations while the fold goes on:
 * one COPY at a time on a connection of its own, so PostgreSQL parses rows on the other core while Node folds,
 * and the fold never holds more than two loads of them. Nobody reads a generation before its swap and a failed
 * rebuild abandons it, so these rows need not commit together with the checkpoint.
 */
class RowStreamer {
  private in_flight: Promise<void> = Promise.resolve();

  constructor(
    private readonly pool: pg.Pool,
    private readonly folds: readonly MemoryFold[],
    private readonly generations: readonly Generation[],
  ) {}

  /** Sends what the folds hold once `threshold` rows wait, after the previous COPY finished (its failure is thrown here). */
  async offer(threshold: number): Promise<void> {
    if (this.folds.reduce((sum, fold) => sum + fold.streamed_rows, 0) < threshold) return;
    await this.in_flight;
    this.in_flight = this.copy(this.folds.map((fold) => fold.takeStreamed()));
    // Observed now, thrown at the next offer or drain: a fold that fails meanwhile must not leave it unhandled.
    this.in_flight.catch(() => undefined);
  }

  /** Waits for the COPY under way, then writes whatever is left. */
  async drain(): Promise<void> {
    await this.in_flight;
    await this.copy(this.folds.map((fold) => fold.takeStreamed()));
  }

  private async copy(taken: readonly ReadonlyMap<string, readonly Row[]>[]): Promise<void> {
    if (taken.every((tables) => tables.size === 0)) return;
    const client = await this.pool.connect();
    try {
      for (const [index, tables] of taken.entries()) {
        for (const [table, rows] of tables) {
          const spec = this.folds[index]!.projection.tables.find((candidate) => candidate.name === table)!;
          await copyRows(client, this.generations[index]!.schema_name, spec, rows);
        }
      }
      client.release();
    } catch (error) {
      client.release(true);
      throw error;
    }
  }
}

/** `work` over every item, at most `limit` at a time, results in the items' order. */
async function eachAtMost<Item, Result>(limit: number, items: readonly Item[], work: (item: Item, index: number) => Promise<Result>): Promise<Result[]> {
  const results: Result[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next;
      next += 1;
      results[index] = await work(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

async function catchUpAndSwap(
  client: pg.ClientBase,
  store: EventStore,
  projection: Projection,
  fresh: Generation,
  cache: RowCache,
  batch_size: number,
  on_applied: (count: number) => void,
): Promise<{ replaced: Generation | null; comparison: readonly TableComparison[] | null }> {
  // Lock order: live first, then the new generation; the live worker takes only the live row.
  const live_row = await liveGeneration(client, projection.name);
  const live = live_row === null ? null : await lockGeneration(client, live_row.name, live_row.generation);
  let current = await lockGeneration(client, fresh.name, fresh.generation);
  for (;;) {
    const events = await store.readAll(current.position, { max_count: batch_size });
    if (events.length === 0) break;
    const result = await applyInTransaction(client, projection, current, events, cache);
    result.commit_cache();
    on_applied(result.applied);
    current = result.generation;
  }
  let comparison: readonly TableComparison[] | null = null;
  if (live !== null && live.version === projection.version) {
    // Bring the live generation to exactly the new one's position, so the comparison is like for like.
    let live_now = live;
    const live_cache = new RowCache();
    while (comparePositions(live_now.position, current.position) < 0) {
      const events = (await store.readAll(live_now.position, { max_count: batch_size })).filter((event) => comparePositions(event.position, current.position) <= 0);
      if (events.length === 0) break;
      const result = await applyInTransaction(client, projection, live_now, events, live_cache);
      live_now = result.generation;
    }
    if (comparePositions(live_now.position, current.position) === 0) comparison = await compareGenerations(client, projection, live_now, current);
  }
  await swapGenerations(client, projection, live, current);
  return { replaced: live, comparison };
}

async function eventCount(pool: pg.Pool): Promise<number> {
  const result = await pool.query<{ count: string }>('SELECT count(*) AS count FROM events');
  return Number(result.rows[0]!.count);
}

export function formatProgress(progress: RebuildProgress): string {
  const width = 30;
  const fraction = progress.total > 0 ? Math.min(1, progress.applied / progress.total) : 1;
  const filled = Math.round(fraction * width);
  const eta = progress.eta_seconds === null ? '?' : `${progress.eta_seconds}s`;
  return `${progress.projection.padEnd(10)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${progress.applied}/${progress.total} events  ${progress.events_per_second} events/s  ETA ${eta}`;
}
