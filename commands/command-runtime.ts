import { createHash, randomUUID } from 'node:crypto';
import { comparePositions, type EventStore, type LogPosition, type NewEvent, type StreamAppend, type StreamState } from '../eventstore/event-store.js';
import { IdempotencyKeyReused, StreamStateConflict } from '../eventstore/errors.js';
import { canonicalJson, type JsonObject, type JsonValue } from '../eventstore/json.js';
import type { CommandContext } from '../domain/shared/command-context.js';
import type { DomainEvent } from '../domain/shared/decider.js';
import { rejection, type Rejection } from '../domain/shared/rejection.js';
import { BoundedCache } from './bounded-cache.js';
import { KeyedMutex } from './keyed-mutex.js';
import type { SnapshotStore } from './snapshots.js';

export type Clock = Readonly<{ now: () => Date }>;
export const systemClock: Clock = { now: () => new Date() };

/** A command as the outside world sends it: context plus tracing ids. The clock and id source are injected. */
export type CommandEnvelope = Readonly<{
  tenant: string;
  actor: CommandContext['actor'];
  correlation_id?: string;
  causation_id?: string | null;
  /** Commands that move money carry one: the same key and request return the first answer. */
  idempotency_key?: string;
}>;

export type CommandResult<Value> =
  | Readonly<{ ok: true; value: Value; position: LogPosition | null; replayed: boolean }>
  | Readonly<{ ok: false; rejection: Rejection }>;

export type Loaded<State> = Readonly<{ stream_id: string; state: State; revision: bigint | null }>;

export type AggregateType<State, Event> = Readonly<{
  /** Names the snapshot format; change it whenever the state's shape changes. */
  snapshot_schema: string | null;
  /** A load that folds at least this many events after the last snapshot saves a new one. */
  snapshot_every?: number;
  initial: () => State;
  evolve: (state: State, event: Event) => State;
}>;

/** The outcome of one attempt: refuse, or append these events to these streams and answer with `value`. */
export type Plan<Value> =
  | Readonly<{ kind: 'refuse'; rejection: Rejection }>
  | Readonly<{ kind: 'append'; writes: readonly Readonly<{ stream_id: string; expected: StreamState; events: readonly DomainEvent[] }>[]; value: Value }>;

export const refusePlan = (rejection: Rejection): Readonly<{ kind: 'refuse'; rejection: Rejection }> => ({ kind: 'refuse', rejection });

/**
 * How often a command is decided again after another writer moved one of its streams first. Busy wallets
 * (one reseller's customers paying at once) conflict often; each retry waits a little longer, with jitter,
 * so racers spread out instead of colliding again.
 */
const MAX_ATTEMPTS = 25;
const MAX_BACKOFF_MS = 50;
/** Folded states kept per process: enough for every busy wallet and the customers of a day's rush. */
const STATE_CACHE_ENTRIES = 50_000;
/** Streams longer than this since their last snapshot get a new one after loading, unless the type says otherwise. */
const SNAPSHOT_EVERY_EVENTS = 50;

export type CommandRuntimeOptions = Readonly<{
  store: EventStore;
  snapshots: SnapshotStore;
  clock?: Clock;
  new_id?: () => string;
}>;

/**
 * Loads streams, lets a pure decision plan the append, appends with the revisions it read, and on a
 * concurrency conflict does it all again with fresh state (bounded). Every event gets its metadata here:
 * actor, tenant, correlation, causation and command ids; business time comes from the injected clock.
 */
export class CommandRuntime {
  readonly store: EventStore;
  readonly #snapshots: SnapshotStore;
  readonly clock: Clock;
  readonly newId: () => string;
  readonly #locks = new KeyedMutex();
  /** Folded states by stream, newest first out when full; states are immutable values, so sharing them is safe. */
  readonly #states = new BoundedCache<string, Readonly<{ type: object; state: unknown; revision: bigint }>>(STATE_CACHE_ENTRIES);

  constructor(options: CommandRuntimeOptions) {
    this.store = options.store;
    this.#snapshots = options.snapshots;
    this.clock = options.clock ?? systemClock;
    this.newId = options.new_id ?? randomUUID;
  }

  async load<State, Event>(type: AggregateType<State, Event>, stream_id: string): Promise<Loaded<State>> {
    const [loaded] = await this.loadMany([{ type, stream_id }]);
    return loaded as Loaded<State>;
  }

  /**
   * Loads several aggregates with one read of the store: each starts from this process's newest folded state
   * (or a snapshot, or nothing) and folds what was appended since.
   */
  async loadMany(all: readonly Readonly<{ type: AggregateType<any, any>; stream_id: string }>[]): Promise<Loaded<unknown>[]> {
    // A stream asked for twice is read and folded once; its result fills both places.
    const requests = [...new Map(all.map((request) => [request.stream_id, request])).values()];
    // Start from the newest state this process folded (free), else a snapshot (one query for all), else nothing.
    const cachedStarts = requests.map(({ type, stream_id }) => {
      const cached = this.#states.get(stream_id);
      return cached !== undefined && cached.type === type ? { state: cached.state, revision: cached.revision as bigint | null } : null;
    });
    const snapshotRequests = requests.filter((request, index) => cachedStarts[index] === null && request.type.snapshot_schema !== null);
    const snapshots = await this.#snapshots.loadMany(snapshotRequests.map((request) => ({ stream_id: request.stream_id, schema: request.type.snapshot_schema! })));
    const starts = requests.map(({ type, stream_id }, index) => {
      const cached = cachedStarts[index];
      if (cached !== null && cached !== undefined) return cached;
      const snapshot = type.snapshot_schema === null ? undefined : snapshots.get(stream_id);
      return snapshot === undefined ? { state: type.initial() as unknown, revision: null as bigint | null } : { state: snapshot.state, revision: snapshot.revision as bigint | null };
    });
    const read = await this.store.readStreams(
      requests.map((request, index) => ({ stream_id: request.stream_id, from_revision: starts[index]!.revision === null ? 0n : starts[index]!.revision! + 1n })),
    );
    const loaded: Loaded<unknown>[] = [];
    for (const [index, { type, stream_id }] of requests.entries()) {
      let { state, revision } = starts[index]!;
      const events = read.get(stream_id) ?? [];
      for (const event of events) {
        state = type.evolve(state, { type: event.type, data: event.data });
        revision = event.stream_revision;
      }
      if (type.snapshot_schema !== null && events.length >= (type.snapshot_every ?? SNAPSHOT_EVERY_EVENTS) && revision !== null) {
        await this.#snapshots.save(stream_id, type.snapshot_schema, { revision, state });
      }
      if (revision !== null) this.#states.set(stream_id, { type, state, revision });
      loaded.push({ stream_id, state, revision });
    }
    const byStream = new Map(loaded.map((entry) => [entry.stream_id, entry]));
    return all.map((request) => byStream.get(request.stream_id)!);
  }

  /**
   * The state this process last folded for a stream, without asking the store: good enough for choosing which
   * locks to take (a stale answer costs a retry, never a wrong write, since appends check revisions).
   */
  peek<State>(type: AggregateType<State, never>, stream_id: string): State | null {
    const cached = this.#states.get(stream_id);
    return cached !== undefined && cached.type === type ? (cached.state as State) : null;
  }

  /** The expected state for appending after what was loaded. */
  static expected(loaded: Loaded<unknown>): StreamState {
    return loaded.revision === null ? 'no_stream' : loaded.revision;
  }

  async execute<Value extends JsonValue>(
    envelope: CommandEnvelope,
    command_name: string,
    request: JsonValue,
    attempt: (context: CommandContext) => Promise<Plan<Value>>,
    options: Readonly<{ lock_keys?: (context: CommandContext) => Promise<readonly string[]> }> = {},
  ): Promise<CommandResult<Value>> {
    const command_id = this.newId();
    const correlation_id = envelope.correlation_id ?? command_id;
    const request_hash = envelope.idempotency_key === undefined ? null : hashRequest(command_name, envelope.tenant, request);
    const idempotency_key = envelope.idempotency_key === undefined ? null : `${envelope.tenant}:${command_name}:${envelope.idempotency_key}`;
    if (idempotency_key !== null) {
      const earlier = await this.store.findIdempotencyRecord(idempotency_key);
      if (earlier !== null) return this.#replay<Value>(earlier, request_hash!, idempotency_key);
    }
    // The business time is fixed once per command, so a retry decides at the same instant.
    const context: CommandContext = { tenant: envelope.tenant, actor: envelope.actor, now: this.clock.now() };
    for (let attempt_number = 1; ; attempt_number += 1) {
      const keys = options.lock_keys === undefined ? [] : await options.lock_keys(context);
      const release = await this.#locks.acquire(keys);
      try {
        return await this.#attempt(envelope, command_name, context, command_id, correlation_id, idempotency_key, request_hash, attempt);
      } catch (error) {
        if (error instanceof IdempotencyKeyReused) {
          return { ok: false, rejection: rejection('IDEMPOTENCY_KEY_REUSED', `idempotency key ${envelope.idempotency_key} was used for a different request; use a new key`) };
        }
        if (!isRetryable(error) || attempt_number >= MAX_ATTEMPTS) throw error;
      } finally {
        release();
      }
      // Another writer got there first: back off a little (jittered, so racers spread out) and decide again.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(MAX_BACKOFF_MS, 2 ** attempt_number)));
    }
  }

  async #attempt<Value extends JsonValue>(
    envelope: CommandEnvelope,
    command_name: string,
    context: CommandContext,
    command_id: string,
    correlation_id: string,
    idempotency_key: string | null,
    request_hash: string | null,
    attempt: (context: CommandContext) => Promise<Plan<Value>>,
  ): Promise<CommandResult<Value>> {
    const plan = await attempt(context);
    if (plan.kind === 'refuse') return { ok: false, rejection: plan.rejection };
    const writes = plan.writes.filter((write) => write.events.length > 0);
    if (writes.length === 0) return { ok: true, value: plan.value, position: null, replayed: false };
    const appends: StreamAppend[] = writes.map((write) => ({
      stream_id: write.stream_id,
      stream_state: write.expected,
      events: write.events.map(
        (event): NewEvent => ({
          event_id: this.newId(),
          type: event.type,
          data: event.data as JsonObject,
          occurred_at: context.now,
          metadata: {
            actor: { id: context.actor.id, role: context.actor.role },
            tenant: context.tenant,
            correlation_id,
            causation_id: envelope.causation_id ?? null,
            command_id,
            command: command_name,
          },
        }),
      ),
    }));
    // One stream and no idempotency record is one statement, its own transaction: one round trip.
    if (appends.length === 1 && idempotency_key === null) {
      const only = appends[0]!;
      const result = await this.store.appendToStream(only.stream_id, only.events, { stream_state: only.stream_state });
      return { ok: true, value: plan.value, position: result.position, replayed: false };
    }
    const outcome = await this.store.appendToStreams(
      appends,
      idempotency_key === null ? {} : { idempotency: { key: idempotency_key, request_hash: request_hash!, result: plan.value } },
    );
    if (outcome.replayed !== null) return this.#replay<Value>(outcome.replayed, request_hash!, idempotency_key!);
    const last = outcome.results.reduce<LogPosition | null>((latest, result) => (latest === null || comparePositions(result.position, latest) > 0 ? result.position : latest), null);
    return { ok: true, value: plan.value, position: last, replayed: false };
  }

  #replay<Value extends JsonValue>(
    record: Readonly<{ request_hash: string; result: JsonValue; positions: readonly Readonly<{ position: LogPosition }>[] }>,
    request_hash: string,
    key: string,
  ): CommandResult<Value> {
    if (record.request_hash !== request_hash) {
      return { ok: false, rejection: rejection('IDEMPOTENCY_KEY_REUSED', `idempotency key ${key.split(':').slice(2).join(':')} was used for a different request; use a new key`) };
    }
    const position = record.positions.reduce<LogPosition | null>((latest, p) => (latest === null || comparePositions(p.position, latest) > 0 ? p.position : latest), null);
    return { ok: true, value: record.result as Value, position, replayed: true };
  }
}

/** The request's fingerprint for idempotency: the command's name, its ISP and its canonical body. */
export function hashRequest(command_name: string, tenant: string, request: JsonValue): string {
  return createHash('sha256').update(`${command_name}\n${tenant}\n${canonicalJson(request)}`).digest('hex');
}

/**
 * Worth deciding again: another writer moved a stream first, or PostgreSQL gave up a transaction to break a
 * deadlock (40P01) or a serialization conflict (40001). Nothing was written in any of these cases.
 */
function isRetryable(error: unknown): boolean {
  if (error instanceof StreamStateConflict) return true;
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return code === '40P01' || code === '40001';
}
