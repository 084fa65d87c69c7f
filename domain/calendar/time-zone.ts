import { Temporal } from 'temporal-polyfill';
import { InvalidTimeZoneError } from './calendar-errors.js';

/** An IANA time zone name exactly as the tz database spells it: "Asia/Dhaka", "America/New_York", "UTC". */
export type TimeZone = string;

const TIME_ZONE_MAX_LENGTH = 64;

/**
 * Names already found valid. The set of IANA names is finite (a few hundred), and only valid names are
 * stored, so the cache cannot grow without bound whatever callers pass in.
 */
const known_valid_time_zones = new Set<string>();

/**
 * True for IANA names only. Offsets ("+06:00") are refused because they have no daylight-saving rules and
 * silently drift from the ISP's real local time; names in the wrong case ("asia/dhaka") are refused so events
 * and settings carry one spelling.
 */
export function isValidTimeZone(tz: unknown): tz is TimeZone {
  return problemWithTimeZone(tz) === null;
}

export function assertTimeZone(tz: unknown): asserts tz is TimeZone {
  const problem = problemWithTimeZone(tz);
  if (problem !== null) throw new InvalidTimeZoneError(problem);
}

function problemWithTimeZone(tz: unknown): string | null {
  if (typeof tz === 'string' && known_valid_time_zones.has(tz)) return null;
  if (typeof tz !== 'string' || tz.length === 0 || tz.length > TIME_ZONE_MAX_LENGTH) {
    return `A time zone must be an IANA name such as "Asia/Dhaka" (at most ${TIME_ZONE_MAX_LENGTH} characters).`;
  }
  // Every IANA name starts with a letter; offsets and other forms Temporal also accepts do not.
  if (!/^[A-Za-z]/.test(tz)) {
    return (
      `${JSON.stringify(tz)} is not an IANA time zone name. Use the name of the ISP's region, such as ` +
      `"Asia/Dhaka", not a UTC offset, so daylight-saving changes are followed.`
    );
  }
  let canonical_spelling: string;
  try {
    canonical_spelling = Temporal.Instant.fromEpochMilliseconds(0).toZonedDateTimeISO(tz).timeZoneId;
  } catch {
    return `${JSON.stringify(tz)} is not a known IANA time zone name; use one such as "Asia/Dhaka" or "Europe/London".`;
  }
  if (canonical_spelling !== tz) {
    return (
      `Time zone ${JSON.stringify(tz)} must be spelled as in the IANA database: ` +
      `${JSON.stringify(canonical_spelling)}.`
    );
  }
  known_valid_time_zones.add(tz);
  return null;
}
