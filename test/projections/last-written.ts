import type pg from 'pg';
import type { LogPosition } from '../../eventstore/event-store.js';

/** The position of the newest event in the log, visible or not yet: what a test waits for projections to reach. */
export async function lastWritten(pool: pg.Pool): Promise<LogPosition> {
  // Ordered by the xid8 column itself: an alias of its text would sort '999' above '1750'.
  const result = await pool.query<{ commit_position: string; global_position: string }>(
    'SELECT tx_id::text AS commit_position, global_position FROM events ORDER BY events.tx_id DESC, global_position DESC LIMIT 1',
  );
  const row = result.rows[0]!;
  return { commit: BigInt(row.commit_position), prepare: BigInt(row.global_position) };
}
