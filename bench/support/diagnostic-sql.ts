import type pg from 'pg';
import type { NewEvent } from '../../eventstore/event-store.js';

/**
 * Variants of the PostgreSQL adapter's own SQL, used only to find out where its time goes. They are copies
 * (the adapter keeps its statements private) and must follow eventstore/postgres/postgres-event-store.ts if
 * that changes. Nothing here is a benchmark figure.
 */

/** The adapter's single-stream append with stream_state 'any', verbatim. */
export const APPEND_ANY_SQL = `WITH moved AS (INSERT INTO streams AS s (stream_id, revision) VALUES ($1, $2::bigint - 1)
         ON CONFLICT (stream_id) DO UPDATE SET revision = s.revision + $2::bigint RETURNING revision)
    INSERT INTO events (stream_id, stream_revision, event_id, type, schema_version, data, metadata, occurred_at)
    SELECT $1, moved.revision - $2::bigint + e.ordinal, e.event_id, e.type, e.schema_version, e.data::jsonb,
           e.metadata::jsonb, e.occurred_at
    FROM moved,
         unnest($3::uuid[], $4::text[], $5::int[], $6::text[], $7::text[], $8::timestamptz[])
           WITH ORDINALITY AS e(event_id, type, schema_version, data, metadata, occurred_at, ordinal)
    RETURNING global_position, stream_revision, tx_id`;

export function appendAnyParameters(stream_id: string, events: readonly NewEvent[]): unknown[] {
  return [
    stream_id,
    String(events.length),
    events.map((event) => event.event_id),
    events.map((event) => event.type),
    events.map((event) => event.schema_version ?? 1),
    events.map((event) => JSON.stringify(event.data)),
    events.map((event) => JSON.stringify(event.metadata)),
    events.map((event) => event.occurred_at.toISOString()),
  ];
}

/**
 * The same append with the events sent as ONE jsonb parameter: no PostgreSQL array literals, whose every `"`
 * in the JSON must be escaped by node-postgres and unescaped again by the server.
 */
export const APPEND_ANY_JSON_SQL = `WITH moved AS (INSERT INTO streams AS s (stream_id, revision) VALUES ($1, $2::bigint - 1)
         ON CONFLICT (stream_id) DO UPDATE SET revision = s.revision + $2::bigint RETURNING revision)
    INSERT INTO events (stream_id, stream_revision, event_id, type, schema_version, data, metadata, occurred_at)
    SELECT $1, moved.revision - $2::bigint + e.ordinal, e.event_id, e.type, e.schema_version, e.data, e.metadata,
           e.occurred_at
    FROM moved,
         ROWS FROM (jsonb_to_recordset($3::jsonb) AS (event_id uuid, type text, schema_version int, data jsonb,
                                                       metadata jsonb, occurred_at timestamptz))
           WITH ORDINALITY AS e(event_id, type, schema_version, data, metadata, occurred_at, ordinal)
    RETURNING global_position, stream_revision, tx_id`;

export function appendAnyJsonParameters(stream_id: string, events: readonly NewEvent[]): unknown[] {
  return [
    stream_id,
    String(events.length),
    JSON.stringify(
      events.map((event) => ({
        event_id: event.event_id,
        type: event.type,
        schema_version: event.schema_version ?? 1,
        data: event.data,
        metadata: event.metadata,
        occurred_at: event.occurred_at.toISOString(),
      })),
    ),
  ];
}

/** A named statement is parsed and planned once per connection instead of on every call. */
export function named(name: string, text: string, values: unknown[]): pg.QueryConfig {
  return { name, text, values };
}

const READ_ALL_FILTER = `FROM events
  WHERE (tx_id, global_position) > ($1::text::xid8, $2::bigint)
    AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
  ORDER BY tx_id, global_position
  LIMIT $3`;

/** readAll's query with different column lists, to price each conversion node-postgres does per row. */
export const READ_ALL_VARIANTS = {
  /** Exactly the adapter's columns: what it costs before the adapter maps rows to RecordedEvent. */
  as_is: `SELECT global_position, stream_id, stream_revision, event_id, type, schema_version, data, metadata, occurred_at,
            recorded_at, tx_id ${READ_ALL_FILTER}`,
  /** Timestamps as epoch milliseconds (a float; `new Date(ms)` is cheap) instead of text for pg-types to parse. */
  epoch_timestamps: `SELECT global_position, stream_id, stream_revision, event_id, type, schema_version, data, metadata,
            (extract(epoch FROM occurred_at) * 1000)::float8 AS occurred_at,
            (extract(epoch FROM recorded_at) * 1000)::float8 AS recorded_at,
            tx_id ${READ_ALL_FILTER}`,
  /** jsonb left as text: no JSON.parse. What remains is the server, the wire and decoding the row. */
  json_as_text: `SELECT global_position, stream_id, stream_revision, event_id, type, schema_version, data::text AS data,
            metadata::text AS metadata, occurred_at, recorded_at, tx_id ${READ_ALL_FILTER}`,
} as const;

/**
 * Pages through the log with one of the variants, counting rows; returns how many it read. `per_row` does the
 * work a variant leaves undone (e.g. turning epoch milliseconds into Dates), so variants compare fairly.
 */
export async function readAllVariant(pool: pg.Pool, sql: string, page: number, per_row?: (row: Record<string, unknown>) => void): Promise<number> {
  let commit = '0';
  let prepare = '0';
  let count = 0;
  for (;;) {
    const rows = (await pool.query<{ tx_id: string; global_position: string }>(sql, [commit, prepare, page])).rows;
    if (per_row !== undefined) for (const row of rows) per_row(row);
    count += rows.length;
    if (rows.length < page) return count;
    const last = rows[rows.length - 1]!;
    commit = last.tx_id;
    prepare = last.global_position;
  }
}
