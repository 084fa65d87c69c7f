import { sql, type Kysely } from 'kysely';

/**
 * Appending to several streams (and claiming an idempotency key) in one call: one statement, so one round trip
 * and its own transaction. For each stream, in order, the stream's revision moves as its expected state allows
 * or the whole call fails with SQLSTATE IB409 naming the stream (nothing is written); then its events are
 * inserted numbered from the new revision. The key, when given, is claimed first: a twin with the same key
 * waits for this call to finish, and a key already present answers with one row marked `replayed`.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE FUNCTION ispbills_append(p_appends jsonb, p_key text, p_request_hash text, p_result jsonb)
    RETURNS TABLE (stream_id text, stream_revision bigint, global_position bigint, tx_id text, replayed boolean)
    LANGUAGE plpgsql AS $fn$
    DECLARE
      a jsonb;
      v_stream text;
      v_state text;
      v_count bigint;
      v_revision bigint;
      v_actual bigint;
      v_last_position bigint;
      v_positions jsonb := '[]'::jsonb;
    BEGIN
      IF p_key IS NOT NULL THEN
        INSERT INTO command_idempotency (key, request_hash, result) VALUES (p_key, p_request_hash, p_result)
        ON CONFLICT (key) DO NOTHING;
        IF NOT FOUND THEN
          RETURN QUERY SELECT NULL::text, NULL::bigint, NULL::bigint, NULL::text, true;
          RETURN;
        END IF;
      END IF;
      FOR a IN SELECT value FROM jsonb_array_elements(p_appends) LOOP
        v_stream := a->>'stream_id';
        v_state := a->>'state';
        v_count := jsonb_array_length(a->'events');
        v_revision := NULL;
        IF v_state = 'any' THEN
          INSERT INTO streams AS s (stream_id, revision) VALUES (v_stream, v_count - 1)
          ON CONFLICT ON CONSTRAINT streams_pkey DO UPDATE SET revision = s.revision + v_count
          RETURNING s.revision INTO v_revision;
        ELSIF v_state = 'no_stream' THEN
          INSERT INTO streams AS s (stream_id, revision) VALUES (v_stream, v_count - 1)
          ON CONFLICT ON CONSTRAINT streams_pkey DO NOTHING
          RETURNING s.revision INTO v_revision;
        ELSIF v_state = 'stream_exists' THEN
          UPDATE streams AS s SET revision = s.revision + v_count WHERE s.stream_id = v_stream RETURNING s.revision INTO v_revision;
        ELSE
          UPDATE streams AS s SET revision = s.revision + v_count
          WHERE s.stream_id = v_stream AND s.revision = (a->>'expected')::bigint
          RETURNING s.revision INTO v_revision;
        END IF;
        IF v_revision IS NULL THEN
          SELECT s.revision INTO v_actual FROM streams AS s WHERE s.stream_id = v_stream;
          RAISE EXCEPTION 'stream state conflict on %', v_stream
            USING ERRCODE = 'IB409', DETAIL = v_stream, HINT = coalesce(v_actual::text, 'absent');
        END IF;
        INSERT INTO events (stream_id, stream_revision, event_id, type, schema_version, data, metadata, occurred_at)
        SELECT v_stream, v_revision - v_count + e.ordinal, e.event_id, e.type, e.schema_version, e.data, e.metadata, e.occurred_at
        FROM ROWS FROM (jsonb_to_recordset(a->'events') AS (event_id uuid, type text, schema_version int, data jsonb, metadata jsonb, occurred_at timestamptz))
          WITH ORDINALITY AS e(event_id, type, schema_version, data, metadata, occurred_at, ordinal)
        ORDER BY e.ordinal;
        SELECT ev.global_position INTO v_last_position FROM events AS ev WHERE ev.stream_id = v_stream AND ev.stream_revision = v_revision;
        v_positions := v_positions || jsonb_build_object(
          'stream_id', v_stream, 'next_expected_revision', v_revision::text,
          'commit', pg_current_xact_id()::text, 'prepare', v_last_position::text);
        RETURN QUERY SELECT v_stream, v_revision, v_last_position, pg_current_xact_id()::text, false;
      END LOOP;
      IF p_key IS NOT NULL THEN
        UPDATE command_idempotency SET positions = v_positions WHERE key = p_key;
      END IF;
    END
    $fn$`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP FUNCTION ispbills_append(jsonb, text, text, jsonb)`.execute(db);
}
