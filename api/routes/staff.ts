import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type pg from 'pg';
import { z } from 'zod';
import { addStaff, removeStaff, setStaffPermissions } from '../../commands/operator-commands.js';
import { MANAGER_PERMISSIONS } from '../../domain/staff/staff.js';
import { envelopeOf, type Caller } from '../access/caller.js';
import { callerOf } from '../access/route-access.js';
import type { ApiDependencies } from '../dependencies.js';
import { ApiError, errorReplies } from '../errors.js';
import { consistentWith, operatorInScope, POSITION_HEADER } from '../scope.js';
import { commandReply, ID, optionalIdempotencyKey, replyOf } from './command-reply.js';
import { decodeCursor, newId, operatorSubtreeSql, pageLimit, pageOf, text } from './route-kit.js';

/**
 * Staff accounts of the operators in my subtree: managers (with the permissions their operator chose),
 * accountants, auditors and card distributors. Reading them is operators.read; changing them is staff.manage.
 */
const staffItem = z.object({
  staff_id: z.string(),
  operator_id: z.string(),
  role: z.string(),
  name: z.string(),
  permissions: z.array(z.string()),
  removed: z.boolean(),
});

const staffParams = z.object({ staff_id: ID });
const permissions = z.array(z.enum(MANAGER_PERMISSIONS)).max(MANAGER_PERMISSIONS.length);

/** A staff member of an operator in the caller's subtree; anyone else's reads as absent. */
async function staffInScope(pool: pg.Pool, caller: Caller, staff_id: string): Promise<void> {
  const found = await pool.query(
    `SELECT 1 FROM staff s JOIN operators o ON o.operator_id = s.operator_id
      WHERE s.staff_id = $1 AND s.tenant = $2 AND ${operatorSubtreeSql('o.operator_id', 'o.ancestry', '$3')}`,
    [staff_id, caller.tenant, caller.operator_id],
  );
  if (found.rowCount === 0) throw new ApiError('STAFF_NOT_FOUND', `no staff member ${staff_id} in your part of the network`);
}

export const staffRoutes: FastifyPluginAsync<ApiDependencies> = async (plugin, { pool, runtime }) => {
  const app = plugin.withTypeProvider<ZodTypeProvider>();
  const tags = ['staff'];
  const COLUMNS = 's.staff_id, s.operator_id, s.role, s.name, s.permissions, s.removed';

  app.get(
    '/api/v1/staff',
    {
      config: { access: { capability: 'operators.read', scope: 'tenant', example: { query: { include_removed: 'false' } } } },
      schema: {
        tags,
        summary: 'Staff of my operator and the operators below it',
        querystring: z
          .object({
            operator_id: ID.optional(),
            role: z.enum(['manager', 'accountant', 'auditor', 'card_distributor']).optional(),
            include_removed: z.enum(['true', 'false']).default('false'),
            limit: pageLimit(500, 100),
            after: z.string().max(400).optional(),
          })
          .strict(),
        response: { 200: z.object({ staff: z.array(staffItem), next: z.string().nullable() }), ...errorReplies },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      await consistentWith(pool, request.headers[POSITION_HEADER], ['operators']);
      const values: unknown[] = [caller.tenant, caller.operator_id];
      const where = ['s.tenant = $1', operatorSubtreeSql('o.operator_id', 'o.ancestry', '$2')];
      const add = (condition: (param: string) => string, value: unknown): void => {
        values.push(value);
        where.push(condition(`$${values.length}`));
      };
      const query = request.query;
      if (query.operator_id !== undefined) add((p) => `s.operator_id = ${p}`, query.operator_id);
      if (query.role !== undefined) add((p) => `s.role = ${p}`, query.role);
      if (query.include_removed === 'false') where.push('NOT s.removed');
      if (query.after !== undefined) add((p) => `s.staff_id > ${p}`, decodeCursor(query.after, 1)[0]);
      const found = await pool.query<z.infer<typeof staffItem>>(
        `SELECT ${COLUMNS} FROM staff s JOIN operators o ON o.operator_id = s.operator_id WHERE ${where.join(' AND ')} ORDER BY s.staff_id LIMIT ${query.limit + 1}`,
        values,
      );
      const page = pageOf(found.rows, query.limit, (row) => [row.staff_id]);
      return { staff: page.rows, next: page.next };
    },
  );

  app.get(
    '/api/v1/staff/:staff_id',
    {
      config: { access: { capability: 'operators.read', scope: 'operator' } },
      schema: { tags, summary: 'One staff member', params: staffParams, response: { 200: staffItem, ...errorReplies } },
    },
    async (request) => {
      const caller = callerOf(request);
      await consistentWith(pool, request.headers[POSITION_HEADER], ['operators']);
      await staffInScope(pool, caller, request.params.staff_id);
      return (await pool.query<z.infer<typeof staffItem>>(`SELECT ${COLUMNS} FROM staff s WHERE s.staff_id = $1`, [request.params.staff_id])).rows[0]!;
    },
  );

  app.post(
    '/api/v1/staff',
    {
      config: { access: { capability: 'staff.manage', scope: 'operator', example: { body: { operator_id: ':operator_id', role: 'manager', name: 'Front desk', permissions: ['customers.read', 'payments.collect'] } } } },
      schema: {
        tags,
        summary: 'Add a staff member to my operator or one below it (give it a login with POST /api/v1/logins)',
        body: z
          .object({
            staff_id: ID.optional(),
            operator_id: ID,
            role: z.enum(['manager', 'accountant', 'auditor', 'card_distributor']),
            name: text(120),
            /** Managers only: what they may do. The other roles have fixed rights. */
            permissions: permissions.default([]),
          })
          .strict(),
        response: { 201: commandReply(z.object({ staff_id: z.string() })), ...errorReplies },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      await consistentWith(pool, request.headers[POSITION_HEADER], ['operators']);
      await operatorInScope(pool, caller, request.body.operator_id);
      const staff_id = request.body.staff_id ?? newId('staff');
      const result = await addStaff(runtime, envelopeOf(caller, optionalIdempotencyKey(request)), { ...request.body, staff_id });
      return reply.code(201).send(replyOf(result));
    },
  );

  app.put(
    '/api/v1/staff/:staff_id/permissions',
    {
      config: { access: { capability: 'staff.manage', scope: 'operator', example: { body: { permissions: [] } } } },
      schema: {
        tags,
        summary: "Set a manager's permissions (all of them: what is left out is taken away); applies to its sessions at once",
        params: staffParams,
        body: z.object({ permissions }).strict(),
        response: { 200: commandReply(z.null()), ...errorReplies },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      await consistentWith(pool, request.headers[POSITION_HEADER], ['operators']);
      await staffInScope(pool, caller, request.params.staff_id);
      return replyOf(await setStaffPermissions(runtime, envelopeOf(caller, optionalIdempotencyKey(request)), { staff_id: request.params.staff_id, permissions: request.body.permissions }));
    },
  );

  app.delete(
    '/api/v1/staff/:staff_id',
    {
      config: { access: { capability: 'staff.manage', scope: 'operator' } },
      schema: { tags, summary: 'Remove a staff member; its login stops working at once', params: staffParams, response: { 200: commandReply(z.null()), ...errorReplies } },
    },
    async (request) => {
      const caller = callerOf(request);
      await consistentWith(pool, request.headers[POSITION_HEADER], ['operators']);
      await staffInScope(pool, caller, request.params.staff_id);
      return replyOf(await removeStaff(runtime, envelopeOf(caller, optionalIdempotencyKey(request)), { staff_id: request.params.staff_id }));
    },
  );
};
