import type pg from 'pg';
import { keyString, type ColumnType, type Row, type TableSpec } from './projection.js';

/**
 * The SQL a projection's tables need: DDL inside a generation's schema, loading rows by key, writing a batch's
 * final rows, and a comparison of two generations. Rows cross the wire as JSON so one statement writes a whole
 * batch per table; numeric, bigint, date and timestamptz are read back as text so no value loses precision.
 */
const NAME = /^[a-z][a-z0-9_]{0,62}$/;

export function checkName(kind: string, name: string): string {
  if (!NAME.test(name)) throw new Error(`${kind} name ${JSON.stringify(name)} must be lower-case letters, digits and _`);
  return name;
}

export const qualified = (schema: string, table: string): string => `${checkName('schema', schema)}.${checkName('table', table)}`;

const SQL_TYPES: Readonly<Record<ColumnType, string>> = {
  text: 'text',
  integer: 'integer',
  bigint: 'bigint',
  numeric: 'numeric',
  date: 'date',
  timestamptz: 'timestamptz',
  boolean: 'boolean',
  'text[]': 'text[]',
  jsonb: 'jsonb',
};

/** The table with its primary key (what upserts need), without the secondary indexes. */
export function createTableSql(schema: string, spec: TableSpec): string {
  const table = qualified(schema, spec.name);
  const columns = Object.entries(spec.columns).map(([column, type]) => `${checkName('column', column)} ${SQL_TYPES[type]}`);
  if (spec.serial_id !== undefined) columns.unshift(`${checkName('column', spec.serial_id)} bigserial`);
  const notNull = spec.key.map((column) => `CHECK (${column} IS NOT NULL)`);
  return `CREATE TABLE ${table} (${[...columns, ...notNull, `PRIMARY KEY (${spec.key.join(', ')})`].join(', ')})`;
}

/** The secondary indexes readers need; a rebuild creates them once its bulk load is done (DESIGN §6). */
export function createIndexesSql(schema: string, spec: TableSpec): readonly string[] {
  const table = qualified(schema, spec.name);
  return (spec.indexes ?? []).map((index) => index.replaceAll('{table}', table));
}

/** A select list that reads every column back in the handler's representation. */
function readExpression(column: string, type: ColumnType): string {
  switch (type) {
    case 'numeric':
    case 'bigint':
      return `${column}::text AS ${column}`;
    case 'date':
      return `to_char(${column}, 'YYYY-MM-DD') AS ${column}`;
    case 'timestamptz':
      return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS ${column}`;
    default:
      return column;
  }
}

export const selectList = (spec: TableSpec): string =>
  Object.entries(spec.columns)
    .map(([column, type]) => readExpression(column, type))
    .join(', ');

const recordsetColumns = (spec: TableSpec, columns: readonly string[]): string =>
  columns.map((column) => `${column} ${SQL_TYPES[spec.columns[column] as ColumnType]}`).join(', ');

/** Rows of `spec` whose keys are among `keys`, each returned with the key string it was asked by. */
export async function loadRows(
  client: pg.ClientBase,
  schema: string,
  spec: TableSpec,
  keys: readonly Readonly<Record<string, unknown>>[],
): Promise<Map<string, Row>> {
  const found = new Map<string, Row>();
  if (keys.length === 0) return found;
  const keyColumns = spec.key.join(', ');
  const result = await client.query<Row>(
    `SELECT ${selectList(spec)} FROM ${qualified(schema, spec.name)}
      WHERE (${keyColumns}) IN (SELECT ${keyColumns} FROM jsonb_to_recordset($1::jsonb) AS k(${recordsetColumns(spec, spec.key)}))`,
    [JSON.stringify(keys)],
  );
  for (const row of result.rows) found.set(keyString(spec, row), row);
  return found;
}

/** Writes a batch's outcome for one table: the rows it deleted, then the rows as they now are. */
export async function writeRows(
  client: pg.ClientBase,
  schema: string,
  spec: TableSpec,
  puts: readonly Row[],
  deletes: readonly Readonly<Record<string, unknown>>[],
): Promise<void> {
  const table = qualified(schema, spec.name);
  if (deletes.length > 0) {
    const match = spec.key.map((column) => `t.${column} = k.${column}`).join(' AND ');
    await client.query(`DELETE FROM ${table} AS t USING jsonb_to_recordset($1::jsonb) AS k(${recordsetColumns(spec, spec.key)}) WHERE ${match}`, [
      JSON.stringify(deletes),
    ]);
  }
  if (puts.length > 0) {
    const columns = Object.keys(spec.columns);
    const nonKey = columns.filter((column) => !spec.key.includes(column));
    const update = nonKey.length === 0 ? 'DO NOTHING' : `DO UPDATE SET ${nonKey.map((column) => `${column} = EXCLUDED.${column}`).join(', ')}`;
    await client.query(
      `INSERT INTO ${table} (${columns.join(', ')})
       SELECT ${columns.join(', ')} FROM jsonb_to_recordset($1::jsonb) AS r(${recordsetColumns(spec, columns)})
       ON CONFLICT (${spec.key.join(', ')}) ${update}`,
      [JSON.stringify(puts)],
    );
  }
}

export type TableComparison = Readonly<{ table: string; rows_live: number; rows_new: number; only_live: number; only_new: number }>;

/** Rows present in one generation and not in the other (by every column but a serial id); 0 and 0 means equal. */
export async function compareTables(client: pg.ClientBase, live_schema: string, new_schema: string, spec: TableSpec): Promise<TableComparison> {
  const columns = selectList(spec);
  const live = qualified(live_schema, spec.name);
  const fresh = qualified(new_schema, spec.name);
  const result = await client.query<{ rows_live: string; rows_new: string; only_live: string; only_new: string }>(
    `SELECT (SELECT count(*) FROM ${live}) AS rows_live,
            (SELECT count(*) FROM ${fresh}) AS rows_new,
            (SELECT count(*) FROM (SELECT ${columns} FROM ${live} EXCEPT ALL SELECT ${columns} FROM ${fresh}) d) AS only_live,
            (SELECT count(*) FROM (SELECT ${columns} FROM ${fresh} EXCEPT ALL SELECT ${columns} FROM ${live}) d) AS only_new`,
  );
  const row = result.rows[0]!;
  return { table: spec.name, rows_live: Number(row.rows_live), rows_new: Number(row.rows_new), only_live: Number(row.only_live), only_new: Number(row.only_new) };
}

/** An order-independent digest of a table's content (every column but a serial id), for tests and checks. */
export async function tableDigest(client: pg.ClientBase, schema: string, spec: TableSpec): Promise<Readonly<{ rows: number; md5: string }>> {
  const result = await client.query<{ rows: string; md5: string | null }>(
    `SELECT count(*) AS rows, md5(string_agg(line, E'\\n' ORDER BY line)) AS md5
       FROM (SELECT row_to_json(t)::text AS line FROM (SELECT ${selectList(spec)} FROM ${qualified(schema, spec.name)}) t) lines`,
  );
  const row = result.rows[0]!;
  return { rows: Number(row.rows), md5: row.md5 ?? '' };
}

/** Counter tables: one upsert adds a batch's totals to whatever the rows held. */
export async function addToCounters(client: pg.ClientBase, schema: string, spec: TableSpec, rows: readonly Readonly<Record<string, unknown>>[]): Promise<void> {
  if (rows.length === 0) return;
  const table = qualified(schema, spec.name);
  const columns = Object.keys(spec.columns);
  const sums = columns.filter((column) => !spec.key.includes(column));
  await client.query(
    `INSERT INTO ${table} AS t (${columns.join(', ')})
     SELECT ${columns.join(', ')} FROM jsonb_to_recordset($1::jsonb) AS r(${recordsetColumns(spec, columns)})
     ON CONFLICT (${spec.key.join(', ')}) DO UPDATE SET ${sums.map((column) => `${column} = t.${column} + EXCLUDED.${column}`).join(', ')}`,
    [JSON.stringify(rows)],
  );
}
