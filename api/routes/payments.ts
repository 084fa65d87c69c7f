import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Caller } from '../access/caller.js';
import { callerOf } from '../access/route-access.js';
import type { ApiDependencies } from '../dependencies.js';
import { ApiError, errorReplies } from '../errors.js';
import { consistentWith, POSITION_HEADER } from '../scope.js';
import { ID } from './command-reply.js';
import { cursorInstant, decodeCursor, instantSql, localDay, pageLimit, pageOf, RECORD_ID } from './route-kit.js';

/**
 * Payments and their refunds as recorded (money in is recorded with POST /api/v1/customers/:id/payments, card
 * redemptions and the gateway callbacks; refunds with POST /api/v1/customers/:id/refunds). Scoped by the chain
 * each payment row carries; a customer sees its own.
 */
export const paymentItem = z.object({
  payment_id: z.string(),
  customer_id: z.string(),
  operator_id: z.string().nullable(),
  method: z.string(),
  currency: z.string(),
  amount: z.string(),
  refunded: z.string(),
  received_at: z.string(),
  collected_by: z.string(),
  collector_operator_id: z.string(),
  gateway: z.string().nullable(),
  gateway_reference: z.string().nullable(),
  card_batch_id: z.string().nullable(),
  card_serial: z.string().nullable(),
  to_recharge: z.string(),
  to_credit: z.string(),
});

export const PAYMENT_COLUMNS = `payment_id, customer_id, operator_id, method, currency, amount::text AS amount, refunded::text AS refunded, ${instantSql('received_at')} AS received_at,
  collected_by, collector_operator_id, gateway, gateway_reference, card_batch_id, card_serial, to_recharge::text AS to_recharge, to_credit::text AS to_credit`;

const refundItem = z.object({
  refund_id: z.string(),
  amount: z.string(),
  reason: z.string(),
  credit_reduced: z.string(),
  recharge_reversed: z.string(),
  reopened: z.unknown(),
  commission_clawback: z.unknown(),
  refunded_at: z.string(),
  recorded_by: z.string().nullable(),
});

/** Payments a customer may see (its own) or an operator (its subtree). */
export function paymentScope(caller: Caller, first_param: number): { sql: string; values: unknown[] } {
  if (caller.principal_kind === 'customer') return { sql: `tenant = $${first_param} AND customer_id = $${first_param + 1}`, values: [caller.tenant, caller.principal_id] };
  return { sql: `tenant = $${first_param} AND chain @> ARRAY[$${first_param + 1}]::text[]`, values: [caller.tenant, caller.operator_id] };
}

export const paymentRoutes: FastifyPluginAsync<ApiDependencies> = async (plugin, { pool }) => {
  const app = plugin.withTypeProvider<ZodTypeProvider>();
  const tags = ['payments'];

  app.get(
    '/api/v1/payments',
    {
      config: { access: { capability: 'customers.read', scope: 'tenant', example: { query: { method: 'cash', limit: '20' } } } },
      schema: {
        tags,
        summary: 'Payments in my part of the network, newest first (keyset paging: pass `next` as `after`)',
        querystring: z
          .object({
            customer_id: ID.optional(),
            operator_id: ID.optional(),
            method: z.enum(['cash', 'online', 'card', 'reseller_wallet']).optional(),
            collected_by: z.string().min(1).max(64).optional(),
            /** Days of the ISP's calendar are what people mean; these are UTC days, which is what the index holds. */
            from: localDay.optional(),
            to: localDay.optional(),
            limit: pageLimit(500, 50),
            after: z.string().max(400).optional(),
          })
          .strict(),
        response: { 200: z.object({ payments: z.array(paymentItem), next: z.string().nullable() }), ...errorReplies },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      await consistentWith(pool, request.headers[POSITION_HEADER], ['billing']);
      const scope = paymentScope(caller, 1);
      const values = [...scope.values];
      const where = [scope.sql];
      const add = (condition: (param: string) => string, value: unknown): void => {
        values.push(value);
        where.push(condition(`$${values.length}`));
      };
      const query = request.query;
      if (query.customer_id !== undefined) add((p) => `customer_id = ${p}`, query.customer_id);
      if (query.operator_id !== undefined) add((p) => `chain @> ARRAY[${p}]::text[]`, query.operator_id);
      if (query.method !== undefined) add((p) => `method = ${p}`, query.method);
      if (query.collected_by !== undefined) add((p) => `collected_by = ${p}`, query.collected_by);
      if (query.from !== undefined) add((p) => `received_at >= ${p}::date`, query.from);
      if (query.to !== undefined) add((p) => `received_at < ${p}::date + 1`, query.to);
      if (query.after !== undefined) {
        const [instant, payment_id] = decodeCursor(query.after, 2);
        const received_at = cursorInstant(instant!);
        values.push(received_at, payment_id);
        where.push(`(received_at, payment_id) < ($${values.length - 1}::timestamptz, $${values.length})`);
      }
      const found = await pool.query<z.infer<typeof paymentItem>>(`SELECT ${PAYMENT_COLUMNS} FROM payments WHERE ${where.join(' AND ')} ORDER BY received_at DESC, payment_id DESC LIMIT ${query.limit + 1}`, values);
      const page = pageOf(found.rows, query.limit, (row) => [row.received_at, row.payment_id]);
      return { payments: page.rows, next: page.next };
    },
  );

  app.get(
    '/api/v1/payments/:payment_id',
    {
      config: { access: { capability: 'customers.read', scope: 'customer' } },
      schema: {
        tags,
        summary: 'One payment: which bills it settled, how it was split along the chain, and its refunds',
        params: z.object({ payment_id: RECORD_ID }),
        response: { 200: paymentItem.extend({ allocations: z.unknown(), commission: z.unknown(), refunds: z.array(refundItem) }), ...errorReplies },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      await consistentWith(pool, request.headers[POSITION_HEADER], ['billing']);
      const scope = paymentScope(caller, 2);
      const found = await pool.query<z.infer<typeof paymentItem> & { allocations: unknown; commission: unknown }>(
        `SELECT ${PAYMENT_COLUMNS}, allocations, commission FROM payments WHERE payment_id = $1 AND ${scope.sql}`,
        [request.params.payment_id, ...scope.values],
      );
      const payment = found.rows[0];
      if (payment === undefined) throw new ApiError('PAYMENT_NOT_FOUND', `no payment ${request.params.payment_id} in your part of the network`);
      const refunds = await pool.query<z.infer<typeof refundItem>>(
        `SELECT refund_id, amount::text AS amount, reason, credit_reduced::text AS credit_reduced, recharge_reversed::text AS recharge_reversed, reopened, commission_clawback,
                ${instantSql('refunded_at')} AS refunded_at, recorded_by
           FROM refunds WHERE payment_id = $1 ORDER BY refunded_at, refund_id`,
        [payment.payment_id],
      );
      return { ...payment, refunds: refunds.rows };
    },
  );
};
