import { describe, it, expect } from 'vitest';
import { assertTimeZone, isValidTimeZone } from './time-zone.js';
import { InvalidTimeZoneError } from './calendar-errors.js';

describe('time zones', () => {
  it.each(['Asia/Dhaka', 'America/New_York', 'Europe/London', 'Australia/Lord_Howe', 'America/Santiago', 'UTC'])(
    'accepts the IANA name %s',
    (tz) => {
      expect(isValidTimeZone(tz)).toBe(true);
      expect(() => assertTimeZone(tz)).not.toThrow();
    },
  );

  it('accepts every zone the runtime lists', () => {
    for (const tz of Intl.supportedValuesOf('timeZone')) expect(isValidTimeZone(tz)).toBe(true);
  });

  it.each([
    ['+06:00', /not an IANA time zone name/],
    ['-05', /not an IANA time zone name/],
    ['asia/dhaka', /"Asia\/Dhaka"/],
    ['Asia/Nowhere', /not a known IANA time zone/],
    ['Dhaka', /not a known IANA time zone/],
    ['', /IANA name/],
    ['A'.repeat(65), /IANA name/],
  ])('rejects %j with INVALID_TIME_ZONE', (tz, message) => {
    expect(isValidTimeZone(tz)).toBe(false);
    expect(() => assertTimeZone(tz)).toThrow(InvalidTimeZoneError);
    expect(() => assertTimeZone(tz)).toThrow(message);
    try {
      assertTimeZone(tz);
    } catch (error) {
      expect((error as InvalidTimeZoneError).code).toBe('INVALID_TIME_ZONE');
    }
  });

  it('rejects values that are not strings', () => {
    expect(isValidTimeZone(undefined)).toBe(false);
    expect(isValidTimeZone(6)).toBe(false);
  });
});
