import { createHash, randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { EventStore, NewEvent, StreamAppend } from '../eventstore/event-store.js';
import type { JsonObject } from '../eventstore/json.js';
import type { RouterCommand } from './commands.js';

/**
 * Appends the outcome of every finished command to the event log, in `routeros-<router>` streams (not
 * `router-<id>`: those hold the router's settings and stay short). A batch of rows is first stamped with a
 * batch id, then appended, then marked published; each event's id is derived from its row, so after a crash
 * between the append and the mark, appending the same stamped batch again is a replay, not a second event.
 */
export const outcomeStream = (router_id: string): string => `routeros-${router_id}`;

/** The outcome events, by what was done and how it ended. */
export type OutcomeEventType = 'router-command-completed' | 'router-command-failed' | 'router-setup-completed' | 'router-setup-refused' | 'router-reconciled';

const PUBLISH_BATCH = 500;

type FinishedRow = {
  id: string;
  router_id: string;
  tenant: string;
  payload: RouterCommand;
  source_event_id: string | null;
  state: 'done' | 'failed';
  attempts: number;
  outcome: Record<string, unknown> | null;
  last_error: string | null;
  finished_at: Date;
  publish_batch: string;
};

/** A stable event id for a row's outcome (RFC 4122 layout, version 8: derived, not random). */
export function outcomeEventId(row_id: bigint | string): string {
  const hex = createHash('sha256').update(`ispbills-router-outbox:${row_id.toString()}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export function outcomeEvent(row: FinishedRow): NewEvent {
  const command = row.payload;
  const outcome = row.outcome ?? {};
  const base = { router_id: row.router_id, command_id: row.id, kind: command.kind, source_event_id: row.source_event_id, attempts: row.attempts };
  let type: OutcomeEventType;
  let data: Record<string, unknown>;
  if (command.kind === 'setup') {
    type = row.state === 'done' ? 'router-setup-completed' : 'router-setup-refused';
    data = { ...base, ...outcome };
  } else if (command.kind === 'reconcile' && row.state === 'done') {
    type = 'router-reconciled';
    data = { ...base, reason: command.reason, ...outcome };
  } else if (row.state === 'done') {
    type = 'router-command-completed';
    data = { ...base, customer_id: 'customer_id' in command ? command.customer_id : null, changes: (outcome.changes as unknown[] | undefined) ?? [] };
  } else {
    type = 'router-command-failed';
    data = { ...base, customer_id: 'customer_id' in command ? command.customer_id : null, error: outcome.error ?? { code: 'UNKNOWN', message: row.last_error ?? 'failed' } };
  }
  return {
    event_id: outcomeEventId(row.id),
    type,
    data: data as JsonObject,
    occurred_at: row.finished_at,
    metadata: {
      actor: { id: 'router-agent', role: 'system' },
      tenant: row.tenant,
      correlation_id: row.source_event_id ?? `router-outbox-${row.id}`,
      causation_id: row.source_event_id,
      command_id: `router-outbox-${row.id}`,
    },
  };
}

async function appendBatch(store: EventStore, rows: readonly FinishedRow[]): Promise<void> {
  const byStream = new Map<string, NewEvent[]>();
  for (const row of [...rows].sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1))) {
    const stream = outcomeStream(row.router_id);
    byStream.set(stream, [...(byStream.get(stream) ?? []), outcomeEvent(row)]);
  }
  const appends: StreamAppend[] = [...byStream].map(([stream_id, events]) => ({ stream_id, events, stream_state: 'any' }));
  await store.appendToStreams(appends);
}

const FINISHED_COLUMNS = 'id, router_id, tenant, payload, source_event_id, state, attempts, outcome, last_error, finished_at, publish_batch';

/** Publishes what has finished; returns how many outcomes it appended. */
export async function publishOutcomes(pool: pg.Pool, store: EventStore): Promise<number> {
  let published = 0;
  // Batches stamped before a crash go first, exactly as they were stamped.
  const leftovers = (await pool.query<FinishedRow>(`SELECT ${FINISHED_COLUMNS} FROM router_outbox WHERE state <> 'pending' AND NOT published AND publish_batch IS NOT NULL ORDER BY id LIMIT 5000`)).rows;
  const batches = new Map<string, FinishedRow[]>();
  for (const row of leftovers) batches.set(row.publish_batch, [...(batches.get(row.publish_batch) ?? []), row]);
  for (const [batch, rows] of batches) {
    await appendBatch(store, rows);
    await pool.query(`UPDATE router_outbox SET published = true WHERE publish_batch = $1`, [batch]);
    published += rows.length;
  }
  for (;;) {
    const batch = randomUUID();
    const rows = (
      await pool.query<FinishedRow>(
        `UPDATE router_outbox SET publish_batch = $1
          WHERE id IN (SELECT id FROM router_outbox WHERE state <> 'pending' AND NOT published AND publish_batch IS NULL ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)
          RETURNING ${FINISHED_COLUMNS}`,
        [batch, PUBLISH_BATCH],
      )
    ).rows;
    if (rows.length === 0) return published;
    await appendBatch(store, rows);
    await pool.query(`UPDATE router_outbox SET published = true WHERE publish_batch = $1`, [batch]);
    published += rows.length;
  }
}
