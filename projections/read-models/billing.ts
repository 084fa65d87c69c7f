import type { RecordedEvent } from '../../eventstore/event-store.js';
import type { CustomerEvent } from '../../domain/customers/customer.js';
import { Money } from '../../domain/money/money.js';
import { put, ref, type Projection, type Row, type RowChange, type RowReader, type RowRef } from '../projection.js';
import { actorOf, asDomain, minus, occurredAt, plus, tenantOf, zero } from './event-fields.js';

/**
 * Bills, payments and refunds as lists people filter and export: who owes what since when, who collected what;
 * and every movement of a bill's paid amount (a payment, credit applied, a refund reopening it), which is what
 * an invoice lists under "payments applied".
 * `billing_customers` remembers each customer's ISP, owning operator and chain so every row can be scoped to
 * an operator's subtree in SQL.
 */
export const BILLS = 'bills';
export const PAYMENTS = 'payments';
export const REFUNDS = 'refunds';
export const BILL_SETTLEMENTS = 'bill_settlements';
const OWNERS = 'billing_customers';

export const billingProjection: Projection = {
  name: 'billing',
  // 2: bill_settlements, and bills by (tenant, issued_on, bill_id) for exports.
  version: 2,
  tables: [
    {
      name: OWNERS,
      key: ['customer_id'],
      columns: { customer_id: 'text', tenant: 'text', operator_id: 'text', chain: 'text[]', currency: 'text' },
    },
    {
      name: BILLS,
      key: ['bill_id'],
      columns: {
        bill_id: 'text',
        tenant: 'text',
        customer_id: 'text',
        operator_id: 'text',
        chain: 'text[]',
        kind: 'text',
        period: 'text',
        covers_from: 'date',
        covers_until: 'date',
        package_id: 'text',
        currency: 'text',
        amount: 'numeric',
        paid: 'numeric',
        open: 'numeric',
        status: 'text',
        issued_on: 'date',
        due_on: 'date',
        settled_at: 'timestamptz',
      },
      indexes: [
        'CREATE INDEX ON {table} (customer_id, issued_on)',
        'CREATE INDEX ON {table} (tenant, status, due_on)',
        'CREATE INDEX ON {table} USING gin (chain)',
        'CREATE INDEX ON {table} (tenant, period)',
        // Exports page through a tenant's bills in issue order.
        'CREATE INDEX ON {table} (tenant, issued_on, bill_id)',
      ],
    },
    {
      name: PAYMENTS,
      key: ['payment_id'],
      columns: {
        payment_id: 'text',
        tenant: 'text',
        customer_id: 'text',
        operator_id: 'text',
        chain: 'text[]',
        method: 'text',
        currency: 'text',
        amount: 'numeric',
        refunded: 'numeric',
        received_at: 'timestamptz',
        collected_by: 'text',
        collector_operator_id: 'text',
        gateway: 'text',
        gateway_reference: 'text',
        card_batch_id: 'text',
        card_serial: 'text',
        allocations: 'jsonb',
        to_recharge: 'numeric',
        to_credit: 'numeric',
        commission: 'jsonb',
        recorded_by: 'text',
      },
      indexes: [
        'CREATE INDEX ON {table} (customer_id, received_at)',
        'CREATE INDEX ON {table} (tenant, received_at)',
        'CREATE INDEX ON {table} (tenant, collected_by, received_at)',
        'CREATE INDEX ON {table} USING gin (chain)',
        'CREATE INDEX ON {table} (gateway_reference)',
      ],
    },
    {
      name: REFUNDS,
      key: ['refund_id'],
      columns: {
        refund_id: 'text',
        tenant: 'text',
        payment_id: 'text',
        customer_id: 'text',
        currency: 'text',
        amount: 'numeric',
        reason: 'text',
        reopened: 'jsonb',
        credit_reduced: 'numeric',
        recharge_reversed: 'numeric',
        commission_clawback: 'jsonb',
        refunded_at: 'timestamptz',
        recorded_by: 'text',
      },
      indexes: ['CREATE INDEX ON {table} (payment_id)', 'CREATE INDEX ON {table} (tenant, refunded_at)'],
    },
    {
      name: BILL_SETTLEMENTS,
      write_once: true,
      key: ['bill_id', 'global_position'],
      columns: {
        bill_id: 'text',
        global_position: 'bigint',
        tenant: 'text',
        customer_id: 'text',
        /** payment: money applied; credit: the customer's credit applied; refund: a refund reopened the bill (amount negative). */
        kind: 'text',
        payment_id: 'text',
        refund_id: 'text',
        amount: 'numeric',
        at: 'timestamptz',
      },
    },
  ],
  reads: (recorded) => {
    if (!recorded.stream_id.startsWith('customer-')) return [];
    const event = asDomain<CustomerEvent>(recorded);
    const owner = ref(OWNERS, { customer_id: event.data.customer_id });
    switch (event.type) {
      case 'bill-issued':
        return [owner];
      case 'payment-received':
        return [owner, ...event.data.allocations.map((allocation) => ref(BILLS, { bill_id: allocation.bill_id }))];
      case 'payment-refunded':
        return [ref(PAYMENTS, { payment_id: event.data.payment_id }), ...event.data.reopened.map((allocation) => ref(BILLS, { bill_id: allocation.bill_id }))];
      case 'credit-applied':
        return [ref(BILLS, { bill_id: event.data.bill_id })];
      case 'customer-moved':
        return [owner];
      default:
        return [] as RowRef[];
    }
  },
  handle: (recorded, rows) => {
    if (!recorded.stream_id.startsWith('customer-')) return [];
    const event = asDomain<CustomerEvent>(recorded);
    switch (event.type) {
      case 'customer-registered': {
        const d = event.data;
        return [put(OWNERS, { customer_id: d.customer_id, tenant: d.tenant, operator_id: d.operator_id, chain: d.chain, currency: d.currency })];
      }
      case 'customer-moved': {
        const owner = rows.get(OWNERS, { customer_id: event.data.customer_id });
        if (owner === undefined) return [];
        return [put(OWNERS, { ...owner, operator_id: event.data.to_operator_id, chain: event.data.chain })];
      }
      case 'bill-issued': {
        const d = event.data;
        const owner = rows.get(OWNERS, { customer_id: d.customer_id });
        return [
          put(BILLS, {
            bill_id: d.bill_id,
            tenant: tenantOf(recorded),
            customer_id: d.customer_id,
            operator_id: (owner?.operator_id as string | undefined) ?? null,
            chain: (owner?.chain as string[] | undefined) ?? [],
            kind: d.kind,
            period: d.period,
            covers_from: d.covers_from,
            covers_until: d.covers_until,
            package_id: d.package_id,
            currency: d.currency,
            amount: d.amount,
            paid: zero(d.currency),
            open: d.amount,
            status: Money.parse(d.amount, d.currency).isPositive() ? 'open' : 'paid',
            issued_on: d.issued_on,
            due_on: d.due_on,
            settled_at: null,
          }),
        ];
      }
      case 'payment-received': {
        const d = event.data;
        const owner = rows.get(OWNERS, { customer_id: d.customer_id });
        const changes: RowChange[] = d.allocations.flatMap((allocation) => settle(rows, recorded, allocation.bill_id, allocation.amount, +1, { kind: 'payment', payment_id: d.payment_id, refund_id: null }));
        changes.push(
          put(PAYMENTS, {
            payment_id: d.payment_id,
            tenant: tenantOf(recorded),
            customer_id: d.customer_id,
            operator_id: (owner?.operator_id as string | undefined) ?? d.chain[d.chain.length - 1] ?? null,
            chain: (owner?.chain as string[] | undefined) ?? [...d.chain],
            method: d.method,
            currency: d.currency,
            amount: d.amount,
            refunded: zero(d.currency),
            received_at: d.received_at,
            collected_by: d.collected_by,
            collector_operator_id: d.collector_operator_id,
            gateway: d.gateway,
            gateway_reference: d.gateway_reference,
            card_batch_id: d.card?.batch_id ?? null,
            card_serial: d.card?.serial ?? null,
            allocations: d.allocations,
            to_recharge: d.to_recharge,
            to_credit: d.to_credit,
            commission: d.commission,
            recorded_by: actorOf(recorded),
          }),
        );
        return changes;
      }
      case 'payment-refunded': {
        const d = event.data;
        const changes: RowChange[] = d.reopened.flatMap((allocation) => settle(rows, recorded, allocation.bill_id, allocation.amount, -1, { kind: 'refund', payment_id: d.payment_id, refund_id: d.refund_id }));
        const payment = rows.get(PAYMENTS, { payment_id: d.payment_id });
        if (payment !== undefined) changes.push(put(PAYMENTS, { ...payment, refunded: plus(payment.refunded as string, d.amount, d.currency) }));
        changes.push(
          put(REFUNDS, {
            refund_id: d.refund_id,
            tenant: tenantOf(recorded),
            payment_id: d.payment_id,
            customer_id: d.customer_id,
            currency: d.currency,
            amount: d.amount,
            reason: d.reason,
            reopened: d.reopened,
            credit_reduced: d.credit_reduced,
            recharge_reversed: d.recharge_reversed,
            commission_clawback: d.commission_clawback,
            refunded_at: occurredAt(recorded),
            recorded_by: actorOf(recorded),
          }),
        );
        return changes;
      }
      case 'credit-applied':
        return settle(rows, recorded, event.data.bill_id, event.data.amount, +1, { kind: 'credit', payment_id: null, refund_id: null });
      default:
        return [];
    }
  },
};

type SettlementSource = Readonly<{ kind: 'payment' | 'credit' | 'refund'; payment_id: string | null; refund_id: string | null }>;

/** Money paid to (+1) or reopened on (-1) a bill; its status follows what is still open, and the movement is listed. */
function settle(rows: RowReader, recorded: RecordedEvent, bill_id: string, amount: string, direction: 1 | -1, source: SettlementSource): RowChange[] {
  const bill: Row | undefined = rows.get(BILLS, { bill_id });
  if (bill === undefined) return [];
  const currency = bill.currency as string;
  const paid = direction === 1 ? plus(bill.paid as string, amount, currency) : minus(bill.paid as string, amount, currency);
  const open = minus(bill.amount as string, paid, currency);
  const settled = !Money.parse(open, currency).isPositive();
  const status = settled ? 'paid' : Money.parse(paid, currency).isPositive() ? 'partially_paid' : 'open';
  return [
    put(BILLS, { ...bill, paid, open, status, settled_at: settled ? (bill.settled_at ?? occurredAt(recorded)) : null }),
    put(BILL_SETTLEMENTS, {
      bill_id,
      global_position: recorded.global_position.toString(),
      tenant: bill.tenant as string,
      customer_id: bill.customer_id as string,
      ...source,
      amount: direction === 1 ? Money.parse(amount, currency).toString() : minus('0', amount, currency),
      at: occurredAt(recorded),
    }),
  ];
}
