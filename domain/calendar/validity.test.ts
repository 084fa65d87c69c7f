import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { VALIDITY_MAX_DAYS, extendValidity } from './validity.js';
import { addDays, daysBetween, isLocalMidnight, localDateOf, startOfLocalDay } from './local-date.js';
import { InvalidDayCountError, InvalidInstantError, InvalidTimeZoneError } from './calendar-errors.js';

const utc = (iso: string): Date => new Date(iso);
const DST_ZONES = ['America/New_York', 'Europe/London', 'Australia/Lord_Howe', 'America/Santiago', 'America/Havana'];
const zoneArb = fc.oneof(fc.constantFrom(...DST_ZONES), fc.constantFrom(...Intl.supportedValuesOf('timeZone')));
const instantArb = fc.date({ min: utc('1995-01-01T00:00:00Z'), max: utc('2055-01-01T00:00:00Z'), noInvalidDate: true });

/** An instant that is often exactly a local midnight, or a few minutes either side of one. */
function instantNear(tz: string): fc.Arbitrary<Date> {
  return fc.oneof(
    instantArb,
    fc
      .tuple(instantArb, fc.constantFrom(0, 0, 1, -1, 60_000, -60_000, 3_600_000, -3_600_000))
      .map(([instant, offset_ms]) => new Date(startOfLocalDay(localDateOf(instant, tz), tz).getTime() + offset_ms)),
  );
}

describe('extendValidity', () => {
  it('gives a new customer the rest of today plus the days bought, ending at local midnight', () => {
    // 10:00 in Dhaka on 10 January; 30 days → expires at the start of 10 February, Dhaka time.
    const now = utc('2024-01-10T04:00:00Z');
    const expires_at = extendValidity({ now, expires_at: null, days: 30, tz: 'Asia/Dhaka' });
    expect(expires_at.toISOString()).toBe('2024-02-09T18:00:00.000Z');
  });

  it('adds exactly the days bought when validity still runs and ends at a local midnight', () => {
    const current = startOfLocalDay('2024-02-10', 'Asia/Dhaka');
    const now = utc('2024-01-20T04:00:00Z');
    const expires_at = extendValidity({ now, expires_at: current, days: 30, tz: 'Asia/Dhaka' });
    expect(expires_at.toISOString()).toBe(startOfLocalDay('2024-03-11', 'Asia/Dhaka').toISOString());
  });

  it('counts from now when validity has already lapsed', () => {
    const expires_at = extendValidity({
      now: utc('2024-05-01T12:00:00Z'),
      expires_at: utc('2024-03-01T00:00:00Z'),
      days: 1,
      tz: 'UTC',
    });
    expect(expires_at.toISOString()).toBe('2024-05-03T00:00:00.000Z');
  });

  it('counts from now to the day when now is itself a local midnight', () => {
    const now = startOfLocalDay('2024-05-01', 'Asia/Dhaka');
    const expires_at = extendValidity({ now, expires_at: null, days: 7, tz: 'Asia/Dhaka' });
    expect(expires_at).toEqual(startOfLocalDay('2024-05-08', 'Asia/Dhaka'));
  });

  it('counts local days across daylight-saving changes', () => {
    // New York springs forward on 2024-03-10; a 1-day recharge at midnight on the 9th ends at midnight on the
    // 10th, and 2 days end at midnight on the 11th, 47 hours later.
    const start = startOfLocalDay('2024-03-09', 'America/New_York');
    const two_days = extendValidity({ now: start, expires_at: null, days: 2, tz: 'America/New_York' });
    expect(two_days.toISOString()).toBe('2024-03-11T04:00:00.000Z');
    expect(two_days.getTime() - start.getTime()).toBe(47 * 3_600_000);
    // Santiago has no midnight on 2024-09-08: validity ends at 01:00, the first instant of that day.
    const santiago = extendValidity({
      now: startOfLocalDay('2024-09-07', 'America/Santiago'),
      expires_at: null,
      days: 1,
      tz: 'America/Santiago',
    });
    expect(santiago.toISOString()).toBe('2024-09-08T04:00:00.000Z');
  });

  it('handles a base inside the hour Santiago repeats when its clocks fall back at midnight', () => {
    // On 2024-04-07 at 00:00 (-03) Chile's clocks go back to 23:00 (-04) on the 6th, so 23:30 on the 6th
    // happens twice. From the second 23:30 the first midnight after is the start of the 7th (at -04).
    const second_half_past_eleven = utc('2024-04-07T03:30:00Z');
    expect(localDateOf(second_half_past_eleven, 'America/Santiago')).toBe('2024-04-06');
    const expires_at = extendValidity({
      now: second_half_past_eleven,
      expires_at: null,
      days: 1,
      tz: 'America/Santiago',
    });
    expect(expires_at.toISOString()).toBe(startOfLocalDay('2024-04-08', 'America/Santiago').toISOString());
  });

  it('rejects bad input', () => {
    const now = utc('2024-01-01T00:00:00Z');
    for (const days of [0, -1, 1.5, VALIDITY_MAX_DAYS + 1, Number.NaN]) {
      expect(() => extendValidity({ now, expires_at: null, days, tz: 'UTC' })).toThrow(InvalidDayCountError);
    }
    expect(() => extendValidity({ now, expires_at: null, days: 1, tz: 'GMT+6' })).toThrow(InvalidTimeZoneError);
    const invalid = new Date(Number.NaN);
    expect(() => extendValidity({ now: invalid, expires_at: null, days: 1, tz: 'UTC' })).toThrow(InvalidInstantError);
    expect(() => extendValidity({ now, expires_at: invalid, days: 1, tz: 'UTC' })).toThrow(InvalidInstantError);
  });

  it('never moves expiry earlier, lands on a local midnight, and adds the days bought and no more', () => {
    fc.assert(
      fc.property(
        zoneArb.chain((tz) => fc.tuple(fc.constant(tz), instantNear(tz), fc.option(instantNear(tz), { nil: null }))),
        fc.integer({ min: 1, max: 400 }),
        ([tz, now, expires_at], days) => {
          const result = extendValidity({ now, expires_at, days, tz });
          const base = expires_at !== null && expires_at > now ? expires_at : now;
          expect(result.getTime()).toBeGreaterThan(now.getTime());
          if (expires_at !== null) expect(result.getTime()).toBeGreaterThan(expires_at.getTime());
          expect(isLocalMidnight(result, tz)).toBe(true);

          const result_date = localDateOf(result, tz);
          const added_days = daysBetween(localDateOf(base, tz), result_date);
          if (isLocalMidnight(base, tz)) expect(added_days).toBe(days);
          else expect(added_days).toBeGreaterThanOrEqual(days);
          // `days` whole local days lie between the base and the result ...
          expect(startOfLocalDay(addDays(result_date, -days), tz).getTime()).toBeGreaterThanOrEqual(base.getTime());
          // ... and not one more: the midnight before that is already before the base.
          expect(startOfLocalDay(addDays(result_date, -days - 1), tz).getTime()).toBeLessThan(base.getTime());
        },
      ),
      { numRuns: 500 },
    );
  });

  it('is monotonic: a later current expiry never gives an earlier new expiry', () => {
    fc.assert(
      fc.property(
        zoneArb.chain((tz) => fc.tuple(fc.constant(tz), instantNear(tz), instantNear(tz), instantNear(tz))),
        fc.integer({ min: 1, max: 400 }),
        ([tz, now, first, second], days) => {
          const [earlier, later] = first <= second ? [first, second] : [second, first];
          const from_earlier = extendValidity({ now, expires_at: earlier, days, tz });
          const from_later = extendValidity({ now, expires_at: later, days, tz });
          expect(from_later.getTime()).toBeGreaterThanOrEqual(from_earlier.getTime());
          // Buying more days never gives an earlier expiry either.
          expect(extendValidity({ now, expires_at: earlier, days: days + 1, tz }).getTime()).toBeGreaterThan(
            from_earlier.getTime(),
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});
