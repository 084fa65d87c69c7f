import { describe, expect, it } from 'vitest';
import { contextAt, TENANT } from '../domain/shared/spec-fixtures.js';
import { decideCancelRun, decideCompleteRun, decideConfirmRun, decidePlanRun, evolveSchedulerRun, initialSchedulerRunState, runIdOf, type SchedulerRunEvent } from '../domain/scheduler/scheduler-run.js';
import type { Decision } from '../domain/shared/decider.js';
import type { JsonObject } from '../eventstore/json.js';
import { runRecordOf } from './run-record.js';

/**
 * A run's record is folded from the events the deciders themselves produce: the plan and who started it, the hold,
 * the person's decision with its time, and the outcome; the status is the decider's own.
 */
const RUN_ID = runIdOf(TENANT, 'expiry-sweep', '2026-12-01');
const SYSTEM = { id: 'scheduler', role: 'system' } as const;
const OPS = { id: 'ops-1', role: 'admin' } as const;

/** Events as the store returns them, each recorded a minute after the one before. */
function history(steps: readonly ((state: ReturnType<typeof initialSchedulerRunState>) => Decision<SchedulerRunEvent>)[]) {
  let state = initialSchedulerRunState();
  const events: { type: string; data: JsonObject; recorded_at: Date }[] = [];
  for (const step of steps) {
    const decision = step(state);
    if (!decision.ok) throw new Error(`setup: ${decision.rejection.code}`);
    for (const event of decision.events) {
      state = evolveSchedulerRun(state, event);
      events.push({ type: event.type, data: event.data as unknown as JsonObject, recorded_at: new Date(Date.UTC(2026, 10, 30, 18, 30 + events.length)) });
    }
  }
  return events;
}

const plan = (state: ReturnType<typeof initialSchedulerRunState>) =>
  decidePlanRun(
    state,
    {
      run_id: RUN_ID,
      job: 'expiry-sweep',
      local_date: '2026-12-01',
      time_zone: 'Asia/Dhaka',
      previous_local_date: '2026-11-30',
      summary: { counts: { expire: 30 }, samples: { expire: ['a', 'b'] }, amounts: {}, population: 100 },
      hold_reasons: [{ rule: 'share-of-customers', action: 'expire', count: 30, limit: 20, message: 'expire: 30 of 100 customers is more than 20 %' }],
    },
    contextAt('2026-11-30T18:30:00Z', { actor: SYSTEM }),
  );

describe('scheduler run records', () => {
  it('is nothing for a run never planned', () => {
    expect(runRecordOf([])).toBeNull();
  });

  it('tells a held run confirmed and applied: who started it, why it was held, who confirmed it, what applying did', () => {
    const record = runRecordOf(
      history([
        plan,
        (state) => decideConfirmRun(state, ' checked the list ', contextAt('2026-11-30T18:40:00Z', { actor: OPS })),
        (state) => decideCompleteRun(state, { outcome: { expire: { applied: 29, unchanged: 1, refused: 0 } }, refused_samples: [] }, contextAt('2026-11-30T18:45:00Z', { actor: SYSTEM })),
      ]),
    );
    expect(record).toEqual(
      expect.objectContaining({
        run_id: RUN_ID,
        job: 'expiry-sweep',
        local_date: '2026-12-01',
        status: 'completed',
        started_by: 'system:scheduler',
        planned_at: '2026-11-30T18:30:00.000Z',
        previous_local_date: '2026-11-30',
        hold_reasons: [expect.objectContaining({ rule: 'share-of-customers', count: 30 })],
        // The third event (planned, held, confirmed): recorded two minutes after the first.
        decision: { kind: 'confirmed', by: 'ops-1', text: 'checked the list', at: '2026-11-30T18:32:00.000Z' },
        outcome: { completed_at: '2026-11-30T18:45:00.000Z', actions: { expire: { applied: 29, unchanged: 1, refused: 0 } }, refused_samples: [] },
      }),
    );
    expect(record?.summary.counts).toEqual({ expire: 30 });
  });

  it('tells a cancelled run: held, cancelled with the reason, never applied', () => {
    const record = runRecordOf(history([plan, (state) => decideCancelRun(state, 'a clock jump', contextAt('2026-11-30T18:40:00Z', { actor: OPS }))]));
    expect(record?.status).toBe('cancelled');
    expect(record?.decision).toEqual(expect.objectContaining({ kind: 'cancelled', by: 'ops-1', text: 'a clock jump' }));
    expect(record?.outcome).toBeNull();
  });
});
