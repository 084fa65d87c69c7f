/**
 * A projector in a process of its own, as the `project` role would run it: its own pool and event store, so an
 * append in the API process cannot wake its subscriptions and it finds new events by polling every
 * BENCH_PROJECTOR_POLL_MS. Reports every committed checkpoint to the parent over IPC with the absolute time it
 * happened (performance.timeOrigin + now, comparable across processes on one machine), and on a 'stop' message
 * reports its event-loop delay, stops and exits.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import pino from 'pino';
import { openDatabase } from '../../cli/database.js';
import type { LogPosition } from '../../eventstore/event-store.js';
import { PostgresEventStore } from '../../eventstore/postgres/postgres-event-store.js';
import { ALL_PROJECTIONS } from '../../projections/index.js';
import { Projector } from '../../projections/projector.js';

export type ProjectorMessage =
  | Readonly<{ kind: 'advanced'; name: string; commit: string; prepare: string; at: number }>
  | Readonly<{ kind: 'stopped'; event_loop_delay_p50_ms: number; event_loop_delay_p99_ms: number }>;

const url = process.env.BENCH_PROJECTOR_DATABASE_URL;
if (url === undefined || url === '' || process.send === undefined) throw new Error('run by bench/projections.bench.ts with BENCH_PROJECTOR_DATABASE_URL and an IPC channel');
const send = process.send.bind(process);
const poll_interval_ms = Number(process.env.BENCH_PROJECTOR_POLL_MS ?? '10');
const database = openDatabase(url, Number(process.env.BENCH_PROJECTOR_POOL_SIZE ?? '10'));
const store = new PostgresEventStore(database.pool, { poll_interval_ms });
const projector = new Projector(database.pool, store, ALL_PROJECTIONS, {
  poll_interval_ms,
  leader_retry_ms: 100,
  logger: pino({ level: 'warn' }, pino.destination(2)),
});
const delay = monitorEventLoopDelay({ resolution: 5 });
delay.enable();
projector.events.on('advanced', (name: string, position: LogPosition) => {
  const message: ProjectorMessage = { kind: 'advanced', name, commit: position.commit.toString(), prepare: position.prepare.toString(), at: performance.timeOrigin + performance.now() };
  send(message);
});
projector.start();

process.on('message', (message: unknown) => {
  if (message !== 'stop') return;
  void (async () => {
    delay.disable();
    await projector.stop();
    await database.close();
    const stopped: ProjectorMessage = { kind: 'stopped', event_loop_delay_p50_ms: delay.percentile(50) / 1e6, event_loop_delay_p99_ms: delay.percentile(99) / 1e6 };
    send(stopped, () => process.exit(0));
  })();
});
