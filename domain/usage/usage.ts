import { billingPeriodFor } from '../calendar/billing-period.js';
import { localDateOf } from '../calendar/local-date.js';
import { monthlyUsagePeriod } from '../billing/monthly-bill-run.js';
import type { CustomerEvent, CustomerState } from '../customers/customer.js';
import type { PackageState } from '../packages/package.js';
import type { CommandContext } from '../shared/command-context.js';
import type { DomainEvent } from '../shared/decider.js';
import { rejection, type Rejection } from '../shared/rejection.js';

/**
 * Data usage, one stream per customer (`usage-<customer_id>`): every finished RADIUS session becomes one
 * `usage-recorded` event (interim updates never do), counted toward the customer's current usage period.
 * Usage lives beside the customer stream, not in it: a hotspot customer has several sessions a day, and the
 * customer stream is folded for every payment. When a session brings the period's usage to the package's
 * quota, the same append puts `data-quota-reached` and `customer-expired` on the customer stream, so RADIUS and
 * the routers cut the customer off at once.
 *
 * The usage period is the one the session stopped in: a daily customer's current validity (it changes with
 * every recharge or expiry set by staff, which renews the quota), a monthly customer's billing period.
 */
export type UsageEvent = DomainEvent<
  'usage-recorded',
  {
    customer_id: string;
    /** The RADIUS session's unique id (FreeRADIUS `acctuniqueid`): a session is counted once. */
    session_id: string;
    /** Octets as decimal strings: a month of traffic does not fit a JS number exactly. */
    input_octets: string;
    output_octets: string;
    started_at: string;
    stopped_at: string;
    /** The period this session counts toward, and that period's total after it (both decided by the command). */
    usage_period: string;
    period_octets: string;
  }
>;

/** Sessions remembered per stream to recognise a repeated Stop without its idempotency key. */
export const RECENT_SESSIONS_KEPT = 200;
/** 2^63 − 1: what RADIUS Gigawords and radacct's bigint can hold. */
const MAX_OCTETS = 9_223_372_036_854_775_807n;
const MAX_SESSION_ID_LENGTH = 128;
/** A session reported as stopping later than this after the command's time comes from a router with a wrong clock. */
const MAX_CLOCK_SKEW_MS = 10 * 60_000;
/** Quotas are in MB of 2^20 octets, the unit MikroTik and most ISP panels show. */
export const OCTETS_PER_MB = 1_048_576n;

export type UsageState = Readonly<{
  customer_id: string;
  usage_period: string | null;
  period_octets: string;
  total_octets: string;
  sessions: number;
  recent_sessions: readonly string[];
}>;

export const initialUsageState = (): UsageState => ({ customer_id: '', usage_period: null, period_octets: '0', total_octets: '0', sessions: 0, recent_sessions: [] });

export function evolveUsage(state: UsageState, event: UsageEvent | DomainEvent): UsageState {
  // Other writers may share the stream (radius-bridge's session-ended events); only usage-recorded counts.
  if (event.type !== 'usage-recorded') return state;
  const d = (event as UsageEvent).data;
  const octets = BigInt(d.input_octets) + BigInt(d.output_octets);
  return {
    customer_id: d.customer_id,
    usage_period: d.usage_period,
    period_octets: d.period_octets,
    total_octets: (BigInt(state.total_octets) + octets).toString(),
    sessions: state.sessions + 1,
    recent_sessions: [...state.recent_sessions, d.session_id].slice(-RECENT_SESSIONS_KEPT),
  };
}

export type RecordUsage = Readonly<{
  customer_id: string;
  session_id: string;
  input_octets: string;
  output_octets: string;
  started_at: string;
  stopped_at: string;
}>;

export type UsageDecision =
  | Readonly<{ ok: true; usage: readonly UsageEvent[]; customer: readonly CustomerEvent[] }>
  | Readonly<{ ok: false; rejection: Rejection }>;

/** The usage period a session that stopped at `stopped_at` counts toward. */
export function usagePeriodOf(customer: CustomerState, stopped_at: Date): string {
  if (customer.profile.kind === 'monthly') {
    return monthlyUsagePeriod(billingPeriodFor(localDateOf(stopped_at, customer.time_zone), customer.profile.due_day).period);
  }
  return `validity:${customer.expires_at ?? 'none'}`;
}

/**
 * Rules, in order: the customer exists; the figures are well formed (octets whole and within 2^63, times ISO
 * instants with start ≤ stop, stop not in the future); a session already counted changes nothing. Then the
 * session is counted, and when the period's usage reaches the quota of the customer's package (and the customer
 * is not already cut off), the customer is expired with the quota as the reason.
 */
export function decideRecordUsage(usage: UsageState, customer: CustomerState, pkg: PackageState, command: RecordUsage, context: CommandContext): UsageDecision {
  const refuse = (problem: Rejection): UsageDecision => ({ ok: false, rejection: problem });
  if (!customer.exists) return refuse(rejection('CUSTOMER_NOT_FOUND', 'no such customer'));
  if (command.session_id.trim() === '' || command.session_id.length > MAX_SESSION_ID_LENGTH) {
    return refuse(rejection('INVALID_INPUT', `session_id must be 1–${MAX_SESSION_ID_LENGTH} characters`));
  }
  const input = octetsOf(command.input_octets);
  const output = octetsOf(command.output_octets);
  if (input === null || output === null) return refuse(rejection('INVALID_INPUT', `octets must be whole numbers from 0 to ${MAX_OCTETS}, written as decimal strings`));
  const started = instantOf(command.started_at);
  const stopped = instantOf(command.stopped_at);
  if (started === null || stopped === null) return refuse(rejection('INVALID_INPUT', 'started_at and stopped_at must be ISO instants with a zone, e.g. 2026-11-20T10:00:00Z'));
  if (started.getTime() > stopped.getTime()) return refuse(rejection('INVALID_INPUT', 'a session cannot stop before it started'));
  if (stopped.getTime() > context.now.getTime() + MAX_CLOCK_SKEW_MS) return refuse(rejection('INVALID_INPUT', `stopped_at ${command.stopped_at} is in the future; check the router's clock`));
  if (usage.recent_sessions.includes(command.session_id)) return { ok: true, usage: [], customer: [] };

  const usage_period = usagePeriodOf(customer, stopped);
  const before = usage.usage_period === usage_period ? BigInt(usage.period_octets) : 0n;
  const period_octets = before + input + output;
  const recorded: UsageEvent = {
    type: 'usage-recorded',
    data: {
      customer_id: customer.customer_id,
      session_id: command.session_id,
      input_octets: input.toString(),
      output_octets: output.toString(),
      started_at: started.toISOString(),
      stopped_at: stopped.toISOString(),
      usage_period,
      period_octets: period_octets.toString(),
    },
  };
  const quota_mb = pkg.exists && pkg.package_id === customer.package_id ? (pkg.spec?.data_quota_mb ?? null) : null;
  const reached = quota_mb !== null && period_octets >= BigInt(quota_mb) * OCTETS_PER_MB;
  // A customer already cut off (expired, locked, or out of quota this period) needs no second lock.
  if (!reached || customer.expired || customer.quota_locked_period === usage_period) return { ok: true, usage: [recorded], customer: [] };
  return {
    ok: true,
    usage: [recorded],
    customer: [
      { type: 'data-quota-reached', data: { customer_id: customer.customer_id, package_id: customer.package_id, quota_mb: quota_mb!, used_octets: period_octets.toString(), usage_period } },
      { type: 'customer-expired', data: { customer_id: customer.customer_id, expired_at: context.now.toISOString() } },
    ],
  };
}

function octetsOf(text: string): bigint | null {
  if (typeof text !== 'string' || !/^\d{1,19}$/.test(text)) return null;
  const value = BigInt(text);
  return value <= MAX_OCTETS ? value : null;
}

function instantOf(text: string): Date | null {
  if (typeof text !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/.test(text)) return null;
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? null : date;
}
