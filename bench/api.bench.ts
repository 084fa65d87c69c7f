/**
 * The HTTP API (issue 6) at 100,000 customers, over real HTTP: p95 latency and requests/s of
 *  1. customer list/search, `GET /api/v1/customers` (a mix of text searches, filters and deeper pages), and
 *  2. the payment command, `POST /api/v1/customers/:id/payments` (cash, each with its own Idempotency-Key),
 * against the targets p95 ≤ 50 ms and ≥ 1,000 requests/s each.
 *
 *   npx tsx bench/api.bench.ts          (or: npm run bench:api)
 *
 * The server is what `ispbills serve` runs (buildApp with a pool of DATABASE_POOL_SIZE = 20, logging at info to
 * /dev/null) in a process of its own; the load generator (autocannon) runs in this process; both share the
 * machine with PostgreSQL (durable embedded server, fsync on). The history is made by bench/support/isp-history.ts
 * (the domain's own deciders, appended in bulk) and the read models are rebuilt from it before measuring.
 *
 * Environment:
 *   BENCH_DATABASE_URL     use that server instead of a durable embedded one (the role needs CREATE DATABASE)
 *   BENCH_CUSTOMERS        customers in the history (default 100,000; the figures need 100,000)
 *   BENCH_API_SECONDS      measured seconds per run (default 15), after BENCH_API_WARMUP_SECONDS (default 3)
 *   BENCH_API_CONNECTIONS  concurrent connections, a comma-separated sweep (default 4,16,64)
 *   BENCH_API_QUIET_SECONDS  how long to wait for other programs to calm down before each run (default 30)
 *   BENCH_NO_RESULTS=1     print only; leave bench/RESULTS.md alone
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import type pg from 'pg';
import pino from 'pino';
import { createLogin } from '../api/access/logins.js';
import { buildApp } from '../api/app.js';
import { settingsFor } from '../api/dependencies.js';
import { openDatabase } from '../cli/database.js';
import { CommandRuntime, type Clock } from '../commands/command-runtime.js';
import { PostgresSnapshotStore } from '../commands/snapshots.js';
import { PostgresEventStore } from '../eventstore/postgres/postgres-event-store.js';
import { migrateToLatest } from '../migrations/index.js';
import { ALL_PROJECTIONS } from '../projections/index.js';
import { searchCustomers, type CustomerSearch } from '../projections/queries/customer-search.js';
import { rebuildProjections } from '../projections/rebuild.js';
import { appendHistory, LARGE_SUBTREE, LIVE_FROM, PACKAGE_IDS, setUpIsp, TENANT } from './support/isp-history.js';
import { integer, LatencyRecorder, ms, startCpuMeter, type CpuUse, positiveInteger } from './support/measure.js';
import { serverFacts, startBenchServer } from './support/postgres-server.js';
import { writeResultsSection } from './support/results-file.js';

const HEADING = '## API: customer search and payments over HTTP (issue 6)';
const CUSTOMERS = positiveInteger('BENCH_CUSTOMERS', 100_000);
const SECONDS = positiveInteger('BENCH_API_SECONDS', 15);
const WARMUP_SECONDS = positiveInteger('BENCH_API_WARMUP_SECONDS', 3);
const CONNECTIONS = (process.env.BENCH_API_CONNECTIONS ?? '4,16,64').split(',').map((text) => Number(text.trim()));
const QUIET_WAIT_SECONDS = positiveInteger('BENCH_API_QUIET_SECONDS', 30);
/** `ispbills serve`'s default DATABASE_POOL_SIZE. */
const SERVER_POOL_SIZE = 20;
const PASSWORD = 'bench password 2026';
const TARGET_P95_MS = 50;
const TARGET_RATE = 1_000;

const progress = (line: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
};

/** Business time runs on from LIVE_FROM (after the generated history), at the wall clock's pace. */
function liveClock(): Clock {
  const wall = Date.now();
  return { now: () => new Date(LIVE_FROM.getTime() + (Date.now() - wall)) };
}

// ---------------------------------------------------------------------------------------------- the server process

type ServerMessage = Readonly<{ kind: 'listening'; port: number }>;

/** `ispbills serve`, as far as the API goes: buildApp on its own pool, listening on a free port. */
async function serve(url: string): Promise<void> {
  const database = openDatabase(url, SERVER_POOL_SIZE);
  const store = new PostgresEventStore(database.pool);
  const clock = liveClock();
  const runtime = new CommandRuntime({ store, snapshots: new PostgresSnapshotStore(database.pool), clock });
  // serve's default LOG_LEVEL is info (a line per request and per reply); to /dev/null so no terminal slows it.
  const logger = pino({ level: process.env.BENCH_API_LOG_LEVEL ?? 'info', base: { service: 'ispbills' } }, pino.destination({ dest: '/dev/null', sync: false }));
  const app = await buildApp({ pool: database.pool, store, logger, clock, runtime, settings: settingsFor('http://127.0.0.1') });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  process.send!({ kind: 'listening', port: address.port } satisfies ServerMessage);
  process.on('message', (message: unknown) => {
    if (message !== 'stop') return;
    void (async () => {
      await app.close();
      await database.close();
      process.exit(0);
    })();
  });
}

type ServerHandle = Readonly<{ base: string; pid: number; stop: () => Promise<void> }>;

async function startServer(url: string): Promise<ServerHandle> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [], {
    execArgv: process.execArgv,
    env: { ...process.env, BENCH_API_SERVER_DATABASE_URL: url },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (message) => resolve((message as ServerMessage).port));
    child.once('exit', (code) => reject(new Error(`the API server process exited with ${code} before listening`)));
  });
  return {
    base: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send('stop');
      await Promise.race([exited, sleep(10_000).then(() => child.kill('SIGKILL'))]);
    },
  };
}

/** CPU seconds (user + system) of one process so far, from /proc. */
function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

// ---------------------------------------------------------------------------------------------- load

type Login = Readonly<{ cookie: string; csrf: string }>;

async function logIn(base: string, login: string): Promise<Login> {
  const response = await fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ login, password: PASSWORD }) });
  if (response.status !== 200) throw new Error(`login ${login}: ${response.status} ${await response.text()}`);
  const cookie = response.headers.getSetCookie().find((value) => value.startsWith('ispbills_session='))!.split(';')[0]!;
  return { cookie, csrf: ((await response.json()) as { csrf_token: string }).csrf_token };
}

type Cpu = Readonly<{ server_cores: number; loadgen_cores: number; postgres_cores: number | null; other_cores: number }>;

type Run = Readonly<{
  label: string;
  connections: number;
  seconds: number;
  ok: number;
  failed: number;
  statuses: ReadonlyMap<number, number>;
  errors: number;
  latency: LatencyRecorder;
  cpu: Cpu;
  /** Runs made until one was not disturbed by other programs (the least disturbed is kept). */
  attempts: number;
  /** Latency by kind of request (searches: what was searched for). */
  by_kind: ReadonlyMap<string, LatencyRecorder>;
}>;

type NextRequest = () => Readonly<{ kind: string; method: 'GET' | 'POST'; path: string; headers: Record<string, string>; body?: string }>;

let postgresPid: number | null = null;
let serverPid = 0;

/**
 * `connections` keep-alive connections, each sending its next request as soon as the last is answered, for
 * `seconds`. Every response's time is recorded (autocannon's histogram has no p95); requests/s counts 2xx only.
 */
async function load(label: string, connections: number, seconds: number, next: NextRequest, ok_status: number): Promise<Run> {
  const latency = new LatencyRecorder();
  const statuses = new Map<number, number>();
  const meter = startCpuMeter(postgresPid);
  const serverBefore = processCpuSeconds(serverPid);
  const started = performance.now();
  const by_kind = new Map<string, LatencyRecorder>();
  // autocannon calls onResponse, then emits 'response', synchronously for one connection: the kind of the request
  // (kept in the connection's context by setupRequest) is passed from the one to the other in `answered`.
  let answered: string | undefined;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: serverBase,
        connections,
        duration: seconds,
        timeout: 30,
        requests: [
          {
            setupRequest: (request, context) => {
              const { kind, ...rest } = next();
              (context as { kind?: string }).kind = kind;
              return { ...request, ...rest };
            },
            onResponse: (_status, _body, context) => {
              answered = (context as { kind?: string }).kind;
            },
          },
        ],
      },
      (error: unknown, done: autocannon.Result) => (error ? reject(error) : resolve(done)),
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      latency.record(responseTime);
      statuses.set(statusCode, (statuses.get(statusCode) ?? 0) + 1);
      if (answered !== undefined) {
        let recorder = by_kind.get(answered);
        if (recorder === undefined) by_kind.set(answered, (recorder = new LatencyRecorder()));
        recorder.record(responseTime);
        answered = undefined;
      }
    });
  });
  const elapsed = (performance.now() - started) / 1000;
  const use: CpuUse = meter();
  const server_cores = (processCpuSeconds(serverPid) - serverBefore) / elapsed;
  const ok = statuses.get(ok_status) ?? 0;
  return {
    label,
    connections,
    seconds: result.duration,
    ok,
    failed: [...statuses.values()].reduce((sum, count) => sum + count, 0) - ok,
    statuses,
    errors: result.errors + result.timeouts,
    latency,
    // The server process is "other" to the meter (neither this process nor PostgreSQL): take it out of there.
    cpu: { server_cores, loadgen_cores: use.node_cores, postgres_cores: use.postgres_cores, other_cores: Math.max(0, use.other_cores - server_cores) },
    attempts: 1,
    by_kind,
  };
}

/** Other programs' CPU while this benchmark idles, in cores (the API server idles too). */
async function backgroundCores(window_seconds: number): Promise<number> {
  const meter = startCpuMeter(postgresPid);
  const serverBefore = processCpuSeconds(serverPid);
  await sleep(window_seconds * 1000);
  return Math.max(0, meter().other_cores - (processCpuSeconds(serverPid) - serverBefore) / window_seconds);
}

/** The machine is shared: wait (up to BENCH_API_QUIET_SECONDS, in 2 s windows) until other programs use less than 0.1 of a core. */
async function waitForQuiet(label: string): Promise<void> {
  const started = performance.now();
  for (;;) {
    const other = await backgroundCores(2);
    if (other < 0.1) return;
    if (performance.now() - started > QUIET_WAIT_SECONDS * 1000) {
      progress(`${label}: other programs still use ${other.toFixed(2)} cores after ${QUIET_WAIT_SECONDS} s; measuring anyway`);
      return;
    }
  }
}

const DISTURBED_CORES = 0.2;
const MAX_ATTEMPTS = 3;

/**
 * A run on a quiet machine: as bench/README.md says, a run during which other programs used 0.2 of a core or more
 * is repeated (up to three attempts), and the least disturbed one is kept. `on_attempt` sees every attempt.
 */
async function measured(label: string, connections: number, next: NextRequest, ok_status: number, on_attempt: (run: Run) => void = () => undefined): Promise<Run> {
  const runs: Run[] = [];
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
    await waitForQuiet(label);
    const run = await load(label, connections, SECONDS, next, ok_status);
    on_attempt(run);
    runs.push(run);
    if (run.cpu.other_cores < DISTURBED_CORES) break;
    progress(`${label}, ${connections} connections: other programs used ${run.cpu.other_cores.toFixed(2)} cores; measuring again`);
  }
  const best = runs.reduce((least, run) => (run.cpu.other_cores < least.cpu.other_cores ? run : least));
  return { ...best, attempts: runs.length };
}

let serverBase = '';

// ---------------------------------------------------------------------------------------------- what is asked

type Search = Readonly<{ kind: string; path: string; query: Readonly<Record<string, string>> }>;

/** A few thousand searches as staff type them, from real rows: names, mobiles, usernames, filters, deeper pages. */
async function searchPaths(pool: pg.Pool): Promise<Search[]> {
  const sample = (
    await pool.query<{ name: string; mobile: string; username: string | null; zone: string; status: string }>(
      'SELECT name, mobile, username, zone, status FROM customers WHERE tenant = $1 ORDER BY md5(customer_id) LIMIT 600',
      [TENANT],
    )
  ).rows;
  const searches: { kind: string; query: Record<string, string> }[] = [];
  const word = (name: string, round: number): string => {
    const words = name.split(' ').filter((part) => part.length >= 4 && !part.endsWith('.'));
    const chosen = words[round % words.length] ?? name;
    const length = Math.min(chosen.length, 4 + (round % 3));
    return chosen.slice(0, length).toLowerCase();
  };
  for (const [round, customer] of sample.entries()) {
    searches.push({ kind: 'part of a name (4–6 letters)', query: { text: word(customer.name, round) } });
    if (round % 2 === 0) searches.push({ kind: 'first and last name', query: { text: customer.name.split(' ').slice(-2).join(' ') } });
    if (round % 3 === 0) searches.push({ kind: 'part of a mobile number (6 digits)', query: { text: customer.mobile.slice(3, 9) } });
    if (round % 3 === 1 && customer.username !== null) searches.push({ kind: 'username, exact', query: { text: customer.username } });
    if (round % 5 === 0) searches.push({ kind: 'zone filter', query: { zone: customer.zone } });
    if (round % 7 === 0) searches.push({ kind: 'status and zone filters', query: { status: customer.status, zone: customer.zone } });
  }
  // Paging: the first five pages of the plain list, a status filter and a package filter, by their real cursors.
  const paged: [string, CustomerSearch][] = [
    ['the list, pages 1–5', { tenant: TENANT }],
    ['status filter, pages 1–5', { tenant: TENANT, status: 'expired' }],
    ['package filter, pages 1–5', { tenant: TENANT, package_id: PACKAGE_IDS[1]! }],
  ];
  for (const [kind, first] of paged) {
    let input: CustomerSearch = first;
    for (let page = 1; page <= 5; page += 1) {
      const { tenant: _tenant, within_operator_id: _within, ...query } = input;
      for (let copies = 0; copies < 20; copies += 1) searches.push({ kind, query: Object.fromEntries(Object.entries(query).map(([key, value]) => [key, String(value)])) });
      const result = await searchCustomers(pool, input);
      if (result.next === null) break;
      input = { ...input, after: result.next };
    }
  }
  // A fixed shuffle, so every run asks the same things in the same order.
  let seed = 42;
  const random = (): number => ((seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648);
  for (let i = searches.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [searches[i], searches[j]] = [searches[j]!, searches[i]!];
  }
  return searches.map(({ kind, query }) => ({ kind, query, path: `/api/v1/customers?${new URLSearchParams(query)}` }));
}

/** The plan of one search, run alone under EXPLAIN (ANALYZE, BUFFERS) through the query's own SQL. */
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

type Explained = Readonly<{ kind: string; execution_ms: string; top: string }>;

/**
 * For each search kind slower than the target (p95 at the fewest connections), one typical search of that kind
 * run alone under EXPLAIN ANALYZE: whether the query itself is slow, or only slow when it queues. Plans go to stderr.
 */
async function explainSlowKinds(pool: pg.Pool, runs: readonly Run[], searches: readonly Search[]): Promise<Explained[]> {
  const search = runs.filter((run) => run.label.includes('sessions'));
  if (search.length === 0) return [];
  const least = search.reduce((low, run) => (run.connections < low.connections ? run : low));
  const explained: Explained[] = [];
  for (const [kind, latency] of [...least.by_kind].sort(([a], [b]) => a.localeCompare(b))) {
    if (latency.percentile(95) <= TARGET_P95_MS) continue;
    const reseller = kind.endsWith(', within the largest reseller');
    const base = reseller ? kind.slice(0, -', within the largest reseller'.length) : kind;
    const sample = searches.filter((candidate) => candidate.kind === base);
    const chosen = sample[Math.floor(sample.length / 2)];
    if (chosen === undefined) continue;
    const input: CustomerSearch = { tenant: TENANT, within_operator_id: reseller ? LARGE_SUBTREE : null, ...chosen.query };
    const plan = await explainSearch(pool, input);
    progress(`plan of a "${kind}" search (${JSON.stringify(chosen.query)}):\n${plan}`);
    const execution = /Execution Time: ([\d.]+) ms/.exec(plan)?.[1] ?? '?';
    const top = plan.split('\n').find((line) => /Scan|Sort|Limit/.test(line) && !line.includes('Limit'))?.trim().replace(/\s+\(cost=.*$/, '') ?? '';
    explained.push({ kind, execution_ms: execution, top });
  }
  return explained;
}

/** Customers who may pay (not disabled), spread over the whole ISP: every operator chain, hot wallets included. */
async function payers(pool: pg.Pool): Promise<string[]> {
  return (await pool.query<{ customer_id: string }>("SELECT customer_id FROM customers WHERE tenant = $1 AND status <> 'disabled' ORDER BY md5(customer_id)", [TENANT])).rows.map((row) => row.customer_id);
}

// ---------------------------------------------------------------------------------------------- report

const cores = (value: number | null): string => (value === null ? 'n/a' : value.toFixed(2));
const verdict = (run: Run): string => {
  const p95 = run.latency.percentile(95);
  const rate = run.ok / run.seconds;
  const met = p95 <= TARGET_P95_MS && rate >= TARGET_RATE;
  return met ? 'met' : `**missed** (${[p95 > TARGET_P95_MS ? 'p95' : null, rate < TARGET_RATE ? 'rate' : null].filter((part) => part !== null).join(', ')})`;
};
const statusText = (run: Run): string => [...run.statuses].sort(([a], [b]) => a - b).map(([status, count]) => `${status}: ${integer(count)}`).join(', ') + (run.errors > 0 ? `; ${run.errors} errors/timeouts` : '');

function row(run: Run): string {
  const l = run.latency;
  return `| ${run.label} | ${run.connections} | ${integer(run.ok / run.seconds)} | ${ms(l.percentile(50))} | ${ms(l.percentile(95))} | ${ms(l.percentile(99))} | ${statusText(run)} | ${cores(run.cpu.server_cores)} / ${cores(run.cpu.postgres_cores)} / ${cores(run.cpu.loadgen_cores)} / ${cores(run.cpu.other_cores)} | ${run.attempts} | ${verdict(run)} |`;
}

// ---------------------------------------------------------------------------------------------- main

async function main(): Promise<void> {
  const began = performance.now();
  progress(`API benchmark: ${integer(CUSTOMERS)} customers, runs of ${SECONDS} s at ${CONNECTIONS.join(', ')} connections`);
  const server = await startBenchServer(progress);
  postgresPid = server.postgres_pid;
  const url = await server.createDatabase('bench_api');
  const database = openDatabase(url, 10);
  const { pool } = database;
  let api: ServerHandle | null = null;
  // Stopped by hand: still stop the API server and the embedded PostgreSQL, and remove its directory.
  const interrupted = (): void => {
    void (async () => {
      await api?.stop();
      await database.close();
      await server.stop();
      process.exit(130);
    })();
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    await migrateToLatest(database.db);
    const facts = await serverFacts(pool);
    progress(`PostgreSQL ${facts.version}; ${Object.entries(facts.settings).map(([k, v]) => `${k}=${v}`).join(', ')}`);
    const store = new PostgresEventStore(pool);
    const setupClock: Clock = { now: () => new Date('2024-12-15T06:00:00Z') };
    const runtime = new CommandRuntime({ store, snapshots: new PostgresSnapshotStore(pool), clock: setupClock });

    progress('setting up the ISP through the commands (packages, 110 operators, wallets, staff, card batches)');
    const isp = await setUpIsp(runtime);
    const history = await appendHistory(store, isp, { customers: CUSTOMERS, log: progress });
    progress(`history: ${integer(history.events)} events`);
    await pool.query('VACUUM (ANALYZE) events, streams');
    const rebuildStarted = performance.now();
    // All read models in one read of the log, as `ispbills rebuild` does.
    const reports = await rebuildProjections(pool, store, ALL_PROJECTIONS, { on_progress: () => undefined });
    progress(`rebuilt ${reports.map((report) => report.projection).join(', ')}: ${integer(reports[0]!.events_applied)} events in ${((performance.now() - rebuildStarted) / 1000).toFixed(0)} s`);
    const rebuildSeconds = (performance.now() - rebuildStarted) / 1000;
    await pool.query('ANALYZE');
    await pool.query('CHECKPOINT').catch(() => undefined);
    const customerRows = Number((await pool.query<{ n: string }>('SELECT count(*) AS n FROM customers')).rows[0]!.n);

    // Logins: the ISP's admin (sees all 100,000) and the largest reseller (~40 % in its subtree).
    await createLogin(pool, setupClock, { tenant: TENANT, login: 'admin@bench', password: PASSWORD, principal_kind: 'operator', principal_id: TENANT });
    await createLogin(pool, setupClock, { tenant: TENANT, login: 'reseller@bench', password: PASSWORD, principal_kind: 'operator', principal_id: LARGE_SUBTREE });

    api = await startServer(url);
    serverBase = api.base;
    serverPid = api.pid;
    progress(`API server (pid ${api.pid}) listening at ${api.base}`);
    const admin = await logIn(api.base, 'admin@bench');
    const reseller = await logIn(api.base, 'reseller@bench');
    const tokenResponse = await fetch(`${api.base}/api/v1/auth/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: admin.cookie, 'x-csrf-token': admin.csrf },
      body: JSON.stringify({ name: 'bench', scopes: ['customers.read', 'payments.collect'] }),
    });
    const token = ((await tokenResponse.json()) as { token: string }).token;

    const paths = await searchPaths(pool);
    progress(`${integer(paths.length)} distinct searches in the mix`);
    let nextPath = 0;
    const searchAs = (who: 'sessions' | 'token'): NextRequest => () => {
      const { kind, path } = paths[nextPath++ % paths.length]!;
      // Sessions: every other search by the admin (whole ISP), the others by the reseller (its subtree).
      const by_reseller = who === 'sessions' && nextPath % 2 === 1;
      const headers: Record<string, string> = who === 'token' ? { authorization: `Bearer ${token}` } : { cookie: (by_reseller ? reseller : admin).cookie };
      return { kind: by_reseller ? `${kind}, within the largest reseller` : kind, method: 'GET', path, headers };
    };

    const customers = await payers(pool);
    let nextPayer = 0;
    const pay: NextRequest = () => ({
      kind: 'cash payment',
      method: 'POST',
      path: `/api/v1/customers/${customers[nextPayer++ % customers.length]}/payments`,
      headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrf, 'content-type': 'application/json', 'idempotency-key': `bench-${randomUUID()}` },
      body: JSON.stringify({ amount: '100.00', method: 'cash' }),
    });

    progress(`warm-up: ${WARMUP_SECONDS} s of each`);
    await load('warm-up', 16, WARMUP_SECONDS, searchAs('sessions'), 200);
    await load('warm-up', 16, WARMUP_SECONDS, pay, 201);

    const runs: Run[] = [];
    const report = (run: Run): void => {
      runs.push(run);
      const l = run.latency;
      progress(
        `${run.label}, ${run.connections} connections: ${integer(run.ok / run.seconds)}/s, p50 ${ms(l.percentile(50))} ms, p95 ${ms(l.percentile(95))} ms, p99 ${ms(l.percentile(99))} ms; ${statusText(run)}; ` +
          `CPU server ${cores(run.cpu.server_cores)}, PostgreSQL ${cores(run.cpu.postgres_cores)}, autocannon ${cores(run.cpu.loadgen_cores)}, other ${cores(run.cpu.other_cores)}`,
      );
    };
    for (const connections of CONNECTIONS) report(await measured('GET /api/v1/customers (search mix, sessions)', connections, searchAs('sessions'), 200));
    report(await measured('GET /api/v1/customers (search mix, API token)', 16, searchAs('token'), 200));
    const paymentEvents = async (): Promise<number> => Number((await pool.query<{ n: string }>("SELECT count(*) AS n FROM events WHERE type = 'payment-received'")).rows[0]!.n);
    const paymentsBefore = await paymentEvents();
    let paid = 0;
    let in_flight_at_end = 0;
    for (const connections of CONNECTIONS) {
      report(
        await measured('POST /api/v1/customers/:id/payments (cash)', connections, pay, 201, (run) => {
          paid += run.ok;
          in_flight_at_end += run.connections;
        }),
      );
    }
    await sleep(2_000); // requests still in flight when a run ended finish on the server
    const appended = (await paymentEvents()) - paymentsBefore;
    // Each 201 is exactly one payment event; requests cut off at the end of a run (at most one per connection) may add theirs.
    if (appended < paid || appended > paid + in_flight_at_end) throw new Error(`${paid} payments answered 201 but ${appended} payment events were appended`);
    progress(`payments: ${integer(paid)} answered 201, ${integer(appended)} payment events appended (the difference: requests in flight when a run ended)`);

    const explained = await explainSlowKinds(pool, runs, paths);
    const section = render({ facts_version: facts.version, history_events: history.events, customer_rows: customerRows, rebuild_seconds: rebuildSeconds, runs, explained, search_paths: paths.length, total_seconds: (performance.now() - began) / 1000 });
    process.stdout.write(`${section}\n`);
    if (process.env.BENCH_NO_RESULTS !== '1') writeResultsSection(HEADING, section, facts.version);
  } finally {
    await api?.stop();
    await database.close();
    await server.stop();
  }
}

function render(input: Readonly<{ facts_version: string; history_events: number; customer_rows: number; rebuild_seconds: number; runs: readonly Run[]; explained: readonly Explained[]; search_paths: number; total_seconds: number }>): string {
  return [
    HEADING,
    '',
    `Run ${new Date().toISOString()} with \`npx tsx bench/api.bench.ts\` (${Math.round(input.total_seconds)} s in all) on a durable embedded PostgreSQL ${input.facts_version} (fsync on). ` +
      `History: ${integer(CUSTOMERS)} customers (bench/support/isp-history.ts: ISP → 10 resellers → 100 sub-resellers, ${integer(input.history_events)} events), ` +
      `read models rebuilt from it (${input.rebuild_seconds.toFixed(0)} s; \`customers\` holds ${integer(input.customer_rows)} rows), then ANALYZE.`,
    '',
    `The server is \`buildApp\` as \`ispbills serve\` runs it (pool of ${SERVER_POOL_SIZE}, pino at info to /dev/null, no projector: \`serve\` has none) in a process of its own on 127.0.0.1; ` +
      `autocannon (keep-alive connections, each sending its next request when the last is answered) runs in the benchmark's process. ` +
      `Every run lasts ${SECONDS} s after a ${WARMUP_SECONDS} s warm-up of each kind; p50/p95/p99 are over every response (autocannon's own histogram has no p95); requests/s counts the expected status only. ` +
      `Search: ${integer(input.search_paths)} distinct requests in a fixed shuffle — parts of names, full names, mobile digits, exact usernames, zone and status filters, and pages 1–5 of four lists by their real cursors — ` +
      `half as the ISP's admin (all customers), half as the largest reseller (~40 % in its subtree), with session cookies; one run with an API token instead. ` +
      `Payments: \`{"amount":"100.00","method":"cash"}\` collected by the ISP's admin for customers drawn from all ${integer(CUSTOMERS)} (every chain, so the resellers' wallets are written too), each with a new Idempotency-Key; ` +
      'after the runs the number of `payment-received` events appended equals the number of 201s.',
    '',
    '| request | connections | requests/s | p50 ms | p95 ms | p99 ms | statuses | CPU cores: server / PostgreSQL / autocannon / other | attempts | target (p95 ≤ 50 ms and ≥ 1,000/s) |',
    '|---|---:|---:|---:|---:|---:|---|---|---:|---|',
    ...input.runs.map(row),
    '',
    ...kindTable(input.runs),
    ...(input.explained.length === 0
      ? []
      : [
          'Each kind above the target, one typical search run alone under `EXPLAIN (ANALYZE, BUFFERS)` after the runs (the plans are on stderr):',
          '',
          '| searched for | execution ms, alone | where the time goes |',
          '|---|---:|---|',
          ...input.explained.map((entry) => `| ${entry.kind} | ${entry.execution_ms} | \`${entry.top.replaceAll('|', '/')}\` |`),
          '',
        ]),
    limitsText(input.runs),
    '',
  ].join('\n');
}

/** The searches by kind at the fewest connections (where queueing least hides what each kind costs). */
function kindTable(runs: readonly Run[]): string[] {
  const search = runs.filter((run) => run.label.includes('sessions'));
  if (search.length === 0) return [];
  const least = search.reduce((low, run) => (run.connections < low.connections ? run : low));
  const rows = [...least.by_kind].sort(([a], [b]) => a.localeCompare(b)).map(([kind, latency]) => `| ${kind} | ${integer(latency.count)} | ${ms(latency.percentile(50))} | ${ms(latency.percentile(95))} | ${ms(latency.percentile(99))} |`);
  return [`The search mix by kind, in the run at ${least.connections} connections:`, '', '| searched for | requests | p50 ms | p95 ms | p99 ms |', '|---|---:|---:|---:|---:|', ...rows, ''];
}

/** What limits a figure, read off its runs: which resource was full at the best rate, and what one request costs alone. */
function limitOf(kind: string, runs: readonly Run[]): string {
  if (runs.length === 0) return '';
  const best = runs.reduce((top, run) => (run.ok / run.seconds > top.ok / top.seconds ? run : top));
  const least = runs.reduce((low, run) => (run.connections < low.connections ? run : low));
  const { server_cores, postgres_cores, loadgen_cores, other_cores } = best.cpu;
  const total = server_cores + (postgres_cores ?? 0) + loadgen_cores + other_cores;
  const bound =
    server_cores >= 0.85
      ? 'the API process is at its one core (Node runs a request’s JavaScript on one thread), so more connections only queue'
      : total >= 1.8
        ? 'the two cores are full, so more connections only queue'
        : `the cores are not full (${total.toFixed(2)} of 2 busy): requests wait, on WAL flushes and on one another`;
  const disturbed = other_cores >= DISTURBED_CORES ? ` Other programs on this shared machine used ${other_cores.toFixed(2)} cores during that run, so it understates what the machine gives.` : '';
  return (
    `${kind}: at most ${integer(best.ok / best.seconds)}/s (at ${best.connections} connections; CPU: server ${server_cores.toFixed(2)}, PostgreSQL ${cores(postgres_cores)}, ` +
    `autocannon ${loadgen_cores.toFixed(2)}, other ${other_cores.toFixed(2)} cores), where ${bound}. ` +
    `With ${least.connections} connections, where little queues, the p95 is ${ms(least.latency.percentile(95))} ms at ${integer(least.ok / least.seconds)}/s.${disturbed}`
  );
}

function limitsText(runs: readonly Run[]): string {
  const search = runs.filter((run) => run.label.includes('sessions'));
  const payments = runs.filter((run) => run.label.startsWith('POST'));
  const least = search.length === 0 ? null : search.reduce((low, run) => (run.connections < low.connections ? run : low));
  const slowest = least === null ? null : [...least.by_kind].reduce<[string, LatencyRecorder] | null>((top, entry) => (top === null || entry[1].percentile(95) > top[1].percentile(95) ? entry : top), null);
  const slowestText = slowest === null ? '' : ` The slowest kind is "${slowest[0]}" (p95 ${ms(slowest[1].percentile(95))} ms at ${least!.connections} connections; the table above).`;
  return [
    '**What limits these figures.** This machine has 2 cores, shared by PostgreSQL, the API server and the load generator, so a figure',
    'that falls short says what 2 cores give for all three together.',
    '',
    `- ${limitOf('Search', search)}${slowestText} A search is two queries (the session, then the search) plus validating the query and serialising up to`,
    '  50 customers through the reply\'s zod schema; with an API token each request also UPDATEs the token\'s last_used_at (a write and a WAL',
    '  flush per GET: compare the token row).',
    `- ${limitOf('Payments', payments)} A payment is the whole command (the in-process figure without HTTP is in the "Domain"`,
    '  section): the idempotency lookup, loading the customer, its operator chain and package, deciding, and one durable transaction',
    '  appending to the customer and every wallet on its chain with the idempotency record (a WAL flush per payment). Cash at the',
    '  ISP\'s desk only credits the resellers\' wallets, so it does not queue on them in the process; the append still takes each',
    '  wallet stream\'s row lock until its commit, so commit latency bounds a hot reseller (40 % of these customers are under one).',
    '',
    'With PostgreSQL, the API (or several stateless `serve` processes behind a load balancer) and the clients on cores of their own,',
    'these figures are no longer limited by one another.',
  ].join('\n');
}

const child = process.env.BENCH_API_SERVER_DATABASE_URL;
if (child !== undefined && child !== '') await serve(child);
else await main();
