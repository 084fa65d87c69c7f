import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changeCustomerDetails } from '../../commands/customer-commands.js';
import { PostgresEventStore } from '../../eventstore/postgres/postgres-event-store.js';
import { customersProjection } from '../../projections/read-models/customers.js';
import { Projector } from '../../projections/projector.js';
import { waitForProjections } from '../../projections/status.js';
import { admin, ManualClock, ok, runtimeOn } from '../support/demo-isp.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { lastWritten } from './last-written.js';
import { buildScenario, type Scenario } from './scenario.js';

/** The leader's lock connection dies (a failover, a killed backend): the projector opens a new one and goes on. */
let database: TestDatabase;
let projector: Projector;
let scenario: Scenario;

beforeAll(async () => {
  database = await createTestDatabase(10);
  const clock = new ManualClock(new Date('2026-11-16T06:00:00Z'));
  scenario = await buildScenario(runtimeOn(database.pool, clock), clock);
  projector = new Projector(database.pool, new PostgresEventStore(database.pool, { poll_interval_ms: 20 }), [customersProjection], {
    poll_interval_ms: 20,
    leader_retry_ms: 50,
    retry_after_failure_ms: 50,
  });
  projector.start();
  await waitForProjections(database.pool, ['customers'], await lastWritten(database.pool), { timeout_ms: 20_000 });
}, 60_000);

afterAll(async () => {
  await projector?.stop();
  await database?.close();
});

const leaderBackends = async (): Promise<number[]> =>
  (
    await database.pool.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE application_name = 'ispbills-projector-leader' AND datname = current_database()`,
    )
  ).rows.map((row) => row.pid);

describe('losing the leader connection', () => {
  it('takes the lock again on a new connection and keeps projecting', async () => {
    const [first] = await leaderBackends();
    expect(first).toBeDefined();
    await database.pool.query('SELECT pg_terminate_backend($1)', [first]);
    const runtime = runtimeOn(database.pool, new ManualClock(new Date('2026-11-20T06:00:00Z')));
    ok(await changeCustomerDetails(runtime, admin(scenario.tenant), { customer_id: scenario.pppoe, name: 'After The Failover', mobile: '+8801700000009', zone: 'Uttara' }));
    await waitForProjections(database.pool, ['customers'], await lastWritten(database.pool), { timeout_ms: 20_000 });
    const name = await database.pool.query<{ name: string }>('SELECT name FROM customers WHERE customer_id = $1', [scenario.pppoe]);
    expect(name.rows[0]!.name).toBe('After The Failover');
    const now = await leaderBackends();
    expect(now).toHaveLength(1);
    expect(now[0]).not.toBe(first);
    const locks = await database.pool.query(`SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = 7302 AND granted AND pid = $1`, [now[0]]);
    expect(locks.rowCount).toBe(1);
  });
});
