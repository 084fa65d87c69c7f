import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerCustomer } from '../../commands/customer-commands.js';
import { receivePayment } from '../../commands/payment-commands.js';
import { registerRouter } from '../../commands/router-commands.js';
import { as, startApiWorld, type ApiWorld } from '../api/harness.js';
import { admin, ok } from '../support/demo-isp.js';

/**
 * What the panels added to the API, over HTTP: the dashboard figures (each equal to what the read models hold,
 * each limited to the caller's subtree), who is online, the bill-run preview (the run's own decider: the run then
 * issues exactly the preview), the routers' status and on-demand commands; and the pages' own rules — no session
 * means the login page, a form without the CSRF token changes nothing, and the JSON API still takes no forms.
 */
let world: ApiWorld;
const get = (role: string, url: string) => world.app.inject(as(world.sessions[role]!, { method: 'GET', url }));
const post = (role: string, url: string, payload: unknown) => world.app.inject(as(world.sessions[role]!, { method: 'POST', url, payload: payload as never }));
const events = async (): Promise<number> => Number((await world.database.pool.query<{ n: string }>('SELECT count(*) AS n FROM events')).rows[0]!.n);

beforeAll(async () => {
  world = await startApiWorld();
  // Money on three branches: the own subtree (under S1), the sibling reseller, and the other ISP.
  for (const [customer_id, tenant, collector] of [
    [world.customers.own, world.a.tenant, world.a.tenant],
    [world.customers.sibling, world.a.tenant, world.a.tenant],
    [world.customers.foreign, world.b.tenant, world.b.tenant],
  ] as const) {
    ok(await receivePayment(world.runtime, admin(tenant), { customer_id, payment_id: `pay-${customer_id}`, method: 'cash', amount: '500.00', collected_by: `${collector}-cashier`, collector_operator_id: collector, gateway: null, gateway_reference: null, card: null, recharge_package_id: tenant === world.a.tenant ? world.a.package_id : world.b.package_id }));
  }
  ok(await registerRouter(world.runtime, admin(world.a.tenant), { router_id: 'rtr-a', name: 'Core A', nas_ip: '10.50.0.1', secret: 'router-a-secret' }));
  await world.settle();
  for (const [index, customer_id] of [world.customers.own, world.customers.sibling].entries()) {
    await world.database.pool.query(
      `INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, acctstarttime, acctupdatetime, acctinputoctets, acctoutputoctets)
       VALUES ($1, md5($1), $2, '10.50.0.1', now(), now(), 1000, 2000)`,
      [`s-${index}`, customer_id],
    );
  }
}, 180_000);
afterAll(async () => world?.close());

describe('dashboard figures', () => {
  it('counts customers by status in the caller’s subtree, online sessions included', async () => {
    const all = (await get('admin', '/api/v1/dashboard/customers')).json<{ statuses: { total: number }; online: number; new_customers: { day: string; customers: number }[] }>();
    const inIsp = Number((await world.database.pool.query<{ n: string }>('SELECT count(*) AS n FROM customers WHERE tenant = $1', [world.a.tenant])).rows[0]!.n);
    expect(all.statuses.total).toBe(inIsp);
    expect(all.online).toBe(2);
    expect(all.new_customers).toHaveLength(30);
    // New customers per day come from the dashboard's running sums; they agree with the customers themselves.
    const registered = await world.database.pool.query<{ day: string; n: number }>("SELECT to_char(registered_on, 'YYYY-MM-DD') AS day, count(*)::int AS n FROM customers WHERE tenant = $1 GROUP BY 1", [world.a.tenant]);
    for (const row of registered.rows) expect(all.new_customers.find((day) => day.day === row.day)?.customers).toBe(row.n);
    const sub = (await get('sub_reseller', '/api/v1/dashboard/customers')).json<{ statuses: { total: number }; online: number }>();
    expect(sub.online).toBe(1);
    const underSub = Number((await world.database.pool.query<{ n: string }>('SELECT count(*) AS n FROM customers WHERE tenant = $1 AND chain @> ARRAY[$2]', [world.a.tenant, world.a.sub_reseller])).rows[0]!.n);
    expect(sub.statuses.total).toBe(underSub);
  });

  it('sums revenue per day and month, per collector, and ranks the operators below, within the subtree', async () => {
    const isp = (await get('admin', '/api/v1/dashboard/revenue')).json<{ to: string; daily: { day: string; net: string }[]; monthly: { net: string }[]; collectors: { amount: string }[]; top_operators: { operator_id: string; net: string }[] }>();
    expect(isp.daily.find((row) => row.day === isp.to)?.net).toBe('1000.00');
    expect(isp.monthly.at(-1)?.net).toBe('1000.00');
    expect(isp.top_operators.map((row) => row.operator_id).sort()).toEqual([world.a.reseller, world.a.sibling].sort());
    const reseller = (await get('reseller', '/api/v1/dashboard/revenue')).json<{ daily: { net: string }[]; top_operators: { operator_id: string; net: string }[] }>();
    expect(reseller.daily.map((row) => row.net)).toEqual(['500.00']);
    expect(reseller.top_operators).toEqual([expect.objectContaining({ operator_id: world.a.sub_reseller, net: '500.00' })]);
    const wrong = await get('admin', '/api/v1/dashboard/revenue?from=2026-11-20&to=2026-11-01');
    expect(wrong.statusCode).toBe(400);
    expect((await get('card_distributor', '/api/v1/dashboard/revenue')).statusCode).toBe(403);
  });
});

describe('online sessions and usage', () => {
  it('lists only the open sessions of the caller’s subtree', async () => {
    const isp = (await get('admin', '/api/v1/sessions')).json<{ sessions: { customer_id: string; router_id: string }[] }>();
    expect(isp.sessions.map((session) => session.customer_id).sort()).toEqual([world.customers.own, world.customers.sibling].sort());
    expect(isp.sessions.every((session) => session.router_id === 'rtr-a')).toBe(true);
    const sub = (await get('sub_reseller', '/api/v1/sessions')).json<{ sessions: { customer_id: string }[] }>();
    expect(sub.sessions.map((session) => session.customer_id)).toEqual([world.customers.own]);
    const usage = (await get('sub_reseller', `/api/v1/customers/${world.customers.own}/usage`)).json<{ online: boolean; totals: { sessions: number; output_octets: string } }>();
    expect(usage).toMatchObject({ online: true, totals: { sessions: 1, output_octets: '2000' } });
    expect((await get('sub_reseller', `/api/v1/customers/${world.customers.sibling}/usage`)).statusCode).toBe(404);
  });
});

describe('bill-run preview', () => {
  it('shows what the run then issues, and appends nothing itself', async () => {
    world.clock.set('2026-10-10T06:00:00Z');
    for (const name of ['one', 'two']) {
      ok(
        await registerCustomer(world.runtime, admin(world.a.tenant), {
          customer_id: `monthly-${name}`,
          operator_id: world.a.reseller,
          connection_type: 'pppoe',
          name: `Monthly ${name}`,
          mobile: '+8801711111111',
          zone: 'Mirpur',
          username: `monthly-${name}`,
          password: 'pppoe-secret',
          mac: null,
          static_ip: null,
          package_id: world.a.package_id,
          profile: { kind: 'monthly', due_day: 1, mode: 'prepaid', grace_days: 5 },
          special_price: null,
          self_registered: false,
        }),
      );
    }
    world.clock.set('2026-11-16T06:00:00Z');
    await world.settle();
    const before = await events();
    const preview = (await get('admin', '/api/v1/bill-runs/preview?period=2026-11')).json<{ to_issue: number; totals: { amount: string }[]; bills: { customer_id: string; name: string; amount: string }[] }>();
    expect(await events()).toBe(before);
    expect(preview.to_issue).toBe(2);
    expect(preview.bills.map((bill) => bill.name).sort()).toEqual(['Monthly one', 'Monthly two']);
    const run = (await post('admin', '/api/v1/bill-runs', { period: '2026-11' })).json<{ issued: number }>();
    expect(run.issued).toBe(preview.to_issue);
    await world.settle();
    const issued = await world.database.pool.query<{ total: string }>("SELECT sum(amount)::text AS total FROM bills WHERE period = '2026-11' AND customer_id LIKE 'monthly-%'");
    expect(Number(issued.rows[0]!.total)).toBe(Number(preview.totals[0]!.amount));
    const again = (await get('admin', '/api/v1/bill-runs/preview?period=2026-11')).json<{ to_issue: number; unchanged: number }>();
    expect(again).toMatchObject({ to_issue: 0 });
    expect((await get('manager', '/api/v1/bill-runs/preview?period=2026-13')).statusCode).toBe(400);
  });
});

describe('routers', () => {
  it('report what the router-agent knows, and refuse on-demand commands it cannot carry out yet', async () => {
    const status = (await get('admin', '/api/v1/routers/rtr-a/status')).json<{ agent: unknown; connection: unknown; recent: unknown[] }>();
    expect(status).toMatchObject({ agent: null, connection: null, recent: [] });
    const before = await events();
    const setup = await post('admin', '/api/v1/routers/rtr-a/setup-runs', {});
    expect(setup.statusCode).toBe(422);
    expect(setup.json()).toMatchObject({ error: { code: 'ROUTER_NOT_CONFIGURED' } });
    const connection = await world.app.inject(as(world.sessions.admin!, { method: 'PUT', url: '/api/v1/routers/rtr-a/connection', payload: { host: '10.50.0.1', transport: 'api', username: 'ispbills', password: 'secret-pass', routeros_version: '7.18.2' } }));
    expect(connection.json()).toMatchObject({ error: { code: 'NOT_PERMITTED' } });
    expect(await events()).toBe(before);
    expect((await get('reseller', '/api/v1/routers/rtr-a/status')).statusCode).toBe(403);
  });
});

describe('the pages’ own door', () => {
  it('sends a visitor without a session to the login page, with the page to come back to', async () => {
    const response = await world.app.inject({ method: 'GET', url: '/customers?status=active' });
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/login?next=%2Fcustomers%3Fstatus%3Dactive');
  });

  it('refuses a form without the session’s CSRF token and changes nothing', async () => {
    const before = await events();
    const forged = await world.app.inject({
      method: 'POST',
      url: `/customers/${world.customers.own}/suspend`,
      headers: { cookie: world.sessions.admin!.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'reason=forged&_csrf=not-the-token',
    });
    expect(forged.statusCode).toBe(403);
    expect(forged.body).toContain('This form has expired');
    expect(await events()).toBe(before);
    const real = await world.app.inject({
      method: 'POST',
      url: `/customers/${world.customers.own}/suspend`,
      headers: { cookie: world.sessions.admin!.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: `reason=checked&_csrf=${encodeURIComponent(world.sessions.admin!.csrf)}`,
    });
    expect(real.statusCode).toBe(303);
    expect(await events()).toBe(before + 1);
  });

  it('keeps the JSON API closed to form bodies', async () => {
    const response = await world.app.inject(
      as(world.sessions.admin!, { method: 'POST', url: `/api/v1/customers/${world.customers.own}/resume`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'x=1' }),
    );
    expect(response.statusCode).toBeGreaterThanOrEqual(400);
    expect(response.statusCode).toBeLessThan(500);
  });

  it('renders the customer list and the dashboard for every staff role without a server error', async () => {
    for (const role of ['admin', 'reseller', 'sub_reseller', 'manager', 'accountant', 'auditor', 'card_distributor']) {
      for (const url of ['/', '/customers', '/account']) {
        const response = await get(role, url);
        expect(response.statusCode, `${role} ${url}`).toBe(200);
      }
    }
  });
});
