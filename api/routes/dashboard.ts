import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type pg from 'pg';
import { z } from 'zod';
import { addDays, localDateOf } from '../../domain/calendar/local-date.js';
import { Money } from '../../domain/money/money.js';
import type { Caller } from '../access/caller.js';
import { callerOf } from '../access/route-access.js';
import type { ApiDependencies } from '../dependencies.js';
import { ApiError, errorReplies } from '../errors.js';
import { consistentWith, POSITION_HEADER } from '../scope.js';
import { atIspLevel, localDay, operatorSubtreeSql } from './route-kit.js';

/**
 * The dashboard's figures for my part of the network, from the dashboard and customers read models (running
 * sums, so a year of revenue reads a few hundred rows, not every payment):
 *
 * - customers: how many are active, expired, suspended and disabled (customer_counts), how many are online now
 *   (open RADIUS sessions), and how many were registered each day of the last `days` days (registrations_daily);
 * - revenue: money received less refunds per day and per month (days and months of the ISP's calendar), what
 *   each collector took in a period, and the operators directly below me ranked by the revenue of their subtree.
 *
 * Two routes, because they need different rights: a manager who may read customers need not see the money.
 */
const countsReply = z.object({
  as_of: z.string(),
  time_zone: z.string(),
  statuses: z.object({ active: z.number().int(), expired: z.number().int(), suspended: z.number().int(), disabled: z.number().int(), total: z.number().int() }),
  online: z.number().int(),
  new_customers: z.array(z.object({ day: z.string(), customers: z.number().int() })),
});

const amounts = { currency: z.string(), received: z.string(), refunded: z.string(), net: z.string(), payments: z.number().int() };
const revenueReply = z.object({
  as_of: z.string(),
  time_zone: z.string(),
  from: z.string(),
  to: z.string(),
  daily: z.array(z.object({ day: z.string(), ...amounts })),
  monthly: z.array(z.object({ month: z.string(), ...amounts })),
  collectors: z.array(z.object({ collected_by: z.string(), name: z.string(), collector_operator_id: z.string(), method: z.string(), currency: z.string(), amount: z.string(), payments: z.number().int() })),
  top_operators: z.array(z.object({ operator_id: z.string(), name: z.string(), role: z.string(), currency: z.string(), net: z.string(), payments: z.number().int() })),
});

/** The most a chart shows: a year and a day of days, three years of months. */
const MAX_DAYS = 366;
const MAX_MONTHS = 36;
const TOP_OPERATORS = 10;
const MAX_COLLECTORS = 200;

async function ispCalendar(pool: pg.Pool, caller: Caller, now: Date): Promise<{ time_zone: string; today: string }> {
  const found = await pool.query<{ time_zone: string }>('SELECT time_zone FROM operators WHERE operator_id = $1', [caller.tenant]);
  const time_zone = found.rows[0]?.time_zone ?? 'UTC';
  return { time_zone, today: localDateOf(now, time_zone) };
}

/** A sum from SQL written with the currency's minor digits, as every amount in the API is. */
const fixed = (amount: string, currency: string): string => Money.parse(amount, currency).toString();

/** The first day of the month `months - 1` months before the month of `day`. */
function monthsBack(day: string, months: number): string {
  const [year, month] = day.split('-').map(Number) as [number, number];
  const index = year * 12 + (month - 1) - (months - 1);
  return `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, '0')}-01`;
}

export const dashboardRoutes: FastifyPluginAsync<ApiDependencies> = async (plugin, { pool, clock }) => {
  const app = plugin.withTypeProvider<ZodTypeProvider>();
  const tags = ['dashboard'];

  app.get(
    '/api/v1/dashboard/customers',
    {
      config: { access: { capability: 'customers.read', scope: 'tenant', example: { query: { days: '30' } } } },
      schema: {
        tags,
        summary: 'Customers of my part of the network by status, online now, and new ones per day (days of the ISP’s calendar)',
        querystring: z.object({ days: z.coerce.number().int().min(1).max(MAX_DAYS).default(30) }).strict(),
        response: { 200: countsReply, ...errorReplies },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      await consistentWith(pool, request.headers[POSITION_HEADER], ['customers', 'dashboard']);
      const { time_zone, today } = await ispCalendar(pool, caller, clock.now());
      const from = addDays(today, -(request.query.days - 1));
      const subtree = operatorSubtreeSql('o.operator_id', 'o.ancestry', '$2');
      const [statuses, online, registered] = await Promise.all([
        pool.query<{ status: string; customers: number }>(
          `SELECT k.status, COALESCE(sum(k.customers), 0)::int AS customers
             FROM customer_counts k JOIN operators o ON o.operator_id = k.operator_id
            WHERE k.tenant = $1 AND ${subtree} GROUP BY k.status`,
          [caller.tenant, caller.operator_id],
        ),
        // The ISP's own people see the whole network: every session open on its routers, read from radacct's index
        // of open sessions by router alone. Below the ISP, only the sessions of the subtree's customers count.
        atIspLevel(caller)
          ? pool.query<{ online: number }>('SELECT count(*)::int AS online FROM radacct WHERE acctstoptime IS NULL AND nasipaddress = ANY (ARRAY(SELECT nasname::inet FROM nas WHERE tenant = $1))', [caller.tenant])
          : pool.query<{ online: number }>(OPEN_SESSION_COUNT, [caller.tenant, caller.operator_id]),
        pool.query<{ day: string; customers: number }>(
          `SELECT to_char(r.day, 'YYYY-MM-DD') AS day, COALESCE(sum(r.customers), 0)::int AS customers
             FROM registrations_daily r JOIN operators o ON o.operator_id = r.operator_id
            WHERE r.tenant = $1 AND ${subtree} AND r.day >= $3::date AND r.day <= $4::date
            GROUP BY r.day ORDER BY r.day`,
          [caller.tenant, caller.operator_id, from, today],
        ),
      ]);
      const by = new Map(statuses.rows.map((row) => [row.status, row.customers]));
      const count = (status: string): number => by.get(status) ?? 0;
      const perDay = new Map(registered.rows.map((row) => [row.day, row.customers]));
      const new_customers = Array.from({ length: request.query.days }, (_, index) => addDays(from, index)).map((day) => ({ day, customers: perDay.get(day) ?? 0 }));
      return {
        as_of: clock.now().toISOString(),
        time_zone,
        statuses: { active: count('active'), expired: count('expired'), suspended: count('suspended'), disabled: count('disabled'), total: [...by.values()].reduce((sum, n) => sum + n, 0) },
        online: online.rows[0]!.online,
        new_customers,
      };
    },
  );

  app.get(
    '/api/v1/dashboard/revenue',
    {
      config: { access: { capability: 'reports.read', scope: 'tenant', example: { query: { days: '30', months: '12' } } } },
      schema: {
        tags,
        summary:
          'Revenue of my part of the network (received less refunded) per day and per month, collections per collector and the operators below me ranked by revenue; collectors and ranking cover from–to (default: this month)',
        querystring: z
          .object({
            days: z.coerce.number().int().min(1).max(MAX_DAYS).default(30),
            months: z.coerce.number().int().min(1).max(MAX_MONTHS).default(12),
            from: localDay.optional(),
            to: localDay.optional(),
          })
          .strict(),
        response: { 200: revenueReply, ...errorReplies },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      await consistentWith(pool, request.headers[POSITION_HEADER], ['dashboard', 'operators']);
      const { time_zone, today } = await ispCalendar(pool, caller, clock.now());
      const from = request.query.from ?? `${today.slice(0, 7)}-01`;
      const to = request.query.to ?? today;
      if (from > to) throw new ApiError('INVALID_INPUT', `the period starts (${from}) after it ends (${to})`);
      const first_day = addDays(today, -(request.query.days - 1));
      const first_month = monthsBack(today, request.query.months);
      // Revenue belongs to the operator that owns the customer; mine is my operator's and everything below it.
      const mine = `r.tenant = $1 AND r.operator_id IN (SELECT o.operator_id FROM operators o WHERE o.tenant = $1 AND ${operatorSubtreeSql('o.operator_id', 'o.ancestry', '$2')})`;
      const sums = `COALESCE(sum(r.received), 0)::text AS received, COALESCE(sum(r.refunded), 0)::text AS refunded,
                    COALESCE(sum(r.received), 0) - COALESCE(sum(r.refunded), 0) AS net_value, COALESCE(sum(r.payments), 0)::int AS payments`;
      type Sums = { currency: string; received: string; refunded: string; net_value: string; payments: number };
      const [daily, monthly, collectors, top] = await Promise.all([
        pool.query<Sums & { day: string }>(
          `SELECT to_char(r.day, 'YYYY-MM-DD') AS day, r.currency, ${sums}
             FROM revenue_daily r WHERE ${mine} AND r.day >= $3::date AND r.day <= $4::date GROUP BY r.day, r.currency ORDER BY r.day, r.currency`,
          [caller.tenant, caller.operator_id, first_day, today],
        ),
        pool.query<Sums & { month: string }>(
          `SELECT r.month, r.currency, ${sums}
             FROM revenue_monthly r WHERE ${mine} AND r.month >= $3 AND r.month <= $4 GROUP BY r.month, r.currency ORDER BY r.month, r.currency`,
          [caller.tenant, caller.operator_id, first_month.slice(0, 7), today.slice(0, 7)],
        ),
        // Who collected: people of my part of the network (a staff member or an operator; online payments name the gateway).
        pool.query<{ collected_by: string; name: string; collector_operator_id: string; method: string; currency: string; amount: string; payments: number }>(
          `SELECT c.collected_by, COALESCE(s.name, so.name, c.collected_by) AS name, c.collector_operator_id, c.method, c.currency,
                  COALESCE(sum(c.amount), 0)::text AS amount, COALESCE(sum(c.payments), 0)::int AS payments
             FROM collections_daily c
             JOIN operators o ON o.operator_id = c.collector_operator_id
             LEFT JOIN staff s ON s.staff_id = c.collected_by
             LEFT JOIN operators so ON so.operator_id = c.collected_by
            WHERE c.tenant = $1 AND ${operatorSubtreeSql('o.operator_id', 'o.ancestry', '$2')} AND c.day >= $3::date AND c.day <= $4::date
            GROUP BY c.collected_by, s.name, so.name, c.collector_operator_id, c.method, c.currency
            ORDER BY sum(c.amount) DESC, c.collected_by LIMIT ${MAX_COLLECTORS}`,
          [caller.tenant, caller.operator_id, from, to],
        ),
        // Each operator directly below me, with the revenue of its whole subtree.
        pool.query<{ operator_id: string; name: string; role: string; currency: string; net_value: string; payments: number }>(
          `SELECT child.operator_id, child.name, child.role, r.currency,
                  COALESCE(sum(r.received), 0) - COALESCE(sum(r.refunded), 0) AS net_value, COALESCE(sum(r.payments), 0)::int AS payments
             FROM operators child
             JOIN operators o ON o.tenant = child.tenant AND ${operatorSubtreeSql('o.operator_id', 'o.ancestry', 'child.operator_id')}
             JOIN revenue_daily r ON r.tenant = child.tenant AND r.operator_id = o.operator_id
            WHERE child.tenant = $1 AND child.parent_id = $2 AND r.day >= $3::date AND r.day <= $4::date
            GROUP BY child.operator_id, child.name, child.role, r.currency
            ORDER BY net_value DESC, child.operator_id LIMIT ${TOP_OPERATORS}`,
          [caller.tenant, caller.operator_id, from, to],
        ),
      ]);
      const money = (row: Sums) => ({
        currency: row.currency,
        received: fixed(row.received, row.currency),
        refunded: fixed(row.refunded, row.currency),
        net: fixed(String(row.net_value), row.currency),
        payments: row.payments,
      });
      return {
        as_of: clock.now().toISOString(),
        time_zone,
        from,
        to,
        daily: daily.rows.map((row) => ({ day: row.day, ...money(row) })),
        monthly: monthly.rows.map((row) => ({ month: row.month, ...money(row) })),
        collectors: collectors.rows.map((row) => ({ ...row, amount: fixed(row.amount, row.currency) })),
        top_operators: top.rows.map((row) => ({ operator_id: row.operator_id, name: row.name, role: row.role, currency: row.currency, net: fixed(String(row.net_value), row.currency), payments: row.payments })),
      };
    },
  );
};

/**
 * Open RADIUS sessions of the customers of my subtree ($1 tenant, $2 my operator). radacct knows a session by the
 * router's address and the User-Name: the router says which ISP (only its routers are looked at, through
 * radacct's index of open sessions by NAS address), and the dashboard's logins table says whose login it is and
 * under which operator — a narrow table, so "who is online" never reads the customers themselves.
 */
const OPEN_SESSIONS_OF = (columns: string, joins = ''): string => `
  SELECT ${columns}
    FROM radacct r
    JOIN dashboard_logins l ON l.tenant = $1 AND l.login = r.username
    ${joins}
   WHERE r.acctstoptime IS NULL
     AND r.nasipaddress = ANY (ARRAY(SELECT nasname::inet FROM nas WHERE tenant = $1))
     AND l.operator_id IN (SELECT o.operator_id FROM operators o WHERE o.tenant = $1 AND ${operatorSubtreeSql('o.operator_id', 'o.ancestry', '$2')})`;

/** How many of my customers' sessions are open now. */
const OPEN_SESSION_COUNT = OPEN_SESSIONS_OF('count(*)::int AS online');

/** The open sessions themselves, with the customer and the router, for the "online now" list. */
export const OPEN_SESSIONS = OPEN_SESSIONS_OF(
  `r.radacctid, r.acctsessionid, r.username, host(r.nasipaddress) AS nas_ip, n.router_id, n.shortname AS router_name,
         r.acctstarttime, r.acctupdatetime, host(r.framedipaddress) AS framed_ip, r.callingstationid,
         COALESCE(r.acctinputoctets, 0) AS input_octets, COALESCE(r.acctoutputoctets, 0) AS output_octets,
         c.customer_id, c.name AS customer_name, c.operator_id`,
  'JOIN nas n ON n.tenant = $1 AND n.nasname::inet = r.nasipaddress JOIN customers c ON c.customer_id = l.customer_id',
);
