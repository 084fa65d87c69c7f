import { customerStatus } from '../domain/customers/customer.js';
import { evolveCustomer, initialCustomerState, openBills } from '../domain/customers/customer-evolve.js';
import type { CustomerEvent } from '../domain/customers/customer.js';
import { projectInMemory } from '../projections/in-memory.js';
import { projectionNamed } from '../projections/index.js';
import { CUSTOMER_TIMELINE, CUSTOMERS, customersProjection } from '../projections/read-models/customers.js';
import { OPERATORS, operatorsProjection, WALLET_ENTRIES } from '../projections/read-models/operators.js';
import { checkName, qualified, selectList } from '../projections/table-sql.js';
import { InvalidCut, readModelsAsOf, resolveCut, streamAsOf, type Cut } from '../projections/time-travel.js';
import type { Connected } from './system.js';

export type ReplayOptions = Readonly<{
  asOf: string;
  customer?: string;
  operator?: string;
  projection?: string;
  table?: string;
  where?: readonly string[];
  limit: string;
  timeZone?: string;
}>;

/**
 * `ispbills replay --as-of …`: rebuilds the past from the log for one customer, one operator, or a whole read
 * model. A customer or an operator is folded from its own stream with the same rules the projector runs, so it
 * answers in milliseconds; a read model is rebuilt up to the cut in a throwaway schema and dropped afterwards.
 */
export async function replay(connected: Connected, options: ReplayOptions): Promise<unknown> {
  const chosen = [options.customer, options.operator, options.projection].filter((value) => value !== undefined);
  if (chosen.length !== 1) throw new InvalidCut('say what to replay: exactly one of --customer <id>, --operator <id> or --projection <name>');
  const pool = connected.database.pool;
  const store = connected.store;
  const zoneOf = async (stream_id: string): Promise<string | undefined> => {
    const first = (await store.readStream(stream_id, { max_count: 1 }))[0];
    return (first?.data as { time_zone?: string } | undefined)?.time_zone;
  };

  if (options.customer !== undefined) {
    const stream_id = `customer-${options.customer}`;
    const cut = await resolveCut(pool, options.asOf, options.timeZone ?? (await zoneOf(stream_id)) ?? 'UTC');
    const events = await streamAsOf(store, stream_id, cut);
    if (events.length === 0) return { as_of: describeCut(cut), customer_id: options.customer, exists: false, note: 'the customer did not exist yet (or never did)' };
    let state = initialCustomerState();
    for (const event of events) state = evolveCustomer(state, { type: event.type, data: event.data } as unknown as CustomerEvent);
    const tables = projectInMemory(customersProjection, events);
    const timeline = [...tables.get(CUSTOMER_TIMELINE)!.values()].sort((a, b) => Number(a.global_position) - Number(b.global_position));
    return {
      as_of: describeCut(cut),
      events: events.length,
      customer: [...tables.get(CUSTOMERS)!.values()][0] ?? null,
      status: customerStatus(state),
      expires_at: state.expires_at,
      credit: state.credit,
      open_bills: openBills(state),
      payments: Object.values(state.payments).map((payment) => ({ payment_id: payment.payment_id, method: payment.method, amount: payment.amount, refunded: payment.refunded })),
      timeline: timeline.map((line) => ({ event: line.global_position, at: line.occurred_at, actor: line.actor, status: `${line.status_before ?? '-'} → ${line.status_after}`, summary: line.summary })),
    };
  }

  if (options.operator !== undefined) {
    const stream_id = `operator-${options.operator}`;
    const cut = await resolveCut(pool, options.asOf, options.timeZone ?? (await zoneOf(stream_id)) ?? 'UTC');
    const events = await streamAsOf(store, stream_id, cut);
    if (events.length === 0) return { as_of: describeCut(cut), operator_id: options.operator, exists: false, note: 'the operator did not exist yet (or never did)' };
    const tables = projectInMemory(operatorsProjection, events);
    const operator = [...tables.get(OPERATORS)!.values()][0] ?? null;
    const statement = [...tables.get(WALLET_ENTRIES)!.values()].sort((a, b) => Number(a.global_position) - Number(b.global_position));
    return {
      as_of: describeCut(cut),
      events: events.length,
      operator,
      wallet_balance: operator?.wallet_balance ?? null,
      wallet_statement: statement,
      note: 'commission statements span customer streams: replay --projection operators --table commission_lines --where operator_id=<id>',
    };
  }

  const projection = projectionNamed(options.projection!);
  const table = options.table ?? projection.tables[0]!.name;
  const spec = projection.tables.find((candidate) => candidate.name === table);
  if (spec === undefined) throw new InvalidCut(`projection ${projection.name} has no table ${table}; it has ${projection.tables.map((t) => t.name).join(', ')}`);
  const limit = Number(options.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) throw new InvalidCut('--limit must be a whole number from 1 to 100000');
  const filters = (options.where ?? []).map((condition) => {
    const match = /^([a-z_][a-z0-9_]*)=(.*)$/.exec(condition);
    if (match === null || !(match[1]! in spec.columns)) throw new InvalidCut(`--where ${condition}: write column=value with a column of ${table} (${Object.keys(spec.columns).join(', ')})`);
    return { column: checkName('column', match[1]!), value: match[2]! };
  });
  const cut = await resolveCut(pool, options.asOf, options.timeZone ?? 'UTC');
  const past = await readModelsAsOf(pool, store, [projection], cut, { on_progress: (applied) => process.stderr.write(`\rreplaying: ${applied} events`) });
  process.stderr.write('\n');
  try {
    const where = filters.length === 0 ? '' : `WHERE ${filters.map((filter, index) => `${filter.column}::text = $${index + 1}`).join(' AND ')}`;
    const rows = await pool.query(`SELECT ${selectList(spec)} FROM ${qualified(past.schemas.get(projection.name)!, table)} ${where} LIMIT ${limit}`, filters.map((filter) => filter.value));
    return { as_of: describeCut(cut), events: past.events_applied, projection: projection.name, table, rows: rows.rows };
  } finally {
    await past.drop();
  }
}

const describeCut = (cut: Cut): string => (cut.kind === 'position' ? `event ${cut.global_position}` : cut.recorded_at.toISOString());
