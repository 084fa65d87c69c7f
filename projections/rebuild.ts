import type pg from 'pg';
import { comparePositions, START, type EventStore, type LogPosition } from '../eventstore/event-store.js';
import { RowCache } from './apply-batch.js';
import { applyCheckpointed, applyInTransaction } from './checkpointed-apply.js';
import { compareGenerations, createGeneration, createSecondaryIndexes, liveGeneration, lockGeneration, swapGenerations, type Generation } from './generations.js';
import type { Projection } from './projection.js';
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
  batch_size?: number;
  on_progress?: (progress: RebuildProgress) => void;
  progress_interval_ms?: number;
  now?: () => number;
}>;

const DEFAULT_BATCH = 2_000;

/**
 * Builds the projection's current version into a fresh generation from position 0 while the live generation
 * keeps serving, then swaps in one transaction: with both checkpoints locked (the live worker waits), the new
 * generation catches up with the log, the live one is brought to the same position when it runs the same
 * version, the two are compared table by table, and the views move. Events are never edited.
 */
export async function rebuildProjection(pool: pg.Pool, store: EventStore, projection: Projection, options: RebuildOptions = {}): Promise<RebuildReport> {
  const now = options.now ?? (() => performance.now());
  const batch_size = options.batch_size ?? DEFAULT_BATCH;
  const started = now();
  const total = await eventCount(pool);
  const fresh = await createGeneration(pool, projection, { state: 'building', defer_indexes: true });
  const cache = new RowCache();
  let position: LogPosition = START;
  let applied = 0;
  let last_report = started;
  const report = (): void => {
    const seconds = (now() - started) / 1000;
    const rate = seconds > 0 ? applied / seconds : 0;
    options.on_progress?.({
      projection: projection.name,
      applied,
      total,
      events_per_second: Math.round(rate),
      eta_seconds: rate > 0 ? Math.max(0, Math.round((total - applied) / rate)) : null,
    });
  };
  // The next page is read while this one is applied: reading and writing overlap on two connections.
  let reading = store.readAll(position, { max_count: batch_size });
  for (;;) {
    const events = await reading;
    if (events.length === 0) break;
    const last = events[events.length - 1]!.position;
    reading = store.readAll(last, { max_count: batch_size });
    // Observed at once: if it fails while the apply runs, the next turn's await throws it, and if the apply
    // fails first, the read's failure must not surface as an unhandled rejection that ends the process.
    reading.catch(() => undefined);
    const result = await applyCheckpointed(pool, projection, fresh, events, cache, { expected: position });
    applied += result.applied;
    position = last;
    if (now() - last_report >= (options.progress_interval_ms ?? 1_000)) {
      last_report = now();
      report();
    }
  }

  // Outside the swap's locks, so the live generation keeps serving (and its worker writing) meanwhile; the
  // catch-up below then maintains the indexes for the few events that arrived since.
  await createSecondaryIndexes(pool, projection, fresh);

  const client = await pool.connect();
  let swap: { replaced: Generation | null; comparison: readonly TableComparison[] | null };
  try {
    await client.query('BEGIN');
    swap = await catchUpAndSwap(client, store, projection, fresh, cache, batch_size, (count) => {
      applied += count;
    });
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    client.release(true);
    throw error;
  }
  client.release();
  report();
  const seconds = (now() - started) / 1000;
  return {
    projection: projection.name,
    version: projection.version,
    generation: fresh.generation,
    replaced_generation: swap.replaced?.generation ?? null,
    events_applied: applied,
    seconds,
    events_per_second: seconds > 0 ? Math.round(applied / seconds) : 0,
    comparison: swap.comparison,
    identical: swap.comparison === null ? null : swap.comparison.every((table) => table.only_live === 0 && table.only_new === 0),
  };
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
