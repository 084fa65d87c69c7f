/**
 * Router-agent figures (issue 8): commands per second through the outbox to one router and across 100
 * routers, and the reconciliation of 10,000 sessions on one router (target ≤ 10 s). The routers are the
 * RouterOS API test server of `test/routeros/` on loopback (the protocol, not RouterOS's own speed); the
 * database is a durable embedded PostgreSQL (or BENCH_DATABASE_URL's server).
 *
 *   npx tsx bench/router-agent.bench.ts          (BENCH_NO_RESULTS=1: print only)
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import pino from 'pino';
import { openDatabase } from '../cli/database.js';
import { PostgresEventStore } from '../eventstore/postgres/postgres-event-store.js';
import { migrateToLatest } from '../migrations/index.js';
import { RouterAgent } from '../router-agent/agent.js';
import type { PlannedCommand, StaticCommand } from '../router-agent/commands.js';
import { AesGcmSecretBox } from '../router-agent/credentials.js';
import { insertCommands } from '../router-agent/outbox.js';
import { RouterOsTestServer } from '../test/routeros/routeros-test-server.js';
import { integer, startCpuMeter } from './support/measure.js';
import { serverFacts, startBenchServer } from './support/postgres-server.js';
import { writeResultsSection } from './support/results-file.js';

const log = (line: string): void => void process.stderr.write(`${line}\n`);
const TENANT = 'isp-bench';
const ONE_ROUTER_COMMANDS = Number(process.env.BENCH_ONE_ROUTER_COMMANDS ?? 5_000);
const FLEET_ROUTERS = 100;
const FLEET_COMMANDS_PER_ROUTER = Number(process.env.BENCH_FLEET_COMMANDS_PER_ROUTER ?? 200);
const SESSIONS = 10_000;
const LATENCY_MS = 5;

const server = await startBenchServer(log);
const url = await server.createDatabase('bench_router_agent');
const database = openDatabase(url, 30);
await migrateToLatest(database.db);
const pool = database.pool;
const facts = await serverFacts(pool);
const store = new PostgresEventStore(pool, { poll_interval_ms: 20 });
const secrets = new AesGcmSecretBox(randomBytes(32));
const routers: RouterOsTestServer[] = [];

await pool.query(`INSERT INTO router_agent_policies (tenant, policy) VALUES ($1, $2)`, [
  TENANT,
  JSON.stringify({ blocked_access: 'suspended_pool', suspended_pool: 'suspended', suspended_address_list: 'suspended', interim_interval_seconds: 300 }),
]);
await pool.query(`INSERT INTO router_agent_packages VALUES ('pkg-10m', $1, 10000, 2000)`, [TENANT]);

async function addRouter(router_id: string): Promise<RouterOsTestServer> {
  const router = await new RouterOsTestServer().start();
  routers.push(router);
  const connection = { host: '127.0.0.1', transport: 'api', port: router.port, username: 'admin', password_sealed: secrets.seal(router_id, 'admin-password'), routeros_version: '7.18.2', tls_fingerprint_sha256: null };
  const setup = {
    radius_address: '10.0.0.10',
    radius_auth_port: 1812,
    radius_accounting_port: 1813,
    radius_timeout_ms: 3000,
    pppoe_servers: [],
    hotspot_profiles: [],
    portal_host: null,
    portal_address: null,
    suspended_pool_ranges: '100.64.0.2-100.64.255.254',
    static_ip: { mode: 'queue' },
    static_ip_networks: ['10.0.0.0/8'],
  };
  await pool.query(`INSERT INTO router_agent_routers (router_id, tenant, name, nas_ip, connection, setup, last_reconciled_at) VALUES ($1, $2, $1, $3, $4, $5, now())`, [
    router_id,
    TENANT,
    `192.0.2.${routers.length % 250}`,
    JSON.stringify(connection),
    JSON.stringify(setup),
  ]);
  return router;
}

function staticCommand(router_id: string, index: number): PlannedCommand {
  const command: StaticCommand = { kind: 'static', customer_id: `c-${router_id}-${index}`, operator_id: TENANT, ip: `10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}`, access: 'active', up_kbps: 2000, down_kbps: 10000 };
  return { router_id, tenant: TENANT, command, ordering_key: command.customer_id, source_event_id: null, not_before: new Date(0) };
}

function startAgent(): RouterAgent {
  return new RouterAgent(pool, store, {
    logger: pino({ level: 'warn' }),
    secrets,
    batch_size: 1000,
    poll_interval_ms: 20,
    rate_check_delay_ms: 0,
    max_pending_per_router: 1_000_000,
    reconcile_interval_ms: 0,
    outbox_retention_ms: 86_400_000,
    dispatcher: {
      concurrency_per_router: 8,
      max_routers: FLEET_ROUTERS,
      batch_size: 500,
      max_attempts: 8,
      retry_base_ms: 1000,
      retry_max_ms: 60_000,
      reconnect_base_ms: 1000,
      reconnect_max_ms: 60_000,
      timeouts: { connect_timeout_ms: 5_000, command_timeout_ms: 60_000, idle_timeout_ms: 120_000 },
    },
  });
}

async function until(condition: () => Promise<boolean>, timeout_ms: number): Promise<void> {
  const deadline = Date.now() + timeout_ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

type Throughput = Readonly<{ commands: number; done_s: number; published_s: number; cpu: string }>;

/** Enqueues the commands, starts the agent, and times until every command is done and its outcome appended. */
async function throughput(commands: readonly PlannedCommand[]): Promise<Throughput> {
  await pool.query(`TRUNCATE router_outbox`);
  for (let index = 0; index < commands.length; index += 5_000) await insertCommands(pool, commands.slice(index, index + 5_000));
  const cpu = startCpuMeter(server.postgres_pid);
  const agent = startAgent();
  const started = performance.now();
  await agent.start();
  await until(async () => (await pool.query(`SELECT count(*)::int AS n FROM router_outbox WHERE state = 'pending'`)).rows[0].n === 0, 600_000);
  const done_s = (performance.now() - started) / 1000;
  await until(async () => (await pool.query(`SELECT count(*)::int AS n FROM router_outbox WHERE NOT published`)).rows[0].n === 0, 600_000);
  const published_s = (performance.now() - started) / 1000;
  const use = cpu();
  await agent.stop();
  const failed = (await pool.query(`SELECT count(*)::int AS n FROM router_outbox WHERE state = 'failed'`)).rows[0].n;
  if (failed > 0) throw new Error(`${failed} commands failed`);
  const others = use.busiest_other === null ? '' : ` (busiest: ${use.busiest_other.name} ${use.busiest_other.cores.toFixed(2)})`;
  return { commands: commands.length, done_s, published_s, cpu: `Node ${use.node_cores.toFixed(2)}, PostgreSQL ${use.postgres_cores?.toFixed(2) ?? '?'}, other programs ${use.other_cores.toFixed(2)} cores${others}` };
}

log(`one router, ${ONE_ROUTER_COMMANDS} commands on loopback …`);
const single = await addRouter('rtr-single');
const one = await throughput(Array.from({ length: ONE_ROUTER_COMMANDS }, (_, index) => staticCommand('rtr-single', index)));
log(`  ${integer(one.commands / one.done_s)} commands/s`);

log(`one router ${LATENCY_MS} ms away, ${ONE_ROUTER_COMMANDS / 5} commands …`);
single.reply_delay_ms = LATENCY_MS;
const far = await throughput(Array.from({ length: ONE_ROUTER_COMMANDS / 5 }, (_, index) => staticCommand('rtr-single', ONE_ROUTER_COMMANDS + index)));
single.reply_delay_ms = 0;
log(`  ${integer(far.commands / far.done_s)} commands/s`);
await pool.query(`UPDATE router_agent_routers SET removed = true WHERE router_id = 'rtr-single'`);

log(`${FLEET_ROUTERS} routers, ${FLEET_COMMANDS_PER_ROUTER} commands each …`);
const fleet_ids = Array.from({ length: FLEET_ROUTERS }, (_, index) => `rtr-${String(index).padStart(3, '0')}`);
for (const router_id of fleet_ids) await addRouter(router_id);
const fleet = await throughput(fleet_ids.flatMap((router_id) => Array.from({ length: FLEET_COMMANDS_PER_ROUTER }, (_, index) => staticCommand(router_id, index))));
log(`  ${integer(fleet.commands / fleet.done_s)} commands/s`);
await pool.query(`UPDATE router_agent_routers SET removed = true WHERE router_id <> 'rtr-big'`);

log(`reconciliation of ${SESSIONS} sessions on one router …`);
const big = await addRouter('rtr-big');
await pool.query(`UPDATE router_agent_routers SET removed = false WHERE router_id = 'rtr-big'`);
const customers = Array.from({ length: SESSIONS }, (_, index) => ({
  customer_id: `s${index}`,
  tenant: TENANT,
  operator_id: TENANT,
  connection_type: 'pppoe',
  username: `user${index}`,
  mac: null,
  static_ip: null,
  package_id: 'pkg-10m',
  suspended: false,
  expired: false,
  disabled: index % 100 === 1,
}));
await pool.query(`INSERT INTO router_agent_customers SELECT * FROM jsonb_populate_recordset(NULL::router_agent_customers, $1::jsonb)`, [JSON.stringify(customers)]);
// Drift: 5 % at the wrong speed, 1 % disabled yet online, 1 % logins nobody has.
for (let index = 0; index < SESSIONS; index += 1) {
  const login = index % 100 === 2 ? `stranger${index}` : `user${index}`;
  big.pppLogin(login, { address: `10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}`, rate: index % 20 === 3 ? '1M/1M' : '2000000/10000000' });
}

async function reconcileOnce(): Promise<Readonly<{ seconds: number; report: Record<string, unknown> }>> {
  await pool.query(`TRUNCATE router_outbox`);
  await pool.query(`INSERT INTO router_outbox (router_id, tenant, kind, ordering_key, payload) VALUES ('rtr-big', $1, 'reconcile', '*', '{"kind":"reconcile","reason":"on-demand"}')`, [TENANT]);
  const agent = startAgent();
  const started = performance.now();
  await agent.start();
  await until(async () => (await pool.query(`SELECT count(*)::int AS n FROM router_outbox WHERE state = 'pending'`)).rows[0].n === 0, 120_000);
  const seconds = (performance.now() - started) / 1000;
  await agent.stop();
  const row = (await pool.query(`SELECT state, outcome FROM router_outbox`)).rows[0];
  if (row.state !== 'done') throw new Error(`reconciliation ${row.state}: ${JSON.stringify(row.outcome)}`);
  return { seconds, report: row.outcome };
}
const drifted = await reconcileOnce();
log(`  with drift: ${drifted.seconds.toFixed(2)} s ${JSON.stringify(drifted.report.counts)}`);
const clean = await reconcileOnce();
log(`  clean: ${clean.seconds.toFixed(2)} s`);

const rate = (result: Throughput) => integer(result.commands / result.done_s);
const section = `## Router agent (issue 8)

Run ${new Date().toISOString()} with \`npx tsx bench/router-agent.bench.ts\` on a durable PostgreSQL ${facts.version} (fsync on). Routers are the RouterOS
API test server (\`test/routeros/routeros-test-server.ts\`) on loopback, in the benchmark's own process: the figures price the agent's side
(outbox reads and writes, the API client, its read-before-write round trips) and the test router's protocol handling, not RouterOS.
Each command is a static-IP customer's queue (print the address list, print the queue, add the queue: three round trips), carried out
from the outbox with up to 8 commands in flight per router; "done" is every row marked done, "published" also every outcome appended
as an event.

| figure | result | target | |
|---|---|---|---|
| commands/s to one router (loopback), ${integer(one.commands)} commands | ${rate(one)}/s done (${integer(one.commands / one.published_s)}/s published) | — | — |
| commands/s to one router ${LATENCY_MS} ms away, ${integer(far.commands)} commands | ${rate(far)}/s done (${integer(far.commands / far.published_s)}/s published) | — | — |
| commands/s across ${FLEET_ROUTERS} routers, ${integer(fleet.commands)} commands | ${rate(fleet)}/s done (${integer(fleet.commands / fleet.published_s)}/s published) | — | — |
| reconciliation of ${integer(SESSIONS)} sessions on one router, with drift (${Object.entries(drifted.report.counts as Record<string, number>).map(([kind, count]) => `${count} ${kind}`).join(', ')}), healed and read back | ${drifted.seconds.toFixed(2)} s (confirmed: ${String(drifted.report.confirmed)}) | ≤ 10 s | ${drifted.seconds <= 10 ? 'met' : '**missed**'} |
| the same router again, no drift | ${clean.seconds.toFixed(2)} s | ≤ 10 s | ${clean.seconds <= 10 ? 'met' : '**missed**'} |

CPU: one router ${one.cpu}; ${FLEET_ROUTERS} routers ${fleet.cpu}. Load average when the run ended: ${os.loadavg().map((value) => value.toFixed(1)).join(' / ')} (1/5/15 min) on ${os.availableParallelism()} CPUs.
`;
process.stdout.write(`${section}\n`);
if (process.env.BENCH_NO_RESULTS !== '1') writeResultsSection('## Router agent (issue 8)', section, facts.version);
for (const router of routers) await router.stop();
await database.close();
await server.stop();
