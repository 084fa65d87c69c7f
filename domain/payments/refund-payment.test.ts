import { describe, expect, it } from 'vitest';
import { startOfLocalDay } from '../calendar/local-date.js';
import type { CustomerEvent } from '../customers/customer.js';
import { evolveCustomer, initialCustomerState } from '../customers/customer-evolve.js';
import { evolveOperator, type OperatorEvent, type OperatorState } from '../operators/operator.js';
import type { CommandContext } from '../shared/command-context.js';
import { given } from '../shared/decider-spec.js';
import { PACKAGE_ID, TENANT, ZONE, billIssued, contextAt, customerRegistered, customerState, isp, monthly, reseller, subReseller, tenMegabit, walletToppedUp } from '../shared/spec-fixtures.js';
import { decideReceivePayment, type ReceivePayment } from './receive-payment.js';
import { decideRefundPayment, type RefundPayment } from './refund-payment.js';

const midnight = (date: string): string => startOfLocalDay(date, ZONE).toISOString();
const NOON_16_NOV = contextAt('2026-11-16T06:00:00Z');
const NOON_20_NOV = contextAt('2026-11-20T06:00:00Z', { actor: { id: 'acct-1', role: 'accountant' } });

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
const refund = (amount: string, overrides: Partial<RefundPayment> = {}): RefundPayment => ({ refund_id: 'ref-1', payment_id: 'pay-1', amount, reason: 'customer asked', by: 'acct-1', ...overrides });

type History = Readonly<{ customer: readonly CustomerEvent[]; chain: readonly OperatorState[] }>;

/** The history after a payment the decider accepted: the customer's events, and each operator with its wallet events applied. */
function afterPayment(history: History, command: ReceivePayment, context: CommandContext = NOON_16_NOV): History {
  const decision = decideReceivePayment(customerState(...history.customer), history.chain, tenMegabit(), command, context);
  if (!decision.ok) throw new Error(`setup payment refused: ${decision.rejection.code}`);
  return { customer: [...history.customer, ...decision.outcome.customer], chain: applyTo(history.chain, decision.outcome.operators) };
}

function applyTo(chain: readonly OperatorState[], operators: readonly Readonly<{ operator_id: string; events: readonly OperatorEvent[] }>[]): readonly OperatorState[] {
  return chain.map((operator) => operators.filter((o) => o.operator_id === operator.operator_id).flatMap((o) => o.events).reduce(evolveOperator, operator));
}

/** A clawback takes back commission a wallet was credited with, as an adjustment. */
const walletDebited = (operator_id: string, amount: string): OperatorEvent => ({
  type: 'wallet-debited',
  data: { operator_id, amount, reason: 'adjustment', customer_id: 'cus-1', payment_id: 'pay-1' },
});
/** A refund gives back what a wallet was debited for cash its operator collected. */
const walletCredited = (operator_id: string, amount: string): OperatorEvent => ({
  type: 'wallet-credited',
  data: { operator_id, amount, reason: 'refund', customer_id: 'cus-1', payment_id: 'pay-1' },
});

type RefundedData = Extract<CustomerEvent, { type: 'payment-refunded' }>['data'];
const refunded = (overrides: Partial<RefundedData> & Pick<RefundedData, 'amount'>): CustomerEvent => ({
  type: 'payment-refunded',
  data: {
    refund_id: 'ref-1',
    payment_id: 'pay-1',
    customer_id: 'cus-1',
    currency: 'BDT',
    reason: 'customer asked',
    reopened: [],
    credit_reduced: '0.00',
    recharge_reversed: '0.00',
    commission_clawback: [{ operator_id: TENANT, amount: overrides.amount }],
    wallet_movements: [],
    ...overrides,
  },
});

describe('refunding the worked example (ISP → reseller 60 % → sub-reseller 50 %)', () => {
  const subCustomer = [customerRegistered({ operator_id: 'sub-1', chain: [TENANT, 'res-1', 'sub-1'] })];
  const clawback = [
    { operator_id: TENANT, amount: '40.00' },
    { operator_id: 'res-1', amount: '30.00' },
    { operator_id: 'sub-1', amount: '30.00' },
  ];

  it('reverses the commission of a 100.00 online payment exactly, debiting the wallets it credited', () => {
    const paid = afterPayment({ customer: subCustomer, chain: [isp(), reseller(), subReseller()] }, pay({ method: 'online', amount: '100', collected_by: 'cus-1', gateway: 'bkash', gateway_reference: 'BK-7' }));
    expect(paid.chain.map((operator) => operator.wallet_balance)).toEqual(['0.00', '60.00', '30.00']);
    const outcome = given(evolveCustomer, initialCustomerState, paid.customer)
      .when((customer) => decideRefundPayment(customer, paid.chain, refund('100', { reason: ' charged twice ' }), NOON_20_NOV))
      .then({
        customer: [
          refunded({
            amount: '100.00',
            reason: 'charged twice',
            credit_reduced: '100.00',
            commission_clawback: clawback,
            wallet_movements: [
              { operator_id: 'res-1', amount: '60.00', direction: 'debit' },
              { operator_id: 'sub-1', amount: '30.00', direction: 'debit' },
            ],
          }),
        ],
        operators: [
          { operator_id: 'res-1', events: [walletDebited('res-1', '60.00')] },
          { operator_id: 'sub-1', events: [walletDebited('sub-1', '30.00')] },
        ],
      });
    expect(applyTo(paid.chain, outcome.operators).map((operator) => operator.wallet_balance)).toEqual(['0.00', '0.00', '0.00']);
    expect(customerState(...paid.customer, ...outcome.customer).credit).toBe('0.00');
  });

  it('credits back the wallets a cash payment at the sub-reseller debited', () => {
    const funded = [isp(), reseller(walletToppedUp('res-1', '40.00')), subReseller(walletToppedUp('sub-1', '70.00'))];
    const paid = afterPayment({ customer: subCustomer, chain: funded }, pay({ amount: '100', collected_by: 'sub-1', collector_operator_id: 'sub-1' }));
    expect(paid.chain.map((operator) => operator.wallet_balance)).toEqual(['0.00', '0.00', '0.00']);
    const outcome = given(evolveCustomer, initialCustomerState, paid.customer)
      .when((customer) => decideRefundPayment(customer, paid.chain, refund('100'), NOON_20_NOV))
      .then({
        customer: [
          refunded({
            amount: '100.00',
            credit_reduced: '100.00',
            commission_clawback: clawback,
            wallet_movements: [
              { operator_id: 'res-1', amount: '40.00', direction: 'credit' },
              { operator_id: 'sub-1', amount: '70.00', direction: 'credit' },
            ],
          }),
        ],
        operators: [
          { operator_id: 'res-1', events: [walletCredited('res-1', '40.00')] },
          { operator_id: 'sub-1', events: [walletCredited('sub-1', '70.00')] },
        ],
      });
    expect(applyTo(paid.chain, outcome.operators).map((operator) => operator.wallet_balance)).toEqual(['0.00', '40.00', '70.00']);
  });

  it('claws back whatever the wallet holds now: the commission is owed, so a prepaid wallet may go below zero', () => {
    const paid = afterPayment({ customer: subCustomer, chain: [isp(), reseller(), subReseller()] }, pay({ method: 'online', amount: '100', collected_by: 'cus-1', gateway: 'bkash', gateway_reference: 'BK-7' }));
    const spent = [paid.chain[0]!, reseller(walletToppedUp('res-1', '0.01')), subReseller()];
    given(evolveCustomer, initialCustomerState, paid.customer)
      .when((customer) => decideRefundPayment(customer, spent, refund('100'), NOON_20_NOV))
      .then({
        customer: [expect.objectContaining({ type: 'payment-refunded' }) as CustomerEvent],
        operators: [
          { operator_id: 'res-1', events: [walletDebited('res-1', '60.00')] },
          { operator_id: 'sub-1', events: [walletDebited('sub-1', '30.00')] },
        ],
      });
  });

  it('reverses every share exactly over several partial refunds that add up to the payment', () => {
    // 0.03 paid online: one minor unit each. Refunds of 0.01 each must not claw back the same unit twice.
    let state = afterPayment({ customer: subCustomer, chain: [isp(), reseller(), subReseller()] }, pay({ method: 'online', amount: '0.03', collected_by: 'cus-1', gateway: 'bkash', gateway_reference: 'BK-8' }));
    expect(customerState(...state.customer).payments['pay-1']!.commission.map((share) => share.amount)).toEqual(['0.01', '0.01', '0.01']);
    for (const refund_id of ['ref-1', 'ref-2', 'ref-3']) {
      const decision = decideRefundPayment(customerState(...state.customer), state.chain, refund('0.01', { refund_id }), NOON_20_NOV);
      if (!decision.ok) throw new Error(decision.rejection.code);
      state = { customer: [...state.customer, ...decision.outcome.customer], chain: applyTo(state.chain, decision.outcome.operators) };
    }
    const clawed = customerState(...state.customer).payments['pay-1']!.refunds.map((r) => r.commission_clawback.map((c) => c.amount));
    expect(clawed).toEqual([
      ['0.01', '0.00', '0.00'],
      ['0.00', '0.01', '0.00'],
      ['0.00', '0.00', '0.01'],
    ]);
    expect(state.chain.map((operator) => operator.wallet_balance)).toEqual(['0.00', '0.00', '0.00']);
  });
});

describe('refunding bill payments', () => {
  const twoBills = [customerRegistered({ profile: monthly(1, 'postpaid'), registered_on: '2026-10-01' }), billIssued('2026-11', '500.00'), billIssued('2026-12', '500.00')];
  const on10Dec = contextAt('2026-12-10T06:00:00Z');
  const paid = () => afterPayment({ customer: twoBills, chain: [isp()] }, pay({ amount: '1200' }), on10Dec);

  it('takes the credit the payment left first, then reopens bills newest first', () => {
    const { customer } = paid();
    const outcome = given(evolveCustomer, initialCustomerState, customer)
      .when((state) => decideRefundPayment(state, [isp()], refund('300'), on10Dec))
      .then({
        customer: [refunded({ amount: '300.00', credit_reduced: '200.00', reopened: [{ bill_id: 'cus-1:2026-12', amount: '100.00' }] })],
        operators: [],
      });
    const after = customerState(...customer, ...outcome.customer);
    expect(after.credit).toBe('0.00');
    expect(after.bills.map((bill) => bill.open)).toEqual(['0.00', '100.00']);
  });

  it('takes the credit a payment left only once, whatever credit the customer has from elsewhere', () => {
    const { customer } = paid();
    const first = given(evolveCustomer, initialCustomerState, customer)
      .when((state) => decideRefundPayment(state, [isp()], refund('300'), on10Dec))
      .then({ customer: [refunded({ amount: '300.00', credit_reduced: '200.00', reopened: [{ bill_id: 'cus-1:2026-12', amount: '100.00' }] })], operators: [] });
    const goodwill: CustomerEvent = { type: 'credit-granted', data: { customer_id: 'cus-1', amount: '300.00', reason: 'adjustment' } };
    given(evolveCustomer, initialCustomerState, [...customer, ...first.customer, goodwill])
      .when((state) => decideRefundPayment(state, [isp()], refund('600', { refund_id: 'ref-2' }), on10Dec))
      .then({
        customer: [
          refunded({
            refund_id: 'ref-2',
            amount: '600.00',
            reopened: [
              { bill_id: 'cus-1:2026-12', amount: '400.00' },
              { bill_id: 'cus-1:2026-11', amount: '200.00' },
            ],
          }),
        ],
        operators: [],
      });
  });

  it('reopens only what this payment settled, not what another payment paid on the same bill', () => {
    const first = afterPayment({ customer: twoBills, chain: [isp()] }, pay({ amount: '300' }), on10Dec);
    const second = afterPayment(first, pay({ payment_id: 'pay-2', amount: '200' }), on10Dec);
    // pay-1 paid 300.00 of November, pay-2 the other 200.00. Refunding pay-1 in two steps reopens 300.00 in all.
    const step = given(evolveCustomer, initialCustomerState, second.customer)
      .when((state) => decideRefundPayment(state, [isp()], refund('100'), on10Dec))
      .then({ customer: [refunded({ amount: '100.00', reopened: [{ bill_id: 'cus-1:2026-11', amount: '100.00' }] })], operators: [] });
    const rest = given(evolveCustomer, initialCustomerState, [...second.customer, ...step.customer])
      .when((state) => decideRefundPayment(state, [isp()], refund('200', { refund_id: 'ref-2' }), on10Dec))
      .then({ customer: [refunded({ refund_id: 'ref-2', amount: '200.00', reopened: [{ bill_id: 'cus-1:2026-11', amount: '200.00' }] })], operators: [] });
    expect(customerState(...second.customer, ...step.customer, ...rest.customer).bills.map((bill) => bill.open)).toEqual(['300.00', '500.00']);
  });

  it('refuses more than is left of the payment', () => {
    const { customer } = paid();
    given(evolveCustomer, initialCustomerState, customer)
      .when((state) => decideRefundPayment(state, [isp()], refund('1200.01'), on10Dec))
      .thenRejects('REFUND_EXCEEDS_PAYMENT');
    const first = decideRefundPayment(customerState(...customer), [isp()], refund('300'), on10Dec);
    if (!first.ok) throw new Error(first.rejection.code);
    given(evolveCustomer, initialCustomerState, [...customer, ...first.outcome.customer])
      .when((state) => decideRefundPayment(state, [isp()], refund('900.01', { refund_id: 'ref-2' }), on10Dec))
      .thenRejects('REFUND_EXCEEDS_PAYMENT');
    given(evolveCustomer, initialCustomerState, [...customer, ...first.outcome.customer])
      .when((state) => decideRefundPayment(state, [isp()], refund('900', { refund_id: 'ref-2' }), on10Dec))
      .then({ customer: [expect.objectContaining({ type: 'payment-refunded' }) as CustomerEvent], operators: [] });
  });

  it('records nothing for a refund id already recorded', () => {
    const { customer } = paid();
    const first = decideRefundPayment(customerState(...customer), [isp()], refund('300'), on10Dec);
    if (!first.ok) throw new Error(first.rejection.code);
    given(evolveCustomer, initialCustomerState, [...customer, ...first.outcome.customer])
      .when((state) => decideRefundPayment(state, [isp()], refund('300'), on10Dec))
      .thenNothingHappens();
  });
});

describe('refunding a recharge', () => {
  const daily = [customerRegistered()];
  const recharge = () => afterPayment({ customer: daily, chain: [isp()] }, pay({ recharge_package_id: PACKAGE_ID }));

  it('takes back the days the refunded money paid for', () => {
    const { customer } = recharge();
    expect(customerState(...customer).expires_at).toBe(midnight('2026-12-17'));
    given(evolveCustomer, initialCustomerState, customer)
      .when((state) => decideRefundPayment(state, [isp()], refund('250'), NOON_20_NOV))
      .then({
        customer: [
          refunded({ amount: '250.00', recharge_reversed: '250.00' }),
          { type: 'expiry-set', data: { customer_id: 'cus-1', expires_at: midnight('2026-12-02'), reason: 'refund ref-1', by: 'acct-1' } },
        ],
        operators: [],
      });
  });

  it('expires the customer when a full refund takes its validity back past now', () => {
    const { customer } = recharge();
    given(evolveCustomer, initialCustomerState, customer)
      .when((state) => decideRefundPayment(state, [isp()], refund('500'), NOON_20_NOV))
      .then({
        customer: [
          refunded({ amount: '500.00', recharge_reversed: '500.00' }),
          { type: 'expiry-set', data: { customer_id: 'cus-1', expires_at: midnight('2026-11-17'), reason: 'refund ref-1', by: 'acct-1' } },
          { type: 'customer-expired', data: { customer_id: 'cus-1', expired_at: '2026-11-20T06:00:00.000Z' } },
        ],
        operators: [],
      });
  });

  it('takes back as many days in three partial refunds as in one', () => {
    let { customer } = recharge();
    for (const [refund_id, amount] of [['ref-1', '166.67'], ['ref-2', '166.67'], ['ref-3', '166.66']] as const) {
      const decision = decideRefundPayment(customerState(...customer), [isp()], refund(amount, { refund_id }), NOON_16_NOV);
      if (!decision.ok) throw new Error(decision.rejection.code);
      customer = [...customer, ...decision.outcome.customer];
    }
    expect(customerState(...customer).expires_at).toBe(midnight('2026-11-17'));
  });
});

describe('the rules, in order', () => {
  const paid = () => afterPayment({ customer: [customerRegistered()], chain: [isp()] }, pay({ amount: '100' }));

  it('needs the customer, then the payment, then a reason, then a positive amount', () => {
    const { customer } = paid();
    given(evolveCustomer, initialCustomerState)
      .when((state) => decideRefundPayment(state, [isp()], refund('0', { reason: '' }), NOON_20_NOV))
      .thenRejects('CUSTOMER_NOT_FOUND');
    given(evolveCustomer, initialCustomerState, customer)
      .when((state) => decideRefundPayment(state, [isp()], refund('0', { payment_id: 'pay-9', reason: '' }), NOON_20_NOV))
      .thenRejects('PAYMENT_NOT_FOUND');
    given(evolveCustomer, initialCustomerState, customer)
      .when((state) => decideRefundPayment(state, [isp()], refund('0', { reason: ' ' }), NOON_20_NOV))
      .thenRejects('INVALID_INPUT');
    for (const amount of ['0', '-1', '0.001']) {
      given(evolveCustomer, initialCustomerState, customer)
        .when((state) => decideRefundPayment(state, [isp()], refund(amount), NOON_20_NOV))
        .thenRejects('INVALID_AMOUNT');
    }
  });

  it('refuses too much before a chain that is not the payment’s', () => {
    const { customer } = paid();
    given(evolveCustomer, initialCustomerState, customer)
      .when((state) => decideRefundPayment(state, [isp(), reseller()], refund('100.01'), NOON_20_NOV))
      .thenRejects('REFUND_EXCEEDS_PAYMENT');
    given(evolveCustomer, initialCustomerState, customer)
      .when((state) => decideRefundPayment(state, [isp(), reseller()], refund('100'), NOON_20_NOV))
      .thenRejects('OPERATOR_NOT_FOUND');
  });
});
