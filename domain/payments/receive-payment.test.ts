import { describe, expect, it } from 'vitest';
import { startOfLocalDay } from '../calendar/local-date.js';
import type { CustomerEvent } from '../customers/customer.js';
import { evolveCustomer, initialCustomerState } from '../customers/customer-evolve.js';
import type { OperatorEvent, OperatorState } from '../operators/operator.js';
import { given } from '../shared/decider-spec.js';
import {
  PACKAGE_ID,
  TENANT,
  ZONE,
  billIssued,
  contextAt,
  customerRegistered,
  isp,
  monthly,
  operatorCreated,
  operatorState,
  packageAssigned,
  packageCreated,
  packageState,
  rechargedUntil,
  reseller,
  shareSet,
  subReseller,
  tenMegabit,
  walletToppedUp,
  wholesaleTermsSet,
} from '../shared/spec-fixtures.js';
import { decideReceivePayment, type ReceivePayment } from './receive-payment.js';

const midnight = (date: string): string => startOfLocalDay(date, ZONE).toISOString();
const NOON_16_NOV = contextAt('2026-11-16T06:00:00Z');

const pay = (overrides: Partial<ReceivePayment> = {}): ReceivePayment => ({
  payment_id: 'pay-1',
  method: 'cash',
  amount: '500.00',
  collected_by: 'admin-1',
  collector_operator_id: TENANT,
  gateway: null,
  gateway_reference: null,
  card: null,
  recharge_package_id: null,
  ...overrides,
});

type ReceivedData = Extract<CustomerEvent, { type: 'payment-received' }>['data'];
/** The payment-received event of `pay()` at noon on 16 November, paid to the ISP for its own customer. */
const received = (overrides: Partial<ReceivedData> = {}): CustomerEvent => ({
  type: 'payment-received',
  data: {
    payment_id: 'pay-1',
    customer_id: 'cus-1',
    method: 'cash',
    amount: '500.00',
    currency: 'BDT',
    received_at: '2026-11-16T06:00:00.000Z',
    collected_by: 'admin-1',
    collector_operator_id: TENANT,
    gateway: null,
    gateway_reference: null,
    card: null,
    allocations: [],
    to_recharge: '0.00',
    to_credit: '0.00',
    credit_used: '0.00',
    chain: [TENANT],
    commission: [{ operator_id: TENANT, amount: overrides.amount ?? '500.00' }],
    wallet_movements: [],
    ...overrides,
  },
});
const recharged = (expires_at_before: string | null, expires_at_after: string, price = '500.00'): CustomerEvent => ({
  type: 'customer-recharged',
  data: { customer_id: 'cus-1', payment_id: 'pay-1', package_id: PACKAGE_ID, days: 30, price, expires_at_before, expires_at_after },
});
const reactivated = (reason: 'recharged' | 'bills-paid'): CustomerEvent => ({ type: 'customer-reactivated', data: { customer_id: 'cus-1', reason } });
const creditGranted = (amount: string): CustomerEvent => ({ type: 'credit-granted', data: { customer_id: 'cus-1', amount, reason: 'adjustment' } });
const credited = (operator_id: string, amount: string): OperatorEvent => ({
  type: 'wallet-credited',
  data: { operator_id, amount, reason: 'commission', customer_id: 'cus-1', payment_id: 'pay-1' },
});
/** A debit says what the money bought: a recharge, or a payment towards bills and credit. */
const debited = (operator_id: string, amount: string, reason: 'recharge' | 'payment' = 'payment'): OperatorEvent => ({
  type: 'wallet-debited',
  data: { operator_id, amount, reason, customer_id: 'cus-1', payment_id: 'pay-1' },
});

const daily = [customerRegistered()];
const ispChain = (): readonly OperatorState[] => [isp()];

describe('a daily recharge', () => {
  it('gives a new customer the rest of today and 30 days, and serves it again', () => {
    given(evolveCustomer, initialCustomerState, daily)
      .when((customer) => decideReceivePayment(customer, ispChain(), tenMegabit(), pay({ recharge_package_id: PACKAGE_ID }), NOON_16_NOV))
      .then({
        customer: [received({ to_recharge: '500.00' }), recharged(null, midnight('2026-12-17')), reactivated('recharged')],
        operators: [],
      });
  });

  it('extends running validity from its end, so recharging early loses nothing', () => {
    given(evolveCustomer, initialCustomerState, [...daily, ...rechargedUntil(midnight('2026-12-01'))])
      .when((customer) => decideReceivePayment(customer, ispChain(), tenMegabit(), pay({ recharge_package_id: PACKAGE_ID }), NOON_16_NOV))
      .then({ customer: [received({ to_recharge: '500.00' }), recharged(midnight('2026-12-01'), midnight('2026-12-31'))], operators: [] });
  });

  it('extends lapsed validity from now, so the lapsed days are not charged, and reactivates the customer', () => {
    const lapsed = [...daily, ...rechargedUntil(midnight('2026-11-10')), { type: 'customer-expired', data: { customer_id: 'cus-1', expired_at: midnight('2026-11-10') } } as CustomerEvent];
    given(evolveCustomer, initialCustomerState, lapsed)
      .when((customer) => decideReceivePayment(customer, ispChain(), tenMegabit(), pay({ recharge_package_id: PACKAGE_ID }), NOON_16_NOV))
      .then({ customer: [received({ to_recharge: '500.00' }), recharged(midnight('2026-11-10'), midnight('2026-12-17')), reactivated('recharged')], operators: [] });
  });

  it('spends credit toward the recharge, and keeps any excess as credit', () => {
    given(evolveCustomer, initialCustomerState, [...daily, creditGranted('200.00')])
      .when((customer) => decideReceivePayment(customer, ispChain(), tenMegabit(), pay({ amount: '300', recharge_package_id: PACKAGE_ID }), NOON_16_NOV))
      .then({
        customer: [received({ amount: '300.00', to_recharge: '500.00', credit_used: '200.00' }), recharged(null, midnight('2026-12-17')), reactivated('recharged')],
        operators: [],
      });
    const events = given(evolveCustomer, initialCustomerState, [...daily, creditGranted('200.00')])
      .when((customer) => decideReceivePayment(customer, ispChain(), tenMegabit(), pay({ amount: '400', recharge_package_id: PACKAGE_ID }), NOON_16_NOV))
      .then({
        customer: [received({ amount: '400.00', to_recharge: '500.00', credit_used: '200.00', to_credit: '100.00' }), recharged(null, midnight('2026-12-17')), reactivated('recharged')],
        operators: [],
      });
    expect(given(evolveCustomer, initialCustomerState, [...daily, creditGranted('200.00'), ...events.customer]).state.credit).toBe('100.00');
  });

  it('refuses money that does not cover the price with the credit', () => {
    given(evolveCustomer, initialCustomerState, daily)
      .when((customer) => decideReceivePayment(customer, ispChain(), tenMegabit(), pay({ amount: '499.99', recharge_package_id: PACKAGE_ID }), NOON_16_NOV))
      .thenRejects('PAYMENT_AMOUNT_TOO_SMALL');
    given(evolveCustomer, initialCustomerState, [...daily, creditGranted('200.00')])
      .when((customer) => decideReceivePayment(customer, ispChain(), tenMegabit(), pay({ amount: '299.99', recharge_package_id: PACKAGE_ID }), NOON_16_NOV))
      .thenRejects('PAYMENT_AMOUNT_TOO_SMALL');
  });

  it('charges the special price for the customer’s own package and the list price for another', () => {
    const special = [customerRegistered({ special_price: '450.00' })];
    given(evolveCustomer, initialCustomerState, special)
      .when((customer) => decideReceivePayment(customer, ispChain(), tenMegabit(), pay({ amount: '450', recharge_package_id: PACKAGE_ID }), NOON_16_NOV))
      .then({ customer: [received({ amount: '450.00', to_recharge: '450.00' }), recharged(null, midnight('2026-12-17'), '450.00'), reactivated('recharged')], operators: [] });
    const weekly = packageState(packageCreated('pkg-week', { price: '150.00', validity_days: 7 }));
    given(evolveCustomer, initialCustomerState, special)
      .when((customer) => decideReceivePayment(customer, ispChain(), weekly, pay({ amount: '150', recharge_package_id: 'pkg-week' }), NOON_16_NOV))
      .then({
        customer: [
          received({ amount: '150.00', to_recharge: '150.00' }),
          { type: 'customer-recharged', data: { customer_id: 'cus-1', payment_id: 'pay-1', package_id: 'pkg-week', days: 7, price: '150.00', expires_at_before: null, expires_at_after: midnight('2026-11-24') } },
          reactivated('recharged'),
        ],
        operators: [],
      });
  });

  it('checks, in order: a daily customer, the package, not retired, the owner may sell it, the money', () => {
    given(evolveCustomer, initialCustomerState, [customerRegistered({ profile: monthly(1, 'postpaid') })])
      .when((customer) => decideReceivePayment(customer, ispChain(), packageState(), pay({ amount: '1', recharge_package_id: PACKAGE_ID }), NOON_16_NOV))
      .thenRejects('WRONG_BILLING_PROFILE');
    given(evolveCustomer, initialCustomerState, daily)
      .when((customer) => decideReceivePayment(customer, ispChain(), tenMegabit(), pay({ amount: '1', recharge_package_id: 'pkg-other' }), NOON_16_NOV))
      .thenRejects('PACKAGE_NOT_FOUND');
    const retired = packageState(packageCreated(), { type: 'package-retired', data: { package_id: PACKAGE_ID } });
    given(evolveCustomer, initialCustomerState, daily)
      .when((customer) => decideReceivePayment(customer, ispChain(), retired, pay({ amount: '1', recharge_package_id: PACKAGE_ID }), NOON_16_NOV))
      .thenRejects('PACKAGE_RETIRED');
    const resellerCustomer = [customerRegistered({ operator_id: 'res-1', chain: [TENANT, 'res-1'] })];
    const withoutPackage = operatorState(operatorCreated('res-1', [TENANT]), packageAssigned('res-1', 'pkg-other', '1.00'));
    given(evolveCustomer, initialCustomerState, resellerCustomer)
      .when((customer) => decideReceivePayment(customer, [isp(), withoutPackage], tenMegabit(), pay({ amount: '1', recharge_package_id: PACKAGE_ID }), NOON_16_NOV))
      .thenRejects('PACKAGE_NOT_ASSIGNED');
  });
});

describe('paying bills', () => {
  const twoBills = [customerRegistered({ profile: monthly(1, 'postpaid'), registered_on: '2026-10-01' }), billIssued('2026-11', '500.00'), billIssued('2026-12', '500.00')];
  const on10Dec = contextAt('2026-12-10T06:00:00Z');
  const locked: CustomerEvent = { type: 'customer-locked', data: { customer_id: 'cus-1', reason: 'unpaid', overdue_bill_ids: ['cus-1:2026-11'] } };

  it('settles open bills oldest first', () => {
    given(evolveCustomer, initialCustomerState, twoBills)
      .when((customer) => decideReceivePayment(customer, ispChain(), tenMegabit(), pay({ amount: '700' }), on10Dec))
      .then({
        customer: [
          received({
            amount: '700.00',
            received_at: '2026-12-10T06:00:00.000Z',
            allocations: [
              { bill_id: 'cus-1:2026-11', amount: '500.00' },
              { bill_id: 'cus-1:2026-12', amount: '200.00' },
            ],
          }),
        ],
        operators: [],
      });
  });

  it('keeps what is left after every bill as customer credit', () => {
    const events = given(evolveCustomer, initialCustomerState, twoBills)
      .when((customer) => decideReceivePayment(customer, ispChain(), tenMegabit(), pay({ amount: '1200' }), on10Dec))
      .then({
        customer: [
          received({
            amount: '1200.00',
            received_at: '2026-12-10T06:00:00.000Z',
            allocations: [
              { bill_id: 'cus-1:2026-11', amount: '500.00' },
              { bill_id: 'cus-1:2026-12', amount: '500.00' },
            ],
            to_credit: '200.00',
          }),
        ],
        operators: [],
      });
    const after = given(evolveCustomer, initialCustomerState, [...twoBills, ...events.customer]).state;
    expect(after.credit).toBe('200.00');
    expect(after.bills.map((bill) => bill.open)).toEqual(['0.00', '0.00']);
  });

  it('unlocks a locked customer once no overdue bill is left open', () => {
    // On 3 December the November bill is overdue and the December one (due on the 6th) is not yet.
    given(evolveCustomer, initialCustomerState, [...twoBills, locked])
      .when((customer) => decideReceivePayment(customer, ispChain(), tenMegabit(), pay({ amount: '500' }), contextAt('2026-12-03T06:00:00Z')))
      .then({
        customer: [received({ received_at: '2026-12-03T06:00:00.000Z', allocations: [{ bill_id: 'cus-1:2026-11', amount: '500.00' }] }), reactivated('bills-paid')],
        operators: [],
      });
  });

  it('keeps a customer locked while an overdue bill is still open', () => {
    given(evolveCustomer, initialCustomerState, [...twoBills, locked])
      .when((customer) => decideReceivePayment(customer, ispChain(), tenMegabit(), pay({ amount: '999.99' }), on10Dec))
      .then({
        customer: [
          received({
            amount: '999.99',
            received_at: '2026-12-10T06:00:00.000Z',
            allocations: [
              { bill_id: 'cus-1:2026-11', amount: '500.00' },
              { bill_id: 'cus-1:2026-12', amount: '499.99' },
            ],
          }),
        ],
        operators: [],
      });
    given(evolveCustomer, initialCustomerState, [...twoBills, locked])
      .when((customer) => decideReceivePayment(customer, ispChain(), tenMegabit(), pay({ amount: '1000' }), on10Dec))
      .then({
        customer: [
          received({
            amount: '1000.00',
            received_at: '2026-12-10T06:00:00.000Z',
            allocations: [
              { bill_id: 'cus-1:2026-11', amount: '500.00' },
              { bill_id: 'cus-1:2026-12', amount: '500.00' },
            ],
          }),
          reactivated('bills-paid'),
        ],
        operators: [],
      });
  });
});

describe('the same payment twice', () => {
  const online = pay({ method: 'online', amount: '100', collected_by: 'cus-1', gateway: 'bkash', gateway_reference: 'BK-1' });

  it('records nothing for a gateway reference already seen, even under a new payment id', () => {
    const first = given(evolveCustomer, initialCustomerState, daily)
      .when((customer) => decideReceivePayment(customer, ispChain(), tenMegabit(), online, NOON_16_NOV))
      .then({
        customer: [received({ method: 'online', amount: '100.00', collected_by: 'cus-1', gateway: 'bkash', gateway_reference: 'BK-1', to_credit: '100.00' })],
        operators: [],
      });
    given(evolveCustomer, initialCustomerState, [...daily, ...first.customer])
      .when((customer) => decideReceivePayment(customer, ispChain(), tenMegabit(), { ...online, payment_id: 'pay-2' }, NOON_16_NOV))
      .thenNothingHappens();
    // Checked before the chain: a replayed callback succeeds even if the tree has changed since.
    given(evolveCustomer, initialCustomerState, [...daily, ...first.customer])
      .when((customer) => decideReceivePayment(customer, [isp(), reseller()], tenMegabit(), online, NOON_16_NOV))
      .thenNothingHappens();
  });

  it('records nothing for a payment id already recorded', () => {
    const first = given(evolveCustomer, initialCustomerState, daily)
      .when((customer) => decideReceivePayment(customer, ispChain(), tenMegabit(), pay({ amount: '100' }), NOON_16_NOV))
      .then({ customer: [received({ amount: '100.00', to_credit: '100.00' })], operators: [] });
    given(evolveCustomer, initialCustomerState, [...daily, ...first.customer])
      .when((customer) => decideReceivePayment(customer, ispChain(), tenMegabit(), pay({ amount: '100' }), NOON_16_NOV))
      .thenNothingHappens();
  });
});

describe('the commission chain: ISP → reseller (60 %) → sub-reseller (50 %)', () => {
  const subCustomer = [customerRegistered({ operator_id: 'sub-1', chain: [TENANT, 'res-1', 'sub-1'] })];
  const chain = [TENANT, 'res-1', 'sub-1'];
  const split = [
    { operator_id: TENANT, amount: '40.00' },
    { operator_id: 'res-1', amount: '30.00' },
    { operator_id: 'sub-1', amount: '30.00' },
  ];

  it('splits 100.00 paid online to the ISP 40/30/30 and credits the reseller 60.00 and the sub-reseller 30.00', () => {
    given(evolveCustomer, initialCustomerState, subCustomer)
      .when((customer) =>
        decideReceivePayment(customer, [isp(), reseller(), subReseller()], tenMegabit(), pay({ method: 'online', amount: '100', collected_by: 'cus-1', gateway: 'bkash', gateway_reference: 'BK-7' }), NOON_16_NOV),
      )
      .then({
        customer: [
          received({
            method: 'online',
            amount: '100.00',
            collected_by: 'cus-1',
            gateway: 'bkash',
            gateway_reference: 'BK-7',
            to_credit: '100.00',
            chain,
            commission: split,
            wallet_movements: [
              { operator_id: 'res-1', amount: '60.00', direction: 'credit' },
              { operator_id: 'sub-1', amount: '30.00', direction: 'credit' },
            ],
          }),
        ],
        operators: [
          { operator_id: 'res-1', events: [credited('res-1', '60.00')] },
          { operator_id: 'sub-1', events: [credited('sub-1', '30.00')] },
        ],
      });
  });

  it('debits the reseller 40.00 and the sub-reseller 70.00 when the sub-reseller collects 100.00 in cash', () => {
    const funded = [isp(), reseller(walletToppedUp('res-1', '40.00')), subReseller(walletToppedUp('sub-1', '70.00'))];
    given(evolveCustomer, initialCustomerState, subCustomer)
      .when((customer) => decideReceivePayment(customer, funded, tenMegabit(), pay({ amount: '100', collected_by: 'sub-1', collector_operator_id: 'sub-1' }), NOON_16_NOV))
      .then({
        customer: [
          received({
            amount: '100.00',
            collected_by: 'sub-1',
            collector_operator_id: 'sub-1',
            to_credit: '100.00',
            chain,
            commission: split,
            wallet_movements: [
              { operator_id: 'res-1', amount: '40.00', direction: 'debit' },
              { operator_id: 'sub-1', amount: '70.00', direction: 'debit' },
            ],
          }),
        ],
        operators: [
          { operator_id: 'res-1', events: [debited('res-1', '40.00')] },
          { operator_id: 'sub-1', events: [debited('sub-1', '70.00')] },
        ],
      });
  });

  it('debits the reseller 40.00 and credits the sub-reseller 30.00 when the reseller collects the cash', () => {
    const funded = [isp(), reseller(walletToppedUp('res-1', '100.00')), subReseller()];
    const outcome = given(evolveCustomer, initialCustomerState, subCustomer)
      .when((customer) => decideReceivePayment(customer, funded, tenMegabit(), pay({ amount: '100', collected_by: 'res-1', collector_operator_id: 'res-1' }), NOON_16_NOV))
      .then({
        customer: [expect.objectContaining({ type: 'payment-received' }) as CustomerEvent],
        operators: [
          { operator_id: 'res-1', events: [debited('res-1', '40.00')] },
          { operator_id: 'sub-1', events: [credited('sub-1', '30.00')] },
        ],
      });
    expect(outcome.customer[0]!.data).toMatchObject({ commission: split });
  });

  it('refuses the cash when the sub-reseller’s prepaid wallet holds less than the 70.00 it owes', () => {
    const short = [isp(), reseller(walletToppedUp('res-1', '40.00')), subReseller(walletToppedUp('sub-1', '69.99'))];
    const rejection = given(evolveCustomer, initialCustomerState, subCustomer)
      .when((customer) => decideReceivePayment(customer, short, tenMegabit(), pay({ amount: '100', collected_by: 'sub-1', collector_operator_id: 'sub-1' }), NOON_16_NOV))
      .thenRejects('INSUFFICIENT_RESELLER_BALANCE');
    expect(rejection.message).toContain('70.00');
  });

  it('checks the wallets from the top: a short reseller is reported before a short sub-reseller', () => {
    const rejection = given(evolveCustomer, initialCustomerState, subCustomer)
      .when((customer) => decideReceivePayment(customer, [isp(), reseller(), subReseller()], tenMegabit(), pay({ amount: '100', collected_by: 'sub-1', collector_operator_id: 'sub-1' }), NOON_16_NOV))
      .thenRejects('INSUFFICIENT_RESELLER_BALANCE');
    expect(rejection.message).toContain('res-1');
  });

  it('lets a postpaid sub-reseller owe up to its credit limit and no more', () => {
    const postpaidSub = (limit: string) =>
      operatorState(operatorCreated('sub-1', [TENANT, 'res-1'], { billing_mode: 'postpaid', credit_limit: limit }), shareSet('sub-1', '50'), packageAssigned('sub-1', PACKAGE_ID, '400.00'));
    const funded = reseller(walletToppedUp('res-1', '40.00'));
    given(evolveCustomer, initialCustomerState, subCustomer)
      .when((customer) => decideReceivePayment(customer, [isp(), funded, postpaidSub('69.99')], tenMegabit(), pay({ amount: '100', collected_by: 'sub-1', collector_operator_id: 'sub-1' }), NOON_16_NOV))
      .thenRejects('CREDIT_LIMIT_EXCEEDED');
    const outcome = given(evolveCustomer, initialCustomerState, subCustomer)
      .when((customer) => decideReceivePayment(customer, [isp(), funded, postpaidSub('70.00')], tenMegabit(), pay({ amount: '100', collected_by: 'sub-1', collector_operator_id: 'sub-1' }), NOON_16_NOV))
      .then({
        customer: [expect.objectContaining({ type: 'payment-received' }) as CustomerEvent],
        operators: [
          { operator_id: 'res-1', events: [debited('res-1', '40.00')] },
          { operator_id: 'sub-1', events: [debited('sub-1', '70.00')] },
        ],
      });
    expect(outcome.operators).toHaveLength(2);
  });

  it('splits by wholesale price: a reseller buying at 350.00 keeps 150.00 of a 500.00 recharge', () => {
    const wholesaleReseller = operatorState(operatorCreated('res-1', [TENANT]), wholesaleTermsSet('res-1'), packageAssigned('res-1', PACKAGE_ID, '350.00'));
    const resellerCustomer = [customerRegistered({ operator_id: 'res-1', chain: [TENANT, 'res-1'] })];
    const outcome = given(evolveCustomer, initialCustomerState, resellerCustomer)
      .when((customer) => decideReceivePayment(customer, [isp(), wholesaleReseller], tenMegabit(), pay({ method: 'online', amount: '500', collected_by: 'cus-1', gateway: 'nagad', gateway_reference: 'NG-1', recharge_package_id: PACKAGE_ID }), NOON_16_NOV))
      .then({
        customer: [expect.objectContaining({ type: 'payment-received' }) as CustomerEvent, recharged(null, midnight('2026-12-17')), reactivated('recharged')],
        operators: [{ operator_id: 'res-1', events: [credited('res-1', '150.00')] }],
      });
    expect(outcome.customer[0]!.data).toMatchObject({ commission: [{ operator_id: TENANT, amount: '350.00' }, { operator_id: 'res-1', amount: '150.00' }] });
  });

  it('refuses money for a chain with no terms in force, and money collected outside the chain', () => {
    const noTerms = operatorState(operatorCreated('res-1', [TENANT]), packageAssigned('res-1', PACKAGE_ID, '350.00'));
    const resellerCustomer = [customerRegistered({ operator_id: 'res-1', chain: [TENANT, 'res-1'] })];
    given(evolveCustomer, initialCustomerState, resellerCustomer)
      .when((customer) => decideReceivePayment(customer, [isp(), noTerms], tenMegabit(), pay({ amount: '100', collector_operator_id: 'res-1' }), NOON_16_NOV))
      .thenRejects('INVALID_COMMISSION_TERMS');
    given(evolveCustomer, initialCustomerState, subCustomer)
      .when((customer) => decideReceivePayment(customer, [isp(), reseller(), subReseller()], tenMegabit(), pay({ amount: '100', collector_operator_id: 'res-2' }), NOON_16_NOV))
      .thenRejects('NOT_PERMITTED');
  });
});

describe('the rules, in order', () => {
  it('needs the customer, then refuses a disabled one before reading the amount', () => {
    given(evolveCustomer, initialCustomerState)
      .when((customer) => decideReceivePayment(customer, ispChain(), tenMegabit(), pay({ amount: '0' }), NOON_16_NOV))
      .thenRejects('CUSTOMER_NOT_FOUND');
    given(evolveCustomer, initialCustomerState, [...daily, { type: 'customer-disabled', data: { customer_id: 'cus-1', reason: 'left', by: 'admin-1' } }])
      .when((customer) => decideReceivePayment(customer, ispChain(), tenMegabit(), pay({ amount: '0' }), NOON_16_NOV))
      .thenRejects('CUSTOMER_DISABLED');
  });

  it('refuses an amount that is not positive in the currency before a missing gateway reference', () => {
    for (const amount of ['0', '-5', '1.234', 'five']) {
      given(evolveCustomer, initialCustomerState, daily)
        .when((customer) => decideReceivePayment(customer, ispChain(), tenMegabit(), pay({ amount, method: 'online' }), NOON_16_NOV))
        .thenRejects('INVALID_AMOUNT');
    }
    given(evolveCustomer, initialCustomerState, daily)
      .when((customer) => decideReceivePayment(customer, ispChain(), tenMegabit(), pay({ method: 'online', gateway_reference: '' }), NOON_16_NOV))
      .thenRejects('INVALID_INPUT');
  });

  it('refuses a chain that is not the customer’s before looking at the recharge', () => {
    given(evolveCustomer, initialCustomerState, [customerRegistered({ profile: monthly(1, 'prepaid') })])
      .when((customer) => decideReceivePayment(customer, [isp(), reseller()], tenMegabit(), pay({ recharge_package_id: PACKAGE_ID }), NOON_16_NOV))
      .thenRejects('OPERATOR_NOT_FOUND');
  });

  it('refuses too little money before missing terms, and missing terms before a short wallet', () => {
    const noTerms = operatorState(operatorCreated('res-1', [TENANT]), packageAssigned('res-1', PACKAGE_ID, '350.00'));
    const resellerCustomer = [customerRegistered({ operator_id: 'res-1', chain: [TENANT, 'res-1'] })];
    given(evolveCustomer, initialCustomerState, resellerCustomer)
      .when((customer) => decideReceivePayment(customer, [isp(), noTerms], tenMegabit(), pay({ amount: '1', collector_operator_id: 'res-1', recharge_package_id: PACKAGE_ID }), NOON_16_NOV))
      .thenRejects('PAYMENT_AMOUNT_TOO_SMALL');
    given(evolveCustomer, initialCustomerState, resellerCustomer)
      .when((customer) => decideReceivePayment(customer, [isp(), noTerms], tenMegabit(), pay({ collector_operator_id: 'res-1', recharge_package_id: PACKAGE_ID }), NOON_16_NOV))
      .thenRejects('INVALID_COMMISSION_TERMS');
  });
});
