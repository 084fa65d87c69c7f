/**
 * Projections (DESIGN §6), three figures on a durable PostgreSQL (fsync on) in one run:
 *  1. rebuilding every read model from a log of ≥ 1,000,000 events (target ≥ 30,000 events/s, all read models);
 *  2. projection lag under a steady 1,000 commands/s (target p99 ≤ 1 s);
 *  3. customer search over 1,000,000 customers (target p95 ≤ 50 ms).
 *
 *   npx tsx bench/projections.bench.ts          (or: npm run bench:projections)
 *
 * Environment:
 *   BENCH_DATABASE_URL        use that server instead of a durable embedded one (the role needs CREATE DATABASE)
 *   BENCH_CUSTOMERS           customers in the generated history (default 1,000,000; the figures need 1,000,000)
 *   BENCH_COMMAND_RATE        offered commands/s for the lag figure (default 1,000)
 *   BENCH_LAG_SECONDS         measured seconds of each lag phase (default 45), after BENCH_LAG_WARMUP_SECONDS (default 5)
 *   BENCH_SEARCH_SAMPLES      searches per query kind (default 200)
 *   BENCH_NO_RESULTS=1        print only; leave bench/RESULTS.md alone
 *
 * Progress goes to stderr; the results (markdown) go to stdout and replace this benchmark's section of
 * bench/RESULTS.md.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import pino from 'pino';
import { openDatabase } from '../cli/database.js';
import { CommandRuntime, type CommandEnvelope, type CommandResult } from '../commands/command-runtime.js';
import { changeCustomerDetails, registerCustomer, resumeCustomer, suspendCustomer } from '../commands/customer-commands.js';
import { loadOperator } from '../commands/operator-commands.js';
import { receivePayment } from '../commands/payment-commands.js';
import { PostgresSnapshotStore } from '../commands/snapshots.js';
import { START, type LogPosition } from '../eventstore/event-store.js';
import { PostgresEventStore } from '../eventstore/postgres/postgres-event-store.js';
import { migrateToLatest } from '../migrations/index.js';
import { listGenerations, liveGeneration } from '../projections/generations.js';
import { ALL_PROJECTIONS } from '../projections/index.js';
import { Projector } from '../projections/projector.js';
import { searchCustomers, type CustomerSearch } from '../projections/queries/customer-search.js';
import { DEFAULT_REBUILD_BATCH, formatProgress, rebuildProjection, rebuildProjections, type RebuildReport } from '../projections/rebuild.js';
import { waitForProjections } from '../projections/status.js';
import {
  appendHistory,
  customerId,
  customerPlan,
  LARGE_SUBTREE,
  LIVE_FROM,
  MEDIUM_SUBTREE,
  OWNERS,
  PACKAGE_IDS,
  setUpIsp,
  SMALL_SUBTREE,
  TENANT,
  type HistoryReport,
} from './support/isp-history.js';
import { LagTracker, openLoop, VisibilityProbe, type Issued, type OpenLoopResult } from './support/live-load.js';
import type { ProjectorMessage } from './support/projector-process.js';
import { integer, LatencyRecorder, ms, ratio, startCpuMeter, startGcMeter, type CpuUse, positiveInteger } from './support/measure.js';
import { serverFacts, startBenchServer, type ServerFacts } from './support/postgres-server.js';
import { writeResultsSection } from './support/results-file.js';

const HEADING = '## Projections: rebuild, lag and customer search';
const CUSTOMERS = positiveInteger('BENCH_CUSTOMERS', 1_000_000);
const COMMAND_RATE = positiveInteger('BENCH_COMMAND_RATE', 1_000);
const LAG_SECONDS = positiveInteger('BENCH_LAG_SECONDS', 45);
const LAG_WARMUP_SECONDS = positiveInteger('BENCH_LAG_WARMUP_SECONDS', 5);
const SEARCH_SAMPLES = positiveInteger('BENCH_SEARCH_SAMPLES', 200);
/** The default DATABASE_POOL_SIZE: commands and the projector share one pool, as in `ispbills start`. */
const POOL_SIZE = 20;
const REBUILD_BATCH = positiveInteger('BENCH_REBUILD_BATCH', DEFAULT_REBUILD_BATCH);
const MAX_IN_FLIGHT = 200;
/** Poll interval of the projector run in a process of its own (an append elsewhere cannot wake it). */
const OWN_PROCESS_POLL_MS = 10;
const DRAIN_LIMIT_SECONDS = 300;
/** A search kind stops after this long even if it has not run BENCH_SEARCH_SAMPLES searches. */
const SEARCH_BUDGET_SECONDS = 60;

const TARGET_REBUILD_EVENTS_PER_SECOND = 30_000;
const TARGET_LAG_P99_MS = 1_000;
const TARGET_SEARCH_P95_MS = 50;

const progress = (line: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
};

let postgresPid: number | null = null;
const cores = (value: number | null): string => (value === null ? 'n/a' : value.toFixed(2));
const cpuText = (cpu: CpuUse): string =>
  `Node ${cores(cpu.node_cores)}, PostgreSQL ${cores(cpu.postgres_cores)}, other ${cores(cpu.other_cores)} cores` +
  (cpu.other_cores >= 0.2 && cpu.busiest_other !== null ? ` (busiest other: ${cpu.busiest_other.name} ${cpu.busiest_other.cores.toFixed(2)})` : '');
const seconds = (value: number): string => (value < 100 ? value.toFixed(1) : value.toFixed(0));

async function backgroundLoad(window_seconds: number): Promise<CpuUse> {
  const meter = startCpuMeter(postgresPid);
  await sleep(window_seconds * 1000);
  return meter();
}

/**
 * The machine is shared: before each measurement, wait (up to 30 s, in 2 s windows while this benchmark is idle)
 * until other programs use less than 0.1 of a core. Each phase reports what others used during it anyway.
 */
async function waitForQuiet(label: string): Promise<void> {
  const started = performance.now();
  for (;;) {
    const load = await backgroundLoad(2);
    if (load.other_cores < 0.1) return;
    if (performance.now() - started > 30_000) {
      progress(`${label}: other programs still use ${load.other_cores.toFixed(2)} cores after 30 s; measuring anyway`);
      return;
    }
  }
}

/** Which projection code was measured: the last commit touching projections/ and a hash of what was loaded. */
function projectionsVersion(): string {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const hash = createHash('sha256');
  for (const folder of ['projections', 'projections/read-models', 'projections/queries']) {
    const path = `${root}${folder}`;
    for (const file of readdirSync(path).filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts')).sort()) hash.update(readFileSync(`${path}/${file}`));
  }
  const digest = hash.digest('hex').slice(0, 12);
  try {
    const git = (...args: string[]): string => execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();
    const commit = git('log', '-1', '--format=%h', '--', 'projections') || 'no commit';
    const changed = git('status', '--porcelain', '--', 'projections') !== '';
    return `\`projections/\` at ${commit}${changed ? ' with uncommitted changes' : ''} (sha256 of its sources ${digest})`;
  } catch {
    return `\`projections/\` (sha256 of its sources ${digest}; git not available)`;
  }
}

// ---------------------------------------------------------------------------------------------- figure 1: rebuild

type Rebuilt = Readonly<{ report: RebuildReport; cpu: CpuUse; gc_share: number; rows: number; bytes: number }>;

async function readPass(store: PostgresEventStore): Promise<Readonly<{ events: number; seconds: number; cpu: CpuUse }>> {
  const meter = startCpuMeter(postgresPid);
  const started = performance.now();
  let position: LogPosition = START;
  let events = 0;
  for (;;) {
    const page = await store.readAll(position, { max_count: REBUILD_BATCH });
    if (page.length === 0) break;
    events += page.length;
    position = page[page.length - 1]!.position;
  }
  return { events, seconds: (performance.now() - started) / 1000, cpu: meter() };
}

/** Rows (the planner's count after ANALYZE) and bytes (tables with their indexes) of a projection's live generation. */
async function generationSize(pool: pg.Pool, name: string): Promise<{ rows: number; bytes: number }> {
  const live = await liveGeneration(pool, name);
  if (live === null) return { rows: 0, bytes: 0 };
  await analyzeSchema(pool, live.schema_name);
  const result = await pool.query<{ rows: string; bytes: string }>(
    `SELECT coalesce(sum(c.reltuples), 0)::bigint::text AS rows, coalesce(sum(pg_total_relation_size(c.oid)), 0)::text AS bytes
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind = 'r'`,
    [live.schema_name],
  );
  return { rows: Number(result.rows[0]!.rows), bytes: Number(result.rows[0]!.bytes) };
}

async function analyzeSchema(pool: pg.Pool, schema: string): Promise<void> {
  const tables = await pool.query<{ table_name: string }>(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE'`, [schema]);
  for (const { table_name } of tables.rows) await pool.query(`ANALYZE ${schema}.${table_name}`);
}

/** Analyzes every live generation's tables (the rebuild leaves fresh tables without statistics). */
async function analyzeLive(pool: pg.Pool): Promise<void> {
  for (const generation of await listGenerations(pool)) await analyzeSchema(pool, generation.schema_name);
}

/** Back to a database without read models, as on a fresh install, so each rebuild run starts alike. */
async function dropAllGenerations(pool: pg.Pool): Promise<void> {
  const schemas = await pool.query<{ schema_name: string }>('SELECT schema_name FROM projection_generations');
  for (const { schema_name } of schemas.rows) await pool.query(`DROP SCHEMA IF EXISTS ${schema_name} CASCADE`);
  await pool.query('DELETE FROM projection_generations');
}

const rebuildOptions = (label: string) => ({
  batch_size: REBUILD_BATCH,
  progress_interval_ms: 15_000,
  on_progress: (state: Parameters<typeof formatProgress>[0]) => progress(`${label}: ${formatProgress(state)}`),
});

type Together = Readonly<{
  reports: readonly RebuildReport[];
  seconds: number;
  /** From the start until the log was read and folded in memory, and until the folds were written with COPY. */
  folded_seconds: number;
  written_seconds: number;
  cpu: CpuUse;
  gc_share: number;
  peak_rss_mib: number;
  peak_heap_mib: number;
}>;

/** `rebuildProjections` over every read model: what `ispbills rebuild` runs. Peak memory is sampled every 250 ms. */
async function rebuildTogether(pool: pg.Pool, store: PostgresEventStore): Promise<Together> {
  const meter = startCpuMeter(postgresPid);
  const gc = startGcMeter();
  let peak_rss = 0;
  let peak_heap = 0;
  const sample = (): void => {
    const usage = process.memoryUsage();
    peak_rss = Math.max(peak_rss, usage.rss);
    peak_heap = Math.max(peak_heap, usage.heapUsed);
  };
  const sampler = setInterval(sample, 250);
  const started = performance.now();
  const stages = new Map<string, number>();
  try {
    const reports = await rebuildProjections(pool, store, ALL_PROJECTIONS, {
      ...rebuildOptions('all together'),
      on_stage: (stage) => {
        sample();
        stages.set(stage, (performance.now() - started) / 1000);
      },
    });
    const wall = (performance.now() - started) / 1000;
    return {
      reports,
      seconds: wall,
      folded_seconds: stages.get('folded') ?? wall,
      written_seconds: stages.get('written') ?? wall,
      cpu: meter(),
      gc_share: (await gc()) / 1000 / wall,
      peak_rss_mib: peak_rss / 1024 ** 2,
      peak_heap_mib: peak_heap / 1024 ** 2,
    };
  } finally {
    clearInterval(sampler);
  }
}

// ---------------------------------------------------------------------------------------------- figure 2: lag

type LagPhase = Readonly<{
  label: string;
  load: OpenLoopResult;
  tracker: LagTracker;
  lost: number;
  visibility: LatencyRecorder;
  visibility_lost: number;
  drain_seconds: number;
  cpu: CpuUse;
  pool_waiting_max: number;
  pool_waiting_mean: number;
  applied: ReadonlyMap<string, number>;
  /** Event-loop delay of the process running the projector (this one, or the projector's own), p50 / p99 ms. */
  event_loop_delay: Readonly<{ p50: number; p99: number }> | null;
  /** Event-loop delay of this process, which runs the commands. */
  command_event_loop_delay: Readonly<{ p50: number; p99: number }>;
}>;

/** Where checkpoint notifications come from: the projector in this process, or one in a process of its own. */
type ProjectorHandle = Readonly<{
  subscribe: (listener: (name: string, position: LogPosition, at: number) => void) => () => void;
  /** Processes to count as ours in the CPU figures. */
  pids: readonly number[];
  in_process: boolean;
  /** Ends the phase's event-loop measurement of the projector's process, when it is another process. */
  event_loop_delay: () => Promise<Readonly<{ p50: number; p99: number }> | null>;
}>;

function inProcess(projector: Projector): ProjectorHandle {
  return {
    subscribe: (listener) => {
      const onAdvanced = (name: string, position: LogPosition): void => listener(name, position, performance.now());
      projector.events.on('advanced', onAdvanced);
      return () => projector.events.off('advanced', onAdvanced);
    },
    pids: [],
    in_process: true,
    event_loop_delay: async () => null,
  };
}

/** Starts bench/support/projector-process.ts and waits until it leads every projection. */
async function ownProcess(url: string, pool: pg.Pool, poll_ms: number): Promise<ProjectorHandle & { stop: () => Promise<Readonly<{ p50: number; p99: number }>> }> {
  const child: ChildProcess = fork(fileURLToPath(new URL('./support/projector-process.ts', import.meta.url)), [], {
    execArgv: process.execArgv,
    env: { ...process.env, BENCH_PROJECTOR_DATABASE_URL: url, BENCH_PROJECTOR_POLL_MS: String(poll_ms) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const listeners = new Set<(name: string, position: LogPosition, at: number) => void>();
  let stopped: ((delay: Readonly<{ p50: number; p99: number }>) => void) | null = null;
  child.on('message', (raw: unknown) => {
    const message = raw as ProjectorMessage;
    if (message.kind === 'advanced') {
      const position = { commit: BigInt(message.commit), prepare: BigInt(message.prepare) };
      const at = message.at - performance.timeOrigin;
      for (const listener of listeners) listener(message.name, position, at);
    } else {
      stopped?.({ p50: message.event_loop_delay_p50_ms, p99: message.event_loop_delay_p99_ms });
    }
  });
  const deadline = performance.now() + 60_000;
  for (;;) {
    // The projector's leader connection holds one advisory lock (class 7302) per projection it leads.
    const held = await pool.query<{ count: string }>(
      `SELECT count(*) AS count FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.classid = 7302 AND l.granted AND a.application_name = 'ispbills-projector-leader'`,
    );
    if (Number(held.rows[0]!.count) >= ALL_PROJECTIONS.length) break;
    if (child.exitCode !== null || performance.now() > deadline) throw new Error('the projector process did not take the lead of every projection within 60 s');
    await sleep(100);
  }
  return {
    subscribe: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    pids: child.pid === undefined ? [] : [child.pid],
    in_process: false,
    event_loop_delay: async () => null,
    stop: () =>
      new Promise((resolve) => {
        stopped = resolve;
        child.send('stop');
      }),
  };
}

/** The command mix of the lag figure, each from a real staff member of the customer's operator. */
function commandIssuer(runtime: CommandRuntime) {
  let newCustomer = CUSTOMERS;
  const suspended: number[] = [];
  const randomCustomer = (): number => Math.floor(Math.random() * CUSTOMERS);
  const envelopeFor = (i: number): CommandEnvelope => {
    const owner = customerPlan(i, CUSTOMERS).owner.operator_id;
    return { tenant: TENANT, actor: { id: `${owner}-cashier`, role: 'manager' } };
  };
  const outcome = <T>(result: CommandResult<T>): Issued => (result.ok ? { ok: true, position: result.position } : { ok: false, code: result.rejection.code });
  const mobile = (): string => `01${3 + Math.floor(Math.random() * 7)}${String(Math.floor(Math.random() * 100_000_000)).padStart(8, '0')}`;
  const suspend = async (): Promise<Issued> => {
    const i = randomCustomer();
    const result = await suspendCustomer(runtime, envelopeFor(i), { customer_id: customerId(i), reason: 'customer asked: travelling for two weeks' });
    if (result.ok && result.position !== null) suspended.push(i);
    return outcome(result);
  };
  return async (index: number): Promise<Issued> => {
    const roll = (index * 0.6180339887) % 1; // an even spread of kinds over time, whatever the rate
    if (roll < 0.15) {
      const i = newCustomer++;
      return outcome(await registerCustomer(runtime, envelopeFor(i), customerPlan(i, CUSTOMERS).command));
    }
    if (roll < 0.55) {
      const i = randomCustomer();
      const plan = customerPlan(i, CUSTOMERS).command;
      return outcome(await changeCustomerDetails(runtime, envelopeFor(i), { customer_id: plan.customer_id, name: plan.name, mobile: mobile(), zone: plan.zone }));
    }
    if (roll < 0.7) {
      let i = randomCustomer();
      while (customerPlan(i, CUSTOMERS).command.profile.kind !== 'daily') i = randomCustomer();
      const plan = customerPlan(i, CUSTOMERS);
      const pkg = plan.command.package_id;
      return outcome(
        await receivePayment(runtime, envelopeFor(i), {
          customer_id: plan.command.customer_id,
          payment_id: randomUUID(),
          method: 'cash',
          amount: PRICES.get(pkg)!,
          collected_by: `${plan.owner.operator_id}-cashier`,
          collector_operator_id: plan.owner.operator_id,
          gateway: null,
          gateway_reference: null,
          card: null,
          recharge_package_id: pkg,
        }),
      );
    }
    if (roll < 0.85) return suspend();
    const i = suspended.shift();
    if (i === undefined) return suspend();
    return outcome(await resumeCustomer(runtime, envelopeFor(i), { customer_id: customerId(i) }));
  };
}

const PRICES = new Map<string, string>();

async function lagPhase(
  label: string,
  rate: number,
  pool: pg.Pool,
  projector: ProjectorHandle,
  issue: (index: number) => Promise<Issued>,
): Promise<LagPhase> {
  const names = ALL_PROJECTIONS.map((projection) => projection.name);
  const generations = await listGenerations(pool);
  const tracker = new LagTracker(names, new Map(generations.filter((g) => g.state === 'live').map((g) => [g.name, g.position])));
  const appliedBefore = new Map(generations.filter((g) => g.state === 'live').map((g) => [g.name, g.events_applied]));
  const unsubscribe = projector.subscribe((name, position, at) => tracker.advanced(name, position, at));
  const commandLoop = monitorEventLoopDelay({ resolution: 5 });
  const probeClient = new pg.Client({ ...(pool.options as pg.ClientConfig), application_name: 'bench-visibility-probe' });
  await probeClient.connect();
  const probe = new VisibilityProbe(probeClient);
  probe.start();
  let waitingSamples = 0;
  let waitingSum = 0;
  let waitingMax = 0;
  const poolSampler = setInterval(() => {
    waitingSamples += 1;
    waitingSum += pool.waitingCount;
    waitingMax = Math.max(waitingMax, pool.waitingCount);
  }, 50);
  await waitForQuiet(label);
  progress(`${label}: offering ${integer(rate)} commands/s for ${LAG_WARMUP_SECONDS} s of warm-up and ${LAG_SECONDS} s of measurement`);
  const started = performance.now();
  tracker.setOrigin(started + LAG_WARMUP_SECONDS * 1000);
  // CPU is measured over the window only: from the end of the warm-up to the last command due.
  const cpuWindow: { meter: (() => CpuUse) | null; cpu: CpuUse | null } = { meter: null, cpu: null };
  const cpuStart = setTimeout(() => {
    cpuWindow.meter = startCpuMeter(postgresPid, projector.pids);
    commandLoop.enable();
  }, LAG_WARMUP_SECONDS * 1000);
  const cpuEnd = setTimeout(() => (cpuWindow.cpu = cpuWindow.meter?.() ?? null), (LAG_WARMUP_SECONDS + LAG_SECONDS) * 1000);
  const reporter = setInterval(() => {
    const elapsed = (performance.now() - started) / 1000;
    progress(`${label}: ${elapsed.toFixed(0)} s, ${integer(tracker.pending)} commands waiting for projections, lag p99 so far ${ms(tracker.overall.percentile(99))} ms`);
  }, 10_000);
  const load = await openLoop({
    rate,
    warmup_seconds: LAG_WARMUP_SECONDS,
    seconds: LAG_SECONDS,
    max_in_flight: MAX_IN_FLIGHT,
    issue,
    on_written: (position, returned_at, in_window) => {
      tracker.add(position, returned_at, in_window);
      probe.add(position, returned_at, in_window);
    },
  });
  clearInterval(reporter);
  clearTimeout(cpuStart);
  clearTimeout(cpuEnd);
  const cpu = cpuWindow.cpu ?? (cpuWindow.meter ?? startCpuMeter(postgresPid, projector.pids))();
  commandLoop.disable();
  const command_event_loop_delay = { p50: commandLoop.percentile(50) / 1e6, p99: commandLoop.percentile(99) / 1e6 };
  const drainStarted = performance.now();
  while (tracker.pending > 0 && performance.now() - drainStarted < DRAIN_LIMIT_SECONDS * 1000) await sleep(20);
  const drain_seconds = (performance.now() - drainStarted) / 1000;
  const lost = tracker.abandon();
  while (probe.pending > 0 && performance.now() - drainStarted < DRAIN_LIMIT_SECONDS * 1000) await sleep(20);
  const visibility_lost = probe.stop();
  await probeClient.end();
  clearInterval(poolSampler);
  unsubscribe();
  const after = await listGenerations(pool);
  const applied = new Map(after.filter((g) => g.state === 'live').map((g) => [g.name, Number(g.events_applied - (appliedBefore.get(g.name) ?? 0n))]));
  progress(
    `${label}: sustained ${integer(load.throughput)} commands/s (offered ${integer(rate)}); lag p50 ${ms(tracker.overall.percentile(50))} ms, ` +
      `p99 ${ms(tracker.overall.percentile(99))} ms, max ${ms(tracker.overall.percentile(100))} ms; visible to readers p50 ${ms(probe.recorder.percentile(50))} ms, p99 ${ms(probe.recorder.percentile(99))} ms; drained in ${drain_seconds.toFixed(1)} s; ${cpuText(cpu)}`,
  );
  return {
    label,
    load,
    tracker,
    lost,
    visibility: probe.recorder,
    visibility_lost,
    drain_seconds,
    cpu,
    pool_waiting_max: waitingMax,
    pool_waiting_mean: waitingSamples === 0 ? 0 : waitingSum / waitingSamples,
    applied,
    event_loop_delay: projector.in_process ? command_event_loop_delay : await projector.event_loop_delay(),
    command_event_loop_delay,
  };
}

// ---------------------------------------------------------------------------------------------- figure 3: search

type SearchKind = Readonly<{ label: string; pages: number; input: (round: number) => CustomerSearch }>;
type SearchResult = Readonly<{ label: string; latency: LatencyRecorder; deepest: LatencyRecorder | null; pages: number; rows: number; samples: { ms: number; input: CustomerSearch }[] }>;

type SampledCustomer = Readonly<{ customer_id: string; name: string; mobile: string; username: string | null; mac: string | null; status: string; expires_at: string | null }>;

async function sampleCustomers(pool: pg.Pool, count: number): Promise<SampledCustomer[]> {
  const ids = Array.from({ length: count }, () => customerId(Math.floor(Math.random() * CUSTOMERS)));
  const result = await pool.query<SampledCustomer>(
    `SELECT customer_id, name, mobile, username, mac, status, to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS expires_at
       FROM customers WHERE customer_id = ANY($1::text[])`,
    [ids],
  );
  return result.rows;
}

function searchKinds(sample: readonly SampledCustomer[]): SearchKind[] {
  const at = (round: number, filter: (customer: SampledCustomer) => boolean = () => true): SampledCustomer => {
    const candidates = sample.filter(filter);
    return candidates[(round * 7919) % candidates.length]!;
  };
  const word = (customer: SampledCustomer, round: number): string => {
    const words = customer.name.split(' ').filter((part) => part.length >= 4 && !part.endsWith('.'));
    const chosen = words[round % words.length] ?? customer.name;
    // Staff type part of a name: a prefix or an inner piece of 4–6 letters.
    const length = Math.min(chosen.length, 4 + (round % 3));
    const from = round % 2 === 0 ? 0 : Math.max(0, chosen.length - length);
    return chosen.slice(from, from + length).toLowerCase();
  };
  const fullName = (customer: SampledCustomer): string => {
    const words = customer.name.split(' ');
    return words.slice(-2).join(' ');
  };
  const statuses = ['active', 'expired', 'suspended'] as const;
  return [
    { label: 'part of a name (4–6 letters)', pages: 1, input: (round) => ({ tenant: TENANT, text: word(at(round), round) }) },
    { label: 'first and last name', pages: 1, input: (round) => ({ tenant: TENANT, text: fullName(at(round)) }) },
    { label: 'part of a mobile number (6 digits)', pages: 1, input: (round) => ({ tenant: TENANT, text: at(round).mobile.slice(5 - (round % 3), 11 - (round % 3)) }) },
    { label: 'username, exact', pages: 1, input: (round) => ({ tenant: TENANT, text: at(round, (c) => c.username !== null).username! }) },
    { label: 'MAC, exact', pages: 1, input: (round) => ({ tenant: TENANT, text: at(round, (c) => c.mac !== null).mac! }) },
    { label: 'status filter, pages 1–10', pages: 10, input: (round) => ({ tenant: TENANT, status: statuses[round % statuses.length]! }) },
    { label: `subtree of the largest reseller (${LARGE_SUBTREE}, ~40 %), pages 1–5`, pages: 5, input: () => ({ tenant: TENANT, within_operator_id: LARGE_SUBTREE }) },
    { label: `subtree of a mid-size reseller (${MEDIUM_SUBTREE}, ~5 %), pages 1–5`, pages: 5, input: () => ({ tenant: TENANT, within_operator_id: MEDIUM_SUBTREE }) },
    { label: `subtree of a small sub-reseller (${SMALL_SUBTREE}, ~0.04 %), pages 1–3`, pages: 3, input: () => ({ tenant: TENANT, within_operator_id: SMALL_SUBTREE }) },
    { label: `part of a name within the largest reseller's subtree`, pages: 1, input: (round) => ({ tenant: TENANT, within_operator_id: LARGE_SUBTREE, text: word(at(round), round) }) },
    { label: `part of a name within a mid-size reseller's subtree`, pages: 1, input: (round) => ({ tenant: TENANT, within_operator_id: MEDIUM_SUBTREE, text: word(at(round), round) }) },
    { label: 'package filter, pages 1–3', pages: 3, input: (round) => ({ tenant: TENANT, package_id: PACKAGE_IDS[round % PACKAGE_IDS.length]! }) },
    {
      label: 'expiring within 3 days (expiry range), pages 1–2',
      pages: 2,
      input: (round) => {
        const from = Date.parse(at(round, (c) => c.expires_at !== null).expires_at!);
        return { tenant: TENANT, expires_after: new Date(from - 86_400_000).toISOString(), expires_before: new Date(from + 2 * 86_400_000).toISOString() };
      },
    },
    { label: 'status filter within the largest subtree, pages 1–3', pages: 3, input: (round) => ({ tenant: TENANT, within_operator_id: LARGE_SUBTREE, status: statuses[round % statuses.length]! }) },
  ];
}

async function runSearchKind(pool: pg.Pool, kind: SearchKind, rounds = Math.ceil(SEARCH_SAMPLES / kind.pages)): Promise<SearchResult> {
  const latency = new LatencyRecorder();
  const deepest = kind.pages > 1 ? new LatencyRecorder() : null;
  const samples: { ms: number; input: CustomerSearch }[] = [];
  let rows = 0;
  const deadline = performance.now() + SEARCH_BUDGET_SECONDS * 1000;
  for (let round = 0; round < rounds && performance.now() < deadline; round += 1) {
    let input: CustomerSearch = kind.input(round);
    for (let page = 1; page <= kind.pages; page += 1) {
      const started = performance.now();
      const result = await searchCustomers(pool, input);
      const elapsed = performance.now() - started;
      latency.record(elapsed);
      samples.push({ ms: elapsed, input });
      rows += result.customers.length;
      if (page === kind.pages) deepest?.record(elapsed);
      if (result.next === null) break;
      input = { ...input, after: result.next };
    }
  }
  return { label: kind.label, latency, deepest, pages: kind.pages, rows, samples };
}

/**
 * A diagnostic, not a figure: the same searches with the planner kept off plain index scans (so it cannot walk
 * the (tenant, name) index and filter, and must collect the matches through bitmap index scans, then sort).
 */
async function searchWithoutIndexScans(pool: pg.Pool, inputs: readonly CustomerSearch[]): Promise<LatencyRecorder> {
  const latency = new LatencyRecorder();
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SET LOCAL enable_indexscan = off');
    const deadline = performance.now() + SEARCH_BUDGET_SECONDS * 1000;
    for (const input of inputs) {
      if (performance.now() > deadline) break;
      const started = performance.now();
      await searchCustomers(client, input);
      latency.record(performance.now() - started);
    }
    await client.query('COMMIT');
  } finally {
    client.release();
  }
  return latency;
}

/** The plan of one search, run under EXPLAIN (ANALYZE, BUFFERS) through the query's own SQL. */
async function explainSearch(pool: pg.Pool, input: CustomerSearch): Promise<string> {
  let plan = '';
  const explaining = {
    query: async (text: string, values: unknown[]) => {
      const result = await pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${text}`, values);
      plan = result.rows.map((row) => row['QUERY PLAN']).join('\n');
      return { rows: [] };
    },
  };
  await searchCustomers(explaining as unknown as pg.Pool, input);
  return plan;
}

// ---------------------------------------------------------------------------------------------- main

async function main(): Promise<void> {
  const began = performance.now();
  const code = projectionsVersion();
  progress(`measuring ${code.replaceAll('`', '')}; ${integer(CUSTOMERS)} customers`);
  const server = await startBenchServer(progress);
  postgresPid = server.postgres_pid;
  const databaseUrl = await server.createDatabase('bench_projections');
  const database = openDatabase(databaseUrl, POOL_SIZE);
  const { pool } = database;
  let projector: Projector | null = null;
  try {
    await migrateToLatest(database.db);
    const facts = await serverFacts(pool);
    progress(`PostgreSQL ${facts.version}; ${Object.entries(facts.settings).map(([k, v]) => `${k}=${v}`).join(', ')}`);
    const backgroundBefore = await backgroundLoad(3);
    progress(`background load before the run: ${cpuText(backgroundBefore)}`);
    const store = new PostgresEventStore(pool);
    let clockBase = { wall: Date.now(), business: Date.parse('2024-12-15T06:00:00Z') };
    const clock = { now: () => new Date(clockBase.business + (Date.now() - clockBase.wall)) };
    const runtime = new CommandRuntime({ store, snapshots: new PostgresSnapshotStore(pool), clock });

    // ---- the history
    progress('setting up the ISP through the commands (packages, 110 operators, wallets, staff, card batches)');
    const isp = await setUpIsp(runtime);
    for (const [package_id, state] of isp.packages) PRICES.set(package_id, state.spec!.price);
    const generationMeter = startCpuMeter(postgresPid);
    const history = await appendHistory(store, isp, { customers: CUSTOMERS, log: progress });
    const generationCpu = generationMeter();
    progress('VACUUM (ANALYZE) and CHECKPOINT of the event store');
    await pool.query('VACUUM (ANALYZE) events, streams');
    await pool.query('CHECKPOINT').catch(() => undefined);
    const logEvents = Number((await pool.query<{ count: string }>('SELECT count(*) AS count FROM events')).rows[0]!.count);
    const logBytes = Number((await pool.query<{ bytes: string }>(`SELECT pg_total_relation_size('events')::text AS bytes`)).rows[0]!.bytes);
    progress(`the log holds ${integer(logEvents)} events (${(logBytes / 1024 ** 3).toFixed(2)} GiB with indexes)`);

    // ---- figure 1: rebuilds
    progress('baseline: one readAll pass over the whole log, pages of 2,000, nothing applied');
    await waitForQuiet('read pass');
    const pass = await readPass(store);
    progress(`read pass: ${integer(pass.events / pass.seconds)} events/s (${seconds(pass.seconds)} s; ${cpuText(pass.cpu)})`);

    const sequential: Rebuilt[] = [];
    for (const projection of ALL_PROJECTIONS) {
      await waitForQuiet(`rebuild ${projection.name}`);
      const meter = startCpuMeter(postgresPid);
      const gc = startGcMeter();
      const report = await rebuildProjection(pool, store, projection, rebuildOptions(`rebuild ${projection.name}`));
      const cpu = meter();
      const gc_share = (await gc()) / 1000 / report.seconds;
      const size = await generationSize(pool, projection.name);
      progress(`rebuilt ${projection.name}: ${integer(report.events_per_second)} events/s (${seconds(report.seconds)} s; ${cpuText(cpu)}; GC ${(gc_share * 100).toFixed(0)} %)`);
      sequential.push({ report, cpu, gc_share, ...size });
    }
    // One after the other: the sum of the rebuild times (the waits for a quiet machine and ANALYZE in between left out).
    const sequentialSeconds = sequential.reduce((sum, rebuilt) => sum + rebuilt.report.seconds, 0);
    progress(`all read models one after the other: ${integer(logEvents / sequentialSeconds)} events/s (${seconds(sequentialSeconds)} s)`);

    progress('dropping the read models again, then rebuilding all of them together (one read of the log, as `ispbills rebuild` does)');
    await dropAllGenerations(pool);
    await pool.query('CHECKPOINT').catch(() => undefined);
    await waitForQuiet('rebuild of all together');
    const together = await rebuildTogether(pool, store);
    progress(
      `all read models together: ${integer(logEvents / together.seconds)} events/s (${seconds(together.seconds)} s: read and folded ${seconds(together.folded_seconds)} s, ` +
        `written ${seconds(together.written_seconds - together.folded_seconds)} s, indexed and swapped ${seconds(together.seconds - together.written_seconds)} s; ${cpuText(together.cpu)}; ` +
        `peak RSS ${integer(together.peak_rss_mib)} MiB, GC ${(together.gc_share * 100).toFixed(0)} %)`,
    );
    progress('ANALYZE of every read model table');
    await analyzeLive(pool);

    // ---- figure 3: search (before the lag phase, so it reads the rebuilt read model as it is)
    progress(`customer search: ${integer(SEARCH_SAMPLES)} searches per kind`);
    const customersLive = (await liveGeneration(pool, 'customers'))!;
    const customerRows = Number((await pool.query<{ count: string }>('SELECT count(*) AS count FROM customers')).rows[0]!.count);
    const sampled = await sampleCustomers(pool, 5_000);
    const kinds = searchKinds(sampled);
    for (const kind of kinds) await runSearchKind(pool, kind, 1); // warm-up: every kind once
    await waitForQuiet('search');
    const searchMeter = startCpuMeter(postgresPid);
    const searches: SearchResult[] = [];
    for (const kind of kinds) {
      const result = await runSearchKind(pool, kind);
      progress(`search "${kind.label}": p50 ${ms(result.latency.percentile(50))} ms, p95 ${ms(result.latency.percentile(95))} ms, p99 ${ms(result.latency.percentile(99))} ms`);
      searches.push(result);
    }
    const searchCpu = searchMeter();
    const allSearches = new LatencyRecorder();
    for (const result of searches) for (const sample of result.samples) allSearches.record(sample.ms);
    const plans: { label: string; ms: number; plan: string; without_index_scans: LatencyRecorder }[] = [];
    for (const result of searches) {
      if (result.latency.percentile(95) <= TARGET_SEARCH_P95_MS) continue;
      const p95 = result.latency.percentile(95);
      const typical = result.samples.reduce((best, sample) => (Math.abs(sample.ms - p95) < Math.abs(best.ms - p95) ? sample : best));
      const without_index_scans = await searchWithoutIndexScans(pool, result.samples.map((sample) => sample.input));
      progress(`search "${result.label}" without plain index scans: p50 ${ms(without_index_scans.percentile(50))} ms, p95 ${ms(without_index_scans.percentile(95))} ms`);
      plans.push({ label: result.label, ms: typical.ms, plan: await explainSearch(pool, typical.input), without_index_scans });
    }
    for (const plan of plans) progress(`plan of a slow "${plan.label}" (${ms(plan.ms)} ms):\n${plan.plan}`);

    // ---- figure 2: lag
    progress('lag: warming the command side (operators folded once and snapshotted), starting the projector');
    clockBase = { wall: Date.now(), business: LIVE_FROM.getTime() };
    for (const owner of OWNERS) await loadOperator(runtime, TENANT, owner.operator_id);
    const issue = commandIssuer(runtime);
    // A diagnostic first: what the command side sustains on this machine with no projector running.
    await waitForQuiet('commands alone');
    const aloneMeter = startCpuMeter(postgresPid);
    const alone = await openLoop({ rate: COMMAND_RATE, warmup_seconds: 2, seconds: 10, max_in_flight: MAX_IN_FLIGHT, issue, on_written: () => undefined });
    const aloneCpu = aloneMeter();
    progress(`commands alone (no projector): sustained ${integer(alone.throughput)}/s of ${integer(COMMAND_RATE)}/s offered; ${cpuText(aloneCpu)}`);
    projector = new Projector(pool, store, ALL_PROJECTIONS, { logger: pino({ level: 'warn' }, pino.destination(2)) });
    projector.start();
    const names = ALL_PROJECTIONS.map((projection) => projection.name);
    const head = await store.headPosition();
    for (let attempt = 1; ; attempt += 1) {
      try {
        await waitForProjections(pool, names, head, { timeout_ms: 30_000 });
        break;
      } catch (error) {
        if (attempt >= 10) throw error;
      }
    }
    const here = inProcess(projector);
    const lagPhases: LagPhase[] = [await lagPhase(`lag at ${integer(COMMAND_RATE)}/s`, COMMAND_RATE, pool, here, issue)];
    const first = lagPhases[0]!;
    let rate = COMMAND_RATE;
    if (first.load.throughput < COMMAND_RATE * 0.95) {
      rate = Math.max(10, Math.floor((first.load.throughput * 0.9) / 10) * 10);
      progress(`the command side sustained ${integer(first.load.throughput)}/s, not ${integer(COMMAND_RATE)}/s: measuring again at ${integer(rate)}/s`);
      lagPhases.push(await lagPhase(`lag at ${integer(rate)}/s`, rate, pool, here, issue));
    }
    await projector.stop();
    projector = null;
    // A diagnostic: the same load with the projector in a process of its own (the `project` role), polling.
    progress(`starting a projector in a process of its own (poll every ${OWN_PROCESS_POLL_MS} ms)`);
    const own = await ownProcess(databaseUrl, pool, OWN_PROCESS_POLL_MS);
    let ownDelay: Readonly<{ p50: number; p99: number }> | null = null;
    try {
      const phase = await lagPhase(`lag at ${integer(rate)}/s, projector in its own process`, rate, pool, { ...own, event_loop_delay: async () => ownDelay }, issue);
      ownDelay = await own.stop();
      lagPhases.push({ ...phase, event_loop_delay: ownDelay });
    } catch (error) {
      await own.stop().catch(() => undefined);
      throw error;
    }

    const backgroundAfter = await backgroundLoad(3);
    progress(`background load after the run: ${cpuText(backgroundAfter)}`);

    const section = sectionMarkdown({
      facts,
      server_kind: server.kind,
      code,
      history,
      generation_cpu: generationCpu,
      log_events: logEvents,
      log_bytes: logBytes,
      pass,
      sequential,
      sequential_seconds: sequentialSeconds,
      together,
      searches,
      all_searches: allSearches,
      search_cpu: searchCpu,
      customer_rows: customerRows,
      customers_schema: customersLive.schema_name,
      plans,
      lag: lagPhases,
      alone,
      alone_cpu: aloneCpu,
      background: `Background CPU load (other programs) in 3 s idle windows: ${cores(backgroundBefore.other_cores)} cores before the run, ${cores(backgroundAfter.other_cores)} after.`,
      total_seconds: (performance.now() - began) / 1000,
    });
    process.stdout.write(`\n${section}\n`);
    if (process.env.BENCH_NO_RESULTS === '1') {
      progress('BENCH_NO_RESULTS=1: bench/RESULTS.md left unchanged');
    } else {
      writeResultsSection(HEADING, section, facts.version);
      progress('wrote the section to bench/RESULTS.md');
    }
  } finally {
    await projector?.stop().catch(() => undefined);
    await database.close();
    await server.stop();
  }
}

// ---------------------------------------------------------------------------------------------- report

/** CPU time this benchmark's own processes (Node and PostgreSQL) spent in a phase. */
const ourCpuSeconds = (cpu: CpuUse, phase_seconds: number): number => (cpu.node_cores + (cpu.postgres_cores ?? 0)) * phase_seconds;

/** Which side a phase spent its CPU on. */
const boundBy = (cpu: CpuUse): string => {
  const busy = cpu.node_cores + (cpu.postgres_cores ?? 0) + cpu.other_cores;
  const side = (cpu.postgres_cores ?? 0) > cpu.node_cores ? `PostgreSQL (${cores(cpu.postgres_cores)} cores against Node's ${cores(cpu.node_cores)})` : `Node (${cores(cpu.node_cores)} cores against PostgreSQL's ${cores(cpu.postgres_cores)})`;
  return `mostly ${side}${busy >= 1.8 ? `, with the machine's ${os.availableParallelism()} CPUs all but full (${busy.toFixed(2)} cores busy, ${cores(cpu.other_cores)} of them other programs)` : ''}`;
};

/** Plain statements, computed from the run, about why each figure that missed did. */
function limitsText(input: Readonly<{
  sequential: readonly Rebuilt[];
  together: Together;
  pass: Readonly<{ events: number; seconds: number; cpu: CpuUse }>;
  pass_rate: number;
  sequential_rate: number;
  together_rate: number;
  lag: readonly LagPhase[];
  alone: OpenLoopResult;
  searches: readonly SearchResult[];
  plans: readonly { label: string; ms: number; plan: string; without_index_scans: LatencyRecorder }[];
}>): string[] {
  const lines: string[] = [];
  if (input.together_rate < TARGET_REBUILD_EVENTS_PER_SECOND) {
    const t = input.together;
    const fold_rate = input.pass.events / t.folded_seconds;
    const cpuSeconds = ourCpuSeconds(t.cpu, t.seconds);
    lines.push(
      `- Rebuild of all together: ${seconds(t.seconds)} s, of which reading the log and folding it in memory took ${seconds(t.folded_seconds)} s (${integer(fold_rate)} events/s; ` +
        `a bare \`readAll\` pass runs at ${integer(input.pass_rate)} events/s, so reading alone is ${((input.pass.seconds / t.folded_seconds) * 100).toFixed(0)} % of it), ` +
        `writing every row once with COPY ${seconds(t.written_seconds - t.folded_seconds)} s, and the secondary indexes, catch-up and swap ${seconds(t.seconds - t.written_seconds)} s. ` +
        `Node's GC took ${(t.gc_share * 100).toFixed(0)} % of the wall time (${integer(t.peak_heap_mib)} MiB of rows and events on the heap at the peak). ` +
        `CPU: ${cpuText(t.cpu)}; ${boundBy(t.cpu)}. Counted in CPU time, ${seconds(cpuSeconds)} CPU-seconds of Node and PostgreSQL: ${integer(input.pass.events / cpuSeconds)} events per CPU-second.`,
    );
  }
  const measured = input.lag.filter((phase) => !phase.label.includes('own process'));
  const first = measured[0];
  if (first !== undefined && first.load.throughput < COMMAND_RATE * 0.95) {
    lines.push(
      `- Lag at ${integer(COMMAND_RATE)} commands/s could not be measured at that rate: the command side sustained ${integer(first.load.throughput)}/s with the projector running ` +
        `and ${integer(input.alone.throughput)}/s with no projector at all (${boundBy(first.cpu)}). The figure is then the lag at the rate it sustains.`,
    );
  }
  for (const phase of input.lag) {
    const p99 = phase.tracker.overall.percentile(99);
    if (p99 <= TARGET_LAG_P99_MS && phase.lost === 0) continue;
    const visible = phase.visibility.percentile(99);
    const slowest = ALL_PROJECTIONS.map((projection, index) => ({ name: projection.name, p99: phase.tracker.per_projection[index]!.percentile(99) })).sort((a, b) => b.p99 - a.p99)[0]!;
    lines.push(
      `- ${phase.label}: lag p99 ${ms(p99)} ms. Events only become visible to \`readAll\` once every transaction that began before them has ended ` +
        `(p99 ${ms(visible)} ms of waiting, before any projection can see them); the slowest projection to reach a position was ${slowest.name} (p99 ${ms(slowest.p99)} ms). ` +
        `The pool had ${phase.pool_waiting_mean.toFixed(1)} waiters on average; the event loop of the commands' process was delayed ${ms(phase.command_event_loop_delay.p99)} ms at p99.`,
    );
  }
  for (const result of input.searches) {
    if (result.latency.percentile(95) <= TARGET_SEARCH_P95_MS) continue;
    const plan = input.plans.find((candidate) => candidate.label === result.label);
    const removed = plan === undefined ? null : /Rows Removed by Filter: (\d+)/.exec(plan.plan)?.[1];
    const top = plan === undefined ? '' : (plan.plan.split('\n').find((line) => /Scan/.test(line)) ?? '').replace(/\(cost=.*$/, '').replace(/^[\s>-]+/, '').trim();
    const forced = plan?.without_index_scans;
    lines.push(
      `- Search "${result.label}": p95 ${ms(result.latency.percentile(95))} ms. ` +
        (top === '' ? '' : `Its plan: ${top}${removed === null || removed === undefined ? '' : `, discarding ${integer(Number(removed))} rows that do not match`}. `) +
        (forced === undefined || forced.count === 0 ? '' : `Collecting the matches through the indexes instead and sorting them (\`enable_indexscan = off\`) gave p95 ${ms(forced.percentile(95))} ms on the same searches.`),
    );
  }
  if (lines.length === 0) lines.push('- Every figure met its target.');
  return lines;
}

const met = (ok: boolean): string => (ok ? 'met' : '**missed**');
const gib = (bytes: number): string => `${(bytes / 1024 ** 3).toFixed(2)} GiB`;

function sectionMarkdown(input: Readonly<{
  facts: ServerFacts;
  server_kind: string;
  code: string;
  history: HistoryReport;
  generation_cpu: CpuUse;
  log_events: number;
  log_bytes: number;
  pass: Readonly<{ events: number; seconds: number; cpu: CpuUse }>;
  sequential: readonly Rebuilt[];
  sequential_seconds: number;
  together: Together;
  searches: readonly SearchResult[];
  all_searches: LatencyRecorder;
  search_cpu: CpuUse;
  customer_rows: number;
  customers_schema: string;
  plans: readonly { label: string; ms: number; plan: string; without_index_scans: LatencyRecorder }[];
  lag: readonly LagPhase[];
  alone: OpenLoopResult;
  alone_cpu: CpuUse;
  background: string;
  total_seconds: number;
}>): string {
  const settings = Object.entries(input.facts.settings)
    .map(([name, value]) => `${name}=${value}`)
    .join(', ');
  const full = CUSTOMERS >= 1_000_000 && input.log_events >= 1_000_000;
  const sequentialRate = input.log_events / input.sequential_seconds;
  const togetherRate = input.log_events / input.together.seconds;
  const passRate = input.pass.events / input.pass.seconds;
  const searchP95 = input.all_searches.percentile(95);

  const summary = [
    '| Figure | Result | Target | |',
    '|---|---|---|---|',
    `| Rebuild of all ${ALL_PROJECTIONS.length} read models together (\`ispbills rebuild\`: one read of the log), from ${integer(input.log_events)} events | ${integer(togetherRate)} events/s (${seconds(input.together.seconds)} s, peak RSS ${integer(input.together.peak_rss_mib)} MiB) | ≥ ${integer(TARGET_REBUILD_EVENTS_PER_SECOND)} events/s | ${met(togetherRate >= TARGET_REBUILD_EVENTS_PER_SECOND)} |`,
    `| Same, each read model rebuilt on its own, one after the other | ${integer(sequentialRate)} events/s (${seconds(input.sequential_seconds)} s) | — | — |`,
    ...input.lag.map(
      (phase) =>
        `| Projection lag, all ${ALL_PROJECTIONS.length} projections, ${integer(phase.load.offered_rate)} commands/s offered (${integer(phase.load.throughput)}/s sustained) | p50 ${ms(phase.tracker.overall.percentile(50))} ms, p99 ${ms(phase.tracker.overall.percentile(99))} ms, max ${ms(phase.tracker.overall.percentile(100))} ms | p99 ≤ ${integer(TARGET_LAG_P99_MS)} ms at ${integer(COMMAND_RATE)} commands/s | ${phase.load.offered_rate < COMMAND_RATE ? 'below the target rate' : met(phase.tracker.overall.percentile(99) <= TARGET_LAG_P99_MS && phase.load.throughput >= COMMAND_RATE * 0.95 && phase.lost === 0)} |`,
    ),
    `| Customer search over ${integer(input.customer_rows)} customers, all kinds | p50 ${ms(input.all_searches.percentile(50))} ms, p95 ${ms(searchP95)} ms, p99 ${ms(input.all_searches.percentile(99))} ms | p95 ≤ ${TARGET_SEARCH_P95_MS} ms | ${met(searchP95 <= TARGET_SEARCH_P95_MS)} |`,
  ];

  const sequentialCpuSeconds = input.sequential.reduce((sum, r) => sum + ourCpuSeconds(r.cpu, r.report.seconds), 0);
  const rebuildRows = [
    '| Read model | Events/s | Seconds | Ratio to the read pass | Node (cores) | PostgreSQL (cores) | Other (cores) | CPU-seconds, Node + PostgreSQL | Events per CPU-second | Node GC | Rows written | Size with indexes |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    `| (baseline) readAll pass, pages of ${integer(REBUILD_BATCH)}, nothing applied | ${integer(passRate)} | ${seconds(input.pass.seconds)} | 1.00 | ${cores(input.pass.cpu.node_cores)} | ${cores(input.pass.cpu.postgres_cores)} | ${cores(input.pass.cpu.other_cores)} | ${seconds(ourCpuSeconds(input.pass.cpu, input.pass.seconds))} | ${integer(input.pass.events / ourCpuSeconds(input.pass.cpu, input.pass.seconds))} | | | |`,
    ...input.sequential.map(
      (r) =>
        `| ${r.report.projection} | ${integer(r.report.events_per_second)} | ${seconds(r.report.seconds)} | ${ratio(r.report.events_per_second / passRate)} | ${cores(r.cpu.node_cores)} | ${cores(r.cpu.postgres_cores)} | ${cores(r.cpu.other_cores)} | ` +
        `${seconds(ourCpuSeconds(r.cpu, r.report.seconds))} | ${integer(r.report.events_applied / ourCpuSeconds(r.cpu, r.report.seconds))} | ${(r.gc_share * 100).toFixed(0)} % | ${integer(r.rows)} | ${gib(r.bytes)} |`,
    ),
    `| **all, one after the other** | **${integer(sequentialRate)}** | ${seconds(input.sequential_seconds)} | ${ratio(sequentialRate / passRate)} | | | | ${seconds(sequentialCpuSeconds)} | ${integer(input.log_events / sequentialCpuSeconds)} | | | |`,
    `| **all together** (one read of the log: read and folded ${seconds(input.together.folded_seconds)} s, COPY ${seconds(input.together.written_seconds - input.together.folded_seconds)} s, indexes and swap ${seconds(input.together.seconds - input.together.written_seconds)} s) | **${integer(togetherRate)}** | ${seconds(input.together.seconds)} | ${ratio(togetherRate / passRate)} | ` +
      `${cores(input.together.cpu.node_cores)} | ${cores(input.together.cpu.postgres_cores)} | ${cores(input.together.cpu.other_cores)} | ${seconds(ourCpuSeconds(input.together.cpu, input.together.seconds))} | ` +
      `${integer(input.log_events / ourCpuSeconds(input.together.cpu, input.together.seconds))} | ${(input.together.gc_share * 100).toFixed(0)} % | | |`,
  ];

  const types = [...input.history.by_type.entries()].sort((a, b) => b[1] - a[1]);
  const composition = types.map(([type, count]) => `${type} ${integer(count)}`).join(', ');

  const lagRows = [
    '| Phase | Offered /s | Sustained /s | Accepted | Refused | Failed | Not started (behind) | Command response p50 / p99 ms | Start delay p99 ms | Lag p50 / p95 / p99 / max ms | Of which: until visible to readers, p50 / p99 ms | Samples | Not reached after 300 s | Drain after the load | CPU | Pool waiters mean / max | Event-loop delay p50 / p99 ms: commands, projector |',
    '|---|---:|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|',
    ...input.lag.map((phase) => {
      const l = phase.load;
      const t = phase.tracker.overall;
      const refused = [...l.refused.entries()].map(([code, n]) => `${code} ×${n}`).join(', ') || 'none';
      const failed = [...l.failed.entries()].map(([code, n]) => `${code} ×${n}`).join(', ') || 'none';
      return (
        `| ${phase.label} | ${integer(l.offered_rate)} | ${integer(l.throughput)} | ${integer(l.accepted)} | ${refused} | ${failed} | ${integer(l.not_started)} | ${ms(l.response.percentile(50))} / ${ms(l.response.percentile(99))} | ${ms(l.start_delay.percentile(99))} | ` +
        `${ms(t.percentile(50))} / ${ms(t.percentile(95))} / ${ms(t.percentile(99))} / ${ms(t.percentile(100))} | ${ms(phase.visibility.percentile(50))} / ${ms(phase.visibility.percentile(99))} | ${integer(t.count)} | ${phase.lost} | ${phase.drain_seconds.toFixed(1)} s | ${cpuText(phase.cpu)} | ${phase.pool_waiting_mean.toFixed(1)} / ${phase.pool_waiting_max} | ` +
        `${ms(phase.command_event_loop_delay.p50)} / ${ms(phase.command_event_loop_delay.p99)}, ${phase.event_loop_delay === null ? 'n/a' : `${ms(phase.event_loop_delay.p50)} / ${ms(phase.event_loop_delay.p99)}`} |`
      );
    }),
  ];
  const perProjection = [
    `| Projection | ${input.lag.map((phase) => `${phase.label}: lag p50 / p99 ms, batches, events per batch`).join(' | ')} |`,
    `|---|${input.lag.map(() => '---:').join('|')}|`,
    ...ALL_PROJECTIONS.map((projection, index) => {
      const cells = input.lag.map((phase) => {
        const recorder = phase.tracker.per_projection[index]!;
        const batches = phase.tracker.advances[index]!;
        const applied = phase.applied.get(projection.name) ?? 0;
        return `${ms(recorder.percentile(50))} / ${ms(recorder.percentile(99))}, ${integer(batches)}, ${batches === 0 ? '–' : (applied / batches).toFixed(1)}`;
      });
      return `| ${projection.name} | ${cells.join(' | ')} |`;
    }),
  ];
  const lagTrend = input.lag.map((phase) => {
    const buckets = new Map<number, LatencyRecorder>();
    for (const [at, lag] of phase.tracker.timeline) {
      const bucket = Math.floor(at / 10) * 10;
      if (!buckets.has(bucket)) buckets.set(bucket, new LatencyRecorder());
      buckets.get(bucket)!.record(lag);
    }
    return `${phase.label}, p99 per 10 s of the window: ${[...buckets.entries()].sort((a, b) => a[0] - b[0]).map(([from, recorder]) => `${from}–${from + 10} s ${ms(recorder.percentile(99))} ms`).join(', ')}.`;
  });

  const searchRows = [
    '| Query kind | Searches | p50 ms | p95 ms | p99 ms | Deepest page p95 ms | Rows per search | |',
    '|---|---:|---:|---:|---:|---:|---:|---|',
    ...input.searches.map(
      (s) =>
        `| ${s.label} | ${integer(s.latency.count)} | ${ms(s.latency.percentile(50))} | ${ms(s.latency.percentile(95))} | ${ms(s.latency.percentile(99))} | ${s.deepest === null ? '' : ms(s.deepest.percentile(95))} | ${(s.rows / s.latency.count).toFixed(1)} | ${met(s.latency.percentile(95) <= TARGET_SEARCH_P95_MS)} |`,
    ),
    `| **all kinds** | ${integer(input.all_searches.count)} | ${ms(input.all_searches.percentile(50))} | ${ms(searchP95)} | ${ms(input.all_searches.percentile(99))} | | | ${met(searchP95 <= TARGET_SEARCH_P95_MS)} |`,
  ];
  const planText = input.plans.map((plan) => {
    const lines = plan.plan.split('\n');
    const kept = lines.filter((line) => !/^\s*Buffers:|^\s*Planning:/.test(line)).slice(0, 14);
    const w = plan.without_index_scans;
    return [
      `Plan of a "${plan.label}" search near its p95 (${ms(plan.ms)} ms when measured):`,
      '',
      '```',
      ...kept,
      ...(lines.length > kept.length ? ['…'] : []),
      '```',
      '',
      `The same ${integer(w.count)} searches with \`SET LOCAL enable_indexscan = off\` (a diagnostic: matches collected by bitmap index scans, then sorted): ` +
        `p50 ${ms(w.percentile(50))} ms, p95 ${ms(w.percentile(95))} ms, p99 ${ms(w.percentile(99))} ms.`,
    ].join('\n');
  });

  const limits = limitsText({ ...input, pass_rate: passRate, sequential_rate: sequentialRate, together_rate: togetherRate });

  return [
    HEADING,
    '',
    `Run ${new Date().toISOString()} by \`npx tsx bench/projections.bench.ts\` (${integer(input.total_seconds)} s in all${full ? '' : `; **BENCH_CUSTOMERS=${integer(CUSTOMERS)}: below the figures' size, not a result**`}) against ` +
      `${input.server_kind === 'embedded' ? 'a durable embedded' : 'an external'} PostgreSQL ${input.facts.version} (${settings}), client and server on this machine. ` +
      `Code measured: ${input.code}.`,
    '',
    ...summary,
    '',
    '### What limits the figures',
    '',
    'Derived from the measurements below by the benchmark itself:',
    '',
    ...limits,
    '',
    '### The log',
    '',
    `${integer(input.history.customers)} customers of one ISP (BDT, Asia/Dhaka; 8 packages; the ISP, 10 resellers and 100 sub-resellers: the ISP serves 15 %, reseller res-0's subtree 40 %, the other nine 5 % each). ` +
      'Every event is what the commands would append, decided by the domain\'s own deciders (registration with a reservation stream per username/MAC/static IP, ' +
      'payments with the commission chain\'s wallet events, monthly bills, locks, details changes, suspensions), with metadata actor, tenant, correlation, causation and command id, ' +
      `and appended 100 streams per \`appendToStreams\` (its limit) from 3 writers: registrations ${seconds(input.history.registration_seconds)} s, activity ${seconds(input.history.activity_seconds)} s ` +
      `(${cpuText(input.generation_cpu)}). ${integer(input.log_events)} events, ${gib(input.log_bytes)} with indexes, VACUUM (ANALYZE) before reading. By type: ${composition}.`,
    '',
    '### 1. Rebuild',
    '',
    `First each read model on its own (\`rebuildProjection\`), then all ${ALL_PROJECTIONS.length} together (\`rebuildProjections\`, what \`ispbills rebuild\` runs), each from position 0 into a fresh generation ` +
      `with pages of ${integer(REBUILD_BATCH)} events and no live generation to compare against (a first build, or a new version: the EXCEPT ALL comparison that runs when the live generation ` +
      'has the same version is not included). A rebuild reads the log, folds it in memory with the projections\' own handlers, writes every row once with COPY, then builds the secondary ' +
      'indexes, catches up and swaps (projections/rebuild.ts). The events/s of a read model count every event of the log, since it has to read them all; "one after the other" is events ' +
      'in the log ÷ the sum of the single rebuilds\' times. Before the run of all together every generation was dropped, so both runs build from nothing.',
    '',
    ...rebuildRows,
    '',
    'The CPU-seconds are what the benchmark\'s own Node process and PostgreSQL server used, which other programs on a shared machine do not inflate the way they inflate wall time; ' +
      'events per CPU-second estimates the rate on an idle machine for a rebuild that keeps one core busy at a time.',
    '',
    '### 2. Projection lag',
    '',
    `A \`Projector\` with all ${ALL_PROJECTIONS.length} projections (defaults: batches of up to 1,000, 100 ms poll when idle) in the same process, on the same pool of ${POOL_SIZE} connections and the same \`PostgresEventStore\` as the command runtime ` +
      '(as `ispbills start` runs them: an append wakes the subscriptions at once). Commands go through the real command runtime, open loop ' +
      `(command k is due at k ÷ rate whether earlier ones finished or not; at most ${MAX_IN_FLIGHT} in flight; commands still not started when the window ends are dropped and counted), ` +
      `${LAG_WARMUP_SECONDS} s of warm-up then ${LAG_SECONDS} s measured (the commands that started in those ${LAG_SECONDS} s): ` +
      '15 % register a customer (customer stream + reservations), 40 % change a customer\'s details, 15 % cash recharges (customer + chain wallets, commission), 15 % suspensions, 15 % resumptions. ' +
      'Lag of a command = from its append returning (the result carries its log position) until every projection\'s checkpoint, committed in `projection_generations`, reached that position ' +
      '(taken from the projector\'s `advanced` notification, emitted right after that commit). Every command that wrote is a sample. ' +
      '"Until visible to readers": until `pg_snapshot_xmin` passed the command\'s transaction, i.e. until `readAll` can return its events at all ' +
      '(every transaction that began before it, command or projection batch, has ended), polled every 5 ms on a connection of its own. ' +
      `When the command side could not sustain ${integer(COMMAND_RATE)}/s, a second phase offers 90 % of what it sustained. ` +
      `The last phase is a diagnostic: the same rate with the projector in a process of its own (its own pool of 10 and event store, as the \`project\` role would run it; ` +
      `an append in another process cannot wake its subscriptions, so it polls every ${OWN_PROCESS_POLL_MS} ms); its CPU is counted with Node's.`,
    '',
    ...lagRows,
    '',
    `For comparison, the same command mix with no projector running sustained ${integer(input.alone.throughput)} commands/s of ${integer(input.alone.offered_rate)} offered ` +
      `(10 s after 2 s of warm-up; response p50 ${ms(input.alone.response.percentile(50))} ms; ${cpuText(input.alone_cpu)}).`,
    '',
    ...perProjection,
    '',
    ...lagTrend,
    '',
    '### 3. Customer search',
    '',
    `\`searchCustomers\` (projections/queries/customer-search.ts) on the rebuilt \`customers\` read model (${input.customers_schema}.customers, ${integer(input.customer_rows)} rows, after ANALYZE), ` +
      `one search at a time, ${integer(SEARCH_SAMPLES)} per kind (paging kinds: that many pages, following \`next\`), terms taken from 5,000 random customers, every kind warmed once first. ` +
      `CPU during the searches: ${cpuText(input.search_cpu)}.`,
    '',
    ...searchRows,
    '',
    ...(planText.length === 0 ? ['Every kind met the target.'] : planText.flatMap((text) => [text, ''])),
    '',
    input.background,
    '',
  ].join('\n');
}

await main();
