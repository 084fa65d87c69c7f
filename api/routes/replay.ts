import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { replay } from '../../cli/replay.js';
import type { Connected } from '../../cli/system.js';
import { projectionStatus } from '../../projections/status.js';
import { InvalidCut } from '../../projections/time-travel.js';
import { callerOf } from '../access/route-access.js';
import type { ApiDependencies } from '../dependencies.js';
import { ApiError, errorReplies } from '../errors.js';
import { consistentWith, customerInScope, operatorInScope, POSITION_HEADER } from '../scope.js';
import { ID } from './command-reply.js';
import { asOf } from './route-kit.js';

/**
 * Time travel for disputes, through the same code as `ispbills replay`: one customer or one operator folded from
 * its own stream as of a log position, an instant or the end of a day (in the ISP's zone). Nothing is written.
 * And the projections' status: how far each read model is behind the log.
 */
const asOfQuery = z
  .object({
    /** `position:<n>` (an event number from the timeline), an ISO instant, or a date (the end of that day). */
    as_of: asOf,
  })
  .strict();

/** What replay folded, made plain JSON (event numbers are bigints in places). */
const plain = (value: unknown): Record<string, unknown> => JSON.parse(JSON.stringify(value, (_key, item: unknown) => (typeof item === 'bigint' ? item.toString() : item))) as Record<string, unknown>;

export const replayRoutes: FastifyPluginAsync<ApiDependencies> = async (plugin, { pool, store, logger }) => {
  const app = plugin.withTypeProvider<ZodTypeProvider>();
  const tags = ['replay'];
  // replay() takes the command line's connection; it reads only the pool and the event store from it, and
  // this process owns neither (closing stays with whoever opened them).
  const connected = { database: { pool }, store, logger, close: async () => undefined } as unknown as Connected;

  const run = async (options: Parameters<typeof replay>[1]): Promise<Record<string, unknown>> => {
    try {
      return plain(await replay(connected, options));
    } catch (error) {
      if (error instanceof InvalidCut) throw new ApiError('INVALID_AS_OF', error.message);
      throw error;
    }
  };

  app.get(
    '/api/v1/customers/:customer_id/as-of',
    {
      config: { access: { capability: 'replay.read', scope: 'customer', example: { query: { as_of: '2026-11-16' } } } },
      schema: {
        tags,
        summary: 'A customer as the system knew it then: status, expiry, credit, open bills, payments and the timeline up to that point',
        params: z.object({ customer_id: ID }),
        querystring: asOfQuery,
        response: { 200: z.object({ as_of: z.string() }).catchall(z.unknown()), ...errorReplies },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      await consistentWith(pool, request.headers[POSITION_HEADER], ['customers']);
      await customerInScope(pool, caller, request.params.customer_id);
      return run({ asOf: request.query.as_of, customer: request.params.customer_id, limit: '1' }) as Promise<{ as_of: string }>;
    },
  );

  app.get(
    '/api/v1/operators/:operator_id/as-of',
    {
      config: { access: { capability: 'replay.read', scope: 'operator', example: { query: { as_of: '2026-11-16' } } } },
      schema: {
        tags,
        summary: 'An operator as the system knew it then: profile, wallet balance and wallet statement up to that point',
        params: z.object({ operator_id: ID }),
        querystring: asOfQuery,
        response: { 200: z.object({ as_of: z.string() }).catchall(z.unknown()), ...errorReplies },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      await consistentWith(pool, request.headers[POSITION_HEADER], ['operators']);
      await operatorInScope(pool, caller, request.params.operator_id);
      return run({ asOf: request.query.as_of, operator: request.params.operator_id, limit: '1' }) as Promise<{ as_of: string }>;
    },
  );

  app.get(
    '/api/v1/projections',
    {
      config: { access: { capability: 'projections.read', scope: 'none', example: { query: {} } } },
      schema: {
        tags: ['projections'],
        summary: 'Every read model: its version and generation, how far it got, how far behind the log it is, and a failed event if it stopped',
        querystring: z.object({}).strict(),
        response: {
          200: z.object({
            projections: z.array(
              z.object({
                name: z.string(),
                version: z.number(),
                generation: z.number(),
                state: z.enum(['building', 'live']),
                global_position: z.string(),
                events_applied: z.string(),
                lag_events: z.number(),
                lag_seconds: z.number(),
                failed_event: z.object({ global_position: z.string(), event_id: z.string(), type: z.string(), stream_id: z.string(), error: z.string() }).nullable(),
                updated_at: z.string(),
              }),
            ),
          }),
          ...errorReplies,
        },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      const statuses = await projectionStatus(pool);
      // Read models serve every ISP of the deployment; a stopped one's failed event may be another ISP's, and
      // then its position and type are all this caller learns of it.
      const failed = statuses.flatMap((status) => (status.failed_event === null ? [] : [status.failed_event.event_id]));
      const tenants = new Map<string, string>();
      if (failed.length > 0) {
        const found = await pool.query<{ event_id: string; tenant: string }>("SELECT event_id::text AS event_id, metadata->>'tenant' AS tenant FROM events WHERE event_id::text = ANY($1::text[])", [failed]);
        for (const row of found.rows) tenants.set(row.event_id, row.tenant);
      }
      return {
        projections: statuses.map((status) =>
          status.failed_event === null || tenants.get(status.failed_event.event_id) === caller.tenant
            ? status
            : { ...status, failed_event: { ...status.failed_event, event_id: 'hidden', stream_id: 'hidden (another ISP)', error: 'hidden (another ISP)' } },
        ),
      };
    },
  );
};
