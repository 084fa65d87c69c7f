import type { StreamState } from './event-store.js';

/** The one typed error for an optimistic-concurrency failure, whichever adapter raised it. */
export class StreamStateConflict extends Error {
  readonly code = 'STREAM_STATE_CONFLICT';
  constructor(
    readonly stream_id: string,
    readonly expected: StreamState,
    readonly actual: bigint | null,
  ) {
    super(
      `stream ${stream_id}: expected ${String(expected)}, but it is ${actual === null ? 'absent' : `at revision ${actual}`}; ` +
        'reload the stream and decide again',
    );
    this.name = 'StreamStateConflict';
  }
}

/** The same idempotency key came back with a different request: the caller reused a key by mistake. */
export class IdempotencyKeyReused extends Error {
  readonly code = 'IDEMPOTENCY_KEY_REUSED';
  constructor(readonly key: string) {
    super(`idempotency key ${key} was already used for a different request; use a new key for a new request`);
    this.name = 'IdempotencyKeyReused';
  }
}

/** An event id already in the log under another stream or with other content: a bug in the caller, not a retry. */
export class EventIdConflict extends Error {
  readonly code = 'EVENT_ID_CONFLICT';
  constructor(readonly event_id: string, detail: string) {
    super(`event ${event_id}: ${detail}`);
    this.name = 'EventIdConflict';
  }
}

export class InvalidAppend extends Error {
  readonly code = 'INVALID_APPEND';
  constructor(detail: string) {
    super(detail);
    this.name = 'InvalidAppend';
  }
}
