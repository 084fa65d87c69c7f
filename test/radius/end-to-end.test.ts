import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { suspendCustomer, updatePackage } from '../../commands/customer-commands.js';
import { receivePayment } from '../../commands/payment-commands.js';
import type { RunningRadius } from '../../radius-bridge/radius-role.js';
import { NAS_REQUEST_EVENT, NAS_REQUESTS_STREAM_PREFIX } from '../../radius-bridge/session-control.js';
import { CODE } from '../../radius-bridge/wire.js';
import { admin, ok, PACKAGE_10M } from '../support/demo-isp.js';
import { accessRequest, accountingRequest } from './support/packets.js';
import { createLab, SECRET, type Lab } from './support/radius-lab.js';
import { TestNas } from './support/test-nas.js';
import { exchange } from './support/udp.js';

/**
 * From a business event to the router, end to end: a payment turns the next Access-Request from Reject to
 * Accept within a second (the model follows the event log; no projection table or query in between), a
 * suspension disconnects the customer's open session at a router that verifies the request, a package's new
 * rate reaches the session by CoA, and every answer — or its absence — is recorded as an event.
 */
let lab: Lab;
let bridge: RunningRadius;
let nas: TestNas;

beforeAll(async () => {
  nas = new TestNas(SECRET);
  const coa_port = await nas.start();
  lab = await createLab({ coa_port });
  bridge = await lab.startBridge({ coa_timeout_ms: 200, coa_attempts: 2 });
  // The Disconnect/CoA sender leads (it is the only radius process here) before anything happens.
  for (let i = 0; i < 100 && !bridge.control.leading; i += 1) await new Promise((resolve) => setTimeout(resolve, 20));
  expect(bridge.control.leading).toBe(true);
}, 120_000);

afterAll(async () => {
  await lab?.stop();
  await nas?.stop();
});

const auth = async (user: string, password: string): Promise<number | null> => {
  const reply = await exchange(accessRequest({ user, password, secret: SECRET }), bridge.auth_port);
  return reply === null ? null : reply[0]!;
};

async function startSession(user: string, session: string, framed_ip: string): Promise<void> {
  const request = accountingRequest({
    secret: SECRET,
    attributes: [
      { name: 'Acct-Status-Type', value: 'Start' },
      { name: 'User-Name', value: user },
      { name: 'Acct-Session-Id', value: session },
      { name: 'NAS-IP-Address', value: '127.0.0.1' },
      { name: 'Framed-IP-Address', value: framed_ip },
    ],
  });
  expect((await exchange(request, bridge.acct_port))?.[0]).toBe(CODE.ACCOUNTING_RESPONSE);
}

async function outcomeEvents(): Promise<Record<string, unknown>[]> {
  const events = await lab.store.readStream(`${NAS_REQUESTS_STREAM_PREFIX}${lab.router_id}`);
  return events.filter((event) => event.type === NAS_REQUEST_EVENT).map((event) => event.data as Record<string, unknown>);
}

async function eventually<T>(probe: () => Promise<T | undefined>, timeout_ms: number): Promise<T> {
  const deadline = Date.now() + timeout_ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`nothing within ${timeout_ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('radius-bridge end to end', () => {
  it('a payment that renews an expired customer turns the next Access-Request from Reject to Accept within a second', async () => {
    const user = await lab.username(lab.scenario.expired);
    expect(await auth(user, 'pw-expired')).toBe(CODE.ACCESS_REJECT);
    ok(
      await receivePayment(lab.runtime, admin(lab.scenario.tenant), {
        customer_id: lab.scenario.expired,
        payment_id: randomUUID(),
        method: 'cash',
        amount: '500.00',
        collected_by: 'cashier-1',
        collector_operator_id: lab.scenario.sub_reseller,
        gateway: null,
        gateway_reference: null,
        card: null,
        recharge_package_id: lab.scenario.package_id,
      }),
    );
    const paid_at = Date.now();
    let accepted_after_ms = -1;
    while (Date.now() - paid_at < 1_000) {
      if ((await auth(user, 'pw-expired')) === CODE.ACCESS_ACCEPT) {
        accepted_after_ms = Date.now() - paid_at;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(accepted_after_ms, 'Accept within a second of the payment').toBeGreaterThanOrEqual(0);
    expect(accepted_after_ms).toBeLessThan(1_000);
  });

  it('a suspension sends a Disconnect-Request that the router verifies, and records its ACK', async () => {
    const user = await lab.username(lab.scenario.pppoe);
    await startSession(user, 'e2e-suspend', '100.64.1.20');
    const seen = nas.received.length;
    ok(await suspendCustomer(lab.runtime, admin(lab.scenario.tenant), { customer_id: lab.scenario.pppoe, reason: 'unpaid' }));
    const request = await nas.next(seen, 5_000);
    expect(request.kind).toBe('disconnect');
    expect(request.authenticator_valid).toBe(true);
    expect(request.message_authenticator_valid).toBe(true);
    expect(request.attributes.get('User-Name')).toEqual([user]);
    expect(request.attributes.get('Acct-Session-Id')).toEqual(['e2e-suspend']);
    expect(request.attributes.get('NAS-IP-Address')).toEqual(['127.0.0.1']);
    expect(request.attributes.get('Framed-IP-Address')).toEqual(['100.64.1.20']);
    const recorded = await eventually(async () => (await outcomeEvents()).find((event) => event.acct_session_id === 'e2e-suspend'), 5_000);
    expect(recorded).toMatchObject({ kind: 'disconnect', outcome: 'ack', reason: 'customer-suspended', customer_id: lab.scenario.pppoe, attempts: 1, router_id: lab.router_id });
    // The customer reconnects and is refused (the ISP's policy is to reject blocked users).
    expect(await auth(user, 'pw-pppoe')).toBe(CODE.ACCESS_REJECT);
  });

  it('a package’s new rate reaches online customers by CoA-Request with the new Mikrotik-Rate-Limit', async () => {
    const user = await lab.username(lab.scenario.static_ip);
    await startSession(user, 'e2e-coa', '100.64.1.21');
    const seen = nas.received.length;
    ok(await updatePackage(lab.runtime, admin(lab.scenario.tenant), { ...PACKAGE_10M, down_kbps: 20_000, package_id: lab.scenario.package_id }));
    const request = await nas.next(seen, 5_000);
    expect(request.kind).toBe('coa');
    expect(request.authenticator_valid && request.message_authenticator_valid).toBe(true);
    expect(request.attributes.get('Mikrotik-Rate-Limit')).toEqual(['2000k/20000k']);
    expect(request.attributes.get('Acct-Session-Id')).toEqual(['e2e-coa']);
    const recorded = await eventually(async () => (await outcomeEvents()).find((event) => event.acct_session_id === 'e2e-coa'), 5_000);
    expect(recorded).toMatchObject({ kind: 'coa', outcome: 'ack', reason: 'package-updated', rate_limit: '2000k/20000k' });
  });

  it('a CoA the router refuses (NAK with its Error-Cause) falls back to a Disconnect', async () => {
    // A hotspot customer logs in by its MAC.
    const user = await lab.column<string>(lab.scenario.hotspot, 'mac');
    await startSession(user, 'e2e-nak', '100.64.1.23');
    nas.mode = 'nak-coa';
    try {
      ok(await updatePackage(lab.runtime, admin(lab.scenario.tenant), { ...PACKAGE_10M, down_kbps: 30_000, package_id: lab.scenario.package_id }));
      const recorded = await eventually(async () => {
        const events = (await outcomeEvents()).filter((event) => event.acct_session_id === 'e2e-nak');
        return events.length === 2 ? events : undefined;
      }, 5_000);
      expect(recorded.map((event) => [event.kind, event.outcome, event.error_cause])).toEqual([
        ['coa', 'nak', 503],
        ['disconnect', 'ack', null],
      ]);
    } finally {
      nas.mode = 'ack';
    }
  });

  it('a router that does not answer: sent again, then recorded as a timeout', async () => {
    const user = await lab.username(lab.scenario.monthly);
    await startSession(user, 'e2e-silent', '100.64.1.22');
    nas.mode = 'silent';
    const seen = nas.received.length;
    ok(await suspendCustomer(lab.runtime, admin(lab.scenario.tenant), { customer_id: lab.scenario.monthly, reason: 'test' }));
    const recorded = await eventually(async () => (await outcomeEvents()).find((event) => event.acct_session_id === 'e2e-silent'), 5_000);
    expect(recorded).toMatchObject({ kind: 'disconnect', outcome: 'timeout', attempts: 2 });
    // Both sends were the same packet (a router spots a repeat by Identifier and authenticator).
    expect(nas.received.length - seen).toBe(2);
    nas.mode = 'ack';
  });

  it('a finished session becomes one usage-recorded event for the customer (radacct is the outbox)', async () => {
    const user = await lab.username(lab.scenario.static_ip);
    const stop = accountingRequest({
      secret: SECRET,
      attributes: [
        { name: 'Acct-Status-Type', value: 'Stop' },
        { name: 'User-Name', value: user },
        { name: 'Acct-Session-Id', value: 'e2e-coa' },
        { name: 'NAS-IP-Address', value: '127.0.0.1' },
        { name: 'Acct-Session-Time', value: '3600' },
        { name: 'Acct-Input-Octets', value: '100' },
        { name: 'Acct-Input-Gigawords', value: '1' },
        { name: 'Acct-Output-Octets', value: '200' },
        { name: 'Acct-Terminate-Cause', value: 'User-Request' },
      ],
    });
    expect((await exchange(stop, bridge.acct_port))?.[0]).toBe(CODE.ACCOUNTING_RESPONSE);
    const recorded = await eventually(async () => {
      const events = await lab.store.readStream(`usage-${lab.scenario.static_ip}`);
      return events.length > 0 ? events : undefined;
    }, 5_000);
    expect(recorded.map((event) => event.type)).toEqual(['usage-recorded']);
    expect(recorded[0]!.data).toMatchObject({ customer_id: lab.scenario.static_ip, input_octets: String(2n ** 32n + 100n), output_octets: '200' });
    const marked = await lab.database.pool.query('SELECT usage_recorded_at FROM radacct WHERE acctsessionid = $1', ['e2e-coa']);
    expect(marked.rows[0].usage_recorded_at).not.toBeNull();
    // A second pass finds nothing left to record: one event per session.
    expect(await bridge.usage.run()).toBe(0);
    expect(await lab.store.readStream(`usage-${lab.scenario.static_ip}`)).toHaveLength(1);
  });
});
