import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type pg from 'pg';
import { CommandRuntime, systemClock, type Clock } from '../commands/command-runtime.js';
import { PostgresSnapshotStore } from '../commands/snapshots.js';
import type { EventStore } from '../eventstore/event-store.js';
import { LogProvider, type NotificationProvider } from '../notifications/providers.js';
import { authRoutes } from './access/auth-routes.js';
import { installAccessControl } from './access/route-access.js';
import { settingsFor, type ApiDependencies, type ApiSettings } from './dependencies.js';
import { installErrorHandler } from './errors.js';
import { healthRoutes } from './health.js';
import { API_ROUTES } from './routes/index.js';
import { rejectUnstorableText } from './routes/storable-text.js';
import { installWebFoundation } from '../web/index.js';
import { DEFAULT_SCHEDULER_SETTINGS, type SchedulerSettings } from '../scheduler/settings.js';
import { panelPlugin } from '../web/panels/plugin.js';
import { portalPlugin } from '../web/portal/plugin.js';
import { hotspotPlugin } from '../web/hotspot/plugin.js';

export type AppDependencies = Readonly<{
  pool: pg.Pool;
  store: EventStore;
  logger: FastifyBaseLogger;
  clock?: Clock;
  runtime?: CommandRuntime;
  settings?: ApiSettings;
  router_secrets?: ApiDependencies['router_secrets'];
  /** The SMS provider for the hotspot's one-time codes (null: SMS is off); by default messages go to the log. */
  sms?: NotificationProvider | null;
  /** Reverse proxies (addresses or CIDRs) whose X-Forwarded-For is believed; none by default. */
  trusted_proxies?: readonly string[];
  /** The scheduler's settings (default: the scheduler's defaults); `ispbills` passes what the scheduler role uses. */
  scheduler?: SchedulerSettings;
}>;

/**
 * The HTTP application: structured logs (pino), zod schemas for every body, query, params and reply, OpenAPI
 * at /docs, one access rule per route enforced by one hook, one error catalogue, one plugin per area.
 */
export async function buildApp(dependencies: AppDependencies): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: dependencies.logger,
    // Request bodies are small JSON commands; a larger one is a mistake or an attack.
    bodyLimit: 1_048_576,
    requestTimeout: 30_000,
    // Only named proxies may say who the client is: anyone else could forge X-Forwarded-For and slip past the
    // per-address login and hotspot limits.
    trustProxy: dependencies.trusted_proxies === undefined || dependencies.trusted_proxies.length === 0 ? false : [...dependencies.trusted_proxies],
  });
  const clock = dependencies.clock ?? systemClock;
  const deps: ApiDependencies = {
    pool: dependencies.pool,
    store: dependencies.store,
    logger: dependencies.logger,
    clock,
    runtime: dependencies.runtime ?? new CommandRuntime({ store: dependencies.store, snapshots: new PostgresSnapshotStore(dependencies.pool), clock }),
    settings: dependencies.settings ?? settingsFor('http://localhost:3000'),
    ...(dependencies.router_secrets === undefined ? {} : { router_secrets: dependencies.router_secrets }),
    sms: dependencies.sms === undefined ? new LogProvider('sms', dependencies.logger as never) : dependencies.sms,
    scheduler: dependencies.scheduler ?? DEFAULT_SCHEDULER_SETTINGS,
  };
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandler(app);
  await app.register(cookie);
  await app.register(swagger, {
    openapi: {
      info: { title: 'IspBills API', version: '1', description: 'Every capability of IspBills. Log in at /api/v1/auth/login or send `Authorization: Bearer ibt_…`.' },
      components: { securitySchemes: { session: { type: 'apiKey', in: 'cookie', name: 'ispbills_session' }, token: { type: 'http', scheme: 'bearer' } } },
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await installWebFoundation(app);
  installAccessControl(app, deps.pool, clock);
  // After the access check (a stranger learns nothing), before any schema or handler sees the input.
  app.addHook('preValidation', rejectUnstorableText);
  await app.register(healthRoutes, { pool: dependencies.pool, store: dependencies.store });
  await app.register(authRoutes, deps);
  for (const routes of API_ROUTES) await app.register(routes, deps);
  await app.register(panelPlugin, deps);
  await app.register(portalPlugin, deps);
  await app.register(hotspotPlugin, deps);
  return app;
}
