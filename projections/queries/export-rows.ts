import type pg from 'pg';
import { z } from 'zod';
import { chainScopeSql, operatorInSubtreeSql, SqlParams, type ListScope } from './list-scope.js';

/**
 * The rows of the table exports that are not books reports: customers, bills, payments, collections per
 * collector and card batches, each read from its read model a page at a time by keyset (so 1,000,000 rows
 * stream in bounded memory and page 1,000 costs what page 1 does), inside the caller's snapshot (give each a
 * client in a REPEATABLE READ transaction, so the pages agree with each other), within a ListScope.
 * Amounts are numeric text, days YYYY-MM-DD, instants ISO 8601 in UTC, as the API lists them.
 */
const PAGE = 2_000;
const INSTANT = (column: string): string => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
const DAY = (column: string): string => `to_char(${column}, 'YYYY-MM-DD')`;
const day = z.iso.date();

/** Pages through a query ordered by `keys`, with the last row's keys as the next page's lower bound. */
async function* keyset<Row extends Record<string, unknown>>(
  client: pg.ClientBase,
  build: (params: SqlParams) => { from_where: string; select: string },
  keys: readonly (readonly [sql: string, field: keyof Row & string, cast: string])[],
): AsyncGenerator<Row> {
  let after: unknown[] | null = null;
  for (;;) {
    const params = new SqlParams();
    const { from_where, select } = build(params);
    const bounds: readonly unknown[] | null = after;
    const bound: string = bounds === null ? '' : ` AND (${keys.map(([sql]) => sql).join(', ')}) > (${keys.map(([, , cast], index) => `${params.add(bounds[index])}${cast}`).join(', ')})`;
    const page: pg.QueryResult<Row> = await client.query<Row>(`SELECT ${select} ${from_where}${bound} ORDER BY ${keys.map(([sql]) => sql).join(', ')} LIMIT ${PAGE}`, params.values);
    yield* page.rows;
    if (page.rows.length < PAGE) return;
    const last: Row = page.rows[page.rows.length - 1]!;
    after = keys.map(([, field]) => last[field]);
  }
}

// --- customers ----------------------------------------------------------------------------------------------------

export const CustomerRowsFilter = z
  .object({
    operator_id: z.string().min(1).max(64).optional(),
    zone: z.string().min(1).max(64).optional(),
    status: z.enum(['active', 'suspended', 'expired', 'disabled']).optional(),
    package_id: z.string().min(1).max(64).optional(),
  })
  .strict();

export type CustomerRow = {
  customer_id: string;
  name: string;
  username: string | null;
  mobile: string;
  connection_type: string;
  zone: string;
  operator_id: string;
  operator_name: string | null;
  package_id: string;
  package_name: string | null;
  billing_profile: string;
  status: string;
  registered_on: string | null;
  expires_at: string | null;
  balance_due: string;
  credit: string;
};

/** Customers by name (keyset on name, customer_id: the (tenant, name, customer_id) index). */
export function customerRows(client: pg.ClientBase, scope: ListScope, filter: z.input<typeof CustomerRowsFilter> = {}): AsyncGenerator<CustomerRow> {
  const chosen = CustomerRowsFilter.parse(filter);
  return keyset<CustomerRow>(
    client,
    (params) => {
      const where = [chainScopeSql(scope, params, 'c')];
      if (chosen.operator_id !== undefined) where.push(`c.operator_id = ${params.add(chosen.operator_id)}`);
      if (chosen.zone !== undefined) where.push(`c.zone = ${params.add(chosen.zone)}`);
      if (chosen.status !== undefined) where.push(`c.status = ${params.add(chosen.status)}`);
      if (chosen.package_id !== undefined) where.push(`c.package_id = ${params.add(chosen.package_id)}`);
      return {
        select: `c.customer_id, c.name, c.username, c.mobile, c.connection_type, c.zone, c.operator_id, o.name AS operator_name, c.package_id, p.name AS package_name,
                 c.billing_profile, c.status, ${DAY('c.registered_on')} AS registered_on, ${INSTANT('c.expires_at')} AS expires_at, c.balance_due::text AS balance_due, c.credit::text AS credit`,
        from_where: `FROM customers c LEFT JOIN operators o ON o.operator_id = c.operator_id LEFT JOIN packages p ON p.package_id = c.package_id WHERE ${where.join(' AND ')}`,
      };
    },
    [
      ['c.name', 'name', '::text'],
      ['c.customer_id', 'customer_id', '::text'],
    ],
  );
}

// --- bills --------------------------------------------------------------------------------------------------------

export const BillRowsFilter = z
  .object({
    period: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'a month, YYYY-MM').optional(),
    status: z.enum(['open', 'partially_paid', 'paid']).optional(),
    operator_id: z.string().min(1).max(64).optional(),
    from: day.optional(),
    to: day.optional(),
  })
  .strict();

export type BillRow = {
  bill_id: string;
  customer_id: string;
  customer_name: string | null;
  operator_id: string | null;
  kind: string;
  period: string;
  covers_from: string;
  covers_until: string;
  package_id: string;
  issued_on: string;
  due_on: string;
  amount: string;
  paid: string;
  open: string;
  status: string;
  settled_at: string | null;
};

/** Bills in the order they were issued (keyset on issued_on, bill_id), optionally of a period, status or issue days. */
export function billRows(client: pg.ClientBase, scope: ListScope, filter: z.input<typeof BillRowsFilter> = {}): AsyncGenerator<BillRow> {
  const chosen = BillRowsFilter.parse(filter);
  return keyset<BillRow>(
    client,
    (params) => {
      const where = [chainScopeSql(scope, params, 'b')];
      if (chosen.period !== undefined) where.push(`b.period = ${params.add(chosen.period)}`);
      if (chosen.status !== undefined) where.push(`b.status = ${params.add(chosen.status)}`);
      if (chosen.operator_id !== undefined) where.push(`b.chain @> ARRAY[${params.add(chosen.operator_id)}]::text[]`);
      if (chosen.from !== undefined) where.push(`b.issued_on >= ${params.add(chosen.from)}::date`);
      if (chosen.to !== undefined) where.push(`b.issued_on <= ${params.add(chosen.to)}::date`);
      return {
        select: `b.bill_id, b.customer_id, c.name AS customer_name, b.operator_id, b.kind, b.period, ${DAY('b.covers_from')} AS covers_from, ${DAY('b.covers_until')} AS covers_until,
                 b.package_id, ${DAY('b.issued_on')} AS issued_on, ${DAY('b.due_on')} AS due_on, b.amount::text AS amount, b.paid::text AS paid, b.open::text AS open, b.status,
                 ${INSTANT('b.settled_at')} AS settled_at`,
        from_where: `FROM bills b LEFT JOIN customers c ON c.customer_id = b.customer_id WHERE ${where.join(' AND ')}`,
      };
    },
    [
      ['b.issued_on', 'issued_on', '::date'],
      ['b.bill_id', 'bill_id', '::text'],
    ],
  );
}

// --- payments -----------------------------------------------------------------------------------------------------

export const PaymentRowsFilter = z
  .object({
    method: z.enum(['cash', 'online', 'card', 'reseller_wallet']).optional(),
    collected_by: z.string().min(1).max(64).optional(),
    operator_id: z.string().min(1).max(64).optional(),
    /** Instants: payments received at or after `from` and before `until`. */
    from: z.iso.datetime({ offset: true }).optional(),
    until: z.iso.datetime({ offset: true }).optional(),
  })
  .strict();

export type PaymentRow = {
  payment_id: string;
  received_at: string;
  customer_id: string;
  customer_name: string | null;
  operator_id: string | null;
  method: string;
  amount: string;
  refunded: string;
  to_recharge: string;
  to_credit: string;
  collected_by: string;
  collector_operator_id: string;
  gateway: string | null;
  gateway_reference: string | null;
  card_batch_id: string | null;
  card_serial: string | null;
};

/** Payments in the order they were received (keyset on received_at, payment_id). */
export function paymentRows(client: pg.ClientBase, scope: ListScope, filter: z.input<typeof PaymentRowsFilter> = {}): AsyncGenerator<PaymentRow> {
  const chosen = PaymentRowsFilter.parse(filter);
  return keyset<PaymentRow>(
    client,
    (params) => {
      const where = [chainScopeSql(scope, params, 'p')];
      if (chosen.method !== undefined) where.push(`p.method = ${params.add(chosen.method)}`);
      if (chosen.collected_by !== undefined) where.push(`p.collected_by = ${params.add(chosen.collected_by)}`);
      if (chosen.operator_id !== undefined) where.push(`p.chain @> ARRAY[${params.add(chosen.operator_id)}]::text[]`);
      if (chosen.from !== undefined) where.push(`p.received_at >= ${params.add(chosen.from)}::timestamptz`);
      if (chosen.until !== undefined) where.push(`p.received_at < ${params.add(chosen.until)}::timestamptz`);
      return {
        select: `p.payment_id, ${INSTANT('p.received_at')} AS received_at, p.customer_id, c.name AS customer_name, p.operator_id, p.method, p.amount::text AS amount,
                 p.refunded::text AS refunded, p.to_recharge::text AS to_recharge, p.to_credit::text AS to_credit, p.collected_by, p.collector_operator_id, p.gateway,
                 p.gateway_reference, p.card_batch_id, p.card_serial`,
        from_where: `FROM payments p LEFT JOIN customers c ON c.customer_id = p.customer_id WHERE ${where.join(' AND ')}`,
      };
    },
    [
      ['p.received_at', 'received_at', '::timestamptz'],
      ['p.payment_id', 'payment_id', '::text'],
    ],
  );
}

// --- collections per collector ----------------------------------------------------------------------------------------

export const CollectionRowsFilter = z.object({ from: day.optional(), to: day.optional(), collected_by: z.string().min(1).max(64).optional() }).strict();

export type CollectionRow = {
  collected_by: string;
  collector_name: string | null;
  collector_operator_id: string;
  collector_operator_name: string | null;
  day: string;
  method: string;
  payments: number;
  amount: string;
};

/**
 * What each collector took in, per day (of the ISP's calendar) and method, net of refunds: the dashboard's
 * running sums (collections_daily by (tenant, day)), for collectors acting for an operator in the scope.
 */
export function collectionRows(client: pg.ClientBase, scope: ListScope, filter: z.input<typeof CollectionRowsFilter> = {}): AsyncGenerator<CollectionRow> {
  const chosen = CollectionRowsFilter.parse(filter);
  return keyset<CollectionRow>(
    client,
    (params) => {
      const where = [`d.tenant = ${params.add(scope.tenant)}`, operatorInSubtreeSql(scope, params, 'd.collector_operator_id')];
      if (chosen.from !== undefined) where.push(`d.day >= ${params.add(chosen.from)}::date`);
      if (chosen.to !== undefined) where.push(`d.day <= ${params.add(chosen.to)}::date`);
      if (chosen.collected_by !== undefined) where.push(`d.collected_by = ${params.add(chosen.collected_by)}`);
      return {
        select: `d.collected_by, COALESCE(s.name, co.name) AS collector_name, d.collector_operator_id, o.name AS collector_operator_name, ${DAY('d.day')} AS day, d.method,
                 d.payments::int AS payments, d.amount::text AS amount`,
        from_where: `FROM collections_daily d LEFT JOIN staff s ON s.staff_id = d.collected_by LEFT JOIN operators co ON co.operator_id = d.collected_by
                     LEFT JOIN operators o ON o.operator_id = d.collector_operator_id WHERE ${where.join(' AND ')}`,
      };
    },
    [
      ['d.collected_by', 'collected_by', '::text'],
      ['d.collector_operator_id', 'collector_operator_id', '::text'],
      ['d.day', 'day', '::date'],
      ['d.method', 'method', '::text'],
    ],
  );
}

// --- card batches -------------------------------------------------------------------------------------------------------

export type CardBatchRow = {
  batch_id: string;
  value: string;
  package_id: string | null;
  expires_on: string;
  cards: number;
  available: number;
  assigned: number;
  redeemed: number;
  expired: number;
  redeemed_value: string;
};

/**
 * Card batches with their cards by status, as the cards read model holds them: the ISP level sees all of the
 * ISP's cards, an operator below it the cards held in its subtree. A card past its expiry date that was not
 * redeemed counts as expired (`today` is the ISP's local day).
 */
export async function* cardBatchRows(client: pg.ClientBase, scope: ListScope, today: string): AsyncGenerator<CardBatchRow> {
  const params = new SqlParams();
  const visible = scope.operator_id === null || scope.operator_id === scope.tenant ? 'true' : operatorInSubtreeSql(scope, params, 'c.assigned_operator_id');
  const status = `CASE WHEN c.status <> 'redeemed' AND c.expires_on < ${params.add(today)}::date THEN 'expired' ELSE c.status END`;
  const found = await client.query<CardBatchRow>(
    `SELECT c.batch_id, c.value::text AS value, c.package_id, ${DAY('c.expires_on')} AS expires_on, count(*)::int AS cards,
            count(*) FILTER (WHERE ${status} = 'available')::int AS available, count(*) FILTER (WHERE ${status} = 'assigned')::int AS assigned,
            count(*) FILTER (WHERE ${status} = 'redeemed')::int AS redeemed, count(*) FILTER (WHERE ${status} = 'expired')::int AS expired,
            COALESCE(sum(c.value) FILTER (WHERE c.status = 'redeemed'), 0)::text AS redeemed_value
       FROM recharge_cards c WHERE c.tenant = ${params.add(scope.tenant)} AND ${visible}
      GROUP BY c.batch_id, c.value, c.package_id, c.expires_on ORDER BY c.batch_id`,
    params.values,
  );
  yield* found.rows;
}
