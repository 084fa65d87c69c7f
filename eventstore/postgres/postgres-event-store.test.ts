import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/support/test-database.js';
import { eventStoreContract, waitFor } from '../event-store-contract.js';
import { START, type LogPosition, type NewEvent, type RecordedEvent } from '../event-store.js';
import { StreamStateConflict } from '../errors.js';
import { upcasterFrom } from '../upcasting.js';
import { PostgresEventStore } from './postgres-event-store.js';

let database: TestDatabase;
let store: PostgresEventStore;

beforeAll(async () => {
  database = await createTestDatabase(40);
  store = new PostgresEventStore(database.pool, { poll_interval_ms: 10 });
});
afterAll(async () => {
  await store.close();
  await database.close();
});

function event(type = 'test-happened', data: Record<string, string> = {}): NewEvent {
  return {
    event_id: randomUUID(),
    type,
    data,
    occurred_at: new Date('2026-11-26T10:00:00Z'),
    metadata: { actor: { id: 'system', role: 'system' }, tenant: 'isp-1', correlation_id: randomUUID(), causation_id: null, command_id: randomUUID() },
  };
}

/**
 * Other test files share this PostgreSQL server, and any open transaction on it holds the visibility horizon
 * back for a moment (by design: that is what makes reads gap-safe). Read on until the condition holds.
 */
async function readAllUntil(from: LogPosition, done: (events: readonly RecordedEvent[]) => boolean): Promise<readonly RecordedEvent[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const events = await store.readAll(from, { max_count: 10_000 });
    if (done(events) || Date.now() > deadline) return events;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

eventStoreContract('PostgreSQL', async () => store, { log_wide_event_ids: true });

describe('PostgreSQL event store: what only a real PostgreSQL can show', () => {
  it('rejects UPDATE, DELETE and TRUNCATE on events in the database itself', async () => {
    const id = `immutable-${randomUUID()}`;
    await store.appendToStream(id, [event()], { stream_state: 'no_stream' });
    await expect(database.pool.query(`UPDATE events SET data = '{}' WHERE stream_id = $1`, [id])).rejects.toThrow(/append-only/);
    await expect(database.pool.query('DELETE FROM events WHERE stream_id = $1', [id])).rejects.toThrow(/append-only/);
    await expect(database.pool.query('TRUNCATE events CASCADE')).rejects.toThrow(/append-only/);
    expect(await store.readStream(id)).toHaveLength(1);
  });

  it('20 writers at the same expected revision: exactly one wins, the others get the typed conflict', async () => {
    const id = `race-${randomUUID()}`;
    await store.appendToStream(id, [event()], { stream_state: 'no_stream' });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 20 }, () => store.appendToStream(id, [event()], { stream_state: 0n })),
    );
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(19);
    for (const failure of lost) expect(failure.reason).toBeInstanceOf(StreamStateConflict);
    expect(await store.readStream(id)).toHaveLength(2);
  });

  it('20 writers creating the same stream with no_stream: exactly one wins', async () => {
    const id = `create-race-${randomUUID()}`;
    const outcomes = await Promise.allSettled(Array.from({ length: 20 }, () => store.appendToStream(id, [event()], { stream_state: 'no_stream' })));
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    expect(await store.readStream(id)).toHaveLength(1);
  });

  it('a slow transaction that began before a fast one is never skipped by a reader that runs in between', async () => {
    const head = await store.headPosition();
    const slow = new pg.Client({ connectionString: database.url });
    await slow.connect();
    try {
      await slow.query('BEGIN');
      // Taking an xid now makes this transaction older than the fast append below.
      await slow.query('SELECT pg_current_xact_id()');
      const fast = await store.appendToStream(`fast-${randomUUID()}`, [event('fast')], { stream_state: 'no_stream' });

      // The reader runs while the slow transaction is open: it must not move past the slow one's xid.
      const between = await store.readAll(head);
      expect(between.find((e) => e.type === 'fast')).toBeUndefined();
      const cursor = between.length === 0 ? head : between[between.length - 1]!.position;

      const slowStream = `slow-${randomUUID()}`;
      await slow.query(`INSERT INTO streams (stream_id, revision) VALUES ($1, 0)`, [slowStream]);
      await slow.query(
        `INSERT INTO events (stream_id, stream_revision, event_id, type, data, metadata, occurred_at)
         VALUES ($1, 0, $2, 'slow', '{}', '{}', now())`,
        [slowStream, randomUUID()],
      );
      await slow.query('COMMIT');

      const after = await readAllUntil(cursor, (events) => events.some((e) => e.type === 'fast'));
      const types = after.map((e) => e.type).filter((t) => t === 'slow' || t === 'fast');
      expect(types).toEqual(['slow', 'fast']);
      expect(after.find((e) => e.type === 'fast')?.position).toEqual(fast.position);
    } finally {
      await slow.end();
    }
  });

  it('a rolled-back append does not stall readers', async () => {
    const head = await store.headPosition();
    const doomed = new pg.Client({ connectionString: database.url });
    await doomed.connect();
    try {
      await doomed.query('BEGIN');
      await doomed.query(
        `INSERT INTO events (stream_id, stream_revision, event_id, type, data, metadata, occurred_at)
         VALUES ($1, 0, $2, 'doomed', '{}', '{}', now())`,
        [`doomed-${randomUUID()}`, randomUUID()],
      );
      await doomed.query('ROLLBACK');
      await store.appendToStream(`after-rollback-${randomUUID()}`, [event('after-rollback')], { stream_state: 'no_stream' });
      const seen = await readAllUntil(head, (events) => events.some((e) => e.type === 'after-rollback'));
      expect(seen.map((e) => e.type)).toContain('after-rollback');
      expect(seen.map((e) => e.type)).not.toContain('doomed');
    } finally {
      await doomed.end();
    }
  });

  it('concurrent writers and a live subscriber: every event delivered exactly once, in position order', async () => {
    const from = await store.headPosition();
    const prefix = `busy-${randomUUID()}`;
    const seen: RecordedEvent[] = [];
    const subscription = store.subscribeToAll(from, { handle: async (batch) => void seen.push(...batch.filter((e) => e.stream_id.startsWith(prefix))) }, { batch_size: 7 });
    const writers = Array.from({ length: 8 }, async (_, writer) => {
      for (let i = 0; i < 25; i += 1) await store.appendToStream(`${prefix}-${writer}`, [event('busy', { i: String(i) })], { stream_state: 'any' });
    });
    await Promise.all(writers);
    await waitFor(() => seen.length >= 200);
    await subscription.stop();
    expect(seen).toHaveLength(200);
    expect(new Set(seen.map((e) => e.event_id)).size).toBe(200);
    for (let writer = 0; writer < 8; writer += 1) {
      const revisions = seen.filter((e) => e.stream_id === `${prefix}-${writer}`).map((e) => Number(e.stream_revision));
      expect(revisions).toEqual(Array.from({ length: 25 }, (_, i) => i));
    }
  });

  it('upcasts old schema versions on read and never rewrites the stored event', async () => {
    const upcasting = new PostgresEventStore(database.pool, {
      upcast: upcasterFrom({
        'plan-set': {
          1: (data) => ({ ...data, rate: `${String(data.speed_mbps)}M` }),
          2: (data) => ({ ...data, burst: null }),
        },
      }),
    });
    const id = `upcast-${randomUUID()}`;
    await upcasting.appendToStream(id, [{ ...event('plan-set', { speed_mbps: '10' }), schema_version: 1 }], { stream_state: 'no_stream' });
    const [read] = await upcasting.readStream(id);
    expect(read?.schema_version).toBe(3);
    expect(read?.data).toEqual({ speed_mbps: '10', rate: '10M', burst: null });
    const stored = await database.pool.query('SELECT schema_version, data FROM events WHERE stream_id = $1', [id]);
    expect(stored.rows[0]).toEqual({ schema_version: 1, data: { speed_mbps: '10' } });
  });

  it('an empty log has START as its head', async () => {
    const empty = await createTestDatabase(2);
    try {
      expect(await new PostgresEventStore(empty.pool).headPosition()).toEqual(START);
    } finally {
      await empty.close();
    }
  });
});
