import type { RecordedEvent } from '../eventstore/event-store.js';
import { addAmounts, zeroCounterRow } from './apply-batch.js';
import { keyString, ProjectionHandlerError, type Projection, type Row, type RowKey, type TableSpec } from './projection.js';

/**
 * Runs a projection's pure handler over a few events in memory: one customer's or one operator's stream, as of
 * a past position, without building the whole read model. The rules are the same code the projector runs; only
 * where the rows live differs.
 */
export type MemoryTables = ReadonlyMap<string, ReadonlyMap<string, Row>>;

export function projectInMemory(projection: Projection, events: readonly RecordedEvent[]): MemoryTables {
  const specs = new Map<string, TableSpec>(projection.tables.map((spec) => [spec.name, spec]));
  const tables = new Map<string, Map<string, Row>>(projection.tables.map((spec) => [spec.name, new Map()]));
  const specOf = (table: string): TableSpec => {
    const spec = specs.get(table);
    if (spec === undefined) throw new ProjectionHandlerError(`projection ${projection.name} has no table ${table}`);
    return spec;
  };
  const reader = {
    get: (table: string, key: RowKey): Row | undefined => tables.get(table)!.get(keyString(specOf(table), key)),
  };
  for (const event of events) {
    for (const change of projection.handle(event, reader)) {
      const spec = specOf(change.table);
      const rows = tables.get(change.table)!;
      if (change.op === 'put') rows.set(keyString(spec, change.row), change.row);
      else if (change.op === 'delete') rows.delete(keyString(spec, change.key));
      else {
        const id = keyString(spec, change.key);
        const row: Record<string, unknown> = { ...(rows.get(id) ?? zeroCounterRow(spec, change.key)) };
        addAmounts(spec, row, change.amounts);
        rows.set(id, row as Row);
      }
    }
  }
  return tables;
}
