import { addDays, localDateOf, startOfLocalDay } from '../calendar/local-date.js';
import type { CustomerEvent, CustomerState, Allocation } from '../customers/customer.js';
import { Money } from '../money/money.js';
import { parseAmount, type OperatorState } from '../operators/operator.js';
import type { CommandContext } from '../shared/command-context.js';
import { rejection } from '../shared/rejection.js';
import { clawbackOf, isRejection, settleAlongChain } from './chain-settlement.js';
import type { PaymentDecision } from './receive-payment.js';

export type RefundPayment = Readonly<{ refund_id: string; payment_id: string; amount: string; reason: string; by: string }>;

/**
 * A refund is a new event that references the payment; the payment is never edited. The refunded money comes
 * back out of what the payment did, in this order: the credit it left (if still there), then the bills it
 * settled (newest first, which reopens them), then the recharge it bought (which shortens validity by the
 * days that money paid for). Each part gives back only what earlier refunds of the same payment left of it.
 * Commission is clawed back along the same chain in the proportions of what each level still keeps of the
 * payment, so refunds that add up to the payment, one or several, reverse every share exactly.
 *
 * Rules, in order: the customer and the payment exist (a refund id already recorded for the payment is the
 * same refund again: nothing new happens); a reason is given; the amount is positive and not more than what
 * is left of the payment.
 */
export function decideRefundPayment(customer: CustomerState, chain: readonly OperatorState[], command: RefundPayment, context: CommandContext): PaymentDecision {
  if (!customer.exists) return { ok: false, rejection: rejection('CUSTOMER_NOT_FOUND', 'no such customer') };
  const payment = customer.payments[command.payment_id];
  if (payment === undefined) return { ok: false, rejection: rejection('PAYMENT_NOT_FOUND', `payment ${command.payment_id} is not this customer's`) };
  if (payment.refunds.some((earlier) => earlier.refund_id === command.refund_id)) return { ok: true, outcome: { customer: [], operators: [] } };
  if (command.reason.trim() === '') return { ok: false, rejection: rejection('INVALID_INPUT', 'a refund needs a reason for the books') };
  const currency = customer.currency;
  const amount = parseAmount(command.amount, currency);
  if (amount === null || !amount.isPositive()) return { ok: false, rejection: rejection('INVALID_AMOUNT', `${command.amount} is not an amount > 0`) };
  const refundable = Money.parse(payment.amount, currency).minus(Money.parse(payment.refunded, currency));
  if (amount.compare(refundable) > 0) {
    return { ok: false, rejection: rejection('REFUND_EXCEEDS_PAYMENT', `only ${refundable} of payment ${payment.payment_id} is left to refund`) };
  }
  if (chain.map((o) => o.operator_id).join('/') !== payment.chain.join('/')) {
    return { ok: false, rejection: rejection('OPERATOR_NOT_FOUND', 'the operator chain given does not match the payment’s; reload and retry') };
  }

  const zero = Money.zero(currency);
  const sum = (amounts: readonly string[]): Money => Money.sum(amounts.map((text) => Money.parse(text, currency)), currency);
  const earlier = payment.refunds;
  let left = amount;
  const creditLeft = Money.max(Money.parse(payment.to_credit, currency).minus(sum(earlier.map((r) => r.credit_reduced))), zero);
  const fromCredit = Money.min(left, creditLeft, Money.max(Money.parse(customer.credit, currency), zero));
  left = left.minus(fromCredit);
  const reopened: Allocation[] = [];
  for (const allocation of [...payment.allocations].reverse()) {
    if (!left.isPositive()) break;
    const bill = customer.bills.find((b) => b.bill_id === allocation.bill_id);
    if (bill === undefined) continue;
    const reopenedBefore = sum(earlier.flatMap((r) => r.reopened.filter((a) => a.bill_id === allocation.bill_id).map((a) => a.amount)));
    const stillSettledByThis = Money.parse(allocation.amount, currency).minus(reopenedBefore);
    const settledNow = Money.parse(bill.amount, currency).minus(Money.parse(bill.open, currency));
    const back = Money.min(left, stillSettledByThis, settledNow);
    if (!back.isPositive()) continue;
    reopened.push({ bill_id: allocation.bill_id, amount: back.toString() });
    left = left.minus(back);
  }
  const rechargeReversedBefore = sum(earlier.map((r) => r.recharge_reversed));
  const rechargeReversed = Money.min(left, Money.max(Money.parse(payment.to_recharge, currency).minus(rechargeReversedBefore), zero));
  left = left.minus(rechargeReversed);
  // What remains was credit the customer has since spent: the refund takes it from credit, which may go below zero.
  const creditReduced = fromCredit.plus(left);

  // Claw back over what each level still keeps, so the last refund takes exactly the rest of every share.
  const stillKept = payment.commission.map((share) => ({
    operator_id: share.operator_id,
    amount: Money.parse(share.amount, currency)
      .minus(sum(earlier.flatMap((r) => r.commission_clawback.filter((c) => c.operator_id === share.operator_id).map((c) => c.amount))))
      .toString(),
  }));
  const clawback = clawbackOf(amount, stillKept);
  const settlement = settleAlongChain(clawback, chain, payment.collector_operator_id, -1, { customer_id: customer.customer_id, payment_id: payment.payment_id, purpose: 'payment' });
  if (isRejection(settlement)) return { ok: false, rejection: settlement };

  const events: CustomerEvent[] = [
    {
      type: 'payment-refunded',
      data: {
        refund_id: command.refund_id,
        payment_id: payment.payment_id,
        customer_id: customer.customer_id,
        amount: amount.toString(),
        currency,
        reason: command.reason.trim(),
        reopened,
        credit_reduced: creditReduced.toString(),
        recharge_reversed: rechargeReversed.toString(),
        commission_clawback: settlement.commission,
        wallet_movements: settlement.wallet_movements,
      },
    },
  ];
  if (rechargeReversed.isPositive() && customer.expires_at !== null) {
    // The days this money bought come off the end of the validity, rounded down in the customer's favour;
    // counted over all refunds of the payment, so several partial refunds take back what one would.
    const price = Money.parse(payment.to_recharge, currency);
    const daysBought = BigInt(customer.recharges[payment.payment_id]?.days ?? 0);
    const daysBackUntil = (reversed: Money): bigint => (daysBought * reversed.toMinor()) / price.toMinor();
    const daysBack = Number(daysBackUntil(rechargeReversedBefore.plus(rechargeReversed)) - daysBackUntil(rechargeReversedBefore));
    if (daysBack > 0) {
      const expiry = localDateOf(new Date(customer.expires_at), customer.time_zone);
      const shortened = startOfLocalDay(addDays(expiry, -daysBack), customer.time_zone);
      events.push({ type: 'expiry-set', data: { customer_id: customer.customer_id, expires_at: shortened.toISOString(), reason: `refund ${command.refund_id}`, by: command.by } });
      if (shortened.getTime() <= context.now.getTime() && !customer.expired) {
        events.push({ type: 'customer-expired', data: { customer_id: customer.customer_id, expired_at: context.now.toISOString() } });
      }
    }
  }
  return { ok: true, outcome: { customer: events, operators: settlement.operator_events } };
}

