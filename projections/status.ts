import type pg from 'pg';
import { comparePositions, type LogPosition } from '../eventstore/event-store.js';
import { liveGeneration, listGenerations, type FailedEvent } from './generations.js';

export type ProjectionStatus = Readonly<{
  name: string;
  version: number;
  generation: number;
  state: 'building' | 'live';
  /** The last event applied, as a number people can quote. */
  global_position: string;
  events_applied: string;
  /** Events in the log not applied yet (counted up to LAG_COUNT_LIMIT). */
  lag_events: number;
  /** How long the oldest unapplied event has been waiting; 0 when caught up. */
  lag_seconds: number;
  failed_event: FailedEvent | null;
  updated_at: string;
}>;

const LAG_COUNT_LIMIT = 1_000_000;

export async function projectionStatus(pool: pg.Pool): Promise<readonly ProjectionStatus[]> {
  const generations = await listGenerations(pool);
  const statuses: ProjectionStatus[] = [];
  for (const generation of generations) {
    const lag = await pool.query<{ lag_events: string; oldest: Date | null; now: Date }>(
      `SELECT count(*) AS lag_events, min(recorded_at) AS oldest, now() AS now FROM (
         SELECT recorded_at FROM events
          WHERE (tx_id, global_position) > ($1::text::xid8, $2::bigint)
          LIMIT ${LAG_COUNT_LIMIT}) pending`,
      [generation.position.commit.toString(), generation.position.prepare.toString()],
    );
    const row = lag.rows[0]!;
    statuses.push({
      name: generation.name,
      version: generation.version,
      generation: generation.generation,
      state: generation.state === 'live' ? 'live' : 'building',
      global_position: generation.position.prepare.toString(),
      events_applied: generation.events_applied.toString(),
      lag_events: Number(row.lag_events),
      lag_seconds: row.oldest === null ? 0 : Math.max(0, (row.now.getTime() - row.oldest.getTime()) / 1000),
      failed_event: generation.failed_event,
      updated_at: generation.updated_at.toISOString(),
    });
  }
  return statuses;
}

export class ProjectionWaitTimeout extends Error {
  readonly code = 'PROJECTION_WAIT_TIMEOUT';
  constructor(
    readonly projection: string,
    readonly position: LogPosition,
    readonly timeout_ms: number,
    readonly reached: LogPosition | null,
  ) {
    super(
      `projection ${projection} did not reach the written position within ${timeout_ms} ms ` +
        `(it is at ${reached === null ? 'nothing yet' : reached.prepare.toString()}); the write succeeded — read again shortly, ` +
        'or check `ispbills projections` for a stopped projection',
    );
    this.name = 'ProjectionWaitTimeout';
  }
}

export const MAX_WAIT_MS = 30_000;

/**
 * Resolves once every named projection's live generation has applied `position` (a command's result): a query
 * made afterwards sees the command's effect. Bounded: throws ProjectionWaitTimeout after `timeout_ms`.
 */
export async function waitForProjections(
  pool: pg.Pool,
  names: readonly string[],
  position: LogPosition,
  options: Readonly<{ timeout_ms?: number; poll_ms?: number }> = {},
): Promise<void> {
  const timeout_ms = Math.min(options.timeout_ms ?? 5_000, MAX_WAIT_MS);
  const deadline = Date.now() + timeout_ms;
  for (const name of names) {
    for (;;) {
      const live = await liveGeneration(pool, name);
      if (live !== null && comparePositions(live.position, position) >= 0) break;
      if (Date.now() >= deadline) throw new ProjectionWaitTimeout(name, position, timeout_ms, live?.position ?? null);
      await new Promise((resolve) => setTimeout(resolve, options.poll_ms ?? 10));
    }
  }
}
