/**
 * The errors the calendar module throws, each with a stable `code` for the API layer and a message that says
 * what was wrong and what to do. They signal input that should have been validated at the edge (zod schemas,
 * operator settings) or a bug in the caller, so they are thrown rather than returned.
 */

/** Not an IANA time zone name such as "Asia/Dhaka". */
export class InvalidTimeZoneError extends Error {
  override readonly name = 'InvalidTimeZoneError';
  readonly code = 'INVALID_TIME_ZONE' as const;
}

/** Not a real calendar date written as "YYYY-MM-DD" (or a "YYYY-MM" period key that is not a real month). */
export class InvalidLocalDateError extends Error {
  override readonly name = 'InvalidLocalDateError';
  readonly code = 'INVALID_LOCAL_DATE' as const;
}

/** Not a valid JavaScript Date (for example `new Date('garbage')`). */
export class InvalidInstantError extends Error {
  override readonly name = 'InvalidInstantError';
  readonly code = 'INVALID_INSTANT' as const;
}

/** A billing due day outside 1–31. */
export class InvalidDueDayError extends Error {
  override readonly name = 'InvalidDueDayError';
  readonly code = 'INVALID_DUE_DAY' as const;
}

/** A number of days that is not a whole number in the allowed range. */
export class InvalidDayCountError extends Error {
  override readonly name = 'InvalidDayCountError';
  readonly code = 'INVALID_DAY_COUNT' as const;
}
