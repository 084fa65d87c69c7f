import { z } from 'zod';
import { GATEWAY_CONFIG } from '../api/gateways/settings.js';

/**
 * Every setting comes from the environment and is checked here, once, at start. A bad value stops the
 * program with one line per problem naming the variable, what it got and what it wants.
 */
const port = (fallback: number) =>
  z.coerce.number().int().min(1, 'must be a port number 1–65535').max(65535, 'must be a port number 1–65535').default(fallback);

export const configSchema = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL, e.g. postgres://user:pass@host:5432/ispbills')
    .optional(),
  ISPBILLS_DATA_DIR: z.string().min(1).default('./data'),
  EMBEDDED_POSTGRES_PORT: port(54329),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: port(3000),
  /** Where people reach the panels; passkeys are bound to its host name and cookies are Secure on https. */
  PUBLIC_URL: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL, e.g. https://billing.example.net' }).optional(),
  /**
   * The reverse proxies whose X-Forwarded-For the HTTP server believes (comma-separated addresses or CIDRs). Unset:
   * none, so the address that login throttling and the hotspot's limits count is the connection's own.
   */
  TRUSTED_PROXIES: z
    .string()
    .regex(/^\s*[0-9A-Fa-f:.]+(\/\d{1,3})?\s*(,\s*[0-9A-Fa-f:.]+(\/\d{1,3})?\s*)*$/, 'must be addresses or CIDRs separated by commas, e.g. 127.0.0.1,10.0.0.0/8')
    .optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(2).max(200).default(20),
  EVENT_STORE: z.enum(['postgres', 'kurrentdb']).default('postgres'),
  EVENTSTORE_URL: z
    .string()
    .regex(/^(kurrentdb|esdb|kdb)(\+discover)?:\/\//, 'must be a kurrentdb:// connection string')
    .optional(),
  SUBSCRIPTION_POLL_INTERVAL_MS: z.coerce.number().int().min(5).max(10_000).default(50),
  /** Events a projection applies per transaction. */
  PROJECTION_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(1_000),
  /** How long a projection stopped by an event it cannot apply waits before trying that event again. */
  PROJECTION_RETRY_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
  // router-agent (see README "Router agent"): limits, timeouts and the schedule; the key seals router API passwords.
  ROUTER_CREDENTIALS_KEY: z.string().regex(/^([0-9a-fA-F]{64}|[A-Za-z0-9+/]{43}=)$/, 'must be 32 bytes as 64 hex digits or base64 (openssl rand -hex 32)').optional(),
  ROUTER_CONCURRENCY_PER_ROUTER: z.coerce.number().int().min(1).max(64).default(8),
  ROUTER_MAX_ROUTERS_AT_ONCE: z.coerce.number().int().min(1).max(1_000).default(100),
  ROUTER_COMMAND_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(8),
  ROUTER_COMMAND_RETRY_MS: z.coerce.number().int().min(10).max(3_600_000).default(1_000),
  ROUTER_COMMAND_RETRY_MAX_MS: z.coerce.number().int().min(10).max(86_400_000).default(300_000),
  ROUTER_RECONNECT_MAX_MS: z.coerce.number().int().min(100).max(3_600_000).default(60_000),
  ROUTER_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(5_000),
  ROUTER_COMMAND_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  ROUTER_IDLE_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(3_600_000).default(120_000),
  ROUTER_RECONCILE_INTERVAL_MS: z.coerce.number().int().min(0).max(86_400_000).default(900_000),
  ROUTER_RATE_CHECK_DELAY_MS: z.coerce.number().int().min(0).max(600_000).default(10_000),
  ROUTER_OUTBOX_MAX_PENDING: z.coerce.number().int().min(100).max(10_000_000).default(50_000),
  ROUTER_OUTBOX_RETENTION_MS: z.coerce.number().int().min(60_000).max(31_536_000_000).default(604_800_000),
  // radius (see README "RADIUS"): where routers send Access- and Accounting-Requests, and the role's limits.
  RADIUS_HOST: z.string().min(1).default('127.0.0.1'),
  /** 0 picks a free port (tests). */
  RADIUS_AUTH_PORT: z.coerce.number().int().min(0, 'must be a port number 0–65535').max(65535, 'must be a port number 0–65535').default(1812),
  RADIUS_ACCT_PORT: z.coerce.number().int().min(0, 'must be a port number 0–65535').max(65535, 'must be a port number 0–65535').default(1813),
  RADIUS_RECEIVE_BUFFER_BYTES: z.coerce.number().int().min(65_536).max(268_435_456).default(4 * 1024 * 1024),
  RADIUS_REPLY_CACHE_MS: z.coerce.number().int().min(0).max(60_000).default(5_000),
  RADIUS_SESSIONS_REFRESH_MS: z.coerce.number().int().min(1_000).max(3_600_000).default(30_000),
  RADIUS_STALE_AFTER_INTERVALS: z.coerce.number().int().min(2).max(100).default(3),
  RADIUS_COA_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(2_000),
  RADIUS_COA_ATTEMPTS: z.coerce.number().int().min(1).max(10).default(3),
  RADIUS_USAGE_INTERVAL_MS: z.coerce.number().int().min(0).max(3_600_000).default(1_000),
  RADIUS_ACCOUNTING_BATCH: z.coerce.number().int().min(1).max(10_000).default(1_000),
  RADIUS_ACCOUNTING_LANES: z.coerce.number().int().min(1).max(16).default(2),
  // Online payment gateways (see README "Online payments"): SSLCommerz store credentials and where it calls back.
  ...GATEWAY_CONFIG,
  // scheduler and notifications (see README "Scheduler and notifications").
  SCHEDULER_TICK_MS: z.coerce.number().int().min(1_000).max(3_600_000).default(30_000),
  SCHEDULER_REMINDERS_AT: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a local time HH:MM, e.g. 09:00').default('09:00'),
  SCHEDULER_REMINDER_DAYS_BEFORE_DUE: z.coerce.number().int().min(0).max(60).default(3),
  SCHEDULER_REMINDER_DAYS_BEFORE_EXPIRY: z.coerce.number().int().min(0).max(60).default(2),
  SCHEDULER_HOLD_MIN_COUNT: z.coerce.number().int().min(1).max(10_000_000).default(20),
  SCHEDULER_HOLD_RATIO: z.coerce.number().min(1).max(1_000).default(3),
  SCHEDULER_HOLD_MAX_SHARE_PERCENT: z.coerce.number().min(0).max(100).default(20),
  SCHEDULER_HOLD_MAX_GAP_DAYS: z.coerce.number().int().min(1).max(366).default(3),
  NOTIFY_DEFAULT_LANGUAGE: z.enum(['en', 'bn']).default('en'),
  NOTIFY_DEFAULT_CHANNELS: z
    .string()
    .regex(/^(none|(sms|email|whatsapp)(,(sms|email|whatsapp))*)$/, 'must be a comma-separated list of sms, email, whatsapp, or none')
    .default('sms'),
  NOTIFY_TEMPLATES_DIR: z.string().min(1).optional(),
  NOTIFY_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(6),
  NOTIFY_RETRY_BASE_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
  SMS_PROVIDER: z.enum(['log', 'http', 'none']).default('log'),
  SMS_HTTP_URL: z.string().regex(/^https?:\/\//, 'must be an http(s) URL template, e.g. https://sms.example/send?to={{to}}&text={{text}}').optional(),
  SMS_HTTP_BODY: z.string().min(1).optional(),
  SMS_HTTP_AUTHORIZATION: z.string().min(1).optional(),
  SMS_RATE_PER_SECOND: z.coerce.number().min(0.01).max(10_000).default(10),
  SMTP_URL: z.string().regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL, e.g. smtp://user:pass@mail.example:587').optional(),
  SMTP_FROM: z.string().min(3).default('IspBills <billing@localhost>'),
  EMAIL_RATE_PER_SECOND: z.coerce.number().min(0.01).max(10_000).default(5),
  WHATSAPP_HTTP_URL: z.string().regex(/^https?:\/\//, 'must be an http(s) URL template').optional(),
  WHATSAPP_HTTP_BODY: z.string().min(1).default('{"messaging_product": "whatsapp", "to": {{json to}}, "type": "text", "text": {"body": {{json text}} }}'),
  WHATSAPP_HTTP_AUTHORIZATION: z.string().min(1).optional(),
  WHATSAPP_RATE_PER_SECOND: z.coerce.number().min(0.01).max(10_000).default(5),
  /** `start` loads the demo ISP on first run unless this is false. */
  SEED_DEMO_ISP: z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
    .default('true')
    .transform((value) => value === 'true' || value === '1' || value === 'yes'),
});

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  readonly code = 'INVALID_CONFIGURATION';
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}\nfix the environment variables above and start again`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings from shells (`FOO= npm start`) mean "not set", not "set to nothing".
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = configSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const name = issue.path.join('.');
        return `${name}=${JSON.stringify(env[name] ?? '')}: ${issue.message}`;
      }),
    );
  }
  const config = parsed.data;
  if (config.EVENT_STORE === 'kurrentdb' && config.EVENTSTORE_URL === undefined) {
    throw new ConfigError(['EVENTSTORE_URL: required when EVENT_STORE=kurrentdb (e.g. kurrentdb://localhost:2113?tls=false)']);
  }
  if (config.SMS_PROVIDER === 'http' && config.SMS_HTTP_URL === undefined) {
    throw new ConfigError(['SMS_HTTP_URL: required when SMS_PROVIDER=http (e.g. https://sms.example/send?to={{to}}&text={{text}})']);
  }
  if ((config.SSLCOMMERZ_STORE_ID === undefined) !== (config.SSLCOMMERZ_STORE_PASSWORD === undefined)) {
    throw new ConfigError(['SSLCOMMERZ_STORE_ID and SSLCOMMERZ_STORE_PASSWORD: set both (from the SSLCommerz merchant panel) or neither']);
  }
  return config;
}
