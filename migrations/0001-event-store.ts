import { sql, type Kysely } from 'kysely';

/**
 * The event store (DESIGN §3): the append-only log, stream revisions for optimistic concurrency, command
 * idempotency records and the hash chain. Nothing here may ever be updated or deleted except `streams`, whose
 * revision is the concurrency token.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE events (
      global_position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      stream_id text NOT NULL,
      stream_revision bigint NOT NULL,
      event_id uuid NOT NULL,
      type text NOT NULL,
      schema_version integer NOT NULL DEFAULT 1,
      data jsonb NOT NULL,
      metadata jsonb NOT NULL,
      occurred_at timestamptz NOT NULL,
      recorded_at timestamptz NOT NULL DEFAULT now(),
      tx_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
      CONSTRAINT events_event_id_key UNIQUE (event_id),
      CONSTRAINT events_stream_revision_key UNIQUE (stream_id, stream_revision),
      CONSTRAINT events_revision_not_negative CHECK (stream_revision >= 0)
    )`.execute(db);
  // Readers walk the log in (tx_id, global_position) order below the oldest running transaction.
  await sql`CREATE INDEX events_tx_position_idx ON events (tx_id, global_position)`.execute(db);
  await sql`CREATE INDEX events_occurred_at_idx ON events (occurred_at)`.execute(db);

  await sql`
    CREATE TABLE streams (
      stream_id text PRIMARY KEY,
      revision bigint NOT NULL CHECK (revision >= 0)
    )`.execute(db);

  await sql`
    CREATE FUNCTION reject_event_mutation() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'the % table is append-only: % is not allowed; append a correcting event instead',
        TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation';
    END
    $$`.execute(db);
  await sql`CREATE TRIGGER events_no_update_delete BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION reject_event_mutation()`.execute(db);
  await sql`CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION reject_event_mutation()`.execute(db);

  await sql`
    CREATE TABLE command_idempotency (
      key text PRIMARY KEY,
      request_hash text NOT NULL,
      result jsonb NOT NULL,
      positions jsonb NOT NULL DEFAULT '[]',
      created_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);

  // The hash chain follows the readers' order, so it is extended after commit and never serialises appends.
  await sql`
    CREATE TABLE event_chain (
      chain_index bigint PRIMARY KEY,
      global_position bigint NOT NULL UNIQUE REFERENCES events (global_position),
      tx_id xid8 NOT NULL,
      prev_hash bytea,
      hash bytea NOT NULL,
      chained_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE TRIGGER event_chain_no_update_delete BEFORE UPDATE OR DELETE ON event_chain
    FOR EACH ROW EXECUTE FUNCTION reject_event_mutation()`.execute(db);
  await sql`CREATE TRIGGER event_chain_no_truncate BEFORE TRUNCATE ON event_chain
    FOR EACH STATEMENT EXECUTE FUNCTION reject_event_mutation()`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('the event store is never rolled back: its events are the books of record');
}
