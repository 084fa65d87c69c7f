import { sql, type Kysely } from 'kysely';

/**
 * Snapshots of aggregate state, so a long stream (a busy reseller's wallet) is not folded from revision 0 on
 * every command. A snapshot is a cache: deleting every row changes nothing but speed, and a snapshot whose
 * `schema` differs from the code's is ignored.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE stream_snapshots (
      stream_id text PRIMARY KEY,
      schema text NOT NULL,
      revision bigint NOT NULL,
      state jsonb NOT NULL,
      taken_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE stream_snapshots`.execute(db);
}
