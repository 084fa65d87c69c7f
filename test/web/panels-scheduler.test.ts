import type { Page } from 'playwright-core';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogin } from '../../api/access/logins.js';
import type { CommandEnvelope } from '../../commands/command-runtime.js';
import { createPackage, registerCustomer } from '../../commands/customer-commands.js';
import { addStaff } from '../../commands/operator-commands.js';
import { receivePayment } from '../../commands/payment-commands.js';
import { localDateOf } from '../../domain/calendar/local-date.js';
import { runIdOf } from '../../domain/scheduler/scheduler-run.js';
import { Scheduler } from '../../scheduler/scheduler.js';
import { DEFAULT_SCHEDULER_SETTINGS } from '../../scheduler/settings.js';
import { ok } from '../support/demo-isp.js';
import { launchBrowser, type Browser } from '../support/browser.js';
import { fieldError, flash, logIn, mainText, shoot, submit, submitConfirmed } from './panels-steps.js';
import { ISP, OTHER_ISP, PASSWORD, startPanelWorld, type PanelWorld, type Role } from './panels-world.js';

/**
 * The scheduler page (issue 11) in Chromium. Each ISP gets twenty daily customers whose one-day validity ended two
 * days ago, so today's expiry sweep would cut off more than a fifth of its customers: the page's dry run says so,
 * names them and says the safety stop would hold it; a real scheduler (the scheduler role's own code, default
 * policy) then plans the run and holds it. Dhaka Fiber Net's admin cancels its run through the page and nothing
 * is ever applied; Chattogram Net's admin confirms its own, nothing is applied until the scheduler's next tick,
 * and then the customers are expired. Neither ISP sees the other's run; a reseller gets no menu item and a
 * "not allowed" page; a manager of the ISP with `bills.run` gets both.
 */
let world: PanelWorld;
let scheduler: Scheduler;
const people: Browser[] = [];

const SWEPT = 20;
const sweptNames = (tenant: string) => Array.from({ length: SWEPT }, (_, index) => `Sweep ${tenant === ISP ? 'Dhaka' : 'Ctg'} ${String(index + 1).padStart(2, '0')}`);
const today = () => localDateOf(world.clock.now(), 'Asia/Dhaka');
const runOf = (tenant: string) => runIdOf(tenant, 'expiry-sweep', today());

/** Daily customers of the ISP whose validity ended and who are not expired yet: what the sweep is for. */
const due = async (tenant: string): Promise<number> =>
  Number(
    (await world.database.pool.query<{ n: string }>("SELECT count(*) AS n FROM customers WHERE tenant = $1 AND billing_profile = 'daily' AND NOT expired AND expires_at <= now()", [tenant])).rows[0]!.n,
  );
const expiredSwept = async (tenant: string): Promise<number> =>
  Number((await world.database.pool.query<{ n: string }>("SELECT count(*) AS n FROM customers WHERE tenant = $1 AND name LIKE 'Sweep %' AND expired", [tenant])).rows[0]!.n);

beforeAll(async () => {
  world = await startPanelWorld();
  const { runtime } = world;
  const as = (tenant: string, role: CommandEnvelope['actor']['role'] = 'admin'): CommandEnvelope => ({ tenant, actor: { id: `${tenant}-admin`, role } });
  ok(await createPackage(runtime, as(OTHER_ISP), { package_id: 'ctg-day', name: 'Day pass', down_kbps: 5_000, up_kbps: 1_000, burst: null, price: '30.00', validity_days: 1, ip_pool: 'pool-day', data_quota_mb: null }));
  // Three days ago each ISP sold twenty one-day passes: their validity ended at the local midnight after.
  world.clock.daysAgo(3);
  for (const [tenant, package_id] of [[ISP, 'hotspot-day'], [OTHER_ISP, 'ctg-day']] as const) {
    for (const [index, name] of sweptNames(tenant).entries()) {
      const customer_id = `${name.toLowerCase().replace(/ /g, '-')}`;
      ok(
        await registerCustomer(runtime, as(tenant), {
          customer_id, operator_id: tenant, connection_type: 'pppoe', name, mobile: `+88019${tenant === ISP ? '1' : '2'}${String(index).padStart(7, '0')}`, zone: 'Day pass',
          username: customer_id, password: 'pppoe-secret', mac: null, static_ip: null, package_id, profile: { kind: 'daily' }, special_price: null, self_registered: false,
        }),
      );
      ok(
        await receivePayment(runtime, as(tenant), {
          customer_id, payment_id: `pay-${customer_id}`, method: 'cash', amount: '30.00', collected_by: `${tenant}-admin`, collector_operator_id: tenant,
          gateway: null, gateway_reference: null, card: null, recharge_package_id: package_id,
        }),
      );
    }
  }
  world.clock.present();
  // A manager of the ISP itself whose operator gave it the bill runs.
  ok(await addStaff(runtime, as(ISP), { staff_id: 'ops-isp', operator_id: ISP, role: 'manager', name: 'Shahana Ops', permissions: ['customers.read', 'bills.run'] }));
  await world.settle();
  await createLogin(world.database.pool, world.clock, { tenant: ISP, login: 'ops@dhaka-fiber', password: PASSWORD, principal_kind: 'staff', principal_id: 'ops-isp' });
  await world.settle();
  scheduler = new Scheduler({ pool: world.database.pool, store: runtime.store, runtime, settings: { ...DEFAULT_SCHEDULER_SETTINGS, jobs: ['expiry-sweep'] }, notifier: null, logger: pino({ level: process.env.SCHEDULER_TEST_LOG ?? 'silent' }) });
}, 300_000);

afterEach(() => {
  expect(people.flatMap((person) => person.problems())).toEqual([]);
});
afterAll(async () => {
  for (const person of people) await person.close();
  await scheduler?.resign();
  await world?.close();
});

async function personFor(role: Role | 'isp_manager'): Promise<Page> {
  const own = await launchBrowser({ baseURL: world.baseURL });
  people.push(own);
  const page = await own.newPage();
  if (role === 'isp_manager') {
    await page.goto('/login');
    await page.fill('#login', 'ops@dhaka-fiber');
    await page.fill('#password', PASSWORD);
    await Promise.all([page.waitForURL((url) => url.pathname === '/'), page.click('form[action="/login"] button[type=submit]')]);
  } else {
    await logIn(page, role);
  }
  return page;
}
const forgetProblems = (): void => people.forEach((person) => person.clearProblems());
const text = async (page: Page, selector: string): Promise<string> => ((await page.locator(selector).first().textContent()) ?? '').replace(/\s+/g, ' ').trim();
const menu = async (page: Page): Promise<string[]> => (await page.locator('.nav a span').allTextContents()).map((item) => item.trim());

/** The run as the API tells it (read through the page's own session cookie: the same caller). */
async function runByApi(page: Page, run_id: string): Promise<{ status: string; decision: { kind: string; by: { name: string | null }; text: string } | null; outcome: { actions: Record<string, { applied: number }> } | null }> {
  const response = await page.request.get(`/api/v1/scheduler/runs/${encodeURIComponent(run_id)}`);
  expect(response.status()).toBe(200);
  return response.json();
}

describe('scheduler page', () => {
  let admin: Page;
  beforeAll(async () => {
    admin = await personFor('admin');
  });

  it('previews today’s jobs: who the expiry sweep would expire, that the safety stop would hold it, another day on request; nothing is written', async () => {
    const before = await world.eventCount();
    const expected = await due(ISP);
    expect(expected).toBeGreaterThanOrEqual(SWEPT);
    await admin.goto('/');
    expect(await menu(admin)).toContain('Scheduler');
    await submit(admin, '.nav a:has-text("Scheduler")');
    expect(new URL(admin.url()).pathname).toBe('/scheduler');
    const sweep = admin.locator('#plan-table tr[data-job="expiry-sweep"]');
    expect(await sweep.locator('[data-action="expire"] [data-count]').textContent()).toBe(String(expected));
    expect(await sweep.locator('td[data-label="Safety stop"]').textContent()).toMatch(/Would hold.*expire: \d+ of \d+ customers is more than 20 %/s);
    await sweep.locator('details.who summary').click();
    const names = await sweep.locator('.who-list a').allTextContents();
    expect(names).toEqual(expect.arrayContaining(sweptNames(ISP).slice(0, 5)));
    expect(names.join(' ')).not.toContain('Sweep Ctg');
    expect(await sweep.locator('.who-list a').first().getAttribute('href')).toMatch(/^\/customers\//);
    expect(await text(admin, '#plan-table tr[data-job="bill-run"] td[data-label="Safety stop"]')).toBe('Would run');
    expect(await text(admin, '#plan-table tr[data-job="expiry-sweep"] td[data-label="Run"]')).toBe('not run yet');
    await shoot(admin, 'scheduler-plan');

    // Another local day: a week ago none of these passes had been sold, so nothing would expire for them.
    const weekAgo = localDateOf(new Date(world.clock.now().getTime() - 7 * 86_400_000), 'Asia/Dhaka');
    await admin.fill('#f-plan-local_date', weekAgo);
    await submit(admin, '#plan-form button[type=submit]');
    expect(new URL(admin.url()).searchParams.get('local_date')).toBe(weekAgo);
    expect(await text(admin, '#plan .card-head h2')).toContain('Plan for');
    expect(await admin.locator('#plan-table tr[data-job="expiry-sweep"]').count()).toBe(1);
    expect(await admin.locator('a.button:has-text("Today")').count()).toBe(1);

    // A day that is no day is refused beside the field, and nothing is planned.
    await admin.goto('/scheduler?local_date=2026-02-30');
    expect(await fieldError(admin, '#plan-form', 'local_date')).not.toBe('');
    expect(await admin.locator('#plan-table').count()).toBe(0);
    expect(await world.eventCount()).toBe(before);
  });

  it('shows a run the safety stop held with its reason, and cancels it through the page: nothing of it is ever applied', async () => {
    const report = await scheduler.tick();
    expect(report.held).toEqual(expect.arrayContaining([runOf(ISP), runOf(OTHER_ISP)]));
    const waiting = await due(ISP);
    expect(await expiredSwept(ISP)).toBe(0);

    await admin.goto('/scheduler');
    expect(await text(admin, '#held-alert')).toContain('1 run held by the safety stop');
    const held = admin.locator(`section.held-run[data-run="${runOf(ISP)}"]`);
    expect(await held.locator('.hold-reasons').textContent()).toMatch(/expire: \d+ of \d+ customers is more than 20 %/);
    expect(await admin.locator(`section.held-run[data-run="${runOf(OTHER_ISP)}"]`).count()).toBe(0);
    expect(await text(admin, `#run-table tr[data-run="${runOf(ISP)}"] [data-status]`)).toBe('Held');
    expect(await text(admin, `#run-table tr[data-run="${runOf(ISP)}"] td[data-label="Started by"]`)).toContain('the scheduler');
    expect(await text(admin, '#plan-table tr[data-job="expiry-sweep"] td[data-label="Run"]')).toBe('Held');
    await shoot(admin, 'scheduler-held');

    // The run's own page: the reason, the customers it names, and the forms.
    await submit(admin, `#run-table tr[data-run="${runOf(ISP)}"] a`);
    expect(await text(admin, 'h1')).toContain('Expiry sweep');
    expect(await text(admin, '.hold-reasons')).toContain('more than 20 %');
    expect(await admin.locator('#subjects .who-list a').allTextContents()).toEqual(expect.arrayContaining([expect.stringContaining(sweptNames(ISP)[0]!)]));
    await shoot(admin, 'scheduler-run-held');

    // Without a reason: refused beside the field, nothing written.
    const before = await world.eventCount();
    await admin.locator('#decide details.danger-zone summary').click();
    await submitConfirmed(admin, '#decide form[action$="/cancel"] button[type=submit]');
    expect(await fieldError(admin, '#decide form[action$="/cancel"]', 'reason')).not.toBe('');
    expect(await world.eventCount()).toBe(before);

    await admin.fill('#f-cancel-reason', 'these passes were sold by mistake; the customers are refunded instead');
    await submitConfirmed(admin, '#decide form[action$="/cancel"] button[type=submit]');
    expect(await flash(admin)).toContain('Run cancelled');
    expect(await text(admin, 'h1 [data-status]')).toBe('Cancelled');
    expect(await text(admin, '#decision')).toContain('Cancelled by Dhaka Fiber Net');
    expect(await admin.locator('#decide').count()).toBe(0);
    const run = await runByApi(admin, runOf(ISP));
    expect(run.status).toBe('cancelled');
    expect(run.decision).toEqual(expect.objectContaining({ kind: 'cancelled', text: 'these passes were sold by mistake; the customers are refunded instead', by: expect.objectContaining({ name: 'Dhaka Fiber Net' }) }));
    expect(await world.eventCount()).toBe(before + 1);

    // The scheduler's next tick applies nothing of a cancelled run.
    await scheduler.tick();
    await world.settle();
    expect(await expiredSwept(ISP)).toBe(0);
    expect(await due(ISP)).toBe(waiting);
    expect((await runByApi(admin, runOf(ISP))).status).toBe('cancelled');
  });

  it('lets the other ISP’s admin confirm its own held run; the scheduler applies it at its next tick, not before', async () => {
    const other = await personFor('other_admin');
    await other.goto('/scheduler');
    const held = other.locator(`section.held-run[data-run="${runOf(OTHER_ISP)}"]`);
    expect(await held.locator('.hold-reasons').textContent()).toMatch(/expire: 20 of 21 customers is more than 20 %/);
    expect(await mainText(other)).not.toContain('Sweep Dhaka');
    expect(await mainText(other)).not.toContain(runOf(ISP));

    await held.locator('details.action:not(.danger-zone) summary').click();
    await other.fill(`#f-confirm-${runOf(OTHER_ISP).replace(/[^A-Za-z0-9]+/g, '-')}-note`, 'checked the list: these day passes did end');
    await submitConfirmed(other, `section.held-run[data-run="${runOf(OTHER_ISP)}"] form[action$="/confirm"] button[type=submit]`);
    expect(await flash(other)).toContain('Run confirmed');
    expect(new URL(other.url()).pathname).toBe(`/scheduler/runs/${runOf(OTHER_ISP)}`);
    expect(await text(other, 'h1 [data-status]')).toBe('Confirmed');
    expect(await text(other, '#decision')).toContain('Confirmed by Chattogram Net');
    // Confirmed is not applied: the customers are still to be expired.
    expect((await runByApi(other, runOf(OTHER_ISP))).status).toBe('confirmed');
    await world.settle();
    expect(await expiredSwept(OTHER_ISP)).toBe(0);

    const report = await scheduler.tick();
    expect(report.completed).toContain(runOf(OTHER_ISP));
    await world.settle();
    expect(await expiredSwept(OTHER_ISP)).toBe(SWEPT);
    await other.reload();
    expect(await text(other, 'h1 [data-status]')).toBe('Completed');
    expect(await text(other, '#outcome tr[data-action="expire"] [data-applied]')).toBe(String(SWEPT));
    const run = await runByApi(other, runOf(OTHER_ISP));
    expect(run.outcome?.actions.expire?.applied).toBe(SWEPT);
    await shoot(other, 'scheduler-run-completed');

    // One ISP's run does not exist for the other's admin.
    const foreign = await admin.goto(`/scheduler/runs/${runOf(OTHER_ISP)}`);
    expect(foreign?.status()).toBe(404);
    forgetProblems();
  });

  it('is offered to the ISP’s manager with bill runs, and to no reseller or accountant', async () => {
    const manager = await personFor('isp_manager');
    expect(await menu(manager)).toContain('Scheduler');
    await manager.goto('/scheduler');
    expect(await text(manager, 'h1')).toBe('Scheduler');
    expect(await manager.locator(`#run-table tr[data-run="${runOf(ISP)}"]`).count()).toBe(1);

    for (const role of ['reseller', 'accountant'] as const) {
      const page = await personFor(role);
      expect(await menu(page)).not.toContain('Scheduler');
      for (const url of ['/scheduler', `/scheduler/runs/${runOf(ISP)}`]) {
        const response = await page.goto(url);
        expect(response?.status(), `${role} ${url}`).toBe(403);
        expect(await text(page, 'h1')).toBe('Not allowed');
      }
      forgetProblems();
    }
  });
});
