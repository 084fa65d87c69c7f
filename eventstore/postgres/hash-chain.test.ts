import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/support/test-database.js';
import { START, type NewEvent } from '../event-store.js';
import { chainHead, extendChain, verifyChain } from './hash-chain.js';
import { PostgresEventStore } from './postgres-event-store.js';

let database: TestDatabase;
let store: PostgresEventStore;

beforeAll(async () => {
  database = await createTestDatabase(5);
  store = new PostgresEventStore(database.pool);
});
afterAll(async () => database.close());

const event = (n: number): NewEvent => ({
  event_id: randomUUID(),
  type: 'payment-received',
  data: { amount: `${n}.00`, note: 'নগদ' },
  occurred_at: new Date(Date.UTC(2026, 10, 26, 10, 0, n)),
  metadata: { actor: { id: 'op', role: 'admin' }, tenant: 'isp', correlation_id: randomUUID(), causation_id: null, command_id: randomUUID() },
});

/**
 * Other test files share the server; their open transactions hold the visibility horizon back for a moment.
 * Wait until this database's events are all visible, as a reader would.
 */
async function waitUntilVisible(count: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while ((await store.readAll(START, { max_count: 10_000 })).length < count) {
    if (Date.now() > deadline) throw new Error(`fewer than ${count} events visible after 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A superuser can switch the immutability trigger off; the chain must still tell. */
async function tamper(sql: string, parameters: unknown[]): Promise<void> {
  const client = await database.pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('ALTER TABLE events DISABLE TRIGGER events_no_update_delete');
    await client.query(sql, parameters);
    await client.query('ALTER TABLE events ENABLE TRIGGER events_no_update_delete');
    await client.query('COMMIT');
  } finally {
    client.release();
  }
}

describe('hash chain over the event log', () => {
  it('chains every visible event in reader order and verifies', async () => {
    for (let i = 0; i < 30; i += 1) await store.appendToStream(`chain-${i % 4}`, [event(i)], { stream_state: 'any' });
    await waitUntilVisible(30);
    expect(await extendChain(database.pool, 7)).toBe(7);
    while ((await extendChain(database.pool, 7)) > 0);
    const head = await chainHead(database.pool);
    expect(head?.chain_index).toBe(30n);
    const verification = await verifyChain(database.pool);
    expect(verification).toMatchObject({ ok: true, verified: 30, unchained: 0, first_break: null });
    expect(verification.head_hash).toBe(head?.hash);
  });

  it('reports events not chained yet without calling them broken', async () => {
    await store.appendToStream('chain-late', [event(99)], { stream_state: 'any' });
    await waitUntilVisible(31);
    expect(await verifyChain(database.pool)).toMatchObject({ ok: true, unchained: 1 });
    await extendChain(database.pool);
  });

  it('names the first broken link when a stored event is altered', async () => {
    const victim = (await database.pool.query<{ global_position: string }>(
      `SELECT global_position FROM events ORDER BY tx_id, global_position OFFSET 11 LIMIT 1`,
    )).rows[0]!.global_position;
    await tamper(`UPDATE events SET data = jsonb_set(data, '{amount}', '"1000.00"') WHERE global_position = $1`, [victim]);
    const verification = await verifyChain(database.pool);
    expect(verification.ok).toBe(false);
    expect(verification.first_break).toMatchObject({ chain_index: 12n, global_position: BigInt(victim), reason: 'hash_mismatch' });
    expect(verification.verified).toBe(11);
  });

  it('names a deleted event as missing', async () => {
    const other = await createTestDatabase(3);
    try {
      const otherStore = new PostgresEventStore(other.pool);
      for (let i = 0; i < 5; i += 1) await otherStore.appendToStream('s', [event(i)], { stream_state: 'any' });
      while ((await otherStore.readAll(START)).length < 5) await new Promise((resolve) => setTimeout(resolve, 20));
      await extendChain(other.pool);
      const victim = (await other.pool.query<{ global_position: string }>(`SELECT global_position FROM events ORDER BY tx_id, global_position OFFSET 2 LIMIT 1`)).rows[0]!.global_position;
      const client = await other.pool.connect();
      await client.query('BEGIN');
      await client.query('ALTER TABLE event_chain DROP CONSTRAINT event_chain_global_position_fkey');
      await client.query('ALTER TABLE events DISABLE TRIGGER events_no_update_delete');
      await client.query('DELETE FROM events WHERE global_position = $1', [victim]);
      await client.query('COMMIT');
      client.release();
      const verification = await verifyChain(other.pool);
      expect(verification.first_break).toMatchObject({ chain_index: 3n, global_position: BigInt(victim), reason: 'event_missing' });
    } finally {
      await other.close();
    }
  });
});
