import Handlebars from 'handlebars';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Logger } from 'pino';
import type { NotificationChannel } from '../domain/customers/customer.js';
import { maskRecipient } from '../domain/notifications/notification.js';

/**
 * Where messages go. Each provider serves one channel and is throttled on its own (gateways bill and block per
 * second). A provider says whether a failure is worth retrying: a gateway that answers 4xx (bad number, bad
 * key) will answer the same tomorrow; a timeout, a 5xx or a 429 may not.
 */
export type OutgoingMessage = Readonly<{ notification_id: string; to: string; subject: string | null; body: string }>;
export type Delivered = Readonly<{ provider_message_id: string | null }>;

export interface NotificationProvider {
  readonly name: string;
  readonly channel: NotificationChannel;
  /** Messages per second this provider may be sent. */
  readonly rate_per_second: number;
  send(message: OutgoingMessage): Promise<Delivered>;
  close?(): Promise<void>;
}

export class DeliveryError extends Error {
  readonly code = 'NOTIFICATION_DELIVERY_FAILED';
  constructor(
    message: string,
    /** True when trying again cannot help (the provider refused the message itself). */
    readonly permanent: boolean,
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}

/** A provider that answers nothing within this long has failed this attempt. */
export const PROVIDER_TIMEOUT_MS = 10_000;
/** The most of a provider's answer that is read (its id, or its error text). */
const MAX_RESPONSE_BYTES = 16_384;
/** Error text kept per attempt: enough to see what the provider said. */
export const MAX_ERROR_CHARS = 500;

/** Writes the message to the log instead of sending it: the default SMS provider, for trials and development. */
export class LogProvider implements NotificationProvider {
  readonly name: string;
  constructor(
    readonly channel: NotificationChannel,
    private readonly logger: Logger,
    readonly rate_per_second = 100,
  ) {
    this.name = `log-${channel}`;
  }
  async send(message: OutgoingMessage): Promise<Delivered> {
    this.logger.info({ channel: this.channel, to: maskRecipient(message.to), notification_id: message.notification_id, subject: message.subject, body: message.body }, 'notification (log provider)');
    return { provider_message_id: `log-${message.notification_id}` };
  }
}

const json = (value: unknown): string => JSON.stringify(value ?? null);

export type HttpProviderSettings = Readonly<{
  name: string;
  channel: NotificationChannel;
  /** A handlebars template; {{to}}, {{text}} and {{subject}} are URL-encoded where they appear in it. */
  url_template: string;
  /**
   * null: a GET. Otherwise POSTed; {{json to}} and {{json text}} give JSON-quoted values (nothing is HTML-escaped).
   * Leave a space between a mustache and a closing brace: "}}}}" is handlebars' raw-block syntax.
   */
  body_template: string | null;
  content_type: string;
  /** Extra headers (an API key); never logged. */
  headers: Readonly<Record<string, string>>;
  rate_per_second: number;
}>;

/**
 * An SMS or WhatsApp gateway that takes one HTTP request per message: most Bangladeshi SMS gateways take a GET
 * with the number and text in the query; WhatsApp's Cloud API and its resellers take a JSON POST. Any 2xx is
 * success; the provider's id is taken from a JSON answer's `message_id`, `id` or `messages[0].id` if present.
 */
export class HttpProvider implements NotificationProvider {
  readonly name: string;
  readonly channel: NotificationChannel;
  readonly rate_per_second: number;
  readonly #url: HandlebarsTemplateDelegate;
  readonly #body: HandlebarsTemplateDelegate | null;

  constructor(private readonly settings: HttpProviderSettings) {
    this.name = settings.name;
    this.channel = settings.channel;
    this.rate_per_second = settings.rate_per_second;
    const helpers = { json };
    this.#url = Handlebars.compile(settings.url_template, { noEscape: true, strict: true });
    this.#body = settings.body_template === null ? null : Handlebars.compile(settings.body_template, { noEscape: true, strict: true });
    // Fail at start on a template that names something we do not provide.
    const sample = { to: '+8801700000000', text: 't', subject: 's', id: 'x' };
    this.#url(Object.fromEntries(Object.entries(sample).map(([k, v]) => [k, encodeURIComponent(v)])));
    this.#body?.(sample, { helpers });
  }

  async send(message: OutgoingMessage): Promise<Delivered> {
    const raw = { to: message.to, text: message.body, subject: message.subject ?? '', id: message.notification_id };
    const url = this.#url(Object.fromEntries(Object.entries(raw).map(([key, value]) => [key, encodeURIComponent(value)])));
    const body = this.#body === null ? undefined : this.#body(raw, { helpers: { json } });
    let response: Response;
    try {
      response = await fetch(url, {
        method: body === undefined ? 'GET' : 'POST',
        headers: body === undefined ? this.settings.headers : { 'content-type': this.settings.content_type, ...this.settings.headers },
        body,
        signal: AbortSignal.timeout(PROVIDER_TIMEOUT_MS),
        redirect: 'error',
      });
    } catch (error) {
      throw new DeliveryError(`${this.name}: ${error instanceof Error ? error.message : String(error)}`, false);
    }
    const text = await readBounded(response);
    if (!response.ok) {
      const permanent = response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429;
      throw new DeliveryError(`${this.name}: HTTP ${response.status} ${text.slice(0, 200)}`, permanent);
    }
    return { provider_message_id: messageIdOf(text) };
  }
}

async function readBounded(response: Response): Promise<string> {
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
    if (size >= MAX_RESPONSE_BYTES) {
      await reader.cancel();
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, MAX_RESPONSE_BYTES).toString('utf8');
}

function messageIdOf(text: string): string | null {
  try {
    const parsed = JSON.parse(text) as { message_id?: unknown; id?: unknown; messages?: { id?: unknown }[] };
    const id = parsed.message_id ?? parsed.id ?? parsed.messages?.[0]?.id;
    return typeof id === 'string' || typeof id === 'number' ? String(id).slice(0, 200) : null;
  } catch {
    return null;
  }
}

/** Email through an SMTP server (nodemailer): the ISP's own mail server or a relay. */
export class SmtpProvider implements NotificationProvider {
  readonly name = 'smtp';
  readonly channel = 'email' as const;
  readonly #transport: Transporter;

  constructor(
    url: string,
    private readonly from: string,
    readonly rate_per_second: number,
  ) {
    this.#transport = nodemailer.createTransport(url, {
      connectionTimeout: PROVIDER_TIMEOUT_MS,
      greetingTimeout: PROVIDER_TIMEOUT_MS,
      socketTimeout: 2 * PROVIDER_TIMEOUT_MS,
    } as never);
  }

  async send(message: OutgoingMessage): Promise<Delivered> {
    try {
      const info = await this.#transport.sendMail({ from: this.from, to: message.to, subject: message.subject ?? '', text: message.body, messageId: `<${message.notification_id}@ispbills>` });
      return { provider_message_id: typeof info.messageId === 'string' ? info.messageId : null };
    } catch (error) {
      const code = (error as { responseCode?: number }).responseCode;
      // 5xx from the server is about this message (no such mailbox, rejected); anything else may pass later.
      throw new DeliveryError(`smtp: ${error instanceof Error ? error.message : String(error)}`, typeof code === 'number' && code >= 500);
    }
  }

  async close(): Promise<void> {
    this.#transport.close();
  }
}
