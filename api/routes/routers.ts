import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { registerRouter, removeRouter, setRouterConnection, setRouterSetup, updateRouter } from '../../commands/router-commands.js';
import { ROUTER_TRANSPORTS } from '../../domain/routers/router-connection.js';
import { outcomeStream } from '../../router-agent/publisher.js';
import { requestRouterCommand } from '../../router-agent/on-demand.js';
import { envelopeOf } from '../access/caller.js';
import { callerOf } from '../access/route-access.js';
import type { ApiDependencies } from '../dependencies.js';
import { ApiError, errorReplies, fromRejection } from '../errors.js';
import { consistentWith, POSITION_HEADER } from '../scope.js';
import { commandReply, ID, optionalIdempotencyKey, replyOf } from './command-reply.js';
import { instantSql, newId } from './route-kit.js';

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

/** What one-click setup puts on a router (domain/routers/router-setup.ts checks the values). */
const setupBody = z
  .object({
    radius_address: z.string().min(1).max(45),
    radius_auth_port: z.number().int().min(1).max(65_535).default(1812),
    radius_accounting_port: z.number().int().min(1).max(65_535).default(1813),
    radius_timeout_ms: z.number().int().min(100).max(60_000).default(3000),
    pppoe_servers: z.array(z.object({ service_name: z.string().min(1).max(64), interface: z.string().min(1).max(64), default_profile: z.string().min(1).max(64) }).strict()).max(16).default([]),
    hotspot_profiles: z.array(z.string().min(1).max(64)).max(16).default([]),
    portal_host: z.string().min(1).max(253).nullable().default(null),
    portal_address: z.string().min(1).max(45).nullable().default(null),
    suspended_pool_ranges: z.string().min(1).max(500).nullable().default(null),
    static_ip: z.discriminatedUnion('mode', [z.object({ mode: z.literal('none') }).strict(), z.object({ mode: z.literal('address-list'), list: z.string().min(1).max(64) }).strict(), z.object({ mode: z.literal('queue') }).strict()]).default({ mode: 'none' }),
    static_ip_networks: z.array(z.string().min(1).max(49)).max(64).default([]),
  })
  .strict();

const outcomeItem = z.object({ at: z.string(), type: z.string(), kind: z.string().nullable(), customer_id: z.string().nullable(), detail: z.unknown() });

/** The outcomes a router's status lists, newest first. */
const RECENT_OUTCOMES = 20;

export const routerRoutes: FastifyPluginAsync<ApiDependencies> = async (plugin, { pool, runtime, router_secrets }) => {
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

  /** A router of the caller's ISP, or ROUTER_NOT_FOUND (another ISP's reads as absent). */
  const routerOfMine = async (tenant: string, router_id: string): Promise<void> => {
    const found = await pool.query('SELECT 1 FROM nas WHERE router_id = $1 AND tenant = $2', [router_id, tenant]);
    if (found.rowCount === 0) throw new ApiError('ROUTER_NOT_FOUND', `no router ${router_id} in this ISP`);
  };

  app.get(
    '/api/v1/routers/:router_id/status',
    {
      config: { access: { capability: 'routers.read', scope: 'tenant' } },
      schema: {
        tags,
        summary: "What the router-agent knows of a router: reachable or not, its API connection and setup (never the password), commands waiting and failed, the last setup, the last reconciliation's drift, and recent outcomes",
        params,
        response: {
          200: z.object({
            router_id: z.string(),
            agent: z
              .object({
                status: z.string(),
                last_contact_at: z.string().nullable(),
                last_error: z.string().nullable(),
                retry_at: z.string().nullable(),
                last_reconciled_at: z.string().nullable(),
                pending: z.number().int(),
                failed: z.number().int(),
              })
              .nullable(),
            connection: z.object({ host: z.string(), transport: z.string(), port: z.number().int(), username: z.string(), routeros_version: z.string() }).nullable(),
            setup: z.unknown().nullable(),
            last_setup: outcomeItem.nullable(),
            last_reconciliation: outcomeItem.nullable(),
            recent: z.array(outcomeItem),
          }),
          ...errorReplies,
        },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      await consistentWith(pool, request.headers[POSITION_HEADER], ['radius']);
      await routerOfMine(caller.tenant, request.params.router_id);
      const agent = await pool.query<{ status: string; last_contact_at: string | null; last_error: string | null; retry_at: string | null; last_reconciled_at: string | null; pending: number; failed: number; connection: Record<string, unknown> | null; setup: unknown }>(
        `SELECT r.status, ${instantSql('r.last_contact_at')} AS last_contact_at, r.last_error, ${instantSql('r.retry_at')} AS retry_at, ${instantSql('r.last_reconciled_at')} AS last_reconciled_at,
                r.connection, r.setup,
                (SELECT count(*) FROM router_outbox o WHERE o.router_id = r.router_id AND o.state = 'pending')::int AS pending,
                (SELECT count(*) FROM router_outbox o WHERE o.router_id = r.router_id AND o.state = 'failed')::int AS failed
           FROM router_agent_routers r WHERE r.router_id = $1 AND r.tenant = $2`,
        [request.params.router_id, caller.tenant],
      );
      // The outcomes are events of the router's outcome stream (router-agent/publisher.ts): the lasting record.
      const outcome = (types: readonly string[], limit: number) =>
        pool.query<z.infer<typeof outcomeItem>>(
          `SELECT ${instantSql('occurred_at')} AS at, type, data->>'kind' AS kind, data->>'customer_id' AS customer_id, data AS detail
             FROM events WHERE stream_id = $1 AND type = ANY($2::text[]) ORDER BY stream_revision DESC LIMIT ${limit}`,
          [outcomeStream(request.params.router_id), types],
        );
      const [setups, reconciliations, recent] = await Promise.all([
        outcome(['router-setup-completed', 'router-setup-refused'], 1),
        outcome(['router-reconciled'], 1),
        outcome(['router-command-completed', 'router-command-failed', 'router-setup-completed', 'router-setup-refused', 'router-reconciled'], RECENT_OUTCOMES),
      ]);
      const row = agent.rows[0];
      const connection = row?.connection ?? null;
      return {
        router_id: request.params.router_id,
        agent: row === undefined ? null : { status: row.status, last_contact_at: row.last_contact_at, last_error: row.last_error, retry_at: row.retry_at, last_reconciled_at: row.last_reconciled_at, pending: row.pending, failed: row.failed },
        connection:
          connection === null
            ? null
            : { host: String(connection.host), transport: String(connection.transport), port: Number(connection.port), username: String(connection.username), routeros_version: String(connection.routeros_version) },
        setup: row?.setup ?? null,
        last_setup: setups.rows[0] ?? null,
        last_reconciliation: reconciliations.rows[0] ?? null,
        recent: recent.rows,
      };
    },
  );

  app.put(
    '/api/v1/routers/:router_id/connection',
    {
      config: { access: { capability: 'routers.write', scope: 'tenant', example: { body: { host: '10.99.0.1', transport: 'api', username: 'ispbills', password: 'router-api-password', routeros_version: '7.18.2' } } } },
      schema: {
        tags,
        summary: "How the router-agent reaches the router's API; the password is sealed before anything is stored and never read back (leave it out to keep the current one)",
        params,
        body: z
          .object({
            host: z.string().min(1).max(253),
            transport: z.enum(ROUTER_TRANSPORTS as ['api', 'api-ssl', 'rest']),
            port: z.number().int().min(1).max(65_535).optional(),
            username: z.string().min(1).max(64),
            password: z.string().min(1).max(128).optional(),
            routeros_version: z.string().min(1).max(16),
            tls_fingerprint_sha256: z.string().min(1).max(200).nullable().optional(),
          })
          .strict(),
        response: { 200: commandReply(z.null()), ...errorReplies },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      await routerOfMine(caller.tenant, request.params.router_id);
      if (router_secrets === undefined) throw new ApiError('NOT_PERMITTED', 'this server cannot seal router passwords: set ROUTER_CREDENTIALS_KEY for it (the same key as the router-agent)');
      const { password, ...rest } = request.body;
      return replyOf(await setRouterConnection(runtime, envelopeOf(caller, optionalIdempotencyKey(request)), { ...rest, router_id: request.params.router_id, ...(password === undefined ? {} : { password }) }, router_secrets));
    },
  );

  app.put(
    '/api/v1/routers/:router_id/setup',
    {
      config: { access: { capability: 'routers.write', scope: 'tenant', example: { body: { radius_address: '10.99.0.10', pppoe_servers: [{ service_name: 'pppoe-main', interface: 'ether2', default_profile: 'default' }] } } } },
      schema: { tags, summary: 'What one-click setup puts on the router (RADIUS, PPPoE servers, hotspot profiles, walled garden, suspended pool) and how static IPs are handled', params, body: setupBody, response: { 200: commandReply(z.null()), ...errorReplies } },
    },
    async (request) => {
      const caller = callerOf(request);
      return replyOf(await setRouterSetup(runtime, envelopeOf(caller, optionalIdempotencyKey(request)), { ...request.body, router_id: request.params.router_id }));
    },
  );

  /** Setup and reconciliation on demand: queued on the router's outbox for the running router-agent, which records the outcome. */
  for (const [path, kind, summary] of [
    ['setup-runs', 'setup', 'One-click setup: queue it for the router-agent (idempotent on the router; it checks the API user\'s rights first); the outcome shows in the status'],
    ['reconciliations', 'reconcile', 'Compare the router with what billing says and heal the drift: queued for the router-agent; the drift found shows in the status'],
  ] as const) {
    app.post(
      `/api/v1/routers/:router_id/${path}`,
      {
        config: { access: { capability: 'routers.write', scope: 'tenant', example: { body: {} } } },
        schema: { tags, summary, params, body: z.object({}).strict(), response: { 202: z.object({ command_id: z.string(), state: z.literal('queued') }), ...errorReplies } },
      },
      async (request, reply) => {
        const caller = callerOf(request);
        await routerOfMine(caller.tenant, request.params.router_id);
        const queued = await requestRouterCommand(pool, request.params.router_id, kind, caller.principal_id);
        if (!queued.ok) {
          // The router is registered (checked above); the agent just has not taken it in yet.
          if (queued.rejection.code === 'ROUTER_NOT_FOUND') throw new ApiError('ROUTER_NOT_CONFIGURED', 'the router-agent has not taken this router in yet (is the router-agent role running?); try again in a moment');
          throw fromRejection(queued.rejection);
        }
        return reply.code(202).send({ command_id: queued.command_id.toString(), state: 'queued' as const });
      },
    );
  }
};
