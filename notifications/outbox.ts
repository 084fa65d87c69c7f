import type pg from 'pg';
import type { NotificationChannel, NotificationLanguage } from '../domain/customers/customer.js';
import type { NotificationKind } from '../domain/notifications/notification.js';

/**
 * The notification outbox (migrations/0008). A message is queued once per dedupe key — `<kind>:<subject>:<channel>`,
 * where the subject names what it is about (a bill, an expiry instant, a run) — so a scheduler that restarts
 * and queues the same reminders again queues nothing new.
 */
export type QueuedNotification = Readonly<{
  dedupe_key: string;
  tenant: string;
  customer_id: string;
  kind: NotificationKind;
  subject_ref: string;
  channel: NotificationChannel;
  language: NotificationLanguage;
  provider: string;
  recipient: string;
  subject: string | null;
  body: string;
  not_before: Date;
}>;

export type OutboxRow = Readonly<{
  id: string;
  tenant: string;
  customer_id: string;
  kind: NotificationKind;
  subject_ref: string;
  channel: NotificationChannel;
  language: NotificationLanguage;
  provider: string;
  recipient: string;
  subject: string | null;
  body: string;
  state: 'pending' | 'sending' | 'sent' | 'failed';
  attempts: number;
  last_error: string | null;
  provider_message_id: string | null;
}>;

/** Rows per INSERT statement: one round trip for a bill batch's notifications. */
const ENQUEUE_CHUNK = 1_000;

/**
 * Queues messages; returns how many were new (the others were queued before). `db` may be a client inside a
 * transaction, so that the messages are queued together with what caused them (the scheduler settles a window
 * of items in the same transaction).
 */
export async function enqueueNotifications(db: pg.Pool | pg.PoolClient, messages: readonly QueuedNotification[], now: Date): Promise<number> {
  let added = 0;
  for (let start = 0; start < messages.length; start += ENQUEUE_CHUNK) {
    const chunk = messages.slice(start, start + ENQUEUE_CHUNK);
    const column = <K extends keyof QueuedNotification>(key: K) => chunk.map((message) => message[key]);
    const result = await db.query(
      `INSERT INTO notification_outbox (dedupe_key, tenant, customer_id, kind, subject_ref, channel, language, provider, recipient, subject, body, not_before, created_at)
       SELECT *, $13::timestamptz FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::timestamptz[])
       ON CONFLICT (dedupe_key) DO NOTHING`,
      [
        column('dedupe_key'),
        column('tenant'),
        column('customer_id'),
        column('kind'),
        column('subject_ref'),
        column('channel'),
        column('language'),
        column('provider'),
        column('recipient'),
        column('subject'),
        column('body'),
        chunk.map((message) => message.not_before.toISOString()),
        now.toISOString(),
      ],
    );
    added += result.rowCount ?? 0;
  }
  return added;
}

const ROW_COLUMNS = 'id::text AS id, tenant, customer_id, kind, subject_ref, channel, language, provider, recipient, subject, body, state, attempts, last_error, provider_message_id';

/**
 * Takes up to `limit` messages of one provider that are due (or whose sender died while holding them: the lease
 * ran out), marks them `sending` with a lease and counts the attempt. SKIP LOCKED: two dispatchers never take
 * the same message.
 */
export async function claimDue(pool: pg.Pool, provider: string, limit: number, now: Date, lease_ms: number): Promise<OutboxRow[]> {
  if (limit <= 0) return [];
  const result = await pool.query<OutboxRow>(
    `UPDATE notification_outbox o SET state = 'sending', attempts = o.attempts + 1, lease_until = $3::timestamptz + make_interval(secs => $4::float8 / 1000)
      WHERE o.id IN (
        SELECT id FROM notification_outbox
         WHERE provider = $1 AND ((state = 'pending' AND not_before <= $3) OR (state = 'sending' AND lease_until < $3))
         ORDER BY not_before, id LIMIT $2 FOR UPDATE SKIP LOCKED)
      RETURNING ${ROW_COLUMNS}`,
    [provider, limit, now.toISOString(), lease_ms],
  );
  return result.rows.sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
}

export async function markSent(pool: pg.Pool, id: string, provider_message_id: string | null, now: Date): Promise<void> {
  await pool.query(`UPDATE notification_outbox SET state = 'sent', provider_message_id = $2, finished_at = $3, lease_until = NULL WHERE id = $1`, [id, provider_message_id, now.toISOString()]);
}

export async function markRetry(pool: pg.Pool, id: string, error: string, not_before: Date): Promise<void> {
  await pool.query(`UPDATE notification_outbox SET state = 'pending', last_error = $2, not_before = $3, lease_until = NULL WHERE id = $1`, [id, error, not_before.toISOString()]);
}

export async function markFailed(pool: pg.Pool, id: string, error: string, now: Date): Promise<void> {
  await pool.query(`UPDATE notification_outbox SET state = 'failed', last_error = $2, finished_at = $3, lease_until = NULL WHERE id = $1`, [id, error, now.toISOString()]);
}

/** Finished messages whose outcome is not in the event log yet. */
export async function unpublished(pool: pg.Pool, limit: number): Promise<OutboxRow[]> {
  const result = await pool.query<OutboxRow>(`SELECT ${ROW_COLUMNS} FROM notification_outbox WHERE state IN ('sent', 'failed') AND NOT published ORDER BY id LIMIT $1`, [limit]);
  return result.rows;
}

export async function markPublished(pool: pg.Pool, ids: readonly string[]): Promise<void> {
  if (ids.length > 0) await pool.query(`UPDATE notification_outbox SET published = true WHERE id = ANY($1::bigint[])`, [ids]);
}

export type OutboxCounts = Readonly<Record<'pending' | 'sending' | 'sent' | 'failed', number>>;

export async function outboxCounts(pool: pg.Pool, tenant: string | null = null): Promise<OutboxCounts> {
  const result = await pool.query<{ state: string; n: string }>(
    `SELECT state, count(*)::text AS n FROM notification_outbox WHERE ($1::text IS NULL OR tenant = $1) GROUP BY state`,
    [tenant],
  );
  const counts = { pending: 0, sending: 0, sent: 0, failed: 0 };
  for (const row of result.rows) counts[row.state as keyof typeof counts] = Number(row.n);
  return counts;
}

/**
 * Deletes finished, published messages older than `before`, at most `limit` at a time. Their outcome is in the
 * event log; the row only kept the dedupe key, and by then no planner asks for the same subject again (a bill
 * long past due, an expiry long past, a run long done).
 */
export async function purgeFinished(pool: pg.Pool, before: Date, limit: number): Promise<number> {
  const result = await pool.query(
    `DELETE FROM notification_outbox WHERE id IN (
       SELECT id FROM notification_outbox WHERE published AND finished_at < $1 ORDER BY id LIMIT $2)`,
    [before.toISOString(), limit],
  );
  return result.rowCount ?? 0;
}
