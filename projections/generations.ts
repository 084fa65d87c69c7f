import type pg from 'pg';
import { comparePositions, START, type LogPosition, type RecordedEvent } from '../eventstore/event-store.js';
import type { Projection, TableSpec } from './projection.js';
import { checkName, compareTables, createIndexesSql, createTableSql, qualified, type TableComparison } from './table-sql.js';

/**
 * A generation is one build of a projection: a schema with its tables and a checkpoint row. One generation per
 * projection is live (the public views point at it); a rebuild fills a `building` one and swaps it in.
 */
export type GenerationState = 'building' | 'live' | 'retired';

export type Generation = Readonly<{
  name: string;
  generation: number;
  version: number;
  schema_name: string;
  state: GenerationState;
  position: LogPosition;
  events_applied: bigint;
  last_event_recorded_at: Date | null;
  failed_event: FailedEvent | null;
  updated_at: Date;
}>;

export type FailedEvent = Readonly<{
  global_position: string;
  event_id: string;
  type: string;
  stream_id: string;
  error: string;
}>;

type GenerationRow = {
  name: string;
  generation: number;
  version: number;
  schema_name: string;
  state: GenerationState;
  position_commit: string;
  position_prepare: string;
  events_applied: string;
  last_event_recorded_at: Date | null;
  failed_event: FailedEvent | null;
  updated_at: Date;
};

const COLUMNS =
  'name, generation, version, schema_name, state, position_commit, position_prepare, events_applied, last_event_recorded_at, failed_event, updated_at';

function toGeneration(row: GenerationRow): Generation {
  return {
    name: row.name,
    generation: row.generation,
    version: row.version,
    schema_name: row.schema_name,
    state: row.state,
    position: { commit: BigInt(row.position_commit), prepare: BigInt(row.position_prepare) },
    events_applied: BigInt(row.events_applied),
    last_event_recorded_at: row.last_event_recorded_at,
    failed_event: row.failed_event,
    updated_at: row.updated_at,
  };
}

export async function liveGeneration(db: pg.Pool | pg.ClientBase, name: string): Promise<Generation | null> {
  const result = await db.query<GenerationRow>(`SELECT ${COLUMNS} FROM projection_generations WHERE name = $1 AND state = 'live'`, [name]);
  return result.rows[0] === undefined ? null : toGeneration(result.rows[0]);
}

export async function listGenerations(db: pg.Pool | pg.ClientBase): Promise<readonly Generation[]> {
  const result = await db.query<GenerationRow>(`SELECT ${COLUMNS} FROM projection_generations WHERE state <> 'retired' ORDER BY name, generation`);
  return result.rows.map(toGeneration);
}

/** Locks a generation's checkpoint row for the rest of the transaction: the one place two writers meet. */
export async function lockGeneration(client: pg.ClientBase, name: string, generation: number): Promise<Generation> {
  const result = await client.query<GenerationRow>(`SELECT ${COLUMNS} FROM projection_generations WHERE name = $1 AND generation = $2 FOR UPDATE`, [
    name,
    generation,
  ]);
  if (result.rows[0] === undefined) throw new Error(`projection ${name} has no generation ${generation}`);
  return toGeneration(result.rows[0]);
}

export async function advanceGeneration(client: pg.ClientBase, generation: Generation, last: RecordedEvent, events: number): Promise<void> {
  await client.query(
    `UPDATE projection_generations
        SET position_commit = $3, position_prepare = $4, events_applied = events_applied + $5,
            last_event_recorded_at = $6, failed_event = NULL, failed_at = NULL, updated_at = now()
      WHERE name = $1 AND generation = $2`,
    [generation.name, generation.generation, last.position.commit.toString(), last.position.prepare.toString(), events, last.recorded_at],
  );
}

export async function recordFailure(pool: pg.Pool, generation: Generation, failed: FailedEvent): Promise<void> {
  await pool.query(`UPDATE projection_generations SET failed_event = $3, failed_at = now(), updated_at = now() WHERE name = $1 AND generation = $2`, [
    generation.name,
    generation.generation,
    JSON.stringify(failed),
  ]);
}

/** A new generation's schema and empty tables, in one transaction; `live` only for a projection that has none yet. */
export async function createGeneration(
  pool: pg.Pool,
  projection: Projection,
  options: Readonly<{
    state: 'live' | 'building';
    schema_prefix?: string;
    /**
     * A building generation's secondary indexes are created by `createSecondaryIndexes` once its bulk load is
     * done: maintaining a trigram index row by row costs several times building it once.
     */
    defer_indexes?: boolean;
  }>,
): Promise<Generation> {
  checkName('projection', projection.name);
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    // Two processes starting at once must not both create generation 1.
    await client.query('SELECT pg_advisory_xact_lock(7301, hashtext($1))', [projection.name]);
    const next = await client.query<{ next: number; has_live: boolean }>(
      `SELECT coalesce(max(generation), 0) + 1 AS next, bool_or(state = 'live') IS TRUE AS has_live FROM projection_generations WHERE name = $1`,
      [projection.name],
    );
    const { next: generation, has_live } = next.rows[0]!;
    const schema = checkName('schema', `${options.schema_prefix ?? 'proj'}_${projection.name}_g${generation}`);
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.query(`CREATE SCHEMA ${schema}`);
    if (options.defer_indexes === true && options.state !== 'building') throw new Error('only a building generation may defer its indexes');
    for (const spec of projection.tables) {
      await client.query(createTableSql(schema, spec));
      if (options.defer_indexes !== true) for (const statement of createIndexesSql(schema, spec)) await client.query(statement);
    }
    if (options.state === 'live' && has_live) throw new Error(`projection ${projection.name} already has a live generation`);
    const state: GenerationState = options.state;
    await client.query(`INSERT INTO projection_generations (name, generation, version, schema_name, state) VALUES ($1, $2, $3, $4, $5)`, [
      projection.name,
      generation,
      projection.version,
      schema,
      state,
    ]);
    if (state === 'live') await pointViews(client, projection, schema);
    // Read back on this connection: asking the pool for a second one while holding this one deadlocks as soon as
    // every connection is held by a worker creating its generation (more projections than pool slots).
    const created = (await liveOrBuilding(client, projection.name, generation))!;
    await client.query('COMMIT');
    return created;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/**
 * The secondary indexes of a generation created with `defer_indexes`, then fresh planner statistics. Two
 * connections build them (PostgreSQL sorts for one while it writes the other), each with room to sort a few
 * million keys in memory instead of spilling to disk: what a bulk load's index build is bound by.
 */
export async function createSecondaryIndexes(
  pool: pg.Pool,
  projection: Projection,
  generation: Pick<Generation, 'schema_name'>,
  /** Only these tables (a rebuild indexes its complete write-once tables while it still writes the others). */
  which: (spec: TableSpec) => boolean = () => true,
): Promise<void> {
  const tables = projection.tables.filter(which);
  const statements = tables.flatMap((spec) => createIndexesSql(generation.schema_name, spec));
  const builders = Math.min(INDEX_BUILDERS, statements.length, Math.max(1, (pool.options.max ?? 10) - 1));
  let next = 0;
  await Promise.all(
    Array.from({ length: builders }, async () => {
      const client = await pool.connect();
      try {
        await client.query(`SET maintenance_work_mem = '${INDEX_BUILD_MEMORY}'`);
        while (next < statements.length) await client.query(statements[next++]!);
        await client.query('RESET maintenance_work_mem');
        client.release();
      } catch (error) {
        client.release(true);
        throw error;
      }
    }),
  );
  for (const spec of tables) await pool.query(`ANALYZE ${qualified(generation.schema_name, spec.name)}`);
}

const INDEX_BUILDERS = 2;
const INDEX_BUILD_MEMORY = '256MB';

async function liveOrBuilding(db: pg.Pool | pg.ClientBase, name: string, generation: number): Promise<Generation | null> {
  const result = await db.query<GenerationRow>(`SELECT ${COLUMNS} FROM projection_generations WHERE name = $1 AND generation = $2`, [name, generation]);
  return result.rows[0] === undefined ? null : toGeneration(result.rows[0]);
}

/** Points the public views at a generation's tables; readers switch atomically when the transaction commits. */
async function pointViews(client: pg.ClientBase, projection: Projection, schema: string): Promise<void> {
  for (const spec of projection.tables) {
    const view = checkName('view', spec.name);
    await client.query(`DROP VIEW IF EXISTS public.${view}`);
    await client.query(`CREATE VIEW public.${view} AS SELECT * FROM ${qualified(schema, spec.name)}`);
  }
}

/**
 * Inside the swap transaction (both checkpoint rows locked): the views move to `fresh`, `fresh` becomes live,
 * the old generation is retired and its schema dropped. Views of tables the new version no longer has go too.
 */
export async function swapGenerations(client: pg.ClientBase, projection: Projection, live: Generation | null, fresh: Generation): Promise<void> {
  if (live !== null) {
    await client.query(`UPDATE projection_generations SET state = 'retired', updated_at = now() WHERE name = $1 AND generation = $2`, [
      live.name,
      live.generation,
    ]);
    const old = await client.query<{ table_name: string }>(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1`, [live.schema_name]);
    const kept = new Set(projection.tables.map((spec) => spec.name));
    for (const { table_name } of old.rows) if (!kept.has(table_name)) await client.query(`DROP VIEW IF EXISTS public.${checkName('view', table_name)}`);
  }
  await pointViews(client, projection, fresh.schema_name);
  await client.query(`UPDATE projection_generations SET state = 'live', updated_at = now() WHERE name = $1 AND generation = $2`, [
    fresh.name,
    fresh.generation,
  ]);
  if (live !== null) await client.query(`DROP SCHEMA ${checkName('schema', live.schema_name)} CASCADE`);
}

/** Table by table, what differs between two generations of the same projection. */
export async function compareGenerations(client: pg.ClientBase, projection: Projection, live: Generation, fresh: Generation): Promise<readonly TableComparison[]> {
  const comparisons: TableComparison[] = [];
  for (const spec of projection.tables) comparisons.push(await compareTables(client, live.schema_name, fresh.schema_name, spec));
  return comparisons;
}

export const isAtOrAfter = (position: LogPosition, target: LogPosition): boolean => comparePositions(position, target) >= 0;
export const NOTHING_APPLIED = START;
