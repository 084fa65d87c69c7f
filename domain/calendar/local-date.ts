import { Temporal } from 'temporal-polyfill';
import { InvalidDayCountError, InvalidInstantError, InvalidLocalDateError } from './calendar-errors.js';
import { assertTimeZone } from './time-zone.js';
import type { TimeZone } from './time-zone.js';

/**
 * A calendar date with no time and no zone, written "YYYY-MM-DD" (years 0001–9999). It names a day on the
 * ISP's wall calendar; turn it into an instant only together with the ISP's time zone.
 * Two LocalDates compare correctly as plain strings.
 */
export type LocalDate = string;

const LOCAL_DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;
/** Day arithmetic beyond this is certainly a bug; it also keeps results inside four-digit years. */
const MAX_DAY_OFFSET = 1_000_000;

export function isLocalDate(value: unknown): value is LocalDate {
  return toPlainDateOrNull(value) !== null;
}

export function assertLocalDate(value: unknown): asserts value is LocalDate {
  toPlainDate(value);
}

/** The ISP's calendar date at `instant`: what a wall calendar in `tz` shows at that moment. */
export function localDateOf(instant: Date, tz: TimeZone): LocalDate {
  assertTimeZone(tz);
  const ms = toInstant(instant).epochMilliseconds;
  // The wall clock is UTC shifted by the zone's offset, and the offset only changes at the zone's transitions
  // (twice a year at most), so the date is plain arithmetic once the offset around `ms` is known. A rebuild asks
  // this millions of times; Temporal's own conversion costs microseconds each.
  const shifted = new Date(ms + offsetSpanAt(ms, tz).offset_ms);
  const year = shifted.getUTCFullYear();
  if (year < 1 || year > 9999) return toInstant(instant).toZonedDateTimeISO(tz).toPlainDate().toString();
  return shifted.toISOString().slice(0, 10);
}

type OffsetSpan = Readonly<{ from_ms: number; to_ms: number; offset_ms: number }>;

/** Per zone, the spans between transitions already looked up: few per zone (two a year for a DST zone). */
const spans_by_zone = new Map<TimeZone, OffsetSpan[]>();
const MAX_SPANS_REMEMBERED = 10_000;
let spans_remembered = 0;

function offsetSpanAt(ms: number, tz: TimeZone): OffsetSpan {
  let spans = spans_by_zone.get(tz);
  if (spans !== undefined) for (const span of spans) if (ms >= span.from_ms && ms < span.to_ms) return span;
  const zoned = Temporal.Instant.fromEpochMilliseconds(ms).toZonedDateTimeISO(tz);
  // `previous` is strictly before the instant it is asked at, so asking at ms + 1 finds a transition at ms itself.
  const previous = Temporal.Instant.fromEpochMilliseconds(ms + 1).toZonedDateTimeISO(tz).getTimeZoneTransition('previous');
  const next = zoned.getTimeZoneTransition('next');
  const span = { from_ms: previous?.epochMilliseconds ?? -Infinity, to_ms: next?.epochMilliseconds ?? Infinity, offset_ms: zoned.offsetNanoseconds / 1_000_000 };
  if (spans_remembered >= MAX_SPANS_REMEMBERED) {
    spans_by_zone.clear();
    spans_remembered = 0;
  }
  if (spans === undefined || !spans_by_zone.has(tz)) spans_by_zone.set(tz, (spans = []));
  spans.push(span);
  spans_remembered += 1;
  return span;
}

/**
 * The first instant of `date` in `tz`: local midnight, or where midnight does not exist because clocks jump
 * forward at 00:00 (America/Santiago, America/Havana, …), the first instant that does, such as 01:00.
 */
export function startOfLocalDay(date: LocalDate, tz: TimeZone): Date {
  assertTimeZone(tz);
  return new Date(toPlainDate(date).toZonedDateTime({ timeZone: tz }).epochMilliseconds);
}

/** True when `instant` is exactly the first instant of its local day in `tz`. */
export function isLocalMidnight(instant: Date, tz: TimeZone): boolean {
  return startOfLocalDay(localDateOf(instant, tz), tz).getTime() === toInstant(instant).epochMilliseconds;
}

/** `date` moved by `days` calendar days (negative moves back). */
export function addDays(date: LocalDate, days: number): LocalDate {
  if (!Number.isSafeInteger(days) || Math.abs(days) > MAX_DAY_OFFSET) {
    throw new InvalidDayCountError(
      `Cannot add ${String(days)} days to a date: pass a whole number between -${MAX_DAY_OFFSET} and ` +
        `${MAX_DAY_OFFSET}.`,
    );
  }
  return fromPlainDate(toPlainDate(date).add({ days }));
}

/** Whole calendar days from `from` to `to`: positive when `to` is later, 0 for the same day. */
export function daysBetween(from: LocalDate, to: LocalDate): number {
  return toPlainDate(from).until(toPlainDate(to), { largestUnit: 'day' }).days;
}

/** Days in a month of the proleptic Gregorian calendar; `month` is 1–12. */
export function daysInMonth(year: number, month: number): number {
  assertYearMonth(year, month);
  return Temporal.PlainYearMonth.from({ year, month }).daysInMonth;
}

export function isLeapYear(year: number): boolean {
  assertYearMonth(year, 1);
  return Temporal.PlainYearMonth.from({ year, month: 1 }).inLeapYear;
}

/** Formats a year and month as the "YYYY-MM" key used for billing periods and period streams. */
export function formatYearMonth(year: number, month: number): string {
  assertYearMonth(year, month);
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}`;
}

/** Checks a year (1–9999) and month (1–12), the range LocalDate can represent. */
export function assertYearMonth(year: number, month: number): void {
  if (!Number.isInteger(year) || year < 1 || year > 9999 || !Number.isInteger(month) || month < 1 || month > 12) {
    throw new InvalidLocalDateError(
      `Year ${String(year)} and month ${String(month)} do not name a month: the year must be 1–9999 and ` +
        `the month 1–12.`,
    );
  }
}

function toInstant(instant: Date): Temporal.Instant {
  if (!(instant instanceof Date) || Number.isNaN(instant.getTime())) {
    throw new InvalidInstantError(
      'Expected a valid Date for an instant; check where the timestamp was parsed (an ISO-8601 string with a zone).',
    );
  }
  return Temporal.Instant.fromEpochMilliseconds(instant.getTime());
}

function toPlainDateOrNull(value: unknown): Temporal.PlainDate | null {
  if (typeof value !== 'string') return null;
  const match = LOCAL_DATE_PATTERN.exec(value);
  if (match === null) return null;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (year < 1) return null;
  try {
    return Temporal.PlainDate.from({ year, month, day }, { overflow: 'reject' });
  } catch {
    return null;
  }
}

function toPlainDate(value: unknown): Temporal.PlainDate {
  const date = toPlainDateOrNull(value);
  if (date === null) {
    throw new InvalidLocalDateError(
      `${JSON.stringify(value)} is not a local date: write a real calendar date as "YYYY-MM-DD", e.g. "2024-02-29".`,
    );
  }
  return date;
}

function fromPlainDate(date: Temporal.PlainDate): LocalDate {
  if (date.year < 1 || date.year > 9999) {
    throw new InvalidLocalDateError(
      `The date ${date.toString()} falls outside the years 0001–9999 a LocalDate can hold.`,
    );
  }
  return date.toString();
}
