import { randomUUID } from 'node:crypto';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SoftwareAuthenticator, type CreationOptions, type RequestOptions } from '../support/webauthn-authenticator.js';
import { as, type ApiWorld, type Session, startApiWorld } from './harness.js';

/**
 * Passkeys through HTTP with a software authenticator that produces real WebAuthn responses (an ES256 key
 * pair, a "none" attestation in CBOR, signed assertions), verified by @simplewebauthn/server: registering from
 * a session, logging in without a password, and the step-up that risky actions (a refund) require.
 */
const ORIGIN = 'http://localhost:3000'; // the harness's PUBLIC_URL: passkeys are bound to it

let world: ApiWorld;
let authenticator: SoftwareAuthenticator;
beforeAll(async () => {
  world = await startApiWorld();
  authenticator = new SoftwareAuthenticator(ORIGIN);
}, 120_000);
afterAll(async () => world?.close());

const eventCount = async (): Promise<number> => Number((await world.database.pool.query<{ n: string }>('SELECT count(*) AS n FROM events')).rows[0]!.n);
const post = (session: Session | null, url: string, payload?: unknown, headers: Record<string, string> = {}) =>
  world.app.inject(as(session, { method: 'POST', url, headers, ...(payload === undefined ? {} : { payload: payload as InjectOptions['payload'] }) }));

/** A session from a login reply (passkey login sets the cookie like the password login). */
function sessionOf(response: Awaited<ReturnType<typeof post>>, login: string): Session {
  const cookie = response.cookies.find((candidate) => candidate.name === 'ispbills_session')!;
  const body = response.json<{ csrf_token: string; role: string }>();
  return { cookie: `ispbills_session=${cookie.value}`, csrf: body.csrf_token, role: body.role, login };
}

async function registerPasskey(session: Session): Promise<string> {
  const options = await post(session, '/api/v1/auth/passkeys/register/options');
  expect(options.statusCode, options.body).toBe(200);
  const created = await post(session, '/api/v1/auth/passkeys/register/verify', { name: 'laptop', response: authenticator.register(options.json<CreationOptions>()) });
  expect(created.statusCode, created.body).toBe(201);
  return created.json<{ credential_id: string }>().credential_id;
}

describe('passkeys', () => {
  let admin: Session;
  let passkeySession: Session;

  it('registers a passkey from a logged-in session', async () => {
    admin = world.sessions.admin!;
    const credential_id = await registerPasskey(admin);
    expect(authenticator.credentialIds).toContain(credential_id);
    const stored = await world.database.pool.query<{ login: string; counter: string; name: string }>(
      'SELECT l.login, c.counter::text AS counter, c.name FROM webauthn_credentials c JOIN logins l USING (login_id) WHERE c.credential_id = $1',
      [credential_id],
    );
    expect(stored.rows[0]).toEqual({ login: admin.login, counter: '0', name: 'laptop' });
  });

  it('logs in with the passkey alone, no password', async () => {
    const options = await post(null, '/api/v1/auth/passkeys/login/options');
    expect(options.statusCode).toBe(200);
    const login = await post(null, '/api/v1/auth/passkeys/login/verify', authenticator.authenticate(options.json<RequestOptions>()));
    expect(login.statusCode, login.body).toBe(200);
    expect(login.json()).toMatchObject({ role: 'admin', login: admin.login, tenant: world.a.tenant });
    passkeySession = sessionOf(login, admin.login);
    const me = await world.app.inject(as(passkeySession, { method: 'GET', url: '/api/v1/auth/me' }));
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({ login: admin.login, step_up_until: null });
    const counter = await world.database.pool.query<{ counter: string }>('SELECT counter::text AS counter FROM webauthn_credentials WHERE credential_id = $1', [authenticator.credentialIds[0]]);
    expect(counter.rows[0]!.counter).toBe('1');
  });

  it('refuses a refund without a step-up (403 STEP_UP_REQUIRED, nothing appended), allows it after stepping up with the passkey', async () => {
    const key = `cash-${randomUUID()}`;
    const paid = await post(passkeySession, `/api/v1/customers/${world.customers.own}/payments`, { amount: '100.00', method: 'cash' }, { 'idempotency-key': key });
    expect(paid.statusCode, paid.body).toBe(201);
    const refund = { payment_id: `pay-${key}`, amount: '40.00', reason: 'double charged' };

    const before = await eventCount();
    const refused = await post(passkeySession, `/api/v1/customers/${world.customers.own}/refunds`, refund, { 'idempotency-key': `refund-${key}` });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.code).toBe('STEP_UP_REQUIRED');
    expect(await eventCount()).toBe(before);

    const options = await post(passkeySession, '/api/v1/auth/passkeys/step-up/options');
    expect(options.statusCode, options.body).toBe(200);
    expect(options.json<RequestOptions>().allowCredentials!.map((entry) => entry.id)).toEqual(authenticator.credentialIds);
    const stepped = await post(passkeySession, '/api/v1/auth/passkeys/step-up/verify', authenticator.authenticate(options.json<RequestOptions>()));
    expect(stepped.statusCode, stepped.body).toBe(200);
    expect(Date.parse(stepped.json<{ step_up_until: string }>().step_up_until)).toBeGreaterThan(world.clock.now().getTime());

    const allowed = await post(passkeySession, `/api/v1/customers/${world.customers.own}/refunds`, refund, { 'idempotency-key': `refund-${key}` });
    expect(allowed.statusCode, allowed.body).toBe(201);
    const refunds = await world.database.pool.query("SELECT data FROM events WHERE type = 'payment-refunded' AND data->>'payment_id' = $1", [refund.payment_id]);
    expect(refunds.rowCount).toBe(1);
    // The step-up belongs to that session: another session of the same login is not stepped up.
    const other = await post(admin, `/api/v1/customers/${world.customers.own}/refunds`, { ...refund, amount: '10.00' }, { 'idempotency-key': `refund2-${key}` });
    expect(other.json().error.code).toBe('STEP_UP_REQUIRED');
  });

  it('refuses a replayed assertion: a challenge is good once', async () => {
    const options = await post(null, '/api/v1/auth/passkeys/login/options');
    const assertion = authenticator.authenticate(options.json<RequestOptions>());
    const first = await post(null, '/api/v1/auth/passkeys/login/verify', assertion);
    expect(first.statusCode).toBe(200);
    const before = await world.database.pool.query('SELECT count(*) FROM sessions');
    const replayed = await post(null, '/api/v1/auth/passkeys/login/verify', assertion);
    expect(replayed.statusCode).toBe(400);
    expect(replayed.json().error.code).toBe('PASSKEY_REJECTED');
    expect(replayed.cookies.find((cookie) => cookie.name === 'ispbills_session')).toBeUndefined();
    expect((await world.database.pool.query('SELECT count(*) FROM sessions')).rows).toEqual(before.rows);

    const stepOptions = await post(passkeySession, '/api/v1/auth/passkeys/step-up/options');
    const stepAssertion = authenticator.authenticate(stepOptions.json<RequestOptions>());
    expect((await post(passkeySession, '/api/v1/auth/passkeys/step-up/verify', stepAssertion)).statusCode).toBe(200);
    const stepReplay = await post(passkeySession, '/api/v1/auth/passkeys/step-up/verify', stepAssertion);
    expect(stepReplay.statusCode).toBe(400);
    expect(stepReplay.json().error.code).toBe('PASSKEY_REJECTED');
  });

  it('refuses an assertion or a registration made for another origin', async () => {
    const options = await post(null, '/api/v1/auth/passkeys/login/options');
    const phished = await post(null, '/api/v1/auth/passkeys/login/verify', authenticator.authenticate(options.json<RequestOptions>(), { origin: 'https://ispbills.example.evil' }));
    expect(phished.statusCode).toBe(400);
    expect(phished.json().error).toMatchObject({ code: 'PASSKEY_REJECTED' });
    expect(phished.json().error.message).toContain('origin');
    expect(phished.cookies.find((cookie) => cookie.name === 'ispbills_session')).toBeUndefined();

    const registration = await post(world.sessions.reseller!, '/api/v1/auth/passkeys/register/options');
    const foreign = await post(world.sessions.reseller!, '/api/v1/auth/passkeys/register/verify', {
      name: 'phished',
      response: authenticator.register(registration.json<CreationOptions>(), { origin: 'https://ispbills.example.evil' }),
    });
    expect(foreign.statusCode).toBe(400);
    expect(foreign.json().error.code).toBe('PASSKEY_REJECTED');
    const stored = await world.database.pool.query('SELECT 1 FROM webauthn_credentials c JOIN logins l USING (login_id) WHERE l.login = $1', [world.sessions.reseller!.login]);
    expect(stored.rowCount).toBe(0);
  });

  it('refuses a step-up with a passkey of another login', async () => {
    // The reseller registers its own passkey (in a second authenticator), then tries to step up the admin's session with it.
    const resellerAuthenticator = new SoftwareAuthenticator(ORIGIN);
    const options = await post(world.sessions.reseller!, '/api/v1/auth/passkeys/register/options');
    const created = await post(world.sessions.reseller!, '/api/v1/auth/passkeys/register/verify', { name: 'phone', response: resellerAuthenticator.register(options.json<CreationOptions>()) });
    expect(created.statusCode).toBe(201);
    const stepOptions = await post(admin, '/api/v1/auth/passkeys/step-up/options');
    const wrong = await post(admin, '/api/v1/auth/passkeys/step-up/verify', resellerAuthenticator.authenticate({ challenge: stepOptions.json<RequestOptions>().challenge }));
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().error.code).toBe('PASSKEY_REJECTED');
  });
});
