import { randomUUID } from 'node:crypto';
import type { CommandRuntime } from '../../commands/command-runtime.js';
import { bindMac, disableCustomer, expireCustomer, registerCustomer, suspendCustomer } from '../../commands/customer-commands.js';
import { assignCards, generateCardBatch, issueMonthlyBill, receivePayment, redeemCard, refundPayment } from '../../commands/payment-commands.js';
import type { RegisterCustomer } from '../../domain/customers/registration.js';
import { admin, createDemoIsp, ok, type DemoIsp, type ManualClock } from '../support/demo-isp.js';

/**
 * A small ISP's month, driven through the real commands: every customer kind and status the read models and
 * the RADIUS tables must show, payments of each method, a monthly bill, a refund and a card redemption.
 */
export type Scenario = DemoIsp &
  Readonly<{
    pppoe: string;
    hotspot: string;
    static_ip: string;
    suspended: string;
    expired: string;
    disabled: string;
    monthly: string;
    refunded_payment: string;
    card_serial: string;
    card_batch: string;
    names: Readonly<Record<string, string>>;
  }>;

export async function buildScenario(runtime: CommandRuntime, clock: ManualClock): Promise<Scenario> {
  const demo = await createDemoIsp(runtime, { wallet_top_up: '5000.00' });
  const envelope = admin(demo.tenant);
  const suffix = randomUUID().slice(0, 6);
  const customer = (name: string, overrides: Partial<RegisterCustomer> = {}): RegisterCustomer => ({
    customer_id: `cus-${name}-${suffix}`,
    operator_id: demo.sub_reseller,
    connection_type: 'pppoe',
    name: `Customer ${name}`,
    mobile: `+88017${Math.floor(10_000_000 + Math.random() * 89_999_999)}`,
    zone: 'Mirpur',
    username: `${name}-${suffix}`,
    password: `pw-${name}`,
    mac: null,
    static_ip: null,
    package_id: demo.package_id,
    profile: { kind: 'daily' },
    special_price: null,
    self_registered: false,
    ...overrides,
  });
  const cash = (customer_id: string, amount: string) => ({
    customer_id,
    payment_id: randomUUID(),
    method: 'cash' as const,
    amount,
    collected_by: `${demo.sub_reseller}-cashier`,
    collector_operator_id: demo.sub_reseller,
    gateway: null,
    gateway_reference: null,
    card: null,
    recharge_package_id: demo.package_id,
  });
  const online = (customer_id: string, amount: string) => ({
    ...cash(customer_id, amount),
    method: 'online' as const,
    collected_by: 'gateway',
    collector_operator_id: demo.tenant,
    gateway: 'sslcommerz',
    gateway_reference: `gw-${randomUUID()}`,
  });
  const register = async (name: string, overrides: Partial<RegisterCustomer> = {}): Promise<string> =>
    ok(await registerCustomer(runtime, envelope, customer(name, overrides))).customer_id;

  const pppoe = await register('pppoe');
  ok(await receivePayment(runtime, envelope, online(pppoe, '500.00')));
  ok(await bindMac(runtime, envelope, { customer_id: pppoe, mac: 'AA:BB:CC:00:00:01' }));

  const hotspot = await register('hotspot', { connection_type: 'hotspot', username: null, password: null, mac: `AA:BB:CC:00:01:${suffix.slice(0, 2).toUpperCase().replace(/[^0-9A-F]/g, '0')}` });
  ok(await receivePayment(runtime, envelope, cash(hotspot, '500.00')));

  const static_ip = await register('static', { connection_type: 'static_ip', static_ip: `10.${Math.floor(Math.random() * 200)}.${Math.floor(Math.random() * 250)}.9` });
  ok(await receivePayment(runtime, envelope, cash(static_ip, '500.00')));

  const suspended = await register('suspended');
  ok(await receivePayment(runtime, envelope, cash(suspended, '500.00')));
  ok(await suspendCustomer(runtime, envelope, { customer_id: suspended, reason: 'router theft report' }));

  const expired = await register('expired');
  const refunded = online(expired, '500.00');
  ok(await receivePayment(runtime, envelope, refunded));
  ok(await refundPayment(runtime, envelope, { customer_id: expired, refund_id: randomUUID(), payment_id: refunded.payment_id, amount: '500.00', reason: 'double charge', by: 'admin' }));

  const disabled = await register('disabled');
  ok(await disableCustomer(runtime, envelope, { customer_id: disabled, reason: 'left the area' }));

  const monthly = await register('monthly', { profile: { kind: 'monthly', due_day: 1, mode: 'postpaid', grace_days: 5 } });
  clock.set(new Date(clock.now().getTime() + 20 * 24 * 3600 * 1000));
  ok(await expireCustomer(runtime, envelope, { customer_id: expired }));
  ok(await issueMonthlyBill(runtime, envelope, { customer_id: monthly, period: '2026-12' as never }));
  ok(await receivePayment(runtime, envelope, { ...cash(monthly, '200.00'), recharge_package_id: null }));

  const card_batch = randomUUID();
  let pin = 1_000_000_000_000_000n;
  const batch = ok(
    await generateCardBatch(runtime, envelope, { batch_id: card_batch, count: 3, value: '500.00', package_id: demo.package_id, expires_on: '2027-12-31', first_serial: 1 }, () => (pin++).toString()),
  );
  const card = batch.cards[0]!;
  ok(await assignCards(runtime, envelope, { batch_id: card_batch, serials: batch.cards.map((c) => c.serial), to_operator_id: demo.sub_reseller, to_staff_id: null }));
  ok(await redeemCard(runtime, envelope, { batch_id: card_batch, serial: card.serial, pin: card.pin, customer_id: pppoe, payment_id: randomUUID(), recharge: true }));

  return {
    ...demo,
    pppoe,
    hotspot,
    static_ip,
    suspended,
    expired,
    disabled,
    monthly,
    refunded_payment: refunded.payment_id,
    card_serial: card.serial,
    card_batch,
    names: {},
  };
}
