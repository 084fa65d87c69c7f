import { billingPeriodFor, billingPeriodOf } from '../calendar/billing-period.js';
import { addDays, daysBetween, isLocalDate, localDateOf, startOfLocalDay, type LocalDate } from '../calendar/local-date.js';
import { prorateForPackageChange, type PackageChangeProration } from '../calendar/proration.js';
import { Money } from '../money/money.js';
import { wholesalePriceOn, type OperatorState } from '../operators/operator.js';
import type { PackageState } from '../packages/package.js';
import type { CommandContext } from '../shared/command-context.js';
import { accept, refuse, type Decision } from '../shared/decider.js';
import { rejection, type Rejection } from '../shared/rejection.js';
import type { BillingProfile, CustomerEvent, CustomerState } from './customer.js';
import { openBills, uniqueBillId } from './customer-evolve.js';
import { normaliseMac } from './identifiers.js';
import { checkProfile, customerPrice } from './registration.js';

/**
 * The customer's lifecycle beside money: staff suspend and resume, the sweeps expire and lock, staff disable,
 * set an expiry by hand, bind a MAC, change the package (with proration), move the customer to another
 * operator, and switch between daily and monthly billing. Each function checks its rules in the order written.
 */
type CustomerDecision = Decision<CustomerEvent>;

const missing = (): CustomerDecision => refuse(rejection('CUSTOMER_NOT_FOUND', 'no such customer'));

function present(state: CustomerState): Rejection | null {
  return state.exists ? null : rejection('CUSTOMER_NOT_FOUND', 'no such customer');
}

export function decideSuspend(state: CustomerState, reason: string, context: CommandContext): CustomerDecision {
  if (!state.exists) return missing();
  if (reason.trim() === '') return refuse(rejection('INVALID_INPUT', 'say why the customer is suspended; it shows on the timeline'));
  if (state.suspended) return accept();
  return accept({ type: 'customer-suspended', data: { customer_id: state.customer_id, reason: reason.trim(), by: context.actor.id } });
}

export function decideResume(state: CustomerState, context: CommandContext): CustomerDecision {
  if (!state.exists) return missing();
  if (!state.suspended) return refuse(rejection('CUSTOMER_NOT_SUSPENDED', 'the customer is not suspended'));
  return accept({ type: 'customer-resumed', data: { customer_id: state.customer_id, by: context.actor.id } });
}

/** The expiry sweep: a daily customer whose validity has ended becomes expired, so RADIUS and routers act now. */
export function decideExpire(state: CustomerState, context: CommandContext): CustomerDecision {
  if (!state.exists) return missing();
  if (state.expired) return accept();
  if (state.profile.kind !== 'daily' || state.expires_at === null || new Date(state.expires_at).getTime() > context.now.getTime()) {
    return refuse(rejection('CUSTOMER_NOT_EXPIRED', state.expires_at === null ? 'the customer has no validity to expire' : `valid until ${state.expires_at}`));
  }
  return accept({ type: 'customer-expired', data: { customer_id: state.customer_id, expired_at: context.now.toISOString() } });
}

/** The grace sweep: a monthly customer with a bill still open after its due date is locked until it is paid. */
export function decideLockForNonpayment(state: CustomerState, context: CommandContext): CustomerDecision {
  if (!state.exists) return missing();
  if (state.profile.kind !== 'monthly') return refuse(rejection('WRONG_BILLING_PROFILE', 'only monthly customers are locked for unpaid bills'));
  if (state.locked_for_unpaid) return accept();
  const today = localDateOf(context.now, state.time_zone);
  const overdue = openBills(state).filter((bill) => bill.due_on < today);
  if (overdue.length === 0) return refuse(rejection('CUSTOMER_NOT_DUE', 'no bill is past its due date'));
  return accept({ type: 'customer-locked', data: { customer_id: state.customer_id, reason: 'unpaid', overdue_bill_ids: overdue.map((bill) => bill.bill_id) } });
}

export function decideDisable(state: CustomerState, reason: string, context: CommandContext): CustomerDecision {
  if (!state.exists) return missing();
  if (state.disabled) return accept();
  return accept({ type: 'customer-disabled', data: { customer_id: state.customer_id, reason: reason.trim(), by: context.actor.id } });
}

export function decideEnable(state: CustomerState, context: CommandContext): CustomerDecision {
  if (!state.exists) return missing();
  if (!state.disabled) return accept();
  return accept({ type: 'customer-enabled', data: { customer_id: state.customer_id, by: context.actor.id } });
}

/**
 * Staff set a daily customer's expiry by hand, with a reason (a goodwill day, a correction). The new expiry
 * is normalised to the local midnight of the date given. A later expiry reactivates an expired customer; an
 * earlier one that has passed expires it.
 */
export function decideSetExpiry(state: CustomerState, expires_on: string, reason: string, context: CommandContext): CustomerDecision {
  const problem = present(state);
  if (problem !== null) return refuse(problem);
  if (state.profile.kind !== 'daily') return refuse(rejection('WRONG_BILLING_PROFILE', 'monthly customers have no expiry date; their bills decide'));
  if (reason.trim() === '') return refuse(rejection('INVALID_INPUT', 'say why the expiry changes; it shows on the timeline'));
  if (!isLocalDate(expires_on)) return refuse(rejection('INVALID_INPUT', `${expires_on} is not a date (YYYY-MM-DD)`));
  const expires_at = startOfLocalDay(expires_on, state.time_zone);
  const events: CustomerEvent[] = [{ type: 'expiry-set', data: { customer_id: state.customer_id, expires_at: expires_at.toISOString(), reason: reason.trim(), by: context.actor.id } }];
  const future = expires_at.getTime() > context.now.getTime();
  if (future && state.expired && !state.locked_for_unpaid) events.push({ type: 'customer-reactivated', data: { customer_id: state.customer_id, reason: 'expiry-extended' } });
  if (!future && !state.expired) events.push({ type: 'customer-expired', data: { customer_id: state.customer_id, expired_at: context.now.toISOString() } });
  return accept(...events);
}

export function decideChangeDetails(state: CustomerState, details: Readonly<{ name: string; mobile: string; zone: string }>): CustomerDecision {
  if (!state.exists) return missing();
  if (details.name.trim() === '') return refuse(rejection('INVALID_INPUT', 'the customer needs a name'));
  return accept({ type: 'customer-details-changed', data: { customer_id: state.customer_id, name: details.name.trim(), mobile: details.mobile.trim(), zone: details.zone.trim() } });
}

/** MAC binding: the customer may only connect from this device. The handler reserves the MAC in the same append. */
export function decideBindMac(state: CustomerState, raw_mac: string): CustomerDecision {
  if (!state.exists) return missing();
  const mac = normaliseMac(raw_mac);
  if (mac === null) return refuse(rejection('INVALID_CREDENTIALS', `${raw_mac} is not a MAC address`));
  if (state.credentials.mac === mac) return accept();
  const events: CustomerEvent[] = [];
  if (state.credentials.mac !== null) events.push({ type: 'mac-unbound', data: { customer_id: state.customer_id, mac: state.credentials.mac } });
  events.push({ type: 'mac-bound', data: { customer_id: state.customer_id, mac } });
  return accept(...events);
}

/**
 * A package change takes effect today. The unused part of what the customer paid for the old package comes
 * back as a credit and the rest of the period on the new package is charged, both prorated by days: monthly
 * customers over the current billing period, daily customers over their remaining validity. A net charge is a
 * proration bill; a net credit becomes customer credit.
 *
 * When the current period's bill is still to come (postpaid bills a period after it ends; a prepaid bill run
 * may not have reached this period yet), that bill will price the whole period at the new package, so what
 * is settled now is the other part: the days already used on the old package, credited at the new price and
 * charged at the old one. Either way the period costs the old price for the days before the change and the
 * new price for the days from it.
 */
export function decideChangePackage(
  state: CustomerState,
  from: PackageState,
  to: PackageState,
  owner: OperatorState,
  context: CommandContext,
): CustomerDecision {
  if (!state.exists) return missing();
  if (state.disabled) return refuse(rejection('CUSTOMER_DISABLED', 'the customer is disabled'));
  if (!to.exists || to.tenant !== state.tenant) return refuse(rejection('PACKAGE_NOT_FOUND', 'no such package'));
  if (to.retired) return refuse(rejection('PACKAGE_RETIRED', `package ${to.spec?.name} is retired`));
  if (to.package_id === state.package_id) return accept();
  const today = localDateOf(context.now, state.time_zone);
  if (owner.role !== 'admin' && wholesalePriceOn(owner, to.package_id, today) === null) {
    return refuse(rejection('PACKAGE_NOT_ASSIGNED', `package ${to.spec?.name} is not assigned to ${owner.name}`));
  }
  const old_price = customerPrice(state, from);
  const new_price = Money.parse(to.spec!.price, state.currency);
  let proration: PackageChangeProration;
  let covers_from: LocalDate = today;
  let covers_until: LocalDate;
  if (state.profile.kind === 'monthly') {
    const period = billingPeriodFor(today, state.profile.due_day);
    const period_days = daysBetween(period.starts_on, period.ends_before);
    if (state.profile.mode === 'prepaid' && state.billed_until !== null && state.billed_until >= period.ends_before) {
      proration = prorateForPackageChange({ old_price, new_price, used_days: daysBetween(period.starts_on, today), period_days });
      covers_until = period.ends_before;
    } else {
      const billed_from = state.billing_starts_on !== null && state.billing_starts_on > period.starts_on ? state.billing_starts_on : period.starts_on;
      const used_days = Math.max(0, daysBetween(billed_from, today));
      proration = prorateForPackageChange({ old_price: new_price, new_price: old_price, used_days: period_days - used_days, period_days });
      covers_from = billed_from;
      covers_until = today;
    }
  } else {
    const period_days = from.spec!.validity_days;
    const remaining = state.expires_at === null ? 0 : Math.max(0, daysBetween(today, localDateOf(new Date(state.expires_at), state.time_zone)));
    proration = prorateForPackageChange({ old_price, new_price, used_days: Math.max(0, period_days - Math.min(remaining, period_days)), period_days });
    covers_until = addDays(today, proration.remaining_days);
  }
  const events: CustomerEvent[] = [
    {
      type: 'package-changed',
      data: {
        customer_id: state.customer_id,
        from_package_id: state.package_id,
        to_package_id: to.package_id,
        credit: proration.credit.toString(),
        charge: proration.charge.toString(),
        net: proration.net.toString(),
        changed_on: today,
      },
    },
  ];
  if (state.special_price !== null) events.push({ type: 'special-price-set', data: { customer_id: state.customer_id, special_price: null } });
  if (proration.net.isPositive()) {
    events.push({
      type: 'bill-issued',
      data: {
        bill_id: uniqueBillId(state, `${state.customer_id}:change:${today}:${to.package_id}`),
        customer_id: state.customer_id,
        kind: 'proration',
        period: today.slice(0, 7),
        covers_from,
        covers_until,
        package_id: to.package_id,
        amount: proration.net.toString(),
        currency: state.currency,
        issued_on: today,
        due_on: addDays(today, state.profile.kind === 'monthly' ? state.profile.grace_days : 0),
      },
    });
  } else if (proration.net.isNegative()) {
    events.push({ type: 'credit-granted', data: { customer_id: state.customer_id, amount: proration.net.negated().toString(), reason: 'proration' } });
  }
  return accept(...events);
}

/** A special price must not be below what the owner pays for the package. null returns to the list price. */
export function decideSetSpecialPrice(state: CustomerState, special_price: string | null, owner: OperatorState, context: CommandContext): CustomerDecision {
  if (!state.exists) return missing();
  if (special_price === null) return state.special_price === null ? accept() : accept({ type: 'special-price-set', data: { customer_id: state.customer_id, special_price: null } });
  let price: Money;
  try {
    price = Money.parse(special_price, state.currency);
  } catch {
    return refuse(rejection('INVALID_AMOUNT', `${special_price} is not an amount in ${state.currency}`));
  }
  if (price.isNegative()) return refuse(rejection('INVALID_AMOUNT', 'a price cannot be negative'));
  const floor = owner.role === 'admin' ? null : wholesalePriceOn(owner, state.package_id, localDateOf(context.now, state.time_zone));
  if (floor !== null && price.compare(floor) < 0) return refuse(rejection('PRICE_BELOW_WHOLESALE', `${price} is below ${owner.name}'s own price ${floor}`));
  return accept({ type: 'special-price-set', data: { customer_id: state.customer_id, special_price: price.toString() } });
}

/**
 * Moving a customer to another operator of the same ISP: the mover must be an ancestor of (or the same as)
 * both the current and the new owner, and the new owner must be allowed to sell the customer's package.
 */
export function decideMove(state: CustomerState, from: OperatorState, to: OperatorState, context: CommandContext, mover_operator_id: string): CustomerDecision {
  if (!state.exists) return missing();
  if (!to.exists) return refuse(rejection('OPERATOR_NOT_FOUND', 'no such operator'));
  const toChain = to.role === 'admin' ? [to.operator_id] : [...to.ancestry, to.operator_id];
  if (toChain[0] !== context.tenant) return refuse(rejection('WRONG_TENANT', 'the operator belongs to another ISP'));
  if (!state.chain.includes(mover_operator_id) || !toChain.includes(mover_operator_id)) {
    return refuse(rejection('OPERATOR_NOT_IN_SUBTREE', 'you can only move customers within your own subtree'));
  }
  if (to.status !== 'active') return refuse(rejection('OPERATOR_SUSPENDED', `${to.name} is suspended`));
  if (to.operator_id === from.operator_id) return accept();
  const today = localDateOf(context.now, state.time_zone);
  if (to.role !== 'admin' && wholesalePriceOn(to, state.package_id, today) === null) {
    return refuse(rejection('PACKAGE_NOT_ASSIGNED', `${to.name} may not sell this customer's package; assign it first`));
  }
  return accept({ type: 'customer-moved', data: { customer_id: state.customer_id, from_operator_id: from.operator_id, to_operator_id: to.operator_id, chain: toChain } });
}

/**
 * Switching billing profile does what an operator expects with what is already paid: daily → monthly keeps
 * the paid validity and starts monthly billing on the day it ends (open credit stays); monthly → daily keeps
 * every open bill payable and gives validity up to the end of the period already billed and fully paid.
 */
export function decideSwitchProfile(state: CustomerState, to: BillingProfile, context: CommandContext): CustomerDecision {
  if (!state.exists) return missing();
  const problem = checkProfile(to);
  if (problem !== null) return refuse(rejection('INVALID_INPUT', problem));
  if (state.profile.kind === to.kind && JSON.stringify(state.profile) === JSON.stringify(to)) return accept();
  const today = localDateOf(context.now, state.time_zone);
  if (to.kind === 'monthly') {
    const validUntil = state.expires_at === null ? today : localDateOf(new Date(state.expires_at), state.time_zone);
    // From daily, billing starts when the paid validity ends; between monthly profiles it goes on from where
    // it was, and the bill run continues from the last day billed.
    const starts = state.profile.kind === 'monthly' ? (state.billing_starts_on ?? today) : validUntil > today ? validUntil : today;
    const events: CustomerEvent[] = [
      { type: 'billing-profile-changed', data: { customer_id: state.customer_id, from: state.profile, to, billing_starts_on: starts, expires_at: null } },
    ];
    if (state.expired && !state.locked_for_unpaid) events.push({ type: 'customer-reactivated', data: { customer_id: state.customer_id, reason: 'expiry-extended' } });
    return accept(...events);
  }
  // Monthly → daily: validity runs to the end of the latest period whose bill is fully paid (today at least).
  const paidPeriods = state.bills.filter((bill) => bill.kind !== 'proration' && Money.parse(bill.open, state.currency).isZero()).map((bill) => bill.period).sort();
  const lastPaid = paidPeriods[paidPeriods.length - 1];
  const profile = state.profile;
  // A prepaid bill keyed by a period pays for that period; a postpaid one pays for the period before it.
  const paidPeriod = lastPaid === undefined || profile.kind !== 'monthly' ? null : billingPeriodOf(lastPaid, profile.due_day);
  const paidUntil = paidPeriod === null || profile.kind !== 'monthly' ? today : profile.mode === 'prepaid' ? paidPeriod.ends_before : paidPeriod.starts_on;
  const expires_at = startOfLocalDay(paidUntil > today ? paidUntil : today, state.time_zone);
  const events: CustomerEvent[] = [
    { type: 'billing-profile-changed', data: { customer_id: state.customer_id, from: state.profile, to, billing_starts_on: null, expires_at: expires_at.toISOString() } },
  ];
  if (expires_at.getTime() <= context.now.getTime() && !state.expired) events.push({ type: 'customer-expired', data: { customer_id: state.customer_id, expired_at: context.now.toISOString() } });
  return accept(...events);
}

