import type { CustomerEvent } from '../../domain/customers/customer.js';
import type { OperatorEvent } from '../../domain/operators/operator.js';
import { localDateOf } from '../../domain/calendar/local-date.js';
import { add, put, ref, remove, type Projection, type Row, type RowChange, type RowRef } from '../projection.js';
import { asDomain, minus, tenantOf } from './event-fields.js';
import { radiusLogins } from './radius.js';

/**
 * Dashboard figures kept as running sums, so a chart reads a few hundred rows, not every payment or customer:
 * revenue per operator, day and method (days in the ISP's time zone) and per operator and month, collections per
 * collector, and new customers per operator and day. Active/expired counts live with the customers projection,
 * where status is derived.
 */
export const REVENUE_DAILY = 'revenue_daily';
/** The same sums by month: a year of an ISP with a hundred resellers is 1,200 rows here, not 100,000 days. */
export const REVENUE_MONTHLY = 'revenue_monthly';
export const COLLECTIONS_DAILY = 'collections_daily';
/** Customers registered per operator and day (the day the registration names, in the ISP's calendar). */
export const REGISTRATIONS_DAILY = 'registrations_daily';
/**
 * The names each customer's RADIUS sessions carry (radacct's User-Name) with the customer's operator: "who is
 * online" in a part of the network joins the open sessions to this narrow table instead of to the customers.
 */
export const DASHBOARD_LOGINS = 'dashboard_logins';
/** What a customer's logins follow from (never its password: only whether it has one). */
const ACCOUNTS = 'dashboard_accounts';
const TENANTS = 'dashboard_tenants';
const PAYMENT_OWNERS = 'dashboard_payments';

export const dashboardProjection: Projection = {
  name: 'dashboard',
  // 2: revenue per month, registrations per day and logins per operator, so the panels' dashboard reads a few
  // hundred rows for a year and counts who is online without reading the customers.
  version: 2,
  tables: [
    { name: TENANTS, key: ['tenant'], columns: { tenant: 'text', time_zone: 'text' } },
    {
      name: PAYMENT_OWNERS,
      key: ['payment_id'],
      columns: { payment_id: 'text', operator_id: 'text', method: 'text', collected_by: 'text', collector_operator_id: 'text' },
    },
    {
      name: REVENUE_DAILY,
      key: ['tenant', 'operator_id', 'day', 'method', 'currency'],
      counter: true,
      columns: { tenant: 'text', operator_id: 'text', day: 'date', method: 'text', currency: 'text', received: 'numeric', refunded: 'numeric', payments: 'integer', refunds: 'integer' },
      indexes: ['CREATE INDEX ON {table} (tenant, day)'],
    },
    {
      name: REVENUE_MONTHLY,
      key: ['tenant', 'operator_id', 'month', 'currency'],
      counter: true,
      columns: { tenant: 'text', operator_id: 'text', month: 'text', currency: 'text', received: 'numeric', refunded: 'numeric', payments: 'integer', refunds: 'integer' },
      indexes: ['CREATE INDEX ON {table} (tenant, month)'],
    },
    {
      name: REGISTRATIONS_DAILY,
      key: ['tenant', 'operator_id', 'day'],
      counter: true,
      columns: { tenant: 'text', operator_id: 'text', day: 'date', customers: 'integer' },
      indexes: ['CREATE INDEX ON {table} (tenant, day)'],
    },
    {
      name: ACCOUNTS,
      key: ['customer_id'],
      columns: { customer_id: 'text', tenant: 'text', operator_id: 'text', connection_type: 'text', username: 'text', has_password: 'boolean', mac: 'text' },
    },
    {
      name: DASHBOARD_LOGINS,
      key: ['tenant', 'login'],
      columns: { tenant: 'text', login: 'text', customer_id: 'text', operator_id: 'text' },
      // Covering: a part of the network's logins are read from the index alone.
      indexes: ['CREATE INDEX ON {table} (tenant, operator_id) INCLUDE (login)'],
    },
    {
      name: COLLECTIONS_DAILY,
      key: ['tenant', 'collected_by', 'collector_operator_id', 'day', 'method', 'currency'],
      counter: true,
      columns: { tenant: 'text', collected_by: 'text', collector_operator_id: 'text', day: 'date', method: 'text', currency: 'text', amount: 'numeric', payments: 'integer' },
      indexes: ['CREATE INDEX ON {table} (tenant, day)'],
    },
  ],
  reads: (recorded) => {
    if (recorded.type === 'mac-bound' || recorded.type === 'mac-unbound' || recorded.type === 'customer-moved') {
      return [ref(ACCOUNTS, { customer_id: (recorded.data as { customer_id: string }).customer_id })];
    }
    if (recorded.type === 'payment-received') return [ref(TENANTS, { tenant: tenantOf(recorded) })];
    if (recorded.type === 'payment-refunded')
      return [ref(TENANTS, { tenant: tenantOf(recorded) }), ref(PAYMENT_OWNERS, { payment_id: (recorded.data as { payment_id: string }).payment_id })];
    return [] as RowRef[];
  },
  handle: (recorded, rows) => {
    if (recorded.type === 'isp-registered') {
      const event = asDomain<OperatorEvent>(recorded);
      if (event.type === 'isp-registered') return [put(TENANTS, { tenant: tenantOf(recorded), time_zone: event.data.time_zone })];
    }
    if (!recorded.stream_id.startsWith('customer-')) return [];
    const event = asDomain<CustomerEvent>(recorded);
    const tenant = tenantOf(recorded);
    // Only payments and refunds list the tenant's row in reads(), so only they may read it: any other customer
    // event reached here would fail whenever the row is not already cached (after every restart).
    const timeZone = (): string => (rows.get(TENANTS, { tenant })?.time_zone as string | undefined) ?? 'UTC';
    if (event.type === 'customer-registered') {
      const d = event.data;
      const account = { customer_id: d.customer_id, tenant, operator_id: d.operator_id, connection_type: d.connection_type, username: d.username, has_password: d.password !== null, mac: d.mac };
      return [add(REGISTRATIONS_DAILY, { tenant, operator_id: d.operator_id, day: d.registered_on }, { customers: 1 }), ...loginChanges(undefined, account)];
    }
    if (event.type === 'mac-bound' || event.type === 'mac-unbound' || event.type === 'customer-moved') {
      const before = rows.get(ACCOUNTS, { customer_id: event.data.customer_id });
      if (before === undefined) return [];
      const after =
        event.type === 'customer-moved' ? { ...before, operator_id: event.data.to_operator_id } : { ...before, mac: event.type === 'mac-bound' ? event.data.mac : null };
      return loginChanges(before, after);
    }
    if (event.type === 'payment-received') {
      const d = event.data;
      const day = localDateOf(new Date(d.received_at), timeZone());
      const operator_id = d.chain[d.chain.length - 1] ?? tenant;
      return [
        put(PAYMENT_OWNERS, { payment_id: d.payment_id, operator_id, method: d.method, collected_by: d.collected_by, collector_operator_id: d.collector_operator_id }),
        add(REVENUE_DAILY, { tenant, operator_id, day, method: d.method, currency: d.currency }, { received: d.amount, payments: 1 }),
        add(REVENUE_MONTHLY, { tenant, operator_id, month: day.slice(0, 7), currency: d.currency }, { received: d.amount, payments: 1 }),
        add(COLLECTIONS_DAILY, { tenant, collected_by: d.collected_by, collector_operator_id: d.collector_operator_id, day, method: d.method, currency: d.currency }, { amount: d.amount, payments: 1 }),
      ];
    }
    if (event.type === 'payment-refunded') {
      const d = event.data;
      const owner = rows.get(PAYMENT_OWNERS, { payment_id: d.payment_id });
      if (owner === undefined) return [];
      const day = localDateOf(recorded.occurred_at, timeZone());
      const changes: RowChange[] = [
        add(REVENUE_DAILY, { tenant, operator_id: owner.operator_id as string, day, method: owner.method as string, currency: d.currency }, { refunded: d.amount, refunds: 1 }),
        add(REVENUE_MONTHLY, { tenant, operator_id: owner.operator_id as string, month: day.slice(0, 7), currency: d.currency }, { refunded: d.amount, refunds: 1 }),
        add(COLLECTIONS_DAILY, { tenant, collected_by: owner.collected_by as string, collector_operator_id: owner.collector_operator_id as string, day, method: owner.method as string, currency: d.currency }, { amount: minus('0', d.amount, d.currency) }),
      ];
      return changes;
    }
    return [];
  },
};

/** The account row and its login rows after a change: logins it no longer has go, the others carry its operator. */
function loginChanges(before: Row | undefined, after: Row): RowChange[] {
  const loginsOf = (account: Row): string[] =>
    radiusLogins({ connection_type: account.connection_type as string, username: account.username as string | null, has_password: account.has_password === true, mac: account.mac as string | null });
  const tenant = after.tenant as string;
  const kept = new Set(loginsOf(after));
  const changes: RowChange[] = [put(ACCOUNTS, after)];
  for (const login of before === undefined ? [] : loginsOf(before)) if (!kept.has(login)) changes.push(remove(DASHBOARD_LOGINS, { tenant, login }));
  for (const login of kept) changes.push(put(DASHBOARD_LOGINS, { tenant, login, customer_id: after.customer_id as string, operator_id: after.operator_id as string }));
  return changes;
}
