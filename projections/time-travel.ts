import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { comparePositions, START, type EventStore, type LogPosition, type RecordedEvent } from '../eventstore/event-store.js';
import { applyBatch, commitToCache, RowCache } from './apply-batch.js';
import type { Projection } from './projection.js';
import { checkName, createIndexesSql, createTableSql, qualified } from './table-sql.js';

/**
 * Time travel for disputes: what the system knew as of a log position or an instant. Read models are built from
 * position 0 into throwaway schemas, including only events at or before the cut; aggregates are folded from
 * their streams the same way. Nothing is written to the event log and no live table is touched.
 */
export type Cut =
  | Readonly<{ kind: 'position'; global_position: bigint; position: LogPosition }>
  | Readonly<{ kind: 'time'; recorded_at: Date }>;

export class InvalidCut extends Error {
  readonly code = 'INVALID_AS_OF';
  constructor(message: string) {
    super(message);
    this.name = 'InvalidCut';
  }
}

/**
 * `position:<n>` (an event number as the timeline and status show it), an ISO instant
 * (`2026-11-20T10:00:00Z`), or a date (`2026-11-20`: the end of that day in `time_zone`).
 */
export async function resolveCut(pool: pg.Pool, as_of: string, time_zone = 'UTC'): Promise<Cut> {
  const position = /^position:(\d{1,19})$/.exec(as_of);
  if (position !== null) {
    const global_position = BigInt(position[1]!);
    const found = await pool.query<{ tx_id: string }>('SELECT tx_id::text AS tx_id FROM events WHERE global_position = $1', [global_position.toString()]);
    if (found.rows[0] === undefined) throw new InvalidCut(`there is no event ${global_position}; use a number from the timeline or \`ispbills projections\``);
    return { kind: 'position', global_position, position: { commit: BigInt(found.rows[0].tx_id), prepare: global_position } };
  }
  if (/^\d{4}-\d{2}-\d{2}$/.test(as_of)) {
    const { Temporal } = await import('temporal-polyfill');
    try {
      const end = Temporal.PlainDate.from(as_of).add({ days: 1 }).toZonedDateTime({ timeZone: time_zone });
      return { kind: 'time', recorded_at: new Date(end.epochMilliseconds - 1) };
    } catch {
      throw new InvalidCut(`${as_of} in ${time_zone} is not a date; write YYYY-MM-DD`);
    }
  }
  const instant = new Date(as_of);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(as_of) || Number.isNaN(instant.getTime())) {
    throw new InvalidCut(`--as-of ${JSON.stringify(as_of)} is neither position:<n>, an ISO instant like 2026-11-20T10:00:00Z, nor a date like 2026-11-20`);
  }
  return { kind: 'time', recorded_at: instant };
}

export const includes = (cut: Cut, event: RecordedEvent): boolean =>
  cut.kind === 'position' ? comparePositions(event.position, cut.position) <= 0 : event.recorded_at.getTime() <= cut.recorded_at.getTime();

export type PastReadModels = Readonly<{
  /** The schema holding each projection's tables as of the cut. */
  schemas: ReadonlyMap<string, string>;
  events_applied: number;
  drop: () => Promise<void>;
}>;

/** Builds the given projections as of the cut into fresh schemas; call `drop` when done reading them. */
export async function readModelsAsOf(
  pool: pg.Pool,
  store: EventStore,
  projections: readonly Projection[],
  cut: Cut,
  options: Readonly<{ batch_size?: number; on_progress?: (applied: number) => void }> = {},
): Promise<PastReadModels> {
  const token = randomBytes(4).toString('hex');
  const schemas = new Map<string, string>();
  const drop = async (): Promise<void> => {
    for (const schema of schemas.values()) await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  };
  try {
    for (const projection of projections) {
      const schema = checkName('schema', `asof_${projection.name}_${token}`);
      schemas.set(projection.name, schema);
      await pool.query(`CREATE SCHEMA ${schema}`);
      for (const spec of projection.tables) await pool.query(createTableSql(schema, spec));
    }
    const caches = new Map(projections.map((projection) => [projection.name, new RowCache()]));
    let position = START;
    let applied = 0;
    for (;;) {
      const page = await store.readAll(position, { max_count: options.batch_size ?? 2_000 });
      if (page.length === 0) break;
      position = page[page.length - 1]!.position;
      const events = page.filter((event) => includes(cut, event));
      // Recorded times rise with the log except across concurrent transactions, so keep reading to the end.
      if (events.length === 0) continue;
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        for (const projection of projections) {
          const cache = caches.get(projection.name)!;
          const outcome = await applyBatch(client, schemas.get(projection.name)!, projection, events, cache);
          commitToCache(cache, outcome);
        }
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
      applied += events.length;
      options.on_progress?.(applied);
    }
    // The past read models are queried like the live ones: with the same indexes, built once after the load.
    for (const projection of projections) {
      const schema = schemas.get(projection.name)!;
      for (const spec of projection.tables) {
        for (const statement of createIndexesSql(schema, spec)) await pool.query(statement);
        await pool.query(`ANALYZE ${qualified(schema, spec.name)}`);
      }
    }
    return { schemas, events_applied: applied, drop };
  } catch (error) {
    await drop();
    throw error;
  }
}

/** A stream's events as of the cut, for folding an aggregate (a customer, an operator's wallet) into its past state. */
export async function streamAsOf(store: EventStore, stream_id: string, cut: Cut): Promise<readonly RecordedEvent[]> {
  const events = await store.readStream(stream_id);
  return events.filter((event) => includes(cut, event));
}
