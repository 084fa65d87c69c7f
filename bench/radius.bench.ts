/**
 * RADIUS (issue 7): radius-bridge against a stock FreeRADIUS 3.2 with rlm_sql, on the same machine, the same
 * 100,000 users (the same projected tables), the same load generator, in one run:
 *  1. Access-Request (PAP) throughput at saturation (closed loop, a fixed number of requests in flight);
 *  2. p99 latency at a fixed offered load (open loop), the same rate for both, and radius-bridge's p99 at three
 *     times FreeRADIUS' saturation throughput;
 *  3. server CPU-seconds per 10,000 Access-Requests (FreeRADIUS' own and PostgreSQL's; radius-bridge's own and
 *     PostgreSQL's, which for it is only the batched radpostauth log);
 *  4. accounting: Start + Stop pairs per second at saturation (radacct written durably by both).
 * Target: radius-bridge ≥ 3× FreeRADIUS' Access-Request throughput with p99 ≤ 5 ms, and accounting ≥ 2×.
 *
 * Each server runs alone while measured: radius-bridge in a child process of its own (its CPU apart from the
 * generator's), FreeRADIUS with deploy/freeradius (not in debug mode), both on a durable PostgreSQL.
 * Needs: freeradius, freeradius-postgresql (Debian). Run: `npx tsx bench/radius.bench.ts` (about 6 minutes).
 *
 * Latency is timed in the generator, from the send to the reply's 'message' event; a generator whose own event
 * loop stalls would add its stall to the server's figure, so the generator's event-loop delay during each
 * fixed-rate run is measured and reported beside it, and the server's own (delay, GC pauses) is on its counters.
 *
 * Environment: RADIUS_BENCH_USERS (100000), RADIUS_BENCH_SECONDS (10), RADIUS_BENCH_WINDOW (256 in flight at
 * saturation), RADIUS_BENCH_RATE (2000/s fixed rate); BENCH_NO_RESULTS=1 prints only, leaving bench/RESULTS.md alone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { OperatorAggregate, CustomerAggregate, PackageAggregate } from '../commands/aggregates.js';
import { CommandRuntime } from '../commands/command-runtime.js';
import { loadOperator } from '../commands/operator-commands.js';
import { registerRouter } from '../commands/router-commands.js';
import { PostgresSnapshotStore } from '../commands/snapshots.js';
import { customerStream } from '../commands/streams.js';
import { openDatabase } from '../cli/database.js';
import { decideRegisterCustomer, type RegisterCustomer } from '../domain/customers/registration.js';
import type { StreamAppend } from '../eventstore/event-store.js';
import type { JsonObject } from '../eventstore/json.js';
import { PostgresEventStore } from '../eventstore/postgres/postgres-event-store.js';
import { migrateToLatest } from '../migrations/index.js';
import { Projector } from '../projections/projector.js';
import { radiusProjection } from '../projections/read-models/radius.js';
import { waitForProjections } from '../projections/status.js';
import { encodeAttributes } from '../radius-bridge/attribute-codec.js';
import { ATTRIBUTE, CODE, encryptUserPassword, signAccessRequest, signAccountingRequest, tlv } from '../radius-bridge/wire.js';
import { lastWritten } from '../test/projections/last-written.js';
import { freeRadiusVersion, startFreeRadius } from '../test/radius/support/freeradius.js';
import { admin, createDemoIsp, ok } from '../test/support/demo-isp.js';
import { integer, ms, ratio } from './support/measure.js';
import { startBenchServer, serverFacts } from './support/postgres-server.js';
import { RadiusLoad, treeCpuSeconds, type LoadResult } from './support/radius-load.js';
import { writeResultsSection } from './support/results-file.js';

const USERS = Number(process.env.RADIUS_BENCH_USERS ?? 100_000);
const SECONDS = Number(process.env.RADIUS_BENCH_SECONDS ?? 10);
const WINDOW = Number(process.env.RADIUS_BENCH_WINDOW ?? 256);
/** 16 × 256 Identifiers: an open loop at several thousand per second stays below it even when answers lag 2 s. */
const SOCKETS = 16;
const FIXED_RATE = Number(process.env.RADIUS_BENCH_RATE ?? 2_000);
const SECRET = 'bench-radius-secret';
const secret = Buffer.from(SECRET);

const log = (line: string): void => void process.stderr.write(`${line}\n`);
const load_at_start = os.loadavg()[0]!;
const version = freeRadiusVersion();
const server = await startBenchServer(log);
const url = await server.createDatabase('radius');
const database = openDatabase(url, 20);
await migrateToLatest(database.db);
const store = new PostgresEventStore(database.pool, { poll_interval_ms: 50 });
let now = new Date();
const runtime = new CommandRuntime({ store, snapshots: new PostgresSnapshotStore(database.pool), clock: { now: () => now } });
const facts = await serverFacts(database.pool);

// --- the ISP: 100,000 monthly customers (active, no expiry), one router ------------------------------------
const demo = await createDemoIsp(runtime);
const envelope = admin(demo.tenant);
ok(await registerRouter(runtime, envelope, { router_id: 'bench-router', name: 'bench', nas_ip: '127.0.0.1', secret: SECRET }));
log(`seeding ${integer(USERS)} PPPoE customers`);
{
  const isp = (await loadOperator(runtime, demo.tenant, demo.tenant))!.state;
  const owner = (await runtime.load(OperatorAggregate, `operator-${demo.tenant}`)).state;
  const pkg = (await runtime.load(PackageAggregate, `package-${demo.package_id}`)).state;
  let batch: StreamAppend[] = [];
  for (let i = 0; i < USERS; i += 1) {
    const command: RegisterCustomer = {
      customer_id: `c-${i}`, operator_id: demo.tenant, connection_type: 'pppoe', name: `Customer ${i}`, mobile: '+8801700000000', zone: 'Mirpur',
      username: `user${i}`, password: `pw-${i}`, mac: null, static_ip: null, package_id: demo.package_id,
      profile: { kind: 'monthly', due_day: 1, mode: 'postpaid', grace_days: 7 }, special_price: null, self_registered: false,
    };
    const decision = decideRegisterCustomer(CustomerAggregate.initial(), command, owner, isp, pkg, { tenant: demo.tenant, actor: envelope.actor, now });
    if (!decision.ok) throw new Error(decision.rejection.message);
    batch.push({
      stream_id: customerStream(command.customer_id),
      stream_state: 'no_stream',
      events: decision.events.map((event) => ({ event_id: randomUUID(), type: event.type, data: event.data as JsonObject, occurred_at: now, metadata: { actor: envelope.actor, tenant: demo.tenant, correlation_id: randomUUID(), causation_id: null, command_id: randomUUID() } })),
    });
    if (batch.length === 100) {
      await store.appendToStreams(batch);
      batch = [];
    }
  }
  if (batch.length > 0) await store.appendToStreams(batch);
}
log('projecting the RADIUS tables');
const projectStarted = performance.now();
const projector = new Projector(database.pool, store, [radiusProjection], { poll_interval_ms: 20, batch_size: 2_000 });
projector.start();
await waitForProjections(database.pool, ['radius'], await lastWritten(database.pool), { timeout_ms: 30_000, poll_ms: 200 }).catch(async () => {
  for (;;) {
    try {
      await waitForProjections(database.pool, ['radius'], await lastWritten(database.pool), { timeout_ms: 30_000, poll_ms: 200 });
      return;
    } catch {
      log('  still projecting…');
    }
  }
});
await projector.stop();
const projectSeconds = (performance.now() - projectStarted) / 1000;
const radcheck = (await database.pool.query<{ n: string }>('SELECT count(*) AS n FROM radcheck')).rows[0]!.n;
log(`projected in ${projectSeconds.toFixed(1)} s (${radcheck} radcheck rows)`);
now = new Date();

// --- packets, as a MikroTik PPPoE server sends them -----------------------------------------------------------
const common = encodeAttributes([
  { name: 'NAS-IP-Address', value: '127.0.0.1' },
  { name: 'NAS-Port-Type', value: 'Ethernet' },
  { name: 'Service-Type', value: 'Framed-User' },
  { name: 'Framed-Protocol', value: 'PPP' },
  { name: 'Called-Station-Id', value: 'pppoe-home' },
  { name: 'NAS-Identifier', value: 'bench' },
]);
const randomUser = (): number => Math.floor(Math.random() * USERS);
const accessRequest = (user: number) => (identifier: number): Buffer =>
  signAccessRequest(
    identifier,
    (authenticator) =>
      Buffer.concat([tlv(ATTRIBUTE.USER_NAME, `user${user}`), tlv(ATTRIBUTE.USER_PASSWORD, encryptUserPassword(Buffer.from(`pw-${user}`), secret, authenticator)), tlv(ATTRIBUTE.CALLING_STATION_ID, 'AA:BB:CC:DD:EE:FF'), common]),
    secret,
    randomBytes(16),
  );
let session_counter = 0;
const accounting = (user: number, session: string, status: 'Start' | 'Stop') => (identifier: number): Buffer =>
  signAccountingRequest(
    identifier,
    Buffer.concat([
      encodeAttributes([
        { name: 'Acct-Status-Type', value: status },
        { name: 'User-Name', value: `user${user}` },
        { name: 'Acct-Session-Id', value: session },
        { name: 'NAS-Port', value: String(user) },
        { name: 'Framed-IP-Address', value: `100.64.${(user >> 8) & 255}.${user & 255}` },
        ...(status === 'Stop'
          ? [
              { name: 'Acct-Session-Time', value: '60' },
              { name: 'Acct-Input-Octets', value: '123456' },
              { name: 'Acct-Output-Octets', value: '654321' },
              { name: 'Acct-Terminate-Cause', value: 'User-Request' },
            ]
          : []),
      ]),
      common,
    ]),
    secret,
  );

/** How late the generator's own 1 ms timer fired while `run` ran: p99 and max, ms. */
type GeneratorDelay = Readonly<{ p99_ms: number; max_ms: number }>;

async function withGeneratorDelay<T>(run: () => Promise<T>): Promise<{ result: T; delay: GeneratorDelay }> {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  try {
    const result = await run();
    return { result, delay: { p99_ms: Math.max(0, histogram.percentile(99) / 1e6 - 1), max_ms: Math.max(0, histogram.max / 1e6 - 1) } };
  } finally {
    histogram.disable();
  }
}

type Figures = {
  name: string;
  saturation: LoadResult;
  /** The load generator's CPU-seconds during the saturation run (this process). */
  cpu_generator: number;
  cpu_own: number;
  cpu_postgres: number;
  fixed: LoadResult;
  fixed_generator_delay: GeneratorDelay;
  accounting: LoadResult;
  acct_cpu_own: number;
  acct_cpu_postgres: number;
  extra?: { rate: number; result: LoadResult; generator_delay: GeneratorDelay };
};

async function measure(name: string, auth_port: number, acct_port: number, pids: () => number[], extra_rate: number | null): Promise<Figures> {
  const auth = new RadiusLoad(auth_port);
  const acct = new RadiusLoad(acct_port);
  await auth.open(SOCKETS);
  await acct.open(SOCKETS);
  const sendAuth = async (send: (build: (id: number) => Buffer) => Promise<Buffer | null>) => void (await send(accessRequest(randomUser())));
  log(`${name}: warming up`);
  await auth.closedLoop(64, 3, sendAuth);
  log(`${name}: Access-Request at saturation (${WINDOW} in flight, ${SECONDS} s)`);
  const pg_before = treeCpuSeconds(server.postgres_pid === null ? [] : [server.postgres_pid]);
  const own_before = treeCpuSeconds(pids());
  const generator_before = process.cpuUsage();
  const saturation = await auth.closedLoop(WINDOW, SECONDS, sendAuth);
  const generator_used = process.cpuUsage(generator_before);
  const cpu_generator = (generator_used.user + generator_used.system) / 1e6;
  const cpu_own = treeCpuSeconds(pids()) - own_before;
  const cpu_postgres = treeCpuSeconds(server.postgres_pid === null ? [] : [server.postgres_pid]) - pg_before;
  log(`  ${integer(saturation.answered / saturation.seconds)}/s, p99 ${ms(saturation.latency.percentile(99))} ms, timeouts ${saturation.timeouts}`);
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  log(`${name}: fixed load ${integer(FIXED_RATE)}/s for ${SECONDS} s`);
  const { result: fixed, delay: fixed_generator_delay } = await withGeneratorDelay(() => auth.openLoop(FIXED_RATE, SECONDS, () => accessRequest(randomUser())));
  log(`  p50 ${ms(fixed.latency.percentile(50))} ms, p99 ${ms(fixed.latency.percentile(99))} ms, timeouts ${fixed.timeouts}; generator event-loop delay p99 ${ms(fixed_generator_delay.p99_ms)} ms, max ${ms(fixed_generator_delay.max_ms)} ms; load ${os.loadavg()[0]!.toFixed(1)}`);
  // Both latency runs come before the accounting storm: after 100,000 radacct writes PostgreSQL vacuums and
  // checkpoints on the same two cores, which is the database's load, not the server's (measured 144–149 ms p99
  // in 2 of 4 runs when this run came after it).
  let extra: Figures['extra'] | null = null;
  if (extra_rate !== null) {
    const rate = extra_rate;
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    log(`${name}: fixed load ${integer(rate)}/s (three times FreeRADIUS' saturation) for ${SECONDS} s`);
    const { result, delay: generator_delay } = await withGeneratorDelay(() => auth.openLoop(rate, SECONDS, () => accessRequest(randomUser())));
    log(`  p50 ${ms(result.latency.percentile(50))} ms, p99 ${ms(result.latency.percentile(99))} ms, timeouts ${result.timeouts}; generator event-loop delay p99 ${ms(generator_delay.p99_ms)} ms, max ${ms(generator_delay.max_ms)} ms; load ${os.loadavg()[0]!.toFixed(1)}`);
    extra = { rate, result, generator_delay };
  }
  log(`${name}: accounting Start+Stop at saturation`);
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  const acct_pg_before = treeCpuSeconds(server.postgres_pid === null ? [] : [server.postgres_pid]);
  const acct_own_before = treeCpuSeconds(pids());
  const accountingResult = await acct.closedLoop(WINDOW, SECONDS, async (send) => {
    const user = randomUser();
    const session = `${name}-${(session_counter += 1)}`;
    if ((await send(accounting(user, session, 'Start'))) !== null) await send(accounting(user, session, 'Stop'));
  });
  const acct_cpu_own = treeCpuSeconds(pids()) - acct_own_before;
  const acct_cpu_postgres = treeCpuSeconds(server.postgres_pid === null ? [] : [server.postgres_pid]) - acct_pg_before;
  log(`  ${integer(accountingResult.answered / accountingResult.seconds)} requests/s, timeouts ${accountingResult.timeouts}`);
  const figures: Figures = { name, saturation, cpu_generator, cpu_own, cpu_postgres, fixed, fixed_generator_delay, accounting: accountingResult, acct_cpu_own, acct_cpu_postgres, ...(extra === null ? {} : { extra }) };
  await auth.close();
  await acct.close();
  return figures;
}

// --- FreeRADIUS ------------------------------------------------------------------------------------------------
log(`starting FreeRADIUS ${version} with deploy/freeradius`);
const freeradius = await startFreeRadius({ database_url: url, schema: 'fr', secret: SECRET });
const fr = await measure('FreeRADIUS', freeradius.auth_port, freeradius.acct_port, () => [freeradius.pid], null);
await freeradius.stop();

// --- radius-bridge -------------------------------------------------------------------------------------------
log('starting radius-bridge in a process of its own');
const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'support', 'radius-bridge-process.ts')], {
  env: { ...process.env, BENCH_RADIUS_DATABASE_URL: url, LOG_LEVEL: 'warn' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
let child_output = '';
const ready = await new Promise<{ auth: number; acct: number }>((resolve, reject) => {
  child.stdout!.on('data', (chunk: Buffer) => {
    child_output += chunk.toString();
    const match = /READY (\d+) (\d+)/.exec(child_output);
    if (match !== null) resolve({ auth: Number(match[1]), acct: Number(match[2]) });
  });
  child.once('exit', (code) => reject(new Error(`radius-bridge exited with ${code}: ${child_output}`)));
});
const rss_mb = readRss(child.pid!) / 1024;
const fr_rate = fr.saturation.answered / fr.saturation.seconds;
const bridge = await measure('radius-bridge', ready.auth, ready.acct, () => [child.pid!], Math.round(3 * fr_rate));
child.kill('SIGTERM');
await new Promise((resolve) => child.once('exit', resolve));
const stats = /STATS (.*)/.exec(child_output)?.[1] ?? '{}';
log(`radius-bridge stats: ${stats}`);

/** Resident memory of a process in KiB (0 when it is gone). */
function readRss(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** The server's own view, from its counters (since it started, loading included): what held its event loop. */
function serverLoop(stats_json: string): string {
  const loop = (JSON.parse(stats_json) as { loop?: { delay_p99_ms: number; delay_max_ms: number; gc_minor: { count: number; total_ms: number; max_ms: number }; gc_major: { count: number; max_ms: number }; gc_pauses_over_5_ms: number } }).loop;
  if (loop === undefined) return '';
  return (
    `\nIts event loop (since it started, loading included): delay p99 ${ms(loop.delay_p99_ms)} ms, max ${ms(loop.delay_max_ms)} ms; ` +
    `${integer(loop.gc_minor.count)} scavenges (mean ${ms(loop.gc_minor.total_ms / Math.max(1, loop.gc_minor.count))} ms, max ${ms(loop.gc_minor.max_ms)} ms), ` +
    `${integer(loop.gc_major.count)} mark-compacts (max ${ms(loop.gc_major.max_ms)} ms); ${integer(loop.gc_pauses_over_5_ms)} GC pauses over 5 ms.`
  );
}

// --- results ---------------------------------------------------------------------------------------------------
const rate = (result: LoadResult): number => result.answered / result.seconds;
const per10k = (cpu: number, result: LoadResult): number => (cpu / result.answered) * 10_000;
const throughputRatio = rate(bridge.saturation) / rate(fr.saturation);
const accountingRatio = rate(bridge.accounting) / rate(fr.accounting);
const p99 = bridge.fixed.latency.percentile(99);
const p99_extra = bridge.extra?.result.latency.percentile(99) ?? Number.NaN;
const verdict = (met: boolean): string => (met ? 'met' : 'missed');
const accepts = (result: LoadResult): string => `${integer(result.codes.get(CODE.ACCESS_ACCEPT) ?? 0)} accepts`;
const row = (label: string, f: (figures: Figures) => string, target: string, met: string): string => `| ${label} | ${f(fr)} | ${f(bridge)} | ${target} | ${met} |`;

const section = [
  '## RADIUS: radius-bridge against FreeRADIUS 3.2 + rlm_sql (issue 7)',
  '',
  `Run ${new Date().toISOString()} with \`npx tsx bench/radius.bench.ts\`: ${integer(USERS)} PPPoE users (the projected FreeRADIUS tables, ${radcheck} radcheck rows, projected in ${projectSeconds.toFixed(0)} s), one router, PAP with Message-Authenticator as RouterOS 7.15+ sends it;`,
  `FreeRADIUS ${version} (Debian) with deploy/freeradius (rlm_sql on PostgreSQL ${facts.version}, durable: fsync ${facts.settings.fsync}, synchronous_commit ${facts.settings.synchronous_commit}); radius-bridge in a process of its own.`,
  `Load: this process, ${SOCKETS} UDP sockets, requests signed at send time; closed loop with ${WINDOW} in flight for ${SECONDS} s (saturation), open loop at a fixed rate for ${SECONDS} s (latency), both latency runs before the accounting run.`,
  'CPU: /proc utime+stime of the server process tree, and of PostgreSQL (which FreeRADIUS queries for every request; radius-bridge only writes its radpostauth log there, in batches).',
  `Machine load (1-minute load average, 2 cores) at the start ${load_at_start.toFixed(1)} and at the end ${os.loadavg()[0]!.toFixed(1)}: other programs ran meanwhile, so the absolute figures are low; both servers were measured in the same conditions, one after the other.`,
  '',
  '| figure | FreeRADIUS | radius-bridge | target | |',
  '|---|---|---|---|---|',
  row('Access-Request throughput at saturation', (f) => `${integer(rate(f.saturation))}/s (${accepts(f.saturation)}, ${f.saturation.timeouts} timeouts)`, '≥ 3× FreeRADIUS', `${ratio(throughputRatio)}× ${verdict(throughputRatio >= 3)}`),
  row(`p50 / p99 at ${integer(FIXED_RATE)}/s offered`, (f) => `${ms(f.fixed.latency.percentile(50))} / ${ms(f.fixed.latency.percentile(99))} ms (${f.fixed.timeouts} timeouts)`, 'p99 ≤ 5 ms', verdict(p99 <= 5)),
  `| radius-bridge p50 / p99 at 3× FreeRADIUS' saturation (${integer(bridge.extra?.rate ?? 0)}/s offered) | — | ${ms(bridge.extra?.result.latency.percentile(50) ?? Number.NaN)} / ${ms(p99_extra)} ms (${bridge.extra?.result.timeouts ?? '?'} timeouts; generator event-loop delay p99 ${ms(bridge.extra?.generator_delay.p99_ms ?? Number.NaN)} ms) | p99 ≤ 5 ms | ${verdict(p99_extra <= 5)} |`,
  row(`load generator's event-loop delay during the ${integer(FIXED_RATE)}/s run (p99 / max; it adds to the latency above)`, (f) => `${ms(f.fixed_generator_delay.p99_ms)} / ${ms(f.fixed_generator_delay.max_ms)} ms`, 'small against 5 ms', '—'),
  row('load generator CPU during the saturation run', (f) => `${ratio(f.cpu_generator / f.saturation.seconds)} cores`, 'not the bottleneck', '—'),
  row('server CPU-seconds per 10,000 Access-Requests (own + PostgreSQL)', (f) => `${ratio(per10k(f.cpu_own, f.saturation))} + ${ratio(per10k(f.cpu_postgres, f.saturation))} = ${ratio(per10k(f.cpu_own + f.cpu_postgres, f.saturation))} s`, '—', '—'),
  row('accounting Start+Stop at saturation', (f) => `${integer(rate(f.accounting))} requests/s (${f.accounting.timeouts} timeouts)`, '≥ 2× FreeRADIUS', `${ratio(accountingRatio)}× ${verdict(accountingRatio >= 2)}`),
  row('server CPU-seconds per 10,000 accounting requests (own + PostgreSQL)', (f) => `${ratio(per10k(f.acct_cpu_own, f.accounting))} + ${ratio(per10k(f.acct_cpu_postgres, f.accounting))} s`, '—', '—'),
  '',
  `radius-bridge held the ${integer(USERS)} users in memory at ${integer(rss_mb)} MiB resident (whole process, after loading). Its counters at the end: \`${stats}\`.`,
  serverLoop(stats),
].join('\n');

if (process.env.BENCH_NO_RESULTS === '1') log('BENCH_NO_RESULTS=1: bench/RESULTS.md left unchanged');
else writeResultsSection('## RADIUS: radius-bridge against FreeRADIUS 3.2 + rlm_sql (issue 7)', section, facts.version);
process.stdout.write(`${section}\n`);
await database.close();
await server.stop();
