import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  assignPackage,
  createOperator,
  reinstateOperator,
  setBillingMode,
  setCommissionTerms,
  suspendOperator,
  topUpWallet,
} from '../../commands/operator-commands.js';
import { Money } from '../../domain/money/money.js';
import { envelopeOf } from '../access/caller.js';
import { callerOf } from '../access/route-access.js';
import type { ApiDependencies } from '../dependencies.js';
import { ApiError, errorReplies } from '../errors.js';
import { consistentWith, operatorInScope, POSITION_HEADER } from '../scope.js';
import { commandReply, ID, optionalIdempotencyKey, replyOf, requiredIdempotencyKey } from './command-reply.js';
import { cursorPosition, decodeCursor, instantSql, localDay, money, newId, operatorBelow, operatorChildOf, operatorSubtreeSql, pageLimit, pageOf, text } from './route-kit.js';

/**
 * Operators: the caller's subtree of the operator tree, each operator's wallet and commission statements, and
 * what a parent does to a child (create it, suspend or reinstate it, set its billing mode, commission terms
 * and package prices, credit its wallet). Nobody does the parent's part to their own operator.
 */
const termsSchema = z.object({ kind: z.enum(['share', 'wholesale']), percent: z.string().optional(), effective_from: z.string() }).nullable();

const operatorItem = z.object({
  operator_id: z.string(),
  role: z.enum(['admin', 'reseller', 'sub_reseller']),
  parent_id: z.string().nullable(),
  ancestry: z.array(z.string()),
  name: z.string(),
  currency: z.string(),
  time_zone: z.string(),
  status: z.string(),
  billing_mode: z.string(),
  credit_limit: z.string(),
  wallet_balance: z.string(),
  commission_terms: termsSchema,
  created_at: z.string(),
});

const OPERATOR_COLUMNS = `operator_id, role, parent_id, ancestry, name, currency, time_zone, status, billing_mode, credit_limit::text AS credit_limit,
  wallet_balance::text AS wallet_balance, commission_terms, ${instantSql('created_at')} AS created_at`;

const operatorParams = z.object({ operator_id: ID });

const walletEntry = z.object({
  global_position: z.string(),
  at: z.string(),
  kind: z.string(),
  reason: z.string().nullable(),
  amount: z.string(),
  balance_after: z.string(),
  customer_id: z.string().nullable(),
  payment_id: z.string().nullable(),
  reference: z.string().nullable(),
  recorded_by: z.string().nullable(),
});

const commissionLine = z.object({
  global_position: z.string(),
  at: z.string(),
  kind: z.string(),
  customer_id: z.string(),
  payment_id: z.string(),
  refund_id: z.string().nullable(),
  amount: z.string(),
});

export const operatorRoutes: FastifyPluginAsync<ApiDependencies> = async (plugin, { pool, runtime }) => {
  const app = plugin.withTypeProvider<ZodTypeProvider>();
  const tags = ['operators'];
  const read = { capability: 'operators.read' as const, scope: 'operator' as const };
  const write = { capability: 'operators.write' as const, scope: 'operator' as const };

  app.get(
    '/api/v1/operators',
    {
      config: { access: { capability: 'operators.read', scope: 'tenant', example: { query: { limit: '50' } } } },
      schema: {
        tags,
        summary: 'My operator and every operator below it (keyset paging: pass `next` as `after`)',
        querystring: z
          .object({
            role: z.enum(['admin', 'reseller', 'sub_reseller']).optional(),
            status: z.enum(['active', 'suspended']).optional(),
            parent_id: ID.optional(),
            limit: pageLimit(500, 100),
            after: z.string().max(400).optional(),
          })
          .strict(),
        response: { 200: z.object({ operators: z.array(operatorItem), next: z.string().nullable() }), ...errorReplies },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      await consistentWith(pool, request.headers[POSITION_HEADER], ['operators']);
      const values: unknown[] = [caller.tenant, caller.operator_id];
      const where = ['tenant = $1', operatorSubtreeSql('operator_id', 'ancestry', '$2')];
      const add = (condition: (param: string) => string, value: unknown): void => {
        values.push(value);
        where.push(condition(`$${values.length}`));
      };
      const query = request.query;
      if (query.role !== undefined) add((p) => `role = ${p}`, query.role);
      if (query.status !== undefined) add((p) => `status = ${p}`, query.status);
      if (query.parent_id !== undefined) add((p) => `parent_id = ${p}`, query.parent_id);
      if (query.after !== undefined) add((p) => `operator_id > ${p}`, decodeCursor(query.after, 1)[0]);
      const found = await pool.query<z.infer<typeof operatorItem>>(`SELECT ${OPERATOR_COLUMNS} FROM operators WHERE ${where.join(' AND ')} ORDER BY operator_id LIMIT ${query.limit + 1}`, values);
      const page = pageOf(found.rows, query.limit, (row) => [row.operator_id]);
      return { operators: page.rows, next: page.next };
    },
  );

  app.get(
    '/api/v1/operators/:operator_id',
    {
      config: { access: read },
      schema: {
        tags,
        summary: 'One operator: profile, wallet balance, terms, the packages it may sell and its children',
        params: operatorParams,
        response: {
          200: operatorItem.extend({
            packages: z.array(z.object({ package_id: z.string(), name: z.string().nullable(), wholesale_price: z.string(), effective_from: z.string() })),
            children: z.number().int(),
          }),
          ...errorReplies,
        },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      await consistentWith(pool, request.headers[POSITION_HEADER], ['operators']);
      await operatorInScope(pool, caller, request.params.operator_id);
      const operator = await pool.query<z.infer<typeof operatorItem>>(`SELECT ${OPERATOR_COLUMNS} FROM operators WHERE operator_id = $1`, [request.params.operator_id]);
      const packages = await pool.query<{ package_id: string; name: string | null; wholesale_price: string; effective_from: string }>(
        `SELECT a.package_id, p.name, a.wholesale_price::text AS wholesale_price, to_char(a.effective_from, 'YYYY-MM-DD') AS effective_from
           FROM package_assignments a LEFT JOIN packages p USING (package_id) WHERE a.operator_id = $1 ORDER BY p.name, a.package_id`,
        [request.params.operator_id],
      );
      const children = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM operators WHERE parent_id = $1', [request.params.operator_id]);
      return { ...operator.rows[0]!, packages: packages.rows, children: children.rows[0]!.n };
    },
  );

  app.post(
    '/api/v1/operators',
    {
      config: { access: { ...write, example: { body: { parent_id: ':operator_id', name: 'Example Net Reseller', billing_mode: 'prepaid', credit_limit: '0' } } } },
      schema: {
        tags,
        summary: 'Create an operator under my operator or one below it (a reseller under the ISP, a sub-reseller under a reseller)',
        body: z
          .object({
            operator_id: ID.optional(),
            parent_id: ID,
            /** Follows from the parent when left out: the ISP's children are resellers, a reseller's are sub-resellers. */
            role: z.enum(['reseller', 'sub_reseller']).optional(),
            name: text(120),
            billing_mode: z.enum(['prepaid', 'postpaid']).default('prepaid'),
            credit_limit: money.default('0'),
          })
          .strict(),
        response: { 201: commandReply(z.object({ operator_id: z.string() })), ...errorReplies },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      await consistentWith(pool, request.headers[POSITION_HEADER], ['operators']);
      await operatorInScope(pool, caller, request.body.parent_id);
      const parent = await pool.query<{ role: string }>('SELECT role FROM operators WHERE operator_id = $1', [request.body.parent_id]);
      const role = request.body.role ?? (parent.rows[0]?.role === 'admin' ? 'reseller' : 'sub_reseller');
      const operator_id = request.body.operator_id ?? newId('op');
      const result = await createOperator(runtime, envelopeOf(caller, optionalIdempotencyKey(request)), { ...request.body, operator_id, role });
      return reply.code(201).send(replyOf(result));
    },
  );

  /**
   * A command on an operator below the caller's: `below` lets any ancestor act (suspension polices the whole
   * network), `child` only the direct parent (terms, prices and the billing mode are its contract with the child).
   */
  const onChild = <Body extends z.ZodType, Value>(
    who: 'below' | 'child',
    method: 'POST' | 'PUT',
    path: string,
    summary: string,
    body: Body,
    example: unknown,
    run: (operator_id: string, body: z.infer<Body>, envelope: ReturnType<typeof envelopeOf>) => Promise<Parameters<typeof replyOf<Value>>[0]>,
  ): void => {
    app.route({
      method,
      url: `/api/v1/operators/:operator_id/${path}`,
      config: { access: { ...write, example: { body: example } } },
      schema: { tags, summary, params: operatorParams, body, response: { 200: commandReply(z.unknown()), ...errorReplies } },
      handler: async (request) => {
        const caller = callerOf(request);
        const { operator_id } = request.params as z.infer<typeof operatorParams>;
        await consistentWith(pool, request.headers[POSITION_HEADER], ['operators']);
        await (who === 'below' ? operatorBelow : operatorChildOf)(pool, caller, operator_id);
        return replyOf(await run(operator_id, request.body as z.infer<Body>, envelopeOf(caller, optionalIdempotencyKey(request))));
      },
    });
  };

  onChild('below', 'POST', 'suspend', 'Suspend an operator below me (its customers keep working; it can no longer sell)', z.object({ reason: text(200) }).strict(), { reason: 'unpaid invoices' }, (operator_id, body, envelope) =>
    suspendOperator(runtime, envelope, { operator_id, reason: body.reason }),
  );
  onChild('below', 'POST', 'reinstate', 'Lift the suspension of an operator below me', z.object({}).strict(), {}, (operator_id, _body, envelope) => reinstateOperator(runtime, envelope, { operator_id }));
  onChild(
    'child',
    'PUT',
    'billing-mode',
    'Prepaid (the wallet may not go below zero) or postpaid with a credit limit',
    z.object({ billing_mode: z.enum(['prepaid', 'postpaid']), credit_limit: money }).strict(),
    { billing_mode: 'postpaid', credit_limit: '5000' },
    (operator_id, body, envelope) => setBillingMode(runtime, envelope, { operator_id, ...body }),
  );
  onChild(
    'child',
    'PUT',
    'commission-terms',
    'How an operator directly below me earns from a date on: a share of each sale, or the difference to its wholesale prices',
    z
      .object({
        effective_from: localDay,
        terms: z.discriminatedUnion('kind', [z.object({ kind: z.literal('share'), percent: z.string().regex(/^\d{1,3}(\.\d{1,6})?$/, 'a percentage like 60 or 12.5') }).strict(), z.object({ kind: z.literal('wholesale') }).strict()]),
      })
      .strict(),
    { effective_from: '2026-11-01', terms: { kind: 'share', percent: '50' } },
    (operator_id, body, envelope) => setCommissionTerms(runtime, envelope, { operator_id, effective_from: body.effective_from, terms: body.terms }),
  );
  onChild(
    'child',
    'POST',
    'packages',
    'Let an operator directly below me sell a package, at a wholesale price not below what I pay for it',
    z.object({ package_id: ID, wholesale_price: money, effective_from: localDay }).strict(),
    { package_id: ':package_id', wholesale_price: '400.00', effective_from: '2026-11-01' },
    (operator_id, body, envelope) => assignPackage(runtime, envelope, { operator_id, ...body }),
  );

  app.post(
    '/api/v1/operators/:operator_id/wallet/top-ups',
    {
      config: { access: { ...write, example: { body: { amount: '1000.00', method: 'cash' } } } },
      schema: {
        tags,
        summary: 'Credit the wallet of an operator directly below me for money it paid me. Needs an Idempotency-Key.',
        params: operatorParams,
        body: z.object({ amount: money, method: z.enum(['cash', 'bank', 'mobile_money', 'other']), reference: text(100).optional() }).strict(),
        response: { 201: commandReply(z.object({ balance: z.string() })), ...errorReplies },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const key = requiredIdempotencyKey(request);
      await consistentWith(pool, request.headers[POSITION_HEADER], ['operators']);
      await operatorChildOf(pool, caller, request.params.operator_id);
      const result = await topUpWallet(runtime, envelopeOf(caller, key), {
        operator_id: request.params.operator_id,
        amount: request.body.amount,
        method: request.body.method,
        reference: request.body.reference ?? key,
      });
      return reply.code(201).send(replyOf(result));
    },
  );

  app.get(
    '/api/v1/operators/:operator_id/wallet',
    {
      config: { access: { ...read, example: { query: { limit: '50' } } } },
      schema: {
        tags,
        summary: 'Wallet statement: every movement with the balance after it, newest first',
        params: operatorParams,
        querystring: z.object({ limit: pageLimit(1000, 100), after: z.string().max(400).optional() }).strict(),
        response: { 200: z.object({ operator_id: z.string(), currency: z.string(), balance: z.string(), entries: z.array(walletEntry), next: z.string().nullable() }), ...errorReplies },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      await consistentWith(pool, request.headers[POSITION_HEADER], ['operators']);
      await operatorInScope(pool, caller, request.params.operator_id);
      const operator = (await pool.query<{ currency: string; balance: string }>('SELECT currency, wallet_balance::text AS balance FROM operators WHERE operator_id = $1', [request.params.operator_id])).rows[0]!;
      const values: unknown[] = [request.params.operator_id];
      let before = '';
      if (request.query.after !== undefined) {
        const position = cursorPosition(decodeCursor(request.query.after, 1)[0]!);
        values.push(position);
        before = 'AND global_position < $2';
      }
      const found = await pool.query<z.infer<typeof walletEntry>>(
        `SELECT global_position::text AS global_position, ${instantSql('at')} AS at, kind, reason, amount::text AS amount, balance_after::text AS balance_after,
                customer_id, payment_id, reference, recorded_by
           FROM wallet_entries WHERE operator_id = $1 ${before} ORDER BY global_position DESC LIMIT ${request.query.limit + 1}`,
        values,
      );
      const page = pageOf(found.rows, request.query.limit, (row) => [row.global_position]);
      return { operator_id: request.params.operator_id, currency: operator.currency, balance: operator.balance, entries: page.rows, next: page.next };
    },
  );

  app.get(
    '/api/v1/operators/:operator_id/commission',
    {
      config: { access: { ...read, example: { query: { from: '2026-11-01', to: '2026-11-30' } } } },
      schema: {
        tags,
        summary: "Commission statement: what the operator earned on each payment and had clawed back on refunds, in a period of its calendar",
        params: operatorParams,
        querystring: z.object({ from: localDay.optional(), to: localDay.optional(), limit: pageLimit(10_000, 1000), after: z.string().max(400).optional() }).strict(),
        response: {
          200: z.object({
            operator_id: z.string(),
            currency: z.string(),
            from: z.string().nullable(),
            to: z.string().nullable(),
            totals: z.object({ commission: z.string(), clawback: z.string(), net: z.string() }),
            lines: z.array(commissionLine),
            next: z.string().nullable(),
          }),
          ...errorReplies,
        },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      const { from, to, limit, after } = request.query;
      if (from !== undefined && to !== undefined && from > to) throw new ApiError('INVALID_INPUT', `the period starts (${from}) after it ends (${to})`);
      await consistentWith(pool, request.headers[POSITION_HEADER], ['operators']);
      await operatorInScope(pool, caller, request.params.operator_id);
      const operator = (await pool.query<{ currency: string; time_zone: string }>('SELECT currency, time_zone FROM operators WHERE operator_id = $1', [request.params.operator_id])).rows[0]!;
      // The period is in the operator's calendar: from its local midnight to the local midnight after `to`.
      const period = `operator_id = $1 AND ($2::date IS NULL OR at >= ($2::date)::timestamp AT TIME ZONE $4) AND ($3::date IS NULL OR at < ($3::date + 1)::timestamp AT TIME ZONE $4)`;
      const values: unknown[] = [request.params.operator_id, from ?? null, to ?? null, operator.time_zone];
      const totals = await pool.query<{ commission: string; clawback: string; net: string }>(
        `SELECT COALESCE(sum(amount) FILTER (WHERE kind = 'commission'), 0)::text AS commission, COALESCE(sum(amount) FILTER (WHERE kind = 'clawback'), 0)::text AS clawback,
                COALESCE(sum(amount), 0)::text AS net
           FROM commission_lines WHERE ${period}`,
        values,
      );
      let cursor = '';
      if (after !== undefined) {
        const position = cursorPosition(decodeCursor(after, 1)[0]!);
        values.push(position);
        cursor = 'AND global_position > $5';
      }
      const lines = await pool.query<z.infer<typeof commissionLine>>(
        `SELECT global_position::text AS global_position, ${instantSql('at')} AS at, kind, customer_id, payment_id, refund_id, amount::text AS amount
           FROM commission_lines WHERE ${period} ${cursor} ORDER BY global_position LIMIT ${limit + 1}`,
        values,
      );
      const page = pageOf(lines.rows, limit, (row) => [row.global_position]);
      const sums = totals.rows[0]!;
      const fixed = (amount: string): string => fixedAmount(amount, operator.currency);
      return {
        operator_id: request.params.operator_id,
        currency: operator.currency,
        from: from ?? null,
        to: to ?? null,
        totals: { commission: fixed(sums.commission), clawback: fixed(sums.clawback), net: fixed(sums.net) },
        lines: page.rows,
        next: page.next,
      };
    },
  );
};

/** A sum from SQL written with the currency's minor digits, as every amount in the API is. */
const fixedAmount = (amount: string, currency: string): string => Money.parse(amount, currency).toString();
