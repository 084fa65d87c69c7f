import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { comparePositions, START, type EventStore, type NewEvent, type RecordedEvent } from './event-store.js';
import { EventIdConflict, IdempotencyKeyReused, StreamStateConflict } from './errors.js';
import type { JsonObject } from './json.js';

/**
 * The one contract every EventStore adapter passes (kysely's habit: one suite, every backend). `open` gives
 * a store over an empty or shared log; each test uses its own stream names so tests never see each other.
 */
export type ContractOptions = Readonly<{
  /**
   * Whether an event id is unique across the whole log. PostgreSQL enforces it with a unique index; KurrentDB
   * only de-duplicates recent ids per stream (a cache), so the same id in another stream is written again.
   */
  log_wide_event_ids: boolean;
}>;

export function eventStoreContract(name: string, open: () => Promise<EventStore>, options: ContractOptions): void {
  const event = (type = 'test-happened', data: JsonObject = { n: '1' }): NewEvent => ({
    event_id: randomUUID(),
    type,
    data,
    occurred_at: new Date('2026-11-26T10:00:00.000Z'),
    metadata: {
      actor: { id: 'operator-1', role: 'admin' },
      tenant: 'isp-1',
      correlation_id: randomUUID(),
      causation_id: null,
      command_id: randomUUID(),
    },
  });
  const stream = (prefix = 'contract') => `${prefix}-${randomUUID()}`;

  describe(`${name}: the EventStore contract`, () => {
    it('appends to a new stream with no_stream and reads the events back in revision order, unchanged', async () => {
      const store = await open();
      const id = stream();
      const events = [event('a', { amount: '100.00', nested: { list: ['x', 'y'] } }), event('b'), event('c')];
      const result = await store.appendToStream(id, events, { stream_state: 'no_stream' });
      expect(result.next_expected_revision).toBe(2n);
      const read = await store.readStream(id);
      expect(read.map((e) => e.stream_revision)).toEqual([0n, 1n, 2n]);
      expect(read.map((e) => e.event_id)).toEqual(events.map((e) => e.event_id));
      expect(read[0]!.data).toEqual({ amount: '100.00', nested: { list: ['x', 'y'] } });
      expect(read[0]!.metadata).toEqual(events[0]!.metadata);
      expect(read[0]!.occurred_at.toISOString()).toBe('2026-11-26T10:00:00.000Z');
      expect(read[2]!.position).toEqual(result.position);
      expect(await store.streamRevision(id)).toBe(2n);
    });

    it('readStreams reads several streams at once, each from its own revision', async () => {
      const store = await open();
      const [a, b, absent] = [stream(), stream(), stream()];
      await store.appendToStream(a, [event('a0'), event('a1'), event('a2')], { stream_state: 'no_stream' });
      await store.appendToStream(b, [event('b0')], { stream_state: 'no_stream' });
      const read = await store.readStreams([
        { stream_id: a, from_revision: 1n },
        { stream_id: b, from_revision: 0n },
        { stream_id: absent, from_revision: 0n },
      ]);
      expect(read.get(a)?.map((e) => e.type)).toEqual(['a1', 'a2']);
      expect(read.get(b)?.map((e) => e.type)).toEqual(['b0']);
      expect(read.get(absent)).toEqual([]);
    });

    it('an unknown stream reads as empty and has no revision', async () => {
      const store = await open();
      expect(await store.readStream(stream())).toEqual([]);
      expect(await store.streamRevision(stream())).toBeNull();
    });

    it('no_stream on an existing stream is a typed conflict that names the actual revision', async () => {
      const store = await open();
      const id = stream();
      await store.appendToStream(id, [event()], { stream_state: 'no_stream' });
      const failure = await store.appendToStream(id, [event()], { stream_state: 'no_stream' }).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(StreamStateConflict);
      expect((failure as StreamStateConflict).actual).toBe(0n);
      expect(await store.readStream(id)).toHaveLength(1);
    });

    it('stream_exists refuses an absent stream and accepts an existing one', async () => {
      const store = await open();
      const id = stream();
      await expect(store.appendToStream(id, [event()], { stream_state: 'stream_exists' })).rejects.toBeInstanceOf(StreamStateConflict);
      expect(await store.streamRevision(id)).toBeNull();
      await store.appendToStream(id, [event()], { stream_state: 'any' });
      const result = await store.appendToStream(id, [event()], { stream_state: 'stream_exists' });
      expect(result.next_expected_revision).toBe(1n);
    });

    it('an exact revision must match the stream; a stale one is a conflict and writes nothing', async () => {
      const store = await open();
      const id = stream();
      await store.appendToStream(id, [event(), event()], { stream_state: 'no_stream' });
      const ok = await store.appendToStream(id, [event()], { stream_state: 1n });
      expect(ok.next_expected_revision).toBe(2n);
      await expect(store.appendToStream(id, [event()], { stream_state: 1n })).rejects.toBeInstanceOf(StreamStateConflict);
      await expect(store.appendToStream(stream(), [event()], { stream_state: 0n })).rejects.toBeInstanceOf(StreamStateConflict);
      expect(await store.readStream(id)).toHaveLength(3);
    });

    it('any appends whatever the state', async () => {
      const store = await open();
      const id = stream();
      await store.appendToStream(id, [event()], { stream_state: 'any' });
      const second = await store.appendToStream(id, [event(), event()], { stream_state: 'any' });
      expect(second.next_expected_revision).toBe(2n);
    });

    it('appendToStreams is all or nothing: one conflicting stream means no stream changes', async () => {
      const store = await open();
      const [a, b, c] = [stream(), stream(), stream()];
      await store.appendToStream(b, [event()], { stream_state: 'no_stream' });
      const failure = await store
        .appendToStreams([
          { stream_id: a, events: [event()], stream_state: 'no_stream' },
          { stream_id: b, events: [event()], stream_state: 'no_stream' },
          { stream_id: c, events: [event()], stream_state: 'any' },
        ])
        .catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(StreamStateConflict);
      expect((failure as StreamStateConflict).stream_id).toBe(b);
      expect(await store.readStream(a)).toEqual([]);
      expect(await store.readStream(b)).toHaveLength(1);
      expect(await store.readStream(c)).toEqual([]);

      const written = await store.appendToStreams([
        { stream_id: a, events: [event()], stream_state: 'no_stream' },
        { stream_id: c, events: [event(), event()], stream_state: 'no_stream' },
      ]);
      expect(written.results.map((r) => r.next_expected_revision)).toEqual([0n, 1n]);
    });

    it('a repeated event id is an idempotent replay, not a second event', async () => {
      const store = await open();
      const id = stream();
      const events = [event(), event()];
      const first = await store.appendToStream(id, events, { stream_state: 'no_stream' });
      // The retry carries the same ids and the stale expectation a client would resend.
      const again = await store.appendToStream(id, events, { stream_state: 'no_stream' });
      expect(again).toEqual(first);
      expect(await store.readStream(id)).toHaveLength(2);
      if (options.log_wide_event_ids) {
        const moved = await store.appendToStream(stream(), [events[0]!], { stream_state: 'any' }).catch((e: unknown) => e);
        expect(moved).toBeInstanceOf(EventIdConflict);
      }
    });

    it('an idempotency key returns the first result for the same request and refuses another request', async () => {
      const store = await open();
      const key = `payment-${randomUUID()}`;
      const id = stream();
      const first = await store.appendToStreams([{ stream_id: id, events: [event()], stream_state: 'any' }], {
        idempotency: { key, request_hash: 'hash-1', result: { payment_id: 'p-1' } },
      });
      expect(first.replayed).toBeNull();
      const again = await store.appendToStreams([{ stream_id: id, events: [event()], stream_state: 'any' }], {
        idempotency: { key, request_hash: 'hash-1', result: { payment_id: 'p-2' } },
      });
      expect(again.replayed?.result).toEqual({ payment_id: 'p-1' });
      expect(again.results).toEqual(first.results);
      await expect(
        store.appendToStreams([{ stream_id: id, events: [event()], stream_state: 'any' }], {
          idempotency: { key, request_hash: 'hash-2', result: {} },
        }),
      ).rejects.toBeInstanceOf(IdempotencyKeyReused);
      expect(await store.readStream(id)).toHaveLength(1);
      expect((await store.findIdempotencyRecord(key))?.request_hash).toBe('hash-1');
    });

    it('readAll pages through the log in order, each page strictly after the given position', async () => {
      const store = await open();
      const before = await store.headPosition();
      const id = stream();
      const appended = [event(), event(), event(), event(), event()];
      for (const e of appended) await store.appendToStream(id, [e], { stream_state: 'any' });
      // Another transaction anywhere on the server may hold the visibility horizon back for a moment, as in
      // production: a reader keeps paging until the events show up, it never skips ahead.
      const seen: RecordedEvent[] = [];
      let cursor = before;
      const deadline = Date.now() + 10_000;
      while (seen.filter((e) => e.stream_id === id).length < appended.length && Date.now() < deadline) {
        const page = await store.readAll(cursor, { max_count: 2 });
        if (page.length === 0) {
          await new Promise((resolve) => setTimeout(resolve, 20));
          continue;
        }
        seen.push(...page);
        cursor = page[page.length - 1]!.position;
      }
      const ours = seen.filter((e) => e.stream_id === id);
      expect(ours.map((e) => e.event_id)).toEqual(appended.map((e) => e.event_id));
      for (let i = 1; i < seen.length; i += 1) expect(comparePositions(seen[i - 1]!.position, seen[i]!.position)).toBe(-1);
      expect(comparePositions(await store.headPosition(), START)).toBe(1);
    });

    it('subscribeToAll catches up, then delivers new events live, from the caller-owned position', async () => {
      const store = await open();
      const id = stream('subscribed');
      await store.appendToStream(id, [event(), event()], { stream_state: 'no_stream' });
      const received: RecordedEvent[] = [];
      let caughtUp = 0;
      const subscription = store.subscribeToAll(
        START,
        {
          handle: async (batch) => {
            received.push(...batch.filter((e) => e.stream_id === id));
          },
          on_caught_up: () => {
            caughtUp += 1;
          },
        },
        { poll_interval_ms: 20 },
      );
      await waitFor(() => received.length === 2 && caughtUp > 0);
      await store.appendToStream(id, [event()], { stream_state: 1n });
      await waitFor(() => received.length === 3);
      await subscription.stop();
      expect(received.map((e) => e.stream_revision)).toEqual([0n, 1n, 2n]);
    });
  });
}

export async function waitFor(condition: () => boolean, timeout_ms = 10_000): Promise<void> {
  const deadline = Date.now() + timeout_ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeout_ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
