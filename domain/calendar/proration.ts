import { Money } from '../money/money.js';
import { InvalidMoneyError } from '../money/money-errors.js';
import { InvalidDayCountError } from './calendar-errors.js';

/** Longer than any billing cycle (a monthly period is at most 31 days, a yearly one 366). */
export const PRORATION_MAX_PERIOD_DAYS = 3660;

export interface ProrateByDaysInput {
  readonly amount: Money;
  readonly days: number;
  readonly period_days: number;
}

/**
 * The part of `amount` that covers `days` out of `period_days`: amount × days / period_days, computed
 * exactly and rounded once, half-even, to the minor unit. `days` may be 0 to period_days.
 */
export function prorateByDays({ amount, days, period_days }: ProrateByDaysInput): Money {
  assertDays(days, period_days);
  return amount.timesFraction(BigInt(days), BigInt(period_days), 'half-even');
}

export interface PackageChangeInput {
  /** Price of the old package for the whole period. */
  readonly old_price: Money;
  /** Price of the new package for the whole period. */
  readonly new_price: Money;
  /**
   * Days of the period already served on the old package. The day of the change belongs to the new package,
   * so for a change on `change_date` this is `daysBetween(period.starts_on, change_date)`.
   */
  readonly used_days: number;
  /** Length of the period in days, e.g. `daysBetween(period.starts_on, period.ends_before)`. */
  readonly period_days: number;
}

export interface PackageChangeProration {
  readonly remaining_days: number;
  /** What the customer gets back for the unused days of the old package (≥ 0). */
  readonly credit: Money;
  /** What the customer owes for the remaining days on the new package (≥ 0). */
  readonly charge: Money;
  /** charge − credit: positive when the customer owes more (upgrade), negative when they are owed (downgrade). */
  readonly net: Money;
}

/**
 * Proration when a customer changes package in the middle of a billing period. The unused days of the old
 * package are credited and the remaining days on the new one are charged, each as its own line rounded
 * half-even to the minor unit (so each line is what the customer sees on the bill), and `net` is the exact
 * difference of the two rounded lines rather than a third rounding, so the lines always add up to it.
 */
export function prorateForPackageChange({
  old_price,
  new_price,
  used_days,
  period_days,
}: PackageChangeInput): PackageChangeProration {
  assertDays(used_days, period_days);
  for (const [name, price] of [['old_price', old_price], ['new_price', new_price]] as const) {
    if (price.isNegative()) {
      throw new InvalidMoneyError(`${name} ${price.toString()} is negative; a package price must be zero or more.`);
    }
  }
  const remaining_days = period_days - used_days;
  const credit = prorateByDays({ amount: old_price, days: remaining_days, period_days });
  const charge = prorateByDays({ amount: new_price, days: remaining_days, period_days });
  return Object.freeze({ remaining_days, credit, charge, net: charge.minus(credit) });
}

function assertDays(days: number, period_days: number): void {
  if (!Number.isInteger(period_days) || period_days < 1 || period_days > PRORATION_MAX_PERIOD_DAYS) {
    throw new InvalidDayCountError(
      `A period must last a whole number of days from 1 to ${PRORATION_MAX_PERIOD_DAYS}, got ${String(period_days)}.`,
    );
  }
  if (!Number.isInteger(days) || days < 0 || days > period_days) {
    throw new InvalidDayCountError(
      `The number of days must be a whole number from 0 to the period's ${period_days} days, got ${String(days)}.`,
    );
  }
}
