import type pg from 'pg';
import type { LogPosition } from '../../eventstore/event-store.js';

/** The position of the newest event in the log, visible or not yet: what a test waits for projections to reach. */
export async function lastWritten(pool: pg.Pool): Promise<LogPosition> {
  const result = await pool.query<{ tx_id: string; global_position: string }>(
    'SELECT tx_id::text AS tx_id, global_position FROM events ORDER BY tx_id DESC, global_position DESC LIMIT 1',
  );
  const row = result.rows[0]!;
  return { commit: BigInt(row.tx_id), prepare: BigInt(row.global_position) };
}
