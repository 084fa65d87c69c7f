import { localDateOf } from '../calendar/local-date.js';
import { extendValidity } from '../calendar/validity.js';
import type { CustomerEvent, CustomerState, PaymentMethod, Allocation } from '../customers/customer.js';
import { openBills } from '../customers/customer-evolve.js';
import { customerPrice } from '../customers/registration.js';
import { Money } from '../money/money.js';
import { parseAmount, wholesalePriceOn, type OperatorEvent, type OperatorState } from '../operators/operator.js';
import type { PackageState } from '../packages/package.js';
import type { CommandContext } from '../shared/command-context.js';
import { rejection, type Rejection } from '../shared/rejection.js';
import { isRejection, settleAlongChain, splitForChain } from './chain-settlement.js';

export type ReceivePayment = Readonly<{
  payment_id: string;
  method: PaymentMethod;
  amount: string;
  /** The person who took the money and the operator they act for (the ISP for online payments). */
  collected_by: string;
  collector_operator_id: string;
  gateway: string | null;
  gateway_reference: string | null;
  card: Readonly<{ batch_id: string; serial: string }> | null;
  /** Daily customers: buy a recharge of this package with the payment (and any credit). */
  recharge_package_id: string | null;
}>;

/** Events for the customer stream and for each operator stream on the chain, appended together or not at all. */
export type PaymentOutcome = Readonly<{
  customer: readonly CustomerEvent[];
  operators: readonly Readonly<{ operator_id: string; events: readonly OperatorEvent[] }>[];
}>;

export type PaymentDecision = Readonly<{ ok: true; outcome: PaymentOutcome }> | Readonly<{ ok: false; rejection: Rejection }>;

const refused = (rejection: Rejection): PaymentDecision => ({ ok: false, rejection });

/**
 * Money received for a customer. A daily recharge extends validity by the package's days from
 * max(now, expires_at); otherwise the money settles open bills oldest first and the rest waits as credit.
 * The commission chain splits the amount and settles each reseller's wallet in the same append.
 *
 * Rules, in order: the customer exists and is not disabled; the amount is positive; an online payment has a
 * gateway reference (a reference already recorded is the same payment again: nothing new happens); the
 * chain given matches the customer's; a recharge is for a daily customer, with a current package the owner
 * may sell, and the money plus credit covers its price; the chain has terms in force; every wallet debit fits.
 */
export function decideReceivePayment(
  customer: CustomerState,
  chain: readonly OperatorState[],
  pkg: PackageState,
  command: ReceivePayment,
  context: CommandContext,
): PaymentDecision {
  if (!customer.exists) return refused(rejection('CUSTOMER_NOT_FOUND', 'no such customer'));
  if (customer.disabled) return refused(rejection('CUSTOMER_DISABLED', 'the customer is disabled; enable it before taking money'));
  const amount = parseAmount(command.amount, customer.currency);
  if (amount === null || !amount.isPositive()) return refused(rejection('INVALID_AMOUNT', `${command.amount} is not an amount > 0 in ${customer.currency}`));
  if (command.method === 'online') {
    if (command.gateway_reference === null || command.gateway_reference === '') {
      return refused(rejection('INVALID_INPUT', 'an online payment needs the gateway reference'));
    }
    if (customer.gateway_references.includes(command.gateway_reference)) return { ok: true, outcome: { customer: [], operators: [] } };
  }
  if (customer.payments[command.payment_id] !== undefined) return { ok: true, outcome: { customer: [], operators: [] } };
  if (chain.map((operator) => operator.operator_id).join('/') !== customer.chain.join('/')) {
    return refused(rejection('OPERATOR_NOT_FOUND', 'the operator chain given does not match the customer’s; reload and retry'));
  }

  const now = context.now;
  const today = localDateOf(now, customer.time_zone);
  const events: CustomerEvent[] = [];
  let to_recharge = Money.zero(customer.currency);
  let credit_used = Money.zero(customer.currency);
  let to_credit: Money;
  const allocations: Allocation[] = [];
  const credit = Money.parse(customer.credit, customer.currency);

  if (command.recharge_package_id !== null) {
    if (customer.profile.kind !== 'daily') return refused(rejection('WRONG_BILLING_PROFILE', 'monthly customers pay bills; only daily customers recharge'));
    if (!pkg.exists || pkg.package_id !== command.recharge_package_id) return refused(rejection('PACKAGE_NOT_FOUND', `package ${command.recharge_package_id} does not exist`));
    if (pkg.retired) return refused(rejection('PACKAGE_RETIRED', `package ${pkg.spec?.name} is retired; choose a current one`));
    const owner = chain[chain.length - 1]!;
    if (owner.role !== 'admin' && wholesalePriceOn(owner, pkg.package_id, today) === null) {
      return refused(rejection('PACKAGE_NOT_ASSIGNED', `package ${pkg.spec?.name} is not assigned to ${owner.name}`));
    }
    const price = pkg.package_id === customer.package_id ? customerPrice(customer, pkg) : Money.parse(pkg.spec!.price, customer.currency);
    credit_used = Money.min(credit, price);
    const needed = price.minus(credit_used);
    if (amount.compare(needed) < 0) {
      return refused(rejection('PAYMENT_AMOUNT_TOO_SMALL', `the recharge costs ${price}${credit_used.isPositive() ? ` (${credit_used} paid from credit)` : ''}; ${amount} is not enough`));
    }
    to_recharge = price;
    to_credit = amount.minus(needed);
    const before = customer.expires_at === null ? null : new Date(customer.expires_at);
    const after = extendValidity({ now, expires_at: before, days: pkg.spec!.validity_days, tz: customer.time_zone });
    events.push({
      type: 'customer-recharged',
      data: {
        customer_id: customer.customer_id,
        payment_id: command.payment_id,
        package_id: pkg.package_id,
        days: pkg.spec!.validity_days,
        price: price.toString(),
        expires_at_before: customer.expires_at,
        expires_at_after: after.toISOString(),
      },
    });
  } else {
    let left = amount;
    for (const bill of openBills(customer)) {
      if (!left.isPositive()) break;
      const paid = Money.min(left, Money.parse(bill.open, customer.currency));
      allocations.push({ bill_id: bill.bill_id, amount: paid.toString() });
      left = left.minus(paid);
    }
    to_credit = left;
  }

  // The sale's list price, for wholesale terms: the recharge's price, or the customer's price for its package.
  const listPrice = command.recharge_package_id !== null ? to_recharge : customerPrice(customer, pkg);
  const split = splitForChain(amount, listPrice, chain, command.recharge_package_id ?? customer.package_id, now);
  if (isRejection(split)) return refused(split);
  const settlement = settleAlongChain(split, chain, command.collector_operator_id, 1, {
    customer_id: customer.customer_id,
    payment_id: command.payment_id,
    purpose: command.recharge_package_id === null ? 'payment' : 'recharge',
  });
  if (isRejection(settlement)) return refused(settlement);

  events.unshift({
    type: 'payment-received',
    data: {
      payment_id: command.payment_id,
      customer_id: customer.customer_id,
      method: command.method,
      amount: amount.toString(),
      currency: customer.currency,
      received_at: now.toISOString(),
      collected_by: command.collected_by,
      collector_operator_id: command.collector_operator_id,
      gateway: command.gateway,
      gateway_reference: command.gateway_reference,
      card: command.card,
      allocations,
      to_recharge: to_recharge.toString(),
      to_credit: to_credit.toString(),
      credit_used: credit_used.toString(),
      chain: customer.chain,
      commission: settlement.commission,
      wallet_movements: settlement.wallet_movements,
    },
  });

  // Reactivation: a recharge ends a daily customer's expiry; settling every overdue bill unlocks a monthly one.
  if (command.recharge_package_id !== null && customer.expired) {
    events.push({ type: 'customer-reactivated', data: { customer_id: customer.customer_id, reason: 'recharged' } });
  } else if (customer.locked_for_unpaid) {
    const settled = new Map(allocations.map((a) => [a.bill_id, Money.parse(a.amount, customer.currency)]));
    const stillOverdue = openBills(customer).some(
      (bill) => bill.due_on < today && Money.parse(bill.open, customer.currency).minus(settled.get(bill.bill_id) ?? Money.zero(customer.currency)).isPositive(),
    );
    if (!stillOverdue) events.push({ type: 'customer-reactivated', data: { customer_id: customer.customer_id, reason: 'bills-paid' } });
  }
  return { ok: true, outcome: { customer: events, operators: settlement.operator_events } };
}

