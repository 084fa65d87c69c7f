/**
 * Issue 3's figures, on a durable embedded PostgreSQL (fsync on) or BENCH_DATABASE_URL's server:
 *  1. a monthly bill run for 100,000 monthly customers, end to end (every bill decided, appended, durable);
 *  2. payment commands with commission allocation, 8 concurrent clients, over customers spread across 100
 *     sub-resellers, and the same with every customer under one sub-reseller (one hot wallet).
 *
 *   npx tsx bench/domain.bench.ts            (BILL_RUN_CUSTOMERS, PAYMENT_SECONDS to change the sizes)
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { CommandRuntime, type CommandEnvelope } from '../commands/command-runtime.js';
import { PostgresSnapshotStore } from '../commands/snapshots.js';
import { customerStream } from '../commands/streams.js';
import { createPackage } from '../commands/customer-commands.js';
import { assignPackage, createOperator, loadOperator, registerIsp, setCommissionTerms, topUpWallet } from '../commands/operator-commands.js';
import { receivePayment, runMonthlyBills } from '../commands/payment-commands.js';
import { CustomerAggregate, OperatorAggregate, PackageAggregate } from '../commands/aggregates.js';
import { decideRegisterCustomer, type RegisterCustomer } from '../domain/customers/registration.js';
import type { BillingProfile } from '../domain/customers/customer.js';
import { openDatabase } from '../cli/database.js';
import { migrateToLatest } from '../migrations/index.js';
import { PostgresEventStore } from '../eventstore/postgres/postgres-event-store.js';
import type { StreamAppend } from '../eventstore/event-store.js';
import type { JsonObject } from '../eventstore/json.js';
import { startBenchServer, serverFacts } from './support/postgres-server.js';
import { writeResultsSection } from './support/results-file.js';
import { integer, ms, runFor, startCpuMeter } from './support/measure.js';

const BILL_RUN_CUSTOMERS = Number(process.env.BILL_RUN_CUSTOMERS ?? 100_000);
const PAYMENT_SECONDS = Number(process.env.PAYMENT_SECONDS ?? 15);
const log = (line: string) => process.stderr.write(`${line}\n`);

const server = await startBenchServer(log);
const url = await server.createDatabase('bench_domain');
const database = openDatabase(url, 24);
await migrateToLatest(database.db);
const store = new PostgresEventStore(database.pool);
let now = new Date('2026-11-10T06:00:00Z');
const runtime = new CommandRuntime({ store, snapshots: new PostgresSnapshotStore(database.pool), clock: { now: () => now } });
const facts = await serverFacts(database.pool);

const must = <T>(result: { ok: true; value: T } | { ok: false; rejection: { code: string; message: string } }): T => {
  if (!result.ok) throw new Error(`${result.rejection.code}: ${result.rejection.message}`);
  return result.value;
};

// --- an ISP with 10 resellers × 10 sub-resellers -------------------------------------------------------------
const tenant = 'isp-bench';
const envelope: CommandEnvelope = { tenant, actor: { id: 'bench-admin', role: 'admin' } };
must(await registerIsp(runtime, envelope, { operator_id: tenant, name: 'Bench Net', currency: 'BDT', time_zone: 'Asia/Dhaka', address: 'Dhaka' }));
const package_id = 'pkg-home-10m';
must(await createPackage(runtime, envelope, { package_id, name: 'Home 10M', down_kbps: 10_000, up_kbps: 2_000, burst: null, price: '500.00', validity_days: 30, ip_pool: 'home', data_quota_mb: null }));
const subResellers: string[] = [];
for (let r = 0; r < 10; r += 1) {
  const reseller = `res-${r}`;
  must(await createOperator(runtime, envelope, { operator_id: reseller, parent_id: tenant, role: 'reseller', name: `Reseller ${r}`, billing_mode: 'prepaid', credit_limit: '0' }));
  must(await setCommissionTerms(runtime, envelope, { operator_id: reseller, effective_from: '2020-01-01', terms: { kind: 'share', percent: '60' } }));
  must(await assignPackage(runtime, envelope, { operator_id: reseller, package_id, wholesale_price: '200.00', effective_from: '2020-01-01' }));
  must(await topUpWallet(runtime, envelope, { operator_id: reseller, amount: '100000000.00', method: 'bank', reference: 'bench' }));
  for (let s = 0; s < 10; s += 1) {
    const sub = `sub-${r}-${s}`;
    must(await createOperator(runtime, envelope, { operator_id: sub, parent_id: reseller, role: 'sub_reseller', name: `Sub ${r}.${s}`, billing_mode: 'prepaid', credit_limit: '0' }));
    must(await setCommissionTerms(runtime, envelope, { operator_id: sub, effective_from: '2020-01-01', terms: { kind: 'share', percent: '50' } }));
    must(await assignPackage(runtime, envelope, { operator_id: sub, package_id, wholesale_price: '350.00', effective_from: '2020-01-01' }));
    must(await topUpWallet(runtime, envelope, { operator_id: sub, amount: '100000000.00', method: 'bank', reference: 'bench' }));
    subResellers.push(sub);
  }
}

/**
 * Seeds customers the fast way: the registration decider's own events, appended 100 streams per transaction.
 * (Registration through the command layer is not what these figures measure.)
 */
async function seedCustomers(count: number, owner_of: (i: number) => string, profile: BillingProfile, label: string): Promise<string[]> {
  const isp = (await loadOperator(runtime, tenant, tenant))!.state;
  const pkg = (await runtime.load(PackageAggregate, `package-${package_id}`)).state;
  const owners = new Map<string, Awaited<ReturnType<typeof loadOperator>>>();
  const ids: string[] = [];
  let batch: StreamAppend[] = [];
  const started = performance.now();
  for (let i = 0; i < count; i += 1) {
    const owner_id = owner_of(i);
    if (!owners.has(owner_id)) owners.set(owner_id, await runtime.load(OperatorAggregate, `operator-${owner_id}`));
    const customer_id = `${label}-${i}`;
    const command: RegisterCustomer = {
      customer_id, operator_id: owner_id, connection_type: 'pppoe', name: `Customer ${i}`, mobile: '+8801700000000', zone: 'Mirpur',
      username: `${label}-user-${i}`, password: 'secret', mac: null, static_ip: null, package_id, profile, special_price: null, self_registered: false,
    };
    const decision = decideRegisterCustomer(CustomerAggregate.initial(), command, owners.get(owner_id)!.state, isp, pkg, { tenant, actor: envelope.actor, now });
    if (!decision.ok) throw new Error(decision.rejection.message);
    batch.push({
      stream_id: customerStream(customer_id),
      stream_state: 'no_stream',
      events: decision.events.map((event) => ({ event_id: randomUUID(), type: event.type, data: event.data as JsonObject, occurred_at: now, metadata: { actor: envelope.actor, tenant, correlation_id: randomUUID(), causation_id: null, command_id: randomUUID() } })),
    });
    ids.push(customer_id);
    if (batch.length === 100) {
      await store.appendToStreams(batch);
      batch = [];
    }
    if ((i + 1) % 20_000 === 0) log(`  seeded ${integer(i + 1)} ${label} customers (${integer((i + 1) / ((performance.now() - started) / 1000))}/s)`);
  }
  if (batch.length > 0) await store.appendToStreams(batch);
  return ids;
}

// --- 1. the monthly bill run ---------------------------------------------------------------------------------
log(`seeding ${integer(BILL_RUN_CUSTOMERS)} monthly postpaid customers owned by the ISP`);
const monthly = await seedCustomers(BILL_RUN_CUSTOMERS, () => tenant, { kind: 'monthly', due_day: 1, mode: 'postpaid', grace_days: 7 }, 'm');
now = new Date('2026-11-30T18:30:00Z'); // 00:30 on 1 December in Dhaka: December's bills are due
const cpu = startCpuMeter(server.postgres_pid);
const runStarted = performance.now();
const run = await runMonthlyBills(runtime, envelope, {
  period: '2026-12',
  customer_ids: monthly,
  concurrency: 4,
  on_progress: (done, total) => {
    if (done % 20_000 === 0 || done === total) log(`  bill run: ${integer(done)} / ${integer(total)}`);
  },
});
const runSeconds = (performance.now() - runStarted) / 1000;
const runCpu = cpu();
const rerunStarted = performance.now();
const rerun = await runMonthlyBills(runtime, envelope, { period: '2026-12', customer_ids: monthly, concurrency: 4 });
const rerunSeconds = (performance.now() - rerunStarted) / 1000;
if (run.issued !== BILL_RUN_CUSTOMERS || rerun.issued !== 0) throw new Error(`bill run issued ${run.issued}, re-run issued ${rerun.issued}`);
log(`bill run: ${integer(run.issued)} bills in ${runSeconds.toFixed(1)} s; re-run issued ${rerun.issued} in ${rerunSeconds.toFixed(1)} s`);

// --- 2. payments with commission -----------------------------------------------------------------------------
now = new Date('2026-12-02T06:00:00Z');
log('seeding 20,000 daily customers across 100 sub-resellers, and 2,000 under one sub-reseller');
const spread = await seedCustomers(20_000, (i) => subResellers[i % subResellers.length]!, { kind: 'daily' }, 'd');
const hot = await seedCustomers(2_000, () => subResellers[0]!, { kind: 'daily' }, 'h');

async function paymentRun(customers: readonly string[], label: string) {
  const refused = new Map<string, number>();
  const meter = startCpuMeter(server.postgres_pid);
  const result = await runFor(PAYMENT_SECONDS, 8, async () => {
    const customer_id = customers[Math.floor(Math.random() * customers.length)]!;
    const outcome = await receivePayment(runtime, envelope, {
      customer_id, payment_id: randomUUID(), method: 'online', amount: '500.00', collected_by: 'gateway', collector_operator_id: tenant,
      gateway: 'sslcommerz', gateway_reference: randomUUID(), card: null, recharge_package_id: package_id,
    });
    if (!outcome.ok) refused.set(outcome.rejection.code, (refused.get(outcome.rejection.code) ?? 0) + 1);
    return outcome.ok ? 1 : 0;
  });
  const use = meter();
  log(`payments (${label}): ${integer(result.items / result.seconds)}/s, p50 ${ms(result.latency.percentile(50))} ms, p99 ${ms(result.latency.percentile(99))} ms`);
  return { label, ...result, cpu: use, refused };
}
const spreadRun = await paymentRun(spread, '100 sub-resellers');
const hotRun = await paymentRun(hot, 'one sub-reseller');

const rows = [
  `| monthly bill run, ${integer(BILL_RUN_CUSTOMERS)} customers (batches of 100, 4 at a time) | ${runSeconds.toFixed(1)} s (${integer(run.issued / runSeconds)} bills/s) | ≤ 20 s | ${runSeconds <= 20 ? 'met' : 'missed'} |`,
  `| same period again (idempotent: 0 issued) | ${rerunSeconds.toFixed(1)} s | — | — |`,
  ...[spreadRun, hotRun].map(
    (r) => `| payments with commission, 8 clients, ${r.label} | ${integer(r.items / r.seconds)}/s (p50 ${ms(r.latency.percentile(50))} ms, p99 ${ms(r.latency.percentile(99))} ms) | ≥ 2,000/s | ${r.items / r.seconds >= 2000 ? 'met' : 'missed'} |`,
  ),
];
const section = [
  '## Domain: bill run and payments (issue 3)',
  '',
  `Run ${new Date().toISOString()} with \`npx tsx bench/domain.bench.ts\` on a durable PostgreSQL ${facts.version} (fsync on).`,
  'Each bill is one command: load the customer stream, decide, append with its expected revision (one statement,',
  'its own transaction). Each payment loads the customer, its operator chain (ISP → reseller → sub-reseller, with',
  'snapshots) and the package, splits the commission, and appends to the customer and both wallets atomically.',
  '',
  '| figure | result | target | |',
  '|---|---|---|---|',
  ...rows,
  '',
  `CPU during the bill run: Node ${runCpu.node_cores.toFixed(2)} cores, PostgreSQL ${runCpu.postgres_cores?.toFixed(2) ?? 'n/a'} cores, other ${runCpu.other_cores.toFixed(2)} cores (2 in all); payments (spread): Node ${spreadRun.cpu.node_cores.toFixed(2)}, PostgreSQL ${spreadRun.cpu.postgres_cores?.toFixed(2) ?? 'n/a'} cores.`,
  `Refusals during the hot-wallet run: ${[...hotRun.refused.entries()].map(([code, n]) => `${code} ×${n}`).join(', ') || 'none'}; during the spread run: ${[...spreadRun.refused.entries()].map(([code, n]) => `${code} ×${n}`).join(', ') || 'none'}.`,
].join('\n');
process.stdout.write(`${section}\n`);
writeResultsSection('## Domain: bill run and payments (issue 3)', section, facts.version);
await database.close();
await server.stop();
