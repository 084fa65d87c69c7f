import { createHash, randomBytes, randomInt, randomUUID } from 'node:crypto';
import pino from 'pino';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPackage } from '../../commands/customer-commands.js';
import { generateCardBatch } from '../../commands/payment-commands.js';
import { registerRouter } from '../../commands/router-commands.js';
import { PostgresEventStore } from '../../eventstore/postgres/postgres-event-store.js';
import { DEFAULT_RADIUS_SETTINGS, startRadius, type RunningRadius } from '../../radius-bridge/radius-role.js';
import { ATTRIBUTE, CODE, signAccessRequest, tlv } from '../../radius-bridge/wire.js';
import { radclient } from '../radius/support/radclient.js';
import { exchange } from '../radius/support/udp.js';
import { DESKTOP, launchBrowser, PHONE, screenshot, type Browser } from '../support/browser.js';
import { admin, ok, PACKAGE_10M, runtimeOn } from '../support/demo-isp.js';
import { startCustomerWorld, TestRouterLogin, type CustomerWorld } from './customer-world.js';

/**
 * A device at a MikroTik hotspot, end to end in Chromium: the router serves our login.html, which forwards the
 * browser to the hotspot page with the router's variables; the person signs up with a mobile number and the code
 * sent by SMS, pays for a package through the (local) SSLCommerz payment page, comes back, and the page logs the
 * device in by posting its MAC login to the router's login URL (a local stand-in that records what it gets). The
 * credentials it posted are then checked against radius-bridge as the router would send them (CHAP, as one-click
 * setup configures hotspots), and the returning device's MAC login without any page is checked with radclient.
 * Wrong input on the way (a bad number, a wrong code, a taken number, a bad card PIN) is shown beside its field
 * and appends nothing. Every page is screenshotted on a phone and a desktop, and no page logs a console error.
 */
const SECRET = 'hotspot-radius-secret-1';
const DEVICE = 'A4:5E:60:1B:2C:3D';
const MOBILE_LOCAL = '01819 123456';
const MOBILE = '+8801819123456';

let cw: CustomerWorld;
let browser: Browser;
let page: Page;
let router: TestRouterLogin;
let bridge: RunningRadius;
let router_id: string;
let hotspot_package: string;
let card_batch: string;
/** The CHAP identifier and challenge the router put in its login page, as bytes and as RouterOS writes them. */
const chap = { id: Buffer.from([randomInt(0, 256)]), challenge: randomBytes(16) };
const octal = (bytes: Buffer): string => [...bytes].map((byte) => `\\${byte.toString(8).padStart(3, '0')}`).join('');

beforeAll(async () => {
  cw = await startCustomerWorld();
  const { world } = cw;
  router_id = `router-${randomUUID().slice(0, 8)}`;
  ok(await registerRouter(world.runtime, admin(world.a.tenant), { router_id, name: 'Dhanmondi Lake Café', nas_ip: '127.0.0.1', secret: SECRET }));
  hotspot_package = `pkg-hs-${randomUUID().slice(0, 6)}`;
  ok(await createPackage(world.runtime, admin(world.a.tenant), { ...PACKAGE_10M, package_id: hotspot_package, name: 'Hotspot 1 day', down_kbps: 5_000, up_kbps: 1_000, price: '20.00', validity_days: 1, data_quota_mb: 2048 }));
  card_batch = `B${randomUUID().slice(0, 6).toUpperCase()}`;
  const pins = ['4821093756120934'];
  ok(await generateCardBatch(world.runtime, admin(world.a.tenant), { batch_id: card_batch, count: 1, value: '20.00', package_id: hotspot_package, expires_on: '2099-12-31', first_serial: 1 }, () => pins.shift()!));
  await world.settle();
  // The hotspot sells its day pass (the ISP's settings for this router), which the page lists first.
  const set = await world.app.inject({
    method: 'PUT',
    url: `/api/v1/routers/${router_id}/hotspot`,
    headers: { cookie: cw.admin.cookie, 'x-csrf-token': cw.admin.csrf },
    payload: { owner_operator_id: world.a.tenant, package_ids: [hotspot_package, world.a.package_id], self_registration: true },
  });
  expect(set.statusCode, set.body).toBe(200);

  const store = new PostgresEventStore(world.database.pool, { poll_interval_ms: 20 });
  bridge = await startRadius(world.database.pool, store, runtimeOn(world.database.pool, { now: () => new Date() }), { ...DEFAULT_RADIUS_SETTINGS, auth_port: 0, acct_port: 0, poll_interval_ms: 20, usage_interval_ms: 0 }, pino({ level: 'silent' }));

  router = await new TestRouterLogin().start();
  const download = await world.app.inject({ method: 'GET', url: `/hotspot/${router_id}/login.html` });
  expect(download.statusCode).toBe(200);
  expect(download.headers['content-disposition']).toContain('login.html');
  router.login_html = download.body;
  router.variables = { mac: DEVICE, ip: '10.5.50.23', 'link-login-only': router.url, 'link-orig': 'http://neverssl.com/', 'chap-id': octal(chap.id), 'chap-challenge': octal(chap.challenge), error: '' };
  browser = await launchBrowser({ viewport: PHONE });
  page = await browser.newPage();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await bridge?.stop();
  await router?.stop();
  await cw?.close();
});

/** A page in both sizes people use: a phone (the hotspot's usual visitor) and a desktop. */
async function shoot(name: string): Promise<void> {
  await screenshot(page, 'portal', `${name}-phone`);
  await page.setViewportSize(DESKTOP);
  await screenshot(page, 'portal', `${name}-desktop`);
  await page.setViewportSize(PHONE);
}

const fieldError = (name: string) => page.locator(`.field.has-error[data-field="${name}"] .field-error`);

/** What radius-bridge answers the router for a CHAP login with what the page posted (hex MD5 response in `password`). */
async function chapLogin(username: string, response_hex: string, calling_station: string = DEVICE): Promise<number | null> {
  const chap_password = Buffer.concat([chap.id, Buffer.from(response_hex, 'hex')]);
  const packet = signAccessRequest(
    randomInt(0, 256),
    // As the router sends it: the device it saw logging in is the Calling-Station-Id.
    () => Buffer.concat([tlv(ATTRIBUTE.USER_NAME, username), tlv(ATTRIBUTE.CHAP_PASSWORD, chap_password), tlv(ATTRIBUTE.CHAP_CHALLENGE, chap.challenge), tlv(ATTRIBUTE.NAS_IP_ADDRESS, Buffer.from([127, 0, 0, 1])), tlv(ATTRIBUTE.CALLING_STATION_ID, calling_station)]),
    Buffer.from(SECRET),
    randomBytes(16),
  );
  const reply = await exchange(packet, bridge.auth_port);
  return reply === null ? null : reply[0]!;
}

/** The router's MAC authentication of a returning device: no page, the MAC as user name and password. */
const macLogin = () => radclient('auth', bridge.auth_port, SECRET, { 'User-Name': DEVICE, 'User-Password': DEVICE, 'Calling-Station-Id': DEVICE, 'NAS-IP-Address': '127.0.0.1', 'Message-Authenticator': '0x00' });

describe('a device at the hotspot, from the router’s redirect to the router’s login', () => {
  it('the router’s login.html forwards to the hotspot page with the device and the login URL, in English or Bengali', async () => {
    await page.goto(router.url);
    await page.waitForURL(/\/hotspot\/router-/);
    expect(new URL(page.url()).searchParams.get('mac')).toBe(DEVICE);
    await expect.poll(() => page.locator('h1').first().textContent()).toContain('Welcome to Demo Net Wi-Fi');
    expect(await page.locator('.hs-place').textContent()).toBe('Dhanmondi Lake Café');
    expect(await page.locator('.pkg-name').allTextContents()).toEqual(['Hotspot 1 day', 'Home 10M']);
    await shoot('hotspot-1-start');
    await page.click('a.hs-lang');
    await expect.poll(() => page.locator('h1').first().textContent()).toContain('ওয়াই-ফাইতে স্বাগতম');
    await shoot('hotspot-1-start-bengali');
    await page.click('a.hs-lang');
    await expect.poll(() => page.locator('h1').first().textContent()).toContain('Welcome');
  });

  it('a number that is not one is shown beside the field; nothing is sent or appended', async () => {
    const events = await cw.eventCount();
    const sent = cw.sms.received.length;
    await page.fill('input[name=mobile]', '12345');
    await page.fill('input[name=name]', 'Rina Akter');
    await page.getByRole('button', { name: 'Send me a code' }).click();
    await expect.poll(() => fieldError('mobile').textContent()).toContain('is not a mobile number');
    expect(await page.inputValue('input[name=name]')).toBe('Rina Akter');
    expect(await page.inputValue('input[name=mobile]')).toBe('12345');
    await shoot('hotspot-2-bad-number');
    expect(cw.sms.received.length).toBe(sent);
    expect(await cw.eventCount()).toBe(events);
  });

  it('a wrong code is shown beside the code field and appends nothing', async () => {
    await page.fill('input[name=mobile]', MOBILE_LOCAL);
    await page.getByRole('button', { name: 'Send me a code' }).click();
    await page.waitForSelector('input[name=code]');
    await shoot('hotspot-3-code');
    const code = cw.codeSentTo(MOBILE);
    const events = await cw.eventCount();
    await page.fill('input[name=code]', code === '000000' ? '111111' : '000000');
    await page.getByRole('button', { name: 'Continue' }).click();
    await expect.poll(() => fieldError('code').textContent()).toContain('not the code we sent');
    await shoot('hotspot-4-wrong-code');
    expect(await cw.eventCount()).toBe(events);
  });

  it('the right code registers the number and this device, and asks for a package', async () => {
    await page.fill('input[name=code]', cw.codeSentTo(MOBILE));
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL(/\/account/);
    await expect.poll(() => page.locator('h1').first().textContent()).toContain('Choose a package');
    await shoot('hotspot-5-choose');
    const customer = await cw.world.database.pool.query<{ customer_id: string; status: string; mac: string; username: string }>('SELECT customer_id, status, mac, username FROM customers WHERE mobile = $1', [MOBILE]);
    expect(customer.rows).toEqual([expect.objectContaining({ status: 'expired', mac: DEVICE, username: MOBILE.slice(1) })]);
    // Until it pays, the router's MAC login of this device is refused.
    expect((await macLogin()).code).toBe('Access-Reject');
  });

  it('a bad card PIN is shown beside the PIN and appends nothing', async () => {
    const events = await cw.eventCount();
    await page.fill('input[name=batch_id]', card_batch);
    await page.fill('input[name=serial]', '00000001');
    await page.fill('input[name=pin]', '1111 2222 3333 4444');
    await page.getByRole('button', { name: 'Use this card' }).click();
    await expect.poll(() => fieldError('pin').textContent()).toContain('PIN does not match');
    expect(await page.inputValue('input[name=batch_id]')).toBe(card_batch);
    await shoot('hotspot-6-bad-pin');
    expect(await cw.eventCount()).toBe(events);
  });

  it('paying online at the gateway brings the browser back and logs the device in at the router with its MAC login', async () => {
    await page.getByRole('button', { name: 'Pay online: Hotspot 1 day' }).click();
    await page.waitForURL(/EasyCheckOut/);
    await shoot('hotspot-7-gateway');
    await page.click('#pay');
    const posted = await router.next(20_000);
    expect(posted).toMatchObject({ username: DEVICE, dst: 'http://neverssl.com/', popup: 'true' });
    // http-chap: the page sent hex(MD5(chap-id ‖ MAC ‖ chap-challenge)), as MikroTik's md5.js would.
    const expected = createHash('md5').update(Buffer.concat([chap.id, Buffer.from(DEVICE), chap.challenge])).digest('hex');
    expect(posted.password).toBe(expected);
    await page.waitForURL(router.url);
    const paid = await cw.world.database.pool.query<{ data: { method: string; amount: string; to_recharge: string } }>("SELECT e.data FROM events e JOIN customers c ON e.stream_id = 'customer-' || c.customer_id WHERE c.mobile = $1 AND e.type = 'payment-received'", [MOBILE]);
    expect(paid.rows.map((row) => row.data)).toEqual([expect.objectContaining({ method: 'online', amount: '20.00', to_recharge: '20.00' })]);
  });

  it('radius-bridge accepts what the page posted, as the router sends it (CHAP), and the device’s own MAC login from now on', async () => {
    const login = { username: DEVICE, password: createHash('md5').update(Buffer.concat([chap.id, Buffer.from(DEVICE), chap.challenge])).digest('hex') };
    let answer: number | null = null;
    for (let attempt = 0; attempt < 40 && answer !== CODE.ACCESS_ACCEPT; attempt += 1) {
      answer = await chapLogin(login.username, login.password);
      if (answer !== CODE.ACCESS_ACCEPT) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(answer).toBe(CODE.ACCESS_ACCEPT);
    // A forged response (another password) is refused: the accept above is about the credentials.
    expect(await chapLogin(login.username, createHash('md5').update('nonsense').digest('hex'))).toBe(CODE.ACCESS_REJECT);
    // The right answer from another device (the MAC typed into a form elsewhere) is refused too.
    expect(await chapLogin(login.username, login.password, '02:00:00:00:99:99')).toBe(CODE.ACCESS_REJECT);
    const reply = await macLogin();
    expect(reply.code, reply.output).toBe('Access-Accept');
    expect(reply.attributes.get('Mikrotik-Rate-Limit')).toEqual(['1000k/5000k']);
  });

  it('the account page then says the device is set, with the login button for next time', async () => {
    await page.goto(`${cw.base}/hotspot/${router_id}/account`);
    await expect.poll(() => page.locator('h1').first().textContent()).toContain('You are all set');
    expect(await page.locator('form.router-login').getAttribute('action')).toBe(router.url);
    expect(await page.locator('form.router-login').getAttribute('data-auto-submit')).toBeNull();
    await shoot('hotspot-8-ready');
    await page.click('a.hs-lang');
    await expect.poll(() => page.locator('h1').first().textContent()).toContain('সব প্রস্তুত');
    await shoot('hotspot-8-ready-bengali');
    await page.click('a.hs-lang');
    await expect.poll(() => page.locator('h1').first().textContent()).toContain('You are all set');
  });

  it('on another device the account is not used from here until the number signs in there, which moves it', async () => {
    const tablet = 'A4:5E:60:99:88:77';
    router.variables = { ...router.variables, mac: tablet };
    await page.goto(router.url);
    await page.waitForURL(/\/account/);
    await expect.poll(() => page.locator('h1').first().textContent()).toContain('Your account is on another device');
    expect(await page.locator('form.router-login').count()).toBe(0);
    await shoot('hotspot-9-other-device');
    await page.getByRole('link', { name: 'Move my account to this device' }).click();
    // A number gets one code a minute; the world's clock is the app's.
    cw.world.clock.set(new Date(cw.world.clock.now().getTime() + 2 * 60_000));
    await page.fill('input[name=mobile]', MOBILE);
    await page.getByRole('button', { name: 'Send me a code' }).click();
    await page.waitForSelector('input[name=code]');
    await page.fill('input[name=code]', cw.codeSentTo(MOBILE));
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL(/\/account/);
    await expect.poll(() => page.locator('h1').first().textContent()).toContain('You are all set');
    await page.getByRole('button', { name: 'Connect to the internet' }).click();
    expect(await router.next()).toMatchObject({ username: tablet });
  });

  it('a number registered already is shown beside the field when someone signs it up again; no SMS, nothing appended', async () => {
    const events = await cw.eventCount();
    const sent = cw.sms.received.length;
    await page.goto(`${cw.base}/hotspot/${router_id}?mode=register`);
    await page.fill('input[name=mobile]', MOBILE_LOCAL);
    await page.getByRole('button', { name: 'Send me a code' }).click();
    await expect.poll(() => fieldError('mobile').textContent()).toContain('already registered');
    expect(await page.inputValue('input[name=mobile]')).toBe(MOBILE_LOCAL);
    await shoot('hotspot-10-taken-number');
    expect(cw.sms.received.length).toBe(sent);
    expect(await cw.eventCount()).toBe(events);
  });

  it('no page logged a console error', () => {
    expect(browser.problems()).toEqual([]);
  });
});
