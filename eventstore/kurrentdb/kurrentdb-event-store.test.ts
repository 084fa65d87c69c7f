import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { eventStoreContract } from '../event-store-contract.js';
import type { NewEvent } from '../event-store.js';
import { upcasterFrom } from '../upcasting.js';
import { KurrentDbEventStore, idempotencyStreamOf } from './kurrentdb-event-store.js';

/**
 * The shared contract against a real KurrentDB (25.1 or later, for atomic multi-stream appends). Without
 * EVENTSTORE_URL nothing here runs, and the title says so: a skipped suite is not a passing one.
 */
const url = process.env.EVENTSTORE_URL;
const title = url
  ? `KurrentDB contract against ${url}`
  : 'KurrentDB contract (not run: set EVENTSTORE_URL=kurrentdb://localhost:2113?tls=false to run it)';

describe.skipIf(!url)(title, () => {
  let store: KurrentDbEventStore | undefined;
  const open = async (): Promise<KurrentDbEventStore> => (store ??= KurrentDbEventStore.fromConnectionString(url!, { poll_interval_ms: 20 }));
  afterAll(async () => {
    await store?.close();
  });

  eventStoreContract('KurrentDB', open, { log_wide_event_ids: false });

  function event(type = 'test-happened', data: Record<string, string> = {}): NewEvent {
    return {
      event_id: randomUUID(),
      type,
      data,
      occurred_at: new Date('2026-11-26T10:00:00Z'),
      metadata: { actor: { id: 'system', role: 'system' }, tenant: 'isp-1', correlation_id: randomUUID(), causation_id: null, command_id: randomUUID() },
    };
  }

  describe('KurrentDB event store: what only a real KurrentDB can show', () => {
    it('readAll never hands out idempotency records or system events', async () => {
      const kurrent = await open();
      const from = await kurrent.headPosition();
      const key = `payment-${randomUUID()}`;
      const id = `hidden-${randomUUID()}`;
      await kurrent.appendToStream(id, [event()], { stream_state: 'no_stream', idempotency: { key, request_hash: 'h', result: null } });
      const seen = await kurrent.readAll(from);
      expect(seen.map((e) => e.stream_id)).toContain(id);
      expect(seen.some((e) => e.stream_id === idempotencyStreamOf(key) || e.stream_id.startsWith('$') || e.type.startsWith('$'))).toBe(false);
    });

    it('upcasts old schema versions on read', async () => {
      const kurrent = await open();
      // A second store with its own client, so closing it leaves the shared one open.
      const reader = KurrentDbEventStore.fromConnectionString(url!, {
        upcast: upcasterFrom({ 'plan-set': { 1: (data) => ({ ...data, rate: `${String(data.speed_mbps)}M` }) } }),
      });
      try {
        const id = `upcast-${randomUUID()}`;
        await kurrent.appendToStream(id, [{ ...event('plan-set', { speed_mbps: '10' }), schema_version: 1 }], { stream_state: 'no_stream' });
        const [read] = await reader.readStream(id);
        expect(read?.schema_version).toBe(2);
        expect(read?.data).toEqual({ speed_mbps: '10', rate: '10M' });
        const [plain] = await kurrent.readStream(id);
        expect(plain?.schema_version).toBe(1);
      } finally {
        await reader.close();
      }
    });
  });
});
