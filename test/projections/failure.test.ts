import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { receivePayment } from '../../commands/payment-commands.js';
import type { CommandRuntime } from '../../commands/command-runtime.js';
import { comparePositions, type RecordedEvent } from '../../eventstore/event-store.js';
import { PostgresEventStore } from '../../eventstore/postgres/postgres-event-store.js';
import type { FailedEvent } from '../../projections/generations.js';
import { add, put, type Projection } from '../../projections/projection.js';
import { Projector } from '../../projections/projector.js';
import { projectionStatus, waitForProjections } from '../../projections/status.js';
import { admin, ManualClock, ok, runtimeOn } from '../support/demo-isp.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { lastWritten, settledEvents } from './histories.js';
import { buildScenario, type Scenario } from './scenario.js';

/**
 * A projection that cannot apply an event stops right before it, names it in its checkpoint row and keeps
 * retrying it — it never skips it to get on with the rest. Once the cause is fixed (here: a module-level flag
 * cleared, as a deploy would), it applies that event and everything after it, each exactly once.
 */
let database: TestDatabase;
let runtime: CommandRuntime;
let scenario: Scenario;

/** While set, the test projections cannot apply payment-received: "the bug", cleared by "the deploy". */
const broken = { handler: false, database: false };
const CULPRIT_TYPE = 'payment-received';

/**
 * One row per event (a skipped event is a missing row) and a counter of applications (an event applied twice
 * counts twice; a row keyed by position alone would hide that). Failing either in the handler (it throws) or in
 * the database (it writes a value the integer column refuses, so PostgreSQL aborts the transaction).
 */
function flakyProjection(name: string, fail: () => 'handler' | 'database' | null): Projection {
  const events = `${name}_events`;
  const applied = `${name}_applied`;
  return {
    name,
    version: 1,
    tables: [
      { name: events, key: ['global_position'], columns: { global_position: 'bigint', event_id: 'text', type: 'text', amount: 'integer' } },
      { name: applied, key: ['projection'], counter: true, columns: { projection: 'text', events: 'integer' } },
    ],
    reads: () => [],
    handle: (event) => {
      const failing = event.type === CULPRIT_TYPE ? fail() : null;
      if (failing === 'handler') throw new Error(`${name} cannot apply ${event.type} yet`);
      return [
        put(events, { global_position: event.global_position.toString(), event_id: event.event_id, type: event.type, amount: failing === 'database' ? 'not a number' : 1 }),
        add(applied, { projection: name }, { events: 1 }),
      ];
    },
  };
}

beforeAll(async () => {
  database = await createTestDatabase(12);
  const clock = new ManualClock(new Date('2026-11-16T06:00:00Z'));
  runtime = runtimeOn(database.pool, clock);
  scenario = await buildScenario(runtime, clock);
}, 60_000);

afterAll(async () => {
  await database?.close();
});

async function generationRow(name: string): Promise<{ events_applied: number; position: { commit: bigint; prepare: bigint }; failed_event: FailedEvent | null }> {
  const row = (
    await database.pool.query<{ events_applied: string; position_commit: string; position_prepare: string; failed_event: FailedEvent | null }>(
      `SELECT events_applied, position_commit, position_prepare, failed_event FROM projection_generations WHERE name = $1 AND state = 'live'`,
      [name],
    )
  ).rows[0];
  if (row === undefined) throw new Error(`projection ${name} has no live generation yet`);
  return { events_applied: Number(row.events_applied), position: { commit: BigInt(row.position_commit), prepare: BigInt(row.position_prepare) }, failed_event: row.failed_event };
}

async function until<Value>(probe: () => Promise<Value | null>, timeout_ms: number, what: string): Promise<Value> {
  const deadline = Date.now() + timeout_ms;
  for (;;) {
    const value = await probe().catch(() => null);
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout_ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function appliedRows(name: string): Promise<{ positions: string[]; applications: number }> {
  const positions = (await database.pool.query<{ global_position: string }>(`SELECT global_position::text FROM ${name}_events`)).rows.map((row) => row.global_position);
  const counter = (await database.pool.query<{ events: number | null }>(`SELECT sum(events)::int AS events FROM ${name}_applied`)).rows[0]!.events ?? 0;
  return { positions: positions.sort(), applications: counter };
}

const positionsOf = (events: readonly RecordedEvent[]): string[] => events.map((event) => event.global_position.toString()).sort();

describe.each([
  { mode: 'handler', because: 'its handler throws' },
  { mode: 'database', because: 'PostgreSQL refuses the row it writes' },
] as const)('a projection that fails on an event because $because', ({ mode }) => {
  it('stops right before it, names it, keeps retrying without skipping, and after the fix applies every event exactly once', { timeout: 60_000 }, async () => {
    const name = `flaky_${mode}`;
    const projection = flakyProjection(name, () => (broken[mode] ? mode : null));
    broken[mode] = true;
    const store = new PostgresEventStore(database.pool, { poll_interval_ms: 20 });
    const log = await settledEvents(database.pool, store);
    const culprit_index = log.findIndex((event) => event.type === CULPRIT_TYPE);
    const culprit = log[culprit_index]!;
    // Small batches, and the culprit never first in its batch: the events before it in the batch must be kept.
    const batch_size = culprit_index % 7 === 0 ? 6 : 7;
    expect(culprit_index).toBeGreaterThan(batch_size);
    const projector = new Projector(database.pool, store, [projection], { batch_size, poll_interval_ms: 20, retry_after_failure_ms: 50, leader_retry_ms: 50, logger: pino({ level: 'silent' }) });
    projector.start();
    try {

      const failed = await until(async () => (await generationRow(name)).failed_event, 20_000, `${name} to report a failed event`);
      expect(failed).toMatchObject({ global_position: culprit.global_position.toString(), event_id: culprit.event_id, type: CULPRIT_TYPE, stream_id: culprit.stream_id });
      expect(failed.error).toContain(mode === 'handler' ? `${name} cannot apply ${CULPRIT_TYPE} yet` : 'not a number');

      // Retried several times over, it is still exactly before the culprit: everything before it applied once, nothing after it.
      await new Promise((resolve) => setTimeout(resolve, 400));
      const stuck = await generationRow(name);
      expect(stuck.events_applied).toBe(culprit_index);
      expect(comparePositions(stuck.position, log[culprit_index - 1]!.position)).toBe(0);
      expect(stuck.failed_event).toEqual(failed);
      expect(await appliedRows(name)).toEqual({ positions: positionsOf(log.slice(0, culprit_index)), applications: culprit_index });

      // New events keep arriving behind it; they wait too.
      ok(await receivePayment(runtime, admin(scenario.tenant), { ...paymentFor(scenario, scenario.pppoe) }));
      const [status] = (await projectionStatus(database.pool)).filter((s) => s.name === name);
      expect(status).toMatchObject({ state: 'live', failed_event: failed, events_applied: String(culprit_index) });
      const total = (await settledEvents(database.pool, store)).length;
      expect(status!.lag_events).toBe(total - culprit_index);
      expect(status!.lag_events).toBeGreaterThan(1);

      // The fix is deployed: the same process retries the same event and goes on.
      broken[mode] = false;
      await waitForProjections(database.pool, [name], await lastWritten(database.pool), { timeout_ms: 20_000 });
      const after = await generationRow(name);
      const everything = await settledEvents(database.pool, store);
      expect(everything).toHaveLength(total);
      expect(after.failed_event).toBeNull();
      expect(after.events_applied).toBe(total);
      expect(await appliedRows(name)).toEqual({ positions: positionsOf(everything), applications: total });
      const [caught_up] = (await projectionStatus(database.pool)).filter((s) => s.name === name);
      expect(caught_up).toMatchObject({ lag_events: 0, failed_event: null });
    } finally {
      broken[mode] = false;
      await projector.stop();
    }
  });
});

function paymentFor(demo: Scenario, customer_id: string) {
  return {
    customer_id,
    payment_id: randomUUID(),
    method: 'cash' as const,
    amount: '500.00',
    collected_by: `${demo.sub_reseller}-cashier`,
    collector_operator_id: demo.sub_reseller,
    gateway: null,
    gateway_reference: null,
    card: null,
    recharge_package_id: demo.package_id,
  };
}
