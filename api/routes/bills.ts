import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type pg from 'pg';
import { z } from 'zod';
import { MAX_PREVIEW_BILLS, previewMonthlyBills } from '../../commands/bill-run-preview.js';
import { issueMonthlyBill, runMonthlyBills } from '../../commands/payment-commands.js';
import type { YearMonth } from '../../domain/calendar/billing-period.js';
import { envelopeOf, type Caller } from '../access/caller.js';
import { callerOf } from '../access/route-access.js';
import type { ApiDependencies } from '../dependencies.js';
import { ApiError, errorReplies } from '../errors.js';
import { consistentWith, customerInScope, operatorInScope, POSITION_HEADER } from '../scope.js';
import { commandReply, ID, replyOf } from './command-reply.js';
import { cursorDay, daySql, decodeCursor, instantSql, localDay, pageLimit, pageOf, RECORD_ID, yearMonth } from './route-kit.js';

/**
 * Bills: the list with filters and one bill, scoped to the caller's subtree by the chain each bill row carries;
 * issuing one customer's monthly bill; and the monthly bill run over the monthly customers of my subtree. Both
 * are safe to repeat: a customer stream bills each stretch of time once.
 */
export const billItem = z.object({
  bill_id: z.string(),
  customer_id: z.string(),
  operator_id: z.string().nullable(),
  kind: z.string(),
  period: z.string(),
  covers_from: z.string(),
  covers_until: z.string(),
  package_id: z.string(),
  currency: z.string(),
  amount: z.string(),
  paid: z.string(),
  open: z.string(),
  status: z.string(),
  issued_on: z.string(),
  due_on: z.string(),
  settled_at: z.string().nullable(),
});

export const BILL_COLUMNS = `bill_id, customer_id, operator_id, kind, period, ${daySql('covers_from')} AS covers_from, ${daySql('covers_until')} AS covers_until, package_id, currency,
  amount::text AS amount, paid::text AS paid, open::text AS open, status, ${daySql('issued_on')} AS issued_on, ${daySql('due_on')} AS due_on, ${instantSql('settled_at')} AS settled_at`;

/** Bills one customer may see (its own) or an operator (its subtree), by the chain stored on each bill. */
export function billScope(caller: Caller, first_param: number): { sql: string; values: unknown[] } {
  if (caller.principal_kind === 'customer') return { sql: `tenant = $${first_param} AND customer_id = $${first_param + 1}`, values: [caller.tenant, caller.principal_id] };
  return { sql: `tenant = $${first_param} AND chain @> ARRAY[$${first_param + 1}]::text[]`, values: [caller.tenant, caller.operator_id] };
}

/** The largest bill run one request does; a bigger ISP runs it per operator (operator_id) or from the scheduler. */
export const MAX_BILL_RUN_CUSTOMERS = 20_000;

async function monthlyCustomersUnder(pool: pg.Pool, tenant: string, operator_id: string): Promise<string[]> {
  const found = await pool.query<{ customer_id: string }>(
    `SELECT customer_id FROM customers WHERE tenant = $1 AND chain @> ARRAY[$2]::text[] AND billing_profile = 'monthly' ORDER BY customer_id LIMIT ${MAX_BILL_RUN_CUSTOMERS + 1}`,
    [tenant, operator_id],
  );
  return found.rows.map((row) => row.customer_id);
}

export const billRoutes: FastifyPluginAsync<ApiDependencies> = async (plugin, { pool, runtime }) => {
  const app = plugin.withTypeProvider<ZodTypeProvider>();
  const tags = ['bills'];

  app.get(
    '/api/v1/bills',
    {
      config: { access: { capability: 'customers.read', scope: 'tenant', example: { query: { status: 'open', limit: '20' } } } },
      schema: {
        tags,
        summary: 'Bills in my part of the network, newest first, with filters (keyset paging: pass `next` as `after`)',
        querystring: z
          .object({
            customer_id: ID.optional(),
            operator_id: ID.optional(),
            status: z.enum(['open', 'partially_paid', 'paid']).optional(),
            period: yearMonth.optional(),
            due_before: localDay.optional(),
            limit: pageLimit(500, 50),
            after: z.string().max(400).optional(),
          })
          .strict(),
        response: { 200: z.object({ bills: z.array(billItem), next: z.string().nullable() }), ...errorReplies },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      await consistentWith(pool, request.headers[POSITION_HEADER], ['billing']);
      const scope = billScope(caller, 1);
      const values = [...scope.values];
      const where = [scope.sql];
      const add = (condition: (param: string) => string, value: unknown): void => {
        values.push(value);
        where.push(condition(`$${values.length}`));
      };
      const query = request.query;
      if (query.customer_id !== undefined) add((p) => `customer_id = ${p}`, query.customer_id);
      if (query.operator_id !== undefined) add((p) => `chain @> ARRAY[${p}]::text[]`, query.operator_id);
      if (query.status !== undefined) add((p) => `status = ${p}`, query.status);
      if (query.period !== undefined) add((p) => `period = ${p}`, query.period);
      if (query.due_before !== undefined) add((p) => `due_on < ${p}::date`, query.due_before);
      if (query.after !== undefined) {
        const [day, bill_id] = decodeCursor(query.after, 2);
        const issued_on = cursorDay(day!);
        values.push(issued_on, bill_id);
        where.push(`(issued_on, bill_id) < ($${values.length - 1}::date, $${values.length})`);
      }
      const found = await pool.query<z.infer<typeof billItem>>(`SELECT ${BILL_COLUMNS} FROM bills WHERE ${where.join(' AND ')} ORDER BY issued_on DESC, bill_id DESC LIMIT ${query.limit + 1}`, values);
      const page = pageOf(found.rows, query.limit, (row) => [row.issued_on, row.bill_id]);
      return { bills: page.rows, next: page.next };
    },
  );

  app.get(
    '/api/v1/bills/:bill_id',
    {
      config: { access: { capability: 'customers.read', scope: 'customer' } },
      schema: { tags, summary: 'One bill', params: z.object({ bill_id: RECORD_ID }), response: { 200: billItem, ...errorReplies } },
    },
    async (request) => {
      const caller = callerOf(request);
      await consistentWith(pool, request.headers[POSITION_HEADER], ['billing']);
      const scope = billScope(caller, 2);
      const found = await pool.query<z.infer<typeof billItem>>(`SELECT ${BILL_COLUMNS} FROM bills WHERE bill_id = $1 AND ${scope.sql}`, [request.params.bill_id, ...scope.values]);
      if (found.rows[0] === undefined) throw new ApiError('NOT_FOUND', `no bill ${request.params.bill_id} in your part of the network`);
      return found.rows[0];
    },
  );

  app.post(
    '/api/v1/customers/:customer_id/bills',
    {
      config: { access: { capability: 'bills.run', scope: 'customer', example: { body: { period: '2026-11' } } } },
      schema: {
        tags,
        summary: "Issue a monthly customer's bill for a period whose billing day has come (nothing happens if it is billed)",
        params: z.object({ customer_id: ID }),
        body: z.object({ period: yearMonth }).strict(),
        response: { 200: commandReply(z.object({ issued: z.boolean() })), ...errorReplies },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      await consistentWith(pool, request.headers[POSITION_HEADER], ['customers']);
      await customerInScope(pool, caller, request.params.customer_id);
      return replyOf(await issueMonthlyBill(runtime, envelopeOf(caller), { customer_id: request.params.customer_id, period: request.body.period as YearMonth }));
    },
  );

  /** The monthly customers a bill run covers: my subtree's, or one operator's in it; refused beyond the run's limit. */
  const billRunCustomers = async (caller: Caller, chosen: string | undefined): Promise<string[]> => {
    const operator_id = chosen ?? caller.operator_id;
    if (chosen !== undefined) await operatorInScope(pool, caller, operator_id);
    const customer_ids = await monthlyCustomersUnder(pool, caller.tenant, operator_id);
    if (customer_ids.length > MAX_BILL_RUN_CUSTOMERS) {
      throw new ApiError('INVALID_INPUT', `more than ${MAX_BILL_RUN_CUSTOMERS} monthly customers: run it per operator (operator_id) or let the scheduler run it`);
    }
    return customer_ids;
  };

  app.get(
    '/api/v1/bill-runs/preview',
    {
      config: { access: { capability: 'bills.run', scope: 'tenant', example: { query: { period: '2026-11' } } } },
      schema: {
        tags,
        summary: `What the monthly bill run for a period would issue now, decided by the run's own rules and appending nothing: counts, totals, refusals and up to ${MAX_PREVIEW_BILLS} of the bills`,
        querystring: z.object({ period: yearMonth, operator_id: ID.optional() }).strict(),
        response: {
          200: z.object({
            period: z.string(),
            customers: z.number().int(),
            to_issue: z.number().int(),
            unchanged: z.number().int(),
            totals: z.array(z.object({ currency: z.string(), amount: z.string(), credit_applied: z.string() })),
            bills: z.array(
              z.object({ customer_id: z.string(), name: z.string(), kind: z.string(), covers_from: z.string(), covers_until: z.string(), package_id: z.string(), amount: z.string(), currency: z.string(), due_on: z.string(), credit_applied: z.string() }),
            ),
            refused: z.array(z.object({ customer_id: z.string(), code: z.string(), message: z.string() })),
          }),
          ...errorReplies,
        },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      await consistentWith(pool, request.headers[POSITION_HEADER], ['customers', 'operators']);
      const customer_ids = await billRunCustomers(caller, request.query.operator_id);
      const preview = await previewMonthlyBills(runtime, envelopeOf(caller), { period: request.query.period as YearMonth, customer_ids });
      return { ...preview, totals: [...preview.totals], bills: [...preview.bills], refused: [...preview.refused] };
    },
  );

  app.post(
    '/api/v1/bill-runs',
    {
      config: { access: { capability: 'bills.run', scope: 'tenant', example: { body: { period: '2026-11' } } } },
      schema: {
        tags,
        summary: `The monthly bill run for a period over the monthly customers of my subtree (or of one operator in it), at most ${MAX_BILL_RUN_CUSTOMERS} customers per request; safe to run again`,
        body: z.object({ period: yearMonth, operator_id: ID.optional() }).strict(),
        response: {
          200: z.object({
            period: z.string(),
            customers: z.number().int(),
            issued: z.number().int(),
            unchanged: z.number().int(),
            refused: z.array(z.object({ customer_id: z.string(), code: z.string(), message: z.string() })),
          }),
          ...errorReplies,
        },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      await consistentWith(pool, request.headers[POSITION_HEADER], ['customers', 'operators']);
      const customer_ids = await billRunCustomers(caller, request.body.operator_id);
      const report = await runMonthlyBills(runtime, envelopeOf(caller), { period: request.body.period as YearMonth, customer_ids });
      return { ...report, refused: [...report.refused] };
    },
  );
};
