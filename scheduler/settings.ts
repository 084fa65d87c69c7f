import { Temporal } from 'temporal-polyfill';
import type { NotificationChannel, NotificationLanguage } from '../domain/customers/customer.js';
import type { LocalDate } from '../domain/calendar/local-date.js';
import { DEFAULT_SAFETY_POLICY, type SafetyPolicy } from '../domain/scheduler/safety-stop.js';
import { JOB_KINDS, type JobKind } from '../domain/scheduler/scheduler-run.js';

/**
 * What the scheduler does when, per ISP, in the ISP's zone. Every expiry falls on a local midnight
 * (domain/calendar/validity.ts) and bills are issued on a local date, so the day's jobs run as soon as the local
 * day starts: a customer whose validity ended at 00:00 is cut off within a tick, not at the next login.
 * Reminders wait for a civil hour.
 */
export type SchedulerSettings = Readonly<{
  /** The jobs this deployment runs (all by default), in the order a tick takes them. */
  jobs: readonly JobKind[];
  /** Local time ("HH:MM") each job may start on its day. */
  runs_at: Readonly<Record<JobKind, string>>;
  reminder_days_before_due: number;
  reminder_days_before_expiry: number;
  policy: SafetyPolicy;
  default_language: NotificationLanguage;
  default_channels: readonly NotificationChannel[];
  /** Subjects per command batch (one transaction, one idempotency key); at most 100, the streams one append may take. */
  batch_size: number;
  /** Batches applied at once. */
  concurrency: number;
  /** How long a tick waits for the read models to reach the log's head before it plans anything. */
  read_model_wait_ms: number;
  /** A plan larger than this is refused outright (a bug or a runaway import, not a day's work). */
  max_items_per_run: number;
}>;

export const DEFAULT_SCHEDULER_SETTINGS: SchedulerSettings = {
  jobs: JOB_KINDS,
  runs_at: { 'bill-run': '00:00', 'grace-locks': '00:00', 'expiry-sweep': '00:00', 'card-expiry': '00:00', reminders: '09:00' },
  reminder_days_before_due: 3,
  reminder_days_before_expiry: 2,
  policy: DEFAULT_SAFETY_POLICY,
  default_language: 'en',
  default_channels: ['sms'],
  batch_size: 100,
  concurrency: 4,
  read_model_wait_ms: 15_000,
  max_items_per_run: 5_000_000,
};

/** The instant a local date's wall clock shows `hh_mm` in `tz` (a time skipped by a DST jump moves forward). */
export function instantAt(date: LocalDate, hh_mm: string, tz: string): Date {
  const zoned = Temporal.PlainDate.from(date).toZonedDateTime({ timeZone: tz, plainTime: Temporal.PlainTime.from(hh_mm) });
  return new Date(zoned.epochMilliseconds);
}

export const isLocalTime = (text: string): boolean => /^([01]\d|2[0-3]):[0-5]\d$/.test(text);
