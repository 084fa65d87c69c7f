import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyPassword } from '../../api/access/passwords.js';
import { CODE_MAX_ATTEMPTS, CODE_TTL_MINUTES, MAX_CODES_PER_MOBILE_PER_HOUR, RESEND_AFTER_SECONDS } from '../../api/routes/hotspot.js';
import { createPackage } from '../../commands/customer-commands.js';
import { registerRouter } from '../../commands/router-commands.js';
import { DeliveryError, HttpProvider, type NotificationProvider, type OutgoingMessage } from '../../notifications/providers.js';
import { as, startApiWorld, type ApiWorld, type Session } from '../api/harness.js';
import { admin, ok, PACKAGE_10M } from '../support/demo-isp.js';
import { SmsTestEndpoint } from '../support/sms-test-endpoint.js';

/**
 * The hotspot API under the hotspot page: one-time codes by SMS (through the notifications module's HTTP SMS
 * provider and a local SMS gateway), hashed at rest, expiring, with a limited number of tries and throttled sends;
 * a sign-up that makes a self-registered hotspot customer with a session; a sign-in that moves the account to a
 * new device; and the ISP's settings of what a hotspot sells. Every refusal leaves the event log as it was.
 */
let world: ApiWorld;
let sms: SmsTestEndpoint;
/** The HTTP provider, unless a test makes the gateway fail. */
let failing = false;
let router_id: string;
let hotspot_package: string;

class SwitchableSms implements NotificationProvider {
  readonly name = 'test-sms';
  readonly channel = 'sms' as const;
  readonly rate_per_second = 1_000;
  constructor(private readonly inner: HttpProvider) {}
  async send(message: OutgoingMessage) {
    if (failing) throw new DeliveryError('test-sms: the gateway is down', false);
    return this.inner.send(message);
  }
}

beforeAll(async () => {
  sms = new SmsTestEndpoint();
  await sms.start();
  const provider = new HttpProvider({ name: 'http-sms', channel: 'sms', url_template: sms.url_template, body_template: null, content_type: 'application/json', headers: {}, rate_per_second: 1_000 });
  world = await startApiWorld({ sms: new SwitchableSms(provider) });
  router_id = `router-${randomUUID().slice(0, 8)}`;
  ok(await registerRouter(world.runtime, admin(world.a.tenant), { router_id, name: 'Dhanmondi Lake Café', nas_ip: '10.20.0.1', secret: 'hotspot-radius-secret' }));
  hotspot_package = `pkg-hs-${randomUUID().slice(0, 6)}`;
  ok(await createPackage(world.runtime, admin(world.a.tenant), { ...PACKAGE_10M, package_id: hotspot_package, name: 'Hotspot 1 day', price: '20.00', validity_days: 1, data_quota_mb: 2048 }));
  await world.settle();
}, 120_000);
afterAll(async () => {
  await world?.close();
  await sms?.stop();
});

const pool = () => world.database.pool;
const eventCount = async (): Promise<number> => Number((await pool().query<{ n: string }>('SELECT count(*) AS n FROM events')).rows[0]!.n);
let mobiles = 0;
/** A fresh Bangladeshi number and device per test, so throttles of one test do not touch another. */
const fresh = () => {
  mobiles += 1;
  const n = String(100_000 + mobiles * 37).padStart(6, '0');
  return { local: `01712${n}`, e164: `+8801712${n}`, mac: `02:00:00:${n.slice(0, 2)}:${n.slice(2, 4)}:${n.slice(4, 6)}` };
};
const ask = (body: Record<string, unknown>) => world.app.inject({ method: 'POST', url: `/api/v1/hotspot/${router_id}/codes`, payload: body, remoteAddress: `10.1.${mobiles % 250}.${(mobiles * 7) % 250}` });
const codeSentTo = (e164: string): string => {
  const message = [...sms.received].reverse().find((received) => received.to === e164);
  if (message === undefined) throw new Error(`no SMS to ${e164}`);
  return /^(\d{6}) /.exec(message.text)![1]!;
};
const register = (body: Record<string, unknown>) => world.app.inject({ method: 'POST', url: `/api/v1/hotspot/${router_id}/registrations`, payload: body });
const advance = (ms: number) => world.clock.set(new Date(world.clock.now().getTime() + ms));

describe('a hotspot as its page sees it', () => {
  it('names the ISP and the router, and sells the ISP’s current packages when nothing else is set', async () => {
    const response = await world.app.inject({ method: 'GET', url: `/api/v1/hotspot/${router_id}` });
    expect(response.statusCode, response.body).toBe(200);
    const site = response.json<{ name: string; isp: { name: string }; packages: { package_id: string; price: string }[]; self_registration: boolean }>();
    expect(site).toMatchObject({ name: 'Dhanmondi Lake Café', isp: { name: 'Demo Net' }, self_registration: true });
    expect(site.packages.map((item) => item.package_id)).toEqual([hotspot_package, world.a.package_id]);
  });

  it('an unknown router is ROUTER_NOT_FOUND', async () => {
    const response = await world.app.inject({ method: 'GET', url: '/api/v1/hotspot/no-such-router' });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toMatchObject({ error: { code: 'ROUTER_NOT_FOUND' } });
  });
});

describe('what a hotspot’s walled garden must let through: the app itself', () => {
  it('serves the pages’ stylesheet, script and fonts (Latin and Bengali), and the login.html of a registered router only', async () => {
    for (const [url, type] of [
      ['/assets/portal.css', 'text/css'],
      ['/assets/hotspot.js', 'javascript'],
      ['/assets/fonts/inter-latin-400-normal.woff2', 'font/woff2'],
      ['/assets/fonts/noto-sans-bengali-bengali-400-normal.woff2', 'font/woff2'],
    ] as const) {
      const response = await world.app.inject({ method: 'GET', url });
      expect(response.statusCode, url).toBe(200);
      expect(response.headers['content-type'], url).toContain(type);
    }
    const login = await world.app.inject({ method: 'GET', url: `/hotspot/${router_id}/login.html` });
    expect(login.statusCode).toBe(200);
    expect(login.body).toContain(`action="http://localhost:3000/hotspot/${router_id}"`);
    expect(login.body).toContain('value="$(link-login-only)"');
    expect((await world.app.inject({ method: 'GET', url: '/hotspot/no-such-router/login.html' })).statusCode).toBe(404);
  });
});

describe('one-time codes', () => {
  it('are sent by the SMS provider, kept only as a slow hash, and expire', async () => {
    const person = fresh();
    const before = await eventCount();
    const response = await ask({ mobile: person.local, mac: person.mac.toLowerCase().replaceAll(':', '-'), purpose: 'register', language: 'bn' });
    expect(response.statusCode, response.body).toBe(202);
    expect(response.json()).toMatchObject({ sent_to: '+88017•••••' + person.e164.slice(-3), resend_after_seconds: RESEND_AFTER_SECONDS });
    const code = codeSentTo(person.e164);
    expect(sms.received.at(-1)!.text).toContain('ওয়াই-ফাই কোড');
    const row = (await pool().query<{ code_hash: string; mac: string; expires_at: Date; created_at: Date }>('SELECT code_hash, mac, expires_at, created_at FROM hotspot_codes WHERE mobile = $1', [person.e164])).rows[0]!;
    expect(row.code_hash).toMatch(/^scrypt\$/);
    expect(row.code_hash).not.toContain(code);
    expect(await verifyPassword(code, row.code_hash)).toBe(true);
    expect(row.mac).toBe(person.mac);
    expect(row.expires_at.getTime() - row.created_at.getTime()).toBe(CODE_TTL_MINUTES * 60_000);
    // Sending a code is not a business fact: nothing in the log.
    expect(await eventCount()).toBe(before);

    advance(CODE_TTL_MINUTES * 60_000 + 1_000);
    const late = await register({ mobile: person.local, mac: person.mac, code });
    expect(late.statusCode).toBe(422);
    expect(late.json()).toMatchObject({ error: { code: 'OTP_EXPIRED', details: { field: 'code' } } });
    expect(await eventCount()).toBe(before);
  });

  it('allow a few tries: a wrong code says how many are left and changes nothing; then the code is dead, even the right one', async () => {
    const person = fresh();
    expect((await ask({ mobile: person.local, mac: person.mac, purpose: 'register' })).statusCode).toBe(202);
    const code = codeSentTo(person.e164);
    const wrong = code === '000000' ? '111111' : '000000';
    const before = await eventCount();
    for (let attempt = 1; attempt <= CODE_MAX_ATTEMPTS; attempt += 1) {
      const response = await register({ mobile: person.local, mac: person.mac, code: wrong });
      expect(response.statusCode).toBe(422);
      expect(response.json()).toMatchObject({ error: { code: 'OTP_WRONG', details: { field: 'code' } } });
      if (attempt < CODE_MAX_ATTEMPTS) expect(response.json<{ error: { message: string } }>().error.message).toContain(`${CODE_MAX_ATTEMPTS - attempt} ${CODE_MAX_ATTEMPTS - attempt === 1 ? 'try' : 'tries'} left`);
    }
    const right = await register({ mobile: person.local, mac: person.mac, code });
    expect(right.json()).toMatchObject({ error: { code: 'OTP_EXPIRED' } });
    expect(await eventCount()).toBe(before);
  });

  it('are for the device they were sent for', async () => {
    const person = fresh();
    expect((await ask({ mobile: person.local, mac: person.mac, purpose: 'register' })).statusCode).toBe(202);
    const response = await register({ mobile: person.local, mac: '02:99:99:99:99:99', code: codeSentTo(person.e164) });
    expect(response.json()).toMatchObject({ error: { code: 'OTP_WRONG' } });
  });

  it('are throttled: one a minute per number, a few an hour per number and per device', async () => {
    const person = fresh();
    expect((await ask({ mobile: person.local, mac: person.mac, purpose: 'register' })).statusCode).toBe(202);
    const sent = sms.received.length;
    const again = await ask({ mobile: person.local, mac: person.mac, purpose: 'register' });
    expect(again.statusCode).toBe(429);
    expect(again.json()).toMatchObject({ error: { code: 'RATE_LIMITED', details: { field: 'mobile' } } });
    for (let count = 1; count < MAX_CODES_PER_MOBILE_PER_HOUR; count += 1) {
      advance(RESEND_AFTER_SECONDS * 1000);
      expect((await ask({ mobile: person.local, mac: person.mac, purpose: 'register' })).statusCode).toBe(202);
    }
    advance(RESEND_AFTER_SECONDS * 1000);
    const over = await ask({ mobile: person.local, mac: person.mac, purpose: 'register' });
    expect(over.statusCode).toBe(429);
    expect(sms.received.length).toBe(sent + MAX_CODES_PER_MOBILE_PER_HOUR - 1);
    // Only the newest code works: an older one is retired when a new one is sent.
    const unused = await pool().query('SELECT 1 FROM hotspot_codes WHERE mobile = $1 AND used_at IS NULL', [person.e164]);
    expect(unused.rowCount).toBe(1);
    // The same device with other numbers is throttled too.
    const other = fresh();
    const byDevice = await ask({ mobile: other.local, mac: person.mac, purpose: 'register' });
    expect(byDevice.statusCode).toBe(429);
    advance(3_600_000);
    expect((await ask({ mobile: person.local, mac: person.mac, purpose: 'register' })).statusCode).toBe(202);
  });

  it('a bad number is refused beside its field, and a gateway that fails says so and retires the code', async () => {
    const person = fresh();
    const bad = await ask({ mobile: '12345', mac: person.mac, purpose: 'register' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: { code: 'INVALID_INPUT', details: { field: 'mobile' } } });
    const noDevice = await ask({ mobile: person.local, mac: 'not-a-mac', purpose: 'register' });
    expect(noDevice.json()).toMatchObject({ error: { code: 'INVALID_INPUT', details: { field: 'mac' } } });
    failing = true;
    try {
      const down = await ask({ mobile: person.local, mac: person.mac, purpose: 'register' });
      expect(down.statusCode).toBe(503);
      expect(down.json()).toMatchObject({ error: { code: 'SMS_UNAVAILABLE' } });
    } finally {
      failing = false;
    }
    const open = await pool().query('SELECT 1 FROM hotspot_codes WHERE mobile = $1 AND used_at IS NULL', [person.e164]);
    expect(open.rowCount).toBe(0);
  });
});

describe('signing up and signing in', () => {
  let person: ReturnType<typeof fresh>;
  let customer_id: string;

  it('the right code registers a self-registered hotspot customer (number as username, device as MAC login) and starts a session', async () => {
    person = fresh();
    expect((await ask({ mobile: person.local, mac: person.mac, purpose: 'register' })).statusCode).toBe(202);
    const response = await register({ mobile: person.local, mac: person.mac, code: codeSentTo(person.e164), name: 'Rina Akter' });
    expect(response.statusCode, response.body).toBe(201);
    const body = response.json<{ customer_id: string; csrf_token: string; position: string }>();
    customer_id = body.customer_id;
    const registered = await pool().query<{ data: Record<string, unknown>; metadata: Record<string, unknown> }>("SELECT data, metadata FROM events WHERE type = 'customer-registered' AND data->>'customer_id' = $1", [customer_id]);
    expect(registered.rows[0]!.data).toMatchObject({
      connection_type: 'hotspot',
      name: 'Rina Akter',
      mobile: person.e164,
      username: person.e164.slice(1),
      password: null,
      mac: person.mac,
      operator_id: world.a.tenant,
      package_id: hotspot_package,
      zone: 'Dhanmondi Lake Café',
      self_registered: true,
      profile: { kind: 'daily' },
    });
    expect(registered.rows[0]!.metadata).toMatchObject({ actor: { id: customer_id, role: 'customer' } });
    const cookie = response.cookies.find((candidate) => candidate.name === 'ispbills_session')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    const session: Session = { cookie: `ispbills_session=${cookie.value}`, csrf: body.csrf_token, role: 'customer', login: '' };
    const me = await world.app.inject(as(session, { method: 'GET', url: '/api/v1/me', headers: { 'x-consistent-with': body.position } }));
    expect(me.statusCode, me.body).toBe(200);
    expect(me.json()).toMatchObject({ customer_id, status: 'expired', mac: person.mac, connection_type: 'hotspot', isp: { name: 'Demo Net' } });
    // The code is spent.
    const replay = await register({ mobile: person.local, mac: person.mac, code: codeSentTo(person.e164) });
    expect(replay.json()).toMatchObject({ error: { code: 'OTP_EXPIRED' } });
  });

  it('a number registered already, or a device registered with another number, is refused before any SMS, and nothing changes', async () => {
    const before = await eventCount();
    const sent = sms.received.length;
    const taken = await ask({ mobile: person.e164, mac: '02:11:22:33:44:55', purpose: 'register' });
    expect(taken.statusCode).toBe(409);
    expect(taken.json()).toMatchObject({ error: { code: 'MOBILE_TAKEN', details: { field: 'mobile' } } });
    const device = await ask({ mobile: fresh().local, mac: person.mac, purpose: 'register' });
    expect(device.statusCode).toBe(409);
    expect(device.json()).toMatchObject({ error: { code: 'MAC_TAKEN', details: { field: 'mac' } } });
    const unknown = await ask({ mobile: fresh().local, mac: '02:11:22:33:44:56', purpose: 'sign_in' });
    expect(unknown.json()).toMatchObject({ error: { code: 'MOBILE_NOT_REGISTERED', details: { field: 'mobile' } } });
    expect(sms.received.length).toBe(sent);
    expect(await eventCount()).toBe(before);
  });

  it('signing in on a new device moves the account to it (its MAC is the login now), with a session', async () => {
    advance(RESEND_AFTER_SECONDS * 1000);
    const phone = '02:aa:bb:cc:dd:ee';
    expect((await ask({ mobile: person.local, mac: phone, purpose: 'sign_in' })).statusCode).toBe(202);
    const response = await world.app.inject({ method: 'POST', url: `/api/v1/hotspot/${router_id}/sign-ins`, payload: { mobile: person.local, mac: phone, code: codeSentTo(person.e164) } });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toMatchObject({ customer_id, device_moved: true });
    const moved = await pool().query<{ type: string; data: { mac: string } }>("SELECT type, data FROM events WHERE stream_id = $1 AND type IN ('mac-bound', 'mac-unbound') ORDER BY global_position", [`customer-${customer_id}`]);
    expect(moved.rows.map((row) => [row.type, row.data.mac])).toEqual([
      ['mac-unbound', person.mac],
      ['mac-bound', '02:AA:BB:CC:DD:EE'],
    ]);
    await world.settle();
    const radius = await pool().query<{ username: string; value: string }>("SELECT username, value FROM radcheck WHERE username IN ($1, $2) AND attribute = 'Cleartext-Password'", ['02:AA:BB:CC:DD:EE', person.mac]);
    expect(radius.rows).toEqual([{ username: '02:AA:BB:CC:DD:EE', value: '02:AA:BB:CC:DD:EE' }]);
  });
});

describe('what a hotspot sells (the ISP’s settings)', () => {
  it('the ISP picks the packages and the owner; a package the owner may not sell is refused and changes nothing', async () => {
    const url = `/api/v1/routers/${router_id}/hotspot`;
    const set = await world.app.inject(as(world.sessions.admin!, { method: 'PUT', url, payload: { owner_operator_id: world.a.tenant, package_ids: [hotspot_package], self_registration: true } }));
    expect(set.statusCode, set.body).toBe(200);
    expect(set.json<{ packages: { package_id: string }[] }>().packages.map((item) => item.package_id)).toEqual([hotspot_package]);
    const site = await world.app.inject({ method: 'GET', url: `/api/v1/hotspot/${router_id}` });
    expect(site.json<{ packages: { package_id: string }[] }>().packages.map((item) => item.package_id)).toEqual([hotspot_package]);

    // The reseller was assigned the demo package only; the hotspot package is not theirs to sell.
    const refused = await world.app.inject(as(world.sessions.admin!, { method: 'PUT', url, payload: { owner_operator_id: world.a.reseller, package_ids: [hotspot_package], self_registration: true } }));
    expect(refused.statusCode).toBe(422);
    expect(refused.json()).toMatchObject({ error: { code: 'PACKAGE_NOT_ASSIGNED' } });
    const unchanged = await world.app.inject(as(world.sessions.admin!, { method: 'GET', url }));
    expect(unchanged.json()).toMatchObject({ owner_operator_id: world.a.tenant, package_ids: [hotspot_package] });

    const reseller = await world.app.inject(as(world.sessions.admin!, { method: 'PUT', url, payload: { owner_operator_id: world.a.reseller, package_ids: [], self_registration: false } }));
    expect(reseller.json<{ packages: { package_id: string }[] }>().packages.map((item) => item.package_id)).toEqual([world.a.package_id]);
    const closed = await ask({ mobile: fresh().local, mac: '02:11:22:33:44:57', purpose: 'register' });
    expect(closed.json()).toMatchObject({ error: { code: 'SELF_REGISTRATION_CLOSED' } });
    // A reseller may not set up the ISP's routers.
    const forbidden = await world.app.inject(as(world.sessions.reseller!, { method: 'PUT', url, payload: { owner_operator_id: world.a.reseller, package_ids: [], self_registration: true } }));
    expect(forbidden.statusCode).toBe(403);
    await world.app.inject(as(world.sessions.admin!, { method: 'PUT', url, payload: { owner_operator_id: world.a.tenant, package_ids: [], self_registration: true } }));
  });
});
