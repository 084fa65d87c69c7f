import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresEventStore } from '../../eventstore/postgres/postgres-event-store.js';
import { ALL_PROJECTIONS } from '../../projections/index.js';
import { Projector } from '../../projections/projector.js';
import { ProjectionWaitTimeout, projectionStatus, waitForProjections } from '../../projections/status.js';
import { changeCustomerDetails } from '../../commands/customer-commands.js';
import { admin, ManualClock, runtimeOn } from '../support/demo-isp.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { buildScenario, type Scenario } from './scenario.js';
import { lastWritten } from './last-written.js';

let database: TestDatabase;
let projector: Projector;
let scenario: Scenario;

beforeAll(async () => {
  database = await createTestDatabase(20);
  const clock = new ManualClock(new Date('2026-11-16T06:00:00Z'));
  scenario = await buildScenario(runtimeOn(database.pool, clock), clock);
  const store = new PostgresEventStore(database.pool, { poll_interval_ms: 20 });
  projector = new Projector(database.pool, store, ALL_PROJECTIONS, { poll_interval_ms: 20, retry_after_failure_ms: 200, logger: pino({ level: 'warn' }) });
  projector.start();
  await waitForProjections(
    database.pool,
    ALL_PROJECTIONS.map((projection) => projection.name),
    await lastWritten(database.pool),
    { timeout_ms: 30_000 },
  );
}, 60_000);

afterAll(async () => {
  await projector?.stop();
  await database?.close();
});

const rows = async <Row = Record<string, unknown>>(text: string, values: unknown[] = []): Promise<Row[]> => (await database.pool.query(text, values)).rows as Row[];

describe('read models built from the scenario', () => {
  it('shows every customer with the status its events imply', async () => {
    const found = await rows<{ customer_id: string; status: string }>('SELECT customer_id, status FROM customers WHERE tenant = $1 ORDER BY customer_id', [scenario.tenant]);
    const status = Object.fromEntries(found.map((row) => [row.customer_id, row.status]));
    expect(status[scenario.pppoe]).toBe('active');
    expect(status[scenario.suspended]).toBe('suspended');
    expect(status[scenario.expired]).toBe('expired');
    expect(status[scenario.disabled]).toBe('disabled');
    const [owned] = await rows<{ chain: string[]; operator_id: string }>('SELECT chain, operator_id FROM customers WHERE customer_id = $1', [scenario.pppoe]);
    expect(owned).toEqual({ chain: [scenario.tenant, scenario.reseller, scenario.sub_reseller], operator_id: scenario.sub_reseller });
    const counts = await rows<{ status: string; customers: number }>('SELECT status, sum(customers)::int AS customers FROM customer_counts WHERE tenant = $1 GROUP BY status ORDER BY status', [scenario.tenant]);
    expect(Object.fromEntries(counts.map((row) => [row.status, row.customers]))).toEqual({ active: 4, disabled: 1, expired: 1, suspended: 1 });
  });

  it('explains a suspension in the timeline: who, why and when', async () => {
    const timeline = await rows<{ type: string; status_before: string; status_after: string; summary: string; actor: string }>(
      'SELECT type, status_before, status_after, summary, actor FROM customer_timeline WHERE customer_id = $1 ORDER BY global_position',
      [scenario.suspended],
    );
    expect(timeline.map((line) => line.type)).toEqual(['customer-registered', 'payment-received', 'customer-recharged', 'customer-reactivated', 'customer-suspended']);
    expect(timeline[0]).toMatchObject({ status_before: null, status_after: 'expired' });
    expect(timeline[3]).toMatchObject({ status_before: 'expired', status_after: 'active' });
    const last = timeline[timeline.length - 1]!;
    expect(last).toMatchObject({ status_before: 'active', status_after: 'suspended', actor: `admin:${scenario.tenant}-admin` });
    expect(last.summary).toContain('router theft report');
  });

  it('keeps wallet balances equal to what the operator streams fold to', async () => {
    const operators = await rows<{ operator_id: string; wallet_balance: string }>('SELECT operator_id, wallet_balance FROM operators WHERE tenant = $1', [scenario.tenant]);
    const entries = await rows<{ operator_id: string; total: string; last: string }>(
      `SELECT operator_id, sum(amount)::text AS total,
              (array_agg(balance_after ORDER BY global_position DESC))[1]::text AS last
         FROM wallet_entries WHERE tenant = $1 GROUP BY operator_id`,
      [scenario.tenant],
    );
    for (const entry of entries) {
      const operator = operators.find((row) => row.operator_id === entry.operator_id)!;
      expect(Number(operator.wallet_balance)).toBe(Number(entry.total));
      expect(operator.wallet_balance).toBe(entry.last);
    }
    expect(entries.length).toBeGreaterThanOrEqual(2);
  });

  it('lists the refund against its payment and claws back all commission', async () => {
    const [payment] = await rows<{ amount: string; refunded: string }>('SELECT amount::text, refunded::text FROM payments WHERE payment_id = $1', [scenario.refunded_payment]);
    expect(payment).toEqual({ amount: '500.00', refunded: '500.00' });
    const [net] = await rows<{ net: string }>('SELECT sum(amount)::text AS net FROM commission_lines WHERE payment_id = $1', [scenario.refunded_payment]);
    expect(Number(net!.net)).toBe(0);
  });

  it('marks the redeemed card with its customer and payment', async () => {
    const cards = await rows<{ serial: string; status: string; redeemed_by_customer_id: string | null }>(
      'SELECT serial, status, redeemed_by_customer_id FROM recharge_cards WHERE batch_id = $1 ORDER BY serial',
      [scenario.card_batch],
    );
    expect(cards.map((card) => card.status).sort()).toEqual(['assigned', 'assigned', 'redeemed']);
    expect(cards.find((card) => card.serial === scenario.card_serial)?.redeemed_by_customer_id).toBe(scenario.pppoe);
  });

  it('sums revenue per day in the ISP time zone', async () => {
    const [total] = await rows<{ received: string; refunded: string }>('SELECT sum(received)::text AS received, sum(refunded)::text AS refunded FROM revenue_daily WHERE tenant = $1', [scenario.tenant]);
    const [paid] = await rows<{ total: string }>('SELECT sum(amount)::text AS total FROM payments WHERE tenant = $1', [scenario.tenant]);
    expect(total!.received).toBe(paid!.total);
    expect(total!.refunded).toBe('500.00');
  });

  it("returns the command's position, and a query that waits for it sees the command's effect", async () => {
    const result = await changeCustomerDetails(runtimeOn(database.pool, new ManualClock(new Date('2026-12-10T06:00:00Z'))), admin(scenario.tenant), {
      customer_id: scenario.monthly,
      name: 'Renamed Customer',
      mobile: '+8801999000111',
      zone: 'Uttara',
    });
    if (!result.ok || result.position === null) throw new Error('the command should have appended');
    await waitForProjections(database.pool, ['customers'], result.position, { timeout_ms: 5_000 });
    const [row] = await rows<{ name: string; zone: string }>('SELECT name, zone FROM customers WHERE customer_id = $1', [scenario.monthly]);
    expect(row).toEqual({ name: 'Renamed Customer', zone: 'Uttara' });
  });

  it('gives up waiting after the bound with a clear, coded error', async () => {
    const beyond = { commit: (await lastWritten(database.pool)).commit + 1_000_000n, prepare: 1n };
    const waited = waitForProjections(database.pool, ['customers'], beyond, { timeout_ms: 150 });
    await expect(waited).rejects.toBeInstanceOf(ProjectionWaitTimeout);
    await expect(waited).rejects.toMatchObject({ code: 'PROJECTION_WAIT_TIMEOUT', projection: 'customers' });
  });

  it('reports every projection live, caught up, without a failed event', async () => {
    const status = await projectionStatus(database.pool);
    expect(status.map((s) => s.name).sort()).toEqual(ALL_PROJECTIONS.map((p) => p.name).sort());
    for (const s of status) expect(s).toMatchObject({ state: 'live', lag_events: 0, failed_event: null });
  });
});
