import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { addVirtualAuthenticator, PHONE, screenshot } from '../support/browser.js';
import { LOGINS, PASSWORD, type PanelWorld, type Role } from './panels-world.js';

/**
 * Steps the panels' browser tests share: logging in through the form, sending a form and waiting for the page
 * that answers it, confirming a dialog, screenshots on a laptop and a phone, and registering a passkey through
 * Chrome's virtual authenticator.
 */
export const SHOTS = 'panels';

export async function logIn(page: Page, role: Role): Promise<void> {
  await page.goto('/login');
  await page.fill('#login', LOGINS[role]);
  await page.fill('#password', PASSWORD);
  await Promise.all([page.waitForURL((url) => url.pathname === '/'), page.click('form[action="/login"] button[type=submit]')]);
}

/** Clicks a submit button and waits for the page the server answers with. */
export async function submit(page: Page, button: string): Promise<void> {
  await Promise.all([page.waitForNavigation(), page.click(button)]);
}

/** Clicks a button whose form asks for confirmation, and confirms in the dialog. */
export async function submitConfirmed(page: Page, button: string): Promise<void> {
  await page.click(button);
  await page.waitForSelector('#confirm-dialog[open]');
  await Promise.all([page.waitForNavigation(), page.click('#confirm-yes')]);
}

/** The flash message after a redirect. */
export async function flash(page: Page): Promise<string> {
  return (await page.locator('.flash').textContent())?.trim() ?? '';
}

/** The error shown beside a field of a form. */
export async function fieldError(page: Page, form: string, field: string): Promise<string> {
  return (await page.locator(`${form} [data-field="${field}"] .field-error`).textContent())?.trim() ?? '';
}

/** A screenshot of the page as it is, and of the same URL on a phone (a tab of the same browser, so the same login). */
export async function shoot(page: Page, name: string, options: Readonly<{ phone?: boolean }> = {}): Promise<void> {
  await page.waitForLoadState('load');
  await screenshot(page, SHOTS, `${name}-desktop`);
  if (options.phone === false) return;
  const phone = await page.context().newPage();
  await phone.setViewportSize(PHONE);
  try {
    await phone.goto(page.url());
    await phone.waitForLoadState('load');
    // What a phone shows first, and the whole page.
    await screenshot(phone, SHOTS, `${name}-phone`, { fullPage: false });
    await screenshot(phone, SHOTS, `${name}-phone-full`);
  } finally {
    await phone.close();
  }
}

/** Registers a passkey for the logged-in person on /account, with Chrome's virtual authenticator on that page. */
export async function registerPasskey(page: Page, name: string): Promise<Awaited<ReturnType<typeof addVirtualAuthenticator>>> {
  const authenticator = await addVirtualAuthenticator(page);
  await page.goto('/account');
  await page.fill('#passkey-name', name);
  await Promise.all([page.waitForURL((url) => url.searchParams.get('registered') === '1'), page.click('form[data-passkey-register] button[type=submit]')]);
  expect(await authenticator.credentials()).toHaveLength(1);
  return authenticator;
}

/** Every name shown in the page's main area (for "this never appears" checks). */
export async function mainText(page: Page): Promise<string> {
  return (await page.locator('main').textContent()) ?? '';
}

export async function countEvents(world: PanelWorld): Promise<number> {
  return world.eventCount();
}
