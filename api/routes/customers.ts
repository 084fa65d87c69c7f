import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  bindMac,
  changeCustomerDetails,
  changePackage,
  disableCustomer,
  enableCustomer,
  moveCustomer,
  registerCustomer,
  resumeCustomer,
  setExpiry,
  setSpecialPrice,
  suspendCustomer,
  switchBillingProfile,
} from '../../commands/customer-commands.js';
import { receivePayment, refundPayment } from '../../commands/payment-commands.js';
import { CustomerSearchSchema, searchCustomers } from '../../projections/queries/customer-search.js';
import { callerOf } from '../access/route-access.js';
import { envelopeOf } from '../access/caller.js';
import type { ApiDependencies } from '../dependencies.js';
import { errorReplies } from '../errors.js';
import { consistentWith, customerInScope, operatorInScope, POSITION_HEADER } from '../scope.js';
import { commandReply, ID, optionalIdempotencyKey, replyOf, requiredIdempotencyKey } from './command-reply.js';

/** Customers: search and read within the caller's subtree, and every command on one customer. */
const money = z.string().regex(/^\d{1,15}(\.\d{1,4})?$/, 'an amount like 500 or 500.00');
const profile = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('daily') }).strict(),
  z.object({ kind: z.literal('monthly'), due_day: z.number().int().min(1).max(31), mode: z.enum(['prepaid', 'postpaid']), grace_days: z.number().int().min(0).max(60) }).strict(),
]);

const customerItem = z.object({
  customer_id: z.string(),
  name: z.string(),
  username: z.string().nullable(),
  mobile: z.string(),
  mac: z.string().nullable(),
  static_ip: z.string().nullable(),
  operator_id: z.string(),
  zone: z.string(),
  package_id: z.string(),
  status: z.string(),
  expires_at: z.string().nullable(),
  balance_due: z.string(),
  credit: z.string(),
});

const timelineLine = z.object({
  event: z.string(),
  type: z.string(),
  at: z.string(),
  actor: z.string(),
  status_before: z.string().nullable(),
  status_after: z.string(),
  summary: z.string(),
  refs: z.unknown(),
});

const customerParams = z.object({ customer_id: ID });

export const customerRoutes: FastifyPluginAsync<ApiDependencies> = async (plugin, { pool, runtime }) => {
  const app = plugin.withTypeProvider<ZodTypeProvider>();
  const tags = ['customers'];
  const read = { config: { access: { capability: 'customers.read' as const, scope: 'customer' as const } } };

  app.get(
    '/api/v1/customers',
    {
      config: { access: { capability: 'customers.read', scope: 'tenant' } },
      schema: {
        tags,
        summary: 'Search customers in my part of the network (keyset paging: pass `next` as `after`)',
        querystring: CustomerSearchSchema.omit({ tenant: true, within_operator_id: true, limit: true }).extend({ limit: z.coerce.number().int().min(1).max(200).default(50) }),
        response: { 200: z.object({ customers: z.array(customerItem), next: z.string().nullable() }), ...errorReplies },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      await consistentWith(pool, request.headers[POSITION_HEADER], ['customers']);
      const page = await searchCustomers(pool, { ...request.query, tenant: caller.tenant, within_operator_id: caller.operator_id });
      return { customers: [...page.customers], next: page.next };
    },
  );

  app.get(
    '/api/v1/customers/:customer_id',
    { ...read, schema: { tags, summary: 'One customer as the read model has it', params: customerParams, response: { 200: customerItem.extend({ chain: z.array(z.string()), connection_type: z.string(), billing_profile: z.string() }), ...errorReplies } } },
    async (request) => {
      const caller = callerOf(request);
      await consistentWith(pool, request.headers[POSITION_HEADER], ['customers']);
      await customerInScope(pool, caller, request.params.customer_id);
      const found = await pool.query(
        `SELECT customer_id, name, username, mobile, mac, static_ip, operator_id, zone, package_id, status, chain, connection_type, billing_profile,
                to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS expires_at, balance_due::text, credit::text
           FROM customers WHERE customer_id = $1`,
        [request.params.customer_id],
      );
      return found.rows[0];
    },
  );

  app.get(
    '/api/v1/customers/:customer_id/timeline',
    { ...read, schema: { tags, summary: 'Why the account is in its state: every event with status before and after', params: customerParams, response: { 200: z.object({ timeline: z.array(timelineLine) }), ...errorReplies } } },
    async (request) => {
      const caller = callerOf(request);
      await consistentWith(pool, request.headers[POSITION_HEADER], ['customers']);
      await customerInScope(pool, caller, request.params.customer_id);
      const found = await pool.query(
        `SELECT global_position::text AS event, type, to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at, actor, status_before, status_after, summary, refs
           FROM customer_timeline WHERE customer_id = $1 ORDER BY global_position LIMIT 1000`,
        [request.params.customer_id],
      );
      return { timeline: found.rows };
    },
  );

  app.post(
    '/api/v1/customers',
    {
      config: {
        access: {
          capability: 'customers.write',
          scope: 'operator',
          example: {
            body: { operator_id: ':operator_id', connection_type: 'pppoe', name: 'Rahim Uddin', mobile: '+8801712345678', zone: 'Mirpur', username: 'rahim.mirpur', password: 'pppoe-secret', package_id: ':package_id', profile: { kind: 'daily' } },
          },
        },
      },
      schema: {
        tags,
        summary: 'Register a customer under an operator of my subtree',
        body: z
          .object({
            customer_id: ID.optional(),
            operator_id: z.string().min(1),
            connection_type: z.enum(['pppoe', 'hotspot', 'static_ip']),
            name: z.string().min(1).max(120),
            mobile: z.string().min(3).max(20),
            zone: z.string().min(1).max(64),
            username: z.string().max(64).nullable().default(null),
            password: z.string().max(128).nullable().default(null),
            mac: z.string().max(17).nullable().default(null),
            static_ip: z.string().max(45).nullable().default(null),
            package_id: z.string().min(1),
            profile,
            special_price: money.nullable().default(null),
          })
          .strict(),
        response: { 201: commandReply(z.object({ customer_id: z.string() })), ...errorReplies },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      await consistentWith(pool, request.headers[POSITION_HEADER], ['operators']);
      await operatorInScope(pool, caller, request.body.operator_id);
      const customer_id = request.body.customer_id ?? `cus-${randomUUID().slice(0, 12)}`;
      const result = await registerCustomer(runtime, envelopeOf(caller, optionalIdempotencyKey(request)), { ...request.body, customer_id, self_registered: false });
      return reply.code(201).send(replyOf(result));
    },
  );

  /** A command on one customer in my subtree; the body is validated by its schema, the rules by the domain. */
  const onCustomer = <Body extends z.ZodType>(
    path: string,
    capability: 'customers.write' | 'customers.suspend' | 'customers.recharge',
    summary: string,
    body: Body,
    example: z.input<Body>,
    run: (customer_id: string, body: z.infer<Body>, envelope: ReturnType<typeof envelopeOf>) => Promise<Parameters<typeof replyOf>[0]>,
  ): void => {
    app.post(
      `/api/v1/customers/:customer_id/${path}`,
      { config: { access: { capability, scope: 'customer', example: { body: example } } }, schema: { tags, summary, params: customerParams, body, response: { 200: commandReply(z.unknown()), ...errorReplies } } },
      async (request) => {
        const caller = callerOf(request);
        await consistentWith(pool, request.headers[POSITION_HEADER], ['customers']);
        await customerInScope(pool, caller, request.params.customer_id);
        return replyOf(await run(request.params.customer_id, request.body as z.infer<Body>, envelopeOf(caller, optionalIdempotencyKey(request))));
      },
    );
  };
  const reason = z.object({ reason: z.string().trim().min(1).max(200) }).strict();
  const nothing = z.object({}).strict();
  onCustomer('details', 'customers.write', 'Change name, mobile and zone', z.object({ name: z.string().min(1).max(120), mobile: z.string().min(3).max(20), zone: z.string().min(1).max(64) }).strict(), { name: 'Rahim Uddin', mobile: '+8801712345678', zone: 'Mirpur' }, (customer_id, body, envelope) =>
    changeCustomerDetails(runtime, envelope, { customer_id, ...body }),
  );
  onCustomer('suspend', 'customers.suspend', 'Suspend (RADIUS and the router act on it at once)', reason, { reason: 'unpaid' }, (customer_id, body, envelope) => suspendCustomer(runtime, envelope, { customer_id, reason: body.reason }));
  onCustomer('resume', 'customers.suspend', 'Lift a suspension', nothing, {}, (customer_id, _body, envelope) => resumeCustomer(runtime, envelope, { customer_id }));
  onCustomer('disable', 'customers.write', 'Disable the account', reason, { reason: 'moved away' }, (customer_id, body, envelope) => disableCustomer(runtime, envelope, { customer_id, reason: body.reason }));
  onCustomer('enable', 'customers.write', 'Enable a disabled account', nothing, {}, (customer_id, _body, envelope) => enableCustomer(runtime, envelope, { customer_id }));
  onCustomer('mac', 'customers.write', 'Bind a MAC address (or move the binding)', z.object({ mac: z.string().min(12).max(17) }).strict(), { mac: '00:11:22:33:44:55' }, (customer_id, body, envelope) => bindMac(runtime, envelope, { customer_id, mac: body.mac }));
  onCustomer('package', 'customers.write', 'Change package, with proration', z.object({ package_id: z.string().min(1) }).strict(), { package_id: ':package_id' }, (customer_id, body, envelope) => changePackage(runtime, envelope, { customer_id, package_id: body.package_id }));
  onCustomer('special-price', 'customers.write', 'Set or clear a special price', z.object({ special_price: money.nullable() }).strict(), { special_price: '450.00' }, (customer_id, body, envelope) =>
    setSpecialPrice(runtime, envelope, { customer_id, special_price: body.special_price }),
  );
  onCustomer('billing-profile', 'customers.write', 'Switch between daily and monthly billing', z.object({ profile }).strict(), { profile: { kind: 'daily' } }, (customer_id, body, envelope) => switchBillingProfile(runtime, envelope, { customer_id, profile: body.profile }));
  onCustomer('expiry', 'customers.write', 'Set the expiry date by hand (a correction, with a reason)', z.object({ expires_on: z.iso.date(), reason: z.string().trim().min(1).max(200) }).strict(), { expires_on: '2026-12-31', reason: 'goodwill after an outage' }, (customer_id, body, envelope) =>
    setExpiry(runtime, envelope, { customer_id, expires_on: body.expires_on, reason: body.reason }),
  );

  app.post(
    '/api/v1/customers/:customer_id/move',
    {
      config: { access: { capability: 'customers.write', scope: 'customer', example: { body: { to_operator_id: ':operator_id' } } } },
      schema: { tags, summary: 'Move the customer to another operator of my subtree', params: customerParams, body: z.object({ to_operator_id: z.string().min(1) }).strict(), response: { 200: commandReply(z.unknown()), ...errorReplies } },
    },
    async (request) => {
      const caller = callerOf(request);
      await consistentWith(pool, request.headers[POSITION_HEADER], ['customers', 'operators']);
      await customerInScope(pool, caller, request.params.customer_id);
      await operatorInScope(pool, caller, request.body.to_operator_id);
      return replyOf(await moveCustomer(runtime, envelopeOf(caller), { customer_id: request.params.customer_id, to_operator_id: request.body.to_operator_id, mover_operator_id: caller.operator_id }));
    },
  );

  app.post(
    '/api/v1/customers/:customer_id/payments',
    {
      config: { access: { capability: 'payments.collect', scope: 'customer', example: { body: { amount: '500.00', method: 'cash' } } } },
      schema: {
        tags: ['payments'],
        summary: 'Record money I collected (cash, or from my reseller wallet); recharges a daily customer. Needs an Idempotency-Key.',
        params: customerParams,
        body: z
          .object({
            amount: money,
            method: z.enum(['cash', 'reseller_wallet']),
            recharge_package_id: z.string().min(1).nullable().default(null),
          })
          .strict(),
        response: { 201: commandReply(z.unknown()), ...errorReplies },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const key = requiredIdempotencyKey(request);
      await consistentWith(pool, request.headers[POSITION_HEADER], ['customers']);
      await customerInScope(pool, caller, request.params.customer_id);
      const result = await receivePayment(runtime, envelopeOf(caller, key), {
        customer_id: request.params.customer_id,
        // The same key must name the same payment, so the id is derived from it.
        payment_id: `pay-${key}`.slice(0, 64),
        method: request.body.method,
        amount: request.body.amount,
        collected_by: caller.principal_id,
        collector_operator_id: caller.operator_id,
        gateway: null,
        gateway_reference: null,
        card: null,
        recharge_package_id: request.body.recharge_package_id,
      });
      return reply.code(201).send(replyOf(result));
    },
  );

  app.post(
    '/api/v1/customers/:customer_id/refunds',
    {
      config: { access: { capability: 'payments.refund', scope: 'customer', example: { body: { payment_id: ':payment_id', amount: '10.00', reason: 'charged twice' } } } },
      schema: {
        tags: ['payments'],
        summary: 'Refund (part of) a payment; commission is clawed back along the chain. Needs a passkey step-up and an Idempotency-Key.',
        params: customerParams,
        body: z.object({ payment_id: z.string().min(1), amount: money, reason: z.string().trim().min(1).max(200) }).strict(),
        response: { 201: commandReply(z.unknown()), ...errorReplies },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const key = requiredIdempotencyKey(request);
      await consistentWith(pool, request.headers[POSITION_HEADER], ['customers']);
      await customerInScope(pool, caller, request.params.customer_id);
      const result = await refundPayment(runtime, envelopeOf(caller, key), {
        customer_id: request.params.customer_id,
        refund_id: `ref-${key}`.slice(0, 64),
        payment_id: request.body.payment_id,
        amount: request.body.amount,
        reason: request.body.reason,
        by: caller.principal_id,
      });
      return reply.code(201).send(replyOf(result));
    },
  );

};
