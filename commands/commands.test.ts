import { randomUUID } from 'node:crypto';
import { Decimal } from 'decimal.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, createDemoIsp, ManualClock, ok, runtimeOn, type DemoIsp } from '../test/support/demo-isp.js';
import { createTestDatabase, type TestDatabase } from '../test/support/test-database.js';
import type { CommandRuntime } from './command-runtime.js';
import { loadCustomer, registerCustomer } from './customer-commands.js';
import { loadOperator } from './operator-commands.js';
import { issueMonthlyBill, receivePayment, refundPayment, runMonthlyBills, generateCardBatch, redeemCard } from './payment-commands.js';
import type { RegisterCustomer } from '../domain/customers/registration.js';

let database: TestDatabase;
let runtime: CommandRuntime;
const clock = new ManualClock(new Date('2026-11-16T06:00:00Z'));

beforeAll(async () => {
  database = await createTestDatabase(30);
  runtime = runtimeOn(database.pool, clock);
});
afterAll(async () => database.close());

const customer = (demo: DemoIsp, overrides: Partial<RegisterCustomer> = {}): RegisterCustomer => ({
  customer_id: `cus-${randomUUID().slice(0, 8)}`,
  operator_id: demo.sub_reseller,
  connection_type: 'pppoe',
  name: 'Rahim Uddin',
  mobile: '+8801711000000',
  zone: 'Mirpur',
  username: `rahim-${randomUUID().slice(0, 6)}`,
  password: 'secret-1',
  mac: null,
  static_ip: null,
  package_id: demo.package_id,
  profile: { kind: 'daily' },
  special_price: null,
  self_registered: false,
  ...overrides,
});

const payment = (customer_id: string, overrides: Record<string, unknown> = {}) => ({
  customer_id,
  payment_id: randomUUID(),
  method: 'online' as const,
  amount: '100.00',
  collected_by: 'gateway',
  collector_operator_id: '',
  gateway: 'sslcommerz',
  gateway_reference: `gw-${randomUUID()}`,
  card: null,
  recharge_package_id: null,
  ...overrides,
});

describe('commands on a real PostgreSQL event store', () => {
  it('settles the worked example: online payment credits the chain, cash at the sub-reseller debits it', async () => {
    const demo = await createDemoIsp(runtime, { wallet_top_up: '1000.00' });
    const envelope = admin(demo.tenant);
    const { customer_id } = ok(await registerCustomer(runtime, envelope, customer(demo)));
    ok(await receivePayment(runtime, envelope, payment(customer_id, { collector_operator_id: demo.tenant })));
    const reseller = await loadOperator(runtime, demo.tenant, demo.reseller);
    const sub = await loadOperator(runtime, demo.tenant, demo.sub_reseller);
    expect(reseller?.state.wallet_balance).toBe('1060.00');
    expect(sub?.state.wallet_balance).toBe('1030.00');

    ok(await receivePayment(runtime, envelope, payment(customer_id, { method: 'cash', gateway: null, gateway_reference: null, collected_by: 'sub-staff', collector_operator_id: demo.sub_reseller })));
    expect((await loadOperator(runtime, demo.tenant, demo.reseller))?.state.wallet_balance).toBe('1020.00');
    expect((await loadOperator(runtime, demo.tenant, demo.sub_reseller))?.state.wallet_balance).toBe('960.00');
    const state = (await loadCustomer(runtime, demo.tenant, customer_id))!.state;
    expect(state.credit).toBe('200.00');
  });

  it('a recharge extends validity, and a second delivery of the same gateway callback changes nothing', async () => {
    const demo = await createDemoIsp(runtime, { wallet_top_up: '1000.00' });
    const envelope = admin(demo.tenant);
    const { customer_id } = ok(await registerCustomer(runtime, envelope, customer(demo)));
    const paid = payment(customer_id, { amount: '500.00', collector_operator_id: demo.tenant, recharge_package_id: demo.package_id });
    const first = ok(await receivePayment(runtime, envelope, paid));
    expect(first.expires_at).toBe('2026-12-16T18:00:00.000Z');
    const again = ok(await receivePayment(runtime, envelope, { ...paid, payment_id: randomUUID() }));
    expect(again).toMatchObject({ duplicate: true, payment_id: paid.payment_id, expires_at: first.expires_at });
    expect(Object.keys((await loadCustomer(runtime, demo.tenant, customer_id))!.state.payments)).toHaveLength(1);
  });

  it('an idempotency key returns the first answer for the same request and refuses a different one', async () => {
    const demo = await createDemoIsp(runtime, { wallet_top_up: '1000.00' });
    const { customer_id } = ok(await registerCustomer(runtime, admin(demo.tenant), customer(demo)));
    const envelope = { ...admin(demo.tenant), idempotency_key: 'collect-1' };
    const cash = payment(customer_id, { method: 'cash', gateway: null, gateway_reference: null, collected_by: 'staff', collector_operator_id: demo.tenant });
    const first = await receivePayment(runtime, envelope, cash);
    const second = await receivePayment(runtime, envelope, cash);
    expect(first.ok && second.ok && second.replayed).toBe(true);
    expect(second.ok && second.value).toEqual(first.ok && first.value);
    const other = await receivePayment(runtime, envelope, { ...cash, amount: '200.00' });
    expect(other.ok ? null : other.rejection.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect((await loadCustomer(runtime, demo.tenant, customer_id))!.state.credit).toBe('100.00');
  });

  it('two payments for one customer at once: both count, nothing is lost', async () => {
    const demo = await createDemoIsp(runtime);
    const envelope = admin(demo.tenant);
    const { customer_id } = ok(
      await registerCustomer(runtime, envelope, customer(demo, { operator_id: demo.tenant, profile: { kind: 'monthly', due_day: 1, mode: 'prepaid', grace_days: 5 } })),
    );
    // Registered on the 16th of a 30-day period: the prorated first bill is 15/30 of 500.00.
    expect((await loadCustomer(runtime, demo.tenant, customer_id))!.state.bills.map((b) => b.amount)).toEqual(['250.00']);
    const results = await Promise.all(
      [1, 2].map(() => receivePayment(runtime, envelope, payment(customer_id, { amount: '200.00', collector_operator_id: demo.tenant }))),
    );
    expect(results.every((r) => r.ok)).toBe(true);
    const state = (await loadCustomer(runtime, demo.tenant, customer_id))!.state;
    expect(state.bills[0]!.open).toBe('0.00');
    expect(state.credit).toBe('150.00');
    expect(Object.keys(state.payments)).toHaveLength(2);
  });

  it('ten reseller recharges draining one prepaid wallet at once: only what the wallet covers goes through, never below zero', async () => {
    const demo = await createDemoIsp(runtime);
    const envelope = admin(demo.tenant);
    // The sub-reseller's cost of a 500.00 recharge is 500 − 150 kept = 350.00: 1000.00 covers two.
    ok(await (await import('./operator-commands.js')).topUpWallet(runtime, envelope, { operator_id: demo.sub_reseller, amount: '1000.00', method: 'cash', reference: 't' }));
    ok(await (await import('./operator-commands.js')).topUpWallet(runtime, envelope, { operator_id: demo.reseller, amount: '5000.00', method: 'cash', reference: 't' }));
    const customers = await Promise.all(Array.from({ length: 10 }, async () => ok(await registerCustomer(runtime, envelope, customer(demo))).customer_id));
    const results = await Promise.all(
      customers.map((customer_id) =>
        receivePayment(runtime, envelope, payment(customer_id, { method: 'reseller_wallet', amount: '500.00', gateway: null, gateway_reference: null, collected_by: 'sub', collector_operator_id: demo.sub_reseller, recharge_package_id: demo.package_id })),
      ),
    );
    const accepted = results.filter((r) => r.ok);
    const refused = results.filter((r) => !r.ok);
    expect(accepted).toHaveLength(2);
    for (const r of refused) expect(r.ok ? null : r.rejection.code).toBe('INSUFFICIENT_RESELLER_BALANCE');
    expect((await loadOperator(runtime, demo.tenant, demo.sub_reseller))?.state.wallet_balance).toBe('300.00');
    expect((await loadOperator(runtime, demo.tenant, demo.reseller))?.state.wallet_balance).toBe('4600.00');
  });

  it('credits to one wallet from two processes at once all land, while its debits still never overdraw it', async () => {
    const demo = await createDemoIsp(runtime);
    const envelope = admin(demo.tenant);
    // A second runtime shares nothing in memory with the first: as two API processes, no in-process queue helps.
    const other = runtimeOn(database.pool, clock);
    const { topUpWallet } = await import('./operator-commands.js');
    ok(await topUpWallet(runtime, envelope, { operator_id: demo.sub_reseller, amount: '700.00', method: 'cash', reference: 't' }));
    ok(await topUpWallet(runtime, envelope, { operator_id: demo.reseller, amount: '5000.00', method: 'cash', reference: 't' }));
    const before = {
      sub: (await loadOperator(runtime, demo.tenant, demo.sub_reseller))!.state.wallet_balance,
      reseller: (await loadOperator(runtime, demo.tenant, demo.reseller))!.state.wallet_balance,
    };
    const customers = await Promise.all(Array.from({ length: 16 }, async () => ok(await registerCustomer(runtime, envelope, customer(demo))).customer_id));
    // Twelve payments at the ISP's desk credit both wallets (reseller +60.00 and sub-reseller +30.00 each);
    // four recharges from the sub-reseller's wallet debit it 350.00 each, interleaved with the credits.
    const results = await Promise.all(
      customers.map((customer_id, index) =>
        index < 12
          ? receivePayment(index % 2 === 0 ? runtime : other, envelope, payment(customer_id, { method: 'cash', gateway: null, gateway_reference: null, collected_by: 'desk', collector_operator_id: demo.tenant }))
          : receivePayment(index % 2 === 0 ? runtime : other, envelope, payment(customer_id, { method: 'reseller_wallet', amount: '500.00', gateway: null, gateway_reference: null, collected_by: 'sub', collector_operator_id: demo.sub_reseller, recharge_package_id: demo.package_id })),
      ),
    );
    const credits = results.slice(0, 12);
    const debits = results.slice(12);
    expect(credits.every((r) => r.ok)).toBe(true);
    for (const r of debits.filter((r) => !r.ok)) expect(r.ok ? null : r.rejection.code).toBe('INSUFFICIENT_RESELLER_BALANCE');
    const debited = debits.filter((r) => r.ok).length;
    // 700.00 + 12 × 30.00 = 1,060.00 covers three debits of 350.00 whatever the order, and at least two in any
    // order in which the debits come first; never more than the balance allows.
    expect(debited).toBeGreaterThanOrEqual(2);
    expect(debited).toBeLessThanOrEqual(3);
    const sub = (await loadOperator(runtime, demo.tenant, demo.sub_reseller))!.state.wallet_balance;
    const reseller = (await loadOperator(runtime, demo.tenant, demo.reseller))!.state.wallet_balance;
    expect(new Decimal(sub).isNegative()).toBe(false);
    expect(sub).toBe(new Decimal(before.sub).plus(12 * 30).minus(debited * 350).toFixed(2));
    // The reseller: +60.00 per desk payment, and −200.00 (the ISP's part of 500.00) per recharge collected below it.
    expect(reseller).toBe(new Decimal(before.reseller).plus(12 * 60).minus(debited * 200).toFixed(2));
  });

  it('the same username registered twice at once: exactly one customer gets it', async () => {
    const demo = await createDemoIsp(runtime);
    const envelope = admin(demo.tenant);
    const results = await Promise.all(Array.from({ length: 6 }, () => registerCustomer(runtime, envelope, customer(demo, { operator_id: demo.tenant, username: 'same-user' }))));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    for (const r of results.filter((r) => !r.ok)) expect(r.ok ? null : r.rejection.code).toBe('USERNAME_TAKEN');
    // Usernames are unique ignoring case, within one ISP only.
    const upper = await registerCustomer(runtime, envelope, customer(demo, { operator_id: demo.tenant, username: 'SAME-USER' }));
    expect(upper.ok ? null : upper.rejection.code).toBe('USERNAME_TAKEN');
    const other = await createDemoIsp(runtime);
    expect((await registerCustomer(runtime, admin(other.tenant), customer(other, { operator_id: other.tenant, username: 'same-user' }))).ok).toBe(true);
  });

  it('a monthly bill run twice for the same period issues each bill once', async () => {
    const demo = await createDemoIsp(runtime);
    const envelope = admin(demo.tenant);
    const ids = await Promise.all(
      Array.from({ length: 20 }, async () =>
        ok(await registerCustomer(runtime, envelope, customer(demo, { operator_id: demo.tenant, profile: { kind: 'monthly', due_day: 1, mode: 'postpaid', grace_days: 7 } }))).customer_id,
      ),
    );
    clock.set('2026-11-30T18:30:00Z'); // 00:30 on 1 December in Dhaka
    const first = await runMonthlyBills(runtime, envelope, { period: '2026-12', customer_ids: ids, concurrency: 4 });
    const second = await runMonthlyBills(runtime, envelope, { period: '2026-12', customer_ids: ids, concurrency: 4 });
    clock.set('2026-11-16T06:00:00Z');
    expect(first).toMatchObject({ issued: 20, unchanged: 0, refused: [] });
    expect(second).toMatchObject({ issued: 0, unchanged: 20, refused: [] });
    const bill = (await loadCustomer(runtime, demo.tenant, ids[0]!))!.state.bills[0]!;
    // Postpaid: December's bill covers 16–30 November, prorated 15/30.
    expect(bill).toMatchObject({ period: '2026-12', amount: '250.00', due_on: '2026-12-08' });
  });

  it('refuses a bill before its billing day in the ISP’s time zone', async () => {
    const demo = await createDemoIsp(runtime);
    const { customer_id } = ok(await registerCustomer(runtime, admin(demo.tenant), customer(demo, { operator_id: demo.tenant, profile: { kind: 'monthly', due_day: 1, mode: 'postpaid', grace_days: 7 } })));
    clock.set('2026-11-30T17:59:00Z'); // 23:59 on 30 November in Dhaka
    const early = await issueMonthlyBill(runtime, admin(demo.tenant), { customer_id, period: '2026-12' });
    clock.set('2026-11-16T06:00:00Z');
    expect(early.ok ? null : early.rejection.code).toBe('BILL_NOT_DUE_YET');
  });

  it('a full refund claws commission back and restores both wallets exactly', async () => {
    const demo = await createDemoIsp(runtime, { wallet_top_up: '1000.00' });
    const envelope = admin(demo.tenant);
    const { customer_id } = ok(await registerCustomer(runtime, envelope, customer(demo)));
    const paid = payment(customer_id, { amount: '333.33', collector_operator_id: demo.tenant });
    ok(await receivePayment(runtime, envelope, paid));
    ok(await refundPayment(runtime, envelope, { customer_id, refund_id: randomUUID(), payment_id: paid.payment_id, amount: '333.33', reason: 'double charge', by: 'admin' }));
    expect((await loadOperator(runtime, demo.tenant, demo.reseller))?.state.wallet_balance).toBe('1000.00');
    expect((await loadOperator(runtime, demo.tenant, demo.sub_reseller))?.state.wallet_balance).toBe('1000.00');
    expect((await loadCustomer(runtime, demo.tenant, customer_id))!.state.credit).toBe('0.00');
  });

  it('a recharge card is redeemed once; the second try is refused and nothing changes', async () => {
    const demo = await createDemoIsp(runtime);
    const envelope = admin(demo.tenant);
    const { customer_id } = ok(await registerCustomer(runtime, envelope, customer(demo, { operator_id: demo.tenant })));
    let counter = 0;
    const batch = ok(
      await generateCardBatch(runtime, envelope, { batch_id: `batch-${randomUUID().slice(0, 8)}`, count: 3, value: '500.00', package_id: demo.package_id, expires_on: '2027-12-31', first_serial: 1 }, () =>
        String(1234567890123450 + counter++),
      ),
    );
    const card = batch.cards[1]!;
    const redeem = (payment_id: string) => redeemCard(runtime, envelope, { batch_id: batch.batch_id, serial: card.serial, pin: card.pin, customer_id, payment_id, recharge: true });
    const [a, b] = await Promise.all([redeem(randomUUID()), redeem(randomUUID())]);
    expect([a, b].filter((r) => r.ok)).toHaveLength(1);
    expect([a, b].map((r) => (r.ok ? 'ok' : r.rejection.code)).sort()).toEqual(['CARD_ALREADY_REDEEMED', 'ok']);
    const state = (await loadCustomer(runtime, demo.tenant, customer_id))!.state;
    expect(state.expires_at).toBe('2026-12-16T18:00:00.000Z');
    const wrong = await redeemCard(runtime, envelope, { batch_id: batch.batch_id, serial: batch.cards[0]!.serial, pin: '0000000000000000', customer_id, payment_id: randomUUID(), recharge: true });
    expect(wrong.ok ? null : wrong.rejection.code).toBe('CARD_WRONG_PIN');
  });

  it('one ISP never sees another’s customers', async () => {
    const a = await createDemoIsp(runtime);
    const b = await createDemoIsp(runtime);
    const { customer_id } = ok(await registerCustomer(runtime, admin(a.tenant), customer(a, { operator_id: a.tenant })));
    const crossed = await receivePayment(runtime, admin(b.tenant), payment(customer_id, { collector_operator_id: b.tenant }));
    expect(crossed.ok ? null : crossed.rejection.code).toBe('CUSTOMER_NOT_FOUND');
    const foreignOwner = await registerCustomer(runtime, admin(b.tenant), customer(a, { operator_id: a.reseller }));
    expect(foreignOwner.ok ? null : foreignOwner.rejection.code).toBe('OPERATOR_NOT_FOUND');
  });
});

describe('commands: what the review found', () => {
  it('refuses a card redemption that reuses a payment id, and the card stays unspent', async () => {
    const demo = await createDemoIsp(runtime);
    const envelope = admin(demo.tenant);
    const { customer_id } = ok(await registerCustomer(runtime, envelope, customer(demo, { operator_id: demo.tenant })));
    const first = payment(customer_id, { collector_operator_id: demo.tenant });
    ok(await receivePayment(runtime, envelope, first));
    let counter = 0;
    const batch = ok(
      await generateCardBatch(runtime, envelope, { batch_id: `batch-${randomUUID().slice(0, 8)}`, count: 1, value: '500.00', package_id: demo.package_id, expires_on: '2027-12-31', first_serial: 1 }, () =>
        String(9234567890123450 + counter++),
      ),
    );
    const card = batch.cards[0]!;
    const reused = await redeemCard(runtime, envelope, { batch_id: batch.batch_id, serial: card.serial, pin: card.pin, customer_id, payment_id: first.payment_id, recharge: true });
    expect(reused.ok ? null : reused.rejection.code).toBe('INVALID_INPUT');
    const fresh = await redeemCard(runtime, envelope, { batch_id: batch.batch_id, serial: card.serial, pin: card.pin, customer_id, payment_id: randomUUID(), recharge: true });
    expect(fresh.ok).toBe(true);
  });

  it('a bill run keeps working while payments land on its customers, and ignores the caller’s idempotency key', async () => {
    const demo = await createDemoIsp(runtime);
    const envelope = { ...admin(demo.tenant), idempotency_key: 'december-run' };
    const ids = await Promise.all(
      Array.from({ length: 250 }, async () =>
        ok(await registerCustomer(runtime, admin(demo.tenant), customer(demo, { operator_id: demo.tenant, profile: { kind: 'monthly', due_day: 1, mode: 'postpaid', grace_days: 7 } }))).customer_id,
      ),
    );
    clock.set('2026-11-30T18:30:00Z');
    let paying = true;
    const payments = (async () => {
      let n = 0;
      while (paying && n < 200) {
        n += 1;
        ok(await receivePayment(runtime, admin(demo.tenant), payment(ids[n % ids.length]!, { amount: '10.00', collector_operator_id: demo.tenant })));
      }
    })();
    const report = await runMonthlyBills(runtime, envelope, { period: '2026-12', customer_ids: ids, concurrency: 3 });
    paying = false;
    await payments;
    clock.set('2026-11-16T06:00:00Z');
    expect(report).toMatchObject({ issued: 250, unchanged: 0, refused: [] });
  });

  it('refuses ids that could blur stream names', async () => {
    const refused = await registerCustomer(runtime, admin('isp-x'), { ...customer({ tenant: 'isp-x', reseller: '', sub_reseller: '', package_id: 'p' }), customer_id: 'a:b' });
    expect(refused.ok ? null : refused.rejection.code).toBe('ISP_NOT_FOUND');
    const demo = await createDemoIsp(runtime);
    const bad = await registerCustomer(runtime, admin(demo.tenant), customer(demo, { operator_id: demo.tenant, customer_id: 'has space' }));
    expect(bad.ok ? null : bad.rejection.code).toBe('INVALID_INPUT');
  });
});
