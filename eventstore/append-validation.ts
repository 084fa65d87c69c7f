import type { StreamAppend } from './event-store.js';
import { InvalidAppend } from './errors.js';

/**
 * The rules every adapter applies before it touches its backend, so a stream or event that one backend
 * accepts is accepted by all (events can move between backends). Limits follow the TigerBeetle habit: a
 * caller that exceeds them has a bug and finds out at once.
 */
export const MAX_EVENTS_PER_APPEND = 10_000;
export const MAX_STREAMS_PER_APPEND = 100;
export const MAX_READ_PAGE = 10_000;
export const DEFAULT_READ_PAGE = 1_000;
export const MAX_STREAM_ID_LENGTH = 200;
/** Idempotency records live in streams of their own on KurrentDB; no domain stream may take the prefix. */
export const IDEMPOTENCY_STREAM_PREFIX = 'idempotency-';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function validateAppend(append: StreamAppend): void {
  if (append.stream_id.length === 0 || append.stream_id.length > MAX_STREAM_ID_LENGTH) {
    throw new InvalidAppend(`stream id must be 1–${MAX_STREAM_ID_LENGTH} characters, got ${JSON.stringify(append.stream_id)}`);
  }
  if (append.stream_id.startsWith('$')) throw new InvalidAppend(`stream ${append.stream_id}: names starting with $ are reserved for the store`);
  if (append.stream_id.startsWith(IDEMPOTENCY_STREAM_PREFIX)) {
    throw new InvalidAppend(`stream ${append.stream_id}: the prefix ${IDEMPOTENCY_STREAM_PREFIX} is reserved for idempotency records`);
  }
  if (append.events.length === 0) throw new InvalidAppend(`append to ${append.stream_id} has no events`);
  if (append.events.length > MAX_EVENTS_PER_APPEND) {
    throw new InvalidAppend(`append to ${append.stream_id} has ${append.events.length} events; at most ${MAX_EVENTS_PER_APPEND}`);
  }
  if (typeof append.stream_state === 'bigint' && append.stream_state < 0n) {
    throw new InvalidAppend(`expected revision ${append.stream_state} is negative; use 'no_stream' for a new stream`);
  }
  const ids = new Set<string>();
  for (const event of append.events) {
    if (!UUID.test(event.event_id)) throw new InvalidAppend(`event id ${event.event_id} is not a UUID`);
    if (ids.has(event.event_id)) throw new InvalidAppend(`event id ${event.event_id} appears twice in one append`);
    ids.add(event.event_id);
    if (event.type.length === 0 || event.type.startsWith('$')) {
      throw new InvalidAppend(`event type ${JSON.stringify(event.type)}: must be non-empty and not start with $`);
    }
    if (Number.isNaN(event.occurred_at.getTime())) throw new InvalidAppend(`event ${event.event_id} has an invalid occurred_at`);
  }
}

export function validateAppends(appends: readonly StreamAppend[]): void {
  if (appends.length === 0) throw new InvalidAppend('appendToStreams needs at least one stream');
  if (appends.length > MAX_STREAMS_PER_APPEND) {
    throw new InvalidAppend(`appendToStreams takes at most ${MAX_STREAMS_PER_APPEND} streams, got ${appends.length}`);
  }
  const seen = new Set<string>();
  for (const append of appends) {
    validateAppend(append);
    if (seen.has(append.stream_id)) throw new InvalidAppend(`stream ${append.stream_id} appears twice in one append`);
    seen.add(append.stream_id);
  }
}

export function validateIdempotencyKey(key: string): void {
  const longest = MAX_STREAM_ID_LENGTH - IDEMPOTENCY_STREAM_PREFIX.length;
  if (key.length === 0 || key.length > longest) throw new InvalidAppend(`idempotency key must be 1–${longest} characters`);
}
