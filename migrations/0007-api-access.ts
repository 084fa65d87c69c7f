import { sql, type Kysely } from 'kysely';

/**
 * Who may use the API and how they prove it. These are security records, not business facts: a password hash
 * or a session must be erasable, so they live in tables, not in the immutable log. What people do with their
 * access is always an event, and every event names its actor.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE logins (
      login_id uuid PRIMARY KEY,
      login text NOT NULL UNIQUE,
      tenant text NOT NULL,
      principal_kind text NOT NULL CHECK (principal_kind IN ('operator', 'staff', 'customer')),
      principal_id text NOT NULL,
      role text NOT NULL,
      /** The operator whose subtree this login sees (a staff member's operator, a customer's owner). */
      operator_id text NOT NULL,
      password_hash text,
      failed_attempts integer NOT NULL DEFAULT 0,
      locked_until timestamptz,
      disabled boolean NOT NULL DEFAULT false,
      created_at timestamptz NOT NULL,
      UNIQUE (tenant, principal_kind, principal_id)
    )`.execute(db);
  await sql`
    CREATE TABLE sessions (
      session_hash bytea PRIMARY KEY,
      login_id uuid NOT NULL REFERENCES logins (login_id) ON DELETE CASCADE,
      csrf_token text NOT NULL,
      created_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL,
      last_seen_at timestamptz NOT NULL,
      step_up_until timestamptz
    )`.execute(db);
  await sql`CREATE INDEX sessions_login_idx ON sessions (login_id)`.execute(db);
  await sql`
    CREATE TABLE api_tokens (
      token_id uuid PRIMARY KEY,
      token_hash bytea NOT NULL UNIQUE,
      login_id uuid NOT NULL REFERENCES logins (login_id) ON DELETE CASCADE,
      name text NOT NULL,
      scopes text[] NOT NULL,
      created_at timestamptz NOT NULL,
      last_used_at timestamptz,
      revoked_at timestamptz
    )`.execute(db);
  // Failed logins per source address and per login, in fixed windows: shared by every `serve` instance.
  await sql`
    CREATE TABLE login_throttle (
      key text NOT NULL,
      window_start timestamptz NOT NULL,
      failures integer NOT NULL,
      PRIMARY KEY (key, window_start)
    )`.execute(db);
  await sql`
    CREATE TABLE webauthn_credentials (
      credential_id text PRIMARY KEY,
      login_id uuid NOT NULL REFERENCES logins (login_id) ON DELETE CASCADE,
      public_key bytea NOT NULL,
      counter bigint NOT NULL,
      transports text[] NOT NULL DEFAULT '{}',
      name text NOT NULL,
      created_at timestamptz NOT NULL,
      last_used_at timestamptz
    )`.execute(db);
  await sql`
    CREATE TABLE webauthn_challenges (
      challenge text PRIMARY KEY,
      login_id uuid REFERENCES logins (login_id) ON DELETE CASCADE,
      purpose text NOT NULL CHECK (purpose IN ('register', 'login', 'step_up')),
      expires_at timestamptz NOT NULL
    )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['webauthn_challenges', 'webauthn_credentials', 'login_throttle', 'api_tokens', 'sessions', 'logins']) await sql.raw(`DROP TABLE ${table}`).execute(db);
}
