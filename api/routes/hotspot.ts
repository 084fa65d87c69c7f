import { randomInt, randomUUID } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type pg from 'pg';
import { z } from 'zod';
import { ReservationAggregate } from '../../commands/aggregates.js';
import type { CommandEnvelope } from '../../commands/command-runtime.js';
import { bindMac, loadCustomer, registerCustomer } from '../../commands/customer-commands.js';
import { normaliseMac, reservationStream } from '../../domain/customers/identifiers.js';
import { mobileUsername, normaliseMobile, selfRegistration } from '../../domain/customers/self-registration.js';
import { maskRecipient } from '../../domain/notifications/notification.js';
import type { Rejection } from '../../domain/shared/rejection.js';
import type { LogPosition } from '../../eventstore/event-store.js';
import { waitForProjections } from '../../projections/status.js';
import { startSession } from '../access/auth-routes.js';
import { createLogin } from '../access/logins.js';
import { hashPassword, verifyPassword } from '../access/passwords.js';
import { callerOf } from '../access/route-access.js';
import { checkAddress } from '../access/throttle.js';
import type { ApiDependencies } from '../dependencies.js';
import { ApiError, errorReplies, fromRejection } from '../errors.js';
import { gatewaySettingsFrom } from '../gateways/settings.js';
import { formatPosition } from '../scope.js';
import { ID } from './command-reply.js';
import { newId } from './route-kit.js';

/**
 * The hotspot portal's API: the page a MikroTik hotspot sends a new device to (web/hotspot) is built on these.
 * A hotspot is a registered router (its id is in the login page the router serves); what it offers comes from its
 * settings (`hotspot_sites`: whose customers sign-ups become, which packages they may buy) or, without settings,
 * the ISP's own current packages.
 *
 * A person proves a mobile number with a one-time code sent by SMS (the notifications module's SMS provider),
 * then either registers (a self-registered hotspot customer: the number is the username, the device's MAC its
 * RADIUS login) or, with a number registered before, signs in (the account moves to this device). Either way the
 * reply starts a customer session, with which the page buys a package (/api/v1/me/online-payments) or redeems a
 * card (/api/v1/customers/{id}/card-redemptions) like the customer portal does.
 *
 * Codes are six digits, stored as scrypt hashes, good for CODE_TTL_MINUTES and CODE_MAX_ATTEMPTS tries, and only
 * the newest code of a number works. Sending is throttled per number (one a minute, a few an hour), per device and
 * per address; an address locked out for failed password logins (api/access/throttle.ts) may not try codes
 * either. Nothing here appends an event until a code is right.
 */
export const CODE_DIGITS = 6;
export const CODE_TTL_MINUTES = 10;
export const CODE_MAX_ATTEMPTS = 5;
export const RESEND_AFTER_SECONDS = 60;
export const MAX_CODES_PER_MOBILE_PER_HOUR = 5;
export const MAX_CODES_PER_DEVICE_PER_HOUR = 5;
/** One address may be a whole hotspot behind NAT, so the limit per address is the widest. */
export const MAX_CODES_PER_ADDRESS_PER_HOUR = 60;
/** Code rows are kept this long (they are the throttle's memory), then deleted as new codes are sent. */
const CODE_RETENTION_MS = 86_400_000;
/** A hotspot lists a handful of packages; more would be a mistake in its settings. */
const MAX_PACKAGES = 50;

const PURPOSES = ['register', 'sign_in'] as const;
type Purpose = (typeof PURPOSES)[number];

/** What a person types: the checks that matter (a mobile number, a MAC) are made by the domain's normalisers. */
const mobileField = z.string().min(1).max(40);
const macField = z.string().min(1).max(40);
const codeField = z.string().regex(new RegExp(`^\\d{${CODE_DIGITS}}$`), `the ${CODE_DIGITS}-digit code from the SMS`);
const language = z.enum(['en', 'bn']).default('en');

const packageItem = z.object({
  package_id: z.string(),
  name: z.string(),
  price: z.string(),
  currency: z.string(),
  validity_days: z.number().int(),
  down_kbps: z.number().int(),
  up_kbps: z.number().int(),
  data_quota_mb: z.number().int().nullable(),
});
type PackageItem = z.infer<typeof packageItem>;

const siteReply = z.object({
  router_id: z.string(),
  /** The router's name: where the hotspot is. */
  name: z.string(),
  isp: z.object({ operator_id: z.string(), name: z.string(), currency: z.string(), time_zone: z.string() }),
  self_registration: z.boolean(),
  online_payments: z.boolean(),
  packages: z.array(packageItem),
  code: z.object({ digits: z.number().int(), ttl_seconds: z.number().int(), resend_after_seconds: z.number().int(), max_attempts: z.number().int() }),
});

const sessionReply = z.object({ customer_id: z.string(), csrf_token: z.string(), position: z.string().nullable(), device_moved: z.boolean() });

type Site = Readonly<{
  router_id: string;
  name: string;
  tenant: string;
  isp_name: string;
  currency: string;
  time_zone: string;
  owner_operator_id: string;
  package_ids: string[];
  self_registration: boolean;
}>;

/** An error a form shows next to one of its fields. */
const fieldError = (code: ConstructorParameters<typeof ApiError>[0], message: string, field: string): ApiError => new ApiError(code, message, { field });

/** The domain's refusals of a self-registration, said in the hotspot's terms and placed on the field they concern. */
function registrationError(rejection: Rejection): ApiError {
  switch (rejection.code) {
    case 'USERNAME_TAKEN':
      return fieldError('MOBILE_TAKEN', 'this mobile number is already registered here; sign in with it instead', 'mobile');
    case 'MAC_TAKEN':
      return fieldError('MAC_TAKEN', 'this device is already registered with another mobile number; sign in with that number', 'mac');
    case 'INVALID_CREDENTIALS':
      return fieldError('INVALID_CREDENTIALS', rejection.message, 'mac');
    default:
      return fromRejection(rejection);
  }
}

export async function hotspotSite(pool: pg.Pool, router_id: string): Promise<Site> {
  const found = await pool.query<Site>(
    `SELECT n.router_id, n.shortname AS name, n.tenant, o.name AS isp_name, o.currency, o.time_zone,
            coalesce(s.owner_operator_id, n.tenant) AS owner_operator_id, coalesce(s.package_ids, '{}') AS package_ids,
            coalesce(s.self_registration, true) AS self_registration
       FROM nas n JOIN operators o ON o.operator_id = n.tenant LEFT JOIN hotspot_sites s ON s.router_id = n.router_id
      WHERE n.router_id = $1`,
    [router_id],
  );
  const site = found.rows[0];
  if (site === undefined) throw new ApiError('ROUTER_NOT_FOUND', `no hotspot ${router_id}: the login page names a router that is not registered (any more)`);
  return site;
}

/**
 * What the hotspot sells: its chosen packages (in the order chosen) or every current package of the ISP; for a
 * reseller's hotspot only what the reseller was assigned. Cheapest first when nothing was chosen.
 */
async function packagesOf(pool: pg.Pool, site: Pick<Site, 'tenant' | 'owner_operator_id' | 'package_ids'>): Promise<PackageItem[]> {
  const found = await pool.query<PackageItem>(
    `SELECT p.package_id, p.name, p.price::text AS price, p.currency, p.validity_days, p.down_kbps, p.up_kbps, p.data_quota_mb
       FROM packages p
      WHERE p.tenant = $1 AND NOT p.retired
        AND (cardinality($2::text[]) = 0 OR p.package_id = ANY($2::text[]))
        AND ($3 = $1 OR EXISTS (SELECT 1 FROM package_assignments a WHERE a.operator_id = $3 AND a.package_id = p.package_id))
      ORDER BY array_position($2::text[], p.package_id), p.price, p.name
      LIMIT ${MAX_PACKAGES}`,
    [site.tenant, site.package_ids, site.owner_operator_id],
  );
  return found.rows;
}

function mobileOf(raw: string): string {
  const mobile = normaliseMobile(raw);
  if (mobile === null) throw fieldError('INVALID_INPUT', `${raw.slice(0, 40)} is not a mobile number: write it as 01XXXXXXXXX, or with the country code (+…)`, 'mobile');
  return mobile;
}

function deviceOf(raw: string): string {
  const mac = normaliseMac(raw);
  if (mac === null) throw fieldError('INVALID_INPUT', 'this page needs your device’s address from the Wi-Fi login page; open it by connecting to the hotspot', 'mac');
  return mac;
}

/** The SMS with the code, in the page's language: the code first, where phones look for it to fill it in. */
function codeText(code: string, isp_name: string, lang: 'en' | 'bn'): string {
  if (lang === 'bn') return `${code} আপনার ${isp_name} ওয়াই-ফাই কোড। ${CODE_TTL_MINUTES} মিনিটের মধ্যে ব্যবহার করুন; কাউকে জানাবেন না।`;
  return `${code} is your ${isp_name} Wi-Fi code. It expires in ${CODE_TTL_MINUTES} minutes; do not share it.`;
}

export const hotspotRoutes: FastifyPluginAsync<ApiDependencies> = async (plugin, deps) => {
  const app = plugin.withTypeProvider<ZodTypeProvider>();
  const { pool, runtime, clock } = deps;
  const sms = deps.sms ?? null;
  const tags = ['hotspot'];
  const params = z.object({ router_id: ID });
  const online_payments = gatewaySettingsFrom(process.env).sslcommerz !== null;

  /** Who holds an identifier in the ISP, from its reservation stream (the authority, not a read model). */
  const holderOf = async (tenant: string, kind: 'username' | 'mac', value: string): Promise<string | null> =>
    (await runtime.load(ReservationAggregate, reservationStream(tenant, kind, value))).state.holder;

  /**
   * Counts the codes sent lately to this number, device and address, refusing beyond the limits, and records the
   * new one, in one transaction under a lock on the number so two requests at once cannot both pass.
   */
  const recordCode = async (site: Site, purpose: Purpose, mobile: string, mac: string, address: string, code_hash: string): Promise<{ code_id: string; expires_at: Date }> => {
    const now = clock.now();
    const hour_ago = new Date(now.getTime() - 3_600_000);
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`hotspot-code:${site.tenant}:${mobile}`]);
      const recent = await client.query<{ by_mobile: number; last_to_mobile: Date | null; by_device: number }>(
        `SELECT count(*) FILTER (WHERE mobile = $2)::int AS by_mobile, max(created_at) FILTER (WHERE mobile = $2) AS last_to_mobile,
                count(*) FILTER (WHERE mac = $3)::int AS by_device
           FROM hotspot_codes WHERE tenant = $1 AND created_at > $4 AND (mobile = $2 OR mac = $3)`,
        [site.tenant, mobile, mac, hour_ago],
      );
      const by_address = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM hotspot_codes WHERE address = $1 AND created_at > $2', [address, hour_ago]);
      const { by_mobile, last_to_mobile, by_device } = recent.rows[0]!;
      const wait = (until: number): number => Math.max(1, Math.ceil((until - now.getTime()) / 1000));
      if (last_to_mobile !== null && now.getTime() - last_to_mobile.getTime() < RESEND_AFTER_SECONDS * 1000) {
        const retry = wait(last_to_mobile.getTime() + RESEND_AFTER_SECONDS * 1000);
        throw new ApiError('RATE_LIMITED', `a code was just sent to this number; you can ask for another in ${retry} s`, { field: 'mobile', retry_after_seconds: retry });
      }
      if (by_mobile >= MAX_CODES_PER_MOBILE_PER_HOUR || by_device >= MAX_CODES_PER_DEVICE_PER_HOUR) {
        throw new ApiError('RATE_LIMITED', 'too many codes were sent for this number or device; try again in an hour', { field: 'mobile', retry_after_seconds: 3_600 });
      }
      if (by_address.rows[0]!.n >= MAX_CODES_PER_ADDRESS_PER_HOUR) {
        throw new ApiError('RATE_LIMITED', 'too many codes were asked for from this network address; try again later', { field: 'mobile', retry_after_seconds: 3_600 });
      }
      // Only the newest code of a number works: an older one still in someone's inbox is retired.
      await client.query('UPDATE hotspot_codes SET used_at = $3 WHERE tenant = $1 AND mobile = $2 AND used_at IS NULL', [site.tenant, mobile, now]);
      const code_id = randomUUID();
      const expires_at = new Date(now.getTime() + CODE_TTL_MINUTES * 60_000);
      await client.query(
        `INSERT INTO hotspot_codes (code_id, tenant, router_id, purpose, mobile, mac, address, code_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [code_id, site.tenant, site.router_id, purpose, mobile, mac, address, code_hash, now, expires_at],
      );
      await client.query('COMMIT');
      await pool.query('DELETE FROM hotspot_codes WHERE code_id IN (SELECT code_id FROM hotspot_codes WHERE created_at < $1 LIMIT 1000)', [new Date(now.getTime() - CODE_RETENTION_MS)]);
      return { code_id, expires_at };
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    } finally {
      client.release();
    }
  };

  /**
   * Spends a code: the newest one sent to this number for this purpose, not expired, tried fewer than the limit,
   * sent for this device, and right; a right one is used up. Guessing is bounded by the code (CODE_MAX_ATTEMPTS
   * tries) and by sending (a few codes an hour per number, device and address), so at most a few dozen guesses
   * at a million codes per number an hour. A wrong code is not a failed login of the address: the address
   * throttle is shared with password logins, and a hotspot puts a whole café behind one address.
   */
  const useCode = async (site: Site, purpose: Purpose, mobile: string, mac: string, code: string): Promise<void> => {
    const now = clock.now();
    const found = await pool.query<{ code_id: string; mac: string; code_hash: string; expires_at: Date }>(
      'SELECT code_id, mac, code_hash, expires_at FROM hotspot_codes WHERE tenant = $1 AND mobile = $2 AND purpose = $3 AND used_at IS NULL ORDER BY created_at DESC LIMIT 1',
      [site.tenant, mobile, purpose],
    );
    const row = found.rows[0];
    if (row === undefined) throw fieldError('OTP_EXPIRED', 'no code is waiting for this number (it was used, or a newer one was sent); ask for a new code', 'code');
    if (row.expires_at.getTime() <= now.getTime()) throw fieldError('OTP_EXPIRED', `this code has expired (codes last ${CODE_TTL_MINUTES} minutes); ask for a new one`, 'code');
    const tried = await pool.query<{ attempts: number }>('UPDATE hotspot_codes SET attempts = attempts + 1 WHERE code_id = $1 AND attempts < $2 RETURNING attempts', [row.code_id, CODE_MAX_ATTEMPTS]);
    const attempts = tried.rows[0]?.attempts;
    if (attempts === undefined) throw fieldError('OTP_EXPIRED', 'this code was tried too many times; ask for a new one', 'code');
    // The hash is checked even for another device, so the answer takes the same time either way.
    const right = (await verifyPassword(code, row.code_hash)) && row.mac === mac;
    if (!right) {
      const left = CODE_MAX_ATTEMPTS - attempts;
      throw fieldError('OTP_WRONG', left > 0 ? `that is not the code we sent; ${left} ${left === 1 ? 'try' : 'tries'} left` : 'that is not the code we sent; ask for a new one', 'code');
    }
    const used = await pool.query('UPDATE hotspot_codes SET used_at = $2 WHERE code_id = $1 AND used_at IS NULL', [row.code_id, now]);
    if (used.rowCount === 0) throw fieldError('OTP_EXPIRED', 'this code was just used; ask for a new one', 'code');
  };

  const waitForCustomers = async (position: LogPosition | null): Promise<void> => {
    if (position !== null) await waitForProjections(pool, ['customers'], position, { timeout_ms: 5_000 });
  };

  /** The customer's portal login (made without a password the first time: the codes are how they log in). */
  const loginOf = async (site: Site, customer_id: string, mobile: string): Promise<string> => {
    const found = await pool.query<{ login_id: string; disabled: boolean }>("SELECT login_id, disabled FROM logins WHERE tenant = $1 AND principal_kind = 'customer' AND principal_id = $2", [site.tenant, customer_id]);
    const existing = found.rows[0];
    if (existing !== undefined) {
      if (existing.disabled) throw new ApiError('UNAUTHENTICATED', 'this account’s login is disabled; ask the ISP');
      return existing.login_id;
    }
    const created = await createLogin(pool, clock, { tenant: site.tenant, login: `${mobileUsername(mobile)}@${site.tenant}`, password: null, principal_kind: 'customer', principal_id: customer_id });
    return created.login_id;
  };

  /** Only hotspot accounts sign in here: a PPPoE account whose username happens to be a number is not moved to a phone. */
  const isHotspotCustomer = async (site: Site, customer_id: string): Promise<boolean> => (await loadCustomer(runtime, site.tenant, customer_id))?.state.connection_type === 'hotspot';

  const envelopeFor = (site: Site, customer_id: string): CommandEnvelope => ({ tenant: site.tenant, actor: { id: customer_id, role: 'customer' } });

  app.get(
    '/api/v1/hotspot/:router_id',
    {
      config: { access: { capability: 'public', scope: 'none' } },
      schema: { tags, summary: 'A hotspot as its login page shows it: the ISP, the packages on sale, whether people may sign up', params, response: { 200: siteReply, ...errorReplies } },
    },
    async (request) => {
      const site = await hotspotSite(pool, request.params.router_id);
      return {
        router_id: site.router_id,
        name: site.name,
        isp: { operator_id: site.tenant, name: site.isp_name, currency: site.currency, time_zone: site.time_zone },
        self_registration: site.self_registration,
        online_payments,
        packages: await packagesOf(pool, site),
        code: { digits: CODE_DIGITS, ttl_seconds: CODE_TTL_MINUTES * 60, resend_after_seconds: RESEND_AFTER_SECONDS, max_attempts: CODE_MAX_ATTEMPTS },
      };
    },
  );

  app.post(
    '/api/v1/hotspot/:router_id/codes',
    {
      config: { access: { capability: 'public', scope: 'none', example: { body: { mobile: ':mobile', mac: ':mac', purpose: 'register' } } } },
      schema: {
        tags,
        summary: `Send a one-time code by SMS to register (a new number) or sign in (a registered one) at this hotspot; throttled per number, device and address`,
        params,
        body: z.object({ mobile: mobileField, mac: macField, purpose: z.enum(PURPOSES), language }).strict(),
        response: { 202: z.object({ sent_to: z.string(), expires_at: z.string(), resend_after_seconds: z.number().int() }), ...errorReplies },
      },
    },
    async (request, reply) => {
      const site = await hotspotSite(pool, request.params.router_id);
      const { purpose } = request.body;
      if (purpose === 'register' && !site.self_registration) throw new ApiError('SELF_REGISTRATION_CLOSED', 'this hotspot does not take new sign-ups; ask the ISP for an account or a card');
      const mobile = mobileOf(request.body.mobile);
      const mac = deviceOf(request.body.mac);
      const holder = await holderOf(site.tenant, 'username', mobileUsername(mobile));
      const device = await holderOf(site.tenant, 'mac', mac);
      if (purpose === 'register') {
        if (holder !== null) throw fieldError('MOBILE_TAKEN', 'this mobile number is already registered here; sign in with it instead', 'mobile');
        if (device !== null) throw fieldError('MAC_TAKEN', 'this device is already registered with another mobile number; sign in with that number', 'mac');
      } else {
        if (holder === null || !(await isHotspotCustomer(site, holder))) throw fieldError('MOBILE_NOT_REGISTERED', 'no account has this mobile number here; register it first', 'mobile');
        if (device !== null && device !== holder) throw fieldError('MAC_TAKEN', 'this device belongs to another account; sign in with that account’s number', 'mac');
      }
      if (sms === null) throw new ApiError('SMS_UNAVAILABLE', 'this server sends no SMS (SMS_PROVIDER=none), so codes cannot be sent; ask the ISP');
      const code = randomInt(0, 10 ** CODE_DIGITS).toString().padStart(CODE_DIGITS, '0');
      const recorded = await recordCode(site, purpose, mobile, mac, request.ip, await hashPassword(code));
      try {
        await sms.send({ notification_id: recorded.code_id, to: mobile, subject: null, body: codeText(code, site.isp_name, request.body.language) });
      } catch (error) {
        // The code never reached anyone: retire it (it still counts toward the throttle, so a broken gateway is not hammered).
        await pool.query('UPDATE hotspot_codes SET used_at = $2 WHERE code_id = $1', [recorded.code_id, clock.now()]);
        request.log.warn({ err: error, router_id: site.router_id }, 'hotspot code not sent');
        throw new ApiError('SMS_UNAVAILABLE', 'the code could not be sent just now; try again in a minute');
      }
      return reply.code(202).send({ sent_to: maskRecipient(mobile), expires_at: recorded.expires_at.toISOString(), resend_after_seconds: RESEND_AFTER_SECONDS });
    },
  );

  app.post(
    '/api/v1/hotspot/:router_id/registrations',
    {
      config: { access: { capability: 'public', scope: 'none', example: { body: { mobile: ':mobile', mac: ':mac', code: '123456', name: 'Rina Akter' } } } },
      schema: {
        tags,
        summary: 'Register with the code sent to a new number: a self-registered hotspot customer (the number as username, this device’s MAC as its login), logged in',
        params,
        body: z.object({ mobile: mobileField, mac: macField, code: codeField, name: z.string().max(100).default('') }).strict(),
        response: { 201: sessionReply, ...errorReplies },
      },
    },
    async (request, reply) => {
      const site = await hotspotSite(pool, request.params.router_id);
      if (!site.self_registration) throw new ApiError('SELF_REGISTRATION_CLOSED', 'this hotspot does not take new sign-ups; ask the ISP for an account or a card');
      const mobile = mobileOf(request.body.mobile);
      const mac = deviceOf(request.body.mac);
      if (/\p{Cc}/u.test(request.body.name)) throw fieldError('INVALID_INPUT', 'a name has no control characters', 'name');
      await checkAddress(pool, clock, request.ip);
      await useCode(site, 'register', mobile, mac, request.body.code);
      const starter = (await packagesOf(pool, site))[0];
      if (starter === undefined) throw new ApiError('PACKAGE_NOT_FOUND', 'this hotspot sells no package yet; ask the ISP');
      const customer_id = newId('hs');
      const result = await registerCustomer(
        runtime,
        envelopeFor(site, customer_id),
        selfRegistration({ customer_id, operator_id: site.owner_operator_id, mobile, mac, name: request.body.name, zone: site.name, package_id: starter.package_id }),
      );
      if (!result.ok) throw registrationError(result.rejection);
      await waitForCustomers(result.position);
      const session = await startSession(deps, reply, await loginOf(site, customer_id, mobile));
      return reply.code(201).send({ customer_id, csrf_token: session.csrf_token, position: formatPosition(result.position), device_moved: false });
    },
  );

  app.post(
    '/api/v1/hotspot/:router_id/sign-ins',
    {
      config: { access: { capability: 'public', scope: 'none', example: { body: { mobile: ':mobile', mac: ':mac', code: '123456' } } } },
      schema: {
        tags,
        summary: 'Sign in with the code sent to a registered number: the account moves to this device when it was on another, and is logged in',
        params,
        body: z.object({ mobile: mobileField, mac: macField, code: codeField }).strict(),
        response: { 200: sessionReply, ...errorReplies },
      },
    },
    async (request, reply) => {
      const site = await hotspotSite(pool, request.params.router_id);
      const mobile = mobileOf(request.body.mobile);
      const mac = deviceOf(request.body.mac);
      await checkAddress(pool, clock, request.ip);
      await useCode(site, 'sign_in', mobile, mac, request.body.code);
      const customer_id = await holderOf(site.tenant, 'username', mobileUsername(mobile));
      const customer = customer_id === null ? null : await loadCustomer(runtime, site.tenant, customer_id);
      if (customer === null || customer.state.connection_type !== 'hotspot') throw fieldError('MOBILE_NOT_REGISTERED', 'no account has this mobile number here; register it first', 'mobile');
      let position: LogPosition | null = null;
      const device_moved = customer.state.credentials.mac !== mac;
      if (device_moved) {
        const bound = await bindMac(runtime, envelopeFor(site, customer.state.customer_id), { customer_id: customer.state.customer_id, mac });
        if (!bound.ok) throw registrationError(bound.rejection);
        position = bound.position;
        await waitForCustomers(position);
      }
      const session = await startSession(deps, reply, await loginOf(site, customer.state.customer_id, mobile));
      return { customer_id: customer.state.customer_id, csrf_token: session.csrf_token, position: formatPosition(position), device_moved };
    },
  );

  // --- the ISP's settings for a hotspot ---------------------------------------------------------------------------

  const settingsReply = z.object({
    router_id: z.string(),
    owner_operator_id: z.string(),
    package_ids: z.array(z.string()),
    self_registration: z.boolean(),
    /** What the hotspot sells with these settings. */
    packages: z.array(packageItem),
    updated_at: z.string().nullable(),
  });

  const routerOfTenant = async (tenant: string, router_id: string): Promise<Site> => {
    const site = await hotspotSite(pool, router_id).catch(() => null);
    if (site === null || site.tenant !== tenant) throw new ApiError('ROUTER_NOT_FOUND', `no router ${router_id} in this ISP`);
    return site;
  };

  const settingsOf = async (site: Site) => {
    const row = await pool.query<{ updated_at: Date }>('SELECT updated_at FROM hotspot_sites WHERE router_id = $1', [site.router_id]);
    return {
      router_id: site.router_id,
      owner_operator_id: site.owner_operator_id,
      package_ids: site.package_ids,
      self_registration: site.self_registration,
      packages: await packagesOf(pool, site),
      updated_at: row.rows[0]?.updated_at.toISOString() ?? null,
    };
  };

  app.get(
    '/api/v1/routers/:router_id/hotspot',
    {
      config: { access: { capability: 'routers.read', scope: 'tenant' } },
      schema: { tags, summary: "A router's hotspot settings: whose customers sign-ups become and which packages it sells", params, response: { 200: settingsReply, ...errorReplies } },
    },
    async (request) => settingsOf(await routerOfTenant(callerOf(request).tenant, request.params.router_id)),
  );

  app.put(
    '/api/v1/routers/:router_id/hotspot',
    {
      config: { access: { capability: 'routers.write', scope: 'tenant', example: { body: { owner_operator_id: ':operator_id', package_ids: [':package_id'], self_registration: true } } } },
      schema: {
        tags,
        summary: "Set a router's hotspot: whose customers sign-ups become (the ISP or an operator below it), the packages it sells (none listed: every current one the owner may sell), and whether people may sign up",
        params,
        body: z.object({ owner_operator_id: ID, package_ids: z.array(ID).max(MAX_PACKAGES), self_registration: z.boolean() }).strict(),
        response: { 200: settingsReply, ...errorReplies },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      const site = await routerOfTenant(caller.tenant, request.params.router_id);
      const { owner_operator_id, self_registration } = request.body;
      const package_ids = [...new Set(request.body.package_ids)];
      const owner = await pool.query<{ status: string }>('SELECT status FROM operators WHERE operator_id = $1 AND tenant = $2', [owner_operator_id, caller.tenant]);
      if (owner.rows[0] === undefined) throw new ApiError('OPERATOR_NOT_FOUND', `no operator ${owner_operator_id} in this ISP`, { field: 'owner_operator_id' });
      if (owner.rows[0].status !== 'active') throw new ApiError('OPERATOR_SUSPENDED', `operator ${owner_operator_id} is suspended`, { field: 'owner_operator_id' });
      const offered = new Set((await packagesOf(pool, { tenant: caller.tenant, owner_operator_id, package_ids })).map((item) => item.package_id));
      const missing = package_ids.find((package_id) => !offered.has(package_id));
      if (missing !== undefined) {
        throw new ApiError('PACKAGE_NOT_ASSIGNED', `package ${missing} is not a current package ${owner_operator_id === caller.tenant ? 'of this ISP' : `assigned to ${owner_operator_id}`}`, { field: 'package_ids' });
      }
      await pool.query(
        `INSERT INTO hotspot_sites (router_id, tenant, owner_operator_id, package_ids, self_registration, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (router_id) DO UPDATE SET owner_operator_id = $3, package_ids = $4, self_registration = $5, updated_by = $6, updated_at = $7`,
        [site.router_id, caller.tenant, owner_operator_id, package_ids, self_registration, caller.principal_id, clock.now()],
      );
      return settingsOf(await hotspotSite(pool, site.router_id));
    },
  );
};
