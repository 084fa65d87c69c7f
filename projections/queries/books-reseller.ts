import type pg from 'pg';
import { z } from 'zod';
import { addDays, startOfLocalDay } from '../../domain/calendar/local-date.js';
import { COMMISSION_INCOME, PAYABLE_TO_CHILDREN, RECEIVABLE_FROM_PARENT } from '../../domain/ledger/chart.js';
import { Money } from '../../domain/money/money.js';
import {
  asOfSchema,
  bookIdSchema,
  checkPeriod,
  cutBefore,
  cutOf,
  cutThrough,
  describeAsOf,
  inSnapshot,
  loadBook,
  localDate,
  moneyFromSql,
  parseInput,
  tenantSchema,
  zeroTotals,
  type Book,
  type Cut,
  type Queryable,
  type Totals,
} from './books-common.js';
import { summaryOf, type BookSummary } from './books-statements.js';
import { partyTotals, periodTotals } from './books-totals.js';

/**
 * A reseller's statement from its own book: the commission it earned in the period (4100 Commission income),
 * its wallet with its parent (1200 Receivable from parent, the parent as party) and what it owes each child or
 * is owed by it (2100 Payable to child operators, the child as party), each at the period's start and end.
 * The operators projection's commission_lines, payment by payment, are listed beside it when that projection
 * is present.
 */
export const ResellerStatementInput = z
  .object({ book_id: bookIdSchema, tenant: tenantSchema, as_of: asOfSchema, from: localDate.optional(), to: localDate.optional() })
  .strict();

export type Counterparty = Readonly<{ operator_id: string; name: string | null; opening: string; closing: string }>;

export type CommissionLine = Readonly<{
  global_position: string;
  at: string;
  kind: string;
  customer_id: string;
  payment_id: string;
  refund_id: string | null;
  amount: string;
}>;

export type ResellerStatement = Readonly<{
  book: BookSummary;
  as_of: string;
  currency: string;
  from: string | null;
  to: string | null;
  /** 4100 credits less debits of the entries dated in the period. */
  commission_earned: string;
  /** What the parent owes this operator's wallet (1200 debit balance); negative: what it owes the parent. */
  wallet: (Counterparty & Readonly<{ account: string }>) | null;
  /** What this operator owes each child's wallet (2100 credit balance); negative: what the child owes it. */
  children: readonly Counterparty[];
  /** Commission and clawbacks payment by payment (operators projection); null when that projection is absent. */
  commission_lines: readonly CommissionLine[] | null;
  commission_lines_total: string | null;
}>;

/**
 * Reads: 4100's movement as the income statement does (account_day_totals, or journal_lines as of a position);
 * the wallet and each child at two cuts as `partyTotals` does (party_totals now; otherwise the account's lines
 * from the cheaper side of the date, or that party's lines); the children from `books` by tenant; and
 * commission_lines by (operator_id, at) for the period, at most 10,000 rows.
 */
export async function resellerStatement(db: Queryable, input: z.input<typeof ResellerStatementInput>): Promise<ResellerStatement> {
  const request = parseInput(ResellerStatementInput, input);
  checkPeriod(request.from, request.to);
  return inSnapshot(db, async (client) => {
    const book = await loadBook(client, request.book_id, request.tenant);
    const currency = book.currency;
    const cut = cutThrough(cutOf(request.as_of), request.to ?? null);
    const from = request.from ?? null;
    const commission = (await periodTotals(client, book, from, cut.date_max, cut.position_max, [COMMISSION_INCOME])).get(COMMISSION_INCOME) ?? zeroTotals(currency);

    const balances = async (account: string, at: Cut): Promise<ReadonlyMap<string, Totals>> => partyTotals(client, book, account, at);
    const opening = async (account: string): Promise<ReadonlyMap<string, Totals>> => (from === null ? new Map() : balances(account, cutBefore(cut, from)));

    const names = new Map(
      (await client.query<{ book_id: string; name: string; parent_id: string | null }>('SELECT book_id, name, parent_id FROM books WHERE tenant = $1', [book.tenant])).rows.map((row) => [
        row.book_id,
        row,
      ]),
    );
    let wallet: ResellerStatement['wallet'] = null;
    if (book.parent_id !== null) {
      const close = (await balances(RECEIVABLE_FROM_PARENT, cut)).get(book.parent_id) ?? zeroTotals(currency);
      const open = (await opening(RECEIVABLE_FROM_PARENT)).get(book.parent_id) ?? zeroTotals(currency);
      wallet = {
        account: RECEIVABLE_FROM_PARENT,
        operator_id: book.parent_id,
        name: names.get(book.parent_id)?.name ?? null,
        opening: open.debit.minus(open.credit).toString(),
        closing: close.debit.minus(close.credit).toString(),
      };
    }

    const closeChildren = await balances(PAYABLE_TO_CHILDREN, cut);
    const openChildren = await opening(PAYABLE_TO_CHILDREN);
    const childIds = new Set([...[...names.values()].filter((row) => row.parent_id === book.book_id).map((row) => row.book_id), ...closeChildren.keys(), ...openChildren.keys()]);
    const owed = (totals: Totals | undefined): string => (totals === undefined ? Money.zero(currency) : totals.credit.minus(totals.debit)).toString();
    const children = [...childIds].sort().map((operator_id) => ({
      operator_id,
      name: names.get(operator_id)?.name ?? null,
      opening: owed(openChildren.get(operator_id)),
      closing: owed(closeChildren.get(operator_id)),
    }));

    const lines = await commissionLines(client, book, from, cut);
    return {
      book: summaryOf(book),
      as_of: describeAsOf(request.as_of),
      currency,
      from,
      to: cut.date_max,
      commission_earned: commission.credit.minus(commission.debit).toString(),
      wallet,
      children,
      commission_lines: lines,
      commission_lines_total: lines === null ? null : Money.sum(lines.map((line) => moneyFromSql(line.amount, currency)), currency).toString(),
    };
  });
}

const MAX_COMMISSION_LINES = 10_000;

/**
 * The operators projection's commission lines of the period. They are stamped with the payment's instant, so the
 * period is the book's local days [from, to] as instants; an entry moved out of a closed period into the open
 * one keeps its instant here but not its date in the book, which is why 4100 is the figure and these the detail.
 */
async function commissionLines(client: pg.ClientBase, book: Book, from: string | null, cut: Cut): Promise<CommissionLine[] | null> {
  const present = await client.query<{ present: boolean }>("SELECT to_regclass('public.commission_lines') IS NOT NULL AS present");
  if (present.rows[0]?.present !== true) return null;
  const values: unknown[] = [book.book_id];
  const where = ['operator_id = $1'];
  if (from !== null) {
    values.push(startOfLocalDay(from, book.time_zone).toISOString());
    where.push(`at >= $${values.length}::timestamptz`);
  }
  if (cut.date_max !== null) {
    values.push(startOfLocalDay(addDays(cut.date_max, 1), book.time_zone).toISOString());
    where.push(`at < $${values.length}::timestamptz`);
  }
  if (cut.position_max !== null) {
    values.push(cut.position_max.toString());
    where.push(`global_position <= $${values.length}::bigint`);
  }
  const result = await client.query<CommissionLine>(
    `SELECT global_position::text AS global_position, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at, kind, customer_id, payment_id, refund_id, amount::text AS amount
       FROM commission_lines WHERE ${where.join(' AND ')} ORDER BY at, global_position LIMIT ${MAX_COMMISSION_LINES}`,
    values,
  );
  return result.rows;
}
