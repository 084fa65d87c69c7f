import { InvalidDayCountError, InvalidInstantError } from './calendar-errors.js';
import { addDays, localDateOf, startOfLocalDay } from './local-date.js';
import type { TimeZone } from './time-zone.js';

/** Ten years of validity in one recharge is more than any package sells; more is a typo or a bug. */
export const VALIDITY_MAX_DAYS = 3660;

export interface ExtendValidityInput {
  /** When the recharge happens, from the command's metadata (the domain never reads the clock). */
  readonly now: Date;
  /** The current expiry, or null for a customer who has never had validity. */
  readonly expires_at: Date | null;
  /** Days of validity bought, 1 to VALIDITY_MAX_DAYS. */
  readonly days: number;
  /** The ISP's IANA time zone; expiries fall on its local midnights. */
  readonly tz: TimeZone;
}

/**
 * The new expiry after a recharge of `days` days.
 *
 * Validity runs on from the later of `now` and the current expiry (the base), so recharging early never
 * wastes days and recharging after expiry does not charge for the lapsed time. Expiries always fall on a
 * local midnight (the first instant of a local day), so a customer's service ends at the same wall-clock
 * moment whatever time they paid:
 * - if the base is itself a local midnight, the new expiry is exactly `days` local days later;
 * - otherwise the base is first rounded up to the next local midnight (the end of the base day) and `days`
 *   local days are added from there, so a payment never loses a paid day: the customer gets at least `days`
 *   whole local days after the base, plus the rest of the day they paid on.
 *
 * "Local days" are calendar days in `tz`, so a day with a daylight-saving change counts as one day even
 * though it lasts 23 or 25 hours.
 */
export function extendValidity({ now, expires_at, days, tz }: ExtendValidityInput): Date {
  if (!Number.isInteger(days) || days < 1 || days > VALIDITY_MAX_DAYS) {
    throw new InvalidDayCountError(
      `A recharge must add a whole number of days from 1 to ${VALIDITY_MAX_DAYS}, got ${String(days)}; ` +
        `check the package's validity days.`,
    );
  }
  assertValidDate(now, 'now');
  if (expires_at !== null) assertValidDate(expires_at, 'expires_at');
  const base = expires_at !== null && expires_at.getTime() > now.getTime() ? expires_at : now;
  return startOfLocalDay(addDays(firstLocalDayStartingAtOrAfter(base, tz), days), tz);
}

/**
 * The first local date whose first instant is at or after `instant`. Normally that is the instant's own date
 * when it is a local midnight and the next date otherwise; the loop also covers zones whose clocks fall back
 * across midnight, where an instant's local date can be a day that has already started once before.
 */
function firstLocalDayStartingAtOrAfter(instant: Date, tz: TimeZone): string {
  let date = localDateOf(instant, tz);
  // Day starts are strictly increasing, so a couple of steps always reach the first one at or after the
  // instant; the bound turns a broken time zone database into a loud error instead of a hang.
  for (let step = 0; step < 4; step += 1) {
    if (startOfLocalDay(date, tz).getTime() >= instant.getTime()) return date;
    date = addDays(date, 1);
  }
  throw new Error(`No local day in ${tz} starts within four days after ${instant.toISOString()}; this is a bug.`);
}

function assertValidDate(value: unknown, name: string): void {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw new InvalidInstantError(`${name} must be a valid Date; it comes from the command's metadata.`);
  }
}
