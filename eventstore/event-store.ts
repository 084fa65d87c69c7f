/**
 * The EventStore port. Names follow KurrentDB (streamState, appendToStream, readAll, subscribeToAll) so the
 * PostgreSQL adapter (the default source of truth) and the KurrentDB adapter fit behind one contract suite.
 */
import type { JsonObject, JsonValue } from './json.js';

/** Who did it, for whom, and why: carried by every event. */
export type EventMetadata = Readonly<{
  actor: Readonly<{ id: string; role: string }>;
  tenant: string;
  correlation_id: string;
  causation_id: string | null;
  command_id: string;
  [extra: string]: JsonValue;
}>;

export type NewEvent = Readonly<{
  /** A repeated event_id is an idempotent replay of the same append, never a second event. */
  event_id: string;
  type: string;
  schema_version?: number;
  data: JsonObject;
  metadata: EventMetadata;
  /** Business time; `recorded_at` (knowledge time) is set by the store. */
  occurred_at: Date;
}>;

/**
 * A point in the global log, compared lexicographically. In PostgreSQL `commit` is the appending transaction's
 * xid8 and `prepare` the event's global_position; in KurrentDB they are the `$all` commit/prepare positions.
 */
export type LogPosition = Readonly<{ commit: bigint; prepare: bigint }>;

export const START: LogPosition = Object.freeze({ commit: 0n, prepare: 0n });

export function comparePositions(a: LogPosition, b: LogPosition): -1 | 0 | 1 {
  if (a.commit !== b.commit) return a.commit < b.commit ? -1 : 1;
  if (a.prepare !== b.prepare) return a.prepare < b.prepare ? -1 : 1;
  return 0;
}

export type RecordedEvent = Readonly<{
  stream_id: string;
  stream_revision: bigint;
  /** A monotonically increasing number for people ("event 1234"); order readers by `position`, not by this. */
  global_position: bigint;
  position: LogPosition;
  event_id: string;
  type: string;
  /** The version after upcasting: readers only ever see the current shape. */
  schema_version: number;
  data: JsonObject;
  metadata: EventMetadata;
  occurred_at: Date;
  recorded_at: Date;
}>;

export type StreamState = 'any' | 'no_stream' | 'stream_exists' | bigint;

export type StreamAppend = Readonly<{
  stream_id: string;
  events: readonly NewEvent[];
  stream_state: StreamState;
}>;

export type AppendResult = Readonly<{
  stream_id: string;
  /** The revision of the last event now in the stream. */
  next_expected_revision: bigint;
  /** Where the last appended event sits in the global log: wait for projections to reach it. */
  position: LogPosition;
}>;

/**
 * A command's idempotency record, stored in the same transaction as its events: the same key with the same
 * request hash returns the first result; with another hash it is a conflict.
 */
export type IdempotencyRequest = Readonly<{ key: string; request_hash: string; result: JsonValue }>;

export type IdempotencyRecord = Readonly<{
  key: string;
  request_hash: string;
  result: JsonValue;
  positions: readonly AppendResult[];
}>;

export type AppendManyResult = Readonly<{
  results: readonly AppendResult[];
  /** Set when the idempotency key had already been used for this request: nothing new was appended. */
  replayed: IdempotencyRecord | null;
}>;

export type ReadStreamOptions = Readonly<{ from_revision?: bigint; max_count?: number }>;
export type ReadAllOptions = Readonly<{ max_count?: number }>;

export type SubscriptionHandler = Readonly<{
  /** Called with each batch in log order; the next batch waits until this resolves. */
  handle: (batch: readonly RecordedEvent[]) => Promise<void>;
  /** Called whenever the subscription has delivered everything visible and starts waiting for new events. */
  on_caught_up?: (position: LogPosition) => void;
}>;

export type SubscriptionOptions = Readonly<{ batch_size?: number; poll_interval_ms?: number }>;

export interface Subscription {
  /** Stops after the batch in flight; resolves when stopped. */
  stop(): Promise<void>;
  /** Resolves when stopped, rejects with the handler's or the store's error. */
  readonly done: Promise<void>;
}

export interface EventStore {
  readonly kind: 'postgres' | 'kurrentdb';
  appendToStream(
    stream_id: string,
    events: readonly NewEvent[],
    options: Readonly<{ stream_state: StreamState; idempotency?: IdempotencyRequest }>,
  ): Promise<AppendResult>;
  /** All or nothing: one conflicting stream means nothing is written. */
  appendToStreams(
    appends: readonly StreamAppend[],
    options?: Readonly<{ idempotency?: IdempotencyRequest }>,
  ): Promise<AppendManyResult>;
  /** Events of one stream in revision order; an unknown stream reads as empty. */
  readStream(stream_id: string, options?: ReadStreamOptions): Promise<readonly RecordedEvent[]>;
  /**
   * Several streams at once, each from its own revision: what a command needs before it decides (a customer,
   * its operators, its package) in one round trip where the backend allows. Keyed by stream id; a stream with
   * nothing at or after its revision maps to an empty list.
   */
  readStreams(requests: readonly Readonly<{ stream_id: string; from_revision: bigint }>[]): Promise<ReadonlyMap<string, readonly RecordedEvent[]>>;
  /** The stream's current revision, or null when it does not exist. */
  streamRevision(stream_id: string): Promise<bigint | null>;
  /** The next page of the global log strictly after `from`, containing only events no reader can miss. */
  readAll(from?: LogPosition, options?: ReadAllOptions): Promise<readonly RecordedEvent[]>;
  /** Catch-up then live. The caller owns the checkpoint: restart from the position it last stored. */
  subscribeToAll(from: LogPosition, handler: SubscriptionHandler, options?: SubscriptionOptions): Subscription;
  findIdempotencyRecord(key: string): Promise<IdempotencyRecord | null>;
  /** The position of the newest event readers can see, or START for an empty log. */
  headPosition(): Promise<LogPosition>;
  close(): Promise<void>;
}
