export { assertTimeZone, isValidTimeZone } from './time-zone.js';
export type { TimeZone } from './time-zone.js';
export {
  addDays,
  assertLocalDate,
  assertYearMonth,
  daysBetween,
  daysInMonth,
  formatYearMonth,
  isLeapYear,
  isLocalDate,
  isLocalMidnight,
  localDateOf,
  startOfLocalDay,
} from './local-date.js';
export type { LocalDate } from './local-date.js';
export { billingDayIn, billingPeriodFor, billingPeriodOf } from './billing-period.js';
export type { BillingPeriod, YearMonth } from './billing-period.js';
export { VALIDITY_MAX_DAYS, extendValidity } from './validity.js';
export type { ExtendValidityInput } from './validity.js';
export { PRORATION_MAX_PERIOD_DAYS, prorateByDays, prorateForPackageChange } from './proration.js';
export type { PackageChangeInput, PackageChangeProration, ProrateByDaysInput } from './proration.js';
export {
  InvalidDayCountError,
  InvalidDueDayError,
  InvalidInstantError,
  InvalidLocalDateError,
  InvalidTimeZoneError,
} from './calendar-errors.js';
