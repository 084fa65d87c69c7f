import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Clock } from '../commands/command-runtime.js';
import { maskRecipient, notificationStream, type NotificationEvent } from '../domain/notifications/notification.js';
import type { EventStore, NewEvent } from '../eventstore/event-store.js';
import type { JsonObject } from '../eventstore/json.js';
import { claimDue, markFailed, markPublished, markRetry, markSent, purgeFinished, unpublished, type OutboxRow } from './outbox.js';
import { DeliveryError, MAX_ERROR_CHARS, type NotificationProvider } from './providers.js';

/**
 * Sends what the outbox holds: per provider, as many messages as its token bucket allows, each claimed with a
 * lease so a dispatcher that dies mid-send leaves them to be sent again once the lease runs out (delivery is at
 * least once: a gateway that took a message but whose answer was lost gets it again). A failure is retried with
 * exponential backoff up to `max_attempts`; a permanent one (the provider refused the message) is not retried.
 * Every final outcome — sent, or failed for good — is appended to `notifications-<customer>` so it shows on the
 * customer's timeline; the event id comes from the message id, so publishing twice appends once.
 */
export type DispatcherOptions = Readonly<{
  pool: pg.Pool;
  store: EventStore;
  clock: Clock;
  providers: readonly NotificationProvider[];
  logger: Logger;
  max_attempts?: number;
  retry_base_ms?: number;
  /** Messages claimed per provider per pass, whatever the rate allows. */
  max_batch?: number;
  lease_ms?: number;
}>;

export const DEFAULT_MAX_ATTEMPTS = 6;
export const DEFAULT_RETRY_BASE_MS = 30_000;
/** The longest wait between two attempts. */
export const MAX_RETRY_DELAY_MS = 3_600_000;
const DEFAULT_MAX_BATCH = 200;
const DEFAULT_LEASE_MS = 120_000;
/** Messages in flight to one provider at once. */
const SEND_CONCURRENCY = 8;
const PUBLISH_BATCH = 500;

/** Finished messages are kept this long (their dedupe keys with them), then deleted in bounded batches. */
export const OUTBOX_RETENTION_MS = 90 * 86_400_000;
const PURGE_EVERY_MS = 3_600_000;
const PURGE_LIMIT = 10_000;

export type PassReport = { sent: number; retried: number; failed: number; published: number };

/** A token bucket on the injected clock: `rate` tokens a second, holding at most one second's worth. */
class TokenBucket {
  #tokens: number;
  #at: number;
  constructor(
    private readonly rate: number,
    now: Date,
  ) {
    this.#tokens = Math.max(1, rate);
    this.#at = now.getTime();
  }
  available(now: Date): number {
    const elapsed_ms = Math.max(0, now.getTime() - this.#at);
    this.#tokens = Math.min(Math.max(1, this.rate), this.#tokens + (elapsed_ms * this.rate) / 1000);
    this.#at = now.getTime();
    return Math.floor(this.#tokens);
  }
  take(count: number): void {
    this.#tokens -= count;
  }
}

export class NotificationDispatcher {
  readonly #buckets = new Map<string, TokenBucket>();
  readonly #providers: ReadonlyMap<string, NotificationProvider>;
  #purged_at: number | null = null;

  constructor(private readonly options: DispatcherOptions) {
    this.#providers = new Map(options.providers.map((provider) => [provider.name, provider]));
  }

  /** One pass: send what each provider may take now, then publish the outcomes. */
  async runOnce(): Promise<PassReport> {
    const report: PassReport = { sent: 0, retried: 0, failed: 0, published: 0 };
    for (const provider of this.#providers.values()) {
      const now = this.options.clock.now();
      let bucket = this.#buckets.get(provider.name);
      if (bucket === undefined) this.#buckets.set(provider.name, (bucket = new TokenBucket(provider.rate_per_second, now)));
      const allowed = Math.min(bucket.available(now), this.options.max_batch ?? DEFAULT_MAX_BATCH);
      const rows = await claimDue(this.options.pool, provider.name, allowed, now, this.options.lease_ms ?? DEFAULT_LEASE_MS);
      bucket.take(rows.length);
      for (let start = 0; start < rows.length; start += SEND_CONCURRENCY) {
        await Promise.all(rows.slice(start, start + SEND_CONCURRENCY).map((row) => this.#deliver(provider, row, report)));
      }
    }
    report.published = await this.publish();
    await this.#purge();
    return report;
  }

  /** At most once an hour, deletes a bounded number of old finished rows (OUTBOX_RETENTION_MS). */
  async #purge(): Promise<void> {
    const now = this.options.clock.now();
    if (this.#purged_at !== null && now.getTime() - this.#purged_at < PURGE_EVERY_MS) return;
    this.#purged_at = now.getTime();
    await purgeFinished(this.options.pool, new Date(now.getTime() - OUTBOX_RETENTION_MS), PURGE_LIMIT);
  }

  async #deliver(provider: NotificationProvider, row: OutboxRow, report: PassReport): Promise<void> {
    const log = this.options.logger.child({ notification_id: row.id, provider: provider.name, kind: row.kind, customer_id: row.customer_id });
    try {
      const delivered = await provider.send({ notification_id: row.id, to: row.recipient, subject: row.subject, body: row.body });
      await markSent(this.options.pool, row.id, delivered.provider_message_id, this.options.clock.now());
      report.sent += 1;
    } catch (error) {
      const message = (error instanceof Error ? error.message : String(error)).slice(0, MAX_ERROR_CHARS);
      const permanent = error instanceof DeliveryError && error.permanent;
      const max_attempts = this.options.max_attempts ?? DEFAULT_MAX_ATTEMPTS;
      if (permanent || row.attempts >= max_attempts) {
        await markFailed(this.options.pool, row.id, message, this.options.clock.now());
        report.failed += 1;
        log.warn({ attempts: row.attempts, error: message, permanent }, 'notification failed for good');
      } else {
        const delay_ms = Math.min(MAX_RETRY_DELAY_MS, (this.options.retry_base_ms ?? DEFAULT_RETRY_BASE_MS) * 2 ** (row.attempts - 1));
        await markRetry(this.options.pool, row.id, message, new Date(this.options.clock.now().getTime() + delay_ms));
        report.retried += 1;
        log.info({ attempts: row.attempts, error: message, retry_in_ms: delay_ms }, 'notification failed; will retry');
      }
    }
  }

  /** Appends the final outcome of finished messages to their customers' notification streams. */
  async publish(): Promise<number> {
    let published = 0;
    for (;;) {
      const rows = await unpublished(this.options.pool, PUBLISH_BATCH);
      if (rows.length === 0) return published;
      const byStream = new Map<string, NewEvent[]>();
      for (const row of rows) {
        const stream_id = notificationStream(row.customer_id);
        const list = byStream.get(stream_id) ?? [];
        list.push(this.#eventOf(row));
        byStream.set(stream_id, list);
      }
      // One stream at a time with 'any': a repeated event id (published before a crash) is an idempotent replay.
      for (const [stream_id, events] of byStream) await this.options.store.appendToStream(stream_id, events, { stream_state: 'any' });
      await markPublished(this.options.pool, rows.map((row) => row.id));
      published += rows.length;
    }
  }

  #eventOf(row: OutboxRow): NewEvent {
    const common = { notification_id: row.id, customer_id: row.customer_id, kind: row.kind, channel: row.channel, language: row.language, provider: row.provider, recipient: maskRecipient(row.recipient), attempts: row.attempts, subject_ref: row.subject_ref };
    const event: NotificationEvent =
      row.state === 'sent'
        ? { type: 'notification-sent', data: { ...common, provider_message_id: row.provider_message_id } }
        : { type: 'notification-failed', data: { ...common, error: row.last_error ?? 'unknown error' } };
    const event_id = stableUuid(`notification|${row.id}|${row.state}`);
    return {
      event_id,
      type: event.type,
      data: event.data as unknown as JsonObject,
      occurred_at: this.options.clock.now(),
      metadata: { actor: { id: 'scheduler', role: 'system' }, tenant: row.tenant, correlation_id: `notification-${row.id}`, causation_id: null, command_id: event_id, command: 'deliver-notification' },
    };
  }

  async close(): Promise<void> {
    for (const provider of this.#providers.values()) await provider.close?.();
  }
}

/** A UUID (version-4 layout) from a stable name, so the same fact always gets the same event id. */
export function stableUuid(name: string): string {
  const hex = createHash('sha256').update(name).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
