import type { CustomerEvent } from '../../domain/customers/customer.js';
import type { OperatorEvent } from '../../domain/operators/operator.js';
import { localDateOf } from '../../domain/calendar/local-date.js';
import { add, put, ref, type Projection, type RowChange, type RowRef } from '../projection.js';
import { asDomain, minus, tenantOf } from './event-fields.js';

/**
 * Dashboard figures kept as running sums, so a chart of a year reads 365 rows, not every payment: revenue per
 * operator, day and method (days in the ISP's time zone), and collections per collector. Months are sums of
 * days. Active/expired counts live with the customers projection, where status is derived.
 */
export const REVENUE_DAILY = 'revenue_daily';
export const COLLECTIONS_DAILY = 'collections_daily';
const TENANTS = 'dashboard_tenants';
const PAYMENT_OWNERS = 'dashboard_payments';

export const dashboardProjection: Projection = {
  name: 'dashboard',
  version: 1,
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
      name: COLLECTIONS_DAILY,
      key: ['tenant', 'collected_by', 'collector_operator_id', 'day', 'method', 'currency'],
      counter: true,
      columns: { tenant: 'text', collected_by: 'text', collector_operator_id: 'text', day: 'date', method: 'text', currency: 'text', amount: 'numeric', payments: 'integer' },
      indexes: ['CREATE INDEX ON {table} (tenant, day)'],
    },
  ],
  reads: (recorded) => {
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
    if (event.type === 'payment-received') {
      const d = event.data;
      const day = localDateOf(new Date(d.received_at), timeZone());
      const operator_id = d.chain[d.chain.length - 1] ?? tenant;
      return [
        put(PAYMENT_OWNERS, { payment_id: d.payment_id, operator_id, method: d.method, collected_by: d.collected_by, collector_operator_id: d.collector_operator_id }),
        add(REVENUE_DAILY, { tenant, operator_id, day, method: d.method, currency: d.currency }, { received: d.amount, payments: 1 }),
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
        add(COLLECTIONS_DAILY, { tenant, collected_by: owner.collected_by as string, collector_operator_id: owner.collector_operator_id as string, day, method: owner.method as string, currency: d.currency }, { amount: minus('0', d.amount, d.currency) }),
      ];
      return changes;
    }
    return [];
  },
};
