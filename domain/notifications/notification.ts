import type { NotificationChannel, NotificationLanguage } from '../customers/customer.js';
import type { DomainEvent } from '../shared/decider.js';

/**
 * What the customer is told about, one template per kind and language (notifications/templates). Each kind is
 * sent at most once per subject and channel: the outbox's dedupe key is built from both.
 */
export const NOTIFICATION_KINDS = ['bill-issued', 'bill-due-reminder', 'expiry-reminder', 'customer-locked', 'customer-expired'] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

/**
 * A notification's final delivery outcome, in the stream `notifications-<customer_id>` (never the customer's
 * own stream: deliveries must not race with payments for the customer stream's revision). The customers
 * projection puts both on the customer's timeline. Retries in between are not events; the outbox row counts
 * them. `recipient` is masked (+88017•••••001, r•••@example.com): the log is kept for years and read widely.
 */
export type NotificationEvent =
  | DomainEvent<
      'notification-sent',
      { notification_id: string; customer_id: string; kind: NotificationKind; channel: NotificationChannel; language: NotificationLanguage; provider: string; recipient: string; attempts: number; provider_message_id: string | null; subject_ref: string }
    >
  | DomainEvent<
      'notification-failed',
      { notification_id: string; customer_id: string; kind: NotificationKind; channel: NotificationChannel; language: NotificationLanguage; provider: string; recipient: string; attempts: number; error: string; subject_ref: string }
    >;

export const NOTIFICATION_STREAM_PREFIX = 'notifications-';
export const notificationStream = (customer_id: string): string => `${NOTIFICATION_STREAM_PREFIX}${customer_id}`;

/** Keeps the first and last characters a person needs to recognise the address, and hides the rest. */
export function maskRecipient(recipient: string): string {
  const at = recipient.indexOf('@');
  if (at > 0) return `${recipient[0]}•••${recipient.slice(at)}`;
  if (recipient.length <= 6) return '•'.repeat(recipient.length);
  return `${recipient.slice(0, 6)}${'•'.repeat(Math.max(0, recipient.length - 9))}${recipient.slice(-3)}`;
}
