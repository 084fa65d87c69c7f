import { daysBetween, type LocalDate } from '../calendar/local-date.js';
import type { Action } from './scheduler-run.js';

/**
 * The safety stop: a plan whose counts look wrong is held for a person instead of applied. A clock that jumped
 * ahead, a bad import that blanked expiry dates, or a package price typo make a run that would lock half the
 * ISP or bill ten times the usual; applying that and cleaning up afterwards (reactivations, refunds, angry
 * calls) costs far more than asking first.
 *
 * Rules, each independent (every rule that fires is a reason):
 * - `share-of-customers`: an action that cuts customers off (lock, expire) would touch more than
 *   `max_share_percent` of the ISP's customers, and at least `min_count` of them;
 * - `above-recent-runs`: an action's count is at least `min_count` and more than `ratio` times the largest count
 *   of the same action in the recent runs of the job (the largest, not the median: bills come on one day a
 *   month, expiries bunch at month ends, and those spikes are normal); not used while no recent run did it;
 * - `gap-since-last-run`: the previous run of the job is more than `max_gap_days` local days back (an outage or
 *   a clock jump; the run would do many days' work at once).
 */
export type SafetyPolicy = Readonly<{
  min_count: number;
  ratio: number;
  max_share_percent: number;
  max_gap_days: number;
  /** How many earlier runs of a job are compared with. */
  history_runs: number;
}>;

export const DEFAULT_SAFETY_POLICY: SafetyPolicy = { min_count: 20, ratio: 3, max_share_percent: 20, max_gap_days: 3, history_runs: 35 };

export type HoldReason = Readonly<{
  rule: 'share-of-customers' | 'above-recent-runs' | 'gap-since-last-run';
  action: Action | null;
  count: number;
  /** What the count was compared with: the population share, the largest recent count, or the allowed gap. */
  limit: number;
  message: string;
}>;

/** Actions that cut customers off: the ones a wrong clock or a bad import turns into an outage. */
const CUTTING_OFF: ReadonlySet<Action> = new Set(['lock', 'expire']);

export type PlanFacts = Readonly<{
  counts: Readonly<Partial<Record<Action, number>>>;
  population: number;
  local_date: LocalDate;
  previous_local_date: LocalDate | null;
  /** The same job's earlier runs, newest first: their planned counts. */
  history: readonly Readonly<Partial<Record<Action, number>>>[];
}>;

export function assessPlan(facts: PlanFacts, policy: SafetyPolicy = DEFAULT_SAFETY_POLICY): HoldReason[] {
  const reasons: HoldReason[] = [];
  const recent = facts.history.slice(0, policy.history_runs);
  for (const [action, count] of Object.entries(facts.counts) as [Action, number][]) {
    if (count < policy.min_count) continue;
    if (CUTTING_OFF.has(action)) {
      const limit = Math.floor((facts.population * policy.max_share_percent) / 100);
      if (count > limit) {
        reasons.push({
          rule: 'share-of-customers',
          action,
          count,
          limit,
          message: `${action}: ${count} of ${facts.population} customers is more than ${policy.max_share_percent} %`,
        });
      }
    }
    const largest = recent.length === 0 ? 0 : Math.max(...recent.map((run) => run[action] ?? 0));
    // No recent run did this at all (a young deployment, the first bill day of a new ISP): there is no baseline to
    // compare with, and cut-offs are still bounded by the share of customers above.
    if (largest > 0) {
      const limit = policy.ratio * Math.max(largest, policy.min_count);
      if (count > limit) {
        reasons.push({
          rule: 'above-recent-runs',
          action,
          count,
          limit,
          message: `${action}: ${count} is more than ${policy.ratio} × the largest of the last ${recent.length} runs (${largest})`,
        });
      }
    }
  }
  if (facts.previous_local_date !== null) {
    const gap = daysBetween(facts.previous_local_date, facts.local_date);
    if (gap > policy.max_gap_days) {
      reasons.push({
        rule: 'gap-since-last-run',
        action: null,
        count: gap,
        limit: policy.max_gap_days,
        message: `the previous run was on ${facts.previous_local_date}, ${gap} days ago: an outage or a clock jump`,
      });
    }
  }
  return reasons;
}
