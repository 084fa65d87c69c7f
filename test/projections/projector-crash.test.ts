import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PostgresEventStore } from '../../eventstore/postgres/postgres-event-store.js';
import { ALL_PROJECTIONS } from '../../projections/index.js';
import { Projector } from '../../projections/projector.js';
import { rebuildProjection } from '../../projections/rebuild.js';
import { projectionStatus, ProjectionWaitTimeout, waitForProjections } from '../../projections/status.js';
import type { CommandRuntime } from '../../commands/command-runtime.js';
import { runtimeOn } from '../support/demo-isp.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { buildBulkHistory, lastWritten, type BulkHistory } from './histories.js';

/**
 * Crash safety of the projector: a process killed with SIGKILL at any moment loses only what it had not
 * committed, and the checkpoint it committed with its rows tells the next process exactly where to go on, so
 * the read models end equal to a clean rebuild — no row missing, none counted twice. And with two projectors
 * on one database, the advisory lock lets exactly one of them work on each projection.
 */
let database: TestDatabase;
let store: PostgresEventStore;
let runtime: CommandRuntime;
const script = path.resolve(import.meta.dirname, 'projector-child.ts');
const NAMES = ALL_PROJECTIONS.map((projection) => projection.name);
const children = new Set<ChildProcess>();

beforeAll(async () => {
  database = await createTestDatabase(16);
  store = new PostgresEventStore(database.pool);
  runtime = runtimeOn(database.pool, { now: () => new Date() });
});

// A child left running by a failed test would lead every projection and starve the next test's projectors.
afterEach(() => {
  for (const child of children) child.kill('SIGKILL');
});

afterAll(async () => {
  await database?.close();
});

type Child = Readonly<{ process: ChildProcess; stderr: () => string }>;

function startProjector(): Promise<Child> {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    env: { ...process.env, PROJECTOR_DATABASE_URL: database.url, PROJECTOR_BATCH_SIZE: '20' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`projector child did not start within 30 s: ${stderr}`)), 30_000);
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`projector child exited with ${code} before starting: ${stderr}`)));
    child.stdout!.once('data', () => {
      clearTimeout(timer);
      resolve({ process: child, stderr: () => stderr });
    });
  });
}

function exited(child: Child): Promise<void> {
  if (child.process.exitCode !== null || child.process.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.process.once('exit', () => resolve()));
}

async function killHard(child: Child): Promise<void> {
  const gone = exited(child);
  expect(process.kill(child.process.pid!, 'SIGKILL')).toBe(true);
  await gone;
  expect(child.process.signalCode).toBe('SIGKILL');
}

async function stopGracefully(child: Child): Promise<void> {
  const gone = exited(child);
  child.process.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([gone, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`projector child did not stop within 30 s: ${child.stderr()}`)), 30_000)))]);
  clearTimeout(timer);
  expect(child.process.exitCode, child.stderr()).toBe(0);
}

/** Events applied by each projection's live generation (0 before it has one). */
async function progress(): Promise<Record<string, number>> {
  const result = await database.pool.query<{ name: string; events_applied: string }>(`SELECT name, events_applied FROM projection_generations WHERE state = 'live'`);
  const applied: Record<string, number> = Object.fromEntries(NAMES.map((name) => [name, 0]));
  for (const row of result.rows) applied[row.name] = Number(row.events_applied);
  return applied;
}

const sum = (applied: Record<string, number>): number => Object.values(applied).reduce((total, count) => total + count, 0);

async function eventCount(): Promise<number> {
  return Number((await database.pool.query<{ count: string }>('SELECT count(*) AS count FROM events')).rows[0]!.count);
}

async function until(condition: () => Promise<boolean>, timeout_ms: number, what: string): Promise<void> {
  const deadline = Date.now() + timeout_ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout_ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** waitForProjections is capped at 30 s a call; a projector catching up thousands of events may need longer. */
async function waitUntilCaughtUp(timeout_ms: number): Promise<void> {
  const deadline = Date.now() + timeout_ms;
  const head = await lastWritten(database.pool);
  for (;;) {
    try {
      await waitForProjections(database.pool, NAMES, head, { timeout_ms: Math.min(30_000, Math.max(1, deadline - Date.now())), poll_ms: 20 });
      return;
    } catch (error) {
      if (!(error instanceof ProjectionWaitTimeout) || Date.now() >= deadline) throw error;
    }
  }
}

/** Rebuilds every projection from position 0 and expects the live tables to have been identical to it. */
async function expectEqualToCleanRebuild(): Promise<void> {
  for (const projection of ALL_PROJECTIONS) {
    const report = await rebuildProjection(database.pool, store, projection, { batch_size: 1_000 });
    expect(report.comparison, projection.name).not.toBeNull();
    for (const table of report.comparison!) expect(table, `${projection.name}.${table.table}`).toMatchObject({ only_live: 0, only_new: 0, rows_live: table.rows_new });
    expect(report.identical, projection.name).toBe(true);
    if (projection.name === 'customers') expect(report.comparison!.find((table) => table.table === 'customers')!.rows_live).toBeGreaterThan(0);
  }
}

async function countOf(sql: string, values: unknown[]): Promise<Readonly<{ rows: number; distinct: number }>> {
  const row = (await database.pool.query<{ rows: string; distinct: string }>(sql, values)).rows[0]!;
  return { rows: Number(row.rows), distinct: Number(row.distinct) };
}

describe('a projector process killed with SIGKILL', () => {
  it('three times at different points, then restarted, leaves read models equal to a clean rebuild', { timeout: 300_000 }, async () => {
    const first = await buildBulkHistory(runtime, 400, 6);
    const total = await eventCount();
    expect(total).toBeGreaterThan(2_500);

    let child = await startProjector();
    // More customers arrive while the projector is being killed and restarted.
    const arriving = buildBulkHistory(runtime, 60, 2);
    const at_kill: Record<string, number>[] = [];
    let applied_before = 0;
    for (const fraction of [0.1, 0.3, 0.55]) {
      // Each kill waits until the process being killed has itself committed something.
      const target = Math.max(fraction * total * NAMES.length, applied_before + 1);
      await until(async () => (applied_before = sum(await progress())) >= target, 120_000, `${fraction} of the log applied`);
      await killHard(child);
      at_kill.push(await progress());
      child = await startProjector();
    }
    const second: BulkHistory = await arriving;

    // Each kill left work undone; and at least once a projection was cut off part-way, not between runs.
    for (const applied of at_kill) expect(Math.min(...Object.values(applied)), JSON.stringify(applied)).toBeLessThan(total);
    expect(at_kill.some((applied) => Object.values(applied).some((count) => count > 0 && count < total)), JSON.stringify(at_kill)).toBe(true);
    // The kills happened at different points.
    expect(new Set(at_kill.map((applied) => JSON.stringify(applied))).size).toBe(3);

    await waitUntilCaughtUp(120_000);
    await stopGracefully(child);

    const events = await eventCount();
    for (const status of await projectionStatus(database.pool)) expect(status, status.name).toMatchObject({ state: 'live', lag_events: 0, failed_event: null, events_applied: String(events) });

    const tenants = [first.tenant, second.tenant];
    const customers = await countOf('SELECT count(*) AS rows, count(DISTINCT customer_id) AS distinct FROM customers WHERE tenant = ANY($1)', [tenants]);
    expect(customers).toEqual({ rows: first.customers.length + second.customers.length, distinct: first.customers.length + second.customers.length });
    expect(customers.rows).toBe(460);
    const payments = await countOf('SELECT count(*) AS rows, count(DISTINCT payment_id) AS distinct FROM payments WHERE tenant = ANY($1)', [tenants]);
    expect(payments).toEqual({ rows: first.payments.length + second.payments.length, distinct: first.payments.length + second.payments.length });
    const ids = (await database.pool.query<{ payment_id: string }>('SELECT payment_id FROM payments WHERE tenant = ANY($1)', [tenants])).rows.map((row) => row.payment_id);
    expect(ids.sort()).toEqual([...first.payments, ...second.payments].sort());
    // Counters are where a batch applied twice would show: every customer counted once, every payment summed once.
    const [counted] = (await database.pool.query<{ customers: number }>('SELECT sum(customers)::int AS customers FROM customer_counts WHERE tenant = ANY($1)', [tenants])).rows;
    expect(counted!.customers).toBe(460);
    const [revenue] = (await database.pool.query<{ received: string; payments: number }>('SELECT sum(received)::text AS received, sum(payments)::int AS payments FROM revenue_daily WHERE tenant = ANY($1)', [tenants])).rows;
    expect(revenue).toEqual({ received: (460 * 500).toFixed(2), payments: 460 });
    // Every customer event appears once on its customer's timeline.
    const timeline = await countOf('SELECT count(*) AS rows, count(DISTINCT global_position) AS distinct FROM customer_timeline WHERE tenant = ANY($1)', [tenants]);
    const customer_events = Number(
      (await database.pool.query<{ count: string }>(`SELECT count(*) FROM events WHERE starts_with(stream_id, 'customer-') AND metadata->>'tenant' = ANY($1)`, [tenants])).rows[0]!.count,
    );
    expect(timeline).toEqual({ rows: customer_events, distinct: customer_events });

    await expectEqualToCleanRebuild();
  });
});

describe('two projectors on one database', () => {
  it('never both lead a projection: one holds each lock and works, the other idles, and takes over when the first stops', { timeout: 120_000 }, async () => {
    await buildBulkHistory(runtime, 100, 4);
    const pools = [new pg.Pool({ connectionString: database.url, max: 6 }), new pg.Pool({ connectionString: database.url, max: 6 })];
    const options = { batch_size: 20, poll_interval_ms: 20, leader_retry_ms: 100, retry_after_failure_ms: 200, logger: pino({ level: 'warn' }) };
    const projectors = pools.map((pool) => new Projector(pool, new PostgresEventStore(pool, { poll_interval_ms: 20 }), ALL_PROJECTIONS, options));
    // Which projector applied batches of which projection.
    const workers = new Map<string, Set<number>>(NAMES.map((name) => [name, new Set<number>()]));
    projectors.forEach((projector, index) => projector.events.on('advanced', (name: string) => workers.get(name)!.add(index)));
    const stopped = new Set<number>();
    try {
      projectors.forEach((projector) => projector.start());
      await waitUntilCaughtUp(60_000);

      const holders = await lockHolders();
      expect(Object.keys(holders).sort()).toEqual([...NAMES].sort());
      for (const name of NAMES) expect(holders[name], name).toHaveLength(1);
      expect(new Set(Object.values(holders).flat()).size).toBeLessThanOrEqual(2);
      for (const name of NAMES) expect([...workers.get(name)!], name).toHaveLength(1);

      // Stop the projector that leads the most projections; the other must take them over.
      const counts = [0, 1].map((index) => NAMES.filter((name) => workers.get(name)!.has(index)).length);
      const leader = counts[0]! >= counts[1]! ? 0 : 1;
      const other = 1 - leader;
      await projectors[leader]!.stop();
      stopped.add(leader);
      for (const set of workers.values()) set.clear();
      await buildBulkHistory(runtime, 20, 2);
      await waitUntilCaughtUp(60_000);
      const after = await lockHolders();
      for (const name of NAMES) {
        expect(after[name], name).toHaveLength(1);
        expect([...workers.get(name)!], name).toEqual([other]);
      }
      expect(new Set(Object.values(after).flat()).size).toBe(1);
    } finally {
      for (const [index, projector] of projectors.entries()) if (!stopped.has(index)) await projector.stop();
      for (const pool of pools) await pool.end();
    }
    await expectEqualToCleanRebuild();
  });
});

describe('a projector asked to stop', () => {
  it('stops even while its workers are still taking their locks and reading their generations', { timeout: 60_000 }, async () => {
    // Stopping right after start() catches every worker between its loop check and its subscription.
    for (const delay_ms of [0, 0, 1, 5, 20, 60]) {
      const pool = new pg.Pool({ connectionString: database.url, max: 4 });
      const projector = new Projector(pool, new PostgresEventStore(pool, { poll_interval_ms: 20 }), ALL_PROJECTIONS, { poll_interval_ms: 20, leader_retry_ms: 50, logger: pino({ level: 'warn' }) });
      projector.start();
      if (delay_ms > 0) await new Promise((resolve) => setTimeout(resolve, delay_ms));
      let timer: NodeJS.Timeout | undefined;
      const stopped = await Promise.race([
        projector.stop().then(() => true),
        new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), 10_000))),
      ]);
      clearTimeout(timer);
      expect(stopped, `stop() ${delay_ms} ms after start() returned within 10 s`).toBe(true);
      await pool.end();
    }
  });
});

/** The backends holding each projection's leader lock (advisory lock class 7302, key hashtext(name)). */
async function lockHolders(): Promise<Record<string, number[]>> {
  const result = await database.pool.query<{ name: string; pids: number[] }>(
    `SELECT p.name, array_agg(l.pid ORDER BY l.pid) AS pids
       FROM unnest($1::text[]) AS p(name)
       -- Advisory locks are per database, and other test files run projectors in their own databases at the same time.
       JOIN pg_locks l ON l.locktype = 'advisory' AND l.granted AND l.classid = 7302 AND l.objsubid = 2
                      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                      AND l.objid::bigint = (hashtext(p.name)::bigint + 4294967296) % 4294967296
       JOIN pg_stat_activity a ON a.pid = l.pid AND a.application_name = 'ispbills-projector-leader'
      GROUP BY p.name`,
    [NAMES],
  );
  return Object.fromEntries(result.rows.map((row) => [row.name, row.pids]));
}
