import { sql, type Kysely } from 'kysely';

/**
 * Projections (DESIGN §6). Each projection's tables live in one schema per generation (`proj_<name>_g<n>`);
 * readers use views of the same names in `public`, which point at the live generation, so a rebuild fills
 * fresh tables while the live ones keep serving and the swap is one transaction. This table is the checkpoint:
 * a generation's position advances in the same transaction as the rows it wrote.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // Trigram indexes make customer search by any part of a name, username or mobile an index scan.
  await sql`CREATE EXTENSION IF NOT EXISTS pg_trgm`.execute(db);
  await sql`
    CREATE TABLE projection_generations (
      name text NOT NULL,
      generation integer NOT NULL CHECK (generation > 0),
      version integer NOT NULL,
      schema_name text NOT NULL UNIQUE,
      state text NOT NULL CHECK (state IN ('building', 'live', 'retired')),
      position_commit bigint NOT NULL DEFAULT 0,
      position_prepare bigint NOT NULL DEFAULT 0,
      events_applied bigint NOT NULL DEFAULT 0,
      last_event_recorded_at timestamptz,
      failed_event jsonb,
      failed_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (name, generation)
    )`.execute(db);
  await sql`CREATE UNIQUE INDEX projection_generations_one_live ON projection_generations (name) WHERE state = 'live'`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE projection_generations`.execute(db);
}
