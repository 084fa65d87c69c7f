import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { registerRouter, removeRouter, updateRouter } from '../../commands/router-commands.js';
import { envelopeOf } from '../access/caller.js';
import { callerOf } from '../access/route-access.js';
import type { ApiDependencies } from '../dependencies.js';
import { ApiError, errorReplies } from '../errors.js';
import { consistentWith, POSITION_HEADER } from '../scope.js';
import { commandReply, ID, optionalIdempotencyKey, replyOf } from './command-reply.js';
import { newId } from './route-kit.js';

/**
 * Routers (RADIUS NASes) belong to the ISP: registered, changed and removed by its admins (routers.write). The
 * RADIUS shared secret is written, never read back: the router and radius-bridge are the only ones that need it.
 * How the router-agent reaches a router's API is the router-agent's own configuration.
 */
const routerItem = z.object({
  router_id: z.string(),
  name: z.string(),
  nas_ip: z.string(),
  coa_port: z.number().int(),
  require_message_authenticator: z.boolean(),
  description: z.string().nullable(),
});

const COLUMNS = 'router_id, shortname AS name, nasname AS nas_ip, coa_port, require_message_authenticator, description';

const settings = {
  name: z.string().min(1).max(64),
  nas_ip: z.string().min(2).max(45),
  /** Printable ASCII, 8–128 characters (the domain checks the details). */
  secret: z.string().min(8).max(128),
  coa_port: z.number().int().min(1).max(65_535),
  require_message_authenticator: z.boolean(),
  description: z.string().max(500),
};

export const routerRoutes: FastifyPluginAsync<ApiDependencies> = async (plugin, { pool, runtime }) => {
  const app = plugin.withTypeProvider<ZodTypeProvider>();
  const tags = ['routers'];
  const params = z.object({ router_id: ID });

  app.get(
    '/api/v1/routers',
    {
      config: { access: { capability: 'routers.read', scope: 'tenant', example: { query: {} } } },
      schema: { tags, summary: "The ISP's routers (RADIUS clients), by name", querystring: z.object({}).strict(), response: { 200: z.object({ routers: z.array(routerItem) }), ...errorReplies } },
    },
    async (request) => {
      const caller = callerOf(request);
      await consistentWith(pool, request.headers[POSITION_HEADER], ['radius']);
      // An ISP runs tens of routers, not thousands: one page.
      const found = await pool.query<z.infer<typeof routerItem>>(`SELECT ${COLUMNS} FROM nas WHERE tenant = $1 ORDER BY shortname, router_id LIMIT 5000`, [caller.tenant]);
      return { routers: found.rows };
    },
  );

  app.get(
    '/api/v1/routers/:router_id',
    {
      config: { access: { capability: 'routers.read', scope: 'tenant' } },
      schema: { tags, summary: 'One router', params, response: { 200: routerItem, ...errorReplies } },
    },
    async (request) => {
      const caller = callerOf(request);
      await consistentWith(pool, request.headers[POSITION_HEADER], ['radius']);
      const found = await pool.query<z.infer<typeof routerItem>>(`SELECT ${COLUMNS} FROM nas WHERE router_id = $1 AND tenant = $2`, [request.params.router_id, caller.tenant]);
      if (found.rows[0] === undefined) throw new ApiError('ROUTER_NOT_FOUND', `no router ${request.params.router_id} in this ISP`);
      return found.rows[0];
    },
  );

  // Writes: the router stream says which ISP it belongs to; another ISP's router is ROUTER_NOT_FOUND.
  app.post(
    '/api/v1/routers',
    {
      config: { access: { capability: 'routers.write', scope: 'tenant', example: { body: { name: 'Core Mirpur', nas_ip: '10.20.0.1', secret: 'a-long-radius-secret' } } } },
      schema: {
        tags,
        summary: 'Register a router: RADIUS answers it from now on (its NAS IP is unique in the ISP)',
        body: z
          .object({
            router_id: ID.optional(),
            name: settings.name,
            nas_ip: settings.nas_ip,
            secret: settings.secret,
            coa_port: settings.coa_port.optional(),
            require_message_authenticator: settings.require_message_authenticator.optional(),
            description: settings.description.optional(),
          })
          .strict(),
        response: { 201: commandReply(z.object({ router_id: z.string() })), ...errorReplies },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const router_id = request.body.router_id ?? newId('router');
      return reply.code(201).send(replyOf(await registerRouter(runtime, envelopeOf(caller, optionalIdempotencyKey(request)), { ...request.body, router_id })));
    },
  );

  app.patch(
    '/api/v1/routers/:router_id',
    {
      config: { access: { capability: 'routers.write', scope: 'tenant', example: { body: { description: 'rack 2, upstairs' } } } },
      schema: {
        tags,
        summary: 'Change what is given; the rest stays (a new NAS IP is reserved and the old one freed)',
        params,
        body: z.object(settings).partial().strict(),
        response: { 200: commandReply(z.null()), ...errorReplies },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      return replyOf(await updateRouter(runtime, envelopeOf(caller, optionalIdempotencyKey(request)), { ...request.body, router_id: request.params.router_id }));
    },
  );

  app.delete(
    '/api/v1/routers/:router_id',
    {
      config: { access: { capability: 'routers.write', scope: 'tenant' } },
      schema: { tags, summary: 'Remove a router: RADIUS stops answering it and its NAS IP is free again', params, response: { 200: commandReply(z.null()), ...errorReplies } },
    },
    async (request) => {
      const caller = callerOf(request);
      return replyOf(await removeRouter(runtime, envelopeOf(caller, optionalIdempotencyKey(request)), { router_id: request.params.router_id }));
    },
  );
};
