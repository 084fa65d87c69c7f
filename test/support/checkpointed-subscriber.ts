/**
 * A subscriber process for the kill -9 test: it records every event it handles and its checkpoint in one
 * transaction, so wherever it is killed, a restart from the stored checkpoint continues exactly after the last
 * batch it committed. Usage: node --import tsx checkpointed-subscriber.ts <database-url>
 */
import pg from 'pg';
import { PostgresEventStore } from '../../eventstore/postgres/postgres-event-store.js';

const url = process.argv[2];
if (url === undefined) throw new Error('usage: checkpointed-subscriber.ts <database-url>');
const pool = new pg.Pool({ connectionString: url, max: 3 });
await pool.query(`CREATE TABLE IF NOT EXISTS test_checkpoint (name text PRIMARY KEY, commit_position text NOT NULL, prepare_position text NOT NULL)`);
await pool.query(`CREATE TABLE IF NOT EXISTS test_seen (seq bigserial PRIMARY KEY, global_position bigint NOT NULL, pid int NOT NULL)`);
await pool.query(`INSERT INTO test_checkpoint VALUES ('kill-test', '0', '0') ON CONFLICT DO NOTHING`);
const row = (await pool.query<{ commit_position: string; prepare_position: string }>(`SELECT commit_position, prepare_position FROM test_checkpoint WHERE name = 'kill-test'`)).rows[0]!;
const store = new PostgresEventStore(pool, { poll_interval_ms: 10 });
const subscription = store.subscribeToAll(
  { commit: BigInt(row.commit_position), prepare: BigInt(row.prepare_position) },
  {
    handle: async (batch) => {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await client.query(`INSERT INTO test_seen (global_position, pid) SELECT unnest($1::bigint[]), $2`, [batch.map((e) => e.global_position.toString()), process.pid]);
        const last = batch[batch.length - 1]!.position;
        await client.query(`UPDATE test_checkpoint SET commit_position = $1, prepare_position = $2 WHERE name = 'kill-test'`, [last.commit.toString(), last.prepare.toString()]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      } finally {
        client.release();
      }
    },
  },
  { batch_size: 13 },
);
process.stdout.write('subscribed\n');
await subscription.done;
