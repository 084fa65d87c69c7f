import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type pg from 'pg';
import { z } from 'zod';
import type { EventStore } from '../eventstore/event-store.js';

const componentSchema = z.object({
  status: z.enum(['ok', 'error']),
  detail: z.string(),
});

export const healthSchema = z.object({
  status: z.enum(['ok', 'error']),
  database: componentSchema.extend({ server_version: z.string().nullable(), latency_ms: z.number().nullable() }),
  event_store: componentSchema.extend({ kind: z.string(), head_position: z.string().nullable() }),
});

export type HealthDependencies = Readonly<{ pool: pg.Pool; store: EventStore }>;

/** A probe for load balancers and people: 200 when the database and the event store answer, 503 otherwise. */
export const healthRoutes: FastifyPluginAsync<HealthDependencies> = async (app, { pool, store }) => {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/health',
    { schema: { response: { 200: healthSchema, 503: healthSchema } } },
    async (_request, reply) => {
      const started = performance.now();
      const database = await pool
        .query<{ server_version: string }>('SHOW server_version')
        .then((result) => ({
          status: 'ok' as const,
          detail: 'answering',
          server_version: result.rows[0]?.server_version ?? null,
          latency_ms: Math.round((performance.now() - started) * 10) / 10,
        }))
        .catch((error: unknown) => ({ status: 'error' as const, detail: message(error), server_version: null, latency_ms: null }));
      const eventStore = await store
        .headPosition()
        .then((head) => ({ status: 'ok' as const, detail: 'readable', kind: store.kind, head_position: head.prepare.toString() }))
        .catch((error: unknown) => ({ status: 'error' as const, detail: message(error), kind: store.kind, head_position: null }));
      const status = database.status === 'ok' && eventStore.status === 'ok' ? 'ok' : 'error';
      return reply.code(status === 'ok' ? 200 : 503).send({ status, database, event_store: eventStore });
    },
  );
};

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
