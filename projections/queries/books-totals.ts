import type pg from 'pg';
import { POSITION_BUCKET } from '../read-models/books.js';
import { BooksInvariantBroken, minusTotals, moneyFromSql, plusTotals, zeroTotals, type Book, type Cut, type Totals } from './books-common.js';
import type { LocalDate } from '../../domain/calendar/local-date.js';

/**
 * Debit and credit totals per account (or per account and party) as of a cut, read so that the cost depends on
 * the number of accounts, days and buckets — not on the size of the journal — wherever the projection keeps a
 * running total for that cut. Each function says which table and index it reads and what that costs.
 *
 * Every row set is grouped by currency as well and checked against the book's: a book holds one currency,
 * and a total that silently dropped another would be wrong without looking wrong.
 */
type TotalsRow = { account_code: string; party?: string | null; currency: string; debit: string | null; credit: string | null };

export type AccountTotals = ReadonlyMap<string, Totals>;

function collect(book: Book, rows: readonly TotalsRow[], key: (row: TotalsRow) => string, into = new Map<string, Totals>(), sign: 1 | -1 = 1): Map<string, Totals> {
  for (const row of rows) {
    if (row.currency !== book.currency) throw new BooksInvariantBroken(`book ${book.book_id} (${book.currency}) holds ${row.currency} amounts in account ${row.account_code}`);
    const amounts: Totals = { debit: moneyFromSql(row.debit, book.currency), credit: moneyFromSql(row.credit, book.currency) };
    const id = key(row);
    const before = into.get(id) ?? zeroTotals(book.currency);
    into.set(id, sign === 1 ? plusTotals(before, amounts) : minusTotals(before, amounts));
  }
  return into;
}

const byAccount = (row: TotalsRow): string => row.account_code;
const byParty = (row: TotalsRow): string => row.party ?? '';

/** SQL text and parameters built together, so a `$n` always names the value pushed with it. */
class Params {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(typeof value === 'bigint' ? value.toString() : value);
    return `$${this.values.length}`;
  }
}

function accountFilter(params: Params, accounts: readonly string[] | null): string {
  return accounts === null ? '' : ` AND account_code = ANY(${params.add(accounts)}::text[])`;
}

/**
 * Per-account totals of the whole book as of a cut: what the trial balance and balance sheet read.
 *
 * - now, or as of a date: `account_day_totals` by its key (book_id, account_code, entry_date, currency), summing
 *   the day rows up to the date — accounts × days with postings, whatever the number of lines.
 * - as of a position: whole position buckets from `account_bucket_totals` (key book_id, account_code, bucket,
 *   currency: accounts × buckets) plus or minus the lines of the one partial bucket from `journal_lines` by its
 *   (book_id, global_position) index. Whichever edge of the bucket is nearer is used, so at most half a
 *   bucket (50,000 log positions) of this book's lines is read.
 * - as of a position and a date (a period's end known at a position): see `totalsThroughDateAtPosition`.
 */
export async function accountTotals(client: pg.ClientBase, book: Book, cut: Cut, accounts: readonly string[] | null = null): Promise<AccountTotals> {
  if (cut.position_max === null) return dayTotals(client, book, cut.date_max, accounts);
  if (cut.date_max === null) return totalsAtPosition(client, book, cut.position_max, accounts);
  return totalsThroughDateAtPosition(client, book, cut.date_max, cut.position_max, accounts);
}

async function dayTotals(client: pg.ClientBase, book: Book, date_max: LocalDate | null, accounts: readonly string[] | null): Promise<AccountTotals> {
  const params = new Params();
  const where = `book_id = ${params.add(book.book_id)}${accountFilter(params, accounts)}${date_max === null ? '' : ` AND entry_date <= ${params.add(date_max)}::date`}`;
  const result = await client.query<TotalsRow>(
    `SELECT account_code, currency, sum(debit)::text AS debit, sum(credit)::text AS credit FROM account_day_totals WHERE ${where} GROUP BY account_code, currency`,
    params.values,
  );
  return collect(book, result.rows, byAccount);
}

async function totalsAtPosition(client: pg.ClientBase, book: Book, position_max: bigint, accounts: readonly string[] | null): Promise<AccountTotals> {
  const bucket = position_max / POSITION_BUCKET;
  const first = bucket * POSITION_BUCKET;
  const last = first + POSITION_BUCKET - 1n;
  const fromBelow = position_max - first < POSITION_BUCKET / 2n;
  const buckets = new Params();
  const bucketRows = await client.query<TotalsRow>(
    `SELECT account_code, currency, sum(debit)::text AS debit, sum(credit)::text AS credit FROM account_bucket_totals
      WHERE book_id = ${buckets.add(book.book_id)}${accountFilter(buckets, accounts)} AND bucket ${fromBelow ? '<' : '<='} ${buckets.add(bucket)}::bigint
      GROUP BY account_code, currency`,
    buckets.values,
  );
  const lines = new Params();
  const [low, high] = fromBelow ? [first, position_max] : [position_max + 1n, last];
  const lineRows = await client.query<TotalsRow>(
    `SELECT account_code, currency, sum(debit)::text AS debit, sum(credit)::text AS credit FROM journal_lines
      WHERE book_id = ${lines.add(book.book_id)} AND global_position BETWEEN ${lines.add(low)}::bigint AND ${lines.add(high)}::bigint${accountFilter(lines, accounts)}
      GROUP BY account_code, currency`,
    lines.values,
  );
  const totals = collect(book, bucketRows.rows, byAccount);
  return collect(book, lineRows.rows, byAccount, totals, fromBelow ? 1 : -1);
}

/**
 * Entries dated on or before a day and posted at or before a position. No running total is kept for both at
 * once, so lines are read by the (book_id, account_code, entry_date, global_position) index, from whichever side
 * of the date holds fewer days with postings: the lines dated up to it, or the position's totals less the
 * lines dated after it (posted at or before the position). Cost: the lines on the smaller side.
 */
async function totalsThroughDateAtPosition(client: pg.ClientBase, book: Book, date_max: LocalDate, position_max: bigint, accounts: readonly string[] | null): Promise<AccountTotals> {
  const side = await smallerSide(client, book, date_max, accounts);
  const params = new Params();
  const where = `book_id = ${params.add(book.book_id)}${accountFilter(params, accounts)} AND global_position <= ${params.add(position_max)}::bigint
      AND entry_date ${side === 'before' ? '<=' : '>'} ${params.add(date_max)}::date`;
  const rows = await client.query<TotalsRow>(
    `SELECT account_code, currency, sum(debit)::text AS debit, sum(credit)::text AS credit FROM journal_lines WHERE ${where} GROUP BY account_code, currency`,
    params.values,
  );
  if (side === 'before') return collect(book, rows.rows, byAccount);
  const totals = new Map(await totalsAtPosition(client, book, position_max, accounts));
  return collect(book, rows.rows, byAccount, totals, -1);
}

/**
 * Which side of a date has fewer days with postings in these accounts: a cheap stand-in (account_day_totals by
 * its key: one row per account and day) for how many lines each side holds.
 */
async function smallerSide(client: pg.ClientBase, book: Book, date: LocalDate, accounts: readonly string[] | null): Promise<'before' | 'after'> {
  const params = new Params();
  const where = `book_id = ${params.add(book.book_id)}${accountFilter(params, accounts)}`;
  const day = params.add(date);
  const result = await client.query<{ before: string; after: string }>(
    `SELECT count(*) FILTER (WHERE entry_date <= ${day}::date)::text AS before, count(*) FILTER (WHERE entry_date > ${day}::date)::text AS after
       FROM account_day_totals WHERE ${where}`,
    params.values,
  );
  const row = result.rows[0]!;
  return BigInt(row.before) <= BigInt(row.after) ? 'before' : 'after';
}

/**
 * Per-account movements of the entries dated in [from, to] (and posted at or before a position, if given):
 * what the income statement and the reseller statement's commission read.
 * - no position: `account_day_totals` by its key, the period's day rows — accounts × days in the period.
 * - a position: `journal_lines` by (book_id, account_code, entry_date, global_position), the period's lines.
 */
export async function periodTotals(
  client: pg.ClientBase,
  book: Book,
  from: LocalDate | null,
  to: LocalDate | null,
  position_max: bigint | null,
  accounts: readonly string[] | null,
): Promise<AccountTotals> {
  const params = new Params();
  let where = `book_id = ${params.add(book.book_id)}${accountFilter(params, accounts)}`;
  if (from !== null) where += ` AND entry_date >= ${params.add(from)}::date`;
  if (to !== null) where += ` AND entry_date <= ${params.add(to)}::date`;
  const table = position_max === null ? 'account_day_totals' : 'journal_lines';
  if (position_max !== null) where += ` AND global_position <= ${params.add(position_max)}::bigint`;
  const result = await client.query<TotalsRow>(
    `SELECT account_code, currency, sum(debit)::text AS debit, sum(credit)::text AS credit FROM ${table} WHERE ${where} GROUP BY account_code, currency`,
    params.values,
  );
  return collect(book, result.rows, byAccount);
}

/**
 * Totals per party of one per-party account (customers in 1100, operators in 1200 and 2100) as of a cut, or of
 * one party only.
 * - now: `party_totals` by its key (book_id, account_code, party, currency) — one row per party.
 * - one party, any cut: that party's lines by the (book_id, account_code, party, entry_date) index.
 * - every party as of a date: from whichever side of the date has fewer days with postings (see
 *   `smallerSide`): the lines dated up to it, or `party_totals` less the lines dated after it, by the
 *   (book_id, account_code, entry_date, global_position) index.
 * - every party as of a position: the account's lines posted up to it, by the same index (the account's lines).
 */
export async function partyTotals(client: pg.ClientBase, book: Book, account_code: string, cut: Cut, party: string | null = null): Promise<ReadonlyMap<string, Totals>> {
  const query = async (table: 'party_totals' | 'journal_lines', condition: (params: Params) => string): Promise<TotalsRow[]> => {
    const params = new Params();
    const where = `book_id = ${params.add(book.book_id)} AND account_code = ${params.add(account_code)}${party === null ? '' : ` AND party = ${params.add(party)}`}`;
    const sql =
      table === 'party_totals'
        ? `SELECT account_code, party, currency, debit::text AS debit, credit::text AS credit FROM party_totals WHERE ${where}`
        : `SELECT account_code, party, currency, sum(debit)::text AS debit, sum(credit)::text AS credit FROM journal_lines
            WHERE ${where} AND party IS NOT NULL${condition(params)} GROUP BY account_code, party, currency`;
    return (await client.query<TotalsRow>(sql, params.values)).rows;
  };
  if (cut.date_max === null && cut.position_max === null) return collect(book, await query('party_totals', () => ''), byParty);
  const through = (params: Params): string =>
    (cut.date_max === null ? '' : ` AND entry_date <= ${params.add(cut.date_max)}::date`) +
    (cut.position_max === null ? '' : ` AND global_position <= ${params.add(cut.position_max)}::bigint`);
  if (party !== null || cut.position_max !== null) return collect(book, await query('journal_lines', through), byParty);
  const date_max = cut.date_max!;
  if ((await smallerSide(client, book, date_max, [account_code])) === 'before') return collect(book, await query('journal_lines', through), byParty);
  const now = collect(book, await query('party_totals', () => ''), byParty);
  return collect(book, await query('journal_lines', (params) => ` AND entry_date > ${params.add(date_max)}::date`), byParty, now, -1);
}
