import { openDatabase } from '../../cli/database.js';
import { CommandRuntime } from '../../commands/command-runtime.js';
import { PostgresSnapshotStore } from '../../commands/snapshots.js';
import { PostgresEventStore } from '../../eventstore/postgres/postgres-event-store.js';
import { DEFAULT_RADIUS_SETTINGS, startRadius } from '../../radius-bridge/radius-role.js';

/**
 * radius-bridge in a process of its own, for bench/radius.bench.ts: the server's CPU is then this process's,
 * apart from the load generator's. Prints `READY <auth_port> <acct_port>` when it answers; SIGTERM stops it.
 * Settings: BENCH_RADIUS_DATABASE_URL, and usage events off (RADIUS_USAGE_INTERVAL_MS=0 by default here: the
 * figures are the RADIUS front end's, as FreeRADIUS' are).
 */
const url = process.env.BENCH_RADIUS_DATABASE_URL;
if (url === undefined) throw new Error('BENCH_RADIUS_DATABASE_URL is required');
const database = openDatabase(url, 10);
const store = new PostgresEventStore(database.pool, { poll_interval_ms: 50 });
const runtime = new CommandRuntime({ store, snapshots: new PostgresSnapshotStore(database.pool) });
const running = await startRadius(database.pool, store, runtime, {
  ...DEFAULT_RADIUS_SETTINGS,
  auth_port: 0,
  acct_port: 0,
  usage_interval_ms: Number(process.env.RADIUS_USAGE_INTERVAL_MS ?? 0),
  accounting_lanes: Number(process.env.RADIUS_ACCOUNTING_LANES ?? DEFAULT_RADIUS_SETTINGS.accounting_lanes),
});
process.stdout.write(`READY ${running.auth_port} ${running.acct_port}\n`);
process.on('SIGTERM', () => {
  process.stdout.write(`STATS ${JSON.stringify({ ...running.server.stats, accounting_batches: running.accounting.batches, accounting_records: running.accounting.records })}\n`);
  void running
    .stop()
    .then(() => database.close())
    .then(() => process.exit(0));
});
