import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { callerOf } from '../access/route-access.js';
import type { ApiDependencies } from '../dependencies.js';
import { ApiError, errorReplies } from '../errors.js';
import { OnlinePayments } from '../gateways/online-payments.js';
import { gatewaySettingsFrom } from '../gateways/settings.js';
import { Sslcommerz, SSLCOMMERZ } from '../gateways/sslcommerz.js';
import { customerInScope } from '../scope.js';
import { ID } from './command-reply.js';

/**
 * Online payments: a customer (from the portal) or a cashier (for a customer of their subtree) starts one and
 * gets the gateway's payment page; the gateway's notification and the customer's browser come back to the
 * public callback routes, which record the payment once (see api/gateways/online-payments.ts).
 *
 * The gateways are configured from the environment (api/gateways/settings.ts). A gateway that is not
 * configured answers NOT_PERMITTED (403) on its routes, which exist on every server all the same, so the routes
 * and their access rules do not depend on the configuration.
 */
/** The gateways this server knows; each is on when configured (see api/gateways/settings.ts). */
const GATEWAYS = [SSLCOMMERZ] as const;
const money = z.string().regex(/^\d{1,15}(\.\d{1,4})?$/, 'an amount like 500 or 500.00');
const startBody = z
  .object({
    amount: money,
    /** Daily customers: buy a recharge of this package with the payment; null pays bills or adds credit. */
    recharge_package_id: ID.nullable().default(null),
    gateway: z.enum(GATEWAYS).default(SSLCOMMERZ),
  })
  .strict();
const startedReply = z.object({ tran_id: z.string(), gateway: z.string(), redirect_url: z.string(), amount: z.string(), currency: z.string(), status: z.string() });
const sessionItem = z.object({
  tran_id: z.string(),
  gateway: z.string(),
  customer_id: z.string(),
  amount: z.string(),
  currency: z.string(),
  recharge_package_id: z.string().nullable(),
  status: z.string(),
  payment_id: z.string().nullable(),
  detail: z.string().nullable(),
  created_at: z.string(),
  paid_at: z.string().nullable(),
});
/** A gateway's callback: flat text fields, a bounded number of them (form-encoded, or JSON from tools). */
const callbackBody = z
  .record(z.string().max(64), z.string().max(2_000))
  .refine((fields) => Object.keys(fields).length <= 200, 'at most 200 fields');
const receivedReply = z.object({ tran_id: z.string(), outcome: z.string(), payment_id: z.string().nullable(), position: z.string().nullable() });

/** Callback bodies are a few kilobytes of form fields. */
const CALLBACK_BODY_LIMIT_BYTES = 64 * 1024;

export const gatewayRoutes: FastifyPluginAsync<ApiDependencies> = async (plugin, { pool, runtime, clock, settings }) => {
  const app = plugin.withTypeProvider<ZodTypeProvider>();
  const configured = gatewaySettingsFrom(process.env);
  const origin = configured.callback_origin ?? settings.origin;
  const gateways = new Map<string, OnlinePayments>();
  if (configured.sslcommerz !== null) {
    gateways.set(
      SSLCOMMERZ,
      new OnlinePayments({
        pool,
        runtime,
        clock,
        gateway: new Sslcommerz(configured.sslcommerz),
        callback_origin: origin,
        return_url: `${settings.origin}${configured.return_path}`,
        fallback_email: `noreply@${settings.rp_id}`,
      }),
    );
  }
  const gatewayNamed = (name: string): OnlinePayments => {
    const found = gateways.get(name);
    // A refusal of this server's set-up, not a missing thing: the same answer whoever asks about whichever customer.
    if (found === undefined) throw new ApiError('NOT_PERMITTED', `online payments by ${name} are not set up on this server (an operator sets SSLCOMMERZ_STORE_ID and SSLCOMMERZ_STORE_PASSWORD; see README "Online payments")`);
    return found;
  };

  // Gateways post their callbacks form-encoded; this parser is scoped to this plugin's routes.
  plugin.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: CALLBACK_BODY_LIMIT_BYTES }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  const tags = ['payments'];

  app.post(
    '/api/v1/customers/:customer_id/online-payments',
    {
      config: { access: { capability: 'payments.collect', scope: 'customer', example: { body: { amount: '500.00', recharge_package_id: null } } } },
      schema: {
        tags,
        summary: "Start an online payment for a customer of my subtree; send the customer's browser to redirect_url",
        params: z.object({ customer_id: ID }),
        body: startBody,
        response: { 201: startedReply, ...errorReplies },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      await customerInScope(pool, caller, request.params.customer_id);
      const started = await gatewayNamed(request.body.gateway).start({ id: caller.principal_id, role: caller.role }, caller.tenant, { ...request.body, customer_id: request.params.customer_id });
      return reply.code(201).send(started);
    },
  );

  app.post(
    '/api/v1/me/online-payments',
    {
      config: { access: { capability: 'self.read', scope: 'self', example: { body: { amount: '500.00', recharge_package_id: null } } } },
      schema: { tags, summary: 'Pay online for my own account (the customer portal); go to redirect_url to pay', body: startBody, response: { 201: startedReply, ...errorReplies } },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      if (caller.principal_kind !== 'customer') throw new ApiError('FORBIDDEN', 'this is the customer portal’s route; staff start a payment under /api/v1/customers/{customer_id}/online-payments');
      await customerInScope(pool, caller, caller.principal_id);
      const started = await gatewayNamed(request.body.gateway).start({ id: caller.principal_id, role: caller.role }, caller.tenant, { ...request.body, customer_id: caller.principal_id });
      return reply.code(201).send(started);
    },
  );

  /** Every configured gateway's sessions for a customer, newest first (nothing when none is configured). */
  const sessionsOf = async (tenant: string, customer_id: string) => (await Promise.all([...gateways.values()].map((gateway) => gateway.list(tenant, customer_id)))).flat().sort((a, b) => b.created_at.localeCompare(a.created_at));

  app.get(
    '/api/v1/customers/:customer_id/online-payments',
    {
      config: { access: { capability: 'customers.read', scope: 'customer' } },
      schema: { tags, summary: "A customer's online payments, newest first, with what became of each", params: z.object({ customer_id: ID }), response: { 200: z.object({ online_payments: z.array(sessionItem) }), ...errorReplies } },
    },
    async (request) => {
      const caller = callerOf(request);
      await customerInScope(pool, caller, request.params.customer_id);
      return { online_payments: await sessionsOf(caller.tenant, request.params.customer_id) };
    },
  );

  app.get(
    '/api/v1/me/online-payments',
    {
      config: { access: { capability: 'self.read', scope: 'self' } },
      schema: { tags, summary: 'My online payments, newest first', response: { 200: z.object({ online_payments: z.array(sessionItem) }), ...errorReplies } },
    },
    async (request) => {
      const caller = callerOf(request);
      if (caller.principal_kind !== 'customer') throw new ApiError('FORBIDDEN', 'this is the customer portal’s route');
      return { online_payments: await sessionsOf(caller.tenant, caller.principal_id) };
    },
  );

  /**
   * The callbacks, at fixed URLs per gateway (what the session told the gateway): its IPN, and the customer's
   * browser back on success, failure or cancellation. Which of the return URLs the browser came to is not
   * trusted; the signed status in the fields decides. The example is a notification's shape, not a valid one:
   * only the gateway can sign.
   */
  const notification = { tran_id: 'ib00000000000000000000000000', status: 'FAILED', verify_key: 'status,tran_id', verify_sign: '00000000000000000000000000000000' };
  for (const name of GATEWAYS) {
    const paths = OnlinePayments.callbackPaths(name);
    app.post(
      paths.ipn,
      {
        // Public: the gateway calls it. Authenticated by the callback's signature, then confirmed with the gateway.
        config: { access: { capability: 'public', scope: 'none', example: { body: notification } } },
        schema: {
          tags,
          summary: `${name}'s payment notification (IPN); records the payment once however often and in whatever order it comes`,
          body: callbackBody,
          response: { 200: receivedReply, ...errorReplies },
        },
      },
      async (request) => gatewayNamed(name).receive(request.body),
    );
    for (const result of ['success', 'fail', 'cancel'] as const) {
      app.post(
        paths[result],
        {
          config: { access: { capability: 'public', scope: 'none', example: { body: notification } } },
          schema: {
            tags,
            summary: `The customer's browser back from ${name} (${result}): the same check and recording as the IPN, then a redirect (303) to the portal`,
            body: callbackBody,
            response: { 303: z.null(), ...errorReplies },
          },
        },
        async (request, reply) => {
          const gateway = gatewayNamed(name);
          const received = await gateway.receive(request.body);
          return reply.code(303).header('location', gateway.returnUrl(received.tran_id, received.outcome)).send(null);
        },
      );
    }
  }
};
