import type { RecordedEvent } from '../eventstore/event-store.js';
import { addAmounts, checkRow, zeroCounterRow } from './apply-batch.js';
import { assertChangeAllowed, assertReadable, keyString, ProjectionHandlerError, type Projection, type Row, type RowKey, type TableSpec } from './projection.js';

/**
 * A projection's pure handler run over events with its rows held in memory: one customer's or one operator's
 * stream as of a past position (time travel), or the whole log when a rebuild folds it before writing each row
 * once. The rules are the same code the projector runs; only where the rows live differs, and the same misuse
 * (a row missing a column, a counter or write-once row read, a counter overwritten) fails here as it fails there.
 */
export type MemoryTables = ReadonlyMap<string, ReadonlyMap<string, Row>>;

export class MemoryFold {
  readonly tables = new Map<string, Map<string, Row>>();
  private readonly specs = new Map<string, TableSpec>();
  /** Rows held, all tables together: what a rebuild's memory budget is counted in. */
  rows = 0;
  /** With `stream_write_once`: write-once rows waiting to be taken (`takeStreamed`), by table. */
  private streamed = new Map<string, Row[]>();
  streamed_rows = 0;
  private readonly reader = {
    get: (table: string, key: RowKey): Row | undefined => {
      const spec = this.specOf(table);
      assertReadable(this.projection, spec);
      return this.tables.get(table)!.get(keyString(spec, key));
    },
  };

  constructor(
    readonly projection: Projection,
    /** A rebuild takes write-once rows as they come instead of holding them (time travel keeps every row). */
    private readonly stream_write_once = false,
  ) {
    for (const spec of projection.tables) {
      this.specs.set(spec.name, spec);
      this.tables.set(spec.name, new Map());
    }
  }

  apply(event: RecordedEvent): void {
    // Write-once rows of this event, by table and key: an event that puts one twice keeps the last, as a batch does.
    let arrived: Map<string, Map<string, Row>> | null = null;
    for (const change of this.projection.handle(event, this.reader)) {
      const spec = this.specOf(change.table);
      assertChangeAllowed(this.projection, spec, change);
      const rows = this.tables.get(change.table)!;
      if (change.op === 'add') {
        const id = keyString(spec, change.key);
        let row = rows.get(id) as Record<string, unknown> | undefined;
        if (row === undefined) {
          rows.set(id, (row = zeroCounterRow(spec, change.key)) as Row);
          this.rows += 1;
        }
        addAmounts(spec, row, change.amounts);
      } else if (change.op === 'put') {
        checkRow(spec, change.row);
        const id = keyString(spec, change.row);
        if (this.stream_write_once && spec.write_once === true) {
          arrived ??= new Map();
          let table = arrived.get(spec.name);
          if (table === undefined) arrived.set(spec.name, (table = new Map()));
          table.set(id, change.row);
          continue;
        }
        if (!rows.has(id)) this.rows += 1;
        rows.set(id, change.row);
      } else if (rows.delete(keyString(spec, change.key))) {
        this.rows -= 1;
      }
    }
    if (arrived === null) return;
    for (const [table, rows] of arrived) {
      let waiting = this.streamed.get(table);
      if (waiting === undefined) this.streamed.set(table, (waiting = []));
      for (const row of rows.values()) waiting.push(row);
      this.streamed_rows += rows.size;
    }
  }

  /** The write-once rows that arrived since the last call, by table; the fold lets go of them. */
  takeStreamed(): ReadonlyMap<string, readonly Row[]> {
    const taken = this.streamed;
    this.streamed = new Map();
    this.streamed_rows = 0;
    return taken;
  }

  /** Lets go of every row (a rebuild that wrote them out and goes on from the database). */
  clear(): void {
    for (const rows of this.tables.values()) rows.clear();
    this.rows = 0;
    this.takeStreamed();
  }

  private specOf(table: string): TableSpec {
    const spec = this.specs.get(table);
    if (spec === undefined) throw new ProjectionHandlerError(`projection ${this.projection.name} has no table ${table}`);
    return spec;
  }
}

export function projectInMemory(projection: Projection, events: readonly RecordedEvent[]): MemoryTables {
  const fold = new MemoryFold(projection);
  for (const event of events) fold.apply(event);
  return fold.tables;
}
