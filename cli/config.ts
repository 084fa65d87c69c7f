import { z } from 'zod';

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
  return config;
}
