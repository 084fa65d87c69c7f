import { describe, expect, it } from 'vitest';
import { given } from '../shared/decider-spec.js';
import { contextAt, TENANT } from '../shared/spec-fixtures.js';
import { assessPlan, DEFAULT_SAFETY_POLICY } from './safety-stop.js';
import { decideCancelRun, decideCompleteRun, decideConfirmRun, decidePlanRun, evolveSchedulerRun, initialSchedulerRunState, runIdOf, type PlanRun, type SchedulerRunEvent } from './scheduler-run.js';

const RUN_ID = runIdOf(TENANT, 'expiry-sweep', '2026-12-01');
const SYSTEM = { id: 'scheduler', role: 'system' } as const;
const OPS = { id: 'ops-1', role: 'admin' } as const;
const plan = (hold = false): PlanRun => ({
  run_id: RUN_ID,
  job: 'expiry-sweep',
  local_date: '2026-12-01',
  time_zone: 'Asia/Dhaka',
  previous_local_date: '2026-11-30',
  summary: { counts: { expire: 3 }, samples: { expire: ['a', 'b', 'c'] }, amounts: {}, population: 100 },
  hold_reasons: hold ? [{ rule: 'share-of-customers', action: 'expire', count: 3, limit: 2, message: 'too many' }] : [],
});
const planned = (hold = false): SchedulerRunEvent[] => {
  const decision = decidePlanRun(initialSchedulerRunState(), plan(hold), contextAt('2026-11-30T18:30:00Z', { actor: SYSTEM }));
  if (!decision.ok) throw new Error('setup');
  return [...decision.events];
};
const run = (...events: readonly SchedulerRunEvent[]) => given(evolveSchedulerRun, initialSchedulerRunState, events);

describe('scheduler runs', () => {
  it('records the plan once; planning again is a repeat', () => {
    run()
      .when((state) => decidePlanRun(state, plan(), contextAt('2026-11-30T18:30:00Z', { actor: SYSTEM })))
      .then([
        {
          type: 'scheduler-run-planned',
          data: { run_id: RUN_ID, tenant: TENANT, job: 'expiry-sweep', local_date: '2026-12-01', time_zone: 'Asia/Dhaka', planned_at: '2026-11-30T18:30:00.000Z', previous_local_date: '2026-11-30', started_by: 'system:scheduler', ...plan().summary },
        },
      ]);
    run(...planned()).when((state) => decidePlanRun(state, plan(), contextAt('2026-11-30T19:30:00Z'))).thenNothingHappens();
  });

  it('holds an abnormal plan in the same append', () => {
    const events = planned(true);
    expect(events.map((event) => event.type)).toEqual(['scheduler-run-planned', 'scheduler-run-held']);
  });

  it('refuses a run id that does not name the job and date', () => {
    run().when((state) => decidePlanRun(state, { ...plan(), run_id: runIdOf(TENANT, 'bill-run', '2026-12-01') }, contextAt('2026-11-30T18:30:00Z'))).thenRejects('INVALID_INPUT');
  });

  it('confirms only a held run, records who, and treats a second confirmation as a repeat', () => {
    run(...planned()).when((state) => decideConfirmRun(state, '', contextAt('2026-12-01T03:00:00Z', { actor: OPS }))).thenRejects('SCHEDULER_RUN_NOT_HELD');
    const confirmed = run(...planned(true))
      .when((state) => decideConfirmRun(state, ' known outage ', contextAt('2026-12-01T03:00:00Z', { actor: OPS })))
      .then([{ type: 'scheduler-run-confirmed', data: { run_id: RUN_ID, by: 'ops-1', note: 'known outage' } }]);
    run(...planned(true), ...confirmed).when((state) => decideConfirmRun(state, '', contextAt('2026-12-01T04:00:00Z', { actor: OPS }))).thenNothingHappens();
    run().when((state) => decideConfirmRun(state, '', contextAt('2026-12-01T04:00:00Z'))).thenRejects('SCHEDULER_RUN_NOT_FOUND');
    run(...planned(true)).when((state) => decideConfirmRun(state, '', contextAt('2026-12-01T04:00:00Z', { tenant: 'other-isp' }))).thenRejects('SCHEDULER_RUN_NOT_FOUND');
  });

  it('cancels with a reason; a cancelled run is neither confirmed nor completed', () => {
    run(...planned(true)).when((state) => decideCancelRun(state, ' ', contextAt('2026-12-01T03:00:00Z', { actor: OPS }))).thenRejects('INVALID_INPUT');
    const cancelled = run(...planned(true))
      .when((state) => decideCancelRun(state, 'bad import', contextAt('2026-12-01T03:00:00Z', { actor: OPS })))
      .then([{ type: 'scheduler-run-cancelled', data: { run_id: RUN_ID, by: 'ops-1', reason: 'bad import' } }]);
    run(...planned(true), ...cancelled).when((state) => decideConfirmRun(state, '', contextAt('2026-12-01T04:00:00Z'))).thenRejects('SCHEDULER_RUN_CANCELLED');
    run(...planned(true), ...cancelled).when((state) => decideCompleteRun(state, { outcome: {}, refused_samples: [] }, contextAt('2026-12-01T04:00:00Z'))).thenRejects('SCHEDULER_RUN_CANCELLED');
  });

  it('completes a runnable run once, never a held one', () => {
    run(...planned(true)).when((state) => decideCompleteRun(state, { outcome: {}, refused_samples: [] }, contextAt('2026-12-01T04:00:00Z'))).thenRejects('SCHEDULER_RUN_HELD');
    const done = run(...planned())
      .when((state) => decideCompleteRun(state, { outcome: { expire: { applied: 3, unchanged: 0, refused: 0 } }, refused_samples: [] }, contextAt('2026-12-01T04:00:00Z')))
      .then([{ type: 'scheduler-run-completed', data: { run_id: RUN_ID, outcome: { expire: { applied: 3, unchanged: 0, refused: 0 } }, completed_at: '2026-12-01T04:00:00.000Z', refused_samples: [] } }]);
    run(...planned(), ...done).when((state) => decideCompleteRun(state, { outcome: {}, refused_samples: [] }, contextAt('2026-12-01T05:00:00Z'))).thenNothingHappens();
    run(...planned(), ...done).when((state) => decideCancelRun(state, 'late', contextAt('2026-12-01T05:00:00Z'))).thenRejects('SCHEDULER_RUN_COMPLETED');
  });
});

describe('the safety stop', () => {
  const facts = { population: 1_000, local_date: '2026-12-01', previous_local_date: '2026-11-30', history: [] as Record<string, number>[] };

  it('lets a normal plan through', () => {
    expect(assessPlan({ ...facts, counts: { expire: 150 }, history: [{ expire: 120 }, { expire: 90 }] })).toEqual([]);
    // No recent run billed anyone (a young deployment): no baseline, so the first bill day passes.
    expect(assessPlan({ ...facts, counts: { bill: 900 }, history: [{ expire: 120 }, { bill: 0 }] })).toEqual([]);
  });

  it('holds cut-offs above the share of customers, but never below the minimum count', () => {
    expect(assessPlan({ ...facts, counts: { lock: 201 } }).map((reason) => [reason.rule, reason.limit])).toEqual([['share-of-customers', 200]]);
    expect(assessPlan({ ...facts, population: 30, counts: { expire: 19 } })).toEqual([]);
    // Bills are not cut-offs: a bill run bills most customers by nature.
    expect(assessPlan({ ...facts, counts: { bill: 1_000 } })).toEqual([]);
  });

  it('holds an action far above the largest recent run of the job', () => {
    const reasons = assessPlan({ ...facts, counts: { bill: 700 }, history: [{ bill: 0 }, { bill: 200 }, { bill: 3 }] });
    expect(reasons).toEqual([expect.objectContaining({ rule: 'above-recent-runs', action: 'bill', count: 700, limit: 600 })]);
    expect(assessPlan({ ...facts, counts: { bill: 600 }, history: [{ bill: 200 }] })).toEqual([]);
    // Only the last `history_runs` runs count.
    const old = Array.from({ length: DEFAULT_SAFETY_POLICY.history_runs }, () => ({ bill: 10 }));
    expect(assessPlan({ ...facts, counts: { bill: 100 }, history: [...old, { bill: 10_000 }] }).map((reason) => reason.rule)).toEqual(['above-recent-runs']);
  });

  it('holds a run after a gap longer than allowed (an outage or a clock jump)', () => {
    expect(assessPlan({ ...facts, counts: {}, previous_local_date: '2026-11-28' })).toEqual([]);
    expect(assessPlan({ ...facts, counts: {}, previous_local_date: '2026-11-26' })).toEqual([expect.objectContaining({ rule: 'gap-since-last-run', count: 5, limit: 3 })]);
  });
});
