import type pg from 'pg';
import type { RecordedEvent } from '../../eventstore/event-store.js';
import { applyBatch, commitToCache, type RowCache } from '../../projections/apply-batch.js';
import { createGeneration, type Generation } from '../../projections/generations.js';
import type { Projection } from '../../projections/projection.js';
import { checkName, createIndexesSql, createTableSql, qualified, tableDigest } from '../../projections/table-sql.js';

/**
 * Builds projections into throwaway schemas for tests, either bare (a schema and the tables, applied with
 * `applyBatch` and no checkpoint) or as a `building` generation (applied through the checkpoint), and reads
 * every table back as an order-independent digest so two builds compare in one `toEqual`.
 */
export type Digests = Readonly<Record<string, Readonly<{ rows: number; md5: string }>>>;

let bare_schemas = 0;

/** A schema `<prefix>_<projection>_<n>` with the projection's empty tables and no checkpoint row. */
export async function bareSchema(pool: pg.Pool, projection: Projection, prefix: string): Promise<string> {
  bare_schemas += 1;
  const schema = checkName('schema', `${prefix}_${projection.name}_${bare_schemas}`);
  await pool.query(`CREATE SCHEMA ${schema}`);
  for (const spec of projection.tables) for (const statement of [createTableSql(schema, spec), ...createIndexesSql(schema, spec)]) await pool.query(statement);
  return schema;
}

/** A `building` generation: a schema of its own and a checkpoint at position 0. */
export async function buildingGeneration(pool: pg.Pool, projection: Projection, prefix: string): Promise<Generation> {
  return createGeneration(pool, projection, { state: 'building', schema_prefix: prefix });
}

/**
 * Empties a test generation's tables and puts its checkpoint back at position 0: what a new generation is, without
 * paying for its DDL (dozens of indexes) on every run of a property.
 */
export async function resetGeneration(pool: pg.Pool, projection: Projection, generation: Generation): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    for (const spec of projection.tables) await client.query(`DELETE FROM ${qualified(generation.schema_name, spec.name)}`);
    await client.query(
      `UPDATE projection_generations
          SET position_commit = 0, position_prepare = 0, events_applied = 0, last_event_recorded_at = NULL, failed_event = NULL, failed_at = NULL
        WHERE name = $1 AND generation = $2 AND state = 'building'`,
      [generation.name, generation.generation],
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** Applies `events` in one transaction with `applyBatch` (no checkpoint); the cache learns them after COMMIT. */
export async function applyBare(pool: pg.Pool, schema: string, projection: Projection, events: readonly RecordedEvent[], cache: RowCache): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const outcome = await applyBatch(client, schema, projection, events, cache);
    await client.query('COMMIT');
    commitToCache(cache, outcome);
  } catch (error) {
    cache.clear();
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** Cuts `events` into consecutive batches of the given sizes (cycled), the last one taking what is left. */
export function partition<Item>(items: readonly Item[], sizes: readonly number[]): Item[][] {
  if (sizes.length === 0 || sizes.some((size) => size < 1)) throw new Error('batch sizes must be positive');
  const batches: Item[][] = [];
  let at = 0;
  for (let index = 0; at < items.length; index += 1) {
    const size = sizes[index % sizes.length]!;
    batches.push(items.slice(at, at + size));
    at += size;
  }
  return batches;
}

export async function digestsOf(pool: pg.Pool, projection: Projection, schema: string): Promise<Digests> {
  const client = await pool.connect();
  try {
    const digests: Record<string, { rows: number; md5: string }> = {};
    for (const spec of projection.tables) digests[spec.name] = await tableDigest(client, schema, spec);
    return digests;
  } finally {
    client.release();
  }
}

/** Drops a generation's schema and its checkpoint row (test generations are never swapped in). */
export async function dropGeneration(pool: pg.Pool, generation: Generation): Promise<void> {
  await pool.query(`DROP SCHEMA IF EXISTS ${checkName('schema', generation.schema_name)} CASCADE`);
  await pool.query(`DELETE FROM projection_generations WHERE name = $1 AND generation = $2 AND state = 'building'`, [generation.name, generation.generation]);
}

export async function dropSchema(pool: pg.Pool, schema: string): Promise<void> {
  await pool.query(`DROP SCHEMA IF EXISTS ${checkName('schema', schema)} CASCADE`);
}

/** Every schema whose name starts with `prefix_`, for a final sweep in afterAll. */
export async function schemasStartingWith(pool: pg.Pool, prefix: string): Promise<readonly string[]> {
  const result = await pool.query<{ schema_name: string }>(`SELECT schema_name FROM information_schema.schemata WHERE starts_with(schema_name, $1)`, [`${prefix}_`]);
  return result.rows.map((row) => row.schema_name);
}
