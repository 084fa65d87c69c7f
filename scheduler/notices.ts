import type { Logger } from 'pino';
import type { NotificationChannel, CustomerState } from '../domain/customers/customer.js';
import type { NotificationKind } from '../domain/notifications/notification.js';
import type { QueuedNotification } from '../notifications/outbox.js';
import type { TemplateValues, Templates } from '../notifications/templates.js';
import type { SchedulerSettings } from './settings.js';

/**
 * Turns "tell this customer about this" into outbox rows: one per channel the customer wants (or the ISP's
 * default channels) that has a provider configured and an address (the mobile for SMS and WhatsApp, the email
 * for email), in the customer's language (or the ISP's default), rendered from the kind's template.
 */
export type Notifier = Readonly<{
  templates: Templates;
  /** The provider name serving each channel; a channel without one is not used. */
  provider_of: Readonly<Partial<Record<NotificationChannel, string>>>;
  settings: Pick<SchedulerSettings, 'default_language' | 'default_channels'>;
  logger: Logger;
}>;

export type Notice = Readonly<{
  kind: NotificationKind;
  /** What the message is about, unique across customers: a bill id, `<customer>@<expiry ms>`, `<customer>@<run>`. */
  subject_ref: string;
  values: Omit<TemplateValues, 'name' | 'isp_name'>;
}>;

export function noticesFor(notifier: Notifier, isp_name: string, customer: CustomerState, notice: Notice, now: Date): QueuedNotification[] {
  const channels = customer.contact.channels ?? notifier.settings.default_channels;
  const language = customer.contact.language ?? notifier.settings.default_language;
  const queued: QueuedNotification[] = [];
  for (const channel of channels) {
    const provider = notifier.provider_of[channel];
    const recipient = channel === 'email' ? customer.contact.email : customer.mobile;
    if (provider === undefined || recipient === null || recipient.trim() === '') continue;
    let rendered;
    try {
      rendered = notifier.templates.render(notice.kind, language, { ...notice.values, isp_name, name: customer.name });
    } catch (error) {
      // A template that cannot render this notice is a configuration problem: say so, and skip the message.
      notifier.logger.error({ err: error, kind: notice.kind, language, customer_id: customer.customer_id }, 'notification template failed; message not queued');
      continue;
    }
    queued.push({
      dedupe_key: `${notice.kind}:${notice.subject_ref}:${channel}`,
      tenant: customer.tenant,
      customer_id: customer.customer_id,
      kind: notice.kind,
      subject_ref: notice.subject_ref,
      channel,
      language,
      provider,
      recipient: recipient.trim(),
      subject: channel === 'email' ? rendered.subject : null,
      body: rendered.body,
      not_before: now,
    });
  }
  return queued;
}
