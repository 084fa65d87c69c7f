import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays } from '../../domain/calendar/local-date.js';
import { waitForProjections } from '../../projections/status.js';
import { lastCommitted } from '../../scheduler/scheduler.js';
import { cancelHeldRun, confirmHeldRun, previewJobs } from '../../scheduler/operations.js';
import type { Scheduler } from '../../scheduler/scheduler.js';
import { instantAt } from '../../scheduler/settings.js';
import { admin } from '../support/demo-isp.js';
import { addCustomer, createIsp, pay, startHarness, type Harness, type TestIsp } from './harness.js';

/**
 * The safety stop. The ISP has 40 daily customers on weekly validity and runs normally for three days; then the
 * clock jumps 17 days ahead (an NTP fault, a restored VM). The sweep would expire every customer at once, after
 * a long silence: it is held, nothing of it is applied however often the scheduler ticks, until an operator
 * confirms it. A held run that is cancelled is never applied.
 */
const CUSTOMERS = 40;
let harness: Harness;
let scheduler: Scheduler;
let isp: TestIsp;

beforeAll(async () => {
  harness = await startHarness('2026-03-01T00:00:00Z');
  isp = await createIsp(harness.runtime, 'Asia/Dhaka', 'BDT', 'safety');
  scheduler = harness.newScheduler();
  harness.clock.set(instantAt('2026-03-01', '12:00', isp.time_zone));
  for (let i = 0; i < CUSTOMERS; i += 1) {
    const id = await addCustomer(harness.runtime, isp, `s${i}`, { kind: 'daily' });
    await pay(harness.runtime, isp, id, '150.00', isp.daily_package);
  }
  for (let day = '2026-03-02'; day <= '2026-03-04'; day = addDays(day, 1)) {
    harness.clock.set(instantAt(day, '10:00', isp.time_zone));
    await scheduler.runOnce();
  }
}, 300_000);

afterAll(async () => {
  await harness?.close();
});

const rows = async <Row>(text: string, values: unknown[] = []): Promise<Row[]> => (await harness.database.pool.query(text, values)).rows as Row[];
const expiredCount = async (): Promise<number> =>
  Number((await rows<{ n: string }>(`SELECT count(*)::text AS n FROM events WHERE type = 'customer-expired' AND stream_id LIKE $1`, [`customer-${isp.tenant}-%`]))[0]!.n);
const runStatus = async (run_id: string): Promise<string | undefined> => (await rows<{ status: string }>(`SELECT status FROM scheduler_runs WHERE run_id = $1`, [run_id]))[0]?.status;

describe('the safety stop', () => {
  const sweep = () => `${isp.tenant}.expiry-sweep.2026-03-21`;
  const bills = () => `${isp.tenant}.bill-run.2026-03-21`;

  it('ran the normal days without holding anything', async () => {
    const held = await rows(`SELECT run_id FROM scheduler_runs WHERE tenant = $1 AND status <> 'completed'`, [isp.tenant]);
    expect(held).toEqual([]);
  });

  it('holds an abnormal plan, says why, and applies nothing of it while it is held', async () => {
    harness.clock.set(instantAt('2026-03-21', '00:30', isp.time_zone));
    // The preview (what the API and the panel show) already says the run would be held.
    const previews = await previewJobs({ pool: harness.database.pool, runtime: harness.runtime, settings: harness.settings }, { tenant: isp.tenant, job: 'expiry-sweep' });
    if ('code' in previews) throw new Error(previews.message);
    expect(previews[0]!.plan.counts).toEqual({ expire: CUSTOMERS });
    expect(previews[0]!.would_hold.map((reason) => reason.rule).sort()).toEqual(['gap-since-last-run', 'share-of-customers']);
    expect(previews[0]!.recorded).toBeNull();

    const report = await scheduler.runOnce();
    expect(report?.held).toContain(sweep());
    expect(await runStatus(sweep())).toBe('held');
    const events = await rows<{ type: string; data: { reasons?: { rule: string; action: string | null; count: number; limit: number }[] } }>(
      `SELECT type, data FROM events WHERE stream_id = $1 ORDER BY stream_revision`,
      [`scheduler-run-${sweep()}`],
    );
    expect(events.map((event) => event.type)).toEqual(['scheduler-run-planned', 'scheduler-run-held']);
    expect(events[1]!.data.reasons).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ rule: 'share-of-customers', action: 'expire', count: CUSTOMERS, limit: 8 }),
        expect.objectContaining({ rule: 'gap-since-last-run', action: null, count: 17, limit: 3 }),
      ]),
    );
    // Ticking on, hours later, still applies nothing.
    for (const time of ['01:30', '09:30', '15:00']) {
      harness.clock.set(instantAt('2026-03-21', time, isp.time_zone));
      await scheduler.runOnce();
    }
    expect(await expiredCount()).toBe(0);
    await waitForProjections(harness.database.pool, ['customers'], await lastCommitted(harness.database.pool), { timeout_ms: 10_000 });
    const statuses = await rows<{ status: string; n: string }>(`SELECT status, count(*)::text AS n FROM customers WHERE tenant = $1 GROUP BY status`, [isp.tenant]);
    expect(statuses).toEqual([{ status: 'active', n: String(CUSTOMERS) }]);
    expect(await rows(`SELECT id FROM notification_outbox WHERE tenant = $1 AND kind = 'customer-expired'`, [isp.tenant])).toEqual([]);
  });

  it('refuses to cancel without a reason and to confirm a run of another ISP, changing nothing', async () => {
    const noReason = await cancelHeldRun(harness.database.pool, harness.runtime, admin(isp.tenant), { run_id: sweep(), reason: '  ' });
    expect(noReason.ok ? null : noReason.rejection.code).toBe('INVALID_INPUT');
    const foreign = await confirmHeldRun(harness.database.pool, harness.runtime, admin('some-other-isp'), { run_id: sweep(), note: '' });
    expect(foreign.ok ? null : foreign.rejection.code).toBe('SCHEDULER_RUN_NOT_FOUND');
    expect(await runStatus(sweep())).toBe('held');
  });

  it('applies a held run once an operator confirms it, recording who', async () => {
    const confirmed = await confirmHeldRun(harness.database.pool, harness.runtime, { tenant: isp.tenant, actor: { id: 'ops-manager', role: 'admin' } }, { run_id: sweep(), note: 'the clock was right: we were down for maintenance' });
    expect(confirmed.ok && confirmed.value.status).toBe('confirmed');
    expect(await expiredCount()).toBe(0);
    harness.clock.set(instantAt('2026-03-21', '16:00', isp.time_zone));
    const report = await scheduler.runOnce();
    expect(report?.completed).toContain(sweep());
    expect(await expiredCount()).toBe(CUSTOMERS);
    const events = await rows<{ type: string; data: { by?: string } }>(`SELECT type, data FROM events WHERE stream_id = $1 ORDER BY stream_revision`, [`scheduler-run-${sweep()}`]);
    expect(events.map((event) => event.type)).toEqual(['scheduler-run-planned', 'scheduler-run-held', 'scheduler-run-confirmed', 'scheduler-run-completed']);
    expect(events[2]!.data.by).toBe('ops-manager');
  });

  it('never applies a cancelled run, and a cancelled run cannot be confirmed', async () => {
    // The bill run of that day was held by the gap too (with nothing to bill); an operator cancels it.
    expect(await runStatus(bills())).toBe('held');
    const cancelled = await cancelHeldRun(harness.database.pool, harness.runtime, { tenant: isp.tenant, actor: { id: 'ops-manager', role: 'admin' } }, { run_id: bills(), reason: 'nothing to bill' });
    expect(cancelled.ok && cancelled.value.status).toBe('cancelled');
    harness.clock.set(instantAt('2026-03-21', '17:00', isp.time_zone));
    await scheduler.runOnce();
    expect(await runStatus(bills())).toBe('cancelled');
    const again = await confirmHeldRun(harness.database.pool, harness.runtime, admin(isp.tenant), { run_id: bills(), note: '' });
    expect(again.ok ? null : again.rejection.code).toBe('SCHEDULER_RUN_CANCELLED');
    const types = await rows<{ type: string }>(`SELECT type FROM events WHERE stream_id = $1 ORDER BY stream_revision`, [`scheduler-run-${bills()}`]);
    expect(types.map((row) => row.type)).toEqual(['scheduler-run-planned', 'scheduler-run-held', 'scheduler-run-cancelled']);
  });
});
