import { billingPeriodOf, type YearMonth } from '../calendar/billing-period.js';
import { addDays, daysBetween, localDateOf, type LocalDate } from '../calendar/local-date.js';
import { prorateByDays } from '../calendar/proration.js';
import { Money } from '../money/money.js';
import type { PackageState } from '../packages/package.js';
import type { CommandContext } from '../shared/command-context.js';
import { accept, refuse, type Decision } from '../shared/decider.js';
import { rejection } from '../shared/rejection.js';
import type { CustomerEvent, CustomerState } from '../customers/customer.js';
import { customerPrice } from '../customers/registration.js';
import { uniqueBillId } from '../customers/customer-evolve.js';

/** The previous period of a due day's calendar: the one that ends where `period` starts. */
function previousPeriod(period: YearMonth, due_day: number) {
  const [year, month] = period.split('-').map(Number) as [number, number];
  const previous = month === 1 ? `${year - 1}-12` : `${year}-${String(month - 1).padStart(2, '0')}`;
  return billingPeriodOf(previous, due_day);
}

/**
 * The monthly bill for one customer and one period, issued on the period's billing day (the 1st or the
 * customer's due day, in the ISP's time zone). Prepaid bills cover the period that starts; postpaid bills
 * cover the one that just ended. A period already billed issues nothing: running a bill run twice is safe,
 * and the customer stream's expected revision makes two concurrent runs issue one bill.
 *
 * Rules, in order: the customer exists; it is billed monthly; the period's billing day has come. Then,
 * without refusing: disabled customers and periods already billed or not covered get no bill.
 */
export function decideIssueMonthlyBill(state: CustomerState, pkg: PackageState, period: YearMonth, context: CommandContext): Decision<CustomerEvent> {
  if (!state.exists) return refuse(rejection('CUSTOMER_NOT_FOUND', 'no such customer'));
  const profile = state.profile;
  if (profile.kind !== 'monthly') return refuse(rejection('WRONG_BILLING_PROFILE', 'daily customers are not billed by the monthly run'));
  const current = billingPeriodOf(period, profile.due_day);
  const today = localDateOf(context.now, state.time_zone);
  if (current.starts_on > today) return refuse(rejection('BILL_NOT_DUE_YET', `period ${period} starts on ${current.starts_on}, after today ${today}`));
  if (state.disabled) return accept();

  // Billing covers time, not period keys: a bill starts where earlier bills stopped, so running a period again
  // issues nothing and a changed due day or mode bills exactly the days not yet billed.
  const covered = profile.mode === 'prepaid' ? current : previousPeriod(period, profile.due_day);
  const starts = latest(covered.starts_on, state.billing_starts_on, state.billed_until);
  if (starts >= covered.ends_before) return accept();
  const price = customerPrice(state, pkg);
  const amount = prorateByDays({ amount: price, days: daysBetween(starts, covered.ends_before), period_days: daysBetween(covered.starts_on, covered.ends_before) });
  if (amount.isZero()) return accept();

  const bill_id = uniqueBillId(state, `${state.customer_id}:${period}`);
  const issued: CustomerEvent = {
    type: 'bill-issued',
    data: {
      bill_id,
      customer_id: state.customer_id,
      kind: starts === covered.starts_on ? 'monthly' : 'first-period',
      period,
      covers_from: starts,
      covers_until: covered.ends_before,
      package_id: state.package_id,
      amount: amount.toString(),
      currency: state.currency,
      issued_on: today,
      // A bill issued late (a delayed run, the first bill after a switch) still gets its full grace period.
      due_on: addDays(current.starts_on > today ? current.starts_on : today, profile.grace_days),
    },
  };
  // Advance payments wait as credit and settle the bill the moment it exists.
  const credit = Money.parse(state.credit, state.currency);
  const renewal = quotaRenewal(state, period);
  if (!credit.isPositive()) return accept(issued, ...renewal);
  const applied = Money.min(credit, amount);
  return accept<CustomerEvent>(issued, { type: 'credit-applied', data: { customer_id: state.customer_id, bill_id, amount: applied.toString() } }, ...renewal);
}

/**
 * A monthly customer locked because its data quota ran out gets a fresh quota with the next period: the bill
 * that opens the period reactivates it (unless it is also locked for unpaid bills, which only payment lifts).
 */
function quotaRenewal(state: CustomerState, period: YearMonth): CustomerEvent[] {
  if (state.quota_locked_period === null || state.quota_locked_period === monthlyUsagePeriod(period) || !state.expired || state.locked_for_unpaid) return [];
  return [{ type: 'customer-reactivated', data: { customer_id: state.customer_id, reason: 'quota-renewed' } }];
}

/** The usage period a monthly customer's data quota counts in: its billing period (domain/usage). */
export const monthlyUsagePeriod = (period: YearMonth): string => `period:${period}`;

function latest(first: LocalDate, ...others: readonly (LocalDate | null)[]): LocalDate {
  let result = first;
  for (const other of others) if (other !== null && other > result) result = other;
  return result;
}

