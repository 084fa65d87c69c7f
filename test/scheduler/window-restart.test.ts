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
 */
const BATCH_SIZE = 10;
const WINDOW = BATCH_SIZE * WINDOW_BATCHES_PER_WORKER;
const CUSTOMERS = WINDOW + 15;
let harness: Harness;
let isp: TestIsp;

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

    const report = await harness.newScheduler().runOnce();
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
});
