import { createHash } from 'node:crypto';
import type pg from 'pg';

/**
 * Tamper evidence: every event, in the order readers see them, gets hash = SHA-256(previous hash ‖ canonical
 * event). The chain is extended after commit, under an advisory lock, so appends never wait for it. Changing
 * any stored byte of an event (which the immutability trigger forbids, but a superuser can force) breaks the
 * link at that event, and `verifyChain` names it.
 */

const CHAIN_LOCK_KEY = "hashtext('ispbills:event_chain')";
const GENESIS = Buffer.alloc(32);
const PAGE = 5_000;

/** The stored form of an event exactly as PostgreSQL prints it: jsonb text is normalised, timestamps in µs. */
export const CANONICAL_COLUMNS = `e.global_position::text AS global_position, e.stream_id, e.stream_revision::text AS stream_revision,
  e.event_id::text AS event_id, e.type, e.schema_version, e.data::text AS data, e.metadata::text AS metadata,
  to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS occurred_at,
  to_char(e.recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS recorded_at, e.tx_id::text AS tx_id`;

export type CanonicalRow = {
  global_position: string;
  stream_id: string;
  stream_revision: string;
  event_id: string;
  type: string;
  schema_version: number;
  data: string;
  metadata: string;
  occurred_at: string;
  recorded_at: string;
  tx_id: string;
};

export function eventHash(previous: Buffer | null, row: CanonicalRow): Buffer {
  const canonical = JSON.stringify([
    row.global_position,
    row.stream_id,
    row.stream_revision,
    row.event_id,
    row.type,
    row.schema_version,
    row.data,
    row.metadata,
    row.occurred_at,
    row.recorded_at,
  ]);
  return createHash('sha256')
    .update(previous ?? GENESIS)
    .update(canonical, 'utf8')
    .digest();
}

/** An event in its canonical form with its link in the chain: enough to recompute the link's hash elsewhere. */
export type ChainedEvent = CanonicalRow & Readonly<{ chain_index: string; prev_hash: string | null; hash: string }>;

/**
 * The chained events at these log positions, in chain order, with their links (event_chain by its unique
 * global_position, events by key). A position that is not chained (yet) is simply absent: the caller compares.
 */
export async function chainedEvents(client: pg.ClientBase | pg.Pool, positions: readonly bigint[]): Promise<ChainedEvent[]> {
  const found = await client.query<CanonicalRow & { chain_index: string; prev_hash: Buffer | null; hash: Buffer }>(
    `SELECT ${CANONICAL_COLUMNS}, c.chain_index::text AS chain_index, c.prev_hash, c.hash
       FROM event_chain c JOIN events e ON e.global_position = c.global_position
      WHERE c.global_position = ANY($1::bigint[]) ORDER BY c.chain_index`,
    [positions.map((position) => position.toString())],
  );
  return found.rows.map((row) => ({ ...row, prev_hash: row.prev_hash === null ? null : row.prev_hash.toString('hex'), hash: row.hash.toString('hex') }));
}

/** One link of the chain by its index, or null. */
export async function chainLink(client: pg.ClientBase | pg.Pool, chain_index: bigint): Promise<{ global_position: string; hash: string } | null> {
  const found = await client.query<{ global_position: string; hash: Buffer }>('SELECT global_position::text AS global_position, hash FROM event_chain WHERE chain_index = $1', [chain_index.toString()]);
  const row = found.rows[0];
  return row === undefined ? null : { global_position: row.global_position, hash: row.hash.toString('hex') };
}

export type ChainHead = Readonly<{ chain_index: bigint; global_position: bigint; tx_id: bigint; hash: string }> | null;

async function readHead(client: pg.PoolClient | pg.Pool): Promise<{ chain_index: bigint; global_position: bigint; tx_id: bigint; hash: Buffer } | null> {
  const row = (
    await client.query<{ chain_index: string; global_position: string; tx_id: string; hash: Buffer }>(
      'SELECT chain_index, global_position, tx_id::text AS tx_id, hash FROM event_chain ORDER BY chain_index DESC LIMIT 1',
    )
  ).rows[0];
  return row === undefined
    ? null
    : { chain_index: BigInt(row.chain_index), global_position: BigInt(row.global_position), tx_id: BigInt(row.tx_id), hash: row.hash };
}

export async function chainHead(pool: pg.Pool): Promise<ChainHead> {
  const head = await readHead(pool);
  return head === null ? null : { ...head, hash: head.hash.toString('hex') };
}

/** Chains up to `max_events` visible events; returns how many it chained (0 when the chain is current). */
export async function extendChain(pool: pg.Pool, max_events = PAGE): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`SELECT pg_advisory_xact_lock(${CHAIN_LOCK_KEY})`);
    const head = await readHead(client);
    const rows = (
      await client.query<CanonicalRow>(
        `SELECT ${CANONICAL_COLUMNS} FROM events e
         WHERE (e.tx_id, e.global_position) > ($1::text::xid8, $2::bigint)
           AND e.tx_id < pg_snapshot_xmin(pg_current_snapshot())
         ORDER BY e.tx_id, e.global_position LIMIT $3`,
        [(head?.tx_id ?? 0n).toString(), (head?.global_position ?? 0n).toString(), max_events],
      )
    ).rows;
    if (rows.length === 0) {
      await client.query('COMMIT');
      return 0;
    }
    let previous = head?.hash ?? null;
    let index = head?.chain_index ?? 0n;
    const indexes: string[] = [];
    const positions: string[] = [];
    const txs: string[] = [];
    const previousHashes: (Buffer | null)[] = [];
    const hashes: Buffer[] = [];
    for (const row of rows) {
      index += 1n;
      const hash = eventHash(previous, row);
      indexes.push(index.toString());
      positions.push(row.global_position);
      txs.push(row.tx_id);
      previousHashes.push(previous);
      hashes.push(hash);
      previous = hash;
    }
    await client.query(
      `INSERT INTO event_chain (chain_index, global_position, tx_id, prev_hash, hash)
       SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[]::xid8[], $4::bytea[], $5::bytea[])`,
      [indexes, positions, txs, previousHashes, hashes],
    );
    await client.query('COMMIT');
    return rows.length;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

export type ChainBreak = Readonly<{
  chain_index: bigint;
  global_position: bigint | null;
  reason: 'hash_mismatch' | 'event_missing' | 'order_mismatch' | 'event_not_chained';
  detail: string;
}>;

export type ChainVerification = Readonly<{
  ok: boolean;
  verified: number;
  /** Visible events past the chain head, not chained yet (normal right after appends). */
  unchained: number;
  head_hash: string | null;
  first_break: ChainBreak | null;
}>;

/**
 * Walks the events in reader order beside the chain rows in chain order and recomputes every hash; the first
 * difference is the first broken link. Reports progress through `on_progress` for long logs.
 */
export async function verifyChain(pool: pg.Pool, on_progress?: (verified: number) => void): Promise<ChainVerification> {
  const head = await readHead(pool);
  let verified = 0;
  let previous: Buffer | null = null;
  let cursor = { tx_id: '0', global_position: '0' };
  let expectedIndex = 1n;
  const finish = async (first_break: ChainBreak | null): Promise<ChainVerification> => {
    const unchained = Number(
      (
        await pool.query<{ count: string }>(
          `SELECT count(*) FROM events e WHERE (e.tx_id, e.global_position) > ($1::text::xid8, $2::bigint)
           AND e.tx_id < pg_snapshot_xmin(pg_current_snapshot())`,
          [(head?.tx_id ?? 0n).toString(), (head?.global_position ?? 0n).toString()],
        )
      ).rows[0]?.count ?? 0,
    );
    return { ok: first_break === null, verified, unchained, head_hash: head?.hash.toString('hex') ?? null, first_break };
  };
  if (head === null) return finish(null);

  for (;;) {
    const events = (
      await pool.query<CanonicalRow>(
        `SELECT ${CANONICAL_COLUMNS} FROM events e
         WHERE (e.tx_id, e.global_position) > ($1::text::xid8, $2::bigint)
           AND (e.tx_id, e.global_position) <= ($3::text::xid8, $4::bigint)
         ORDER BY e.tx_id, e.global_position LIMIT $5`,
        [cursor.tx_id, cursor.global_position, head.tx_id.toString(), head.global_position.toString(), PAGE],
      )
    ).rows;
    const links = (
      await pool.query<{ chain_index: string; global_position: string; prev_hash: Buffer | null; hash: Buffer }>(
        `SELECT chain_index, global_position, prev_hash, hash FROM event_chain
         WHERE chain_index >= $1::bigint ORDER BY chain_index LIMIT $2`,
        [expectedIndex.toString(), PAGE],
      )
    ).rows;
    if (events.length === 0 && links.length === 0) return finish(null);
    const pairs = Math.max(events.length, links.length);
    for (let i = 0; i < pairs; i += 1) {
      const event = events[i];
      const link = links[i];
      if (link === undefined) {
        // Events remain below the head with no link: one was slipped in behind the chain.
        return finish({
          chain_index: expectedIndex,
          global_position: event === undefined ? null : BigInt(event.global_position),
          reason: 'event_not_chained',
          detail: `event ${event?.global_position} sits inside the chained range but has no link`,
        });
      }
      if (BigInt(link.chain_index) !== expectedIndex) {
        return finish({ chain_index: expectedIndex, global_position: null, reason: 'order_mismatch', detail: `link ${expectedIndex} is missing` });
      }
      if (event === undefined) {
        return finish({
          chain_index: expectedIndex,
          global_position: BigInt(link.global_position),
          reason: 'event_missing',
          detail: `link ${expectedIndex} names event ${link.global_position}, which is gone`,
        });
      }
      if (event.global_position !== link.global_position) {
        const exists = await pool.query('SELECT 1 FROM events WHERE global_position = $1', [link.global_position]);
        if (exists.rowCount === 0) {
          return finish({
            chain_index: expectedIndex,
            global_position: BigInt(link.global_position),
            reason: 'event_missing',
            detail: `link ${expectedIndex} names event ${link.global_position}, which is gone from the log`,
          });
        }
        return finish({
          chain_index: expectedIndex,
          global_position: BigInt(link.global_position),
          reason: 'order_mismatch',
          detail: `link ${expectedIndex} names event ${link.global_position} but the log has event ${event.global_position} there`,
        });
      }
      const hash = eventHash(previous, event);
      const previousMatches = (link.prev_hash === null && previous === null) || (link.prev_hash !== null && previous !== null && link.prev_hash.equals(previous));
      if (!previousMatches || !hash.equals(link.hash)) {
        return finish({
          chain_index: expectedIndex,
          global_position: BigInt(link.global_position),
          reason: 'hash_mismatch',
          detail: `event ${link.global_position} no longer hashes to its link: its stored content changed`,
        });
      }
      previous = hash;
      verified += 1;
      expectedIndex += 1n;
      cursor = { tx_id: event.tx_id, global_position: event.global_position };
    }
    on_progress?.(verified);
  }
}
