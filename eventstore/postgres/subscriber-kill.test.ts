import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/support/test-database.js';
import { PostgresEventStore } from './postgres-event-store.js';

let database: TestDatabase;
let store: PostgresEventStore;
const script = path.resolve(import.meta.dirname, '../../test/support/checkpointed-subscriber.ts');

beforeAll(async () => {
  database = await createTestDatabase(12);
  store = new PostgresEventStore(database.pool);
});
afterAll(async () => database.close());

function startSubscriber(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, database.url], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.stdout!.once('data', () => resolve(child));
  });
}

async function kill(child: ChildProcess): Promise<void> {
  const gone = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await gone;
}

describe('a checkpointed subscriber killed with SIGKILL', () => {
  it('restarted from its checkpoint, has seen every event exactly once, in log order', { timeout: 120_000 }, async () => {
    const total = 1_600;
    const writers = Array.from({ length: 8 }, async (_, writer) => {
      for (let i = 0; i < total / 8; i += 1) {
        await store.appendToStream(`kill-${writer}`, [
          { event_id: randomUUID(), type: 'tick', data: { i: String(i) }, occurred_at: new Date(), metadata: { actor: { id: 's', role: 'system' }, tenant: 't', correlation_id: randomUUID(), causation_id: null, command_id: randomUUID() } },
        ], { stream_state: 'any' });
        // Paced, so that the subscriber is killed while writers are still appending.
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    });
    const writing = Promise.all(writers);

    // Kill the subscriber three times, each time after it has handled more of the stream.
    const seenCount = async () => Number((await database.pool.query<{ count: string }>('SELECT count(*) FROM test_seen')).rows[0]!.count);
    let subscriber = await startSubscriber();
    for (const at of [200, 500, 800]) {
      while ((await seenCount()) < at) await new Promise((resolve) => setTimeout(resolve, 5));
      await kill(subscriber);
      subscriber = await startSubscriber();
    }
    await writing;

    const deadline = Date.now() + 60_000;
    for (;;) {
      const seen = await seenCount();
      if (seen >= total || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await kill(subscriber);

    const seen = (await database.pool.query<{ global_position: string; pid: number }>('SELECT global_position, pid FROM test_seen ORDER BY seq')).rows;
    const log = (await database.pool.query<{ global_position: string }>('SELECT global_position FROM events ORDER BY tx_id, global_position')).rows;
    expect(new Set(seen.map((row) => row.pid)).size).toBeGreaterThanOrEqual(4);
    expect(seen.map((row) => row.global_position)).toEqual(log.map((row) => row.global_position));
    expect(seen).toHaveLength(total);
  });
});
