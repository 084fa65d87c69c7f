import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type Browser } from '../support/browser.js';
import { countEvents, flash, logIn, registerPasskey, shoot, submit, submitConfirmed } from './panels-steps.js';
import { ISP, LOGINS, startPanelWorld, type PanelWorld } from './panels-world.js';

/**
 * Passkeys in the browser, through Chrome's virtual authenticator (DevTools protocol: WebAuthn.enable and
 * WebAuthn.addVirtualAuthenticator): registered from the account page, used to sign in without a password, and
 * as the step-up a risky action asks for — refused first, carried out after the confirmation, with nothing
 * written in between.
 */
let world: PanelWorld;
let browser: Browser;
let page: Page;
let authenticator: Awaited<ReturnType<typeof registerPasskey>>;

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

describe('passkeys in the panel', () => {
  it('registers a passkey from the account page', async () => {
    authenticator = await registerPasskey(page, 'Front desk PC');
    expect(await page.locator('#passkey-table tbody tr').count()).toBe(1);
    expect(await page.locator('#passkey-table').textContent()).toContain('Front desk PC');
    const stored = await world.database.pool.query<{ name: string }>('SELECT c.name FROM webauthn_credentials c JOIN logins l USING (login_id) WHERE l.login = $1', [LOGINS.admin]);
    expect(stored.rows.map((row) => row.name)).toEqual(['Front desk PC']);
    await shoot(page, 'account-passkeys');
  });

  it('signs in with the passkey alone after logging out', async () => {
    await submit(page, 'form[action="/logout"] button[type=submit]');
    expect(new URL(page.url()).pathname).toBe('/login');
    await shoot(page, 'login');
    await Promise.all([page.waitForURL((url) => url.pathname === '/'), page.click('[data-passkey-login]')]);
    expect(await page.locator('.me-text small').textContent()).toContain('ISP admin');
    const used = await world.database.pool.query<{ last_used_at: Date | null }>('SELECT last_used_at FROM webauthn_credentials');
    expect(used.rows[0]!.last_used_at).not.toBeNull();
  });

  it('asks for the passkey before a refund, writes nothing until then, and refunds once confirmed', async () => {
    const payment = (await world.database.pool.query<{ payment_id: string; customer_id: string }>("SELECT payment_id, customer_id FROM payments WHERE tenant = $1 AND method = 'cash' AND refunded = 0 ORDER BY received_at DESC LIMIT 1", [ISP])).rows[0]!;
    await page.goto(`/payments/${payment.payment_id}`);
    await page.fill('#f-refund-amount', '50.00');
    await page.fill('#f-refund-reason', 'goodwill for an outage');
    const before = await countEvents(world);
    await submitConfirmed(page, '#actions button[type=submit]');
    expect(await page.locator('.step-up').count()).toBe(1);
    expect(await countEvents(world)).toBe(before);
    await shoot(page, 'step-up-prompt', { phone: false });
    const counter = async (): Promise<number> => ((await authenticator.credentials()) as { signCount: number }[])[0]!.signCount;
    const signed = await counter();
    await Promise.all([page.waitForNavigation(), page.click('[data-step-up]')]);
    expect(await flash(page)).toContain('Refund recorded');
    expect(await counter()).toBeGreaterThan(signed);
    const refunds = await world.database.pool.query<{ n: string }>('SELECT count(*) AS n FROM refunds WHERE payment_id = $1', [payment.payment_id]);
    expect(Number(refunds.rows[0]!.n)).toBe(1);
  });
});
