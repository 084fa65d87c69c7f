import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type Browser } from '../support/browser.js';
import { countEvents, fieldError, flash, logIn, mainText, registerPasskey, shoot, submit, submitConfirmed } from './panels-steps.js';
import { ISP, RESELLER, startPanelWorld, SUB_RESELLER, type PanelWorld, type Role } from './panels-world.js';

/**
 * Every other staff role in Chromium, each in a browser context of its own: what its menu offers, its main jobs
 * through the pages, and that another subtree's data never appears — not in lists, not on the dashboard, not
 * by typing a URL. The reseller recharges from its wallet (balance shown, an amount beyond it refused beside
 * the field, nothing written), the manager has exactly the permissions its operator gave, the accountant closes
 * a period behind a passkey, the auditor can only read, the card distributor redeems a card for a customer.
 */
let world: PanelWorld;

beforeAll(async () => {
  world = await startPanelWorld();
}, 240_000);
afterAll(async () => {
  await world?.close();
});

const text = async (page: Page, selector: string): Promise<string> => ((await page.locator(selector).first().textContent()) ?? '').replace(/\s+/g, ' ').trim();
const menu = async (page: Page): Promise<string[]> => (await page.locator('.nav a span').allTextContents()).map((item) => item.trim());

/** A browser of its own per person (its own profile and cookies), logged in through the form. */
const people: Browser[] = [];
async function personFor(role: Role): Promise<Page> {
  const own = await launchBrowser({ baseURL: world.baseURL });
  people.push(own);
  const page = await own.newPage();
  await logIn(page, role);
  return page;
}
const everyProblem = (): string[] => people.flatMap((person) => person.problems());
const forgetProblems = (): void => people.forEach((person) => person.clearProblems());
afterEach(() => {
  expect(everyProblem()).toEqual([]);
});
afterAll(async () => {
  for (const person of people) await person.close();
});

/** Pages whose text must not mention anything outside the caller's subtree. */
async function neverShows(page: Page, urls: readonly string[], forbidden: readonly string[]): Promise<void> {
  for (const url of urls) {
    await page.goto(url);
    const shown = await mainText(page);
    for (const word of forbidden) expect(shown, `${url} shows ${word}`).not.toContain(word);
  }
}

/** A URL outside the caller's subtree answers "not found" (a 404 page; the browser logs the 404, which is the point). */
async function outOfReach(page: Page, url: string): Promise<void> {
  const response = await page.goto(url);
  expect(response?.status(), url).toBe(404);
  expect(await text(page, 'h1')).toBe('Not found');
  forgetProblems();
}

describe('reseller panel (Mirpur Link)', () => {
  let page: Page;
  beforeAll(async () => {
    page = await personFor('reseller');
  });

  it('shows its wallet and only its subtree, and a menu without what a reseller may not do', async () => {
    await page.goto('/');
    expect(await text(page, '.stat.info .value')).toMatch(/^Tk [\d,]+\.\d\d$/);
    expect(await menu(page)).toEqual(expect.arrayContaining(['Customers', 'My wallet', 'Sub-resellers']));
    expect(await menu(page)).not.toContain('Routers');
    expect(await menu(page)).not.toContain('System status');
    await shoot(page, 'reseller-dashboard');
    await neverShows(page, ['/', '/customers', '/payments', '/bills', '/sessions', '/operators', '/staff', '/cards'], [world.names.sibling_customer, world.ids.sibling_customer, 'Uttara Connect', world.names.isp_customer, world.ids.isp_customer, world.names.foreign_customer, 'Chattogram']);
    await page.goto('/customers');
    const names = await page.locator('#customer-table td.primary-cell').allTextContents();
    expect(names.join(' ')).toContain(world.names.reseller_customer);
    expect(names.join(' ')).toContain(world.names.sub_customer);
    await page.fill('#f-filters-text', world.names.sibling_customer);
    await page.waitForFunction(() => document.querySelector('#results .empty') !== null);
    await shoot(page, 'reseller-customers');
    await outOfReach(page, `/customers/${world.ids.sibling_customer}`);
    await outOfReach(page, `/customers/${world.ids.isp_customer}`);
    await outOfReach(page, '/operators/uttara-connect');
  });

  it('recharges a customer from its wallet: the balance is shown, an amount beyond it is refused beside the field, a month goes through', async () => {
    await page.goto(`/customers/${world.ids.reseller_customer}`);
    await page.click('#action-payment summary');
    const balanceBefore = await text(page, '[data-wallet-balance]');
    expect(balanceBefore).toMatch(/^Tk [\d,]+\.\d\d$/);
    expect(await page.inputValue('#f-payment-method')).toBe('reseller_wallet');
    const before = await countEvents(world);
    await page.fill('#f-payment-amount', '900000.00');
    await submit(page, '#action-payment button[type=submit]');
    expect(await fieldError(page, '#action-payment', 'amount')).toMatch(/wallet|balance/i);
    expect(await page.inputValue('#f-payment-amount')).toBe('900000.00');
    expect(await countEvents(world)).toBe(before);
    await shoot(page, 'reseller-recharge-refused', { phone: false });
    await page.fill('#f-payment-amount', '500.00');
    await page.selectOption('#f-payment-recharge_package_id', 'home-10m');
    await submit(page, '#action-payment button[type=submit]');
    expect(await flash(page)).toBe('Payment recorded.');
    await page.click('#action-payment summary');
    const balanceAfter = await text(page, '[data-wallet-balance]');
    const amount = (value: string): number => Number(value.replace(/[^\d.]/g, ''));
    // Mirpur Link keeps its 60 % share of the 500.00 and its wallet pays the ISP the other 200.00.
    expect(amount(balanceBefore) - amount(balanceAfter)).toBeCloseTo(200, 2);
  });

  it('manages its own sub-resellers and reads its commission statement and wallet history', async () => {
    await page.goto('/operators');
    const rows = await page.locator('#operator-table tbody tr').allTextContents();
    expect(rows.join(' ')).toContain('Pallabi Net');
    expect(rows).toHaveLength(1);
    await shoot(page, 'reseller-sub-resellers');
    await page.goto(`/operators/${SUB_RESELLER}`);
    await page.click('#action-topup summary');
    await page.fill('#f-topup-amount', '1000.00');
    await submitConfirmed(page, '#action-topup button[type=submit]');
    expect(await flash(page)).toBe('Wallet credited.');
    await page.goto(`/operators/${RESELLER}/commission`);
    expect(await text(page, '[data-commission-net]')).toMatch(/^Tk [\d,]+\.\d\d$/);
    expect(await page.locator('table tbody tr').count()).toBeGreaterThan(0);
    await shoot(page, 'reseller-commission');
    await page.goto(`/operators/${RESELLER}/wallet`);
    const history = await text(page, '#wallet-table');
    expect(history).toContain('Top up');
    expect(history).toContain('Debit');
    await shoot(page, 'reseller-wallet');
  });
});

describe('sub-reseller panel (Pallabi Net)', () => {
  let page: Page;
  beforeAll(async () => {
    page = await personFor('sub_reseller');
  });

  it('sees only its own customers and recharges one from its wallet', async () => {
    await neverShows(page, ['/', '/customers', '/payments', '/sessions'], [world.names.reseller_customer, world.ids.reseller_customer, world.names.sibling_customer, world.names.isp_customer, world.ids.isp_customer, 'Chattogram']);
    await page.goto('/customers');
    const names = await page.locator('#customer-table td.primary-cell').allTextContents();
    expect(names.join(' ')).toContain(world.names.sub_customer);
    await outOfReach(page, `/customers/${world.ids.reseller_customer}`);
    await page.goto(`/customers/${world.ids.sub_customer}`);
    await page.click('#action-payment summary');
    await page.fill('#f-payment-amount', '500.00');
    await page.selectOption('#f-payment-recharge_package_id', 'home-10m');
    await submit(page, '#action-payment button[type=submit]');
    expect(await flash(page)).toBe('Payment recorded.');
    await page.goto('/');
    await shoot(page, 'sub-reseller-dashboard');
  });
});

describe('manager panel (front desk of Mirpur Link)', () => {
  let page: Page;
  beforeAll(async () => {
    page = await personFor('manager');
  });

  it('offers exactly what its operator allowed: customers and payments, no suspension, no money reports, no bill run', async () => {
    await page.goto('/');
    expect(await page.locator('[data-stat="active"]').count()).toBe(1);
    expect(await page.locator('[data-stat="revenue-month"]').count()).toBe(0);
    expect(await menu(page)).not.toContain('Books');
    await page.goto(`/customers/${world.ids.reseller_customer}`);
    expect(await page.locator('#action-payment').count()).toBe(1);
    expect(await page.locator('#action-suspend').count()).toBe(0);
    await shoot(page, 'manager-customer');
    const response = await page.goto('/bill-runs');
    expect(response?.status()).toBe(403);
    expect(await text(page, 'h1')).toBe('Not allowed');
    forgetProblems();
    await outOfReach(page, `/customers/${world.ids.sibling_customer}`);
  });

  it('registers a customer for its operator', async () => {
    await page.goto('/customers/new');
    await page.fill('#f-customer-name', 'Shahana Parvin');
    await page.fill('#f-customer-mobile', '+8801712345987');
    await page.fill('#f-customer-zone', 'Mirpur 10');
    await page.fill('#f-customer-username', 'shahana.mirpur');
    await page.fill('#f-customer-password', 'pppoe-pass-2');
    await page.selectOption('#f-customer-package_id', 'home-10m');
    await submit(page, '#customer-form button[type=submit]');
    expect(await flash(page)).toBe('Customer registered.');
    expect(await text(page, '.crumbs + h1, h1')).toContain('Shahana Parvin');
  });
});

describe('accountant panel', () => {
  let page: Page;
  beforeAll(async () => {
    page = await personFor('accountant');
  });

  it('reads every book and report, and closes a period after confirming with a passkey', async () => {
    await page.goto('/books');
    expect(await page.locator('#book-table tbody tr').count()).toBe(4);
    await shoot(page, 'accountant-books');
    for (const report of ['balance-sheet', 'income-statement', 'ar-aging', 'journal']) {
      await page.goto(`/books/${ISP}/${report}`);
      expect(await page.locator('.tabs a.active').textContent()).not.toBe('');
    }
    await shoot(page, 'accountant-journal');
    // The exports are the API's files, downloaded with the session.
    await page.goto(`/books/${ISP}`);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#exports a:has-text("Journal CSV")')]);
    const csv = readFileSync((await download.path())!, 'utf8');
    expect(csv.split('\n')[0]).toMatch(/date/i);
    expect(csv.split('\n').length).toBeGreaterThan(10);
    await page.goto(`/books/${RESELLER}/reseller-statement`);
    await shoot(page, 'accountant-reseller-statement');
    await page.goto('/customers');
    expect(await page.locator('a:has-text("New customer")').count()).toBe(0);

    await registerPasskey(page, 'Accounts PC');
    const lastMonthEnd = new Date();
    lastMonthEnd.setUTCDate(0);
    const through = lastMonthEnd.toISOString().slice(0, 10);
    await page.goto(`/books/${ISP}`);
    await page.click('#period-close summary');
    await page.fill('#f-close-through', through);
    await submitConfirmed(page, '#period-close button[type=submit]');
    expect(await page.locator('.step-up').count()).toBe(1);
    await Promise.all([page.waitForNavigation(), page.click('[data-step-up]')]);
    expect(await flash(page)).toContain(`closed through ${through}`);
    await shoot(page, 'accountant-trial-balance');
  });
});

describe('auditor panel', () => {
  let page: Page;
  beforeAll(async () => {
    page = await personFor('auditor');
  });

  it('reads everything of the ISP and can change nothing', async () => {
    for (const url of ['/', '/customers', `/customers/${world.ids.isp_customer}`, '/payments', '/bills', '/cards', '/operators', `/operators/${RESELLER}`, '/books', `/books/${ISP}`, '/projections', '/replay']) {
      await page.goto(url);
      // The only form that writes is the log-out button.
      const writes = await page.locator('main form[method=post]').count();
      expect(writes, url).toBe(0);
    }
    await neverShows(page, ['/customers', '/payments'], [world.names.foreign_customer, 'Chattogram']);
    await page.goto('/projections');
    await shoot(page, 'auditor-system-status');
    await page.goto(`/customers/${world.ids.isp_customer}`);
    await shoot(page, 'auditor-customer');
  });
});

describe('card distributor panel', () => {
  let page: Page;
  beforeAll(async () => {
    page = await personFor('card_distributor');
  });

  it('redeems a card it holds for a customer; a wrong PIN is refused beside the field', async () => {
    const card = world.cards[0]!;
    await page.goto(`/customers/${world.ids.reseller_customer}`);
    await page.click('#action-card summary');
    await page.fill('#f-card-batch_id', card.batch_id);
    await page.fill('#f-card-serial', card.serial);
    await page.fill('#f-card-pin', '0000000000000000');
    const before = await countEvents(world);
    await submit(page, '#action-card button[type=submit]');
    expect(await fieldError(page, '#action-card', 'pin')).not.toBe('');
    expect(await countEvents(world)).toBe(before);
    await page.fill('#f-card-pin', card.pin.replace(/(\d{4})(?=\d)/g, '$1 '));
    await submit(page, '#action-card button[type=submit]');
    expect(await flash(page)).toBe('Card redeemed.');
    await shoot(page, 'card-distributor-customer');
  });
});

describe('another ISP', () => {
  it('sees none of Dhaka Fiber Net', async () => {
    const page = await personFor('other_admin');
    await neverShows(page, ['/', '/customers', '/operators', '/payments', '/cards', '/routers', '/books'], ['Dhaka Fiber', 'Mirpur Link', world.names.isp_customer, world.names.sub_customer]);
    await outOfReach(page, `/customers/${world.ids.isp_customer}`);
  });
});
