import type pg from 'pg';
import type { RecordedEvent } from '../eventstore/event-store.js';
import { assertChangeAllowed, assertReadable, keyString, ProjectionHandlerError, type Projection, type Row, type RowKey, type TableSpec } from './projection.js';
import { Decimal } from 'decimal.js';
import { addToCounters, loadRows, writeRows } from './table-sql.js';

/**
 * Rows a projection's single active worker has read or written, kept between batches so a rebuild does not
 * re-read what it just wrote. Only the worker holding the projection writes its tables, so the copy stays true;
 * it is dropped whenever a transaction fails or the worker loses its place. `null` means "known absent".
 */
export class RowCache {
  private readonly tables = new Map<string, Map<string, Row | null>>();
  private size = 0;

  constructor(private readonly max_rows = 200_000) {}

  lookup(table: string, key: string): Row | null | undefined {
    return this.tables.get(table)?.get(key);
  }

  store(table: string, key: string, row: Row | null): void {
    let rows = this.tables.get(table);
    if (rows === undefined) {
      rows = new Map();
      this.tables.set(table, rows);
    }
    if (!rows.has(key)) this.size += 1;
    rows.set(key, row);
    if (this.size > this.max_rows) this.evictOldest();
  }

  clear(): void {
    this.tables.clear();
    this.size = 0;
  }

  /** Drops the oldest quarter of each table (Maps iterate in insertion order). */
  private evictOldest(): void {
    for (const rows of this.tables.values()) {
      let drop = Math.ceil(rows.size / 4);
      for (const key of rows.keys()) {
        if (drop-- <= 0) break;
        rows.delete(key);
        this.size -= 1;
      }
    }
  }
}

export type BatchOutcome = Readonly<{
  rows_written: number;
  loaded: ReadonlyMap<string, ReadonlyMap<string, Row | null>>;
  changes: ReadonlyMap<string, ReadonlyMap<string, Row | null>>;
}>;

/**
 * Applies events to a projection's tables inside the caller's transaction: loads the rows the handlers
 * declared (one query per table, cache misses only), runs the handlers in log order against the batch's view
 * of the rows (again, after loading, if a handler asked for a row nobody declared), then writes each touched
 * row once in its final state. The caller commits and only then calls
 * `commitToCache`, so a rolled-back batch never leaves the cache ahead of the database.
 */
export async function applyBatch(
  client: pg.ClientBase,
  schema: string,
  projection: Projection,
  events: readonly RecordedEvent[],
  cache: RowCache,
): Promise<BatchOutcome> {
  const specs = new Map<string, TableSpec>(projection.tables.map((spec) => [spec.name, spec]));
  const specOf = (table: string): TableSpec => {
    const spec = specs.get(table);
    if (spec === undefined) throw new ProjectionHandlerError(`projection ${projection.name} has no table ${table}`);
    return spec;
  };

  const loaded = new Map<string, Map<string, Row | null>>();
  const load = async (wanted: Map<string, Map<string, RowKey>>): Promise<void> => {
    for (const [table, keys] of wanted) {
      const found = await loadRows(client, schema, specOf(table), [...keys.values()]);
      let rows = loaded.get(table);
      if (rows === undefined) loaded.set(table, (rows = new Map()));
      for (const id of keys.keys()) rows.set(id, found.get(id) ?? null);
    }
  };
  const known = (table: string, id: string): boolean => cache.lookup(table, id) !== undefined || loaded.get(table)?.has(id) === true;

  const prefetch = new Map<string, Map<string, RowKey>>();
  for (const event of events) for (const { table, key } of projection.reads(event)) want(prefetch, specOf(table), key, known);
  await load(prefetch);

  // Handlers are pure, so a pass that asked for a row nobody loaded is simply run again once those rows are
  // loaded: `reads` is a prefetch that makes one pass the rule, not a condition of correctness.
  let changes = new Map<string, Map<string, Row | null>>();
  let counters = new Map<string, Map<string, Record<string, unknown>>>();
  for (let pass = 1; ; pass += 1) {
    const missing = new Map<string, Map<string, RowKey>>();
    changes = new Map();
    counters = new Map();
    const reader = {
      get(table: string, key: RowKey): Row | undefined {
        const spec = specOf(table);
        assertReadable(projection, spec);
        const id = keyString(spec, key);
        const changed = changes.get(table)?.get(id);
        if (changed !== undefined) return changed ?? undefined;
        const cached = cache.lookup(table, id);
        if (cached !== undefined) return cached ?? undefined;
        const fresh = loaded.get(table)?.get(id);
        if (fresh !== undefined) return fresh ?? undefined;
        want(missing, spec, key, known);
        return undefined;
      },
    };
    let failure: unknown = null;
    try {
      runHandlers(projection, events, reader, specOf, changes, counters);
    } catch (error) {
      failure = error;
    }
    if (missing.size === 0) {
      if (failure !== null) throw failure;
      break;
    }
    if (pass >= MAX_PASSES) throw new ProjectionHandlerError(`projection ${projection.name} still read unloaded rows after ${MAX_PASSES} passes over one batch`);
    await load(missing);
  }

  let rows_written = 0;
  for (const [table, rows] of changes) {
    const spec = specOf(table);
    const puts: Row[] = [];
    const deletes: Record<string, unknown>[] = [];
    for (const [id, row] of rows) {
      if (row !== null) puts.push(row);
      else if (cache.lookup(table, id) !== null && loaded.get(table)?.get(id) !== null) deletes.push(keyOf(spec, id));
    }
    await writeRows(client, schema, spec, puts, deletes);
    rows_written += puts.length + deletes.length;
  }
  for (const [table, rows] of counters) {
    await addToCounters(client, schema, specOf(table), [...rows.values()]);
    rows_written += rows.size;
  }
  return { rows_written, loaded, changes };
}

const MAX_PASSES = 8;

function want(into: Map<string, Map<string, RowKey>>, spec: TableSpec, key: RowKey, known: (table: string, id: string) => boolean): void {
  const id = keyString(spec, key);
  if (known(spec.name, id)) return;
  let keys = into.get(spec.name);
  if (keys === undefined) into.set(spec.name, (keys = new Map()));
  keys.set(id, key);
}

function runHandlers(
  projection: Projection,
  events: readonly RecordedEvent[],
  reader: { get(table: string, key: RowKey): Row | undefined },
  specOf: (table: string) => TableSpec,
  changes: Map<string, Map<string, Row | null>>,
  counters: Map<string, Map<string, Record<string, unknown>>>,
): void {
  for (const event of events) {
    for (const change of projection.handle(event, reader)) {
      const spec = specOf(change.table);
      assertChangeAllowed(projection, spec, change);
      if (change.op === 'add') {
        addToCounter(spec, counters, change.key, change.amounts);
        continue;
      }
      let rows = changes.get(change.table);
      if (rows === undefined) changes.set(change.table, (rows = new Map()));
      if (change.op === 'put') {
        checkRow(spec, change.row);
        rows.set(keyString(spec, change.row), change.row);
      } else {
        rows.set(keyString(spec, change.key), null);
      }
    }
  }
}

/** After the batch's transaction committed: the cache now holds what the database holds. */
export function commitToCache(cache: RowCache, outcome: BatchOutcome): void {
  for (const [table, rows] of outcome.loaded) for (const [id, row] of rows) cache.store(table, id, row);
  for (const [table, rows] of outcome.changes) for (const [id, row] of rows) cache.store(table, id, row);
}

const columns_of = new WeakMap<TableSpec, readonly string[]>();

/** Rows handlers wrote must carry every column, so an upsert never silently nulls one. */
export function checkRow(spec: TableSpec, row: Row): void {
  let columns = columns_of.get(spec);
  if (columns === undefined) columns_of.set(spec, (columns = Object.keys(spec.columns)));
  for (const column of columns) {
    if (row[column] === undefined) throw new ProjectionHandlerError(`table ${spec.name}: a row was written without column ${column}`);
  }
}

function keyOf(spec: TableSpec, id: string): Record<string, unknown> {
  const parts = id.split('\u0000');
  const key: Record<string, unknown> = {};
  spec.key.forEach((column, index) => {
    key[column] = parts[index];
  });
  return key;
}

function addToCounter(
  spec: TableSpec,
  counters: Map<string, Map<string, Record<string, unknown>>>,
  key: RowKey,
  amounts: Readonly<Record<string, number | string>>,
): void {
  let rows = counters.get(spec.name);
  if (rows === undefined) counters.set(spec.name, (rows = new Map()));
  const id = keyString(spec, key);
  let row = rows.get(id);
  if (row === undefined) rows.set(id, (row = zeroCounterRow(spec, key)));
  addAmounts(spec, row, amounts);
}

/** A counter row before anything was added: its key, and zero in every sum. */
export function zeroCounterRow(spec: TableSpec, key: RowKey): Record<string, unknown> {
  const row: Record<string, unknown> = { ...key };
  for (const column of Object.keys(spec.columns)) if (!spec.key.includes(column)) row[column] = spec.columns[column] === 'numeric' ? '0' : 0;
  return row;
}

/** Adds to a counter row in place: integers as numbers, numeric sums as exact decimals. */
export function addAmounts(spec: TableSpec, row: Record<string, unknown>, amounts: Readonly<Record<string, number | string>>): void {
  for (const column in amounts) {
    const amount = amounts[column]!;
    const type = spec.columns[column];
    if (type === 'numeric') row[column] = sumKeepingScale(row[column] as string, String(amount));
    else if (type === 'integer' || type === 'bigint') row[column] = (row[column] as number) + Number(amount);
    else throw new ProjectionHandlerError(`table ${spec.name}: column ${column} is not a counter`);
  }
}

/**
 * "0" + "500.00" is "500.00": money keeps its minor-unit scale, as PostgreSQL's numeric addition does. Plain
 * decimals (what counters hold) are added as scaled integers, which a rebuild does millions of times; anything
 * else (an exponent) goes through Decimal.
 */
export function sumKeepingScale(a: string, b: string): string {
  const scale = Math.max(scaleOf(a), scaleOf(b));
  // Half of what a journal line adds is a zero debit or credit.
  if (ZERO.test(b) && scaleOf(b) <= scaleOf(a) && NORMAL_NONZERO.test(a) && !ZERO.test(a)) return a;
  if (!PLAIN_DECIMAL.test(a) || !PLAIN_DECIMAL.test(b)) return new Decimal(a).plus(new Decimal(b)).toFixed(scale);
  const total = scaledInteger(a, scale) + scaledInteger(b, scale);
  const negative = total < 0n;
  const digits = (negative ? -total : total).toString().padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  return `${negative ? '-' : ''}${whole}${scale > 0 ? `.${digits.slice(digits.length - scale)}` : ''}`;
}

const PLAIN_DECIMAL = /^-?\d+(\.\d+)?$/;
const ZERO = /^-?0+(\.0+)?$/;
/** No leading zeros: what a sum prints, so returning `a` itself is what adding would print. */
const NORMAL_NONZERO = /^-?(0|[1-9]\d*)(\.\d+)?$/;

/** "12.3" at scale 2 is 1230n. */
function scaledInteger(text: string, scale: number): bigint {
  const dot = text.indexOf('.');
  const fraction = dot === -1 ? '' : text.slice(dot + 1);
  return BigInt((dot === -1 ? text : text.slice(0, dot)) + fraction.padEnd(scale, '0'));
}

const scaleOf = (text: string): number => {
  const dot = text.indexOf('.');
  return dot === -1 ? 0 : text.length - dot - 1;
};
