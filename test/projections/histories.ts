import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { CommandRuntime } from '../../commands/command-runtime.js';
import {
  bindMac,
  changeCustomerDetails,
  enableCustomer,
  moveCustomer,
  registerCustomer,
  resumeCustomer,
  setSpecialPrice,
  suspendCustomer,
  updatePackage,
} from '../../commands/customer-commands.js';
import { addStaff, removeStaff, setRadiusPolicy, setStaffPermissions } from '../../commands/operator-commands.js';
import { receivePayment } from '../../commands/payment-commands.js';
import { START, type EventStore, type LogPosition, type RecordedEvent } from '../../eventstore/event-store.js';
import { admin, createDemoIsp, ok, PACKAGE_10M, type DemoIsp, type ManualClock } from '../support/demo-isp.js';
import { buildScenario, type Scenario } from './scenario.js';

/**
 * Event histories for projection tests, always written through the real commands so the events have the
 * shapes production writes: a rich one (two ISPs, and on top of the scenario the changes that make read models
 * delete and rewrite rows) and a bulk one (many customers, each registered and paying once).
 */

/** Two scenarios plus resumes, re-enables, a MAC swap, a move, a policy switch, a package quota on and off, staff. */
export async function buildRichHistory(runtime: CommandRuntime, clock: ManualClock): Promise<readonly Scenario[]> {
  const scenarios: Scenario[] = [];
  for (let isp = 0; isp < 2; isp += 1) {
    const scenario = await buildScenario(runtime, clock);
    const envelope = admin(scenario.tenant);
    ok(await resumeCustomer(runtime, envelope, { customer_id: scenario.suspended }));
    ok(await suspendCustomer(runtime, envelope, { customer_id: scenario.suspended, reason: 'second theft report' }));
    ok(await enableCustomer(runtime, envelope, { customer_id: scenario.disabled }));
    // A MAC swap is mac-unbound then mac-bound: RADIUS deletes the Calling-Station-Id row and writes it again.
    ok(await bindMac(runtime, envelope, { customer_id: scenario.pppoe, mac: 'AA:BB:CC:00:00:02' }));
    ok(await changeCustomerDetails(runtime, envelope, { customer_id: scenario.pppoe, name: 'Customer renamed', mobile: '+8801700000001', zone: 'Uttara' }));
    ok(await setSpecialPrice(runtime, envelope, { customer_id: scenario.pppoe, special_price: '450.00' }));
    ok(await moveCustomer(runtime, envelope, { customer_id: scenario.static_ip, to_operator_id: scenario.reseller, mover_operator_id: scenario.reseller }));
    ok(await setRadiusPolicy(runtime, envelope, { operator_id: scenario.tenant, blocked_access: 'suspended_pool', suspended_pool: 'pool-blocked', suspended_address_list: 'blocked', interim_interval_seconds: 600 }));
    ok(await setRadiusPolicy(runtime, envelope, { operator_id: scenario.tenant, blocked_access: 'reject', suspended_pool: null, suspended_address_list: null, interim_interval_seconds: 300 }));
    ok(await updatePackage(runtime, envelope, { ...PACKAGE_10M, package_id: scenario.package_id, data_quota_mb: 8_192 }));
    ok(await updatePackage(runtime, envelope, { ...PACKAGE_10M, package_id: scenario.package_id, data_quota_mb: null }));
    const staff_id = `staff-${randomUUID().slice(0, 8)}`;
    ok(await addStaff(runtime, envelope, { staff_id, operator_id: scenario.reseller, role: 'manager', name: 'Rina', permissions: ['customers.read'] }));
    ok(await setStaffPermissions(runtime, envelope, { staff_id, permissions: ['customers.read', 'payments.collect'] }));
    ok(await removeStaff(runtime, envelope, { staff_id }));
    ok(await receivePayment(runtime, envelope, cashPayment(scenario, scenario.hotspot)));
    scenarios.push(scenario);
  }
  return scenarios;
}

export type BulkHistory = DemoIsp & Readonly<{ customers: readonly string[]; payments: readonly string[] }>;

/**
 * `count` customers of one ISP, each registered and paying a recharge, `concurrency` commands in flight at a
 * time. Payments of one reseller chain queue on its wallets, so more concurrency mostly overlaps registrations.
 */
export async function buildBulkHistory(runtime: CommandRuntime, count: number, concurrency = 6): Promise<BulkHistory> {
  const demo = await createDemoIsp(runtime, { wallet_top_up: '10000000.00' });
  const envelope = admin(demo.tenant);
  const suffix = randomUUID().slice(0, 6);
  const customers: string[] = [];
  const payments: string[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const index = next++;
      const customer_id = `cus-bulk-${index}-${suffix}`;
      ok(
        await registerCustomer(runtime, envelope, {
          customer_id,
          operator_id: demo.sub_reseller,
          connection_type: 'pppoe',
          name: `Bulk customer ${index}`,
          mobile: `+8801${String(700_000_000 + index).padStart(9, '0')}`,
          zone: index % 2 === 0 ? 'Mirpur' : 'Banani',
          username: `bulk-${index}-${suffix}`,
          password: `pw-${index}`,
          mac: null,
          static_ip: null,
          package_id: demo.package_id,
          profile: { kind: 'daily' },
          special_price: null,
          self_registered: false,
        }),
      );
      customers.push(customer_id);
      const payment = cashPayment(demo, customer_id);
      ok(await receivePayment(runtime, envelope, payment));
      payments.push(payment.payment_id);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { ...demo, customers, payments };
}

function cashPayment(demo: DemoIsp, customer_id: string) {
  return {
    customer_id,
    payment_id: randomUUID(),
    method: 'cash' as const,
    amount: '500.00',
    collected_by: `${demo.sub_reseller}-cashier`,
    collector_operator_id: demo.sub_reseller,
    gateway: null,
    gateway_reference: null,
    card: null,
    recharge_package_id: demo.package_id,
  };
}

/**
 * The whole log once every committed event is readable: readAll hides events at or above the oldest running
 * transaction id of the whole server (other test files' databases included), so right after a write it can
 * briefly return fewer events than `events` holds.
 */
export async function settledEvents(pool: pg.Pool, store: EventStore, timeout_ms = 20_000): Promise<readonly RecordedEvent[]> {
  const deadline = Date.now() + timeout_ms;
  for (;;) {
    const committed = Number((await pool.query<{ count: string }>('SELECT count(*) AS count FROM events')).rows[0]!.count);
    const events = await allEvents(store);
    if (events.length === committed) return events;
    if (Date.now() > deadline) throw new Error(`only ${events.length} of ${committed} committed events became readable within ${timeout_ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The whole log in order, page by page (only what readAll already exposes; see settledEvents). */
export async function allEvents(store: EventStore): Promise<readonly RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  let position: LogPosition = START;
  for (;;) {
    const page = await store.readAll(position, { max_count: 1_000 });
    if (page.length === 0) return events;
    events.push(...page);
    position = page[page.length - 1]!.position;
  }
}

export { lastWritten } from './last-written.js';
