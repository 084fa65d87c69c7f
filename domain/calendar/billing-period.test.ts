import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { billingDayIn, billingPeriodFor, billingPeriodOf } from './billing-period.js';
import { addDays, daysBetween, daysInMonth } from './local-date.js';
import { InvalidDueDayError, InvalidLocalDateError } from './calendar-errors.js';

const period = (key: string, starts_on: string, ends_before: string) => ({ period: key, starts_on, ends_before });
const yearArb = fc.oneof(fc.integer({ min: 1900, max: 2200 }), fc.constantFrom(2000, 2024, 2100, 2400));
const monthArb = fc.integer({ min: 1, max: 12 });
const dueDayArb = fc.integer({ min: 1, max: 31 });
const localDateArb = fc
  .tuple(yearArb, monthArb, fc.integer({ min: 1, max: 31 }))
  .map(([year, month, day]) => {
    const clamped = Math.min(day, daysInMonth(year, month));
    return `${year}-${String(month).padStart(2, '0')}-${String(clamped).padStart(2, '0')}`;
  });

describe('billingDayIn', () => {
  it.each<[number, number, number, string]>([
    [2024, 1, 1, '2024-01-01'],
    [2024, 1, 31, '2024-01-31'],
    [2024, 2, 31, '2024-02-29'],
    [2024, 2, 29, '2024-02-29'],
    [2023, 2, 29, '2023-02-28'],
    [2100, 2, 30, '2100-02-28'],
    [2000, 2, 30, '2000-02-29'],
    [2024, 4, 31, '2024-04-30'],
    [2024, 12, 15, '2024-12-15'],
  ])('%i-%i with due day %i bills on %s', (year, month, due_day, expected) => {
    expect(billingDayIn(year, month, due_day)).toBe(expected);
  });

  it.each([0, 32, 1.5, Number.NaN])('rejects due day %s with INVALID_DUE_DAY', (due_day) => {
    expect(() => billingDayIn(2024, 1, due_day)).toThrow(InvalidDueDayError);
  });

  it('is always within the month and equals the due day when the month has it', () => {
    fc.assert(
      fc.property(yearArb, monthArb, dueDayArb, (year, month, due_day) => {
        const billing_day = billingDayIn(year, month, due_day);
        const prefix = `${year}-${String(month).padStart(2, '0')}-`;
        expect(billing_day.startsWith(prefix)).toBe(true);
        const day = Number(billing_day.slice(8));
        const last_day = daysInMonth(year, month);
        expect(day).toBeGreaterThanOrEqual(1);
        expect(day).toBeLessThanOrEqual(last_day);
        expect(day).toBe(due_day <= last_day ? due_day : last_day);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('billingPeriodFor', () => {
  it('runs from one billing day to the next and is keyed by the month it starts in', () => {
    expect(billingPeriodFor('2024-03-15', 1)).toEqual(period('2024-03', '2024-03-01', '2024-04-01'));
    expect(billingPeriodFor('2024-03-09', 10)).toEqual(period('2024-02', '2024-02-10', '2024-03-10'));
    expect(billingPeriodFor('2024-03-10', 10)).toEqual(period('2024-03', '2024-03-10', '2024-04-10'));
    expect(billingPeriodFor('2024-01-05', 10)).toEqual(period('2023-12', '2023-12-10', '2024-01-10'));
    expect(billingPeriodFor('2024-02-10', 31)).toEqual(period('2024-01', '2024-01-31', '2024-02-29'));
    expect(billingPeriodFor('2024-02-29', 31)).toEqual(period('2024-02', '2024-02-29', '2024-03-31'));
    expect(billingPeriodFor('2024-03-30', 31)).toEqual(period('2024-02', '2024-02-29', '2024-03-31'));
    expect(billingPeriodFor('2023-02-28', 30)).toEqual(period('2023-02', '2023-02-28', '2023-03-30'));
  });

  it('finds a period by its key', () => {
    expect(billingPeriodOf('2024-02', 31)).toEqual(period('2024-02', '2024-02-29', '2024-03-31'));
    expect(billingPeriodOf('2024-12', 1)).toEqual(period('2024-12', '2024-12-01', '2025-01-01'));
    expect(() => billingPeriodOf('2024-13', 1)).toThrow(InvalidLocalDateError);
    expect(() => billingPeriodOf('2024-1', 1)).toThrow(InvalidLocalDateError);
  });

  it('rejects bad dates and due days', () => {
    expect(() => billingPeriodFor('2024-02-30', 1)).toThrow(InvalidLocalDateError);
    expect(() => billingPeriodFor('2024-02-01', 0)).toThrow(InvalidDueDayError);
  });

  it('contains the date, lasts 28–31 days, and tiles the calendar with its neighbours', () => {
    fc.assert(
      fc.property(localDateArb, dueDayArb, (date, due_day) => {
        const period = billingPeriodFor(date, due_day);
        expect(period.starts_on <= date && date < period.ends_before).toBe(true);
        expect(period.period).toBe(period.starts_on.slice(0, 7));
        const length_days = daysBetween(period.starts_on, period.ends_before);
        expect(length_days).toBeGreaterThanOrEqual(28);
        expect(length_days).toBeLessThanOrEqual(31);
        // No gap and no overlap: the next period starts exactly where this one ends, the previous one ends
        // exactly where this one starts, and every day of the period maps back to it.
        expect(billingPeriodFor(period.ends_before, due_day).starts_on).toBe(period.ends_before);
        expect(billingPeriodFor(addDays(period.starts_on, -1), due_day).ends_before).toBe(period.starts_on);
        expect(billingPeriodFor(addDays(period.ends_before, -1), due_day)).toEqual(period);
        expect(billingPeriodOf(period.period, due_day)).toEqual(period);
      }),
      { numRuns: 1000 },
    );
  });
});
