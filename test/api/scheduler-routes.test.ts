import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planRun } from '../../commands/scheduler-commands.js';
import { runIdOf } from '../../domain/scheduler/scheduler-run.js';
import { upsertRunIndex } from '../../scheduler/run-store.js';
import { registerCustomer } from '../../commands/customer-commands.js';
import { admin, ok } from '../support/demo-isp.js';
import { as, startApiWorld, type ApiWorld } from './harness.js';
import { eventCount } from './targets.js';

/**
 * The scheduler steered over HTTP: a dry run that writes nothing, the run list, and a held run confirmed or
 * cancelled by the ISP's own staff only.
 */
let world: ApiWorld;

beforeAll(async () => {
  world = await startApiWorld();
}, 120_000);
afterAll(async () => world?.close());

const heldRun = async (tenant: string, local_date: string): Promise<string> => {
  const run_id = runIdOf(tenant, 'expiry-sweep', local_date);
  ok(
    await planRun(world.runtime, { tenant, actor: { id: 'scheduler', role: 'system' } }, {
      run_id,
      job: 'expiry-sweep',
      local_date,
      time_zone: 'Asia/Dhaka',
      previous_local_date: null,
      summary: { counts: { expire: 3 }, samples: { expire: ['cus-1'] }, amounts: {}, population: 4 },
      hold_reasons: [{ rule: 'share-of-customers', action: 'expire', count: 3, limit: 1, message: '3 of 4 customers would expire at once' }],
    }),
  );
  // As the scheduler does after planning: the run index the run list reads.
  await upsertRunIndex(world.database.pool, { run_id, tenant, job: 'expiry-sweep', local_date, status: 'held', counts: { expire: 3 } }, world.clock.now().toISOString(), world.clock.now());
  return run_id;
};

describe('scheduler routes', () => {
  it('previews every job for today in the ISP’s zone, and appends nothing', async () => {
    // A daily customer whose validity ends at local midnight: tomorrow's expiry sweep would expire them.
    ok(
      await registerCustomer(world.runtime, admin(world.a.tenant), {
        customer_id: 'cus-preview-1', operator_id: world.a.tenant, connection_type: 'pppoe', name: 'Preview Person', mobile: '+8801711000999', zone: 'Mirpur',
        username: 'preview-person', password: 'secret-1', mac: null, static_ip: null, package_id: world.a.package_id, profile: { kind: 'daily' }, special_price: null, self_registered: false,
      }),
    );
    await world.settle();
    const before = await eventCount(world);
    const response = await world.app.inject(as(world.sessions.admin!, { method: 'GET', url: '/api/v1/scheduler/plan' }));
    expect(response.statusCode).toBe(200);
    const { previews } = response.json<{ previews: { job: string; local_date: string; plan: { population: number }; recorded: unknown }[] }>();
    expect(previews.map((preview) => preview.job).sort()).toEqual(['bill-run', 'card-expiry', 'expiry-sweep', 'grace-locks', 'reminders']);
    // 06:00 UTC is 12:00 in Dhaka on the 16th.
    expect(new Set(previews.map((preview) => preview.local_date))).toEqual(new Set(['2026-11-16']));
    expect(previews.every((preview) => preview.recorded === null && preview.plan.population >= 1)).toBe(true);
    expect(await eventCount(world)).toBe(before);

    const one = await world.app.inject(as(world.sessions.admin!, { method: 'GET', url: '/api/v1/scheduler/plan?job=expiry-sweep&local_date=2026-12-20' }));
    expect(one.statusCode).toBe(200);
    expect(one.json<{ previews: { job: string; local_date: string }[] }>().previews).toEqual([expect.objectContaining({ job: 'expiry-sweep', local_date: '2026-12-20' })]);

    const bad = await world.app.inject(as(world.sessions.admin!, { method: 'GET', url: '/api/v1/scheduler/plan?job=sweep-everything' }));
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ error: { code: string } }>().error.code).toBe('INVALID_INPUT');
  });

  it('lets the ISP’s admin confirm a held run, once, and lists it', async () => {
    const run_id = await heldRun(world.a.tenant, '2026-11-17');
    const listed = await world.app.inject(as(world.sessions.admin!, { method: 'GET', url: '/api/v1/scheduler/runs?open=true' }));
    expect(listed.statusCode).toBe(200);
    expect(listed.json<{ runs: { run_id: string; status: string }[] }>().runs).toContainEqual(expect.objectContaining({ run_id, status: 'held' }));

    const before = await eventCount(world);
    const confirm = () => world.app.inject(as(world.sessions.admin!, { method: 'POST', url: `/api/v1/scheduler/runs/${encodeURIComponent(run_id)}/confirm`, payload: { note: 'checked: the import was right' } }));
    const first = await confirm();
    expect(first.statusCode).toBe(200);
    expect(first.json<{ result: { status: string } }>().result.status).toBe('confirmed');
    expect(await eventCount(world)).toBe(before + 1);
    const again = await confirm();
    expect(again.statusCode).toBe(200);
    expect(await eventCount(world)).toBe(before + 1);
  });

  it('refuses a reseller and another ISP’s run, and a cancellation without a reason, writing nothing', async () => {
    const own = await heldRun(world.a.tenant, '2026-11-18');
    const foreign = await heldRun(world.b.tenant, '2026-11-18');
    const before = await eventCount(world);

    const reseller = await world.app.inject(as(world.sessions.reseller!, { method: 'POST', url: `/api/v1/scheduler/runs/${encodeURIComponent(own)}/confirm`, payload: { note: 'mine now' } }));
    expect(reseller.statusCode).toBe(403);
    expect(reseller.json<{ error: { code: string } }>().error.code).toBe('NOT_PERMITTED');

    const other = await world.app.inject(as(world.sessions.admin!, { method: 'POST', url: `/api/v1/scheduler/runs/${encodeURIComponent(foreign)}/cancel`, payload: { reason: 'not ours' } }));
    expect(other.statusCode).toBe(404);
    expect(other.json<{ error: { code: string } }>().error.code).toBe('SCHEDULER_RUN_NOT_FOUND');

    const blank = await world.app.inject(as(world.sessions.admin!, { method: 'POST', url: `/api/v1/scheduler/runs/${encodeURIComponent(own)}/cancel`, payload: { reason: '' } }));
    expect(blank.statusCode).toBe(400);
    expect(await eventCount(world)).toBe(before);

    const cancelled = await world.app.inject(as(world.sessions.admin!, { method: 'POST', url: `/api/v1/scheduler/runs/${encodeURIComponent(own)}/cancel`, payload: { reason: 'a clock jump: nobody expired' } }));
    expect(cancelled.statusCode).toBe(200);
    expect(cancelled.json<{ result: { status: string } }>().result.status).toBe('cancelled');
    const late = await world.app.inject(as(world.sessions.admin!, { method: 'POST', url: `/api/v1/scheduler/runs/${encodeURIComponent(own)}/confirm`, payload: { note: 'too late' } }));
    expect(late.statusCode).toBe(422);
    expect(late.json<{ error: { code: string } }>().error.code).toBe('SCHEDULER_RUN_CANCELLED');
  });
});
