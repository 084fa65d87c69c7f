import type pg from 'pg';
import type { LocalDate } from '../domain/calendar/local-date.js';
import type { Action, ActionOutcome, JobKind, RunStatus } from '../domain/scheduler/scheduler-run.js';
import type { JsonObject } from '../eventstore/json.js';

/**
 * The scheduler's working tables (migrations/0008): the run index and each run's items. The run streams are
 * the record; these make "the last runs of this job" and "the batches still to apply" one indexed query each.
 */
export type PlanItem = Readonly<{ action: Action; subject_id: string; detail: JsonObject | null }>;
export type StoredItem = PlanItem & Readonly<{ seq: number }>;
export type ItemState = 'applied' | 'unchanged' | 'refused';

export type RunIndexRow = Readonly<{ run_id: string; tenant: string; job: JobKind; local_date: LocalDate; status: Exclude<RunStatus, 'none'>; counts: Partial<Record<Action, number>> }>;

const ITEM_CHUNK = 10_000;

export async function upsertRunIndex(pool: pg.Pool, row: RunIndexRow, planned_at: string, now: Date): Promise<void> {
  await pool.query(
    `INSERT INTO scheduler_runs (run_id, tenant, job, local_date, status, counts, planned_at, updated_at)
     VALUES ($1, $2, $3, $4::date, $5, $6::jsonb, $7, $8)
     ON CONFLICT (run_id) DO UPDATE SET status = EXCLUDED.status, updated_at = EXCLUDED.updated_at`,
    [row.run_id, row.tenant, row.job, row.local_date, row.status, JSON.stringify(row.counts), planned_at, now.toISOString()],
  );
}

export async function setRunIndexStatus(pool: pg.Pool, run_id: string, status: Exclude<RunStatus, 'none'>, now: Date): Promise<void> {
  await pool.query(`UPDATE scheduler_runs SET status = $2, updated_at = $3 WHERE run_id = $1 AND status <> $2`, [run_id, status, now.toISOString()]);
}

/** The job's runs before `before` (newest first): the safety stop's history and the gap check. */
export async function earlierRuns(pool: pg.Pool, tenant: string, job: JobKind, before: LocalDate, limit: number): Promise<RunIndexRow[]> {
  const result = await pool.query<RunIndexRow>(
    `SELECT run_id, tenant, job, to_char(local_date, 'YYYY-MM-DD') AS local_date, status, counts FROM scheduler_runs
      WHERE tenant = $1 AND job = $2 AND local_date < $3::date ORDER BY local_date DESC LIMIT $4`,
    [tenant, job, before, limit],
  );
  return result.rows;
}

/** The newest run of a job, whatever its date (a clock that went back finds a run "from the future"). */
export async function latestRun(pool: pg.Pool, tenant: string, job: JobKind): Promise<RunIndexRow | null> {
  const result = await pool.query<RunIndexRow>(
    `SELECT run_id, tenant, job, to_char(local_date, 'YYYY-MM-DD') AS local_date, status, counts FROM scheduler_runs
      WHERE tenant = $1 AND job = $2 ORDER BY local_date DESC LIMIT 1`,
    [tenant, job],
  );
  return result.rows[0] ?? null;
}

/** Runs not finished: planned or confirmed ones still to apply, held ones waiting for a person. */
export async function openRuns(pool: pg.Pool, tenant: string | null): Promise<RunIndexRow[]> {
  const result = await pool.query<RunIndexRow>(
    `SELECT run_id, tenant, job, to_char(local_date, 'YYYY-MM-DD') AS local_date, status, counts FROM scheduler_runs
      WHERE status IN ('planned', 'held', 'confirmed') AND ($1::text IS NULL OR tenant = $1) ORDER BY local_date, run_id LIMIT 1000`,
    [tenant],
  );
  return result.rows;
}

export async function recentRuns(pool: pg.Pool, tenant: string, limit: number): Promise<RunIndexRow[]> {
  const result = await pool.query<RunIndexRow>(
    `SELECT run_id, tenant, job, to_char(local_date, 'YYYY-MM-DD') AS local_date, status, counts FROM scheduler_runs
      WHERE tenant = $1 ORDER BY local_date DESC, run_id LIMIT $2`,
    [tenant, Math.min(limit, 1000)],
  );
  return result.rows;
}

/** Replaces a run's items (a plan recomputed after a crash before its event was written). */
export async function writeItems(pool: pg.Pool, run_id: string, items: readonly PlanItem[]): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('DELETE FROM scheduler_run_items WHERE run_id = $1', [run_id]);
    for (let start = 0; start < items.length; start += ITEM_CHUNK) {
      const chunk = items.slice(start, start + ITEM_CHUNK);
      await client.query(
        `INSERT INTO scheduler_run_items (run_id, seq, action, subject_id, detail)
         SELECT $1, s.seq, s.action, s.subject_id, s.detail FROM unnest($2::int[], $3::text[], $4::text[], $5::jsonb[]) AS s(seq, action, subject_id, detail)`,
        [run_id, chunk.map((_, index) => start + index), chunk.map((item) => item.action), chunk.map((item) => item.subject_id), chunk.map((item) => (item.detail === null ? null : JSON.stringify(item.detail)))],
      );
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
}

/**
 * The run's next pending items after `after_seq` (-1 for the first), in order. The cursor lets the next window be
 * read while the previous one's items are still being settled, and keeps each read from stepping over the index
 * entries of items settled earlier in the run (the partial index keeps them until a vacuum).
 */
export async function pendingItems(pool: pg.Pool, run_id: string, after_seq: number, limit: number): Promise<StoredItem[]> {
  const result = await pool.query<StoredItem>(
    `SELECT seq, action, subject_id, detail FROM scheduler_run_items WHERE run_id = $1 AND state = 'pending' AND seq > $2 ORDER BY seq LIMIT $3`,
    [run_id, after_seq, limit],
  );
  return result.rows;
}

export type SettledItem = Readonly<{ seq: number; state: ItemState; code: string | null }>;

export async function settleItems(db: pg.Pool | pg.PoolClient, run_id: string, settled: readonly SettledItem[]): Promise<void> {
  if (settled.length === 0) return;
  // `seq = ANY(...)` keeps this an index lookup per item. The join form (UPDATE … FROM unnest(...)) was planned
  // as a hash join over every item of the run, so each batch's settle read the whole run: quadratic in the run's
  // size (67 ms a batch at 170,000 items, most of a 1,000,000-customer sweep).
  await db.query(
    `UPDATE scheduler_run_items i SET state = s.state, code = s.code
       FROM unnest($2::int[], $3::text[], $4::text[]) AS s(seq, state, code)
      WHERE i.run_id = $1 AND i.seq = ANY($2::int[]) AND i.seq = s.seq`,
    [run_id, settled.map((item) => item.seq), settled.map((item) => item.state), settled.map((item) => item.code)],
  );
}

export async function itemOutcome(pool: pg.Pool, run_id: string): Promise<{ outcome: Partial<Record<Action, ActionOutcome>>; refused_samples: { subject: string; code: string }[]; pending: number }> {
  const counts = await pool.query<{ action: Action; state: string; n: string }>(
    `SELECT action, state, count(*)::text AS n FROM scheduler_run_items WHERE run_id = $1 GROUP BY action, state`,
    [run_id],
  );
  const outcome: Partial<Record<Action, { applied: number; unchanged: number; refused: number }>> = {};
  let pending = 0;
  for (const row of counts.rows) {
    if (row.state === 'pending') {
      pending += Number(row.n);
      continue;
    }
    const entry = (outcome[row.action] ??= { applied: 0, unchanged: 0, refused: 0 });
    entry[row.state as ItemState] += Number(row.n);
  }
  const refused = await pool.query<{ subject: string; code: string }>(
    `SELECT subject_id AS subject, code FROM scheduler_run_items WHERE run_id = $1 AND state = 'refused' ORDER BY seq LIMIT 20`,
    [run_id],
  );
  return { outcome, refused_samples: refused.rows, pending };
}

/** Items of runs finished before `before` (their outcome is in the run's events), at most `runs` runs at a time. */
export async function purgeOldItems(pool: pg.Pool, before: Date, runs: number): Promise<void> {
  await pool.query(
    `DELETE FROM scheduler_run_items WHERE run_id IN (
       SELECT run_id FROM scheduler_runs WHERE status IN ('completed', 'cancelled') AND updated_at < $1
          AND EXISTS (SELECT 1 FROM scheduler_run_items i WHERE i.run_id = scheduler_runs.run_id) LIMIT $2)`,
    [before.toISOString(), runs],
  );
}
