import { randomUUID } from 'node:crypto';
import { ANY, NO_STREAM, STREAM_EXISTS, WrongExpectedVersionError } from '@kurrent/kurrentdb-client';
import { afterAll, describe, expect, it } from 'vitest';
import type { LogPosition, NewEvent } from '../event-store.js';
import { InvalidAppend, StreamStateConflict } from '../errors.js';
import { noUpcasting, upcasterFrom } from '../upcasting.js';
import {
  KurrentDbEventStore,
  conflictFromKurrent,
  decodeIdempotencyClaim,
  decodeRecordedEvent,
  encodeEventMetadata,
  idempotencyClaimOf,
  idempotencyStreamOf,
  isVisibleAfter,
  revisionFromKurrent,
  toEventData,
  toKurrentStreamState,
  type StoredKurrentEvent,
} from './kurrentdb-event-store.js';

/** What the KurrentDB adapter decides without a server: the mappings between our port and the client. */

const newEvent = (overrides: Partial<NewEvent> = {}): NewEvent => ({
  event_id: randomUUID(),
  type: 'payment-received',
  schema_version: 2,
  data: { amount: '100.00', nested: { list: ['x', 'y'] } },
  occurred_at: new Date('2026-11-26T10:00:00.000Z'),
  metadata: {
    actor: { id: 'operator-1', role: 'admin' },
    tenant: 'isp-1',
    correlation_id: randomUUID(),
    causation_id: null,
    command_id: randomUUID(),
    channel: 'bkash',
  },
  ...overrides,
});

/** The event as a read returns it: the metadata went to the server as JSON and comes back parsed. */
function stored(event: NewEvent, position: LogPosition = { commit: 4_096n, prepare: 4_096n }, extra_metadata: Record<string, string> = {}): StoredKurrentEvent {
  const data = toEventData(event);
  return {
    streamId: 'account-1',
    id: data.id,
    revision: 7n,
    type: data.type,
    isJson: data.contentType === 'application/json',
    created: new Date('2026-11-26T10:00:01.000Z'),
    data: JSON.parse(JSON.stringify(data.data)),
    metadata: { ...JSON.parse(JSON.stringify(data.metadata)), ...extra_metadata },
    position,
  };
}

describe('KurrentDB mapping: stream state and conflicts', () => {
  it('maps every stream_state to the client constant of the same meaning, and a revision to itself', () => {
    expect(toKurrentStreamState('any')).toBe(ANY);
    expect(toKurrentStreamState('no_stream')).toBe(NO_STREAM);
    expect(toKurrentStreamState('stream_exists')).toBe(STREAM_EXISTS);
    expect(toKurrentStreamState(41n)).toBe(41n);
  });

  it('reads an absent, deleted or tombstoned stream as no revision', () => {
    expect(revisionFromKurrent(NO_STREAM)).toBeNull();
    expect(revisionFromKurrent(-5n)).toBeNull();
    expect(revisionFromKurrent(undefined)).toBeNull();
    expect(revisionFromKurrent(0n)).toBe(0n);
  });

  it('turns WrongExpectedVersionError into StreamStateConflict with the expectation we sent and the actual revision', () => {
    const error = new WrongExpectedVersionError(undefined, { streamName: 'account-1', expected: NO_STREAM, current: 3n });
    const conflict = conflictFromKurrent(error, new Map([['account-1', 'no_stream']]));
    expect(conflict).toBeInstanceOf(StreamStateConflict);
    expect(conflict.stream_id).toBe('account-1');
    expect(conflict.expected).toBe('no_stream');
    expect(conflict.actual).toBe(3n);

    const absent = new WrongExpectedVersionError(undefined, { streamName: 'account-2', expected: 5n, current: NO_STREAM });
    const fallback = conflictFromKurrent(absent, new Map());
    expect(fallback.expected).toBe(5n);
    expect(fallback.actual).toBeNull();
  });
});

describe('KurrentDB mapping: events in and out', () => {
  it('uses our event id as the KurrentDB event id and writes only string metadata values (multiStreamAppend needs that)', () => {
    const event = newEvent();
    const data = toEventData(event);
    expect(data.id).toBe(event.event_id);
    expect(data.contentType).toBe('application/json');
    expect(Object.values(encodeEventMetadata(event)).every((value) => typeof value === 'string')).toBe(true);
  });

  it('round-trips data, metadata, schema version and business time, ignoring metadata keys the server adds', () => {
    const event = newEvent();
    const recorded = decodeRecordedEvent(
      stored(event, { commit: 9_000n, prepare: 8_990n }, { '$schema.format': 'Json', '$schema.name': event.type }),
      noUpcasting,
    );
    expect(recorded.event_id).toBe(event.event_id);
    expect(recorded.data).toEqual(event.data);
    expect(recorded.metadata).toEqual(event.metadata);
    expect(recorded.schema_version).toBe(2);
    expect(recorded.occurred_at.toISOString()).toBe('2026-11-26T10:00:00.000Z');
    expect(recorded.recorded_at.toISOString()).toBe('2026-11-26T10:00:01.000Z');
    expect(recorded.stream_revision).toBe(7n);
    expect(recorded.position).toEqual({ commit: 9_000n, prepare: 8_990n });
    expect(recorded.global_position).toBe(9_000n);
  });

  it('an event without schema_version is stored as version 1', () => {
    const { schema_version: _omitted, ...rest } = newEvent();
    expect(decodeRecordedEvent(stored(rest), noUpcasting).schema_version).toBe(1);
  });

  it('upcasts on read through the Upcaster, as the PostgreSQL adapter does', () => {
    const upcast = upcasterFrom({
      'plan-set': { 1: (data) => ({ ...data, rate: `${String(data.speed_mbps)}M` }), 2: (data) => ({ ...data, burst: null }) },
    });
    const event = newEvent({ type: 'plan-set', schema_version: 1, data: { speed_mbps: '10' } });
    const recorded = decodeRecordedEvent(stored(event), upcast);
    expect(recorded.schema_version).toBe(3);
    expect(recorded.data).toEqual({ speed_mbps: '10', rate: '10M', burst: null });
  });

  it('refuses events IspBills did not write instead of guessing their metadata', () => {
    const event = stored(newEvent());
    expect(() => decodeRecordedEvent({ ...event, metadata: { source: 'other-app' } }, noUpcasting)).toThrow(/not written by IspBills/);
    expect(() => decodeRecordedEvent({ ...event, isJson: false, data: new Uint8Array([1]) }, noUpcasting)).toThrow(/not a JSON object/);
    expect(() => decodeRecordedEvent({ ...event, position: undefined }, noUpcasting)).toThrow(/\$all position/);
  });
});

describe('KurrentDB mapping: what readAll lets through', () => {
  const at = (commit: bigint, streamId = 'account-1', type = 'payment-received') => ({ streamId, type, position: { commit, prepare: commit } });

  it('is exclusive of the cursor: the server returns the event at the start position, the page must not', () => {
    const cursor = { commit: 100n, prepare: 100n };
    expect(isVisibleAfter(at(100n), cursor)).toBe(false);
    expect(isVisibleAfter(at(99n), cursor)).toBe(false);
    expect(isVisibleAfter(at(101n), cursor)).toBe(true);
    expect(isVisibleAfter({ ...at(100n), position: { commit: 100n, prepare: 101n } }, cursor)).toBe(true);
  });

  it('from the start of the log, nothing is skipped for position', () => {
    expect(isVisibleAfter(at(0n), null)).toBe(true);
  });

  it('hides system events (type or stream starting with $) and idempotency records', () => {
    expect(isVisibleAfter(at(5n, '$stats-127.0.0.1:2113', 'ignored'), null)).toBe(false);
    expect(isVisibleAfter(at(5n, 'account-1', '$streamDeleted'), null)).toBe(false);
    expect(isVisibleAfter(at(5n, idempotencyStreamOf('payment-1')), null)).toBe(false);
  });
});

describe('KurrentDB mapping: idempotency claims', () => {
  it('keeps the request hash, the result and the last event id of every stream', () => {
    const [a, b, c] = [newEvent(), newEvent(), newEvent()];
    const claim = idempotencyClaimOf({ key: 'payment-1', request_hash: 'hash-1', result: { payment_id: 'p-1' } }, [
      { stream_id: 'account-1', events: [a!, b!], stream_state: 'any' },
      { stream_id: 'ledger-1', events: [c!], stream_state: 'no_stream' },
    ]);
    expect(decodeIdempotencyClaim(JSON.parse(JSON.stringify(claim)))).toEqual({
      key: 'payment-1',
      request_hash: 'hash-1',
      result: { payment_id: 'p-1' },
      streams: [
        { stream_id: 'account-1', last_event_id: b!.event_id },
        { stream_id: 'ledger-1', last_event_id: c!.event_id },
      ],
    });
    expect(() => decodeIdempotencyClaim({ key: 'payment-1' })).toThrow(/malformed/);
  });
});

describe('KurrentDB adapter: appends it refuses before reaching a server', () => {
  // The client connects lazily, so a store over an address nobody listens on is enough to check validation.
  const store = KurrentDbEventStore.fromConnectionString('kurrentdb://127.0.0.1:1?tls=false');
  afterAll(() => store.close());

  it('refuses the reserved idempotency prefix, $ streams and event ids that are not UUIDs', async () => {
    await expect(store.appendToStream(idempotencyStreamOf('x'), [newEvent()], { stream_state: 'any' })).rejects.toBeInstanceOf(InvalidAppend);
    await expect(store.appendToStream('$settings', [newEvent()], { stream_state: 'any' })).rejects.toBeInstanceOf(InvalidAppend);
    await expect(store.appendToStream('account-1', [newEvent({ event_id: 'payment-1' })], { stream_state: 'any' })).rejects.toBeInstanceOf(InvalidAppend);
    await expect(store.appendToStreams([])).rejects.toBeInstanceOf(InvalidAppend);
  });
});
