import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replay } from '../../cli/replay.js';
import type { Connected } from '../../cli/system.js';
import { PostgresEventStore } from '../../eventstore/postgres/postgres-event-store.js';
import { customersProjection } from '../../projections/read-models/customers.js';
import { readModelsAsOf, resolveCut } from '../../projections/time-travel.js';
import { ManualClock, runtimeOn } from '../support/demo-isp.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { buildScenario, type Scenario } from './scenario.js';

/** Disputes: what the system knew at a past moment, rebuilt from the log without touching it. */
let database: TestDatabase;
let scenario: Scenario;
let connected: Connected;
let suspended_at: bigint;

beforeAll(async () => {
  database = await createTestDatabase(10);
  const clock = new ManualClock(new Date('2026-11-16T06:00:00Z'));
  scenario = await buildScenario(runtimeOn(database.pool, clock), clock);
  const store = new PostgresEventStore(database.pool);
  connected = { database, store, logger: undefined as never, close: async () => undefined };
  const suspension = await database.pool.query<{ global_position: string }>(
    `SELECT global_position FROM events WHERE stream_id = $1 AND type = 'customer-suspended'`,
    [`customer-${scenario.suspended}`],
  );
  suspended_at = BigInt(suspension.rows[0]!.global_position);
}, 60_000);

afterAll(async () => database?.close());

const eventCount = async (): Promise<number> => Number((await database.pool.query<{ n: string }>('SELECT count(*) AS n FROM events')).rows[0]!.n);

describe('replay --as-of', () => {
  it('shows a customer as it was just before and just after its suspension', async () => {
    const before = (await replay(connected, { asOf: `position:${suspended_at - 1n}`, customer: scenario.suspended, limit: '100' })) as { status: string; timeline: unknown[] };
    const after = (await replay(connected, { asOf: `position:${suspended_at}`, customer: scenario.suspended, limit: '100' })) as { status: string; timeline: { summary: string }[] };
    expect(before.status).toBe('active');
    expect(after.status).toBe('suspended');
    expect(after.timeline.length).toBe(before.timeline.length + 1);
    expect(after.timeline.at(-1)!.summary).toContain('router theft report');
  });

  it("shows a reseller's wallet as of a past event", async () => {
    const events = await database.pool.query<{ global_position: string }>(
      `SELECT global_position FROM events WHERE stream_id = $1 AND type = 'wallet-topped-up'`,
      [`operator-${scenario.sub_reseller}`],
    );
    const topped_up = events.rows[0]!.global_position;
    const then = (await replay(connected, { asOf: `position:${topped_up}`, operator: scenario.sub_reseller, limit: '100' })) as { wallet_balance: string };
    const now = (await replay(connected, { asOf: '2099-01-01T00:00:00Z', operator: scenario.sub_reseller, limit: '100' })) as { wallet_balance: string };
    const live = await database.pool.query<{ balance: string }>(
      `SELECT e.data->>'amount' AS balance FROM events e WHERE e.stream_id = $1 AND e.type = 'wallet-topped-up'`,
      [`operator-${scenario.sub_reseller}`],
    );
    expect(then.wallet_balance).toBe(live.rows[0]!.balance);
    expect(now.wallet_balance).not.toBe(then.wallet_balance);
  });

  it('rebuilds a whole read model as of an instant, and leaves the log and the live tables alone', async () => {
    const events_before = await eventCount();
    const cut = await resolveCut(database.pool, `position:${suspended_at - 1n}`);
    const past = await readModelsAsOf(database.pool, new PostgresEventStore(database.pool), [customersProjection], cut);
    try {
      const schema = past.schemas.get('customers')!;
      const status = await database.pool.query<{ status: string }>(`SELECT status FROM ${schema}.customers WHERE customer_id = $1`, [scenario.suspended]);
      expect(status.rows[0]!.status).toBe('active');
      const later = await database.pool.query(`SELECT 1 FROM ${schema}.customers WHERE customer_id = $1`, [scenario.disabled]);
      expect(later.rowCount).toBe(0);
    } finally {
      await past.drop();
    }
    expect(await eventCount()).toBe(events_before);
    const leftovers = await database.pool.query(`SELECT 1 FROM information_schema.schemata WHERE schema_name LIKE 'asof_%'`);
    expect(leftovers.rowCount).toBe(0);
  });

  it('refuses a moment it cannot read, with a code and what to write instead', async () => {
    await expect(replay(connected, { asOf: 'last tuesday', customer: scenario.pppoe, limit: '1' })).rejects.toMatchObject({ code: 'INVALID_AS_OF' });
    await expect(replay(connected, { asOf: 'position:999999999', customer: scenario.pppoe, limit: '1' })).rejects.toMatchObject({ code: 'INVALID_AS_OF' });
    await expect(replay(connected, { asOf: '2026-11-20', limit: '1' })).rejects.toMatchObject({ code: 'INVALID_AS_OF' });
  });

  it('reads a bare date as the end of that day in the ISP time zone', async () => {
    const cut = await resolveCut(database.pool, '2026-11-20', 'Asia/Dhaka');
    expect(cut).toEqual({ kind: 'time', recorded_at: new Date('2026-11-20T17:59:59.999Z') });
  });
});
