import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { Temporal } from 'temporal-polyfill';
import {
  addDays,
  assertLocalDate,
  daysBetween,
  daysInMonth,
  isLeapYear,
  isLocalDate,
  isLocalMidnight,
  localDateOf,
  startOfLocalDay,
} from './local-date.js';
import {
  InvalidDayCountError,
  InvalidInstantError,
  InvalidLocalDateError,
  InvalidTimeZoneError,
} from './calendar-errors.js';

const utc = (iso: string): Date => new Date(iso);

describe('local dates', () => {
  it.each(['2024-02-29', '2000-02-29', '0001-01-01', '9999-12-31', '2023-12-31'])('accepts %s', (date) => {
    expect(isLocalDate(date)).toBe(true);
  });

  it.each(['2023-02-29', '2100-02-29', '1900-02-29', '2024-13-01', '2024-00-10', '2024-04-31', '0000-01-01',
    '2024-1-01', '20240101', '2024-01-01T00:00', ' 2024-01-01', ''])('rejects %j', (date) => {
    expect(isLocalDate(date)).toBe(false);
    expect(() => assertLocalDate(date)).toThrow(InvalidLocalDateError);
  });

  it('knows month lengths and leap years', () => {
    expect(daysInMonth(2024, 2)).toBe(29);
    expect(daysInMonth(2023, 2)).toBe(28);
    expect(daysInMonth(2100, 2)).toBe(28);
    expect(daysInMonth(2000, 2)).toBe(29);
    expect(daysInMonth(2024, 4)).toBe(30);
    expect(daysInMonth(2024, 12)).toBe(31);
    expect([2024, 2100, 2000, 2023].map(isLeapYear)).toEqual([true, false, true, false]);
    expect(() => daysInMonth(2024, 13)).toThrow(InvalidLocalDateError);
    expect(() => daysInMonth(2024.5, 1)).toThrow(InvalidLocalDateError);
  });

  it('adds days across months, years and leap days', () => {
    expect(addDays('2024-02-28', 1)).toBe('2024-02-29');
    expect(addDays('2024-02-29', 1)).toBe('2024-03-01');
    expect(addDays('2100-02-28', 1)).toBe('2100-03-01');
    expect(addDays('2024-12-31', 1)).toBe('2025-01-01');
    expect(addDays('2024-03-01', -1)).toBe('2024-02-29');
    expect(addDays('2024-01-01', 366)).toBe('2025-01-01');
    expect(() => addDays('2024-01-01', 1.5)).toThrow(InvalidDayCountError);
    expect(() => addDays('9999-12-31', 1)).toThrow(InvalidLocalDateError);
    expect(daysBetween('2024-02-01', '2024-03-01')).toBe(29);
    expect(daysBetween('2024-03-01', '2024-02-01')).toBe(-29);
  });

  it('addDays and daysBetween agree', () => {
    const dateArb = fc
      .date({ min: utc('1900-01-01T00:00:00Z'), max: utc('2200-12-31T00:00:00Z'), noInvalidDate: true })
      .map((date) => date.toISOString().slice(0, 10));
    fc.assert(
      fc.property(dateArb, fc.integer({ min: -5000, max: 5000 }), (date, days) => {
        expect(daysBetween(date, addDays(date, days))).toBe(days);
        expect(addDays(addDays(date, days), -days)).toBe(date);
      }),
      { numRuns: 500 },
    );
  });
});

describe('local days in a time zone', () => {
  it('finds the local date of an instant', () => {
    expect(localDateOf(utc('2023-12-31T18:00:00Z'), 'Asia/Dhaka')).toBe('2024-01-01');
    expect(localDateOf(utc('2023-12-31T17:59:59.999Z'), 'Asia/Dhaka')).toBe('2023-12-31');
    expect(localDateOf(utc('2024-03-10T04:59:59Z'), 'America/New_York')).toBe('2024-03-09');
    expect(localDateOf(utc('2024-03-10T05:00:00Z'), 'America/New_York')).toBe('2024-03-10');
  });

  it('finds local midnight, or the first instant of a day that has no midnight', () => {
    expect(startOfLocalDay('2024-01-01', 'Asia/Dhaka').toISOString()).toBe('2023-12-31T18:00:00.000Z');
    expect(startOfLocalDay('2024-03-10', 'America/New_York').toISOString()).toBe('2024-03-10T05:00:00.000Z');
    expect(startOfLocalDay('2024-03-31', 'Europe/London').toISOString()).toBe('2024-03-31T00:00:00.000Z');
    expect(startOfLocalDay('2024-07-01', 'Europe/London').toISOString()).toBe('2024-06-30T23:00:00.000Z');
    // Chile moves its clocks from 00:00 to 01:00 on the first Sunday of September: the day starts at 01:00.
    expect(startOfLocalDay('2024-09-08', 'America/Santiago').toISOString()).toBe('2024-09-08T04:00:00.000Z');
    expect(isLocalMidnight(utc('2024-09-08T04:00:00Z'), 'America/Santiago')).toBe(true);
    expect(isLocalMidnight(utc('2024-09-08T04:00:00.001Z'), 'America/Santiago')).toBe(false);
    // Lord Howe Island shifts by half an hour.
    expect(startOfLocalDay('2024-01-01', 'Australia/Lord_Howe').toISOString()).toBe('2023-12-31T13:00:00.000Z');
    expect(startOfLocalDay('2024-07-01', 'Australia/Lord_Howe').toISOString()).toBe('2024-06-30T13:30:00.000Z');
  });

  it('rejects bad instants and zones', () => {
    expect(() => localDateOf(new Date('garbage'), 'Asia/Dhaka')).toThrow(InvalidInstantError);
    expect(() => localDateOf(utc('2024-01-01T00:00:00Z'), '+06:00')).toThrow(InvalidTimeZoneError);
    expect(() => startOfLocalDay('2024-01-01', 'Mars/Olympus')).toThrow(InvalidTimeZoneError);
  });

  it('the start of a local day is on that day, and every earlier instant is on an earlier day', () => {
    const zones = Intl.supportedValuesOf('timeZone');
    fc.assert(
      fc.property(
        fc.date({ min: utc('1990-01-01T00:00:00Z'), max: utc('2060-01-01T00:00:00Z'), noInvalidDate: true }),
        fc.constantFrom(...zones, 'America/New_York', 'Europe/London', 'Australia/Lord_Howe', 'America/Santiago'),
        (instant, tz) => {
          const date = localDateOf(instant, tz);
          const start = startOfLocalDay(date, tz);
          expect(localDateOf(start, tz)).toBe(date);
          expect(start.getTime()).toBeLessThanOrEqual(instant.getTime());
          expect(isLocalMidnight(start, tz)).toBe(true);
          expect(localDateOf(new Date(start.getTime() - 1), tz) < date).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('remembering the last day per zone never changes an answer: any instants, in any order, near day boundaries too', () => {
    const zones = ['Asia/Dhaka', 'America/New_York', 'Australia/Lord_Howe', 'America/Santiago', 'Asia/Kathmandu', 'Pacific/Apia', 'Europe/London'];
    const instant = fc.oneof(
      fc.date({ min: utc('1990-01-01T00:00:00Z'), max: utc('2060-01-01T00:00:00Z'), noInvalidDate: true }),
      // Within a second of some local midnight, where a remembered day ends.
      fc.tuple(fc.constantFrom(...zones), fc.integer({ min: 0, max: 20_000 }), fc.integer({ min: -1_000, max: 1_000 })).map(([tz, days, offset_ms]) =>
        new Date(startOfLocalDay(addDays('2000-01-01', days), tz).getTime() + offset_ms),
      ),
    );
    const direct = (at: Date, tz: string): string => Temporal.Instant.fromEpochMilliseconds(at.getTime()).toZonedDateTimeISO(tz).toPlainDate().toString();
    fc.assert(
      fc.property(fc.array(fc.tuple(instant, fc.constantFrom(...zones)), { minLength: 1, maxLength: 40 }), fc.boolean(), (pairs, sorted) => {
        const ordered = sorted ? [...pairs].sort((a, b) => a[0].getTime() - b[0].getTime()) : pairs;
        for (const [at, tz] of ordered) expect(localDateOf(at, tz), `${at.toISOString()} in ${tz}`).toBe(direct(at, tz));
      }),
      { numRuns: 300 },
    );
  });
});

