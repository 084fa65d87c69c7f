import type pg from 'pg';
import { comparePositions, type LogPosition, type RecordedEvent } from '../eventstore/event-store.js';
import { applyBatch, commitToCache, type RowCache } from './apply-batch.js';
import { advanceGeneration, lockGeneration, type Generation } from './generations.js';
import type { Projection } from './projection.js';

/** The generation moved on without this writer (a rebuild swapped it out, or another worker took over). */
export class GenerationMoved extends Error {
  constructor(readonly generation: Generation) {
    super(`projection ${generation.name} generation ${generation.generation} is ${generation.state} at another position than this worker expected`);
    this.name = 'GenerationMoved';
  }
}

export type Applied = Readonly<{ generation: Generation; applied: number; rows_written: number }>;

/**
 * Exactly-once: inside the caller's transaction, locks the generation's checkpoint, skips events at or before
 * it, applies the rest and advances the checkpoint. A redelivered event therefore changes nothing, and a crash
 * anywhere before COMMIT leaves both the rows and the checkpoint as they were.
 */
export async function applyInTransaction(
  client: pg.ClientBase,
  projection: Projection,
  generation: Readonly<{ name: string; generation: number }>,
  events: readonly RecordedEvent[],
  cache: RowCache,
  options: Readonly<{ expected?: LogPosition }> = {},
): Promise<Applied & { commit_cache: () => void }> {
  const current = await lockGeneration(client, generation.name, generation.generation);
  if (current.state === 'retired') throw new GenerationMoved(current);
  // The cache is only true if nobody else wrote since this writer last did.
  if (options.expected !== undefined && comparePositions(current.position, options.expected) !== 0) throw new GenerationMoved(current);
  const fresh = events.filter((event) => comparePositions(event.position, current.position) > 0);
  if (fresh.length === 0) return { generation: current, applied: 0, rows_written: 0, commit_cache: () => undefined };
  const outcome = await applyBatch(client, current.schema_name, projection, fresh, cache);
  const last = fresh[fresh.length - 1]!;
  await advanceGeneration(client, current, last, fresh.length);
  return {
    generation: { ...current, position: last.position, events_applied: current.events_applied + BigInt(fresh.length), last_event_recorded_at: last.recorded_at },
    applied: fresh.length,
    rows_written: outcome.rows_written,
    commit_cache: () => commitToCache(cache, outcome),
  };
}

/** One batch in its own transaction. The cache learns the batch's rows only after COMMIT succeeded. */
export async function applyCheckpointed(
  pool: pg.Pool,
  projection: Projection,
  generation: Readonly<{ name: string; generation: number }>,
  events: readonly RecordedEvent[],
  cache: RowCache,
  options: Readonly<{ expected?: LogPosition }> = {},
): Promise<Applied> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await applyInTransaction(client, projection, generation, events, cache, options);
    await client.query('COMMIT');
    result.commit_cache();
    client.release();
    return result;
  } catch (error) {
    cache.clear();
    await client.query('ROLLBACK').catch(() => undefined);
    client.release(true);
    throw error;
  }
}
