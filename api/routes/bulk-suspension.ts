import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { suspendCustomer } from '../../commands/customer-commands.js';
import { comparePositions, type LogPosition } from '../../eventstore/event-store.js';
import { envelopeOf } from '../access/caller.js';
import { callerOf } from '../access/route-access.js';
import type { ApiDependencies } from '../dependencies.js';
import { ApiError, errorReplies } from '../errors.js';
import { consistentWith, formatPosition, POSITION_HEADER } from '../scope.js';
import { ID } from './command-reply.js';
import { text } from './route-kit.js';

/**
 * Suspending many customers at once (a zone's unpaid accounts, a router being moved): risky enough to need a
 * passkey step-up. Every customer named must be in the caller's subtree or nothing happens at all; then each
 * is suspended on its own stream, and the reply says what happened to each.
 */
export const MAX_BULK_SUSPENSION = 500;

export const bulkSuspensionRoutes: FastifyPluginAsync<ApiDependencies> = async (plugin, { pool, runtime }) => {
  const app = plugin.withTypeProvider<ZodTypeProvider>();

  app.post(
    '/api/v1/customers/bulk-suspension',
    {
      config: { access: { capability: 'customers.suspend', scope: 'customer', step_up: true, example: { body: { customer_ids: [':customer_id'], reason: 'unpaid for two months' } } } },
      schema: {
        tags: ['customers'],
        summary: `Suspend up to ${MAX_BULK_SUSPENSION} customers of my subtree at once (needs a passkey step-up); all must be mine or none is suspended`,
        body: z
          .object({
            customer_ids: z
              .array(ID)
              .min(1)
              .max(MAX_BULK_SUSPENSION)
              .refine((ids) => new Set(ids).size === ids.length, 'each customer once'),
            reason: text(200),
          })
          .strict(),
        response: {
          200: z.object({
            suspended: z.number().int(),
            unchanged: z.number().int(),
            refused: z.number().int(),
            results: z.array(z.object({ customer_id: z.string(), outcome: z.enum(['suspended', 'unchanged', 'refused']), code: z.string().nullable(), message: z.string().nullable() })),
            position: z.string().nullable(),
          }),
          ...errorReplies,
        },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      const { customer_ids, reason } = request.body;
      await consistentWith(pool, request.headers[POSITION_HEADER], ['customers']);
      const visible = await pool.query<{ customer_id: string }>('SELECT customer_id FROM customers WHERE customer_id = ANY($1::text[]) AND tenant = $2 AND chain @> ARRAY[$3]::text[]', [
        customer_ids,
        caller.tenant,
        caller.operator_id,
      ]);
      const mine = new Set(visible.rows.map((row) => row.customer_id));
      const missing = customer_ids.filter((customer_id) => !mine.has(customer_id));
      if (missing.length > 0) {
        throw new ApiError('CUSTOMER_NOT_FOUND', `no customer ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ` (and ${missing.length - 10} more)` : ''} in your part of the network; nothing was suspended`);
      }
      const results: { customer_id: string; outcome: 'suspended' | 'unchanged' | 'refused'; code: string | null; message: string | null }[] = [];
      let last: LogPosition | null = null;
      for (const customer_id of customer_ids) {
        const result = await suspendCustomer(runtime, envelopeOf(caller), { customer_id, reason });
        if (!result.ok) {
          results.push({ customer_id, outcome: 'refused', code: result.rejection.code, message: result.rejection.message });
          continue;
        }
        results.push({ customer_id, outcome: result.position === null ? 'unchanged' : 'suspended', code: null, message: null });
        if (result.position !== null && (last === null || comparePositions(result.position, last) > 0)) last = result.position;
      }
      const count = (outcome: string): number => results.filter((result) => result.outcome === outcome).length;
      return { suspended: count('suspended'), unchanged: count('unchanged'), refused: count('refused'), results, position: formatPosition(last) };
    },
  );
};
