import type pg from 'pg';
import { schedulerRunStream } from '../commands/scheduler-commands.js';
import type { LocalDate } from '../domain/calendar/local-date.js';
import type { HoldReason } from '../domain/scheduler/safety-stop.js';
import {
  evolveSchedulerRun,
  initialSchedulerRunState,
  type Action,
  type ActionOutcome,
  type JobKind,
  type PlanSummary,
  type RunStatus,
  type SchedulerRunEvent,
} from '../domain/scheduler/scheduler-run.js';
import type { EventStore, RecordedEvent } from '../eventstore/event-store.js';

/**
 * A run as people look at it afterwards: its plan and who started it, why the safety stop held it, who confirmed
 * or cancelled it (and their note or reason), and what applying it did. The run's stream is the record; the
 * run index (run-store.ts) has only the status and the planned counts, and the run state (the decider's) keeps
 * only what the rules need. The status is the decider's own (evolveSchedulerRun), so it cannot disagree.
 */
export type RunDecision = Readonly<{ kind: 'confirmed' | 'cancelled'; by: string; text: string; at: string }>;
export type RunOutcome = Readonly<{
  completed_at: string;
  actions: Readonly<Partial<Record<Action, ActionOutcome>>>;
  refused_samples: readonly Readonly<{ subject: string; code: string }>[];
}>;

export type RunRecord = Readonly<{
  run_id: string;
  tenant: string;
  job: JobKind;
  local_date: LocalDate;
  status: Exclude<RunStatus, 'none'>;
  time_zone: string;
  planned_at: string;
  /** `<role>:<id>` of whoever planned it: `system:scheduler` for the scheduler's own ticks. */
  started_by: string;
  previous_local_date: LocalDate | null;
  summary: PlanSummary;
  hold_reasons: readonly HoldReason[];
  decision: RunDecision | null;
  outcome: RunOutcome | null;
}>;

/** Runs read at once: the run list asks for at most 200. */
const MAX_RUNS_PER_READ = 500;

/** The record of one run from its events, oldest first; null when the run was never planned. */
export function runRecordOf(events: readonly Pick<RecordedEvent, 'type' | 'data' | 'recorded_at'>[]): RunRecord | null {
  let state = initialSchedulerRunState();
  let planned: Extract<SchedulerRunEvent, { type: 'scheduler-run-planned' }>['data'] | null = null;
  let decision: RunDecision | null = null;
  let outcome: RunOutcome | null = null;
  for (const recorded of events) {
    const event = { type: recorded.type, data: recorded.data } as unknown as SchedulerRunEvent;
    state = evolveSchedulerRun(state, event);
    switch (event.type) {
      case 'scheduler-run-planned':
        planned = event.data;
        break;
      case 'scheduler-run-confirmed':
        decision = { kind: 'confirmed', by: event.data.by, text: event.data.note, at: recorded.recorded_at.toISOString() };
        break;
      case 'scheduler-run-cancelled':
        decision = { kind: 'cancelled', by: event.data.by, text: event.data.reason, at: recorded.recorded_at.toISOString() };
        break;
      case 'scheduler-run-completed':
        outcome = { completed_at: event.data.completed_at, actions: event.data.outcome, refused_samples: event.data.refused_samples };
        break;
      case 'scheduler-run-held':
        break;
    }
  }
  if (planned === null || state.status === 'none' || state.summary === null) return null;
  return {
    run_id: state.run_id,
    tenant: state.tenant,
    job: planned.job,
    local_date: planned.local_date,
    status: state.status,
    time_zone: planned.time_zone,
    planned_at: planned.planned_at,
    started_by: planned.started_by,
    previous_local_date: planned.previous_local_date,
    summary: state.summary,
    hold_reasons: state.hold_reasons,
    decision,
    outcome,
  };
}

/** The records of several runs with one read of the store, by run id (runs never planned are absent). */
export async function readRunRecords(store: EventStore, run_ids: readonly string[]): Promise<ReadonlyMap<string, RunRecord>> {
  if (run_ids.length > MAX_RUNS_PER_READ) throw new Error(`at most ${MAX_RUNS_PER_READ} scheduler runs are read at once, not ${run_ids.length}`);
  const read = await store.readStreams(run_ids.map((run_id) => ({ stream_id: schedulerRunStream(run_id), from_revision: 0n })));
  const records = new Map<string, RunRecord>();
  for (const run_id of run_ids) {
    const record = runRecordOf(read.get(schedulerRunStream(run_id)) ?? []);
    if (record !== null) records.set(run_id, record);
  }
  return records;
}

/** Customers a plan names (its samples hold their ids; card batches are named by their own ids). */
export type NamedCustomer = Readonly<{ id: string; name: string; username: string | null }>;

export async function customersNamed(pool: pg.Pool, tenant: string, ids: readonly string[]): Promise<NamedCustomer[]> {
  if (ids.length === 0) return [];
  const result = await pool.query<NamedCustomer>(
    'SELECT customer_id AS id, name, username FROM customers WHERE tenant = $1 AND customer_id = ANY($2::text[]) ORDER BY name, customer_id',
    [tenant, [...new Set(ids)]],
  );
  return result.rows;
}

/**
 * The names of the people who started, confirmed or cancelled runs: an operator (an admin acts as its operator)
 * or a staff member of the ISP, by id; the scheduler and anyone not found are left out (shown by their id).
 */
export async function actorsNamed(pool: pg.Pool, tenant: string, ids: readonly string[]): Promise<ReadonlyMap<string, string>> {
  const wanted = [...new Set(ids)];
  if (wanted.length === 0) return new Map();
  const result = await pool.query<{ id: string; name: string }>(
    `SELECT operator_id AS id, name FROM operators WHERE operator_id = ANY($2::text[]) AND (operator_id = $1 OR tenant = $1)
     UNION ALL
     SELECT staff_id AS id, name FROM staff WHERE staff_id = ANY($2::text[]) AND tenant = $1`,
    [tenant, wanted],
  );
  return new Map(result.rows.map((row) => [row.id, row.name]));
}
