import type pg from 'pg';
import type { CommandEnvelope, CommandResult, CommandRuntime } from '../commands/command-runtime.js';
import { cancelRun, confirmRun, loadRun, type RunStatusValue } from '../commands/scheduler-commands.js';
import { localDateOf, isLocalDate, type LocalDate } from '../domain/calendar/local-date.js';
import { assessPlan, type HoldReason } from '../domain/scheduler/safety-stop.js';
import { JOB_KINDS, runIdOf, type JobKind, type PlanSummary, type SchedulerRunState } from '../domain/scheduler/scheduler-run.js';
import { rejection, type Rejection } from '../domain/shared/rejection.js';
import { listIsps, planJob } from './planners.js';
import { earlierRuns, openRuns, recentRuns, setRunIndexStatus, type RunIndexRow } from './run-store.js';
import type { SchedulerSettings } from './settings.js';

/**
 * What the API, the panel and the CLI call: preview a job's plan without writing anything, list runs, and
 * confirm or cancel a held run. Confirming or cancelling is an event on the run's stream, by the person who did
 * it; the scheduler applies a confirmed run at its next tick.
 */
export type PreviewDeps = Readonly<{ pool: pg.Pool; runtime: CommandRuntime; settings: SchedulerSettings }>;

export type Preview = Readonly<{
  run_id: string;
  tenant: string;
  job: JobKind;
  local_date: LocalDate;
  /** The run as recorded, if it has been planned already: its status and, when held, why. */
  recorded: Readonly<{ status: SchedulerRunState['status']; summary: PlanSummary | null; hold_reasons: readonly HoldReason[] }> | null;
  /** What the job would do if planned now. */
  plan: PlanSummary;
  would_hold: readonly HoldReason[];
}>;

/** A dry run of `job` (or every job) for an ISP on a local date (default: today in the ISP's zone). */
export async function previewJobs(deps: PreviewDeps, input: Readonly<{ tenant: string; job?: JobKind; local_date?: LocalDate }>): Promise<readonly Preview[] | Rejection> {
  const [isp] = await listIsps(deps.pool, input.tenant);
  if (isp === undefined) return rejection('ISP_NOT_FOUND', `no ISP ${input.tenant}`);
  if (input.job !== undefined && !JOB_KINDS.includes(input.job)) return rejection('INVALID_INPUT', `job must be one of ${JOB_KINDS.join(', ')}`);
  if (input.local_date !== undefined && !isLocalDate(input.local_date)) return rejection('INVALID_INPUT', `${input.local_date} is not a date (YYYY-MM-DD)`);
  const now = deps.runtime.clock.now();
  const local_date = input.local_date ?? localDateOf(now, isp.time_zone);
  const previews: Preview[] = [];
  for (const job of input.job === undefined ? JOB_KINDS : [input.job]) {
    const plan = await planJob(deps, isp, job, local_date, now);
    const history = await earlierRuns(deps.pool, isp.tenant, job, local_date, deps.settings.policy.history_runs);
    const would_hold = assessPlan(
      { counts: plan.summary.counts, population: plan.summary.population, local_date, previous_local_date: history[0]?.local_date ?? null, history: history.filter((run) => run.status === 'completed').map((run) => run.counts) },
      deps.settings.policy,
    );
    const run_id = runIdOf(isp.tenant, job, local_date);
    const recorded = (await loadRun(deps.runtime, run_id)).state;
    previews.push({
      run_id,
      tenant: isp.tenant,
      job,
      local_date,
      recorded: recorded.status === 'none' ? null : { status: recorded.status, summary: recorded.summary, hold_reasons: recorded.hold_reasons },
      plan: plan.summary,
      would_hold,
    });
  }
  return previews;
}

export async function listRuns(pool: pg.Pool, tenant: string, options: Readonly<{ open_only?: boolean; limit?: number }> = {}): Promise<RunIndexRow[]> {
  return options.open_only === true ? openRuns(pool, tenant) : recentRuns(pool, tenant, options.limit ?? 50);
}

export async function confirmHeldRun(pool: pg.Pool, runtime: CommandRuntime, envelope: CommandEnvelope, command: { run_id: string; note: string }): Promise<CommandResult<RunStatusValue>> {
  const result = await confirmRun(runtime, envelope, command);
  if (result.ok) await setRunIndexStatus(pool, command.run_id, result.value.status as 'confirmed', runtime.clock.now());
  return result;
}

export async function cancelHeldRun(pool: pg.Pool, runtime: CommandRuntime, envelope: CommandEnvelope, command: { run_id: string; reason: string }): Promise<CommandResult<RunStatusValue>> {
  const result = await cancelRun(runtime, envelope, command);
  if (result.ok) await setRunIndexStatus(pool, command.run_id, result.value.status as 'cancelled', runtime.clock.now());
  return result;
}
