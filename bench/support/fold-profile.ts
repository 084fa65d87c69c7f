/**
 * A diagnostic, not a figure: builds a small history (BENCH_CUSTOMERS, default 30,000), reads the whole log into
 * memory, then folds it with each projection's handler in memory (BENCH_FOLD_ONLY=books,customers: only those)
 * and prints events/s per projection. Run it with
 * `node --cpu-prof --import tsx bench/support/fold-profile.ts` to see where a rebuild's Node time goes.
 */
import { CommandRuntime } from '../../commands/command-runtime.js';
import { PostgresSnapshotStore } from '../../commands/snapshots.js';
import { openDatabase } from '../../cli/database.js';
import { START, type LogPosition, type RecordedEvent } from '../../eventstore/event-store.js';
import { PostgresEventStore } from '../../eventstore/postgres/postgres-event-store.js';
import { migrateToLatest } from '../../migrations/index.js';
import { MemoryFold } from '../../projections/in-memory.js';
import { ALL_PROJECTIONS } from '../../projections/index.js';
import { appendHistory, setUpIsp } from './isp-history.js';
import { positiveInteger } from './measure.js';
import { startBenchServer } from './postgres-server.js';

const CUSTOMERS = positiveInteger('BENCH_CUSTOMERS', 30_000);
const log = (line: string): void => void process.stderr.write(`${line}\n`);

const server = await startBenchServer(log);
const url = await server.createDatabase('bench_fold_profile');
const database = openDatabase(url, 8);
try {
  await migrateToLatest(database.db);
  const store = new PostgresEventStore(database.pool);
  const clock = { now: () => new Date('2024-12-15T06:00:00Z') };
  const runtime = new CommandRuntime({ store, snapshots: new PostgresSnapshotStore(database.pool), clock });
  const isp = await setUpIsp(runtime);
  await appendHistory(store, isp, { customers: CUSTOMERS, log });
  const events: RecordedEvent[] = [];
  let position: LogPosition = START;
  for (;;) {
    const page = await store.readAll(position, { max_count: 10_000 });
    if (page.length === 0) break;
    events.push(...page);
    position = page[page.length - 1]!.position;
  }
  log(`${events.length} events read`);
  const only = process.env.BENCH_FOLD_ONLY?.split(',');
  for (const projection of ALL_PROJECTIONS.filter((candidate) => only === undefined || only.includes(candidate.name))) {
    const fold = new MemoryFold(projection, true);
    const started = performance.now();
    for (const event of events) fold.apply(event);
    const seconds = (performance.now() - started) / 1000;
    log(`${projection.name.padEnd(10)} ${Math.round(events.length / seconds)} events/s (${seconds.toFixed(2)} s, ${fold.rows} rows held, ${fold.streamed_rows} write-once rows streamed)`);
  }
} finally {
  await database.close();
  await server.stop();
}
