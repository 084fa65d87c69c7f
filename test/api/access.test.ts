import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { as, logIn, PASSWORD, startApiWorld, type ApiWorld } from './harness.js';

let world: ApiWorld;
beforeAll(async () => {
  world = await startApiWorld();
}, 90_000);
afterAll(async () => world?.close());

const eventCount = async (): Promise<number> => Number((await world.database.pool.query<{ n: string }>('SELECT count(*) AS n FROM events')).rows[0]!.n);

describe('logging in and sessions', () => {
  it('logs in, says who I am and what I may do, and gives the CSRF token', async () => {
    const me = await world.app.inject(as(world.sessions.reseller!, { method: 'GET', url: '/api/v1/auth/me' }));
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({ role: 'reseller', operator_id: world.a.reseller, tenant: world.a.tenant });
    expect(me.json().capabilities).toContain('customers.write');
  });

  it('sets an HTTP-only, SameSite=Strict session cookie', async () => {
    const response = await world.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { login: `admin@${world.a.tenant}`, password: PASSWORD } });
    const cookie = response.cookies.find((candidate) => candidate.name === 'ispbills_session')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
  });

  it('refuses a wrong password with one message for unknown logins and wrong passwords alike', async () => {
    const wrong = await world.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { login: `auditor@${world.a.tenant}`, password: 'not the password' } });
    const unknown = await world.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { login: 'nobody@nowhere', password: 'not the password' } });
    expect(wrong.statusCode).toBe(401);
    expect(unknown.json()).toEqual(wrong.json());
    // A success resets the count, so the auditor is not locked by this test.
    await logIn(world.app, `auditor@${world.a.tenant}`, PASSWORD);
  });

  it('locks a login after five wrong passwords in a row, even for the right one', async () => {
    for (let attempt = 0; attempt < 5; attempt += 1) {
      await world.app.inject({ method: 'POST', url: '/api/v1/auth/login', remoteAddress: '10.9.9.9', payload: { login: `card_distributor@${world.a.tenant}`, password: 'guess' } });
    }
    const locked = await world.app.inject({ method: 'POST', url: '/api/v1/auth/login', remoteAddress: '10.9.9.8', payload: { login: `card_distributor@${world.a.tenant}`, password: PASSWORD } });
    expect(locked.statusCode).toBe(423);
    expect(locked.json().error.code).toBe('LOGIN_LOCKED');
  });

  it('slows an address down after many failures', async () => {
    for (let attempt = 0; attempt < 20; attempt += 1) {
      await world.app.inject({ method: 'POST', url: '/api/v1/auth/login', remoteAddress: '10.7.7.7', payload: { login: `nobody-${attempt}@x`, password: 'guess' } });
    }
    const limited = await world.app.inject({ method: 'POST', url: '/api/v1/auth/login', remoteAddress: '10.7.7.7', payload: { login: `admin@${world.a.tenant}`, password: PASSWORD } });
    expect(limited.statusCode).toBe(429);
  });

  it('does not let a client pick its own address with X-Forwarded-For (no trusted proxy is configured)', async () => {
    for (let attempt = 0; attempt < 20; attempt += 1) {
      await world.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        remoteAddress: '10.6.6.6',
        headers: { 'x-forwarded-for': `192.0.2.${attempt}` },
        payload: { login: `nobody-${attempt}@x`, password: 'guess' },
      });
    }
    const limited = await world.app.inject({ method: 'POST', url: '/api/v1/auth/login', remoteAddress: '10.6.6.6', headers: { 'x-forwarded-for': '198.51.100.1' }, payload: { login: `admin@${world.a.tenant}`, password: PASSWORD } });
    expect(limited.statusCode).toBe(429);
  });

  it('refuses a cookie-authenticated write without the CSRF token, and appends nothing', async () => {
    const before = await eventCount();
    const session = world.sessions.admin!;
    const response = await world.app.inject({
      method: 'POST',
      url: `/api/v1/customers/${world.customers.own}/suspend`,
      headers: { cookie: session.cookie },
      payload: { reason: 'csrf check' },
    });
    expect(response.statusCode).toBe(403);
    expect(response.json().error.code).toBe('CSRF_TOKEN_INVALID');
    expect(await eventCount()).toBe(before);
  });

  it('answers 401 without a session and 403 for a role without the capability', async () => {
    const anonymous = await world.app.inject({ method: 'GET', url: '/api/v1/customers' });
    expect(anonymous.statusCode).toBe(401);
    const customer = await world.app.inject(as(world.sessions.customer!, { method: 'GET', url: '/api/v1/customers' }));
    expect(customer.statusCode).toBe(403);
  });

  it('scopes customer search to my subtree in SQL', async () => {
    const reseller = await world.app.inject(as(world.sessions.reseller!, { method: 'GET', url: '/api/v1/customers' }));
    const ids = reseller.json<{ customers: { customer_id: string }[] }>().customers.map((customer) => customer.customer_id);
    expect(ids).toContain(world.customers.own);
    expect(ids).not.toContain(world.customers.sibling);
    expect(ids).not.toContain(world.customers.foreign);
    const admin = await world.app.inject(as(world.sessions.admin!, { method: 'GET', url: '/api/v1/customers' }));
    expect(admin.json<{ customers: { customer_id: string }[] }>().customers.map((customer) => customer.customer_id)).toEqual(expect.arrayContaining([world.customers.own, world.customers.sibling]));
  });

  it('API tokens: do no more than their scopes, and stop when revoked', async () => {
    const created = await world.app.inject(as(world.sessions.reseller!, { method: 'POST', url: '/api/v1/auth/tokens', payload: { name: 'crm', scopes: ['customers.read'] } }));
    expect(created.statusCode).toBe(201);
    const { token, token_id } = created.json<{ token: string; token_id: string }>();
    const list = await world.app.inject({ method: 'GET', url: '/api/v1/customers', headers: { authorization: `Bearer ${token}` } });
    expect(list.statusCode).toBe(200);
    const write = await world.app.inject({ method: 'POST', url: `/api/v1/customers/${world.customers.own}/suspend`, headers: { authorization: `Bearer ${token}` }, payload: { reason: 'x' } });
    expect(write.statusCode).toBe(403);
    const stored = await world.database.pool.query<{ token_hash: Buffer }>('SELECT token_hash FROM api_tokens WHERE token_id = $1', [token_id]);
    expect(stored.rows[0]!.token_hash.toString('utf8')).not.toContain(token);
    await world.app.inject(as(world.sessions.reseller!, { method: 'DELETE', url: `/api/v1/auth/tokens/${token_id}` }));
    const revoked = await world.app.inject({ method: 'GET', url: '/api/v1/customers', headers: { authorization: `Bearer ${token}` } });
    expect(revoked.statusCode).toBe(401);
    expect(revoked.json().error.code).toBe('TOKEN_REVOKED');
  });

  it('serves the OpenAPI description at /docs', async () => {
    const json = await world.app.inject({ method: 'GET', url: '/docs/json' });
    expect(json.statusCode).toBe(200);
    expect(Object.keys(json.json<{ paths: object }>().paths)).toEqual(expect.arrayContaining(['/api/v1/customers', '/api/v1/auth/login']));
  });
});
