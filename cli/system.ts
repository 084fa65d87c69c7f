import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import { buildApp } from '../api/app.js';
import { settingsFor } from '../api/dependencies.js';
import type { EventStore } from '../eventstore/event-store.js';
import { startChainKeeper, type ChainKeeper } from '../eventstore/postgres/chain-keeper.js';
import { PostgresEventStore } from '../eventstore/postgres/postgres-event-store.js';
import { migrateToLatest } from '../migrations/index.js';
import { CommandRuntime, systemClock } from '../commands/command-runtime.js';
import { ALL_PROJECTIONS } from '../projections/index.js';
import { Projector } from '../projections/projector.js';
import { waitForProjections } from '../projections/status.js';
import { PostgresSnapshotStore } from '../commands/snapshots.js';
import { DEMO_ISP, seedDemoIsp, seedDemoLogins } from './demo-seed.js';
import { ConfigError, type Config } from './config.js';
import { ensureDatabaseExists, openDatabase, type Database } from './database.js';
import { databaseUrl, startEmbeddedPostgres, type RunningPostgres } from './embedded-postgres.js';
import type { RouterAgent } from '../router-agent/agent.js';
import { routerCredentials, startRouterAgent } from './router-agent.js';
import type { RunningRadius } from '../radius-bridge/radius-role.js';
import { startRadiusRole } from './radius.js';
import type { RunningScheduler } from '../scheduler/role.js';
import { schedulerSettings, smsProvider, startScheduler } from './scheduler.js';

const APP_DATABASE = 'ispbills';

export type Connected = Readonly<{
  database: Database;
  store: EventStore;
  logger: Logger;
  /** Closes the pool and, when this process started it, the embedded PostgreSQL. */
  close: () => Promise<void>;
}>;

/**
 * The database this process works on: DATABASE_URL's server when set, otherwise a real PostgreSQL started
 * here from `embedded-postgres` with its data under ISPBILLS_DATA_DIR. Migrations run before anything else.
 */
export async function connect(
  config: Config,
  logger = createLogger(config),
  options: Readonly<{ attach_if_running?: boolean }> = { attach_if_running: true },
): Promise<Connected> {
  let embedded: RunningPostgres | null = null;
  let url = config.DATABASE_URL;
  if (url === undefined) {
    const data_dir = path.resolve(config.ISPBILLS_DATA_DIR);
    logger.info({ data_dir, port: config.EMBEDDED_POSTGRES_PORT }, 'starting embedded PostgreSQL');
    const postgresLog = logger.child({ component: 'postgres' });
    embedded = await startEmbeddedPostgres({
      data_dir,
      port: config.EMBEDDED_POSTGRES_PORT,
      on_log: (line) => postgresLog.debug(line),
      attach_if_running: options.attach_if_running ?? true,
    });
    await ensureDatabaseExists(embedded.url, APP_DATABASE);
    url = databaseUrl(embedded.url, APP_DATABASE);
  }
  const database = openDatabase(url, config.DATABASE_POOL_SIZE);
  try {
    const { applied } = await migrateToLatest(database.db);
    if (applied.length > 0) logger.info({ applied }, 'migrations applied');
  } catch (error) {
    await database.close();
    await embedded?.stop();
    throw error;
  }
  const store = new PostgresEventStore(database.pool, { poll_interval_ms: config.SUBSCRIPTION_POLL_INTERVAL_MS });
  return {
    database,
    store,
    logger,
    close: async () => {
      await store.close();
      await database.close();
      if (embedded !== null && !embedded.attached) {
        logger.info('stopping embedded PostgreSQL');
        await embedded.stop();
      }
    },
  };
}

/** One-shot commands (status, rebuild, replay) print their own output; the log only says what went wrong. */
export const quietLogger = (): Logger => pino({ level: 'warn', base: { service: 'ispbills' } });

export function createLogger(config: Pick<Config, 'LOG_LEVEL'>): Logger {
  return pino({ level: config.LOG_LEVEL, base: { service: 'ispbills' } });
}

export type RunningSystem = Readonly<{ url: string | null; app: FastifyInstance | null; stop: () => Promise<void> }>;

export function commandRuntime(connected: Connected): CommandRuntime {
  return new CommandRuntime({ store: connected.store, snapshots: new PostgresSnapshotStore(connected.database.pool) });
}

/**
 * The roles a process runs: `http` (API and panels; stateless, scale out behind a load balancer) and `workers`
 * (projector and hash-chain keeper; any number may run, one leads each projection).
 */
export type Roles = Readonly<{ http: boolean; workers: boolean; router_agent?: boolean; radius?: boolean; scheduler?: boolean }>;
export const ALL_ROLES: Roles = { http: true, workers: true, router_agent: true, radius: true, scheduler: true };

/** The roles asked for, in one process; `start` asks for all of them. */
export async function startSystem(
  config: Config,
  options: Readonly<{ seed_demo?: boolean; roles?: Roles }> = {},
): Promise<RunningSystem> {
  const roles = options.roles ?? ALL_ROLES;
  // `start` owns the embedded server on its data directory; the split roles may share one that runs.
  const connected = await connect(config, createLogger(config), { attach_if_running: !(roles.http && roles.workers) });
  const { logger } = connected;
  if (options.seed_demo === true) {
    const outcome = await seedDemoIsp(commandRuntime(connected));
    logger.info({ isp: DEMO_ISP, outcome }, outcome === 'seeded' ? 'demo ISP seeded' : 'demo ISP present');
  }
  let chainKeeper: ChainKeeper | null = null;
  let projector: Projector | null = null;
  let routerAgent: RouterAgent | null = null;
  let radius: RunningRadius | null = null;
  let scheduler: RunningScheduler | null = null;
  let app: FastifyInstance | null = null;
  const stop = async (): Promise<void> => {
    await app?.close();
    await scheduler?.stop();
    await radius?.stop();
    await routerAgent?.stop();
    await projector?.stop();
    await chainKeeper?.stop();
    await connected.close();
    logger.info('stopped');
  };
  try {
    if (roles.workers) {
      chainKeeper = startChainKeeper(connected.database.pool, {
        on_error: (error) => logger.error({ err: error }, 'hash chain: extending failed; will retry'),
      });
      projector = new Projector(connected.database.pool, connected.store, ALL_PROJECTIONS, {
        poll_interval_ms: config.SUBSCRIPTION_POLL_INTERVAL_MS,
        batch_size: config.PROJECTION_BATCH_SIZE,
        retry_after_failure_ms: config.PROJECTION_RETRY_MS,
        logger: logger.child({ component: 'projector' }),
      });
      projector.start();
      if (options.seed_demo === true) {
        // Logins name people the read models know; wait until the projections have caught up with the seed.
        await waitForProjections(connected.database.pool, ['operators', 'customers'], await connected.store.headPosition(), { timeout_ms: 30_000 });
        await seedDemoLogins(connected.database.pool, systemClock);
      }
    }
    if (roles.router_agent === true) routerAgent = await startRouterAgent(config, connected);
    if (roles.radius === true) radius = await startRadiusRole(config, connected);
    if (roles.scheduler === true) scheduler = startScheduler(config, connected);
    if (roles.http) {
      app = await buildApp({
        pool: connected.database.pool,
        store: connected.store,
        logger: logger.child({ component: 'http' }),
        runtime: commandRuntime(connected),
        settings: settingsFor(config.PUBLIC_URL ?? `http://localhost:${config.PORT}`),
        sms: smsProvider(config, logger),
        scheduler: schedulerSettings(config),
        trusted_proxies: (config.TRUSTED_PROXIES ?? '').split(',').map((entry) => entry.trim()).filter((entry) => entry !== ''),
        ...routerSecretsFor(config),
      });
      await app.listen({ host: config.HOST, port: config.PORT });
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const shownHost = config.HOST === '0.0.0.0' || config.HOST === '::' ? 'localhost' : config.HOST;
  return { url: roles.http ? `http://${shownHost}:${config.PORT}` : null, app, stop };
}

/**
 * The API takes a router's API password from the panel and seals it with the router-agent's key. A deployment on
 * its own database without ROUTER_CREDENTIALS_KEY still serves; only that route refuses, naming the variable.
 */
function routerSecretsFor(config: Config): { router_secrets?: ReturnType<typeof routerCredentials> } {
  try {
    return { router_secrets: routerCredentials(config) };
  } catch (error) {
    if (error instanceof ConfigError) return {};
    throw error;
  }
}
