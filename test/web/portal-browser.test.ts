import { randomUUID } from 'node:crypto';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogin } from '../../api/access/logins.js';
import { registerCustomer } from '../../commands/customer-commands.js';
import { generateCardBatch, receivePayment } from '../../commands/payment-commands.js';
import { registerRouter } from '../../commands/router-commands.js';
import { recordUsage } from '../../commands/usage-commands.js';
import { PASSWORD } from '../api/harness.js';
import { DESKTOP, launchBrowser, PHONE, screenshot, type Browser } from '../support/browser.js';
import { admin, ok } from '../support/demo-isp.js';
import { startCustomerWorld, type CustomerWorld } from './customer-world.js';

/**
 * The customer portal in Chromium: a daily (prepaid) customer logs in, sees the package, its expiry, payments and
 * data use, redeems a recharge card and pays online through the (local) SSLCommerz payment page; a monthly
 * customer sees the bill it owes and pays it. Wrong input (a wrong password, a bad card PIN, an amount that is
 * not one) is shown beside its field and appends nothing. Every page is screenshotted on a phone and a desktop,
 * and no page logs a console error.
 */
let cw: CustomerWorld;
let browser: Browser;
let page: Page;
let daily: { customer_id: string; login: string };
let monthly: { customer_id: string; login: string };
let card_batch: string;
const CARD_PIN = '7305 1184 2290 6613';

beforeAll(async () => {
  cw = await startCustomerWorld();
  const { world } = cw;
  const { runtime, a } = world;
  const envelope = admin(a.tenant);
  const now = world.clock.now();

  // The daily customer: the harness's customer under the sub-reseller, recharged in cash a while ago.
  daily = { customer_id: world.customers.own, login: `customer@${a.tenant}` };
  ok(
    await receivePayment(runtime, envelope, {
      customer_id: daily.customer_id,
      payment_id: `pay-cash-${randomUUID().slice(0, 8)}`,
      method: 'cash',
      amount: '500.00',
      collected_by: `${a.tenant}-admin`,
      collector_operator_id: a.tenant,
      gateway: null,
      gateway_reference: null,
      card: null,
      recharge_package_id: a.package_id,
    }),
  );
  // Two sessions on one of the ISP's routers: one finished (its usage recorded, as radius-bridge does) and one open.
  const router_id = `router-${randomUUID().slice(0, 8)}`;
  ok(await registerRouter(runtime, envelope, { router_id, name: 'Mirpur core', nas_ip: '10.30.0.1', secret: 'portal-radius-secret' }));
  const started = new Date(now.getTime() - 5 * 3_600_000);
  const stopped = new Date(now.getTime() - 2 * 3_600_000);
  ok(await recordUsage(runtime, { tenant: a.tenant, actor: { id: 'radius', role: 'system' } }, { customer_id: daily.customer_id, session_id: 'sess-1', input_octets: '412000000', output_octets: '3870000000', started_at: started.toISOString(), stopped_at: stopped.toISOString() }));
  await world.database.pool.query(
    `INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, acctstarttime, acctupdatetime, acctstoptime, acctsessiontime, acctinputoctets, acctoutputoctets, framedipaddress, callingstationid, acctterminatecause)
     VALUES ('81a00001', 'u-1', $1, '10.30.0.1', $2, $3, $3, 10800, 412000000, 3870000000, '100.64.3.17', 'AA:BB:CC:00:10:01', 'User-Request'),
            ('81a00002', 'u-2', $1, '10.30.0.1', $4, $4, NULL, 1500, 21000000, 180000000, '100.64.3.17', 'AA:BB:CC:00:10:01', NULL)`,
    [daily.customer_id, started, stopped, new Date(now.getTime() - 25 * 60_000)],
  );

  // The monthly customer: prepaid, so its first (prorated) bill is issued at registration and is open.
  monthly = { customer_id: `cus-monthly-${randomUUID().slice(0, 6)}`, login: `shop@${a.tenant}` };
  ok(
    await registerCustomer(runtime, envelope, {
      customer_id: monthly.customer_id,
      operator_id: a.tenant,
      connection_type: 'pppoe',
      name: 'Lucky Tailors',
      mobile: '+8801911000222',
      zone: 'Mirpur 10',
      username: `lucky-${randomUUID().slice(0, 4)}`,
      password: 'pppoe-secret',
      mac: null,
      static_ip: null,
      package_id: a.package_id,
      profile: { kind: 'monthly', due_day: 1, mode: 'prepaid', grace_days: 7 },
      special_price: null,
      self_registered: false,
    }),
  );
  card_batch = `B${randomUUID().slice(0, 6).toUpperCase()}`;
  const pins = [CARD_PIN.replaceAll(' ', '')];
  ok(await generateCardBatch(runtime, envelope, { batch_id: card_batch, count: 1, value: '500.00', package_id: null, expires_on: '2099-12-31', first_serial: 1 }, () => pins.shift()!));
  await world.settle();
  await createLogin(world.database.pool, world.clock, { tenant: a.tenant, login: monthly.login, password: PASSWORD, principal_kind: 'customer', principal_id: monthly.customer_id });

  browser = await launchBrowser({ viewport: PHONE, baseURL: cw.base });
  page = await browser.newPage();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await cw?.close();
});

async function shoot(name: string): Promise<void> {
  await screenshot(page, 'portal', `${name}-phone`);
  await page.setViewportSize(DESKTOP);
  await screenshot(page, 'portal', `${name}-desktop`);
  await page.setViewportSize(PHONE);
}

const fieldError = (name: string) => page.locator(`.field.has-error[data-field="${name}"] .field-error`);
const expiresAt = async (customer_id: string): Promise<number> => (await cw.world.database.pool.query<{ expires_at: Date }>('SELECT expires_at FROM customers WHERE customer_id = $1', [customer_id])).rows[0]!.expires_at.getTime();
const payments = async (customer_id: string) =>
  (await cw.world.database.pool.query<{ data: Record<string, unknown> }>("SELECT data FROM events WHERE stream_id = $1 AND type = 'payment-received' ORDER BY global_position", [`customer-${customer_id}`])).rows.map((row) => row.data);

async function logInAs(login: string, password: string): Promise<void> {
  await page.goto('/portal/login');
  await page.fill('input[name=login]', login);
  await page.fill('input[name=password]', password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

describe('a daily customer in the portal', () => {
  it('a wrong password is shown beside the field, keeps the login, and changes nothing', async () => {
    await page.goto('/portal');
    await page.waitForURL(/\/portal\/login/);
    await shoot('portal-1-login');
    const events = await cw.eventCount();
    await logInAs(daily.login, 'not the password');
    await expect.poll(() => fieldError('password').textContent()).toContain('Wrong login or password');
    expect(await page.inputValue('input[name=login]')).toBe(daily.login);
    await shoot('portal-2-login-wrong');
    expect(await cw.eventCount()).toBe(events);
  });

  it('staff cannot use the customer portal', async () => {
    await logInAs(`admin@${cw.world.a.tenant}`, PASSWORD);
    await expect.poll(() => page.locator('.alert-error').textContent()).toContain('This is the customer portal');
    expect((await browser.context.cookies()).some((cookie) => cookie.name === 'ispbills_session')).toBe(false);
  });

  it('logs in and sees the package, its expiry, what is owed, payments and data use', async () => {
    await logInAs(daily.login, PASSWORD);
    await page.waitForURL(/\/portal$/);
    const hero = page.locator('.hero');
    expect(await hero.locator('h1').textContent()).toBe('Home 10M');
    expect(await hero.locator('.pill').textContent()).toBe('Active');
    expect(await hero.textContent()).toContain('Valid until');
    expect(await page.locator('table.data').first().textContent()).toContain('Cash');
    expect(await page.locator('.grid-3').textContent()).toContain('4.3 GB');
    await shoot('portal-3-overview');
  });

  it('the payments, bills and usage pages', async () => {
    await page.click('a.tab[href="/portal/payments"]');
    await expect.poll(() => page.locator('h1').first().textContent()).toBe('Payments');
    await shoot('portal-4-payments');
    await page.click('a.tab[href="/portal/bills"]');
    await expect.poll(() => page.locator('h1').first().textContent()).toBe('Bills');
    await shoot('portal-5-bills-daily');
    await page.click('a.tab[href="/portal/usage"]');
    await expect.poll(() => page.locator('h1').first().textContent()).toBe('Usage');
    expect(await page.locator('table.data').textContent()).toContain('online now');
    await shoot('portal-6-usage');
  });

  it('a bad card PIN is shown beside the PIN and appends nothing; the right one recharges', async () => {
    await page.goto('/portal/redeem');
    const events = await cw.eventCount();
    await page.fill('input[name=batch_id]', card_batch);
    await page.fill('input[name=serial]', '00000001');
    await page.fill('input[name=pin]', '1111 2222 3333 4444');
    await page.getByRole('button', { name: 'Redeem card' }).click();
    await expect.poll(() => fieldError('pin').textContent()).toContain('The PIN does not match');
    expect(await page.inputValue('input[name=serial]')).toBe('00000001');
    await shoot('portal-7-redeem-wrong');
    expect(await cw.eventCount()).toBe(events);

    const before = await expiresAt(daily.customer_id);
    await page.fill('input[name=pin]', CARD_PIN);
    await page.getByRole('button', { name: 'Redeem card' }).click();
    await page.waitForURL(/\/portal\?done=card/);
    await expect.poll(() => page.locator('.alert-ok').textContent()).toContain('Card redeemed');
    expect(await expiresAt(daily.customer_id)).toBe(before + 30 * 86_400_000);
    expect((await payments(daily.customer_id)).at(-1)).toMatchObject({ method: 'card', amount: '500.00', card: { batch_id: card_batch, serial: '00000001' } });
    await shoot('portal-8-card-redeemed');
  });

  it('an amount that is not one is shown beside the field and opens no payment', async () => {
    await page.goto('/portal/pay');
    await shoot('portal-9-pay');
    const events = await cw.eventCount();
    const sessions = cw.gateway.sessions.size;
    await page.check('input[name=purpose][value=other]');
    await page.fill('input[name=amount]', '5OO');
    await page.getByRole('button', { name: 'Continue to payment' }).click();
    await expect.poll(() => fieldError('amount').textContent()).toBeTruthy();
    expect(await page.inputValue('input[name=amount]')).toBe('5OO');
    await shoot('portal-10-pay-wrong');
    expect(cw.gateway.sessions.size).toBe(sessions);
    expect(await cw.eventCount()).toBe(events);
  });

  it('pays a recharge online at the gateway and comes back to an updated account', async () => {
    const before = await expiresAt(daily.customer_id);
    await page.check('input[name=purpose][value=recharge]');
    await page.getByRole('button', { name: 'Continue to payment' }).click();
    await page.waitForURL(/EasyCheckOut/);
    await page.click('#pay');
    // The gateway sent its notification first, so the browser's return finds the payment recorded already.
    await page.waitForURL(/\/portal\?payment=.*outcome=already_recorded&resumed=1/);
    await expect.poll(() => page.locator('.alert-ok').textContent()).toContain('Payment received');
    expect(await expiresAt(daily.customer_id)).toBe(before + 30 * 86_400_000);
    expect((await payments(daily.customer_id)).at(-1)).toMatchObject({ method: 'online', gateway: 'sslcommerz', amount: '500.00', to_recharge: '500.00' });
    await shoot('portal-11-paid');
  });

  it('signs out', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/portal\/login\?ended=1/);
    await expect.poll(() => page.locator('.alert-ok').textContent()).toContain('signed out');
    await page.goto('/portal/payments');
    await page.waitForURL(/\/portal\/login/);
  });
});

describe('a monthly customer in the portal', () => {
  it('sees the open bill and pays what it owes online', async () => {
    await logInAs(monthly.login, PASSWORD);
    await page.waitForURL(/\/portal$/);
    expect(await page.locator('.stat-value.owes').textContent()).toMatch(/\d/);
    await shoot('portal-12-monthly-overview');
    await page.click('a.tab[href="/portal/bills"]');
    await expect.poll(() => page.locator('table.data').textContent()).toContain('Open');
    await shoot('portal-13-bills');
    const owed = (await cw.world.database.pool.query<{ balance_due: string }>('SELECT balance_due::text FROM customers WHERE customer_id = $1', [monthly.customer_id])).rows[0]!.balance_due;
    await page.goto('/portal/pay');
    expect(await page.isChecked('input[name=purpose][value=due]')).toBe(true);
    await page.getByRole('button', { name: 'Continue to payment' }).click();
    await page.waitForURL(/EasyCheckOut/);
    await page.click('#pay');
    await page.waitForURL(/\/portal\?payment=/);
    await expect.poll(() => page.locator('.alert-ok').textContent()).toContain('Payment received');
    expect((await payments(monthly.customer_id)).at(-1)).toMatchObject({ method: 'online', amount: owed });
    await page.click('a.tab[href="/portal/bills"]');
    await expect.poll(() => page.locator('table.data').textContent()).toContain('Paid');
    await shoot('portal-14-bills-paid');
  });

  it('no page logged a console error', () => {
    expect(browser.problems()).toEqual([]);
  });
});
