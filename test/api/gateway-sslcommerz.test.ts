import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/free-port.js';
import { postForm, signFields, SslcommerzTestServer } from '../support/sslcommerz-test-server.js';
import { as, startApiWorld, type ApiWorld } from './harness.js';

/**
 * Online payment through SSLCommerz end to end over real HTTP: the API listens on a port, a local SSLCommerz
 * (test/support/sslcommerz-test-server.ts) opens sessions, answers validations and sends its IPN to our
 * endpoint, and the "browser" posts back to the return URLs. Whatever the order and however often the
 * callbacks come, a payment is recorded once; failures, cancellations and forgeries record nothing.
 */
const STORE_ID = 'ispbillstest0001';
const STORE_PASSWORD = 'ispbillstest0001@ssl';

let world: ApiWorld;
let gateway: SslcommerzTestServer;
let base: string;

beforeAll(async () => {
  gateway = await new SslcommerzTestServer(STORE_ID, STORE_PASSWORD).start();
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  // The API reads its gateway settings when it is built; this test file runs in a process of its own.
  Object.assign(process.env, { SSLCOMMERZ_STORE_ID: STORE_ID, SSLCOMMERZ_STORE_PASSWORD: STORE_PASSWORD, SSLCOMMERZ_API_URL: gateway.url, SSLCOMMERZ_TIMEOUT_MS: '5000', GATEWAY_CALLBACK_URL: base });
  world = await startApiWorld();
  await world.app.listen({ host: '127.0.0.1', port });
}, 120_000);
afterAll(async () => {
  await world?.close();
  await gateway?.stop();
});

const pool = () => world.database.pool;
const eventCount = async (): Promise<number> => Number((await pool().query<{ n: string }>('SELECT count(*) AS n FROM events')).rows[0]!.n);
const paymentsFor = async (tran_id: string) =>
  (await pool().query<{ data: Record<string, unknown>; metadata: Record<string, unknown> }>("SELECT data, metadata FROM events WHERE type = 'payment-received' AND data->>'gateway_reference' = $1", [tran_id])).rows;
const sessionStatus = async (tran_id: string): Promise<string> => (await pool().query<{ status: string }>('SELECT status FROM gateway_sessions WHERE tran_id = $1', [tran_id])).rows[0]!.status;

/** The customer (portal login) starts a recharge of the demo package (500.00 BDT) and gets the payment page. */
async function customerStarts(body: Record<string, unknown> = { amount: '500.00', recharge_package_id: world.a.package_id }): Promise<{ tran_id: string; redirect_url: string }> {
  const response = await world.app.inject(as(world.sessions.customer!, { method: 'POST', url: '/api/v1/me/online-payments', payload: body }));
  expect(response.statusCode, response.body).toBe(201);
  return response.json();
}

describe('SSLCommerz online payment', () => {
  it('opens a session with our callback URLs and the amount we fixed, and returns the gateway page', async () => {
    const started = await customerStarts();
    const session = gateway.sessions.get(started.tran_id)!;
    expect(started.redirect_url).toBe(`${gateway.url}/EasyCheckOut/testcde${session.sessionkey.toLowerCase()}`);
    expect(started.tran_id).toMatch(/^[a-z0-9]{1,30}$/);
    expect(session.fields).toMatchObject({
      store_id: STORE_ID,
      total_amount: '500.00',
      currency: 'BDT',
      ipn_url: `${base}/api/v1/gateways/sslcommerz/ipn`,
      success_url: `${base}/api/v1/gateways/sslcommerz/return/success`,
      fail_url: `${base}/api/v1/gateways/sslcommerz/return/fail`,
      cancel_url: `${base}/api/v1/gateways/sslcommerz/return/cancel`,
      value_a: world.customers.own,
    });
    expect(await sessionStatus(started.tran_id)).toBe('pending');
  });

  it('records a paid IPN once; a replayed IPN and the browser return that follows append nothing', async () => {
    const { tran_id } = await customerStarts();
    const fields = gateway.complete(tran_id, { status: 'VALID' });
    const first = await gateway.deliverIpn(fields);
    expect(first.status, first.body).toBe(200);
    expect(JSON.parse(first.body)).toMatchObject({ tran_id, outcome: 'recorded', payment_id: `pay-${tran_id}` });
    const payments = await paymentsFor(tran_id);
    expect(payments).toHaveLength(1);
    expect(payments[0]!.data).toMatchObject({ method: 'online', amount: '500.00', currency: 'BDT', gateway: 'sslcommerz', gateway_reference: tran_id, collected_by: 'sslcommerz', to_recharge: '500.00' });
    expect(payments[0]!.metadata).toMatchObject({ actor: { id: 'gateway:sslcommerz', role: 'system' }, tenant: world.a.tenant });
    const recharged = await pool().query("SELECT 1 FROM events WHERE type = 'customer-recharged' AND data->>'payment_id' = $1", [`pay-${tran_id}`]);
    expect(recharged.rowCount).toBe(1);
    const validations = gateway.calls.validation;

    const after = await eventCount();
    const replay = await gateway.deliverIpn(fields);
    expect(replay.status).toBe(200);
    expect(JSON.parse(replay.body)).toMatchObject({ outcome: 'already_recorded', payment_id: `pay-${tran_id}` });
    const browser = await gateway.browserReturn(fields);
    expect(browser.status).toBe(303);
    expect(browser.location).toBe(`http://localhost:3000/portal?payment=${tran_id}&outcome=already_recorded`);
    expect(await eventCount()).toBe(after);
    expect(await paymentsFor(tran_id)).toHaveLength(1);
    // A paid session answers from its row: the gateway is not asked again.
    expect(gateway.calls.validation).toBe(validations);
    expect(await sessionStatus(tran_id)).toBe('paid');
  });

  it('records once when the browser comes back before the IPN', async () => {
    const { tran_id } = await customerStarts();
    const fields = gateway.complete(tran_id, { status: 'VALID' });
    const browser = await gateway.browserReturn(fields);
    expect(browser.status, browser.body).toBe(303);
    expect(browser.location).toContain(`payment=${tran_id}&outcome=recorded`);
    const ipn = await gateway.deliverIpn(fields);
    expect(JSON.parse(ipn.body)).toMatchObject({ outcome: 'already_recorded' });
    expect(await paymentsFor(tran_id)).toHaveLength(1);
  });

  it('records once when the IPN and the browser arrive at the same moment, several times over', async () => {
    const { tran_id } = await customerStarts();
    const fields = gateway.complete(tran_id, { status: 'VALID' });
    const deliveries = await Promise.all([gateway.deliverIpn(fields), gateway.browserReturn(fields), gateway.deliverIpn(fields), gateway.browserReturn(fields)]);
    expect(deliveries.map((delivery) => delivery.status).sort()).toEqual([200, 200, 303, 303]);
    const outcomes = deliveries.map((delivery) => (delivery.status === 200 ? JSON.parse(delivery.body).outcome : new URL(delivery.location!).searchParams.get('outcome')));
    expect(outcomes.filter((outcome) => outcome === 'recorded')).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome === 'already_recorded')).toHaveLength(3);
    expect(await paymentsFor(tran_id)).toHaveLength(1);
  });

  it('records nothing for a failed or cancelled payment, and still records the retry that succeeds on the same session', async () => {
    const { tran_id } = await customerStarts();
    const before = await eventCount();
    const failed = gateway.complete(tran_id, { status: 'FAILED' });
    const ipn = await gateway.deliverIpn(failed);
    expect(ipn.status).toBe(200);
    expect(JSON.parse(ipn.body)).toMatchObject({ tran_id, outcome: 'failed', payment_id: null });
    const browser = await gateway.browserReturn(failed);
    expect(browser.status).toBe(303);
    expect(browser.location).toContain('outcome=failed');
    expect(await eventCount()).toBe(before);
    expect(await sessionStatus(tran_id)).toBe('failed');

    const cancelled = await gateway.deliverIpn(gateway.complete(tran_id, { status: 'CANCELLED' }));
    expect(JSON.parse(cancelled.body)).toMatchObject({ outcome: 'cancelled' });
    expect(await eventCount()).toBe(before);

    const retried = await gateway.deliverIpn(gateway.complete(tran_id, { status: 'VALID' }));
    expect(JSON.parse(retried.body)).toMatchObject({ outcome: 'recorded' });
    expect(await paymentsFor(tran_id)).toHaveLength(1);
    // A late FAILED notice (out of order) does not undo the payment.
    await gateway.deliverIpn(failed);
    expect(await sessionStatus(tran_id)).toBe('paid');
  });

  it('refuses forged IPNs with GATEWAY_SIGNATURE_INVALID before asking the gateway, and appends nothing', async () => {
    const { tran_id } = await customerStarts();
    const genuine = gateway.complete(tran_id, { status: 'VALID' });
    const before = await eventCount();
    const validations = gateway.calls.validation;
    const { verify_sign: _sign, verify_key: _key, ...unsigned } = genuine;
    const forgeries: Record<string, Record<string, string>> = {
      'signed with another password': signFields(unsigned, 'not-the-store-password'),
      'a signed field changed afterwards': { ...genuine, amount: '5000.00' },
      'the status changed afterwards': { ...gateway.complete(tran_id, { status: 'FAILED' }), status: 'VALID', val_id: genuine.val_id! },
      'no signature at all': unsigned,
      'a signature that leaves the status out': signFields(unsigned, STORE_PASSWORD, ['tran_id', 'val_id', 'amount']),
      'a malformed signature': { ...genuine, verify_sign: 'zz' },
    };
    for (const [what, fields] of Object.entries(forgeries)) {
      const response = await postForm(`${base}/api/v1/gateways/sslcommerz/ipn`, fields);
      expect(response.status, what).toBe(400);
      expect(JSON.parse(response.body).error.code, what).toBe('GATEWAY_SIGNATURE_INVALID');
    }
    const browser = await postForm(`${base}/api/v1/gateways/sslcommerz/return/success`, forgeries['signed with another password']!);
    expect(browser.status).toBe(400);
    expect(await eventCount()).toBe(before);
    expect(gateway.calls.validation).toBe(validations);
    expect(await sessionStatus(tran_id)).toBe('pending');
  });

  it('refuses what the gateway does not confirm as started: another amount (502, held for a person), an unknown transaction (404)', async () => {
    const { tran_id } = await customerStarts();
    const before = await eventCount();
    const response = await gateway.deliverIpn(gateway.complete(tran_id, { status: 'VALID', confirmed_amount: '10.00' }));
    expect(response.status).toBe(502);
    expect(JSON.parse(response.body).error).toMatchObject({ code: 'GATEWAY_VALIDATION_FAILED' });
    expect(JSON.parse(response.body).error.message).toContain('started for 500.00 BDT');
    expect(await sessionStatus(tran_id)).toBe('rejected');

    const unknown = await postForm(`${base}/api/v1/gateways/sslcommerz/ipn`, signFields({ tran_id: 'ibnotstartedbyus', status: 'VALID', val_id: 'x1', amount: '500.00' }, STORE_PASSWORD));
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body).error.code).toBe('NOT_FOUND');
    expect(await eventCount()).toBe(before);
  });

  it('holds a payment the gateway flags as risky instead of recording it', async () => {
    const { tran_id } = await customerStarts();
    const before = await eventCount();
    const response = await gateway.deliverIpn(gateway.complete(tran_id, { status: 'VALID', risk_level: '1' }));
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({ outcome: 'held', payment_id: null });
    expect(await sessionStatus(tran_id)).toBe('held');
    expect(await eventCount()).toBe(before);
  });

  it('lets a cashier start a payment for a customer of its subtree only, and refuses doomed payments before opening a session', async () => {
    const reseller = world.sessions.reseller!;
    const own = await world.app.inject(as(reseller, { method: 'POST', url: `/api/v1/customers/${world.customers.own}/online-payments`, payload: { amount: '300.00' } }));
    expect(own.statusCode, own.body).toBe(201);
    const sessions = gateway.calls.session;
    const before = await eventCount();
    const refusals: [string, string, Record<string, unknown>, number, string][] = [
      ['a sibling subtree', `/api/v1/customers/${world.customers.sibling}/online-payments`, { amount: '300.00' }, 404, 'CUSTOMER_NOT_FOUND'],
      ['another ISP', `/api/v1/customers/${world.customers.foreign}/online-payments`, { amount: '300.00' }, 404, 'CUSTOMER_NOT_FOUND'],
      ['below the gateway minimum', `/api/v1/customers/${world.customers.own}/online-payments`, { amount: '5.00' }, 400, 'INVALID_AMOUNT'],
      ['a recharge the amount does not cover', `/api/v1/customers/${world.customers.own}/online-payments`, { amount: '100.00', recharge_package_id: world.a.package_id }, 422, 'PAYMENT_AMOUNT_TOO_SMALL'],
      ['an unknown package', `/api/v1/customers/${world.customers.own}/online-payments`, { amount: '500.00', recharge_package_id: 'pkg-nope' }, 404, 'PACKAGE_NOT_FOUND'],
    ];
    for (const [what, url, payload, status, code] of refusals) {
      const response = await world.app.inject(as(reseller, { method: 'POST', url, payload }));
      expect(response.statusCode, `${what}: ${response.body}`).toBe(status);
      expect(response.json().error.code, what).toBe(code);
    }
    const customer = await world.app.inject(as(world.sessions.customer!, { method: 'POST', url: `/api/v1/customers/${world.customers.own}/online-payments`, payload: { amount: '300.00' } }));
    expect(customer.statusCode).toBe(403);
    const staffOnPortal = await world.app.inject(as(reseller, { method: 'POST', url: '/api/v1/me/online-payments', payload: { amount: '300.00' } }));
    expect(staffOnPortal.statusCode).toBe(403);
    expect(gateway.calls.session).toBe(sessions);
    expect(await eventCount()).toBe(before);
  });

  it('answers 502 and marks the session failed when the gateway will not open one', async () => {
    gateway.failNextSession = 'Store is De-active';
    const response = await world.app.inject(as(world.sessions.customer!, { method: 'POST', url: '/api/v1/me/online-payments', payload: { amount: '200.00' } }));
    expect(response.statusCode).toBe(502);
    expect(response.json().error).toMatchObject({ code: 'GATEWAY_VALIDATION_FAILED' });
    expect(response.json().error.message).toContain('Store is De-active');
  });

  it('answers hostile callbacks and start requests with a coded error, never a 500, and appends nothing', async () => {
    const { tran_id } = await customerStarts();
    const before = await eventCount();
    const hostile = ['a\u0000b', '\ud800', "'; DROP TABLE events; --", 'x'.repeat(3_000), '../../etc/passwd', ''];
    const callbacks: (Record<string, string> | string)[] = [
      ...hostile.map((text) => signFields({ tran_id: text, status: 'VALID', val_id: text, amount: text }, STORE_PASSWORD)),
      ...hostile.map((text) => signFields({ tran_id, status: 'VALID', val_id: text, amount: '500.00' }, STORE_PASSWORD)),
      { ...gateway.complete(tran_id, { status: 'FAILED' }), ['__proto__']: 'x', constructor: 'y' },
      'tran_id=%00&status=VALID&verify_sign=%00&verify_key=%00',
    ];
    for (const body of callbacks) {
      for (const path of ['ipn', 'return/success']) {
        const response =
          typeof body === 'string'
            ? await fetch(`${base}/api/v1/gateways/sslcommerz/${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body, redirect: 'manual' })
            : await fetch(`${base}/api/v1/gateways/sslcommerz/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), redirect: 'manual' });
        const text = await response.text();
        // Signed with our password, only the gateway could send these: when it then does not confirm the val_id,
        // that is its answer (502 GATEWAY_VALIDATION_FAILED). Never our own failure (500).
        if (response.status >= 500) expect([response.status, JSON.parse(text).error.code], text).toEqual([502, 'GATEWAY_VALIDATION_FAILED']);
        if (response.status >= 400) expect(JSON.parse(text).error.code, text).toMatch(/^[A-Z_]+$/);
      }
    }
    for (const payload of [{ amount: '500.00', recharge_package_id: 'a\u0000b' }, { amount: '1e3' }, { amount: '500.00', gateway: 'paypal' }, { amount: '500.00', extra: 1 }, []]) {
      const response = await world.app.inject(as(world.sessions.customer!, { method: 'POST', url: '/api/v1/me/online-payments', payload: payload as never }));
      expect(response.statusCode, response.body).toBeGreaterThanOrEqual(400);
      expect(response.statusCode, response.body).toBeLessThan(500);
    }
    expect(await eventCount()).toBe(before);
    expect(await sessionStatus(tran_id)).toBe('pending');
  });

  it('lists my online payments with what became of each, and staff see them in their subtree', async () => {
    const mine = await world.app.inject(as(world.sessions.customer!, { method: 'GET', url: '/api/v1/me/online-payments' }));
    expect(mine.statusCode).toBe(200);
    const statuses = mine.json<{ online_payments: { status: string; customer_id: string }[] }>().online_payments.map((payment) => payment.status);
    expect(new Set(statuses)).toEqual(new Set(['pending', 'paid', 'rejected', 'held', 'failed']));
    const staff = await world.app.inject(as(world.sessions.sub_reseller!, { method: 'GET', url: `/api/v1/customers/${world.customers.own}/online-payments` }));
    expect(staff.json().online_payments.length).toBe(statuses.length);
    const sibling = await world.app.inject(as(world.sessions.sub_reseller!, { method: 'GET', url: `/api/v1/customers/${world.customers.sibling}/online-payments` }));
    expect(sibling.statusCode).toBe(404);
  });
});
