import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WINDOW_BATCHES_PER_WORKER } from '../../scheduler/apply.js';
import { instantAt } from '../../scheduler/settings.js';
import { DEFAULT_SAFETY_POLICY } from '../../domain/scheduler/safety-stop.js';
import { addCustomer, createIsp, pay, startHarness, type Harness, type TestIsp } from './harness.js';

/**
 * The scheduler settles a window of batches (their items' states and the notices they queue) in one transaction
 * after the window's appends. A crash in the second window, after one of its batches committed: the first window
 * is settled and its customers told; the second window's items are all still pending and nobody in it has been
 * told, though some of them were expired. Another instance finishes the run: the committed batch replays by its
 * idempotency key (its customers are told now, from their streams), the rest is applied, and every customer is
 * expired once and told once.
 *
 * And the plan is only a list of whom to look at: a customer who recharges after the plan was made, while the run
 * is being applied, is decided again on its stream and not expired (its item is refused), nor told.
 */
const BATCH_SIZE = 10;
const WINDOW = BATCH_SIZE * WINDOW_BATCHES_PER_WORKER;
const CUSTOMERS = WINDOW + 15;
/** A second ISP whose customers' validity ends two days later: some of them recharge while the sweep runs. */
const LATE_CUSTOMERS = 25;
let harness: Harness;
let isp: TestIsp;
let late: TestIsp;
const lateIds: string[] = [];

beforeAll(async () => {
  harness = await startHarness('2026-05-01T00:00:00Z', {
    batch_size: BATCH_SIZE,
    concurrency: 1,
    jobs: ['expiry-sweep'],
    policy: { ...DEFAULT_SAFETY_POLICY, max_share_percent: 100 },
  });
  isp = await createIsp(harness.runtime, 'Asia/Dhaka', 'BDT', 'window');
  harness.clock.set(instantAt('2026-05-01', '12:00', isp.time_zone));
  for (let i = 0; i < CUSTOMERS; i += 1) {
    const id = await addCustomer(harness.runtime, isp, `w${String(i).padStart(3, '0')}`, { kind: 'daily' });
    await pay(harness.runtime, isp, id, '150.00', isp.daily_package);
  }
  late = await createIsp(harness.runtime, 'Asia/Dhaka', 'BDT', 'late');
  harness.clock.set(instantAt('2026-05-03', '12:00', late.time_zone));
  for (let i = 0; i < LATE_CUSTOMERS; i += 1) {
    const id = await addCustomer(harness.runtime, late, `l${String(i).padStart(3, '0')}`, { kind: 'daily' });
    await pay(harness.runtime, late, id, '150.00', late.daily_package);
    lateIds.push(id);
  }
}, 300_000);

afterAll(async () => {
  await harness?.close();
});

const count = async (text: string, values: unknown[]): Promise<number> => Number((await harness.database.pool.query<{ n: string }>(text, values)).rows[0]!.n);

describe('a scheduler that dies between two windows of a run', () => {
  it('keeps the settled window, replays the unsettled one, and expires and tells each customer once', async () => {
    harness.clock.set(instantAt('2026-05-09', '00:30', isp.time_zone));
    const run_id = `${isp.tenant}.expiry-sweep.2026-05-09`;
    const expired = (): Promise<number> => count(`SELECT count(*)::text AS n FROM events WHERE type = 'customer-expired' AND metadata->>'correlation_id' = $1`, [run_id]);
    const told = (): Promise<number> => count(`SELECT count(*)::text AS n FROM notification_outbox WHERE tenant = $1 AND kind = 'customer-expired'`, [isp.tenant]);
    const items = (state: string): Promise<number> => count(`SELECT count(*)::text AS n FROM scheduler_run_items WHERE run_id = $1 AND state = $2`, [run_id, state]);

    let batches = 0;
    const first = harness.newScheduler({
      after_batch: () => {
        batches += 1;
        // The first batch of the second window has committed; the crash comes before the window is settled.
        if (batches === WINDOW_BATCHES_PER_WORKER + 1) throw new Error('simulated crash in the second window');
      },
    });
    await expect(first.runOnce()).rejects.toThrow('simulated crash');
    expect(await expired()).toBe(WINDOW + BATCH_SIZE);
    expect(await items('applied')).toBe(WINDOW);
    expect(await items('pending')).toBe(CUSTOMERS - WINDOW);
    expect(await told()).toBe(WINDOW);
    await first.resign();

    const second = harness.newScheduler();
    const report = await second.runOnce();
    await second.resign();
    expect(report?.completed).toContain(run_id);
    expect(await expired()).toBe(CUSTOMERS);
    const perCustomer = await harness.database.pool.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM events WHERE type = 'customer-expired' AND stream_id LIKE $1 GROUP BY stream_id`,
      [`customer-${isp.tenant}-%`],
    );
    expect(perCustomer.rows).toHaveLength(CUSTOMERS);
    expect(perCustomer.rows.every((row) => row.n === '1')).toBe(true);
    expect(await items('applied')).toBe(CUSTOMERS);
    expect(await told()).toBe(CUSTOMERS);
    expect(await count(`SELECT count(DISTINCT customer_id)::text AS n FROM notification_outbox WHERE tenant = $1 AND kind = 'customer-expired'`, [isp.tenant])).toBe(CUSTOMERS);
  });

  it('does not expire a customer who recharged after the plan was made, and tells only those it expired', async () => {
    harness.clock.set(instantAt('2026-05-11', '00:30', late.time_zone));
    const run_id = `${late.tenant}.expiry-sweep.2026-05-11`;
    // Two customers in later batches recharge while the first batch is being applied, after the plan listed them.
    const recharged = [lateIds[BATCH_SIZE + 2]!, lateIds[2 * BATCH_SIZE + 2]!];
    let paid = false;
    const scheduler = harness.newScheduler({
      after_batch: async (run) => {
        if (run !== run_id || paid) return;
        paid = true;
        for (const id of recharged) await pay(harness.runtime, late, id, '150.00', late.daily_package);
      },
    });
    const report = await scheduler.runOnce();
    expect(report?.completed).toContain(run_id);
    const expired = await harness.database.pool.query<{ stream_id: string }>(`SELECT stream_id FROM events WHERE type = 'customer-expired' AND metadata->>'correlation_id' = $1`, [run_id]);
    expect(expired.rows).toHaveLength(LATE_CUSTOMERS - recharged.length);
    expect(expired.rows.map((row) => row.stream_id)).not.toContain(`customer-${recharged[0]}`);
    const refused = await harness.database.pool.query<{ subject_id: string; code: string }>(`SELECT subject_id, code FROM scheduler_run_items WHERE run_id = $1 AND state = 'refused' ORDER BY seq`, [run_id]);
    expect(refused.rows).toEqual(recharged.map((id) => ({ subject_id: id, code: 'CUSTOMER_NOT_EXPIRED' })));
    const told = await harness.database.pool.query<{ customer_id: string }>(`SELECT customer_id FROM notification_outbox WHERE tenant = $1 AND kind = 'customer-expired'`, [late.tenant]);
    expect(told.rows).toHaveLength(LATE_CUSTOMERS - recharged.length);
    expect(told.rows.map((row) => row.customer_id)).not.toContain(recharged[1]);
    await scheduler.resign();
  });
});
