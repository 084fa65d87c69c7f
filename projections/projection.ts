import type { RecordedEvent } from '../eventstore/event-store.js';

/**
 * A projection is a name, a version, the tables it owns and a pure handler: given an event and the current
 * rows it declared it needs, it returns row changes. It never touches the database, the clock or another
 * projection's tables; the projector runtime loads rows, applies changes and advances the checkpoint in one
 * transaction. Bump `version` whenever the tables or the handler's output change: the live generation is then
 * rebuilt from position 0 into fresh tables and swapped in.
 */
export type ColumnType = 'text' | 'integer' | 'bigint' | 'numeric' | 'date' | 'timestamptz' | 'boolean' | 'text[]' | 'jsonb';

/** Values as handlers see them: numeric, bigint, date and timestamptz travel as strings so nothing loses precision. */
export type ColumnValue = string | number | boolean | null | readonly string[] | JsonLike;
type JsonLike = { readonly [key: string]: unknown } | readonly unknown[];
export type Row = Readonly<Record<string, ColumnValue>>;

export type TableSpec = Readonly<{
  /** The name readers use: a view of that name points at the live generation's table. */
  name: string;
  columns: Readonly<Record<string, ColumnType>>;
  /** The row identity the handler addresses rows by; unique in the table. */
  key: readonly string[];
  /** A `serial` id column the table has besides its key (FreeRADIUS tables); generated, never compared. */
  serial_id?: string;
  /**
   * A counter table: every column outside the key is a sum that handlers only `add` to and never read, so a
   * batch writes its totals with one `col = col + delta` upsert and no read at all.
   */
  counter?: boolean;
  /**
   * Rows that only ever arrive, like journal lines and timeline lines: each is put by one event (its key carries
   * that event's position or an id of its own) and never read, changed or deleted by a handler afterwards. A
   * rebuild streams them to COPY as they come instead of holding them in memory.
   */
  write_once?: boolean;
  /** Extra DDL run after the table is created, with `{table}` standing for its qualified name. */
  indexes?: readonly string[];
}>;

export type RowKey = Readonly<Record<string, string | number | boolean>>;
export type RowRef = Readonly<{ table: string; key: RowKey }>;

export type RowChange =
  | Readonly<{ op: 'put'; table: string; row: Row }>
  | Readonly<{ op: 'delete'; table: string; key: RowKey }>
  /** Counter tables only: adds to every named column (integer as a number, numeric as a decimal string). */
  | Readonly<{ op: 'add'; table: string; key: RowKey; amounts: Readonly<Record<string, number | string>> }>;

export interface RowReader {
  /** The row as of just before this event. Rows not listed in `reads` cost the batch another pass. */
  get(table: string, key: RowKey): Row | undefined;
}

export type Projection = Readonly<{
  name: string;
  version: number;
  /** Extensions the tables need (created once per database). */
  extensions?: readonly string[];
  tables: readonly TableSpec[];
  /** The rows `handle` will read for this event, so a whole batch is loaded in one query per table (a prefetch hint). */
  reads: (event: RecordedEvent) => readonly RowRef[];
  handle: (event: RecordedEvent, rows: RowReader) => readonly RowChange[];
}>;

export const put = (table: string, row: Row): RowChange => ({ op: 'put', table, row });
export const remove = (table: string, key: RowKey): RowChange => ({ op: 'delete', table, key });
export const add = (table: string, key: RowKey, amounts: Readonly<Record<string, number | string>>): RowChange => ({ op: 'add', table, key, amounts });
export const ref = (table: string, key: RowKey): RowRef => ({ table, key });

/** A stable string for a row key: the cache and the batch address rows by it. */
export function keyString(spec: TableSpec, key: RowKey | Row): string {
  let out = '';
  for (const column of spec.key) {
    const value = (key as Record<string, unknown>)[column];
    if (value === undefined || value === null) throw new Error(`table ${spec.name}: key column ${column} is missing`);
    out += `${String(value)}\u0000`;
  }
  return out;
}

/** What no handler may read: counters (sums only ever added to) and write-once rows. Both runtimes ask this. */
export function assertReadable(projection: Projection, spec: TableSpec): void {
  if (spec.counter === true) throw new ProjectionHandlerError(`projection ${projection.name} read counter table ${spec.name}; counters are write-only`);
  if (spec.write_once === true) throw new ProjectionHandlerError(`projection ${projection.name} read write-once table ${spec.name}; its rows are never read back`);
}

/** What a handler may do to a table: counters only take `add`; write-once rows are only put. Both runtimes ask this. */
export function assertChangeAllowed(projection: Projection, spec: TableSpec, change: RowChange): void {
  if (spec.counter === true && change.op !== 'add') throw new ProjectionHandlerError(`projection ${projection.name}: counter table ${spec.name} only takes add`);
  if (spec.write_once === true && change.op !== 'put') throw new ProjectionHandlerError(`projection ${projection.name}: write-once table ${spec.name} only takes put`);
}

export class ProjectionHandlerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProjectionHandlerError';
  }
}
