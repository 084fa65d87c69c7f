import type { RecordedEvent } from '../eventstore/event-store.js';
import { addAmounts, checkRow, zeroCounterRow } from './apply-batch.js';
import { keyString, ProjectionHandlerError, type Projection, type Row, type RowKey, type TableSpec } from './projection.js';

/**
 * A projection's pure handler run over events with its rows held in memory: one customer's or one operator's
 * stream as of a past position (time travel), or the whole log when a rebuild folds it before writing each row
 * once. The rules are the same code the projector runs; only where the rows live differs, and the same misuse
 * (a row missing a column, a counter read or overwritten) fails here as it fails there.
 */
export type MemoryTables = ReadonlyMap<string, ReadonlyMap<string, Row>>;

export class MemoryFold {
  readonly tables = new Map<string, Map<string, Row>>();
  private readonly specs = new Map<string, TableSpec>();
  /** Rows held, all tables together: what a rebuild's memory budget is counted in. */
  rows = 0;
  private readonly reader = {
    get: (table: string, key: RowKey): Row | undefined => {
      const spec = this.specOf(table);
      if (spec.counter === true) throw new ProjectionHandlerError(`projection ${this.projection.name} read counter table ${table}; counters are write-only`);
      return this.tables.get(table)!.get(keyString(spec, key));
    },
  };

  constructor(readonly projection: Projection) {
    for (const spec of projection.tables) {
      this.specs.set(spec.name, spec);
      this.tables.set(spec.name, new Map());
    }
  }

  apply(event: RecordedEvent): void {
    for (const change of this.projection.handle(event, this.reader)) {
      const spec = this.specOf(change.table);
      const rows = this.tables.get(change.table)!;
      if (change.op === 'add') {
        const id = keyString(spec, change.key);
        let row = rows.get(id) as Record<string, unknown> | undefined;
        if (row === undefined) {
          rows.set(id, (row = zeroCounterRow(spec, change.key)) as Row);
          this.rows += 1;
        }
        addAmounts(spec, row, change.amounts);
        continue;
      }
      if (spec.counter === true) throw new ProjectionHandlerError(`projection ${this.projection.name}: counter table ${spec.name} only takes add`);
      if (change.op === 'put') {
        checkRow(spec, change.row);
        const id = keyString(spec, change.row);
        if (!rows.has(id)) this.rows += 1;
        rows.set(id, change.row);
      } else if (rows.delete(keyString(spec, change.key))) {
        this.rows -= 1;
      }
    }
  }

  /** Lets go of every row (a rebuild that wrote them out and goes on from the database). */
  clear(): void {
    for (const rows of this.tables.values()) rows.clear();
    this.rows = 0;
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
