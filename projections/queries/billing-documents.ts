import type pg from 'pg';
import { z } from 'zod';
import { Money } from '../../domain/money/money.js';
import { inSnapshot, moneyFromSql, type Queryable } from './books-common.js';
import { chainScopeSql, SqlParams, type ListScope } from './list-scope.js';

/**
 * What an invoice and a money receipt print, read from the billing, customers and operators read models: the
 * bill as the billing projection keeps it (amount, paid, open), every movement of its paid amount
 * (bill_settlements), the customer, its package and operator; a payment with the bills it settled, its
 * refunds and who collected it. Nothing is computed here that the read models do not already hold; the one
 * sum taken (the settlements) is checked against the bill's own paid amount, two paths to one number.
 */
export class DocumentNotFound extends Error {
  readonly code = 'NOT_FOUND';
  constructor(message: string) {
    super(message);
    this.name = 'DocumentNotFound';
  }
}

/** The read models contradict each other (a bill's paid amount and its settlements): a bug, never input. */
export class BillingInvariantBroken extends Error {
  readonly code = 'BILLING_INVARIANT_BROKEN';
  constructor(message: string) {
    super(message);
    this.name = 'BillingInvariantBroken';
  }
}

export type InvoiceParty = Readonly<{
  customer_id: string;
  name: string;
  mobile: string;
  zone: string;
  username: string | null;
  connection_type: string;
  operator_id: string;
  operator_name: string | null;
}>;

export type InvoiceSettlement = Readonly<{
  at: string;
  kind: 'payment' | 'credit' | 'refund';
  payment_id: string | null;
  refund_id: string | null;
  method: string | null;
  reference: string | null;
  /** Positive for money applied, negative for a refund that reopened the bill. */
  amount: string;
}>;

export type Invoice = Readonly<{
  bill_id: string;
  kind: string;
  period: string;
  covers_from: string;
  covers_until: string;
  currency: string;
  amount: string;
  paid: string;
  open: string;
  status: string;
  issued_on: string;
  due_on: string;
  settled_at: string | null;
  customer: InvoiceParty;
  package: Readonly<{ package_id: string; name: string | null; down_kbps: number | null; up_kbps: number | null }>;
  settlements: readonly InvoiceSettlement[];
}>;

const INSTANT = (column: string): string => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
const DAY = (column: string): string => `to_char(${column}, 'YYYY-MM-DD')`;

type BillRow = Omit<Invoice, 'customer' | 'package' | 'settlements'> & { customer_id: string; package_id: string; tenant: string };

const BILL_SELECT = `b.bill_id, b.tenant, b.customer_id, b.kind, b.period, ${DAY('b.covers_from')} AS covers_from, ${DAY('b.covers_until')} AS covers_until, b.package_id, b.currency,
  b.amount::text AS amount, b.paid::text AS paid, b.open::text AS open, b.status, ${DAY('b.issued_on')} AS issued_on, ${DAY('b.due_on')} AS due_on, ${INSTANT('b.settled_at')} AS settled_at`;

/** One bill as an invoice, if the scope may see it. Reads bills, customers, operators, packages and bill_settlements by key. */
export async function loadInvoice(db: Queryable, scope: ListScope, bill_id: string): Promise<Invoice> {
  return inSnapshot(db, async (client) => {
    const params = new SqlParams();
    const found = await client.query<BillRow>(`SELECT ${BILL_SELECT} FROM bills b WHERE b.bill_id = ${params.add(bill_id)} AND ${chainScopeSql(scope, params, 'b')}`, params.values);
    const bill = found.rows[0];
    if (bill === undefined) throw new DocumentNotFound(`no bill ${bill_id} in this part of the network`);
    const [invoice] = await invoicesOf(client, [bill]);
    return invoice!;
  });
}

/** Completes bills into invoices: their customers, operators, packages and settlements in one query each. */
async function invoicesOf(client: pg.ClientBase, bills: readonly BillRow[]): Promise<Invoice[]> {
  if (bills.length === 0) return [];
  const customers = await client.query<InvoiceParty>(
    `SELECT c.customer_id, c.name, c.mobile, c.zone, c.username, c.connection_type, c.operator_id, o.name AS operator_name
       FROM customers c LEFT JOIN operators o ON o.operator_id = c.operator_id WHERE c.customer_id = ANY($1::text[])`,
    [[...new Set(bills.map((bill) => bill.customer_id))]],
  );
  const packages = await client.query<{ package_id: string; name: string; down_kbps: number; up_kbps: number }>(
    'SELECT package_id, name, down_kbps, up_kbps FROM packages WHERE package_id = ANY($1::text[])',
    [[...new Set(bills.map((bill) => bill.package_id))]],
  );
  const settlements = await client.query<InvoiceSettlement & { bill_id: string }>(
    `SELECT s.bill_id, ${INSTANT('s.at')} AS at, s.kind, s.payment_id, s.refund_id, p.method, COALESCE(p.gateway_reference, p.card_serial) AS reference, s.amount::text AS amount
       FROM bill_settlements s LEFT JOIN payments p ON p.payment_id = s.payment_id
      WHERE s.bill_id = ANY($1::text[]) ORDER BY s.bill_id, s.global_position`,
    [bills.map((bill) => bill.bill_id)],
  );
  const customerById = new Map(customers.rows.map((row) => [row.customer_id, row]));
  const packageById = new Map(packages.rows.map((row) => [row.package_id, row]));
  const settlementsByBill = new Map<string, InvoiceSettlement[]>();
  for (const { bill_id, ...settlement } of settlements.rows) settlementsByBill.set(bill_id, [...(settlementsByBill.get(bill_id) ?? []), settlement]);
  return bills.map(({ customer_id, package_id, tenant: _tenant, ...bill }) => {
    const customer = customerById.get(customer_id);
    if (customer === undefined) throw new DocumentNotFound(`bill ${bill.bill_id}'s customer ${customer_id} is not in the customers read model yet`);
    const lines = settlementsByBill.get(bill.bill_id) ?? [];
    // The bill's paid amount and the movements listed under it come from one projection: they must agree.
    const applied = Money.sum(lines.map((line) => moneyFromSql(line.amount, bill.currency)), bill.currency);
    if (!applied.equals(moneyFromSql(bill.paid, bill.currency))) {
      throw new BillingInvariantBroken(`bill ${bill.bill_id} says ${bill.paid} ${bill.currency} is paid but its settlements sum to ${applied}`);
    }
    const pkg = packageById.get(package_id);
    return {
      ...bill,
      customer,
      package: { package_id, name: pkg?.name ?? null, down_kbps: pkg?.down_kbps ?? null, up_kbps: pkg?.up_kbps ?? null },
      settlements: lines,
    };
  });
}

// --- a bill run's invoices ----------------------------------------------------------------------------------------

export const BillRunSelection = z
  .object({
    /** The billing period, YYYY-MM. */
    period: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'a month, YYYY-MM'),
    /** Only bills issued on this day (the day a scheduler run issued them). */
    issued_on: z.iso.date().optional(),
    /** Only bills of this kind: the bill run issues `monthly` ones. */
    kind: z.enum(['monthly', 'first-period', 'proration']).optional(),
  })
  .strict();

export type BillRunSelection = z.infer<typeof BillRunSelection>;

/** Invoices read per query: a page's customers, packages and settlements are one query each. */
const INVOICE_PAGE = 200;

/**
 * Every invoice of a bill run (the bills of a period in the scope, optionally issued on one day), ordered for
 * delivery: by zone, then customer name. Reads `bills` by (tenant, period) with the customers joined by key, a
 * page at a time by keyset on (zone, name, bill_id), all in the caller's snapshot (give it a client), so a run
 * of any size streams in bounded memory.
 */
export async function* billRunInvoices(client: pg.ClientBase, scope: ListScope, selection: BillRunSelection): AsyncGenerator<readonly Invoice[]> {
  const chosen = BillRunSelection.parse(selection);
  let after: readonly [string, string, string] | null = null;
  for (;;) {
    const params = new SqlParams();
    const where = [chainScopeSql(scope, params, 'b'), `b.period = ${params.add(chosen.period)}`];
    if (chosen.issued_on !== undefined) where.push(`b.issued_on = ${params.add(chosen.issued_on)}::date`);
    if (chosen.kind !== undefined) where.push(`b.kind = ${params.add(chosen.kind)}`);
    if (after !== null) where.push(`(c.zone, c.name, b.bill_id) > (${params.add(after[0])}, ${params.add(after[1])}, ${params.add(after[2])})`);
    const page = await client.query<BillRow & { zone: string; customer_name: string }>(
      `SELECT ${BILL_SELECT}, c.zone, c.name AS customer_name FROM bills b JOIN customers c ON c.customer_id = b.customer_id
        WHERE ${where.join(' AND ')} ORDER BY c.zone, c.name, b.bill_id LIMIT ${INVOICE_PAGE}`,
      params.values,
    );
    if (page.rows.length === 0) return;
    yield await invoicesOf(
      client,
      page.rows.map(({ zone: _zone, customer_name: _name, ...bill }) => bill),
    );
    if (page.rows.length < INVOICE_PAGE) return;
    const last = page.rows[page.rows.length - 1]!;
    after = [last.zone, last.customer_name, last.bill_id];
  }
}

/** How many invoices a bill run has in the scope (for progress). Reads `bills` by (tenant, period). */
export async function countBillRunInvoices(db: Queryable, scope: ListScope, selection: BillRunSelection): Promise<number> {
  const chosen = BillRunSelection.parse(selection);
  const params = new SqlParams();
  const where = [chainScopeSql(scope, params, 'b'), `b.period = ${params.add(chosen.period)}`];
  if (chosen.issued_on !== undefined) where.push(`b.issued_on = ${params.add(chosen.issued_on)}::date`);
  if (chosen.kind !== undefined) where.push(`b.kind = ${params.add(chosen.kind)}`);
  const found = await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM bills b WHERE ${where.join(' AND ')}`, params.values);
  return Number(found.rows[0]!.n);
}

// --- money receipt ------------------------------------------------------------------------------------------------

export type ReceiptAllocation = Readonly<{ bill_id: string; period: string | null; amount: string }>;
export type ReceiptRefund = Readonly<{ refund_id: string; refunded_at: string; amount: string; reason: string }>;

export type Receipt = Readonly<{
  payment_id: string;
  method: string;
  currency: string;
  amount: string;
  refunded: string;
  received_at: string;
  collected_by: string;
  /** The collector's name when it is a staff member or an operator the read models know. */
  collector_name: string | null;
  collector_operator_id: string;
  gateway: string | null;
  gateway_reference: string | null;
  card_batch_id: string | null;
  card_serial: string | null;
  to_recharge: string;
  to_credit: string;
  allocations: readonly ReceiptAllocation[];
  refunds: readonly ReceiptRefund[];
  customer: InvoiceParty;
}>;

type PaymentRow = Omit<Receipt, 'allocations' | 'refunds' | 'customer' | 'collector_name'> & { customer_id: string; allocations: { bill_id: string; amount: string }[] };

/** One payment as a money receipt, if the scope may see it. Reads payments, refunds, bills, customers, staff and operators by key. */
export async function loadReceipt(db: Queryable, scope: ListScope, payment_id: string): Promise<Receipt> {
  return inSnapshot(db, async (client) => {
    const params = new SqlParams();
    const found = await client.query<PaymentRow>(
      `SELECT p.payment_id, p.customer_id, p.method, p.currency, p.amount::text AS amount, p.refunded::text AS refunded, ${INSTANT('p.received_at')} AS received_at,
              p.collected_by, p.collector_operator_id, p.gateway, p.gateway_reference, p.card_batch_id, p.card_serial, p.to_recharge::text AS to_recharge,
              p.to_credit::text AS to_credit, p.allocations
         FROM payments p WHERE p.payment_id = ${params.add(payment_id)} AND ${chainScopeSql(scope, params, 'p')}`,
      params.values,
    );
    const payment = found.rows[0];
    if (payment === undefined) throw new DocumentNotFound(`no payment ${payment_id} in this part of the network`);
    const { customer_id, allocations, ...fields } = payment;
    const customer = await client.query<InvoiceParty>(
      `SELECT c.customer_id, c.name, c.mobile, c.zone, c.username, c.connection_type, c.operator_id, o.name AS operator_name
         FROM customers c LEFT JOIN operators o ON o.operator_id = c.operator_id WHERE c.customer_id = $1`,
      [customer_id],
    );
    if (customer.rows[0] === undefined) throw new DocumentNotFound(`payment ${payment_id}'s customer ${customer_id} is not in the customers read model yet`);
    const periods = await client.query<{ bill_id: string; period: string }>('SELECT bill_id, period FROM bills WHERE bill_id = ANY($1::text[])', [allocations.map((allocation) => allocation.bill_id)]);
    const periodOf = new Map(periods.rows.map((row) => [row.bill_id, row.period]));
    const refunds = await client.query<ReceiptRefund>(
      `SELECT refund_id, ${INSTANT('refunded_at')} AS refunded_at, amount::text AS amount, reason FROM refunds WHERE payment_id = $1 ORDER BY refunded_at, refund_id`,
      [payment_id],
    );
    const collector = await client.query<{ name: string }>(
      `SELECT name FROM staff WHERE staff_id = $1 UNION ALL SELECT name FROM operators WHERE operator_id = $1 LIMIT 1`,
      [payment.collected_by],
    );
    return {
      ...fields,
      collector_name: collector.rows[0]?.name ?? null,
      allocations: allocations.map((allocation) => ({ bill_id: allocation.bill_id, period: periodOf.get(allocation.bill_id) ?? null, amount: allocation.amount })),
      refunds: refunds.rows,
      customer: customer.rows[0],
    };
  });
}

/** A customer as documents name it, if the scope may see it. Reads customers and operators by key. */
export async function loadDocumentCustomer(db: Queryable, scope: ListScope, customer_id: string): Promise<InvoiceParty> {
  const params = new SqlParams();
  const found = await db.query<InvoiceParty>(
    `SELECT c.customer_id, c.name, c.mobile, c.zone, c.username, c.connection_type, c.operator_id, o.name AS operator_name
       FROM customers c LEFT JOIN operators o ON o.operator_id = c.operator_id WHERE c.customer_id = ${params.add(customer_id)} AND ${chainScopeSql(scope, params, 'c')}`,
    params.values,
  );
  if (found.rows[0] === undefined) throw new DocumentNotFound(`no customer ${customer_id} in this part of the network`);
  return found.rows[0];
}
