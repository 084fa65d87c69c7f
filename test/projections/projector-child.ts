/**
 * A projector process for the kill -9 tests: runs every projection against the database named by
 * PROJECTOR_DATABASE_URL with small batches (PROJECTOR_BATCH_SIZE), prints "started" once running, and stops
 * cleanly on SIGTERM. Killed with SIGKILL it gets no say: whatever it had not committed is simply gone.
 * Usage: PROJECTOR_DATABASE_URL=postgres://... node --import tsx projector-child.ts
 */
import pg from 'pg';
import pino from 'pino';
import { PostgresEventStore } from '../../eventstore/postgres/postgres-event-store.js';
import { ALL_PROJECTIONS } from '../../projections/index.js';
import { Projector } from '../../projections/projector.js';

const url = process.env.PROJECTOR_DATABASE_URL;
if (url === undefined || url === '') throw new Error('PROJECTOR_DATABASE_URL is required');
const batch_size = Number(process.env.PROJECTOR_BATCH_SIZE ?? '20');

const pool = new pg.Pool({ connectionString: url, max: 8, application_name: 'projector-child' });
pool.on('error', () => undefined);
const store = new PostgresEventStore(pool, { poll_interval_ms: 20 });
const projector = new Projector(pool, store, ALL_PROJECTIONS, {
  batch_size,
  poll_interval_ms: 20,
  retry_after_failure_ms: 200,
  leader_retry_ms: 100,
  logger: pino({ level: 'warn' }, pino.destination(2)),
});
projector.start();

process.once('SIGTERM', () => {
  void (async () => {
    await projector.stop();
    await pool.end();
    process.exit(0);
  })();
});
process.stdout.write('started\n');
