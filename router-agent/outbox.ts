import type pg from 'pg';
import type { RouterCommand, PlannedCommand } from './commands.js';

/**
 * The outbox table's statements. A row is a command for one router; it is `pending` until it is `done` or
 * `failed` (its attempts ran out, or its router was removed); a finished row's outcome is then appended to the
 * event log and the row marked `published`. Published rows are pruned after the retention period: the events
 * are the lasting record.
 */
export type OutboxRow = Readonly<{
  id: bigint;
  router_id: string;
  tenant: string;
  ordering_key: string;
  command: RouterCommand;
  source_event_id: string | null;
  created_at: Date;
  not_before: Date;
  attempts: number;
}>;

export type Outcome = Readonly<Record<string, unknown>>;

type Queryable = Pick<pg.ClientBase, 'query'>;

export async function insertCommands(client: Queryable, commands: readonly PlannedCommand[]): Promise<number> {
  if (commands.length === 0) return 0;
  const result = await client.query(
    `INSERT INTO router_outbox (router_id, tenant, kind, ordering_key, payload, source_event_id, not_before)
     SELECT c.router_id, c.tenant, c.kind, c.ordering_key, c.payload, c.source_event_id, c.not_before
       FROM jsonb_to_recordset($1::jsonb) AS c(router_id text, tenant text, kind text, ordering_key text, payload jsonb, source_event_id uuid, not_before timestamptz, ord int)
      ORDER BY c.ord
     ON CONFLICT (source_event_id, router_id, kind) DO NOTHING`,
    [
      JSON.stringify(
        commands.map((planned, ord) => ({
          router_id: planned.router_id,
          tenant: planned.tenant,
          kind: planned.command.kind,
          ordering_key: planned.ordering_key,
          payload: planned.command,
          source_event_id: planned.source_event_id,
          not_before: planned.not_before.toISOString(),
          ord,
        })),
      ),
    ],
  );
  return result.rowCount ?? 0;
}

/** Pending commands per router, for the routers given (to keep each router's queue under its limit). */
export async function pendingCounts(client: Queryable, router_ids: readonly string[]): Promise<Map<string, number>> {
  if (router_ids.length === 0) return new Map();
  const result = await client.query<{ router_id: string; pending: string }>(
    `SELECT router_id, count(*) AS pending FROM router_outbox WHERE state = 'pending' AND router_id = ANY($1::text[]) GROUP BY router_id`,
    [router_ids],
  );
  return new Map(result.rows.map((row) => [row.router_id, Number(row.pending)]));
}

export async function loadPending(pool: Queryable, router_id: string, limit: number): Promise<OutboxRow[]> {
  const result = await pool.query<{ id: string; router_id: string; tenant: string; ordering_key: string; payload: RouterCommand; source_event_id: string | null; created_at: Date; not_before: Date; attempts: number }>(
    `SELECT id, router_id, tenant, ordering_key, payload, source_event_id, created_at, not_before, attempts
       FROM router_outbox WHERE router_id = $1 AND state = 'pending' ORDER BY id LIMIT $2`,
    [router_id, limit],
  );
  return result.rows.map((row) => ({ ...row, id: BigInt(row.id), command: row.payload }));
}

/** Routers with a command due now, with no worker running yet (`busy`), at most `limit`. */
export async function routersWithDueCommands(pool: Queryable, busy: readonly string[], limit: number): Promise<string[]> {
  const result = await pool.query<{ router_id: string }>(
    `SELECT DISTINCT o.router_id FROM router_outbox o
       JOIN router_agent_routers r ON r.router_id = o.router_id
      WHERE o.state = 'pending' AND o.not_before <= now() AND (r.retry_at IS NULL OR r.retry_at <= now())
        AND NOT (o.router_id = ANY($1::text[]))
      LIMIT $2`,
    [busy, limit],
  );
  return result.rows.map((row) => row.router_id);
}

export type Finished = Readonly<{ id: bigint; state: 'done' | 'failed'; attempts: number; outcome: Outcome; error: string | null }>;

/** Marks several commands finished in one statement. */
export async function markFinished(pool: Queryable, finished: readonly Finished[]): Promise<void> {
  if (finished.length === 0) return;
  await pool.query(
    `UPDATE router_outbox o SET state = f.state, attempts = f.attempts, outcome = f.outcome, last_error = f.error, finished_at = now()
       FROM jsonb_to_recordset($1::jsonb) AS f(id bigint, state text, attempts int, outcome jsonb, error text)
      WHERE o.id = f.id AND o.state = 'pending'`,
    [JSON.stringify(finished.map((entry) => ({ ...entry, id: entry.id.toString() })))],
  );
}

/** A refused command waits `delay_ms` before its next attempt. */
export async function markRetry(pool: Queryable, id: bigint, attempts: number, delay_ms: number, error: string): Promise<void> {
  await pool.query(`UPDATE router_outbox SET attempts = $2, not_before = now() + make_interval(secs => $3::double precision / 1000), last_error = $4 WHERE id = $1 AND state = 'pending'`, [
    id.toString(),
    attempts,
    delay_ms,
    error,
  ]);
}

/** Enqueues one router-wide command (setup or reconcile) by hand; returns its id. */
export async function enqueueRouterWide(pool: Queryable, router_id: string, tenant: string, command: RouterCommand): Promise<bigint> {
  const result = await pool.query<{ id: string }>(
    `INSERT INTO router_outbox (router_id, tenant, kind, ordering_key, payload) VALUES ($1, $2, $3, '*', $4::jsonb) RETURNING id`,
    [router_id, tenant, command.kind, JSON.stringify(command)],
  );
  return BigInt(result.rows[0]!.id);
}

export type CommandStatus = Readonly<{ state: 'pending' | 'done' | 'failed'; attempts: number; outcome: Outcome | null; last_error: string | null }>;

export async function commandStatus(pool: Queryable, id: bigint): Promise<CommandStatus | null> {
  const result = await pool.query<CommandStatus>(`SELECT state, attempts, outcome, last_error FROM router_outbox WHERE id = $1`, [id.toString()]);
  return result.rows[0] ?? null;
}

/** Published rows finished longer ago than the retention are deleted, a bounded number at a time. */
export async function pruneFinished(pool: Queryable, retention_ms: number, limit: number): Promise<number> {
  const result = await pool.query(
    `DELETE FROM router_outbox WHERE id IN (
       SELECT id FROM router_outbox WHERE published AND finished_at < now() - make_interval(secs => $1::double precision / 1000) LIMIT $2)`,
    [retention_ms, limit],
  );
  return result.rowCount ?? 0;
}
