import Fastify, { type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type pg from 'pg';
import type { FastifyBaseLogger } from 'fastify';
import type { EventStore } from '../eventstore/event-store.js';
import { healthRoutes } from './health.js';

export type AppDependencies = Readonly<{
  pool: pg.Pool;
  store: EventStore;
  logger: FastifyBaseLogger;
}>;

/** The HTTP application: structured logs (pino), zod schemas for every route, one plugin per area. */
export async function buildApp(dependencies: AppDependencies): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: dependencies.logger,
    // Request bodies are small JSON commands; a larger one is a mistake or an attack.
    bodyLimit: 1_048_576,
    requestTimeout: 30_000,
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  await app.register(healthRoutes, { pool: dependencies.pool, store: dependencies.store });
  return app;
}
