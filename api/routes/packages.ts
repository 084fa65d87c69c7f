import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { createPackage, retirePackage, updatePackage } from '../../commands/customer-commands.js';
import { envelopeOf } from '../access/caller.js';
import { callerOf } from '../access/route-access.js';
import type { ApiDependencies } from '../dependencies.js';
import { ApiError, errorReplies } from '../errors.js';
import { consistentWith, POSITION_HEADER } from '../scope.js';
import { commandReply, ID, optionalIdempotencyKey, replyOf } from './command-reply.js';
import { atIspLevel, decodeCursor, money, newId, pageLimit, pageOf, text } from './route-kit.js';

/**
 * The package catalogue. The ISP level sees every package of the ISP; a reseller (and its staff) sees the
 * packages its parent assigned to it, with what it pays for them. Only the ISP creates, changes and retires
 * packages (packages.write).
 */
const rate = z.number().int().min(1).max(100_000_000);
const spec = z
  .object({
    name: text(80),
    down_kbps: rate,
    up_kbps: rate,
    burst: z.object({ down_kbps: rate, up_kbps: rate, threshold_down_kbps: rate, threshold_up_kbps: rate, time_seconds: z.number().int().min(1).max(3600) }).strict().nullable().default(null),
    price: money,
    validity_days: z.number().int().min(1).max(3660),
    ip_pool: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'a RouterOS pool name'),
    data_quota_mb: z.number().int().min(1).max(100_000_000).nullable().default(null),
  })
  .strict();

const packageItem = z.object({
  package_id: z.string(),
  name: z.string(),
  down_kbps: z.number(),
  up_kbps: z.number(),
  burst: z.unknown().nullable(),
  price: z.string(),
  currency: z.string(),
  validity_days: z.number(),
  ip_pool: z.string(),
  data_quota_mb: z.number().nullable(),
  retired: z.boolean(),
  /** What my operator pays its parent for it; null at the ISP level. */
  wholesale_price: z.string().nullable(),
});

const COLUMNS = `p.package_id, p.name, p.down_kbps, p.up_kbps, p.burst, p.price::text AS price, p.currency, p.validity_days, p.ip_pool, p.data_quota_mb, p.retired,
  a.wholesale_price::text AS wholesale_price`;

/**
 * The packages the caller may see, in SQL: the ISP level all of the ISP's, others those assigned to their
 * operator ($2). Parameters: $1 tenant, $2 the caller's operator, $3 whether the caller is at the ISP level.
 */
const VISIBLE = `FROM packages p LEFT JOIN package_assignments a ON a.package_id = p.package_id AND a.operator_id = $2
  WHERE p.tenant = $1 AND ($3::boolean OR a.operator_id IS NOT NULL)`;

const EXAMPLE_SPEC = { name: 'Home 20M', down_kbps: 20_000, up_kbps: 5_000, burst: null, price: '800.00', validity_days: 30, ip_pool: 'pool-home', data_quota_mb: null };

export const packageRoutes: FastifyPluginAsync<ApiDependencies> = async (plugin, { pool, runtime }) => {
  const app = plugin.withTypeProvider<ZodTypeProvider>();
  const tags = ['packages'];
  const params = z.object({ package_id: ID });

  app.get(
    '/api/v1/packages',
    {
      config: { access: { capability: 'packages.read', scope: 'tenant', example: { query: { include_retired: 'false' } } } },
      schema: {
        tags,
        summary: 'The packages I may sell (the ISP: all of them), by name',
        querystring: z.object({ include_retired: z.enum(['true', 'false']).default('false'), limit: pageLimit(500, 100), after: z.string().max(400).optional() }).strict(),
        response: { 200: z.object({ packages: z.array(packageItem), next: z.string().nullable() }), ...errorReplies },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      await consistentWith(pool, request.headers[POSITION_HEADER], ['operators']);
      const values: unknown[] = [caller.tenant, caller.operator_id, atIspLevel(caller)];
      let extra = request.query.include_retired === 'true' ? '' : 'AND NOT p.retired';
      if (request.query.after !== undefined) {
        const [name, package_id] = decodeCursor(request.query.after, 2);
        values.push(name, package_id);
        extra += ' AND (p.name, p.package_id) > ($4, $5)';
      }
      const found = await pool.query<z.infer<typeof packageItem>>(`SELECT ${COLUMNS} ${VISIBLE} ${extra} ORDER BY p.name, p.package_id LIMIT ${request.query.limit + 1}`, values);
      const page = pageOf(found.rows, request.query.limit, (row) => [row.name, row.package_id]);
      return { packages: page.rows, next: page.next };
    },
  );

  app.get(
    '/api/v1/packages/:package_id',
    {
      config: { access: { capability: 'packages.read', scope: 'operator' } },
      schema: { tags, summary: 'One package I may sell', params, response: { 200: packageItem, ...errorReplies } },
    },
    async (request) => {
      const caller = callerOf(request);
      await consistentWith(pool, request.headers[POSITION_HEADER], ['operators']);
      const found = await pool.query<z.infer<typeof packageItem>>(`SELECT ${COLUMNS} ${VISIBLE} AND p.package_id = $4`, [caller.tenant, caller.operator_id, atIspLevel(caller), request.params.package_id]);
      if (found.rows[0] === undefined) throw new ApiError('PACKAGE_NOT_FOUND', `no package ${request.params.package_id} that you may sell`);
      return found.rows[0];
    },
  );

  // Writes: the package stream itself says which ISP it belongs to; another ISP's package is PACKAGE_NOT_FOUND.
  app.post(
    '/api/v1/packages',
    {
      config: { access: { capability: 'packages.write', scope: 'tenant', example: { body: EXAMPLE_SPEC } } },
      schema: { tags, summary: 'Create a package', body: spec.extend({ package_id: ID.optional() }), response: { 201: commandReply(z.object({ package_id: z.string() })), ...errorReplies } },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const package_id = request.body.package_id ?? newId('pkg');
      return reply.code(201).send(replyOf(await createPackage(runtime, envelopeOf(caller, optionalIdempotencyKey(request)), { ...request.body, package_id })));
    },
  );

  app.put(
    '/api/v1/packages/:package_id',
    {
      config: { access: { capability: 'packages.write', scope: 'tenant', example: { body: { ...EXAMPLE_SPEC, name: 'Home 10M', down_kbps: 10_000, up_kbps: 2_000, price: '500.00' } } } },
      schema: { tags, summary: 'Change a package (everything at once); RADIUS and routers follow', params, body: spec, response: { 200: commandReply(z.null()), ...errorReplies } },
    },
    async (request) => {
      const caller = callerOf(request);
      return replyOf(await updatePackage(runtime, envelopeOf(caller, optionalIdempotencyKey(request)), { ...request.body, package_id: request.params.package_id }));
    },
  );

  app.post(
    '/api/v1/packages/:package_id/retire',
    {
      config: { access: { capability: 'packages.write', scope: 'tenant', example: { body: {} } } },
      schema: { tags, summary: 'Retire a package: nobody new gets it; its customers keep it until they change', params, body: z.object({}).strict(), response: { 200: commandReply(z.null()), ...errorReplies } },
    },
    async (request) => {
      const caller = callerOf(request);
      return replyOf(await retirePackage(runtime, envelopeOf(caller, optionalIdempotencyKey(request)), { package_id: request.params.package_id }));
    },
  );
};
