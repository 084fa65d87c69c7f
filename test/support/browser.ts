import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type CDPSession, type ConsoleMessage, type Page } from 'playwright-core';

/**
 * Debian's Chromium driven by playwright-core, for the browser tests of the panels and the portals. This machine
 * has no internet, so the browser is told not to reach for it (no QUIC, no component updates, no sync, no
 * background networking), and every context starts from a fresh user data directory that is removed afterwards.
 *
 * Each page collects what would show up red in the developer tools (console errors, uncaught exceptions, failed
 * requests for our own assets): `problems()` returns them, and a test asserts there are none.
 */
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
] as const;

/** The viewports screenshots are taken in: a laptop, and a phone (a common Android width). */
export const DESKTOP = { width: 1366, height: 900 } as const;
export const PHONE = { width: 390, height: 844 } as const;

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Screenshots and other things a person looks at after a run (git-ignored). */
export const ARTIFACTS_DIR = join(ROOT, 'artifacts');

export type Browser = Readonly<{
  context: BrowserContext;
  /** A new tab whose console errors, page errors and failed requests are collected. */
  newPage: (options?: Readonly<{ viewport?: Readonly<{ width: number; height: number }> }>) => Promise<Page>;
  /** Everything that went wrong on any page so far, as lines a test can print. */
  problems: () => readonly string[];
  /** Forget the problems collected so far (after a step that provokes one on purpose). */
  clearProblems: () => void;
  close: () => Promise<void>;
}>;

/** Starts Chromium with a fresh profile; `baseURL` makes `page.goto('/login')` work. */
export async function launchBrowser(options: Readonly<{ baseURL?: string; viewport?: Readonly<{ width: number; height: number }> }> = {}): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'ispbills-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS],
    viewport: options.viewport ?? DESKTOP,
    ...(options.baseURL === undefined ? {} : { baseURL: options.baseURL }),
  });
  const problems: string[] = [];
  const watch = (page: Page): void => {
    page.on('console', (message: ConsoleMessage) => {
      if (message.type() === 'error') problems.push(`console error on ${page.url()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error on ${page.url()}: ${error.message}`));
    page.on('requestfailed', (request) => {
      // A navigation the test itself interrupts (a click that leaves the page) is not a failure of the page.
      if (request.failure()?.errorText === 'net::ERR_ABORTED') return;
      problems.push(`request failed on ${page.url()}: ${request.url()} ${request.failure()?.errorText ?? ''}`);
    });
  };
  context.on('page', watch);
  for (const page of context.pages()) watch(page);
  return {
    context,
    newPage: async (pageOptions = {}) => {
      const page = await context.newPage();
      if (pageOptions.viewport !== undefined) await page.setViewportSize(pageOptions.viewport);
      return page;
    },
    problems: () => [...problems],
    clearProblems: () => {
      problems.length = 0;
    },
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Saves a screenshot (the whole page unless `fullPage: false`) as `artifacts/screenshots/<folder>/<name>.png`. */
export async function screenshot(page: Page, folder: string, name: string, options: Readonly<{ fullPage?: boolean }> = {}): Promise<string> {
  const path = join(ARTIFACTS_DIR, 'screenshots', folder, `${name}.png`);
  mkdirSync(dirname(path), { recursive: true });
  await page.screenshot({ path, fullPage: options.fullPage ?? true });
  return path;
}

/**
 * Chrome's virtual authenticator (a platform passkey with user verification) on a page, through the DevTools
 * protocol: `navigator.credentials.create()` and `.get()` on that page then work without a person or a device.
 */
export async function addVirtualAuthenticator(page: Page): Promise<Readonly<{ session: CDPSession; authenticator_id: string; credentials: () => Promise<readonly unknown[]> }>> {
  const session = await page.context().newCDPSession(page);
  await session.send('WebAuthn.enable', { enableUI: false });
  const { authenticatorId } = await session.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });
  return {
    session,
    authenticator_id: authenticatorId,
    credentials: async () => (await session.send('WebAuthn.getCredentials', { authenticatorId })).credentials,
  };
}
