import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type Browser } from '../support/browser.js';
import { countEvents, fieldError, flash, logIn, registerPasskey, shoot, submit, submitConfirmed } from './panels-steps.js';
import { ISP, startPanelWorld, type PanelWorld } from './panels-world.js';

/**
 * The ISP admin's panel in Debian's Chromium: every main job done through the pages as a person would — finding
 * customers, registering one (with a bad form first, which must change nothing), recharging, changing its
 * package, binding a MAC, suspending and resuming with a confirmation, packages, resellers and their terms and
 * wallets, staff, the bill run with its preview, a refund and a card batch behind a passkey step-up, a router
 * set up and reconciled by the router-agent, who is online, the books and a replay for a dispute. No page may
 * log a console error; screenshots of every main page go to artifacts/screenshots/panels/.
 */
let world: PanelWorld;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  world = await startPanelWorld();
  browser = await launchBrowser({ baseURL: world.baseURL });
  page = await browser.newPage();
  await logIn(page, 'admin');
}, 240_000);
afterAll(async () => {
  await browser?.close();
  await world?.close();
});
afterEach(() => {
  expect(browser.problems()).toEqual([]);
});

const text = async (selector: string): Promise<string> => ((await page.locator(selector).first().textContent()) ?? '').replace(/\s+/g, ' ').trim();
const count = async (sql: string, values: unknown[] = []): Promise<number> => Number((await world.database.pool.query<{ n: string }>(sql, values)).rows[0]!.n);

describe('admin panel', () => {
  it('shows the dashboard: counts from the read models, revenue and the charts drawn', async () => {
    await page.goto('/');
    const active = await count("SELECT count(*) AS n FROM customers WHERE tenant = $1 AND status = 'active'", [ISP]);
    expect(await text('[data-stat="active"]')).toBe(String(active));
    expect(await text('[data-stat="suspended"]')).toBe('2');
    expect(Number(await text('[data-stat="online"]'))).toBeGreaterThan(5);
    expect(await text('[data-stat="revenue-month"]')).toMatch(/^Tk [\d,]+\.\d\d$/);
    await page.waitForFunction(() => [...document.querySelectorAll('canvas[data-chart]')].every((canvas) => (window as unknown as { Chart: { getChart: (c: Element) => unknown } }).Chart.getChart(canvas) !== undefined));
    expect(await page.locator('canvas[data-chart]').count()).toBe(4);
    expect(await text('#collectors tbody')).toContain('Mirpur Link');
    expect(await text('#top-operators tbody')).toContain('Uttara Connect');
    await shoot(page, 'admin-dashboard');
  });

  it('finds customers as one types, filters by status, sorts and pages', async () => {
    await page.goto('/customers');
    const rows = page.locator('#customer-table tbody tr');
    expect(await rows.count()).toBe(25);
    await page.fill('#f-filters-text', 'Rahman');
    await page.waitForFunction(() => new URL(location.href).searchParams.get('text') === 'Rahman' && document.querySelectorAll('#customer-table tbody tr').length < 25);
    const names = await page.locator('#customer-table tbody td.primary-cell').allTextContents();
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) expect(name).toContain('Rahman');
    await page.fill('#f-filters-text', '');
    await page.selectOption('#f-filters-status', 'suspended');
    await page.waitForFunction(() => new URL(location.href).searchParams.get('status') === 'suspended');
    await page.waitForFunction(() => document.querySelectorAll('#customer-table tbody tr').length === 2);
    await page.goto('/customers');
    await page.click('#customer-table th:nth-child(5)');
    const zones = await page.locator('#customer-table tbody td:nth-child(5)').allTextContents();
    expect(zones).toEqual([...zones].sort((a, b) => a.localeCompare(b, undefined, { sensitivity: 'base' })));
    await submit(page, 'a[rel="next"]');
    expect(await text('.pager .result-note')).toContain('Page 2');
    await submit(page, 'a[rel="prev"]');
    expect(await text('.pager .result-note')).toContain('Page 1');
    await shoot(page, 'admin-customers');
  });

  it('registers a customer: bad input shows each error beside its field and appends nothing; good input registers it', async () => {
    await page.goto('/customers/new');
    await page.fill('#f-customer-name', '');
    await page.fill('#f-customer-mobile', '1');
    await page.fill('#f-customer-zone', 'Banani');
    await page.fill('#f-customer-username', 'sumaiya.banani');
    const before = await countEvents(world);
    await submit(page, '#customer-form button[type=submit]');
    expect(await fieldError(page, '#customer-form', 'name')).toBe('Required');
    expect(await fieldError(page, '#customer-form', 'mobile')).toBe('At least 3 characters');
    expect(await fieldError(page, '#customer-form', 'package_id')).toBe('Required');
    expect(await page.inputValue('#f-customer-zone')).toBe('Banani');
    expect(await page.inputValue('#f-customer-username')).toBe('sumaiya.banani');
    expect(await countEvents(world)).toBe(before);
    await shoot(page, 'admin-customer-form-errors', { phone: false });

    // A username another customer has: the domain's refusal lands beside the username.
    const taken = (await world.database.pool.query<{ username: string }>('SELECT username FROM customers WHERE customer_id = $1', [world.ids.isp_customer])).rows[0]!.username;
    await page.fill('#f-customer-name', 'Sumaiya Islam');
    await page.fill('#f-customer-mobile', '+8801819000111');
    await page.fill('#f-customer-username', taken);
    await page.fill('#f-customer-password', 'pppoe-pass-1');
    await page.selectOption('#f-customer-package_id', 'home-10m');
    await submit(page, '#customer-form button[type=submit]');
    expect(await fieldError(page, '#customer-form', 'username')).toContain('already used by another customer');
    expect(await countEvents(world)).toBe(before);

    await page.fill('#f-customer-username', 'sumaiya.banani');
    await page.fill('#f-customer-password', 'pppoe-pass-1');
    await submit(page, '#customer-form button[type=submit]');
    expect(page.url()).toMatch(/\/customers\/cus-/);
    expect(await flash(page)).toBe('Customer registered.');
    expect(await text('h1')).toContain('Sumaiya Islam');
  });

  it('recharges, changes the package, binds a MAC, suspends and resumes (with confirmation); the timeline says why', async () => {
    const url = page.url();
    // Recharge: cash, a month of Home 10 Mbps.
    await page.click('#action-payment summary');
    await page.fill('#f-payment-amount', '500.00');
    await page.selectOption('#f-payment-recharge_package_id', 'home-10m');
    await submit(page, '#action-payment button[type=submit]');
    expect(await flash(page)).toBe('Payment recorded.');
    expect(await text('h1 .badge')).toBe('Active');
    expect(await text('#payments tbody')).toContain('Tk 500.00');

    // A MAC that is not one: the error beside the field, nothing written.
    const before = await countEvents(world);
    await page.click('#action-mac summary');
    await page.fill('#f-mac-mac', 'not-a-mac-at-all');
    await submit(page, '#action-mac button[type=submit]');
    expect(await page.locator('#action-mac').getAttribute('open')).not.toBeNull();
    expect(await page.locator('#action-mac .alert-error, #action-mac .field-error').count()).toBe(1);
    expect(await countEvents(world)).toBe(before);
    await page.fill('#f-mac-mac', 'AA:BB:CC:DD:EE:01');
    await submit(page, '#action-mac button[type=submit]');
    expect(await flash(page)).toBe('MAC address bound.');
    expect(await text('dl.facts')).toContain('AA:BB:CC:DD:EE:01');

    // Change the package, confirmed.
    await page.click('#action-package summary');
    await page.selectOption('#f-package-package_id', 'home-20m');
    await submitConfirmed(page, '#action-package button[type=submit]');
    expect(await flash(page)).toBe('Package changed.');
    expect(await text('dl.facts')).toContain('Home 20 Mbps');

    // Suspend: cancelling the confirmation changes nothing; confirming suspends.
    await page.click('#action-suspend summary');
    await page.fill('#f-suspend-reason', 'asked to pause while abroad');
    const unchanged = await countEvents(world);
    await page.click('#action-suspend button[type=submit]');
    await page.waitForSelector('#confirm-dialog[open]');
    await page.click('#confirm-dialog button[value=cancel]');
    expect(await countEvents(world)).toBe(unchanged);
    expect(page.url()).toBe(url);
    await submitConfirmed(page, '#action-suspend button[type=submit]');
    expect(await text('h1 .badge')).toBe('Suspended');
    expect(await text('#why')).toContain('asked to pause while abroad');
    await shoot(page, 'admin-customer-suspended');

    await submitConfirmed(page, 'form[action$="/resume"] button[type=submit]');
    expect(await flash(page)).toBe('Suspension lifted.');
    expect(await text('h1 .badge')).toBe('Active');
    const timeline = await text('#timeline');
    for (const step of ['Customer registered', 'Payment received', 'Customer suspended', 'Customer resumed']) expect(timeline).toContain(step);
  });

  it('manages packages: create (with a field error first), change, retire after confirming', async () => {
    await page.goto('/packages/new');
    await page.fill('#f-package-name', 'Home 40 Mbps');
    await page.fill('#f-package-price', 'a lot');
    await page.fill('#f-package-down_mbps', '40');
    await page.fill('#f-package-up_mbps', '10');
    const before = await countEvents(world);
    await submit(page, '#package-form button[type=submit]');
    expect(await fieldError(page, '#package-form', 'price')).toContain('500.00');
    expect(await countEvents(world)).toBe(before);
    await page.fill('#f-package-price', '1200.00');
    await submit(page, '#package-form button[type=submit]');
    expect(await flash(page)).toContain('Home 40 Mbps');
    expect(await text('#package-table')).toContain('40 Mbit/s');
    await shoot(page, 'admin-packages');
  });

  it('creates a reseller, assigns it a package, sets its terms and credits its wallet; the wallet history shows it', async () => {
    await page.goto('/operators/new');
    await page.fill('#f-operator-name', 'Banani Broadband');
    await submit(page, '#operator-form button[type=submit]');
    expect(await flash(page)).toContain('Operator created');
    const operatorUrl = page.url();
    await page.click('#action-assign summary');
    await page.selectOption('#f-assign-package_id', 'home-10m');
    await page.fill('#f-assign-wholesale_price', '350.00');
    await submit(page, '#action-assign button[type=submit]');
    expect(await flash(page)).toBe('Package assigned.');
    await page.click('#action-terms summary');
    await page.fill('#f-terms-percent', '45');
    await submit(page, '#action-terms button[type=submit]');
    expect(await flash(page)).toBe('Commission terms set.');
    await page.click('#action-topup summary');
    await page.fill('#f-topup-amount', '2500.00');
    await page.fill('#f-topup-reference', 'bKash 8XK2P1');
    await submitConfirmed(page, '#action-topup button[type=submit]');
    expect(await flash(page)).toBe('Wallet credited.');
    expect(await text('[data-wallet-balance]')).toBe('Tk 2,500.00');
    await shoot(page, 'admin-operator');
    await page.goto(`${operatorUrl}/wallet`);
    expect(await text('#wallet-table')).toContain('bKash 8XK2P1');
    await page.goto('/operators');
    expect(await text('#operator-table')).toContain('Banani Broadband');
    await shoot(page, 'admin-operators');
  });

  it('adds a manager with chosen permissions and changes them', async () => {
    await page.goto('/staff/new');
    await page.fill('#f-staff-name', 'Rubina Akter');
    await page.selectOption('#f-staff-role', 'manager');
    await page.check('input[name=permissions][value="customers.suspend"]');
    await submit(page, '#staff-form button[type=submit]');
    expect(await flash(page)).toContain('Staff member added');
    await page.uncheck('#permissions input[value="payments.collect"]');
    await submit(page, '#permissions button[type=submit]');
    expect(await flash(page)).toContain('Permissions saved');
    const staff_id = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
    const saved = (await world.database.pool.query<{ permissions: string[] }>('SELECT permissions FROM staff WHERE staff_id = $1', [staff_id])).rows[0]!.permissions;
    expect(saved).toContain('customers.suspend');
    expect(saved).not.toContain('payments.collect');
    await page.goto('/staff');
    expect(await text('#staff-table')).toContain('Rubina Akter');
    await shoot(page, 'admin-staff');
  });

  it('previews the bill run, then issues exactly what the preview showed', async () => {
    const period = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Dhaka' }).format(new Date()).slice(0, 7);
    await page.goto('/bill-runs');
    await page.fill('#f-run-period', period);
    await submit(page, '#preview-form button[type=submit]');
    const toIssue = Number(await text('[data-preview-issue]'));
    expect(toIssue).toBe(world.ids.monthlies.length);
    const bills = await count('SELECT count(*) AS n FROM bills WHERE tenant = $1', [ISP]);
    await shoot(page, 'admin-bill-run-preview');
    await submitConfirmed(page, '#preview form[action="/bill-runs"] button[type=submit]');
    expect(Number(await text('[data-run-issued]'))).toBe(toIssue);
    await world.settle();
    expect(await count('SELECT count(*) AS n FROM bills WHERE tenant = $1', [ISP])).toBe(bills + toIssue);
    await page.goto(`/bill-runs?period=${period}`);
    expect(await text('[data-preview-issue]')).toBe('0');
    await page.goto(`/bills?period=${period}`);
    expect(await page.locator('#bill-table tbody tr').count()).toBeGreaterThanOrEqual(toIssue);
    await shoot(page, 'admin-bills');
  });

  it('refunds a payment after confirming with a passkey (step-up)', async () => {
    await registerPasskey(page, 'Office laptop');
    await shoot(page, 'admin-account', { phone: false });
    await page.goto('/payments');
    await shoot(page, 'admin-payments');
    const payment = (await world.database.pool.query<{ payment_id: string }>("SELECT payment_id FROM payments WHERE tenant = $1 AND method = 'cash' AND refunded = 0 ORDER BY received_at DESC LIMIT 1", [ISP])).rows[0]!.payment_id;
    await page.goto(`/payments/${payment}`);
    await page.fill('#f-refund-amount', '100.00');
    await page.fill('#f-refund-reason', 'overcharged at the counter');
    const before = await countEvents(world);
    await submitConfirmed(page, '#actions button[type=submit]');
    // The session has not confirmed with the passkey yet: nothing happened, the form asks for it.
    expect(await page.locator('.step-up').count()).toBe(1);
    expect(await countEvents(world)).toBe(before);
    expect(await page.inputValue('#f-refund-reason')).toBe('overcharged at the counter');
    await Promise.all([page.waitForNavigation(), page.click('[data-step-up]')]);
    expect(await flash(page)).toContain('Refund recorded');
    expect(await text('#refunds')).toContain('overcharged at the counter');
    await shoot(page, 'admin-payment');
  });

  it('generates a card batch (stepped up already), prints its sheet once and hands cards to a reseller', async () => {
    await page.goto('/cards');
    await page.click('#generate summary');
    await page.fill('#f-batch-count', '12');
    await page.fill('#f-batch-value', '800.00');
    await page.selectOption('#f-batch-package_id', 'home-20m');
    await submitConfirmed(page, '#batch-form button[type=submit]');
    expect(await page.locator('.voucher').count()).toBe(12);
    const pins = await page.locator('[data-pin]').evaluateAll((cards) => cards.map((card) => card.getAttribute('data-pin') ?? ''));
    expect(pins.every((pin) => /^\d{16}$/.test(pin))).toBe(true);
    expect(await page.locator('[data-pin]').first().textContent()).toMatch(/^\d{4} \d{4} \d{4} \d{4}$/);
    await shoot(page, 'admin-card-sheet', { phone: false });
    await submit(page, 'a.button:has-text("Done")');
    await page.fill('#f-assign-serials', '1-5');
    await page.selectOption('#f-assign-to_operator_id', 'uttara-connect');
    await submit(page, '#assign button[type=submit]');
    expect(await flash(page)).toBe('Cards assigned.');
    const batch_id = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
    expect(await count("SELECT count(*) AS n FROM recharge_cards WHERE batch_id = $1 AND assigned_operator_id = 'uttara-connect'", [batch_id])).toBe(5);
    await page.goto('/cards');
    await shoot(page, 'admin-cards');
  });

  it('registers a router, gives it an API connection and setup settings, runs the one-click setup and a reconciliation', async () => {
    await page.goto('/routers/new');
    await page.fill('#f-router-name', 'Gulshan POP');
    await page.fill('#f-router-nas_ip', '10.30.0.1');
    await page.fill('#f-router-secret', 'short');
    const before = await countEvents(world);
    await submit(page, '#router-form button[type=submit]');
    expect(await fieldError(page, '#router-form', 'secret')).toBe('At least 8 characters');
    expect(await countEvents(world)).toBe(before);
    await page.fill('#f-router-secret', 'gulshan-radius-secret');
    await submit(page, '#router-form button[type=submit]');
    expect(await flash(page)).toContain('Router registered');

    await page.click('#action-connection summary');
    await page.fill('#f-connection-host', '127.0.0.1');
    await page.fill('#f-connection-port', String(world.routeros.port));
    await page.fill('#f-connection-username', 'admin');
    await page.fill('#f-connection-password', 'admin-password');
    await page.fill('#f-connection-routeros_version', '7.18.2');
    await submit(page, '#action-connection button[type=submit]');
    expect(await flash(page)).toContain('API connection saved');

    await page.click('#action-setup summary');
    await page.fill('#f-setup-radius_address', '10.30.0.10');
    await page.fill('#f-setup-pppoe_servers', 'gulshan-pppoe ether2 default');
    await submit(page, '#action-setup button[type=submit]');
    expect(await flash(page)).toContain('Setup settings saved');

    await submitConfirmed(page, 'form[action$="/setup-run"] button[type=submit]');
    expect(await flash(page)).toContain('One-click setup queued');
    // The router-agent carries it out on the RouterOS test server and records the outcome as an event.
    await page.waitForFunction(
      async () => {
        const response = await fetch(location.pathname, { credentials: 'same-origin' });
        return (await response.text()).includes('The last setup completed');
      },
      undefined,
      { timeout: 30_000, polling: 500 },
    );
    expect(world.routeros.items('/radius').some((item) => item.address === '10.30.0.10')).toBe(true);
    // Someone the router knows and billing does not: the reconciliation finds it and ends the session.
    world.routeros.seed('/ppp/active', { name: 'ghost-login', service: 'pppoe', address: '100.64.9.9', 'caller-id': 'AA:BB:CC:99:99:99' });
    await submit(page, 'form[action$="/reconcile"] button[type=submit]');
    expect(await flash(page)).toContain('Reconciliation queued');
    await page.waitForFunction(
      async () => !(await (await fetch(location.pathname, { credentials: 'same-origin' })).text()).includes('Not reconciled yet'),
      undefined,
      { timeout: 30_000, polling: 500 },
    );
    await page.reload();
    expect(await text('#setup-outcome')).toContain('The last setup completed');
    expect(await text('#drift')).toContain('ghost-login');
    await shoot(page, 'admin-router');
    await page.goto('/routers');
    expect(await text('#router-table')).toContain('Gulshan POP');
    await shoot(page, 'admin-routers');
  });

  it('shows who is online, the read models’ status, and a customer as of a date for a dispute', async () => {
    await page.goto('/sessions');
    expect(await page.locator('#session-table tbody tr').count()).toBeGreaterThan(5);
    await shoot(page, 'admin-online');
    await page.goto('/projections');
    expect(await page.locator('#projection-table tbody tr').count()).toBeGreaterThanOrEqual(7);
    await shoot(page, 'admin-system-status', { phone: false });
    // From the customer's timeline: the account as the system knew it when an older event happened.
    await page.goto(`/customers/${world.ids.isp_customer}`);
    const links = page.locator('#timeline a:has-text("the account as of this event")');
    const position = (await links.nth(2).getAttribute('href'))!.split('position:')[1]!;
    await submit(page, `#timeline a[href$="position:${position}"]`);
    expect(await text('#replay-result h2')).toContain(`as of event ${position}`);
    expect(await page.locator('#replay-result .timeline li').count()).toBeLessThan(await count('SELECT count(*) AS n FROM customer_timeline WHERE customer_id = $1', [world.ids.isp_customer]));
    await shoot(page, 'admin-replay');
    await page.goto('/replay?customer_id=nobody-here&as_of=2026-01-01');
    expect(await fieldError(page, '#replay-form', 'customer_id')).toContain('no customer nobody-here');
  });

  it('reads the books: the trial balance balances; the journal pages', async () => {
    await page.goto(`/books/${ISP}`);
    expect(await text('[data-total-debit]')).toBe(await text('[data-total-credit]'));
    await shoot(page, 'admin-books');
    await page.goto(`/books/${ISP}/journal`);
    expect(await page.locator('#journal tbody tr').count()).toBeGreaterThan(10);
  });
});
