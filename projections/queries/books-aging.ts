import { z } from 'zod';
import { daysBetween } from '../../domain/calendar/local-date.js';
import { CUSTOMER_ACCOUNTS } from '../../domain/ledger/chart.js';
import { Money } from '../../domain/money/money.js';
import {
  asOfSchema,
  bookIdSchema,
  BooksInvariantBroken,
  BooksQueryError,
  cutOf,
  describeAsOf,
  inSnapshot,
  loadBook,
  localDate,
  moneyFromSql,
  parseInput,
  tenantSchema,
  type Queryable,
} from './books-common.js';
import { summaryOf, type BookSummary } from './books-statements.js';
import { partyTotals } from './books-totals.js';

/**
 * Accounts receivable aging: what each customer of the book owes (1100 Customer accounts, the customer as
 * party), split by how long it is past due. First in, first out: each debit (a bill) is aged by its due date,
 * else its entry date, and every credit (payments, credit notes, transfers out) pays the oldest debits first.
 *
 * Applying all credits to the oldest debits leaves exactly the newest debits that add up to the balance, so only
 * those are read: the balances first, then, for customers who owe, their debits newest first until the balance
 * is covered. A customer whose credits exceed their debits owes nothing and shows the rest as credit.
 */
export const ArAgingInput = z
  .object({
    book_id: bookIdSchema,
    tenant: tenantSchema,
    as_of: asOfSchema,
    /** The day ages are counted to; defaults to the as-of date. Required when as of a position or now. */
    aged_on: localDate.optional(),
  })
  .strict();

export const AGING_BUCKETS = ['current', 'days_1_30', 'days_31_60', 'days_61_90', 'over_90'] as const;
export type AgingBucket = (typeof AGING_BUCKETS)[number];

export type AgingRow = Readonly<{ customer_id: string; balance: string; credit: string } & Record<AgingBucket, string>>;

export type ArAging = Readonly<{
  book: BookSummary;
  as_of: string;
  aged_on: string;
  currency: string;
  customers: readonly AgingRow[];
  totals: Readonly<{ balance: string; credit: string } & Record<AgingBucket, string>>;
}>;

export function bucketOf(days_past_due: number): AgingBucket {
  if (days_past_due <= 0) return 'current';
  if (days_past_due <= 30) return 'days_1_30';
  if (days_past_due <= 60) return 'days_31_60';
  if (days_past_due <= 90) return 'days_61_90';
  return 'over_90';
}

type DebitRow = { party: string; entry_date: string; due_on: string | null; debit: string };

/**
 * Reads: each customer's balance as `partyTotals` does (party_totals now; as of a cut, 1100's lines from the
 * cheaper side of the date, or up to the position), then the debits of the customers who owe by the
 * (book_id, account_code, party, entry_date) index, newest first.
 */
export async function arAging(db: Queryable, input: z.input<typeof ArAgingInput>): Promise<ArAging> {
  const request = parseInput(ArAgingInput, input);
  const aged_on = request.aged_on ?? (request.as_of.kind === 'date' ? request.as_of.date : undefined);
  if (aged_on === undefined) throw new BooksQueryError('INVALID_INPUT', 'aged_on: say which day to age to (as of a position or now there is no day of its own)');
  return inSnapshot(db, async (client) => {
    const book = await loadBook(client, request.book_id, request.tenant);
    const currency = book.currency;
    const zero = Money.zero(currency);
    const cut = cutOf(request.as_of);
    const balances = [...(await partyTotals(client, book, CUSTOMER_ACCOUNTS, cut)).entries()]
      .map(([customer_id, totals]) => ({ customer_id, balance: totals.debit.minus(totals.credit) }))
      .filter((row) => !row.balance.isZero())
      .sort((a, b) => (a.customer_id < b.customer_id ? -1 : 1));
    const owing = balances.filter((row) => row.balance.isPositive()).map((row) => row.customer_id);

    const values: unknown[] = [book.book_id, CUSTOMER_ACCOUNTS, owing];
    let where = 'book_id = $1 AND account_code = $2 AND party = ANY($3::text[]) AND debit > 0';
    if (cut.date_max !== null) {
      values.push(cut.date_max);
      where += ` AND entry_date <= $${values.length}::date`;
    }
    if (cut.position_max !== null) {
      values.push(cut.position_max.toString());
      where += ` AND global_position <= $${values.length}::bigint`;
    }
    const debits = new Map<string, DebitRow[]>();
    if (owing.length > 0) {
      const result = await client.query<DebitRow>(
        `SELECT party, to_char(entry_date, 'YYYY-MM-DD') AS entry_date, to_char(due_on, 'YYYY-MM-DD') AS due_on, debit::text AS debit
           FROM journal_lines WHERE ${where}
          ORDER BY party, entry_date DESC, global_position DESC, entry_id DESC, line_no DESC`,
        values,
      );
      for (const row of result.rows) {
        const list = debits.get(row.party) ?? [];
        list.push(row);
        debits.set(row.party, list);
      }
    }

    const totals = { balance: zero, credit: zero, current: zero, days_1_30: zero, days_31_60: zero, days_61_90: zero, over_90: zero };
    const customers = balances.map(({ customer_id, balance }): AgingRow => {
      const buckets: Record<AgingBucket, Money> = { current: zero, days_1_30: zero, days_31_60: zero, days_61_90: zero, over_90: zero };
      let left = balance.isPositive() ? balance : zero;
      for (const debit of debits.get(customer_id) ?? []) {
        if (!left.isPositive()) break;
        const amount = Money.min(left, moneyFromSql(debit.debit, currency));
        const bucket = bucketOf(daysBetween(debit.due_on ?? debit.entry_date, aged_on));
        buckets[bucket] = buckets[bucket].plus(amount);
        left = left.minus(amount);
      }
      if (left.isPositive()) throw new BooksInvariantBroken(`customer ${customer_id} in book ${book.book_id} owes ${balance} but has fewer debits than that`);
      const credit = balance.isNegative() ? balance.negated() : zero;
      totals.balance = totals.balance.plus(balance);
      totals.credit = totals.credit.plus(credit);
      for (const bucket of AGING_BUCKETS) totals[bucket] = totals[bucket].plus(buckets[bucket]);
      return {
        customer_id,
        balance: balance.toString(),
        credit: credit.toString(),
        current: buckets.current.toString(),
        days_1_30: buckets.days_1_30.toString(),
        days_31_60: buckets.days_31_60.toString(),
        days_61_90: buckets.days_61_90.toString(),
        over_90: buckets.over_90.toString(),
      };
    });
    return {
      book: summaryOf(book),
      as_of: describeAsOf(request.as_of),
      aged_on,
      currency,
      customers,
      totals: {
        balance: totals.balance.toString(),
        credit: totals.credit.toString(),
        current: totals.current.toString(),
        days_1_30: totals.days_1_30.toString(),
        days_31_60: totals.days_31_60.toString(),
        days_61_90: totals.days_61_90.toString(),
        over_90: totals.over_90.toString(),
      },
    };
  });
}
