import type { LocalDate } from '../calendar/local-date.js';
import type { CommandContext } from '../shared/command-context.js';
import { accept, refuse, type Decision, type DomainEvent } from '../shared/decider.js';
import { rejection } from '../shared/rejection.js';
import type { HoldReason } from './safety-stop.js';

/**
 * A scheduler run: one job for one ISP on one local day, in its stream `scheduler-run-<run_id>`. Its id is
 * derived from the ISP, the job and the local date (`<isp>.<job>.<yyyy-mm-dd>`), so a restarted scheduler finds
 * the run it was doing instead of starting another, and a job can run at most once per ISP and day. The run
 * first records its plan (a dry run: who would be billed, locked, expired, notified); a plan whose counts are
 * abnormal is held until an operator confirms or cancels it; a run that applied its plan records the outcome.
 */
export const JOB_KINDS = ['bill-run', 'grace-locks', 'expiry-sweep', 'card-expiry', 'reminders'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

/** What a plan would do, one kind of action per job (reminders notify only). */
export const ACTIONS = ['bill', 'lock', 'expire', 'expire-cards', 'remind-bill-due', 'remind-expiry'] as const;
export type Action = (typeof ACTIONS)[number];

export const ACTION_OF_JOB: Readonly<Record<JobKind, readonly Action[]>> = {
  'bill-run': ['bill'],
  'grace-locks': ['lock'],
  'expiry-sweep': ['expire'],
  'card-expiry': ['expire-cards'],
  reminders: ['remind-bill-due', 'remind-expiry'],
};

/** At most this many subject ids per action travel in the plan event, for people to look at; the rest are counted. */
export const PLAN_SAMPLE_SIZE = 20;

export type PlanSummary = Readonly<{
  counts: Readonly<Partial<Record<Action, number>>>;
  samples: Readonly<Partial<Record<Action, readonly string[]>>>;
  /** Money the plan moves (bills), as decimal strings in the ISP's currency. */
  amounts: Readonly<Partial<Record<Action, string>>>;
  /** Customers of the ISP that could be locked or billed (not disabled): the safety stop's denominator. */
  population: number;
}>;

export type RunStatus = 'none' | 'planned' | 'held' | 'confirmed' | 'cancelled' | 'completed';

export type ActionOutcome = Readonly<{ applied: number; unchanged: number; refused: number }>;

export type SchedulerRunEvent =
  | DomainEvent<
      'scheduler-run-planned',
      PlanSummary & {
        run_id: string;
        tenant: string;
        job: JobKind;
        local_date: LocalDate;
        time_zone: string;
        /** The instant the plan was computed at: what "validity ended" and "overdue" were judged against. */
        planned_at: string;
        /** The day after the previous run of this job (null for the first): a gap means days without a run. */
        previous_local_date: LocalDate | null;
        started_by: string;
      }
    >
  | DomainEvent<'scheduler-run-held', { run_id: string; reasons: readonly HoldReason[] }>
  | DomainEvent<'scheduler-run-confirmed', { run_id: string; by: string; note: string }>
  | DomainEvent<'scheduler-run-cancelled', { run_id: string; by: string; reason: string }>
  | DomainEvent<'scheduler-run-completed', { run_id: string; outcome: Readonly<Partial<Record<Action, ActionOutcome>>>; completed_at: string; refused_samples: readonly Readonly<{ subject: string; code: string }>[] }>;

export type SchedulerRunState = Readonly<{
  status: RunStatus;
  run_id: string;
  tenant: string;
  job: JobKind | null;
  local_date: LocalDate;
  planned_at: string | null;
  summary: PlanSummary | null;
  hold_reasons: readonly HoldReason[];
  /** Set when an operator confirmed a held run (or cancelled it). */
  decided_by: string | null;
}>;

export const initialSchedulerRunState = (): SchedulerRunState => ({
  status: 'none',
  run_id: '',
  tenant: '',
  job: null,
  local_date: '',
  planned_at: null,
  summary: null,
  hold_reasons: [],
  decided_by: null,
});

export function evolveSchedulerRun(state: SchedulerRunState, event: SchedulerRunEvent): SchedulerRunState {
  switch (event.type) {
    case 'scheduler-run-planned': {
      const d = event.data;
      return {
        ...initialSchedulerRunState(),
        status: 'planned',
        run_id: d.run_id,
        tenant: d.tenant,
        job: d.job,
        local_date: d.local_date,
        planned_at: d.planned_at,
        summary: { counts: d.counts, samples: d.samples, amounts: d.amounts, population: d.population },
      };
    }
    case 'scheduler-run-held':
      return { ...state, status: 'held', hold_reasons: event.data.reasons };
    case 'scheduler-run-confirmed':
      return { ...state, status: 'confirmed', decided_by: event.data.by };
    case 'scheduler-run-cancelled':
      return { ...state, status: 'cancelled', decided_by: event.data.by };
    case 'scheduler-run-completed':
      return { ...state, status: 'completed' };
  }
}

/** `<isp>.<job>.<yyyy-mm-dd>`: ids never contain ':' (DESIGN §4), so this is safe in a stream name. */
export const runIdOf = (tenant: string, job: JobKind, local_date: LocalDate): string => `${tenant}.${job}.${local_date}`;

export type PlanRun = Readonly<{
  run_id: string;
  job: JobKind;
  local_date: LocalDate;
  time_zone: string;
  previous_local_date: LocalDate | null;
  summary: PlanSummary;
  /** From the safety stop (safety-stop.ts): empty when the plan looks normal. */
  hold_reasons: readonly HoldReason[];
}>;

/** A run is planned once; planning again (a restart) changes nothing. An abnormal plan is held at once. */
export function decidePlanRun(state: SchedulerRunState, command: PlanRun, context: CommandContext): Decision<SchedulerRunEvent> {
  if (state.status !== 'none') return accept();
  if (command.run_id !== runIdOf(context.tenant, command.job, command.local_date)) return refuse(rejection('INVALID_INPUT', `run id ${command.run_id} does not name ${command.job} on ${command.local_date}`));
  const planned: SchedulerRunEvent = {
    type: 'scheduler-run-planned',
    data: {
      run_id: command.run_id,
      tenant: context.tenant,
      job: command.job,
      local_date: command.local_date,
      time_zone: command.time_zone,
      planned_at: context.now.toISOString(),
      previous_local_date: command.previous_local_date,
      started_by: `${context.actor.role}:${context.actor.id}`,
      ...command.summary,
    },
  };
  if (command.hold_reasons.length === 0) return accept(planned);
  return accept<SchedulerRunEvent>(planned, { type: 'scheduler-run-held', data: { run_id: command.run_id, reasons: command.hold_reasons } });
}

/** Rules, in order: the run exists; it was not cancelled; it is held (a run already confirmed or done is a repeat). */
export function decideConfirmRun(state: SchedulerRunState, note: string, context: CommandContext): Decision<SchedulerRunEvent> {
  if (state.status === 'none' || state.tenant !== context.tenant) return refuse(rejection('SCHEDULER_RUN_NOT_FOUND', 'no such scheduler run in this ISP'));
  if (state.status === 'cancelled') return refuse(rejection('SCHEDULER_RUN_CANCELLED', `run ${state.run_id} was cancelled by ${state.decided_by ?? 'someone'}; the next day's run plans afresh`));
  if (state.status === 'confirmed' || state.status === 'completed') return accept();
  if (state.status !== 'held') return refuse(rejection('SCHEDULER_RUN_NOT_HELD', `run ${state.run_id} is not held; it runs without confirmation`));
  return accept({ type: 'scheduler-run-confirmed', data: { run_id: state.run_id, by: context.actor.id, note: note.trim() } });
}

/** Rules, in order: the run exists; it has not completed; a reason is given. Cancelling twice is a repeat. */
export function decideCancelRun(state: SchedulerRunState, reason: string, context: CommandContext): Decision<SchedulerRunEvent> {
  if (state.status === 'none' || state.tenant !== context.tenant) return refuse(rejection('SCHEDULER_RUN_NOT_FOUND', 'no such scheduler run in this ISP'));
  if (state.status === 'completed') return refuse(rejection('SCHEDULER_RUN_COMPLETED', `run ${state.run_id} has already been applied`));
  if (state.status === 'cancelled') return accept();
  if (reason.trim() === '') return refuse(rejection('INVALID_INPUT', 'say why the run is cancelled; it stays in the run history'));
  return accept({ type: 'scheduler-run-cancelled', data: { run_id: state.run_id, by: context.actor.id, reason: reason.trim() } });
}

/** Only a run that may apply (planned and not held, or confirmed) completes; completing twice is a repeat. */
export function decideCompleteRun(
  state: SchedulerRunState,
  outcome: Readonly<{ outcome: Readonly<Partial<Record<Action, ActionOutcome>>>; refused_samples: readonly Readonly<{ subject: string; code: string }>[] }>,
  context: CommandContext,
): Decision<SchedulerRunEvent> {
  if (state.status === 'none' || state.tenant !== context.tenant) return refuse(rejection('SCHEDULER_RUN_NOT_FOUND', 'no such scheduler run in this ISP'));
  if (state.status === 'completed') return accept();
  if (state.status === 'held') return refuse(rejection('SCHEDULER_RUN_HELD', `run ${state.run_id} is held until an operator confirms it`));
  if (state.status === 'cancelled') return refuse(rejection('SCHEDULER_RUN_CANCELLED', `run ${state.run_id} was cancelled`));
  return accept({ type: 'scheduler-run-completed', data: { run_id: state.run_id, outcome: outcome.outcome, completed_at: context.now.toISOString(), refused_samples: outcome.refused_samples.slice(0, PLAN_SAMPLE_SIZE) } });
}

/** Whether the scheduler may apply the run's plan now. */
export const mayApply = (state: SchedulerRunState): boolean => state.status === 'planned' || state.status === 'confirmed';
