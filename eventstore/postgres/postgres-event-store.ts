import { EventEmitter } from 'node:events';
import type pg from 'pg';
import {
  START,
  type AppendManyResult,
  type AppendResult,
  type EventMetadata,
  type EventStore,
  type IdempotencyRecord,
  type IdempotencyRequest,
  type LogPosition,
  type NewEvent,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type StreamAppend,
  type StreamState,
  type Subscription,
  type SubscriptionHandler,
  type SubscriptionOptions,
} from '../event-store.js';
import { DEFAULT_READ_PAGE, MAX_READ_PAGE, validateAppend, validateAppends, validateIdempotencyKey } from '../append-validation.js';
import { EventIdConflict, IdempotencyKeyReused, InvalidAppend, StreamStateConflict } from '../errors.js';
import type { JsonObject, JsonValue } from '../json.js';
import { noUpcasting, type Upcaster } from '../upcasting.js';
import { startPollingSubscription } from '../polling-subscription.js';

const UNIQUE_VIOLATION = '23505';

type EventRow = {
  global_position: string;
  stream_id: string;
  stream_revision: string;
  event_id: string;
  type: string;
  schema_version: number;
  data: JsonObject;
  metadata: EventMetadata;
  occurred_at_ms: number;
  recorded_at_ms: number;
  tx_id: string;
};

/**
 * Timestamps travel as epoch milliseconds: a JS Date holds no more (node-postgres drops the microseconds too),
 * and building a Date from a number is far cheaper than parsing PostgreSQL's text form for every row.
 */
const EVENT_COLUMNS =
  'global_position, stream_id, stream_revision, event_id, type, schema_version, data, metadata, ' +
  'floor(extract(epoch FROM occurred_at) * 1000)::float8 AS occurred_at_ms, floor(extract(epoch FROM recorded_at) * 1000)::float8 AS recorded_at_ms, tx_id';

/**
 * The single-stream path. Its stream-state rules are the same as ispbills_append's (migrations/0003), which
 * handles several streams and idempotency keys; it stays separate because it is the hot path (one plain
 * statement, no PL/pgSQL call). The contract suite runs both: keep the two in step.
 *
 * One statement appends to one stream: the CTE moves the stream's revision (or fails to, which is the
 * optimistic-concurrency check) and the INSERT writes the events numbered from it. Zero rows back means the
 * expected state did not hold. One statement is one round trip, and without an explicit transaction it is
 * its own transaction.
 */
function appendStatement(state: StreamState): string {
  const revisionCte =
    state === 'any'
      ? `INSERT INTO streams AS s (stream_id, revision) VALUES ($1, $2::bigint - 1)
         ON CONFLICT (stream_id) DO UPDATE SET revision = s.revision + $2::bigint RETURNING revision`
      : state === 'no_stream'
        ? `INSERT INTO streams (stream_id, revision) VALUES ($1, $2::bigint - 1)
           ON CONFLICT (stream_id) DO NOTHING RETURNING revision`
        : state === 'stream_exists'
          ? `UPDATE streams SET revision = revision + $2::bigint WHERE stream_id = $1 RETURNING revision`
          : `UPDATE streams SET revision = revision + $2::bigint WHERE stream_id = $1 AND revision = $4::bigint
             RETURNING revision`;
  // The events arrive as one jsonb array: no per-event escaping into PostgreSQL array literals.
  return `WITH moved AS (${revisionCte})
    INSERT INTO events (stream_id, stream_revision, event_id, type, schema_version, data, metadata, occurred_at)
    SELECT $1, moved.revision - $2::bigint + e.ordinal, e.event_id, e.type, e.schema_version, e.data, e.metadata, e.occurred_at
    FROM moved,
         ROWS FROM (jsonb_to_recordset($3::jsonb) AS (event_id uuid, type text, schema_version int, data jsonb, metadata jsonb, occurred_at timestamptz))
           WITH ORDINALITY AS e(event_id, type, schema_version, data, metadata, occurred_at, ordinal)
    RETURNING global_position, stream_revision, tx_id`;
}

function appendParameters(append: StreamAppend): unknown[] {
  const parameters: unknown[] = [append.stream_id, String(append.events.length), JSON.stringify(serialiseAppend(append).events)];
  if (typeof append.stream_state === 'bigint') parameters.push(append.stream_state.toString());
  return parameters;
}

export type PostgresEventStoreOptions = Readonly<{
  upcast?: Upcaster;
  /** How often an idle subscription looks for events appended by other processes. */
  poll_interval_ms?: number;
}>;

export class PostgresEventStore implements EventStore {
  readonly kind = 'postgres' as const;
  readonly #pool: pg.Pool;
  readonly #upcast: Upcaster;
  readonly #poll_interval_ms: number;
  /** Wakes this process's subscriptions as soon as this process appends, instead of at the next poll. */
  readonly #appended = new EventEmitter().setMaxListeners(0);

  constructor(pool: pg.Pool, options: PostgresEventStoreOptions = {}) {
    this.#pool = pool;
    this.#upcast = options.upcast ?? noUpcasting;
    this.#poll_interval_ms = options.poll_interval_ms ?? 50;
  }

  async appendToStream(
    stream_id: string,
    events: readonly NewEvent[],
    options: Readonly<{ stream_state: StreamState; idempotency?: IdempotencyRequest }>,
  ): Promise<AppendResult> {
    const append: StreamAppend = { stream_id, events, stream_state: options.stream_state };
    if (options.idempotency !== undefined) {
      const outcome = await this.appendToStreams([append], { idempotency: options.idempotency });
      const result = outcome.replayed?.positions[0] ?? outcome.results[0];
      if (result === undefined) throw new Error('bug: idempotent append returned no result');
      return result;
    }
    validateAppend(append);
    try {
      const result = await this.#appendOne(this.#pool, append);
      this.#appended.emit('appended');
      return result;
    } catch (error) {
      const replay = await this.#replayAfter(error, [append]);
      return replay[0]!;
    }
  }

  async appendToStreams(
    appends: readonly StreamAppend[],
    options: Readonly<{ idempotency?: IdempotencyRequest }> = {},
  ): Promise<AppendManyResult> {
    validateAppends(appends);
    if (options.idempotency !== undefined) validateIdempotencyKey(options.idempotency.key);
    const { idempotency } = options;
    let rows: { stream_id: string | null; stream_revision: string | null; global_position: string | null; tx_id: string | null; replayed: boolean }[];
    try {
      rows = (
        await this.#pool.query({
          name: 'ispbills-append-many',
          text: 'SELECT stream_id, stream_revision, global_position, tx_id, replayed FROM ispbills_append($1::jsonb, $2, $3, $4::jsonb)',
          values: [
            // Streams are locked in id order, so two appends over overlapping streams cannot deadlock.
            JSON.stringify([...appends].sort((a, b) => (a.stream_id < b.stream_id ? -1 : a.stream_id > b.stream_id ? 1 : 0)).map(serialiseAppend)),
            idempotency?.key ?? null,
            idempotency?.request_hash ?? null,
            idempotency === undefined ? null : JSON.stringify(idempotency.result),
          ],
        })
      ).rows;
    } catch (error) {
      const conflict = asStreamStateConflict(error, appends);
      return { results: await this.#replayAfter(conflict ?? error, appends), replayed: null };
    }
    if (rows[0]?.replayed === true) {
      const record = await this.findIdempotencyRecord(idempotency!.key);
      if (record === null) throw new Error(`bug: idempotency key ${idempotency!.key} vanished`);
      if (record.request_hash !== idempotency!.request_hash) throw new IdempotencyKeyReused(idempotency!.key);
      return { results: record.positions, replayed: record };
    }
    this.#appended.emit('appended');
    const byStream = new Map(
      rows.map((row) => [
        row.stream_id!,
        { stream_id: row.stream_id!, next_expected_revision: BigInt(row.stream_revision!), position: { commit: BigInt(row.tx_id!), prepare: BigInt(row.global_position!) } },
      ]),
    );
    return { results: appends.map((append) => byStream.get(append.stream_id)!), replayed: null };
  }

  /**
   * A retried append fails on its own earlier success: the stream moved (a conflict) or the event ids exist
   * (a unique violation). When every event of every stream is already in the log, in that stream and order,
   * it is a replay and gets the first append's result. Otherwise the original error stands.
   */
  async #replayAfter(error: unknown, appends: readonly StreamAppend[]): Promise<AppendResult[]> {
    if (!(error instanceof StreamStateConflict) && !isUniqueViolation(error, 'events_event_id_key')) throw error;
    const replays: AppendResult[] = [];
    for (const append of appends) {
      const replay = await this.#existingAppend(append);
      if (replay === null) throw error;
      replays.push(replay);
    }
    return replays;
  }

  async #appendOne(executor: pg.Pool, append: StreamAppend): Promise<AppendResult> {
    const rows = (
      await executor.query<{ global_position: string; stream_revision: string; tx_id: string }>({
        // Named: each connection parses and plans the statement once, not on every append.
        name: `ispbills-append-${typeof append.stream_state === 'bigint' ? 'revision' : append.stream_state}`,
        text: appendStatement(append.stream_state),
        values: appendParameters(append),
      })
    ).rows;
    if (rows.length === 0) {
      const actual = await this.#revisionVia(executor, append.stream_id);
      throw new StreamStateConflict(append.stream_id, append.stream_state, actual);
    }
    let last = rows[0]!;
    for (const row of rows) if (BigInt(row.stream_revision) > BigInt(last.stream_revision)) last = row;
    return {
      stream_id: append.stream_id,
      next_expected_revision: BigInt(last.stream_revision),
      position: { commit: BigInt(last.tx_id), prepare: BigInt(last.global_position) },
    };
  }

  /**
   * After a duplicate event id: if every event of this append is already in the log, in this stream and in
   * this order, the append happened before and this is a replay. Anything else is a caller bug.
   */
  async #existingAppend(append: StreamAppend): Promise<AppendResult | null> {
    const ids = append.events.map((event) => event.event_id);
    const rows = (
      await this.#pool.query<{ event_id: string; stream_id: string; stream_revision: string; global_position: string; tx_id: string; type: string }>(
        `SELECT event_id, stream_id, stream_revision, global_position, tx_id, type FROM events WHERE event_id = ANY($1::uuid[])`,
        [ids],
      )
    ).rows;
    if (rows.length === 0) return null;
    const byId = new Map(rows.map((row) => [row.event_id, row]));
    let previous: bigint | null = null;
    for (const event of append.events) {
      const row = byId.get(event.event_id);
      if (row === undefined) {
        throw new EventIdConflict(event.event_id, 'some events of this append exist and others do not; an append is all or nothing');
      }
      if (row.stream_id !== append.stream_id || row.type !== event.type) {
        throw new EventIdConflict(event.event_id, `already recorded as ${row.type} in stream ${row.stream_id}`);
      }
      const revision = BigInt(row.stream_revision);
      if (previous !== null && revision !== previous + 1n) {
        throw new EventIdConflict(event.event_id, 'recorded earlier in a different order');
      }
      previous = revision;
    }
    const last = byId.get(ids[ids.length - 1]!)!;
    return {
      stream_id: append.stream_id,
      next_expected_revision: BigInt(last.stream_revision),
      position: { commit: BigInt(last.tx_id), prepare: BigInt(last.global_position) },
    };
  }

  async readStream(stream_id: string, options: ReadStreamOptions = {}): Promise<readonly RecordedEvent[]> {
    const limit = options.max_count ?? Number.MAX_SAFE_INTEGER;
    const rows = (
      await this.#pool.query<EventRow>({
        name: 'ispbills-read-stream',
        text: `SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = $1 AND stream_revision >= $2::bigint
         ORDER BY stream_revision LIMIT $3`,
        values: [stream_id, (options.from_revision ?? 0n).toString(), String(limit)],
      })
    ).rows;
    return rows.map((row) => this.#toRecorded(row));
  }

  async readStreams(requests: readonly Readonly<{ stream_id: string; from_revision: bigint }>[]): Promise<ReadonlyMap<string, readonly RecordedEvent[]>> {
    const result = new Map<string, RecordedEvent[]>(requests.map((request) => [request.stream_id, []]));
    if (requests.length === 0) return result;
    if (result.size !== requests.length) throw new InvalidAppend('readStreams: a stream is asked for twice');
    const rows = (
      await this.#pool.query<EventRow>({
        name: 'ispbills-read-streams',
        // LATERAL keeps it one index range scan per stream, whatever the planner guesses about the arrays.
        text: `SELECT e.* FROM unnest($1::text[], $2::bigint[]) WITH ORDINALITY AS wanted(stream_id, from_revision, ordinal)
          CROSS JOIN LATERAL (
            SELECT ${EVENT_COLUMNS} FROM events
            WHERE events.stream_id = wanted.stream_id AND events.stream_revision >= wanted.from_revision
            ORDER BY events.stream_revision
          ) e
          ORDER BY wanted.ordinal, e.stream_revision`,
        values: [requests.map((request) => request.stream_id), requests.map((request) => request.from_revision.toString())],
      })
    ).rows;
    for (const row of rows) result.get(row.stream_id)?.push(this.#toRecorded(row));
    return result;
  }

  async streamRevision(stream_id: string): Promise<bigint | null> {
    return this.#revisionVia(this.#pool, stream_id);
  }

  async #revisionVia(executor: pg.Pool | pg.PoolClient, stream_id: string): Promise<bigint | null> {
    const row = (await executor.query<{ revision: string }>('SELECT revision FROM streams WHERE stream_id = $1', [stream_id]))
      .rows[0];
    return row === undefined ? null : BigInt(row.revision);
  }

  async readAll(from: LogPosition = START, options: ReadAllOptions = {}): Promise<readonly RecordedEvent[]> {
    const limit = Math.min(options.max_count ?? DEFAULT_READ_PAGE, MAX_READ_PAGE);
    // Only transactions older than every one still running are visible: a slow append that began before a
    // fast one can still commit below it, so nothing at or above the oldest running xid is exposed yet.
    const rows = (
      await this.#pool.query<EventRow>({
        name: 'ispbills-read-all',
        text: `SELECT ${EVENT_COLUMNS} FROM events
         WHERE (tx_id, global_position) > ($1::text::xid8, $2::bigint)
           AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
         ORDER BY tx_id, global_position
         LIMIT $3`,
        values: [from.commit.toString(), from.prepare.toString(), limit],
      })
    ).rows;
    return rows.map((row) => this.#toRecorded(row));
  }

  subscribeToAll(from: LogPosition, handler: SubscriptionHandler, options: SubscriptionOptions = {}): Subscription {
    return startPollingSubscription({
      from,
      handler,
      batch_size: Math.min(options.batch_size ?? DEFAULT_READ_PAGE, MAX_READ_PAGE),
      poll_interval_ms: options.poll_interval_ms ?? this.#poll_interval_ms,
      read: (position, max_count) => this.readAll(position, { max_count }),
      wake: this.#appended,
    });
  }

  async findIdempotencyRecord(key: string): Promise<IdempotencyRecord | null> {
    const row = (
      await this.#pool.query<{ key: string; request_hash: string; result: JsonValue; positions: SerialisedAppendResult[] }>(
        'SELECT key, request_hash, result, positions FROM command_idempotency WHERE key = $1',
        [key],
      )
    ).rows[0];
    if (row === undefined) return null;
    return { key: row.key, request_hash: row.request_hash, result: row.result, positions: row.positions.map(parseAppendResult) };
  }

  async headPosition(): Promise<LogPosition> {
    const row = (
      await this.#pool.query<{ tx_id: string; global_position: string }>(
        `SELECT tx_id, global_position FROM events WHERE tx_id < pg_snapshot_xmin(pg_current_snapshot())
         ORDER BY tx_id DESC, global_position DESC LIMIT 1`,
      )
    ).rows[0];
    return row === undefined ? START : { commit: BigInt(row.tx_id), prepare: BigInt(row.global_position) };
  }

  async close(): Promise<void> {
    this.#appended.removeAllListeners();
  }

  #toRecorded(row: EventRow): RecordedEvent {
    const upcast = this.#upcast(row.type, row.schema_version, row.data);
    const global_position = BigInt(row.global_position);
    return {
      stream_id: row.stream_id,
      stream_revision: BigInt(row.stream_revision),
      global_position,
      position: { commit: BigInt(row.tx_id), prepare: global_position },
      event_id: row.event_id,
      type: row.type,
      schema_version: upcast.schema_version,
      data: upcast.data,
      metadata: row.metadata,
      occurred_at: new Date(row.occurred_at_ms),
      recorded_at: new Date(row.recorded_at_ms),
    };
  }
}

type SerialisedAppendResult = { stream_id: string; next_expected_revision: string; commit: string; prepare: string };

function parseAppendResult(row: SerialisedAppendResult): AppendResult {
  return {
    stream_id: row.stream_id,
    next_expected_revision: BigInt(row.next_expected_revision),
    position: { commit: BigInt(row.commit), prepare: BigInt(row.prepare) },
  };
}

function isUniqueViolation(error: unknown, constraint: string): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { code?: unknown }).code === UNIQUE_VIOLATION &&
    (error as { constraint?: unknown }).constraint === constraint
  );
}

/** The append as ispbills_append takes it: events carry their data and metadata as JSON, not as text. */
function serialiseAppend(append: StreamAppend) {
  return {
    stream_id: append.stream_id,
    state: typeof append.stream_state === 'bigint' ? 'revision' : append.stream_state,
    expected: typeof append.stream_state === 'bigint' ? append.stream_state.toString() : null,
    events: append.events.map((event) => ({
      event_id: event.event_id,
      type: event.type,
      schema_version: event.schema_version ?? 1,
      data: event.data,
      metadata: event.metadata,
      occurred_at: event.occurred_at.toISOString(),
    })),
  };
}

/** ispbills_append reports a failed expectation as SQLSTATE IB409 with the stream in DETAIL and its revision in HINT. */
function asStreamStateConflict(error: unknown, appends: readonly StreamAppend[]): StreamStateConflict | null {
  const fields = error as { code?: unknown; detail?: unknown; hint?: unknown };
  if (typeof error !== 'object' || error === null || fields.code !== 'IB409') return null;
  const stream_id = String(fields.detail);
  const append = appends.find((candidate) => candidate.stream_id === stream_id);
  const actual = fields.hint === 'absent' || fields.hint === undefined ? null : BigInt(String(fields.hint));
  return new StreamStateConflict(stream_id, append?.stream_state ?? 'any', actual);
}
