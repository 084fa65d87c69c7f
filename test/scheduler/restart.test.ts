import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instantAt } from '../../scheduler/settings.js';
import { DEFAULT_SAFETY_POLICY } from '../../domain/scheduler/safety-stop.js';
import { addCustomer, createIsp, pay, startHarness, type Harness, type TestIsp } from './harness.js';

/**
 * A scheduler dies in the middle of applying an expiry sweep (after three batches, and with the third batch's
 * commit made but not yet recorded in its items); a second instance — which could not run while the first held
 * the lock — takes over and finishes the run. Every customer is expired exactly once and told exactly once.
 */
const CUSTOMERS = 95;
let harness: Harness;
let isp: TestIsp;
const ids: string[] = [];

beforeAll(async () => {
  harness = await startHarness('2026-03-01T00:00:00Z', {
    batch_size: 10,
    concurrency: 1,
    // This test is about restarts: a sweep of every customer is expected here, not an anomaly.
    policy: { ...DEFAULT_SAFETY_POLICY, max_share_percent: 100 },
  });
  isp = await createIsp(harness.runtime, 'Asia/Dhaka', 'BDT', 'restart');
  harness.clock.set(instantAt('2026-03-01', '12:00', isp.time_zone));
  for (let i = 0; i < CUSTOMERS; i += 1) {
    const id = await addCustomer(harness.runtime, isp, `d${String(i).padStart(3, '0')}`, { kind: 'daily' });
    await pay(harness.runtime, isp, id, '150.00', isp.daily_package);
    ids.push(id);
  }
}, 300_000);

afterAll(async () => {
  await harness?.close();
});

const count = async (text: string, values: unknown[]): Promise<number> => Number((await harness.database.pool.query<{ n: string }>(text, values)).rows[0]!.n);

describe('a scheduler restarted in the middle of a run', () => {
  it('finishes the run on another instance without expiring or notifying anyone twice', async () => {
    // Validity bought at noon on 1 March for 7 days ends at the start of 9 March; the sweep runs at 00:30.
    harness.clock.set(instantAt('2026-03-09', '00:30', isp.time_zone));
    let batches = 0;
    const first = harness.newScheduler({
      after_batch: () => {
        batches += 1;
        if (batches === 3) throw new Error('simulated crash after the third batch');
      },
    });
    await expect(first.runOnce()).rejects.toThrow('simulated crash');
    const run_id = `${isp.tenant}.expiry-sweep.2026-03-09`;
    expect(await count(`SELECT count(*)::text AS n FROM events WHERE type = 'customer-expired' AND metadata->>'correlation_id' = $1`, [run_id])).toBe(30);
    // The crash came after the third batch's commit but, as far as its items know, before it: they read pending.
    await harness.database.pool.query(`UPDATE scheduler_run_items SET state = 'pending', code = NULL WHERE run_id = $1 AND seq BETWEEN 20 AND 29`, [run_id]);

    // While the first instance holds the lock (its process has not died yet), a second one stands by.
    const second = harness.newScheduler();
    expect(await second.runOnce()).toBeNull();
    await first.resign();
    const report = await second.runOnce();
    expect(report?.completed).toContain(run_id);

    const perCustomer = await harness.database.pool.query<{ stream_id: string; n: string }>(
      `SELECT stream_id, count(*)::text AS n FROM events WHERE type = 'customer-expired' AND stream_id LIKE $1 GROUP BY stream_id`,
      [`customer-${isp.tenant}-%`],
    );
    expect(perCustomer.rows).toHaveLength(CUSTOMERS);
    expect(perCustomer.rows.every((row) => row.n === '1')).toBe(true);
    expect(await count(`SELECT count(*)::text AS n FROM events WHERE type = 'scheduler-run-completed' AND stream_id = $1`, [`scheduler-run-${run_id}`])).toBe(1);
    const outcome = await harness.database.pool.query<{ data: { outcome: { expire: { applied: number; unchanged: number; refused: number } } } }>(
      `SELECT data FROM events WHERE type = 'scheduler-run-completed' AND stream_id = $1`,
      [`scheduler-run-${run_id}`],
    );
    expect(outcome.rows[0]!.data.outcome.expire).toEqual({ applied: CUSTOMERS, unchanged: 0, refused: 0 });

    // One "expired" SMS per customer, queued once and delivered once.
    expect(await count(`SELECT count(*)::text AS n FROM notification_outbox WHERE tenant = $1 AND kind = 'customer-expired'`, [isp.tenant])).toBe(CUSTOMERS);
    for (let pass = 0; pass < 5; pass += 1) await harness.dispatcher.runOnce();
    const texts = harness.sms.received.map((message) => message.to);
    expect(texts).toHaveLength(CUSTOMERS);
    expect(new Set(texts).size).toBe(CUSTOMERS);

    // Ticking on changes nothing.
    harness.clock.set(instantAt('2026-03-09', '01:30', isp.time_zone));
    await second.runOnce();
    expect(await count(`SELECT count(*)::text AS n FROM events WHERE type = 'customer-expired' AND stream_id LIKE $1`, [`customer-${isp.tenant}-%`])).toBe(CUSTOMERS);
  });
});
