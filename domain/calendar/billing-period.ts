import { InvalidDueDayError, InvalidLocalDateError } from './calendar-errors.js';
import { assertLocalDate, daysInMonth, formatYearMonth } from './local-date.js';
import type { LocalDate } from './local-date.js';

/** A "YYYY-MM" key naming a billing period by the month it starts in. */
export type YearMonth = string;

/**
 * One monthly billing period: it runs from one billing day (inclusive) to the next (exclusive), and is keyed
 * by the year and month of its first day. With due day 1 the period "2024-03" is 2024-03-01 up to 2024-04-01;
 * with due day 31 the period "2024-01" is 2024-01-31 up to 2024-02-29, and "2024-02" is 2024-02-29 up to
 * 2024-03-31.
 */
export interface BillingPeriod {
  readonly period: YearMonth;
  readonly starts_on: LocalDate;
  readonly ends_before: LocalDate;
}

const YEAR_MONTH_PATTERN = /^(\d{4})-(\d{2})$/;

/**
 * The billing day of a month for a customer whose due day is `due_day` (1–31). Due days the month does not
 * have (29–31) fall on the month's last day, so a due day of 31 bills on 28 or 29 February and 30 April:
 * every month has exactly one billing day and none is skipped.
 */
export function billingDayIn(year: number, month: number, due_day: number): LocalDate {
  assertDueDay(due_day);
  const day = Math.min(due_day, daysInMonth(year, month));
  return `${formatYearMonth(year, month)}-${String(day).padStart(2, '0')}`;
}

/** The billing period that contains `local_date`: starts_on ≤ local_date < ends_before. */
export function billingPeriodFor(local_date: LocalDate, due_day: number): BillingPeriod {
  assertLocalDate(local_date);
  assertDueDay(due_day);
  const year = Number(local_date.slice(0, 4));
  const month = Number(local_date.slice(5, 7));
  const billing_day = billingDayIn(year, month, due_day);
  if (local_date >= billing_day) return periodStartingIn(year, month, due_day);
  const [previous_year, previous_month] = previousMonth(year, month);
  return periodStartingIn(previous_year, previous_month, due_day);
}

/** The billing period keyed `period` ("YYYY-MM"), i.e. the one that starts in that month. */
export function billingPeriodOf(period: YearMonth, due_day: number): BillingPeriod {
  const match = typeof period === 'string' ? YEAR_MONTH_PATTERN.exec(period) : null;
  if (match === null) {
    throw new InvalidLocalDateError(`${JSON.stringify(period)} is not a billing period key: write it as "YYYY-MM".`);
  }
  assertDueDay(due_day);
  return periodStartingIn(Number(match[1]), Number(match[2]), due_day);
}

function periodStartingIn(year: number, month: number, due_day: number): BillingPeriod {
  const [next_year, next_month] = nextMonth(year, month);
  return Object.freeze({
    period: formatYearMonth(year, month),
    starts_on: billingDayIn(year, month, due_day),
    ends_before: billingDayIn(next_year, next_month, due_day),
  });
}

function assertDueDay(due_day: number): void {
  if (!Number.isInteger(due_day) || due_day < 1 || due_day > 31) {
    throw new InvalidDueDayError(
      `Due day ${String(due_day)} is not a day of the month: choose a whole number from 1 to 31 ` +
        `(29–31 fall on the last day of shorter months).`,
    );
  }
}

function previousMonth(year: number, month: number): [number, number] {
  return month === 1 ? [year - 1, 12] : [year, month - 1];
}

function nextMonth(year: number, month: number): [number, number] {
  return month === 12 ? [year + 1, 1] : [year, month + 1];
}
