import type { RecordedEvent } from '../../eventstore/event-store.js';
import { customerStatus, type CustomerEvent, type CustomerStatus } from '../../domain/customers/customer.js';
import { startsExpired } from '../../domain/customers/customer-evolve.js';
import { add, put, ref, type Projection, type Row, type RowChange } from '../projection.js';
import { actorOf, asDomain, minus, occurredAt, plus, sumOf, tenantOf, zero } from './event-fields.js';
import { maskRecipient, NOTIFICATION_STREAM_PREFIX, type NotificationEvent } from '../../domain/notifications/notification.js';

/**
 * Customers as staff look for them (search by name, username, mobile, MAC or IP; filters by operator, zone,
 * status, package and expiry), counts per operator and status for the dashboard, and each customer's timeline:
 * every event that touched the account, with the status before and after, who did it and what it refers to —
 * the answer to "why is this account in this state". One projection, so status is derived in one place.
 */
export const CUSTOMERS = 'customers';
export const CUSTOMER_COUNTS = 'customer_counts';
export const CUSTOMER_TIMELINE = 'customer_timeline';

const customerTable = {
  name: CUSTOMERS,
  key: ['customer_id'],
  columns: {
    customer_id: 'text',
    tenant: 'text',
    operator_id: 'text',
    chain: 'text[]',
    connection_type: 'text',
    name: 'text',
    username: 'text',
    mobile: 'text',
    mac: 'text',
    static_ip: 'text',
    zone: 'text',
    package_id: 'text',
    billing_profile: 'text',
    status: 'text',
    suspended: 'boolean',
    disabled: 'boolean',
    expired: 'boolean',
    locked_for_unpaid: 'boolean',
    expires_at: 'timestamptz',
    currency: 'text',
    credit: 'numeric',
    balance_due: 'numeric',
    special_price: 'numeric',
    registered_on: 'date',
    updated_at: 'timestamptz',
    /** What the search box matches: name, username, mobile, MAC and static IP, lower-cased (`searchTextOf`). */
    search_text: 'text',
  },
  indexes: [
    // Paging is keyset on (name, customer_id) within an ISP; every filter below is an index of its own.
    'CREATE INDEX ON {table} (tenant, name, customer_id)',
    'CREATE INDEX ON {table} USING gin (chain)',
    'CREATE INDEX ON {table} (tenant, status, name, customer_id)',
    'CREATE INDEX ON {table} (tenant, package_id)',
    'CREATE INDEX ON {table} (tenant, zone)',
    'CREATE INDEX ON {table} (tenant, expires_at)',
    'CREATE INDEX ON {table} (tenant, mobile)',
    // The search box: one trigram index over one column, so the planner weighs one condition (DESIGN §6).
    'CREATE INDEX ON {table} USING gin (search_text gin_trgm_ops)',
  ],
} as const;

export const customersProjection: Projection = {
  name: 'customers',
  // 2: data quotas, contact preferences, and notification deliveries (notifications-<id> streams) on the timeline.
  // 3: one search_text column with one trigram index, instead of OR-ing five conditions the planner misjudged.
  version: 3,
  tables: [
    customerTable,
    {
      name: CUSTOMER_COUNTS,
      key: ['tenant', 'operator_id', 'status'],
      counter: true,
      columns: { tenant: 'text', operator_id: 'text', status: 'text', customers: 'integer' },
    },
    {
      name: CUSTOMER_TIMELINE,
      write_once: true,
      key: ['customer_id', 'global_position'],
      columns: {
        customer_id: 'text',
        global_position: 'bigint',
        event_id: 'text',
        tenant: 'text',
        occurred_at: 'timestamptz',
        recorded_at: 'timestamptz',
        type: 'text',
        actor: 'text',
        status_before: 'text',
        status_after: 'text',
        summary: 'text',
        refs: 'jsonb',
      },
    },
  ],
  reads: (event) => {
    const customer_id = customerIdOf(event);
    if (customer_id === null || event.type === 'customer-registered') return [];
    return [ref(CUSTOMERS, { customer_id })];
  },
  handle: (event, rows) => {
    const customer_id = customerIdOf(event);
    if (customer_id === null) return [];
    const before = event.type === 'customer-registered' ? undefined : rows.get(CUSTOMERS, { customer_id });
    if (event.type !== 'customer-registered' && before === undefined) return [];
    // A delivery changes nothing about the customer: only a timeline line, with the status as it stands.
    const after = isNotification(event) ? (before ?? null) : nextRow(before, event);
    if (after === null) return [];
    const status_before = before === undefined ? null : (before.status as CustomerStatus);
    const status_after = after.status as CustomerStatus;
    const changes: RowChange[] = isNotification(event) ? [] : [put(CUSTOMERS, { ...after, search_text: searchTextOf(after) })];
    if (status_before !== status_after || before?.operator_id !== after.operator_id) {
      if (before !== undefined) changes.push(count(before, -1));
      changes.push(count(after, +1));
    }
    changes.push(
      put(CUSTOMER_TIMELINE, {
        customer_id,
        global_position: event.global_position.toString(),
        event_id: event.event_id,
        tenant: tenantOf(event),
        occurred_at: occurredAt(event),
        recorded_at: event.recorded_at.toISOString(),
        type: event.type,
        actor: actorOf(event),
        status_before,
        status_after,
        ...describe(event, after),
      }),
    );
    return changes;
  },
};

/**
 * Every identifier staff type into the search box, in one lower-cased string: a part of any of them finds the
 * customer. MACs are stored normalised (AA:BB:…), and the search normalises what is typed the same way.
 */
export function searchTextOf(row: Row): string {
  return [row.name, row.username, row.mobile, row.mac, row.static_ip]
    .filter((value): value is string => typeof value === 'string' && value !== '')
    .join(' ')
    .toLowerCase();
}

function count(row: Row, delta: 1 | -1): RowChange {
  return add(CUSTOMER_COUNTS, { tenant: row.tenant as string, operator_id: row.operator_id as string, status: row.status as string }, { customers: delta });
}

/**
 * Only the customer's own stream speaks for it (a card redemption is also a payment-received there), and its
 * notification stream, whose deliveries the timeline shows.
 */
function customerIdOf(event: RecordedEvent): string | null {
  if (!event.stream_id.startsWith('customer-') && !isNotification(event)) return null;
  return (event.data as { customer_id?: string }).customer_id ?? null;
}

const isNotification = (event: RecordedEvent): boolean => event.stream_id.startsWith(NOTIFICATION_STREAM_PREFIX);

const withStatus = (row: Row): Row => ({ ...row, status: customerStatus(row as never) });

/** The customer row after `event`, or null when the event does not change it (and is not worth a timeline line). */
function nextRow(before: Row | undefined, recorded: RecordedEvent): Row | null {
  const event = asDomain<CustomerEvent>(recorded);
  const updated_at = occurredAt(recorded);
  if (event.type === 'customer-registered') {
    const d = event.data;
    return withStatus({
      customer_id: d.customer_id,
      tenant: d.tenant,
      operator_id: d.operator_id,
      chain: d.chain,
      connection_type: d.connection_type,
      name: d.name,
      username: d.username,
      mobile: d.mobile,
      mac: d.mac,
      static_ip: d.static_ip,
      zone: d.zone,
      package_id: d.package_id,
      billing_profile: d.profile.kind,
      status: '',
      suspended: false,
      disabled: false,
      expired: startsExpired(d.profile),
      locked_for_unpaid: false,
      expires_at: null,
      currency: d.currency,
      credit: zero(d.currency),
      balance_due: zero(d.currency),
      special_price: d.special_price,
      registered_on: d.registered_on,
      updated_at,
    });
  }
  if (before === undefined) return null;
  const currency = before.currency as string;
  const row: Row = { ...before, updated_at };
  switch (event.type) {
    case 'customer-details-changed':
      return { ...row, name: event.data.name, mobile: event.data.mobile, zone: event.data.zone };
    case 'customer-recharged':
      return { ...row, package_id: event.data.package_id, expires_at: event.data.expires_at_after };
    case 'payment-received': {
      const d = event.data;
      const allocated = sumOf(
        d.allocations.map((allocation) => allocation.amount),
        currency,
      );
      return {
        ...row,
        credit: minus(plus(row.credit as string, d.to_credit, currency), d.credit_used, currency),
        balance_due: minus(row.balance_due as string, allocated, currency),
      };
    }
    case 'payment-refunded': {
      const d = event.data;
      const reopened = sumOf(
        d.reopened.map((allocation) => allocation.amount),
        currency,
      );
      return { ...row, credit: minus(row.credit as string, d.credit_reduced, currency), balance_due: plus(row.balance_due as string, reopened, currency) };
    }
    case 'bill-issued':
      return { ...row, balance_due: plus(row.balance_due as string, event.data.amount, currency) };
    case 'credit-applied':
      return {
        ...row,
        credit: minus(row.credit as string, event.data.amount, currency),
        balance_due: minus(row.balance_due as string, event.data.amount, currency),
      };
    case 'credit-granted':
      return { ...row, credit: plus(row.credit as string, event.data.amount, currency) };
    case 'customer-suspended':
      return withStatus({ ...row, suspended: true });
    case 'customer-resumed':
      return withStatus({ ...row, suspended: false });
    case 'customer-expired':
      return withStatus({ ...row, expired: true });
    case 'customer-locked':
      return withStatus({ ...row, expired: true, locked_for_unpaid: true });
    case 'customer-reactivated':
      return withStatus({ ...row, expired: false, locked_for_unpaid: false });
    case 'customer-disabled':
      return withStatus({ ...row, disabled: true });
    case 'customer-enabled':
      return withStatus({ ...row, disabled: false });
    case 'expiry-set':
      return { ...row, expires_at: event.data.expires_at };
    case 'mac-bound':
      return { ...row, mac: event.data.mac };
    case 'mac-unbound':
      return { ...row, mac: null };
    case 'package-changed':
      return { ...row, package_id: event.data.to_package_id };
    case 'special-price-set':
      return { ...row, special_price: event.data.special_price };
    case 'customer-moved':
      return { ...row, operator_id: event.data.to_operator_id, chain: event.data.chain };
    case 'billing-profile-changed':
      return { ...row, billing_profile: event.data.to.kind, expires_at: event.data.expires_at };
    case 'data-quota-reached':
    case 'contact-preferences-set':
      return row;
  }
}

/** The timeline's words for an event: what happened, and the ids a person would click through to. */
function describe(recorded: RecordedEvent, after: Row): { summary: string; refs: Readonly<Record<string, unknown>> } {
  const event = asDomain<CustomerEvent>(recorded);
  const currency = after.currency as string;
  switch (event.type) {
    case 'customer-registered':
      return { summary: `Registered (${event.data.connection_type}) under operator ${event.data.operator_id} on package ${event.data.package_id}`, refs: { package_id: event.data.package_id } };
    case 'customer-details-changed':
      return { summary: `Details changed: ${event.data.name}, ${event.data.mobile}, zone ${event.data.zone}`, refs: {} };
    case 'customer-recharged':
      return {
        summary: `Recharged ${event.data.days} days of package ${event.data.package_id} for ${event.data.price} ${currency}; valid until ${event.data.expires_at_after}`,
        refs: { payment_id: event.data.payment_id, package_id: event.data.package_id },
      };
    case 'payment-received': {
      const d = event.data;
      const how = d.method === 'online' ? `online via ${d.gateway ?? 'gateway'} (${d.gateway_reference ?? 'no reference'})` : d.method === 'card' ? `by recharge card ${d.card?.serial ?? ''}` : d.method === 'reseller_wallet' ? 'from the reseller wallet' : 'in cash';
      const bills = d.allocations.map((allocation) => `${allocation.amount} to bill ${allocation.bill_id}`).join(', ');
      return {
        summary: `Payment ${d.amount} ${d.currency} ${how}, collected by ${d.collected_by}${bills === '' ? '' : `; ${bills}`}${d.to_credit !== zero(d.currency) ? `; ${d.to_credit} kept as credit` : ''}`,
        refs: { payment_id: d.payment_id, bill_ids: d.allocations.map((allocation) => allocation.bill_id) },
      };
    }
    case 'payment-refunded':
      return {
        summary: `Refund ${event.data.amount} ${event.data.currency} of payment ${event.data.payment_id}: ${event.data.reason}`,
        refs: { refund_id: event.data.refund_id, payment_id: event.data.payment_id, bill_ids: event.data.reopened.map((allocation) => allocation.bill_id) },
      };
    case 'bill-issued':
      return {
        summary: `Bill for ${event.data.period} issued: ${event.data.amount} ${event.data.currency}, due ${event.data.due_on}`,
        refs: { bill_id: event.data.bill_id },
      };
    case 'credit-applied':
      return { summary: `Credit ${event.data.amount} applied to bill ${event.data.bill_id}`, refs: { bill_id: event.data.bill_id } };
    case 'credit-granted':
      return { summary: `Credit ${event.data.amount} granted (${event.data.reason})`, refs: {} };
    case 'customer-suspended':
      return { summary: `Suspended by ${event.data.by}: ${event.data.reason}`, refs: { by: event.data.by } };
    case 'customer-resumed':
      return { summary: `Resumed by ${event.data.by}`, refs: { by: event.data.by } };
    case 'customer-expired':
      return { summary: `Expired: validity ended ${event.data.expired_at}`, refs: {} };
    case 'customer-locked':
      return { summary: `Locked for unpaid bills ${event.data.overdue_bill_ids.join(', ')}`, refs: { bill_ids: event.data.overdue_bill_ids } };
    case 'customer-reactivated':
      return { summary: `Reactivated (${event.data.reason})`, refs: {} };
    case 'customer-disabled':
      return { summary: `Disabled by ${event.data.by}: ${event.data.reason}`, refs: { by: event.data.by } };
    case 'customer-enabled':
      return { summary: `Enabled by ${event.data.by}`, refs: { by: event.data.by } };
    case 'expiry-set':
      return { summary: `Expiry set to ${event.data.expires_at} by ${event.data.by}: ${event.data.reason}`, refs: { by: event.data.by } };
    case 'mac-bound':
      return { summary: `MAC ${event.data.mac} bound`, refs: {} };
    case 'mac-unbound':
      return { summary: `MAC ${event.data.mac} unbound`, refs: {} };
    case 'package-changed':
      return {
        summary: `Package changed from ${event.data.from_package_id} to ${event.data.to_package_id} on ${event.data.changed_on} (credit ${event.data.credit}, charge ${event.data.charge})`,
        refs: { package_id: event.data.to_package_id },
      };
    case 'special-price-set':
      return { summary: event.data.special_price === null ? 'Special price removed' : `Special price set to ${event.data.special_price}`, refs: {} };
    case 'customer-moved':
      return { summary: `Moved from operator ${event.data.from_operator_id} to ${event.data.to_operator_id}`, refs: {} };
    case 'billing-profile-changed':
      return { summary: `Billing changed from ${event.data.from.kind} to ${event.data.to.kind}`, refs: {} };
    case 'data-quota-reached':
      return {
        summary: `Data quota of ${event.data.quota_mb} MB on package ${event.data.package_id} reached (${event.data.used_octets} bytes used in ${event.data.usage_period})`,
        refs: { package_id: event.data.package_id },
      };
    case 'contact-preferences-set':
      return {
        summary: `Notifications: ${event.data.channels === null ? 'ISP default channels' : event.data.channels.length === 0 ? 'none' : event.data.channels.join(', ')}, language ${event.data.language ?? 'ISP default'}${event.data.email === null ? '' : `, email ${maskRecipient(event.data.email)}`}`,
        refs: {},
      };
    default:
      if (isNotification(recorded)) return describeNotification(asDomain<NotificationEvent>(recorded));
      return { summary: recorded.type, refs: {} };
  }
}

/** A delivery's timeline line: what was sent, how, to whom (masked), and whether it arrived. */
function describeNotification(event: NotificationEvent): { summary: string; refs: Readonly<Record<string, unknown>> } {
  const d = event.data;
  const refs = { notification_id: d.notification_id, subject: d.subject_ref };
  if (event.type === 'notification-sent') {
    return { summary: `Notification ${d.kind} sent by ${d.channel} to ${d.recipient} via ${d.provider} (${d.language}, attempt ${d.attempts})`, refs };
  }
  return { summary: `Notification ${d.kind} by ${d.channel} to ${d.recipient} failed after ${d.attempts} attempts: ${event.data.error}`, refs };
}
