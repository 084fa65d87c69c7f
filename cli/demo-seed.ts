import type pg from 'pg';
import { createLogin } from '../api/access/logins.js';
import type { Clock, CommandEnvelope, CommandResult, CommandRuntime } from '../commands/command-runtime.js';
import { createPackage, registerCustomer } from '../commands/customer-commands.js';
import { assignPackage, createOperator, loadOperator, registerIsp, setCommissionTerms, topUpWallet } from '../commands/operator-commands.js';
import { receivePayment } from '../commands/payment-commands.js';
import { registerRouter } from '../commands/router-commands.js';
import type { PackageSpec } from '../domain/packages/package.js';

export const DEMO_ISP = 'demo-isp';
/** A hotspot router of the demo (its NAS IP is this machine's, so radclient can play the router): /hotspot/demo-hotspot. */
export const DEMO_HOTSPOT_ROUTER = 'demo-hotspot';

const packages: readonly (PackageSpec & { package_id: string })[] = [
  { package_id: 'home-10m', name: 'Home 10 Mbps', down_kbps: 10_000, up_kbps: 2_000, burst: null, price: '500.00', validity_days: 30, ip_pool: 'pool-home', data_quota_mb: null },
  { package_id: 'home-20m', name: 'Home 20 Mbps', down_kbps: 20_000, up_kbps: 5_000, burst: { down_kbps: 30_000, up_kbps: 8_000, threshold_down_kbps: 15_000, threshold_up_kbps: 4_000, time_seconds: 16 }, price: '800.00', validity_days: 30, ip_pool: 'pool-home', data_quota_mb: null },
  { package_id: 'hotspot-day', name: 'Hotspot 1 day', down_kbps: 5_000, up_kbps: 1_000, burst: null, price: '20.00', validity_days: 1, ip_pool: 'pool-hotspot', data_quota_mb: 2_048 },
];

function must<Value>(what: string, result: CommandResult<Value>): Value {
  if (!result.ok) throw new Error(`demo seed: ${what} was refused: ${result.rejection.code}: ${result.rejection.message}`);
  return result.value;
}

/**
 * A small demo ISP (Dhaka, taka) so a fresh `npm start` has something to look at: three packages, a reseller
 * with a sub-reseller on commission, PPPoE, hotspot, static-IP and monthly customers, and a few payments.
 * Runs once: when the ISP exists already it does nothing.
 */
export async function seedDemoIsp(runtime: CommandRuntime): Promise<'seeded' | 'already-there'> {
  if ((await loadOperator(runtime, DEMO_ISP, DEMO_ISP)) !== null) return 'already-there';
  const envelope: CommandEnvelope = { tenant: DEMO_ISP, actor: { id: 'demo-seed', role: 'system' } };
  must('ISP', await registerIsp(runtime, envelope, { operator_id: DEMO_ISP, name: 'Demo Net Ltd.', currency: 'BDT', time_zone: 'Asia/Dhaka', address: 'House 12, Road 5, Dhanmondi, Dhaka' }));
  for (const spec of packages) must(`package ${spec.package_id}`, await createPackage(runtime, envelope, spec));
  must('reseller', await createOperator(runtime, envelope, { operator_id: 'mirpur-link', parent_id: DEMO_ISP, role: 'reseller', name: 'Mirpur Link', billing_mode: 'prepaid', credit_limit: '0' }));
  must('sub-reseller', await createOperator(runtime, envelope, { operator_id: 'pallabi-net', parent_id: 'mirpur-link', role: 'sub_reseller', name: 'Pallabi Net', billing_mode: 'postpaid', credit_limit: '5000' }));
  must('reseller terms', await setCommissionTerms(runtime, envelope, { operator_id: 'mirpur-link', effective_from: '2020-01-01', terms: { kind: 'share', percent: '60' } }));
  must('sub-reseller terms', await setCommissionTerms(runtime, envelope, { operator_id: 'pallabi-net', effective_from: '2020-01-01', terms: { kind: 'share', percent: '50' } }));
  for (const [operator_id, prices] of [
    ['mirpur-link', { 'home-10m': '300.00', 'home-20m': '480.00' }],
    ['pallabi-net', { 'home-10m': '400.00', 'home-20m': '640.00' }],
  ] as const) {
    for (const [package_id, wholesale_price] of Object.entries(prices)) {
      must(`assignment ${package_id}`, await assignPackage(runtime, envelope, { operator_id, package_id, wholesale_price, effective_from: '2020-01-01' }));
    }
  }
  must('wallet top-up', await topUpWallet(runtime, envelope, { operator_id: 'mirpur-link', amount: '10000.00', method: 'bank', reference: 'DEMO-OPENING' }));

  const customers = [
    { customer_id: 'rahim', operator_id: DEMO_ISP, connection_type: 'pppoe', name: 'Rahim Uddin', mobile: '+8801711000001', zone: 'Dhanmondi', username: 'rahim', password: 'rahim-pass', mac: null, static_ip: null, package_id: 'home-10m', profile: { kind: 'daily' } },
    { customer_id: 'karim', operator_id: 'pallabi-net', connection_type: 'pppoe', name: 'Karim Hossain', mobile: '+8801711000002', zone: 'Pallabi', username: 'karim', password: 'karim-pass', mac: null, static_ip: null, package_id: 'home-20m', profile: { kind: 'daily' } },
    { customer_id: 'nasrin', operator_id: DEMO_ISP, connection_type: 'hotspot', name: 'Nasrin Akter', mobile: '+8801711000003', zone: 'Dhanmondi', username: null, password: null, mac: 'AA:BB:CC:00:00:03', static_ip: null, package_id: 'hotspot-day', profile: { kind: 'daily' } },
    { customer_id: 'acme-office', operator_id: DEMO_ISP, connection_type: 'static_ip', name: 'Acme Trading', mobile: '+8801711000004', zone: 'Motijheel', username: null, password: null, mac: null, static_ip: '203.0.113.10', package_id: 'home-20m', profile: { kind: 'monthly', due_day: 1, mode: 'postpaid', grace_days: 7 } },
  ] as const;
  for (const customer of customers) {
    must(`customer ${customer.customer_id}`, await registerCustomer(runtime, envelope, { ...customer, special_price: null, self_registered: false }));
  }
  // Routers are the ISP admins' to register (the router rules say who), so the seed acts as the demo's admin here.
  must('hotspot router', await registerRouter(runtime, { tenant: DEMO_ISP, actor: { id: 'demo-seed', role: 'admin' } }, { router_id: DEMO_HOTSPOT_ROUTER, name: 'Dhanmondi Lake hotspot', nas_ip: '127.0.0.1', secret: 'demo-radius-secret', description: 'demo: its hotspot page is /hotspot/demo-hotspot' }));
  must('recharge rahim', await receivePayment(runtime, envelope, {
    customer_id: 'rahim', payment_id: '00000000-0000-4000-8000-000000000001', method: 'cash', amount: '500.00', collected_by: 'demo-seed',
    collector_operator_id: DEMO_ISP, gateway: null, gateway_reference: null, card: null, recharge_package_id: 'home-10m',
  }));
  must('recharge karim', await receivePayment(runtime, envelope, {
    customer_id: 'karim', payment_id: '00000000-0000-4000-8000-000000000002', method: 'online', amount: '800.00', collected_by: 'gateway',
    collector_operator_id: DEMO_ISP, gateway: 'sslcommerz', gateway_reference: 'DEMO-SSL-0001', card: null, recharge_package_id: 'home-20m',
  }));
  return 'seeded';
}

/** The demo's logins, printed by `npm start`: one per kind of user, all with the same demo password. */
export const DEMO_PASSWORD = 'demo-password-2026';
export const DEMO_LOGINS = [
  { login: 'admin@demo-isp', principal_kind: 'operator', principal_id: DEMO_ISP, who: 'ISP admin' },
  { login: 'reseller@mirpur-link', principal_kind: 'operator', principal_id: 'mirpur-link', who: 'reseller' },
  { login: 'sub@pallabi-net', principal_kind: 'operator', principal_id: 'pallabi-net', who: 'sub-reseller' },
  { login: 'karim@customer', principal_kind: 'customer', principal_id: 'karim', who: 'customer (portal)' },
] as const;

/**
 * Gives the demo's people logins once the read models show them (the projector runs beside this). A login
 * that exists already is left alone, so this is safe on every start.
 */
export async function seedDemoLogins(pool: pg.Pool, clock: Clock, timeout_ms = 60_000): Promise<void> {
  const deadline = clock.now().getTime() + timeout_ms;
  for (const login of DEMO_LOGINS) {
    for (;;) {
      try {
        await createLogin(pool, clock, { tenant: DEMO_ISP, login: login.login, password: DEMO_PASSWORD, principal_kind: login.principal_kind, principal_id: login.principal_id });
        break;
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code === 'LOGIN_TAKEN') break;
        if (code !== 'NOT_FOUND' || Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }
}
