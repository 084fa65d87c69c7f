import { localDateOf } from '../calendar/local-date.js';
import { splitCommission, type ChainLevel, type CommissionSplit } from '../commission/commission-split.js';
import type { CommissionShare, WalletMovement } from '../customers/customer.js';
import { allocateByWeights } from '../money/allocation.js';
import { Money } from '../money/money.js';
import { commissionTermsOn, walletCanPay, type OperatorEvent, type OperatorState } from '../operators/operator.js';
import { rejection, type Rejection } from '../shared/rejection.js';

/**
 * How money received for a customer settles along its operator chain (ISP → reseller → sub-reseller).
 *
 * The split says what each level keeps. Each link parent → child then settles in the child's wallet with its
 * parent: when the money was collected at the child or below it (the child took the cash), the child owes its
 * parent everything except what the child's subtree keeps, and its wallet is debited that; when it was
 * collected above the child (online to the ISP, cash at the parent's counter), the parent owes the child what
 * the child's subtree keeps, and its wallet is credited that.
 *
 * Example: a sub-reseller's customer pays 100.00, reseller share 60 %, sub-reseller 50 % of that (40/30/30).
 * Online to the ISP: reseller +60.00, sub-reseller +30.00. Cash at the sub-reseller: reseller −40.00,
 * sub-reseller −70.00. Cash at the reseller: reseller −40.00, sub-reseller +30.00.
 */
export type Settlement = Readonly<{
  commission: readonly CommissionShare[];
  wallet_movements: readonly WalletMovement[];
  operator_events: readonly Readonly<{ operator_id: string; events: readonly OperatorEvent[] }>[];
}>;

/** Splits `total` by the chain's terms in force today; totals above the list price split per whole unit and remainder. */
export function splitForChain(
  total: Money,
  list_price: Money,
  chain: readonly OperatorState[],
  package_id: string,
  now: Date,
): CommissionSplit | Rejection {
  const levels: ChainLevel[] = [];
  for (const [index, operator] of chain.entries()) {
    if (index === 0) {
      levels.push({ operator_id: operator.operator_id, terms: null });
      continue;
    }
    const today = localDateOf(now, chain[0]!.time_zone);
    const terms = commissionTermsOn(operator, package_id, today);
    if (terms === null) {
      return rejection('INVALID_COMMISSION_TERMS', `${operator.name} has no commission terms (or wholesale price for this package) in force on ${today}; set them first`);
    }
    levels.push({ operator_id: operator.operator_id, terms });
  }
  const wholesale = levels.some((level) => level.terms?.kind === 'wholesale');
  if (!wholesale || total.compare(list_price) <= 0) {
    const result = splitCommission({ total, list_price: wholesale ? list_price : null, chain: levels });
    return result.ok ? result.split : rejection('INVALID_COMMISSION_TERMS', result.rejection.message);
  }
  // Wholesale terms are defined per sale, so a payment worth several sales splits as that many sales plus the rest.
  if (list_price.isZero()) return rejection('INVALID_COMMISSION_TERMS', 'a free package cannot carry wholesale commission');
  const whole = total.toMinor() / list_price.toMinor();
  const rest = Money.fromMinor(total.toMinor() - whole * list_price.toMinor(), total.currency);
  const full = splitCommission({ total: list_price, list_price, chain: levels });
  const remainder = splitCommission({ total: rest, list_price, chain: levels });
  if (!full.ok) return rejection('INVALID_COMMISSION_TERMS', full.rejection.message);
  if (!remainder.ok) return rejection('INVALID_COMMISSION_TERMS', remainder.rejection.message);
  const times = (money: Money) => Money.fromMinor(money.toMinor() * whole, money.currency);
  return {
    total,
    kept: full.split.kept.map((kept, i) => ({ operator_id: kept.operator_id, amount: times(kept.amount).plus(remainder.split.kept[i]!.amount) })),
    passed_down: full.split.passed_down.map((link, i) => ({ ...link, amount: times(link.amount).plus(remainder.split.passed_down[i]!.amount) })),
  };
}

/**
 * Turns a split into wallet movements and wallet events. `direction` is +1 for money received and −1 for a
 * refund, which moves every wallet the other way. Debits for money received must fit the wallet (prepaid:
 * not below zero; postpaid: not below minus the credit limit); a refund's clawback is owed whatever the
 * balance, so it is never refused.
 */
export function settleAlongChain(
  split: CommissionSplit,
  chain: readonly OperatorState[],
  collector_operator_id: string,
  direction: 1 | -1,
  reference: Readonly<{ customer_id: string; payment_id: string; purpose: 'recharge' | 'payment' }>,
): Settlement | Rejection {
  const collectorIndex = chain.findIndex((operator) => operator.operator_id === collector_operator_id);
  if (collectorIndex < 0) return rejection('NOT_PERMITTED', 'the money was collected by an operator outside this customer’s chain');
  const movements: WalletMovement[] = [];
  const operator_events: { operator_id: string; events: OperatorEvent[] }[] = [];
  for (let index = 1; index < chain.length; index += 1) {
    const child = chain[index]!;
    const subtreeKeeps = split.passed_down[index - 1]!.amount;
    const collectedBelow = collectorIndex >= index;
    const amount = collectedBelow ? split.total.minus(subtreeKeeps) : subtreeKeeps;
    if (amount.isZero()) continue;
    const debit = collectedBelow === (direction === 1);
    if (debit && direction === 1) {
      const check = walletCanPay(child, amount);
      if (check !== 'ok') {
        return rejection(check, `${child.name}'s wallet cannot pay ${amount} ${child.currency} (balance ${child.wallet_balance}${child.billing_mode === 'postpaid' ? `, credit limit ${child.credit_limit}` : ''}); top it up first`);
      }
    }
    movements.push({ operator_id: child.operator_id, amount: amount.toString(), direction: debit ? 'debit' : 'credit' });
    const event: OperatorEvent = debit
      ? {
          type: 'wallet-debited',
          data: { operator_id: child.operator_id, amount: amount.toString(), reason: direction === 1 ? reference.purpose : 'adjustment', customer_id: reference.customer_id, payment_id: reference.payment_id },
        }
      : {
          type: 'wallet-credited',
          data: { operator_id: child.operator_id, amount: amount.toString(), reason: direction === 1 ? 'commission' : 'refund', customer_id: reference.customer_id, payment_id: reference.payment_id },
        };
    operator_events.push({ operator_id: child.operator_id, events: [event] });
  }
  return {
    commission: split.kept.map((kept) => ({ operator_id: kept.operator_id, amount: kept.amount.toString() })),
    wallet_movements: movements,
    operator_events,
  };
}

/**
 * A refund's clawback: the refunded amount allocated over what each level still keeps of the payment (its
 * share less earlier clawbacks), to the minor unit. No part exceeds what its level still keeps, and a refund of
 * everything left takes exactly that, so any sequence of refunds of a whole payment reverses it exactly.
 */
export function clawbackOf(refund: Money, original: readonly CommissionShare[]): CommissionSplit {
  const currency = refund.currency;
  const weights = original.map((share) => Money.parse(share.amount, currency).toMinor().toString());
  const parts = weights.every((weight) => weight === '0') ? original.map(() => Money.zero(currency)) : allocateByWeights(refund, weights);
  const kept = original.map((share, i) => ({ operator_id: share.operator_id, amount: parts[i]! }));
  const passed_down = kept.slice(1).map((level, i) => ({
    from_operator_id: kept[i]!.operator_id,
    to_operator_id: level.operator_id,
    amount: Money.sum(kept.slice(i + 1).map((k) => k.amount), currency),
  }));
  return { total: refund, kept, passed_down };
}

export const isRejection = (value: unknown): value is Rejection =>
  typeof value === 'object' && value !== null && 'code' in value && 'message' in value && !('kept' in value);
