import { decideExpireBatch } from '../domain/cards/card-batch.js';
import type { LocalDate } from '../domain/calendar/local-date.js';
import {
  decideCancelRun,
  decideCompleteRun,
  decideConfirmRun,
  decidePlanRun,
  evolveSchedulerRun,
  initialSchedulerRunState,
  type Action,
  type ActionOutcome,
  type PlanRun,
  type SchedulerRunEvent,
  type SchedulerRunState,
} from '../domain/scheduler/scheduler-run.js';
import type { Decision } from '../domain/shared/decider.js';
import { CardBatchAggregate } from './aggregates.js';
import { CommandRuntime, refusePlan, type AggregateType, type CommandEnvelope, type CommandResult, type Loaded, type Plan } from './command-runtime.js';
import { cardBatchStream } from './streams.js';

/** A run's stream holds a handful of events. */
export const SchedulerRunAggregate: AggregateType<SchedulerRunState, SchedulerRunEvent> = { snapshot_schema: null, initial: initialSchedulerRunState, evolve: evolveSchedulerRun };
export const schedulerRunStream = (run_id: string): string => `scheduler-run-${run_id}`;

export type RunStatusValue = { run_id: string; status: SchedulerRunState['status'] };

function runPlan(loaded: Loaded<SchedulerRunState>, decision: Decision<SchedulerRunEvent>): Plan<RunStatusValue> {
  if (!decision.ok) return refusePlan(decision.rejection);
  let state = loaded.state;
  for (const event of decision.events) state = evolveSchedulerRun(state, event);
  return { kind: 'append', writes: [{ stream_id: loaded.stream_id, expected: CommandRuntime.expected(loaded), events: decision.events }], value: { run_id: state.run_id, status: state.status } };
}

export function loadRun(runtime: CommandRuntime, run_id: string): Promise<Loaded<SchedulerRunState>> {
  return runtime.load(SchedulerRunAggregate, schedulerRunStream(run_id));
}

/** Records a run's plan (and its hold, when the safety stop fired); a second call for the same run is a no-op. */
export function planRun(runtime: CommandRuntime, envelope: CommandEnvelope, command: PlanRun): Promise<CommandResult<RunStatusValue>> {
  return runtime.execute(envelope, 'plan-scheduler-run', command as never, async (context) => {
    const loaded = await loadRun(runtime, command.run_id);
    return runPlan(loaded, decidePlanRun(loaded.state, command, context));
  });
}

export function confirmRun(runtime: CommandRuntime, envelope: CommandEnvelope, command: { run_id: string; note: string }): Promise<CommandResult<RunStatusValue>> {
  return runtime.execute(envelope, 'confirm-scheduler-run', command, async (context) => {
    const loaded = await loadRun(runtime, command.run_id);
    return runPlan(loaded, decideConfirmRun(loaded.state, command.note, context));
  });
}

export function cancelRun(runtime: CommandRuntime, envelope: CommandEnvelope, command: { run_id: string; reason: string }): Promise<CommandResult<RunStatusValue>> {
  return runtime.execute(envelope, 'cancel-scheduler-run', command, async (context) => {
    const loaded = await loadRun(runtime, command.run_id);
    return runPlan(loaded, decideCancelRun(loaded.state, command.reason, context));
  });
}

export function completeRun(
  runtime: CommandRuntime,
  envelope: CommandEnvelope,
  command: { run_id: string; outcome: Partial<Record<Action, ActionOutcome>>; refused_samples: { subject: string; code: string }[] },
): Promise<CommandResult<RunStatusValue>> {
  return runtime.execute(envelope, 'complete-scheduler-run', command, async (context) => {
    const loaded = await loadRun(runtime, command.run_id);
    return runPlan(loaded, decideCompleteRun(loaded.state, command, context));
  });
}

/** A card batch past its expiry date is marked expired (the scheduler's card expiry). */
export function expireCardBatch(runtime: CommandRuntime, envelope: CommandEnvelope, command: { batch_id: string; today: LocalDate }): Promise<CommandResult<{ expired: boolean }>> {
  return runtime.execute(envelope, 'expire-card-batch', command, async (context) => {
    const batch = await runtime.load(CardBatchAggregate, cardBatchStream(command.batch_id));
    const decision = decideExpireBatch(batch.state, command.today, context);
    if (!decision.ok) return refusePlan(decision.rejection);
    return { kind: 'append', writes: [{ stream_id: batch.stream_id, expected: CommandRuntime.expected(batch), events: decision.events }], value: { expired: decision.events.length > 0 } };
  });
}
