/**
 * Scheduler (issue 11): the expiry sweep over an ISP of 1,000,000 customers (target ≤ 30 s), on a durable
 * PostgreSQL (fsync on).
 *
 *   npx tsx bench/scheduler.bench.ts          (or: npm run bench:scheduler)
 *
 * The ISP's history comes from bench/support/isp-history.ts (the projections benchmark's generator: 85 % daily
 * customers, a fifth of them recharged in October–November 2026, monthly customers billed and some locked). The
 * customers and operators read models are built from it, then the clock is set to 00:30 on 1 January 2027 in
 * Dhaka, when every recharge of October and November has run out, and one scheduler tick runs the expiry sweep:
 * wait for the read models, plan (query, safety stop, items, plan event), apply (batches of 100 customers, each
 * re-decided on its stream and appended in one transaction with an idempotency key; an "expired" SMS queued for
 * each), record the outcome. The figure is that tick, end to end. A second tick must do nothing.
 *
 * Environment:
 *   BENCH_DATABASE_URL   use that server instead of a durable embedded one (the role needs CREATE DATABASE)
 *   BENCH_CUSTOMERS      customers in the generated history (default 1,000,000; the figure needs 1,000,000)
 *   BENCH_NO_RESULTS=1   print only; leave bench/RESULTS.md alone
 */
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { openDatabase } from '../cli/database.js';
import { CommandRuntime } from '../commands/command-runtime.js';
import { PostgresSnapshotStore } from '../commands/snapshots.js';
import { PostgresEventStore } from '../eventstore/postgres/postgres-event-store.js';
import { migrateToLatest } from '../migrations/index.js';
import { LogProvider } from '../notifications/providers.js';
import { Templates } from '../notifications/templates.js';
import { Projector } from '../projections/projector.js';
import { customersProjection } from '../projections/read-models/customers.js';
import { operatorsProjection } from '../projections/read-models/operators.js';
import { waitForProjections } from '../projections/status.js';
import { lastCommitted, Scheduler } from '../scheduler/scheduler.js';
import { DEFAULT_SCHEDULER_SETTINGS } from '../scheduler/settings.js';
import { appendHistory, setUpIsp, TENANT } from './support/isp-history.js';
import { integer, startCpuMeter, type CpuUse } from './support/measure.js';
import { serverFacts, startBenchServer } from './support/postgres-server.js';
import { writeResultsSection } from './support/results-file.js';

const HEADING = '## Scheduler: expiry sweep (issue 11)';
const CUSTOMERS = Number(process.env.BENCH_CUSTOMERS ?? 1_000_000);
const TARGET_SECONDS = 30;
const POOL_SIZE = 20;
const SWEEP_AT = new Date('2026-12-31T18:30:00Z'); // 00:30 on 1 January 2027 in Dhaka

const progress = (line: string): void => {
  process.stderr.write(`[scheduler bench] ${line}\n`);
};
const cores = (cpu: CpuUse): string => `Node ${cpu.node_cores.toFixed(2)}, PostgreSQL ${cpu.postgres_cores === null ? 'n/a' : cpu.postgres_cores.toFixed(2)}, other ${cpu.other_cores.toFixed(2)} cores`;

async function main(): Promise<void> {
  if (!Number.isSafeInteger(CUSTOMERS) || CUSTOMERS < 1_000) throw new Error('BENCH_CUSTOMERS must be a whole number ≥ 1000');
  const began = performance.now();
  const server = await startBenchServer(progress);
  const database = openDatabase(await server.createDatabase('bench_scheduler'), POOL_SIZE);
  const { pool } = database;
  let projector: Projector | null = null;
  try {
    await migrateToLatest(database.db);
    const facts = await serverFacts(pool);
    progress(`PostgreSQL ${facts.version}`);
    const store = new PostgresEventStore(pool);
    let now = new Date('2024-12-15T06:00:00Z');
    const clock = { now: () => new Date(now) };
    const runtime = new CommandRuntime({ store, snapshots: new PostgresSnapshotStore(pool), clock });

    progress('setting up the ISP through the commands');
    const isp = await setUpIsp(runtime);
    const history = await appendHistory(store, isp, { customers: CUSTOMERS, log: progress });
    progress(`history: ${integer(history.events)} events for ${integer(history.customers)} customers`);
    await pool.query('VACUUM (ANALYZE) events, streams');

    progress('building the customers and operators read models');
    const projectionStarted = performance.now();
    const logger = pino({ level: 'warn' }, pino.destination(2));
    projector = new Projector(pool, store, [customersProjection, operatorsProjection], { logger, batch_size: 2_000 });
    projector.start();
    // The wait is bounded at 30 s a call; a million customers take longer to project, so keep asking.
    for (;;) {
      try {
        await waitForProjections(pool, ['customers', 'operators'], await lastCommitted(pool), { timeout_ms: 30_000 });
        break;
      } catch {
        progress('… still projecting');
      }
    }
    progress(`read models built in ${((performance.now() - projectionStarted) / 1000).toFixed(0)} s`);
    const checkpoints = await pool.query<{ name: string; position_commit: string; position_prepare: string; events_applied: string }>(`SELECT name, position_commit, position_prepare, events_applied FROM projection_generations WHERE state = 'live'`);
    const last = await lastCommitted(pool);
    progress(`checkpoints ${JSON.stringify(checkpoints.rows)}; last committed ${last.commit}/${last.prepare}`);
    await pool.query('VACUUM (ANALYZE)');
    const due = Number(
      (await pool.query<{ n: string }>(`SELECT count(*)::text AS n FROM customers WHERE tenant = $1 AND billing_profile = 'daily' AND NOT expired AND expires_at <= $2`, [TENANT, SWEEP_AT.toISOString()])).rows[0]!.n,
    );
    const population = Number((await pool.query<{ n: string }>(`SELECT count(*)::text AS n FROM customers WHERE tenant = $1`, [TENANT])).rows[0]!.n);
    progress(`${integer(due)} of ${integer(population)} customers are past their validity at ${SWEEP_AT.toISOString()}`);

    now = SWEEP_AT;
    const settings = { ...DEFAULT_SCHEDULER_SETTINGS, jobs: ['expiry-sweep'] as const };
    const sms = new LogProvider('sms', pino({ level: 'silent' }));
    const scheduler = new Scheduler({
      pool,
      store,
      runtime,
      settings,
      notifier: { templates: new Templates(), provider_of: { sms: sms.name }, settings, logger },
      logger,
      read_models: ['customers', 'operators'],
    });
    if (!(await scheduler.lead())) throw new Error('could not take the scheduler lock');
    // In a deployment the projector runs in the worker role: stopped here (caught up), so the figure is the sweep's.
    await projector.stop();
    projector = null;
    await pool.query('CHECKPOINT').catch(() => undefined);
    progress('the sweep: one scheduler tick');
    const meter = startCpuMeter(server.postgres_pid);
    const started = performance.now();
    const report = await scheduler.tick();
    const seconds = (performance.now() - started) / 1000;
    const cpu = meter();
    const run_id = report.completed[0] ?? report.held[0] ?? '(none)';
    const expired = Number((await pool.query<{ n: string }>(`SELECT count(*)::text AS n FROM events WHERE type = 'customer-expired' AND metadata->>'correlation_id' = $1`, [run_id])).rows[0]!.n);
    const queued = Number((await pool.query<{ n: string }>(`SELECT count(*)::text AS n FROM notification_outbox WHERE kind = 'customer-expired'`)).rows[0]!.n);
    const planned = (await pool.query<{ planned_at: Date; updated_at: Date }>(`SELECT planned_at, updated_at FROM scheduler_runs WHERE run_id = $1`, [run_id])).rows[0];
    progress(`tick: ${seconds.toFixed(1)} s, run ${run_id} ${report.completed.length === 1 ? 'completed' : 'NOT completed'}, ${integer(expired)} expired, ${integer(queued)} SMS queued (${cores(cpu)})`);
    progress('projecting the sweep\'s events before the second tick (not timed)');
    projector = new Projector(pool, store, [customersProjection, operatorsProjection], { logger, batch_size: 2_000 });
    projector.start();
    for (;;) {
      try {
        await waitForProjections(pool, ['customers', 'operators'], await lastCommitted(pool), { timeout_ms: 30_000 });
        break;
      } catch {
        progress('… still projecting');
      }
    }
    const againStarted = performance.now();
    const again = await scheduler.tick();
    const againSeconds = (performance.now() - againStarted) / 1000;
    const secondExpired = Number((await pool.query<{ n: string }>(`SELECT count(*)::text AS n FROM events WHERE type = 'customer-expired' AND metadata->>'correlation_id' = $1`, [run_id])).rows[0]!.n) - expired;
    progress(`second tick: ${againSeconds.toFixed(2)} s, ${again.planned.length} planned, ${secondExpired} more expired`);
    await scheduler.resign();

    const met = seconds <= TARGET_SECONDS && report.completed.length === 1 && expired === due;
    const section = [
      HEADING,
      '',
      `Run ${new Date().toISOString()} with \`npx tsx bench/scheduler.bench.ts\` on a durable PostgreSQL ${facts.version} (fsync ${facts.settings.fsync ?? '?'}, synchronous_commit ${facts.settings.synchronous_commit ?? '?'}), ${((performance.now() - began) / 60_000).toFixed(0)} min in all.`,
      `The ISP's history (bench/support/isp-history.ts): ${integer(population)} customers, ${integer(history.events)} events; the customers and operators read models built from it.`,
      `At 00:30 on 1 January 2027 (Asia/Dhaka) one scheduler tick runs the expiry sweep: waits for the read models, plans (query, safety stop,`,
      `items, plan event), expires each customer (re-decided on its stream, 100 per transaction with an idempotency key), queues an SMS for each, and records the outcome.`,
      '',
      '| figure | result | target | |',
      '|---|---|---|---|',
      `| expiry sweep over ${integer(population)} customers: ${integer(due)} past their validity | ${seconds.toFixed(1)} s (${integer(expired / Math.max(seconds, 0.001))} customers expired/s, ${integer(queued)} SMS queued) | ≤ ${TARGET_SECONDS} s | ${met ? 'met' : 'missed'} |`,
      `| the same tick again (run completed: nothing to do) | ${againSeconds.toFixed(2)} s, ${secondExpired} more expired | — | — |`,
      '',
      `CPU during the sweep: ${cores(cpu)} (2 in all; "other" is every other program on the machine). The projector (worker role) was stopped, caught up, during the sweep. Run planned at ${planned?.planned_at.toISOString() ?? '?'} (business time).`,
    ].join('\n');
    process.stdout.write(`${section}\n`);
    if (process.env.BENCH_NO_RESULTS !== '1') {
      if (CUSTOMERS < 1_000_000) progress('fewer than 1,000,000 customers: RESULTS.md is left alone');
      else writeResultsSection(HEADING, section, facts.version);
    }
  } finally {
    await projector?.stop();
    await database.close();
    await server.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
