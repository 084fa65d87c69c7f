import type { FastifyPluginAsync } from 'fastify';
import type pg from 'pg';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { callerOf } from '../access/route-access.js';
import type { ApiDependencies } from '../dependencies.js';
import { errorReplies } from '../errors.js';
import { customerInScope } from '../scope.js';
import { ID } from './command-reply.js';
import { OPEN_SESSIONS } from './dashboard.js';
import { cursorPosition, decodeCursor, instantSql, pageLimit, pageOf } from './route-kit.js';

/**
 * Who is online and what they used, from RADIUS accounting (`radacct`, written by radius-bridge or FreeRADIUS):
 * the open sessions of my part of the network, and one customer's recent sessions with their traffic. These are
 * operational records, not events: a session's usage becomes an event only when it stops.
 */
const sessionItem = z.object({
  session_id: z.string(),
  acct_session_id: z.string(),
  login: z.string().nullable(),
  customer_id: z.string(),
  customer_name: z.string(),
  operator_id: z.string(),
  router_id: z.string(),
  router_name: z.string(),
  nas_ip: z.string(),
  framed_ip: z.string().nullable(),
  calling_station: z.string().nullable(),
  started_at: z.string().nullable(),
  updated_at: z.string().nullable(),
  /** Octets as RADIUS counts them: input is what the customer sent (upload), output what it received. */
  input_octets: z.string(),
  output_octets: z.string(),
});

const usageSession = z.object({
  session_id: z.string(),
  login: z.string().nullable(),
  nas_ip: z.string(),
  framed_ip: z.string().nullable(),
  started_at: z.string().nullable(),
  stopped_at: z.string().nullable(),
  seconds: z.string().nullable(),
  input_octets: z.string(),
  output_octets: z.string(),
  terminate_cause: z.string().nullable(),
});

/** How far back a customer's usage looks: radacct is indexed by start time, and a month is what people ask about. */
export const USAGE_DAYS = 31;

export type UsageSession = z.infer<typeof usageSession>;
export const usageReply = z.object({
  since: z.string(),
  online: z.boolean(),
  totals: z.object({ sessions: z.number().int(), seconds: z.string(), input_octets: z.string(), output_octets: z.string() }),
  sessions: z.array(usageSession),
});

/**
 * The logins RADIUS knows a customer by: its PPPoE username, and its device's MAC (hotspot, MAC login) in each
 * spelling RouterOS' radius-mac-format may send it (XX:XX:…, XX-XX-…, XXXXXXXXXXXX, upper or lower case).
 */
export function radiusLogins(username: string | null, mac: string | null): string[] {
  const spellings = mac === null ? [] : [mac, mac.replaceAll(':', '-'), mac.replaceAll(':', '')];
  return [...(username === null ? [] : [username]), ...spellings, ...spellings.map((spelling) => spelling.toLowerCase())];
}

/** A customer's sessions on the ISP's routers since a time, newest first (at most `limit`), and their totals. */
export async function customerSessions(pool: pg.Pool, tenant: string, logins: readonly string[], since: Date, limit: number): Promise<z.infer<typeof usageReply>> {
  const routers = `host(r.nasipaddress) IN (SELECT nasname FROM nas WHERE tenant = $3)`;
  const within = `r.acctstarttime >= $2 AND r.username = ANY($1::text[]) AND ${routers}`;
  const [sessions, totals] = await Promise.all([
    pool.query<UsageSession>(
      `SELECT r.radacctid::text AS session_id, r.username AS login, host(r.nasipaddress) AS nas_ip, host(r.framedipaddress) AS framed_ip,
              ${instantSql('r.acctstarttime')} AS started_at, ${instantSql('r.acctstoptime')} AS stopped_at, r.acctsessiontime::text AS seconds,
              COALESCE(r.acctinputoctets, 0)::text AS input_octets, COALESCE(r.acctoutputoctets, 0)::text AS output_octets, r.acctterminatecause AS terminate_cause
         FROM radacct r WHERE ${within} ORDER BY r.acctstarttime DESC, r.radacctid DESC LIMIT ${limit}`,
      [logins, since, tenant],
    ),
    pool.query<{ sessions: number; seconds: string; input_octets: string; output_octets: string; online: boolean }>(
      `SELECT count(*)::int AS sessions, COALESCE(sum(r.acctsessiontime), 0)::text AS seconds, COALESCE(sum(r.acctinputoctets), 0)::text AS input_octets,
              COALESCE(sum(r.acctoutputoctets), 0)::text AS output_octets, COALESCE(bool_or(r.acctstoptime IS NULL), false) AS online
         FROM radacct r WHERE ${within}`,
      [logins, since, tenant],
    ),
  ]);
  const { online, ...sums } = totals.rows[0]!;
  return { since: since.toISOString(), online, totals: sums, sessions: sessions.rows };
}

export const sessionRoutes: FastifyPluginAsync<ApiDependencies> = async (plugin, { pool, clock }) => {
  const app = plugin.withTypeProvider<ZodTypeProvider>();
  const tags = ['sessions'];

  app.get(
    '/api/v1/sessions',
    {
      config: { access: { capability: 'customers.read', scope: 'tenant', example: { query: { limit: '50' } } } },
      schema: {
        tags,
        summary: 'Customers of my part of the network online now (open RADIUS sessions), newest first (keyset paging: pass `next` as `after`)',
        querystring: z
          .object({
            router_id: ID.optional(),
            /** A login, a customer id or the start of a customer's name. */
            text: z.string().trim().min(1).max(64).optional(),
            limit: pageLimit(500, 100),
            after: z.string().max(400).optional(),
          })
          .strict(),
        response: { 200: z.object({ sessions: z.array(sessionItem), next: z.string().nullable() }), ...errorReplies },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      const query = request.query;
      const values: unknown[] = [caller.tenant, caller.operator_id];
      const where: string[] = [];
      const add = (condition: (param: string) => string, value: unknown): void => {
        values.push(value);
        where.push(condition(`$${values.length}`));
      };
      if (query.router_id !== undefined) add((p) => `s.router_id = ${p}`, query.router_id);
      if (query.text !== undefined) {
        values.push(query.text, `${query.text.replace(/[\\%_]/g, (char) => `\\${char}`)}%`);
        where.push(`(s.username = $${values.length - 1} OR s.customer_id = $${values.length - 1} OR s.customer_name ILIKE $${values.length})`);
      }
      if (query.after !== undefined) add((p) => `s.radacctid < ${p}::bigint`, cursorPosition(decodeCursor(query.after, 1)[0]!));
      const found = await pool.query<z.infer<typeof sessionItem> & { radacctid: string }>(
        `SELECT s.radacctid::text AS radacctid, s.radacctid::text AS session_id, s.acctsessionid AS acct_session_id, s.username AS login, s.customer_id, s.customer_name, s.operator_id,
                s.router_id, s.router_name, s.nas_ip, s.framed_ip, s.callingstationid AS calling_station,
                ${instantSql('s.acctstarttime')} AS started_at, ${instantSql('s.acctupdatetime')} AS updated_at, s.input_octets::text AS input_octets, s.output_octets::text AS output_octets
           FROM (${OPEN_SESSIONS}) s ${where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`}
          ORDER BY s.radacctid DESC LIMIT ${query.limit + 1}`,
        values,
      );
      const page = pageOf(found.rows, query.limit, (row) => [row.radacctid]);
      return { sessions: page.rows.map(({ radacctid: _id, ...row }) => row), next: page.next };
    },
  );

  app.get(
    '/api/v1/customers/:customer_id/usage',
    {
      config: { access: { capability: 'customers.read', scope: 'customer', example: { query: {} } } },
      schema: {
        tags,
        summary: `A customer's RADIUS sessions of the last ${USAGE_DAYS} days, newest first, with their traffic and the totals`,
        params: z.object({ customer_id: ID }),
        querystring: z.object({ limit: pageLimit(500, 50) }).strict(),
        response: {
          200: usageReply.extend({ customer_id: z.string() }),
          ...errorReplies,
        },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      await customerInScope(pool, caller, request.params.customer_id);
      const customer = (await pool.query<{ username: string | null; mac: string | null }>('SELECT username, mac FROM customers WHERE customer_id = $1', [request.params.customer_id])).rows[0]!;
      const since = new Date(clock.now().getTime() - USAGE_DAYS * 86_400_000);
      return { customer_id: request.params.customer_id, ...(await customerSessions(pool, caller.tenant, radiusLogins(customer.username, customer.mac), since, request.query.limit)) };
    },
  );
};
