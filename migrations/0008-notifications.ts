import { sql, type Kysely } from 'kysely';

/**
 * The scheduler and its notifications (issue 11). The events are the record (`scheduler-run-<id>` streams,
 * `notifications-<customer>` streams); these tables are the working state around them:
 *
 * - `scheduler_runs`: one row per run, an index over the run streams so the safety stop can compare a plan
 *   with the job's recent runs and the CLI can list runs, without scanning the event log. The status here
 *   follows the stream (which is authoritative) and is brought up to date on every tick.
 * - `scheduler_run_items`: a run's plan, one row per subject (customer, card batch) in a fixed order, so a
 *   restarted scheduler applies exactly the batches it had not finished (a batch's commands carry an
 *   idempotency key made of the run id and the batch number).
 * - `notification_outbox`: every message to send, unique by its dedupe key (kind, subject, channel), claimed
 *   with a lease, throttled per provider, retried with backoff; its final outcome becomes an event.
 *
 * Times here come from the application's injected clock, never from now(), so tests can step through a month.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE scheduler_runs (
      run_id text PRIMARY KEY,
      tenant text NOT NULL,
      job text NOT NULL,
      local_date date NOT NULL,
      status text NOT NULL CHECK (status IN ('planned', 'held', 'confirmed', 'cancelled', 'completed')),
      counts jsonb NOT NULL,
      planned_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL
    )`.execute(db);
  await sql`CREATE INDEX scheduler_runs_job ON scheduler_runs (tenant, job, local_date DESC)`.execute(db);
  await sql`CREATE INDEX scheduler_runs_open ON scheduler_runs (status) WHERE status <> 'completed' AND status <> 'cancelled'`.execute(db);
  await sql`
    CREATE TABLE scheduler_run_items (
      run_id text NOT NULL,
      seq integer NOT NULL,
      action text NOT NULL,
      subject_id text NOT NULL,
      detail jsonb,
      state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'applied', 'unchanged', 'refused')),
      code text,
      PRIMARY KEY (run_id, seq)
    )`.execute(db);
  await sql`CREATE INDEX scheduler_run_items_pending ON scheduler_run_items (run_id, seq) WHERE state = 'pending'`.execute(db);
  await sql`
    CREATE TABLE notification_outbox (
      id bigserial PRIMARY KEY,
      dedupe_key text NOT NULL UNIQUE,
      tenant text NOT NULL,
      customer_id text NOT NULL,
      kind text NOT NULL,
      subject_ref text NOT NULL,
      channel text NOT NULL CHECK (channel IN ('sms', 'email', 'whatsapp')),
      language text NOT NULL,
      provider text NOT NULL,
      recipient text NOT NULL,
      subject text,
      body text NOT NULL,
      state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sending', 'sent', 'failed')),
      attempts integer NOT NULL DEFAULT 0,
      not_before timestamptz NOT NULL,
      lease_until timestamptz,
      last_error text,
      provider_message_id text,
      created_at timestamptz NOT NULL,
      finished_at timestamptz,
      published boolean NOT NULL DEFAULT false
    )`.execute(db);
  await sql`CREATE INDEX notification_outbox_due ON notification_outbox (provider, not_before) WHERE state IN ('pending', 'sending')`.execute(db);
  await sql`CREATE INDEX notification_outbox_unpublished ON notification_outbox (id) WHERE state IN ('sent', 'failed') AND NOT published`.execute(db);
  await sql`CREATE INDEX notification_outbox_customer ON notification_outbox (customer_id, created_at)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['notification_outbox', 'scheduler_run_items', 'scheduler_runs']) await sql`DROP TABLE ${sql.table(table)}`.execute(db);
}
