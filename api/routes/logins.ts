import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { callerOf } from '../access/route-access.js';
import { createLogin } from '../access/logins.js';
import type { ApiDependencies } from '../dependencies.js';
import { ApiError, errorReplies } from '../errors.js';
import { consistentWith, customerInScope, operatorInScope, POSITION_HEADER } from '../scope.js';
import { ID } from './command-reply.js';

/** Logins for the operators, staff and customers of my subtree. */
export const loginRoutes: FastifyPluginAsync<ApiDependencies> = async (plugin, { pool, clock }) => {
  const app = plugin.withTypeProvider<ZodTypeProvider>();
  app.post(
    '/api/v1/logins',
    {
      config: {
        access: { capability: 'logins.manage', scope: 'customer', example: { body: { login: 'rahim@portal', password: 'a long portal password', principal_kind: 'customer', principal_id: ':customer_id' } } },
      },
      schema: {
        tags: ['auth'],
        summary: 'Give an operator, staff member or customer of my subtree a login',
        body: z.object({ login: z.string().min(3).max(100), password: z.string().min(1).max(200), principal_kind: z.enum(['operator', 'staff', 'customer']), principal_id: ID }).strict(),
        response: { 201: z.object({ login_id: z.string(), role: z.string(), operator_id: z.string() }), ...errorReplies },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      // The principal is looked up in the read models: a client that just created it says so with X-Consistent-With.
      await consistentWith(pool, request.headers[POSITION_HEADER], ['customers', 'operators']);
      const { principal_kind, principal_id } = request.body;
      if (principal_kind === 'customer') await customerInScope(pool, caller, principal_id);
      else if (principal_kind === 'operator') await operatorInScope(pool, caller, principal_id);
      else {
        const staff = await pool.query<{ operator_id: string }>('SELECT operator_id FROM staff WHERE staff_id = $1 AND tenant = $2', [principal_id, caller.tenant]);
        if (staff.rows[0] === undefined) throw new ApiError('STAFF_NOT_FOUND', `no staff member ${principal_id} in your part of the network`);
        await operatorInScope(pool, caller, staff.rows[0].operator_id);
      }
      // Nobody hands out a login that sees more than their own.
      if (principal_kind === 'operator' && principal_id === caller.operator_id && caller.principal_kind !== 'operator') {
        throw new ApiError('FORBIDDEN', "staff cannot create a login for their operator's owner");
      }
      return reply.code(201).send(await createLogin(pool, clock, { tenant: caller.tenant, ...request.body }));
    },
  );
};
