/**
 * The KurrentDB adapter of the EventStore port, over `@kurrent/kurrentdb-client` (the maintained successor of
 * `@eventstore/db-client`). It passes the same contract suite as the PostgreSQL adapter when EVENTSTORE_URL is
 * set; the functions exported next to the class are the pure mappings, tested without a server.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  ANY,
  BACKWARDS,
  END,
  FORWARDS,
  KurrentDBClient,
  NO_STREAM,
  START as KURRENT_START,
  STREAM_EXISTS,
  StreamNotFoundError,
  UnsupportedError,
  WrongExpectedVersionError,
  jsonEvent,
  streamNameFilter,
  type AppendStreamRequest,
  type AppendStreamState,
  type CurrentStreamState,
  type EventData,
  type MultiAppendResult,
  type Position,
  type ReadPosition,
  type ReadRevision,
} from '@kurrent/kurrentdb-client';
import {
  START,
  comparePositions,
  type AppendManyResult,
  type AppendResult,
  type EventMetadata,
  type EventStore,
  type IdempotencyRecord,
  type IdempotencyRequest,
  type LogPosition,
  type NewEvent,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type StreamAppend,
  type StreamState,
  type Subscription,
  type SubscriptionHandler,
  type SubscriptionOptions,
} from '../event-store.js';
import {
  DEFAULT_READ_PAGE,
  IDEMPOTENCY_STREAM_PREFIX,
  MAX_READ_PAGE,
  validateAppend,
  validateAppends,
  validateIdempotencyKey,
} from '../append-validation.js';
import { IdempotencyKeyReused, StreamStateConflict } from '../errors.js';
import type { JsonObject, JsonValue } from '../json.js';
import { startPollingSubscription } from '../polling-subscription.js';
import { noUpcasting, type Upcaster } from '../upcasting.js';

/**
 * Limits (TigerBeetle habit). The append and read limits are the PostgreSQL adapter's, so a caller sees the same
 * rules whichever store runs; they are repeated here because that adapter keeps its validation private.
 */
/** How far back a replayed idempotency key looks for the events it wrote (see `#locateAppend`). */
export const MAX_IDEMPOTENCY_SCAN = 10_000;
const BACKWARD_SCAN_PAGE = 256;
/**
 * An idle subscription reads `$all` this often to see appends from other processes (appends from this process
 * wake it at once). KurrentDB answers an empty read cheaply, but 20 reads a second per subscriber is more than a
 * billing projection needs, hence a longer default than PostgreSQL's 50 ms.
 */
const DEFAULT_POLL_INTERVAL_MS = 100;

// ---------------------------------------------------------------------------------------------------------------
// Stream state and conflicts
// ---------------------------------------------------------------------------------------------------------------

/** Our `stream_state` in the client's words. The two unions spell the same four cases; the switch keeps it so. */
export function toKurrentStreamState(state: StreamState): AppendStreamState {
  switch (state) {
    case 'any':
      return ANY;
    case 'no_stream':
      return NO_STREAM;
    case 'stream_exists':
      return STREAM_EXISTS;
    default:
      return state;
  }
}

/**
 * The revision a conflict reports, or null for an absent stream. The client says `no_stream` for an absent stream;
 * a deleted or tombstoned stream comes back as a negative number (-5, -6 in the v2 protocol), which is absent too.
 */
export function revisionFromKurrent(current: CurrentStreamState | undefined): bigint | null {
  if (current === undefined || current === NO_STREAM || current < 0n) return null;
  return current;
}

/**
 * The client's WrongExpectedVersionError as our one typed conflict. The expectation is the one we sent for that
 * stream (the error's own copy is a raw number on some code paths); the actual revision is the server's.
 */
export function conflictFromKurrent(
  error: WrongExpectedVersionError,
  requested: ReadonlyMap<string, StreamState>,
): StreamStateConflict {
  const expected: StreamState = requested.get(error.streamName) ?? error.expectedState;
  return new StreamStateConflict(error.streamName, expected, revisionFromKurrent(error.actualState));
}

// ---------------------------------------------------------------------------------------------------------------
// Events in and out
// ---------------------------------------------------------------------------------------------------------------

/**
 * Keys of the KurrentDB event metadata. `multiStreamAppend` (client 1.3.1, server 25.1) accepts only a flat
 * object of string values, so everything is a string and our structured metadata travels as one JSON string.
 * Using the same shape on every append path means one decoder reads every event.
 */
export const METADATA_KEYS = Object.freeze({
  schema_version: 'schema_version',
  occurred_at: 'occurred_at',
  metadata: 'metadata',
});

export function encodeEventMetadata(event: NewEvent): Record<string, string> {
  return {
    [METADATA_KEYS.schema_version]: String(event.schema_version ?? 1),
    [METADATA_KEYS.occurred_at]: event.occurred_at.toISOString(),
    [METADATA_KEYS.metadata]: JSON.stringify(event.metadata),
  };
}

/** Our event as the client's: our event_id is the KurrentDB event id. */
export function toEventData(event: NewEvent): EventData {
  return jsonEvent({ id: event.event_id, type: event.type, data: event.data, metadata: encodeEventMetadata(event) });
}

/**
 * The fields of a recorded event this adapter reads. The client's RecordedEvent is a conditional union; this
 * structural view of it is what the decoder needs and what a unit test can build without a server.
 */
export type StoredKurrentEvent = Readonly<{
  streamId: string;
  id: string;
  revision: bigint;
  type: string;
  isJson: boolean;
  created: Date;
  data: unknown;
  metadata: unknown;
  position?: Position | undefined;
}>;

function isPlainObject(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

/** The event's `$all` position, which every read in this adapter needs (servers before 22.6 do not send it). */
export function positionOf(event: Readonly<{ streamId: string; id: string; position?: Position | undefined }>): LogPosition {
  if (event.position === undefined) {
    throw new Error(`event ${event.id} in ${event.streamId} came without a $all position; KurrentDB 22.6 or later is required`);
  }
  return { commit: event.position.commit, prepare: event.position.prepare };
}

/**
 * A stored event as our RecordedEvent, upcast exactly as the PostgreSQL adapter does: the stored version and
 * data go through the upcaster on every read and are never rewritten. An event IspBills did not write (no JSON
 * data, or metadata without our keys) is an error, not something to guess at: the database must be ours alone.
 */
export function decodeRecordedEvent(stored: StoredKurrentEvent, upcast: Upcaster): RecordedEvent {
  const foreign = (why: string): Error =>
    new Error(`event ${stored.id} (${stored.type}) in ${stored.streamId} was not written by IspBills: ${why}`);
  if (!stored.isJson || !isPlainObject(stored.data)) throw foreign('its data is not a JSON object');
  const metadata = stored.metadata;
  if (!isPlainObject(metadata)) throw foreign('its metadata is not a JSON object');
  const version_text = metadata[METADATA_KEYS.schema_version];
  const occurred_text = metadata[METADATA_KEYS.occurred_at];
  const ours_text = metadata[METADATA_KEYS.metadata];
  if (typeof version_text !== 'string' || typeof occurred_text !== 'string' || typeof ours_text !== 'string') {
    throw foreign(`its metadata lacks ${Object.values(METADATA_KEYS).join(', ')}`);
  }
  const schema_version = Number(version_text);
  if (!Number.isSafeInteger(schema_version) || schema_version < 1) throw foreign(`schema_version ${version_text} is not a positive integer`);
  const occurred_at = new Date(occurred_text);
  if (Number.isNaN(occurred_at.getTime())) throw foreign(`occurred_at ${occurred_text} is not a timestamp`);
  const ours: unknown = JSON.parse(ours_text);
  if (!isPlainObject(ours)) throw foreign('its IspBills metadata is not a JSON object');

  const position = positionOf(stored);
  const upcast_result = upcast(stored.type, schema_version, stored.data as JsonObject);
  return {
    stream_id: stored.streamId,
    stream_revision: stored.revision,
    global_position: position.commit,
    position,
    event_id: stored.id,
    type: stored.type,
    schema_version: upcast_result.schema_version,
    data: upcast_result.data,
    metadata: ours as EventMetadata,
    occurred_at,
    recorded_at: stored.created,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// What readers see
// ---------------------------------------------------------------------------------------------------------------

/**
 * Idempotency records live in streams of their own (see `appendToStreams`). The prefix is reserved: an append to
 * a stream that starts with it is refused, so a record can never be mistaken for a domain stream or the reverse.
 */

export function idempotencyStreamOf(key: string): string {
  return `${IDEMPOTENCY_STREAM_PREFIX}${key}`;
}

/**
 * Readers of `$all` see domain events only: not KurrentDB's system events (their type or stream starts with `$`:
 * statistics, settings, projection links) and not our idempotency records, which PostgreSQL keeps in a table.
 */
export function isHiddenFromReaders(event: Readonly<{ streamId: string; type: string }>): boolean {
  return event.streamId.startsWith('$') || event.type.startsWith('$') || event.streamId.startsWith(IDEMPOTENCY_STREAM_PREFIX);
}

/**
 * Whether a raw event belongs on a page that starts after `after` (null: from the very start of the log). The
 * server's forward read of `$all` from a position includes the event at that position, and a caller's checkpoint
 * is exactly such a position, so it has to be dropped here: pages are strictly after their cursor.
 */
export function isVisibleAfter(event: Readonly<{ streamId: string; type: string; position: LogPosition }>, after: LogPosition | null): boolean {
  if (after !== null && comparePositions(event.position, after) <= 0) return false;
  return !isHiddenFromReaders(event);
}

/**
 * Server-side half of the system-event rule: stream names starting with `$` never leave the server, which keeps
 * the link events of KurrentDB's system projections (several per domain event) off the wire. The client-side
 * check in `isVisibleAfter` stays the authority.
 */
const DOMAIN_STREAMS = streamNameFilter({ regex: '^[^$]' });

// ---------------------------------------------------------------------------------------------------------------
// Idempotency records
// ---------------------------------------------------------------------------------------------------------------

export const IDEMPOTENCY_CLAIMED = 'idempotency-key-claimed';

/**
 * The one event of an idempotency stream. It cannot carry the positions of the append it belongs to, because it
 * is written in that same atomic append; it carries the last event id per stream instead, and a replay finds
 * those events again (`#locateAppend`).
 */
export type IdempotencyClaim = Readonly<{
  key: string;
  request_hash: string;
  result: JsonValue;
  streams: readonly Readonly<{ stream_id: string; last_event_id: string }>[];
}>;

export function idempotencyClaimOf(request: IdempotencyRequest, appends: readonly StreamAppend[]): IdempotencyClaim {
  return {
    key: request.key,
    request_hash: request.request_hash,
    result: request.result,
    streams: appends.map((append) => ({ stream_id: append.stream_id, last_event_id: append.events[append.events.length - 1]!.event_id })),
  };
}

export function decodeIdempotencyClaim(data: unknown): IdempotencyClaim {
  const invalid = (): Error => new Error(`an ${IDEMPOTENCY_CLAIMED} event is malformed: ${JSON.stringify(data)}`);
  if (!isPlainObject(data)) throw invalid();
  const { key, request_hash, result, streams } = data;
  if (typeof key !== 'string' || typeof request_hash !== 'string' || result === undefined || !Array.isArray(streams)) throw invalid();
  const parsed = streams.map((entry: unknown) => {
    if (!isPlainObject(entry) || typeof entry.stream_id !== 'string' || typeof entry.last_event_id !== 'string') throw invalid();
    return { stream_id: entry.stream_id, last_event_id: entry.last_event_id };
  });
  return { key, request_hash, result: result as JsonValue, streams: parsed };
}

/** A deployment problem, not a caller's: the connected server cannot write several streams atomically. */
export class MultiStreamAppendUnavailable extends Error {
  readonly code = 'MULTI_STREAM_APPEND_UNAVAILABLE';
  constructor(cause: unknown) {
    super(
      'atomic multi-stream appends (appendToStreams, and any append with an idempotency key) need KurrentDB server 25.1 ' +
        'or later; @kurrent/kurrentdb-client 1.3.1 has multiStreamAppend, but the connected server does not offer it. ' +
        'Upgrade the server, or run IspBills on the PostgreSQL event store.',
      { cause },
    );
    this.name = 'MultiStreamAppendUnavailable';
  }
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

// ---------------------------------------------------------------------------------------------------------------
// The adapter
// ---------------------------------------------------------------------------------------------------------------

export type KurrentDbEventStoreOptions = Readonly<{
  upcast?: Upcaster;
  /** How often an idle subscription looks for events appended by other processes. */
  poll_interval_ms?: number;
}>;

type RawStreamRead = Readonly<{ fromRevision: ReadRevision; maxCount: number; direction?: typeof FORWARDS | typeof BACKWARDS; requiresLeader?: boolean }>;

export class KurrentDbEventStore implements EventStore {
  readonly kind = 'kurrentdb' as const;
  readonly #client: KurrentDBClient;
  /** Set only by `fromConnectionString`, before the store is handed out. */
  #owns_client = false;
  readonly #upcast: Upcaster;
  readonly #poll_interval_ms: number;
  /** Wakes this process's subscriptions as soon as this process appends, instead of at the next poll. */
  readonly #appended = new EventEmitter().setMaxListeners(0);

  /** Over a client the caller owns: `close` leaves it open, as the PostgreSQL adapter leaves its pool. */
  constructor(client: KurrentDBClient, options: KurrentDbEventStoreOptions = {}) {
    this.#client = client;
    this.#upcast = options.upcast ?? noUpcasting;
    this.#poll_interval_ms = options.poll_interval_ms ?? DEFAULT_POLL_INTERVAL_MS;
  }

  /** Opens its own client from a `kurrentdb://` connection string; `close` disposes of it. */
  static fromConnectionString(url: string, options: KurrentDbEventStoreOptions = {}): KurrentDbEventStore {
    const store = new KurrentDbEventStore(KurrentDBClient.connectionString(url), options);
    store.#owns_client = true;
    return store;
  }

  async appendToStream(
    stream_id: string,
    events: readonly NewEvent[],
    options: Readonly<{ stream_state: StreamState; idempotency?: IdempotencyRequest }>,
  ): Promise<AppendResult> {
    const append: StreamAppend = { stream_id, events, stream_state: options.stream_state };
    if (options.idempotency !== undefined) {
      const outcome = await this.appendToStreams([append], { idempotency: options.idempotency });
      const result = outcome.results[0];
      if (result === undefined) throw new Error('bug: idempotent append returned no result');
      return result;
    }
    validateAppend(append);
    return this.#appendOne(append);
  }

  /**
   * All or nothing through `multiStreamAppend` (server 25.1+), which takes one expected state per stream and
   * writes every stream or none. One stream without an idempotency key takes the ordinary append, which every
   * server version has.
   *
   * Idempotency keys: KurrentDB drops a repeated event id only on a best-effort basis. The check is a cache of
   * recent event ids (plus, for an exact expected revision, a look at the events right after it), not a
   * guarantee over the whole log, so a payment retried after the cache moved on would be written twice. A key
   * therefore claims a stream of its own, `idempotency-<key>`, written with `no_stream` in the same atomic
   * append as the events: the second request with that key fails on that stream and nothing of it is written.
   * The claim holds the request hash and result; same hash → the first result (`replayed`), another hash →
   * IdempotencyKeyReused. The key is checked before any other conflict, as in PostgreSQL.
   */
  async appendToStreams(
    appends: readonly StreamAppend[],
    options: Readonly<{ idempotency?: IdempotencyRequest }> = {},
  ): Promise<AppendManyResult> {
    validateAppends(appends);
    const { idempotency } = options;
    if (idempotency === undefined && appends.length === 1) {
      return { results: [await this.#appendOne(appends[0]!)], replayed: null };
    }
    if (idempotency !== undefined) validateIdempotencyKey(idempotency.key);

    const requested = new Map<string, StreamState>(appends.map((append) => [append.stream_id, append.stream_state]));
    const requests: AppendStreamRequest[] = appends.map((append) => ({
      streamName: append.stream_id,
      events: append.events.map(toEventData),
      expectedState: toKurrentStreamState(append.stream_state),
    }));
    if (idempotency !== undefined) {
      const stream = idempotencyStreamOf(idempotency.key);
      requested.set(stream, 'no_stream');
      const claim = idempotencyClaimOf(idempotency, appends);
      requests.push({ streamName: stream, events: [jsonEvent({ id: randomUUID(), type: IDEMPOTENCY_CLAIMED, data: claim })], expectedState: NO_STREAM });
    }

    let written: MultiAppendResult;
    try {
      written = await this.#client.multiStreamAppend(requests);
    } catch (error) {
      if (error instanceof UnsupportedError) throw new MultiStreamAppendUnavailable(error);
      if (!(error instanceof WrongExpectedVersionError)) throw error;
      if (idempotency !== undefined) {
        const claim = await this.#readClaim(idempotency.key);
        if (claim !== null) {
          if (claim.request_hash !== idempotency.request_hash) throw new IdempotencyKeyReused(idempotency.key);
          const record = await this.#recordOf(claim);
          return { results: record.positions, replayed: record };
        }
      }
      throw conflictFromKurrent(error, requested);
    }
    this.#appended.emit('appended');

    const revisions = new Map(written.responses.map((response) => [response.streamName, response.revision]));
    const results = await Promise.all(
      appends.map(async (append): Promise<AppendResult> => {
        const revision = revisions.get(append.stream_id);
        if (revision === undefined) throw new Error(`bug: multiStreamAppend did not report stream ${append.stream_id}`);
        return { stream_id: append.stream_id, next_expected_revision: revision, position: await this.#positionAt(append.stream_id, revision) };
      }),
    );
    return { results, replayed: null };
  }

  async #appendOne(append: StreamAppend): Promise<AppendResult> {
    let written;
    try {
      written = await this.#client.appendToStream(append.stream_id, append.events.map(toEventData), {
        streamState: toKurrentStreamState(append.stream_state),
      });
    } catch (error) {
      if (error instanceof WrongExpectedVersionError) throw conflictFromKurrent(error, new Map([[append.stream_id, append.stream_state]]));
      throw error;
    }
    if (!written.success) {
      // Only with throwOnAppendFailure=false in the connection string. The revision such a result carries is not
      // reliable on the batch-append path of client 1.3.1, so ask the server for it.
      throw new StreamStateConflict(append.stream_id, append.stream_state, await this.streamRevision(append.stream_id));
    }
    this.#appended.emit('appended');
    return {
      stream_id: append.stream_id,
      next_expected_revision: written.nextExpectedRevision,
      position: await this.#positionAt(append.stream_id, written.nextExpectedRevision),
    };
  }

  /**
   * The `$all` position of the event at `revision`, read back from the leader. The append responses do not give
   * it in a form we can rely on: `multiStreamAppend` reports one number for the whole transaction, and a retry
   * the server recognised as a duplicate may report none. Reading it costs one round trip and yields exactly the
   * position `readAll` will hand to a projection, which is what a caller waiting for projections compares against.
   */
  async #positionAt(stream_id: string, revision: bigint): Promise<LogPosition> {
    const [event] = await this.#readStreamRaw(stream_id, { fromRevision: revision, maxCount: 1, requiresLeader: true });
    if (event === undefined || event.revision !== revision) throw new Error(`bug: stream ${stream_id} has no event at revision ${revision} after appending it`);
    return positionOf(event);
  }

  /** KurrentDB reads one stream per call; the reads run side by side. */
  async readStreams(requests: readonly Readonly<{ stream_id: string; from_revision: bigint }>[]): Promise<ReadonlyMap<string, readonly RecordedEvent[]>> {
    const reads = await Promise.all(requests.map(async (request) => [request.stream_id, await this.readStream(request.stream_id, { from_revision: request.from_revision })] as const));
    return new Map(reads);
  }

  async readStream(stream_id: string, options: ReadStreamOptions = {}): Promise<readonly RecordedEvent[]> {
    const events = await this.#readStreamRaw(stream_id, {
      fromRevision: options.from_revision ?? KURRENT_START,
      maxCount: options.max_count ?? Number.MAX_SAFE_INTEGER,
    });
    return events.map((event) => decodeRecordedEvent(event, this.#upcast));
  }

  async streamRevision(stream_id: string): Promise<bigint | null> {
    const [last] = await this.#readStreamRaw(stream_id, { fromRevision: END, maxCount: 1, direction: BACKWARDS, requiresLeader: true });
    return last?.revision ?? null;
  }

  /** The events of one stream as the client returns them; an unknown stream is empty, as the port says. */
  async #readStreamRaw(stream_id: string, read: RawStreamRead): Promise<StoredKurrentEvent[]> {
    try {
      const resolved = await collect(
        this.#client.readStream(stream_id, {
          fromRevision: read.fromRevision,
          maxCount: read.maxCount,
          direction: read.direction ?? FORWARDS,
          requiresLeader: read.requiresLeader ?? false,
        }),
      );
      const events: StoredKurrentEvent[] = [];
      for (const { event } of resolved) if (event !== undefined) events.push(event);
      return events;
    } catch (error) {
      if (error instanceof StreamNotFoundError) return [];
      throw error;
    }
  }

  /**
   * A page of domain events strictly after `from`. The server's read includes the event at its start position
   * and the page may contain events readers must not see, so one server read can yield fewer events than asked
   * for: keep reading from the last raw event until the page is full or the server has nothing more. Each read
   * asks for at least two events, one of which may be the cursor itself, so every full read moves the cursor.
   * KurrentDB's log has a single writer and `$all` only ever shows committed events in order, so unlike
   * PostgreSQL there is no late commit that a reader could skip past.
   */
  async readAll(from: LogPosition = START, options: ReadAllOptions = {}): Promise<readonly RecordedEvent[]> {
    const limit = Math.max(1, Math.min(options.max_count ?? DEFAULT_READ_PAGE, MAX_READ_PAGE));
    const page: RecordedEvent[] = [];
    let after: LogPosition | null = comparePositions(from, START) === 0 ? null : from;
    for (;;) {
      const wanted = limit - page.length + 1;
      const raw = await collect(
        this.#client.readAll({ fromPosition: after ?? KURRENT_START, maxCount: wanted, direction: FORWARDS, filter: DOMAIN_STREAMS }),
      );
      let last: LogPosition | null = null;
      for (const { event } of raw) {
        if (event === undefined) continue;
        const position = positionOf(event);
        last = position;
        if (!isVisibleAfter({ streamId: event.streamId, type: event.type, position }, after)) continue;
        page.push(decodeRecordedEvent(event, this.#upcast));
        if (page.length === limit) return page;
      }
      if (raw.length < wanted || last === null) return page;
      after = last;
    }
  }

  /**
   * Catch-up then live through the shared polling helper over `readAll`, not the client's `subscribeToAll`.
   * `readAll` is the one place that applies the exclusive start and hides system and idempotency events, so
   * subscribers and page readers cannot disagree; the helper gives both adapters the same delivery rules
   * (batches, the next batch only after `handle` resolved, `on_caught_up` whenever drained, stop after the batch
   * in flight); and a dropped gRPC subscription would need its own resubscribe-from-checkpoint logic, which the
   * helper gets for free since every poll starts from the cursor. The price is latency for other processes'
   * appends (up to `poll_interval_ms`) and one read per poll. The caller owns the checkpoint: it stores the
   * position of the last event it handled and restarts from it.
   */
  subscribeToAll(from: LogPosition, handler: SubscriptionHandler, options: SubscriptionOptions = {}): Subscription {
    return startPollingSubscription({
      from,
      handler,
      batch_size: Math.max(1, Math.min(options.batch_size ?? DEFAULT_READ_PAGE, MAX_READ_PAGE)),
      poll_interval_ms: options.poll_interval_ms ?? this.#poll_interval_ms,
      read: (position, max_count) => this.readAll(position, { max_count }),
      wake: this.#appended,
    });
  }

  async findIdempotencyRecord(key: string): Promise<IdempotencyRecord | null> {
    const claim = await this.#readClaim(key);
    return claim === null ? null : this.#recordOf(claim);
  }

  async #readClaim(key: string): Promise<IdempotencyClaim | null> {
    const [event] = await this.#readStreamRaw(idempotencyStreamOf(key), { fromRevision: KURRENT_START, maxCount: 1, requiresLeader: true });
    if (event === undefined) return null;
    if (event.type !== IDEMPOTENCY_CLAIMED) throw new Error(`stream ${event.streamId} holds ${event.type}, not an idempotency claim`);
    return decodeIdempotencyClaim(event.data);
  }

  async #recordOf(claim: IdempotencyClaim): Promise<IdempotencyRecord> {
    const positions = await Promise.all(claim.streams.map((stream) => this.#locateAppend(stream.stream_id, stream.last_event_id)));
    return { key: claim.key, request_hash: claim.request_hash, result: claim.result, positions };
  }

  /**
   * Finds the last event an earlier append wrote to a stream, newest first. A replay normally comes seconds or
   * minutes after the first request, so the event is near the end; the scan stops after MAX_IDEMPOTENCY_SCAN
   * events rather than read a long stream to its beginning.
   */
  async #locateAppend(stream_id: string, event_id: string): Promise<AppendResult> {
    const wanted = event_id.toLowerCase();
    let from: ReadRevision = END;
    for (let scanned = 0; scanned < MAX_IDEMPOTENCY_SCAN; ) {
      const page = await this.#readStreamRaw(stream_id, { fromRevision: from, maxCount: BACKWARD_SCAN_PAGE, direction: BACKWARDS, requiresLeader: true });
      for (const event of page) {
        if (event.id.toLowerCase() === wanted) {
          return { stream_id, next_expected_revision: event.revision, position: positionOf(event) };
        }
      }
      scanned += page.length;
      const oldest = page[page.length - 1];
      if (page.length < BACKWARD_SCAN_PAGE || oldest === undefined || oldest.revision === 0n) break;
      from = oldest.revision - 1n;
    }
    throw new Error(
      `idempotency record: event ${event_id} is not among the newest ${MAX_IDEMPOTENCY_SCAN} events of stream ${stream_id}, ` +
        'so the first result\'s position cannot be rebuilt',
    );
  }

  /**
   * Newest first through `$all` until a domain event turns up. A backward read from a position may or may not
   * include the event at it, so events at or after the cursor are dropped either way.
   */
  async headPosition(): Promise<LogPosition> {
    let before: LogPosition | null = null;
    for (;;) {
      const raw = await collect(
        this.#client.readAll({ fromPosition: (before ?? END) satisfies ReadPosition, maxCount: BACKWARD_SCAN_PAGE, direction: BACKWARDS, filter: DOMAIN_STREAMS }),
      );
      let oldest: LogPosition | null = null;
      for (const { event } of raw) {
        if (event === undefined) continue;
        const position = positionOf(event);
        oldest = position;
        if (before !== null && comparePositions(position, before) >= 0) continue;
        if (!isHiddenFromReaders(event)) return position;
      }
      if (raw.length < BACKWARD_SCAN_PAGE || oldest === null) return START;
      before = oldest;
    }
  }

  async close(): Promise<void> {
    this.#appended.removeAllListeners();
    if (this.#owns_client) await this.#client.dispose();
  }
}
