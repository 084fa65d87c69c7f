import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { loadCustomer } from '../../commands/customer-commands.js';
import { UsageAggregate, usageStream } from '../../commands/usage-commands.js';
import { OCTETS_PER_MB, usagePeriodOf } from '../../domain/usage/usage.js';
import type { Caller } from '../access/caller.js';
import { callerOf } from '../access/route-access.js';
import type { ApiDependencies } from '../dependencies.js';
import { ApiError, errorReplies } from '../errors.js';
import { consistentWith, POSITION_HEADER } from '../scope.js';
import { BILL_COLUMNS, billItem, billScope } from './bills.js';
import { PAYMENT_COLUMNS, paymentItem, paymentScope } from './payments.js';
import { customerSessions, radiusLogins, USAGE_DAYS, usageReply } from './sessions.js';
import { cursorDay, cursorInstant, cursorPosition, decodeCursor, instantSql, pageLimit, pageOf } from './route-kit.js';

/**
 * The customer portal's API (self.read, customers only): my account, my bills, my payments and my timeline.
 * Everything is keyed by the logged-in customer; nothing here takes a customer id. Redeeming a card is
 * POST /api/v1/customers/<my id>/card-redemptions.
 */
const account = z.object({
  customer_id: z.string(),
  name: z.string(),
  username: z.string().nullable(),
  mobile: z.string(),
  connection_type: z.string(),
  zone: z.string(),
  status: z.string(),
  billing_profile: z.string(),
  expires_at: z.string().nullable(),
  balance_due: z.string(),
  credit: z.string(),
  currency: z.string(),
  package: z.object({ package_id: z.string(), name: z.string().nullable(), down_kbps: z.number().nullable(), up_kbps: z.number().nullable(), price: z.string().nullable(), validity_days: z.number().nullable() }),
  operator: z.object({ operator_id: z.string(), name: z.string().nullable() }),
  /** The device a hotspot customer logs in from (MAC authentication), or a PPPoE account's bound MAC. */
  mac: z.string().nullable(),
  /** The ISP: its name for the pages, its time zone for dates and times. */
  isp: z.object({ operator_id: z.string(), name: z.string().nullable(), time_zone: z.string().nullable() }),
});

const timelineLine = z.object({ event: z.string(), type: z.string(), at: z.string(), status_before: z.string().nullable(), status_after: z.string(), summary: z.string() });

function customerOf(request: FastifyRequest): Caller {
  const caller = callerOf(request);
  // self.read is a customer's capability only; a token or login of anyone else has no "me" here.
  if (caller.principal_kind !== 'customer') throw new ApiError('FORBIDDEN', 'these are the customer portal routes; staff use /api/v1/customers');
  return caller;
}

export const portalRoutes: FastifyPluginAsync<ApiDependencies> = async (plugin, { pool, runtime, clock }) => {
  const app = plugin.withTypeProvider<ZodTypeProvider>();
  const tags = ['portal'];
  const self = { capability: 'self.read' as const, scope: 'self' as const };
  const paging = z.object({ limit: pageLimit(200, 50), after: z.string().max(400).optional() }).strict();

  app.get(
    '/api/v1/me',
    { config: { access: self }, schema: { tags, summary: 'My account: status, expiry, what I owe, my credit, my package', response: { 200: account, ...errorReplies } } },
    async (request) => {
      const caller = customerOf(request);
      await consistentWith(pool, request.headers[POSITION_HEADER], ['customers']);
      const found = await pool.query(
        `SELECT c.customer_id, c.name, c.username, c.mobile, c.connection_type, c.zone, c.status, c.billing_profile, ${instantSql('c.expires_at')} AS expires_at,
                c.balance_due::text AS balance_due, c.credit::text AS credit, c.currency,
                json_build_object('package_id', c.package_id, 'name', p.name, 'down_kbps', p.down_kbps, 'up_kbps', p.up_kbps, 'price', COALESCE(c.special_price, p.price)::text,
                                  'validity_days', p.validity_days) AS package,
                json_build_object('operator_id', c.operator_id, 'name', o.name) AS operator, c.mac,
                json_build_object('operator_id', c.tenant, 'name', i.name, 'time_zone', i.time_zone) AS isp
           FROM customers c LEFT JOIN packages p ON p.package_id = c.package_id LEFT JOIN operators o ON o.operator_id = c.operator_id
                LEFT JOIN operators i ON i.operator_id = c.tenant
          WHERE c.customer_id = $1 AND c.tenant = $2`,
        [caller.principal_id, caller.tenant],
      );
      if (found.rows[0] === undefined) throw new ApiError('CUSTOMER_NOT_FOUND', 'your account is not there (yet); try again in a moment');
      return found.rows[0];
    },
  );

  app.get(
    '/api/v1/me/bills',
    {
      config: { access: { ...self, example: { query: { limit: '20' } } } },
      schema: { tags, summary: 'My bills, newest first', querystring: paging, response: { 200: z.object({ bills: z.array(billItem), next: z.string().nullable() }), ...errorReplies } },
    },
    async (request) => {
      const caller = customerOf(request);
      await consistentWith(pool, request.headers[POSITION_HEADER], ['billing']);
      const scope = billScope(caller, 1);
      const values = [...scope.values];
      let after = '';
      if (request.query.after !== undefined) {
        const [day, bill_id] = decodeCursor(request.query.after, 2);
        const issued_on = cursorDay(day!);
        values.push(issued_on, bill_id);
        after = `AND (issued_on, bill_id) < ($3::date, $4)`;
      }
      const found = await pool.query<z.infer<typeof billItem>>(`SELECT ${BILL_COLUMNS} FROM bills WHERE ${scope.sql} ${after} ORDER BY issued_on DESC, bill_id DESC LIMIT ${request.query.limit + 1}`, values);
      const page = pageOf(found.rows, request.query.limit, (row) => [row.issued_on, row.bill_id]);
      return { bills: page.rows, next: page.next };
    },
  );

  app.get(
    '/api/v1/me/payments',
    {
      config: { access: { ...self, example: { query: { limit: '20' } } } },
      schema: { tags, summary: 'My payments, newest first', querystring: paging, response: { 200: z.object({ payments: z.array(paymentItem), next: z.string().nullable() }), ...errorReplies } },
    },
    async (request) => {
      const caller = customerOf(request);
      await consistentWith(pool, request.headers[POSITION_HEADER], ['billing']);
      const scope = paymentScope(caller, 1);
      const values = [...scope.values];
      let after = '';
      if (request.query.after !== undefined) {
        const [instant, payment_id] = decodeCursor(request.query.after, 2);
        const received_at = cursorInstant(instant!);
        values.push(received_at, payment_id);
        after = `AND (received_at, payment_id) < ($3::timestamptz, $4)`;
      }
      const found = await pool.query<z.infer<typeof paymentItem>>(
        `SELECT ${PAYMENT_COLUMNS} FROM payments WHERE ${scope.sql} ${after} ORDER BY received_at DESC, payment_id DESC LIMIT ${request.query.limit + 1}`,
        values,
      );
      const page = pageOf(found.rows, request.query.limit, (row) => [row.received_at, row.payment_id]);
      return { payments: page.rows, next: page.next };
    },
  );

  app.get(
    '/api/v1/me/timeline',
    {
      config: { access: { ...self, example: { query: { limit: '50' } } } },
      schema: {
        tags,
        summary: 'Why my account is in its state: what happened to it, newest first',
        querystring: paging,
        response: { 200: z.object({ timeline: z.array(timelineLine), next: z.string().nullable() }), ...errorReplies },
      },
    },
    async (request) => {
      const caller = customerOf(request);
      await consistentWith(pool, request.headers[POSITION_HEADER], ['customers']);
      const values: unknown[] = [caller.principal_id, caller.tenant];
      let after = '';
      if (request.query.after !== undefined) {
        const position = cursorPosition(decodeCursor(request.query.after, 1)[0]!);
        values.push(position);
        after = 'AND global_position < $3';
      }
      // Who did it stays with the staff view: a customer sees what happened, not which employee did it.
      const found = await pool.query<z.infer<typeof timelineLine>>(
        `SELECT global_position::text AS event, type, ${instantSql('occurred_at')} AS at, status_before, status_after, summary
           FROM customer_timeline WHERE customer_id = $1 AND tenant = $2 ${after} ORDER BY global_position DESC LIMIT ${request.query.limit + 1}`,
        values,
      );
      const page = pageOf(found.rows, request.query.limit, (row) => [row.event]);
      return { timeline: page.rows, next: page.next };
    },
  );

  app.get(
    '/api/v1/me/usage',
    {
      config: { access: { ...self, example: { query: { limit: '20' } } } },
      schema: {
        tags,
        summary: `My data use: this period against my package's quota (what the quota rule counts), and my sessions of the last ${USAGE_DAYS} days, newest first`,
        querystring: z.object({ limit: pageLimit(100, 20) }).strict(),
        response: {
          200: usageReply.extend({
            /** `validity:<until>` (daily) or `period:<YYYY-MM>` (monthly): what the quota counts in. */
            usage_period: z.string(),
            period_octets: z.string(),
            quota_octets: z.string().nullable(),
          }),
          ...errorReplies,
        },
      },
    },
    async (request) => {
      const caller = customerOf(request);
      const customer = await loadCustomer(runtime, caller.tenant, caller.principal_id);
      if (customer === null) throw new ApiError('CUSTOMER_NOT_FOUND', 'your account is not there (yet); try again in a moment');
      // The period and its total come from the usage stream, as the quota rule (domain/usage) counts them.
      const usage = await runtime.load(UsageAggregate, usageStream(caller.principal_id));
      const usage_period = usagePeriodOf(customer.state, clock.now());
      const quota = await pool.query<{ data_quota_mb: number | null }>('SELECT data_quota_mb FROM packages WHERE package_id = $1', [customer.state.package_id]);
      const quota_mb = quota.rows[0]?.data_quota_mb ?? null;
      const { username, mac } = customer.state.credentials;
      const since = new Date(clock.now().getTime() - USAGE_DAYS * 86_400_000);
      return {
        usage_period,
        period_octets: usage.state.usage_period === usage_period ? usage.state.period_octets : '0',
        quota_octets: quota_mb === null ? null : (BigInt(quota_mb) * OCTETS_PER_MB).toString(),
        ...(await customerSessions(pool, caller.tenant, radiusLogins(username, mac), since, request.query.limit)),
      };
    },
  );
};
