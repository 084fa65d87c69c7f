import type pg from 'pg';
import { z } from 'zod';
import { CUSTOMER_ACCOUNTS } from '../../domain/ledger/chart.js';
import type { EntryKind } from '../../domain/ledger/journal.js';
import { Money } from '../../domain/money/money.js';
import {
  asOfSchema,
  bookIdSchema,
  BooksInvariantBroken,
  BooksQueryError,
  checkPeriod,
  cutBefore,
  cutOf,
  cutThrough,
  describeAsOf,
  inSnapshot,
  loadAccounts,
  loadBook,
  localDate,
  moneyFromSql,
  onNormalSide,
  parseInput,
  requireAccount,
  tenantSchema,
  zeroTotals,
  type AccountInfo,
  type Book,
  type Cut,
  type Queryable,
  type Totals,
} from './books-common.js';
import { summaryOf, type BookSummary } from './books-statements.js';
import { accountTotals, partyTotals } from './books-totals.js';

/**
 * The journal (entries with their lines) and the general ledger (one account's lines with a running balance),
 * and the customer statement, which is the ledger of one customer's account. All page by keyset, so page
 * 10,000 costs what page 1 costs; the cursor is only the key of the last row shown.
 */

// --- cursors ----------------------------------------------------------------------------------------------------

const encodeCursor = (key: readonly (string | number)[]): string => Buffer.from(JSON.stringify(key)).toString('base64url');

function decodeCursor(cursor: string, shape: readonly ('date' | 'position' | 'id' | 'line')[]): (string | number)[] {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(value) &&
      value.length === shape.length &&
      value.every((part, index) => {
        const kind = shape[index];
        if (kind === 'date') return typeof part === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(part);
        if (kind === 'position') return typeof part === 'string' && /^\d{1,19}$/.test(part);
        if (kind === 'line') return typeof part === 'number' && Number.isInteger(part) && part >= 0 && part < 1_000;
        return typeof part === 'string' && part.length <= 200;
      })
    ) {
      return value as (string | number)[];
    }
  } catch {
    // fall through
  }
  throw new BooksQueryError('INVALID_CURSOR', 'the paging cursor is not one this server gave out; start again from the first page');
}

// --- journal ----------------------------------------------------------------------------------------------------

export const JournalInput = z
  .object({
    book_id: bookIdSchema,
    tenant: tenantSchema,
    as_of: asOfSchema,
    from: localDate.optional(),
    to: localDate.optional(),
    limit: z.number().int().min(1).max(1_000).default(100),
    after: z.string().max(600).optional(),
  })
  .strict();

export type JournalEntryLine = Readonly<{ line_no: number; account_code: string; account_name: string; party: string | null; debit: string; credit: string; due_on: string | null }>;

export type JournalEntryView = Readonly<{
  entry_id: string;
  date: string;
  global_position: string;
  source_event_id: string;
  source_type: string;
  kind: EntryKind;
  memo: string;
  reverses_entry_id: string | null;
  /** The reversal of this entry, when it was posted within the cut. */
  reversed_by_entry_id: string | null;
  lines: readonly JournalEntryLine[];
}>;

export type JournalPage = Readonly<{ book: BookSummary; as_of: string; currency: string; entries: readonly JournalEntryView[]; next: string | null }>;

type EntryRow = {
  entry_id: string;
  entry_date: string;
  global_position: string;
  source_event_id: string;
  source_type: string;
  kind: EntryKind;
  memo: string;
  reverses_entry_id: string | null;
  reversed_by_entry_id: string | null;
  lines: { account_code: string; party: string | null; debit: string; credit: string; due_on: string | null }[];
};

/**
 * Reads `journal_entries` by its (book_id, entry_date, global_position) index from the cursor on — the page's
 * entries only — and each shown reversal's own row by its key, to tell whether it falls within the cut.
 */
export async function readEntries(
  client: pg.ClientBase,
  book: Book,
  cut: Cut,
  from: string | null,
  limit: number,
  after: readonly (string | number)[] | null,
): Promise<{ rows: EntryRow[]; next: string | null }> {
  const values: unknown[] = [book.book_id];
  const param = (value: unknown): string => {
    values.push(value);
    return `$${values.length}`;
  };
  const where = ['e.book_id = $1'];
  if (from !== null) where.push(`e.entry_date >= ${param(from)}::date`);
  if (cut.date_max !== null) where.push(`e.entry_date <= ${param(cut.date_max)}::date`);
  if (cut.position_max !== null) where.push(`e.global_position <= ${param(cut.position_max.toString())}::bigint`);
  if (after !== null) where.push(`(e.entry_date, e.global_position, e.entry_id) > (${param(after[0])}::date, ${param(after[1])}::bigint, ${param(after[2])})`);
  const reversalWithin = [
    'r.entry_id IS NOT NULL',
    ...(cut.date_max !== null ? [`r.entry_date <= ${param(cut.date_max)}::date`] : []),
    ...(cut.position_max !== null ? [`r.global_position <= ${param(cut.position_max.toString())}::bigint`] : []),
  ].join(' AND ');
  const result = await client.query<EntryRow>(
    `SELECT e.entry_id, to_char(e.entry_date, 'YYYY-MM-DD') AS entry_date, e.global_position::text AS global_position, e.source_event_id, e.source_type,
            e.kind, e.memo, e.reverses_entry_id, CASE WHEN ${reversalWithin} THEN r.entry_id END AS reversed_by_entry_id, e.lines
       FROM journal_entries e LEFT JOIN journal_entries r ON r.entry_id = e.reversed_by_entry_id
      WHERE ${where.join(' AND ')}
      ORDER BY e.entry_date, e.global_position, e.entry_id
      LIMIT ${limit + 1}`,
    values,
  );
  const rows = result.rows.slice(0, limit);
  const last = rows[rows.length - 1];
  return { rows, next: result.rows.length > limit && last !== undefined ? encodeCursor([last.entry_date, last.global_position, last.entry_id]) : null };
}

/** The book's entries in date order (then log order), each with its lines, a page at a time. */
export async function journal(db: Queryable, input: z.input<typeof JournalInput>): Promise<JournalPage> {
  const request = parseInput(JournalInput, input);
  checkPeriod(request.from, request.to);
  const after = request.after === undefined ? null : decodeCursor(request.after, ['date', 'position', 'id']);
  return inSnapshot(db, async (client) => {
    const book = await loadBook(client, request.book_id, request.tenant);
    const names = new Map((await loadAccounts(client, book.book_id)).map((account) => [account.code, account.name]));
    const cut = cutThrough(cutOf(request.as_of), request.to ?? null);
    const { rows, next } = await readEntries(client, book, cut, request.from ?? null, request.limit, after);
    return {
      book: summaryOf(book),
      as_of: describeAsOf(request.as_of),
      currency: book.currency,
      entries: rows.map((row) => ({
        entry_id: row.entry_id,
        date: row.entry_date,
        global_position: row.global_position,
        source_event_id: row.source_event_id,
        source_type: row.source_type,
        kind: row.kind,
        memo: row.memo,
        reverses_entry_id: row.reverses_entry_id,
        reversed_by_entry_id: row.reversed_by_entry_id,
        lines: row.lines.map((line, index) => ({
          line_no: index + 1,
          account_code: line.account_code,
          account_name: names.get(line.account_code) ?? line.account_code,
          party: line.party,
          debit: line.debit,
          credit: line.credit,
          due_on: line.due_on,
        })),
      })),
      next,
    };
  });
}

// --- general ledger ---------------------------------------------------------------------------------------------

export const LedgerInput = z
  .object({
    book_id: bookIdSchema,
    tenant: tenantSchema,
    account: z.string().regex(/^\d{4}$/, 'an account code is four digits'),
    party: z.string().min(1).max(64).optional(),
    as_of: asOfSchema,
    from: localDate.optional(),
    to: localDate.optional(),
    limit: z.number().int().min(1).max(10_000).default(1_000),
    after: z.string().max(600).optional(),
  })
  .strict();

export type LedgerLine = Readonly<{
  date: string;
  entry_id: string;
  line_no: number;
  global_position: string;
  kind: EntryKind;
  memo: string;
  party: string | null;
  debit: string;
  credit: string;
  due_on: string | null;
  /** After this line, on the account's normal side. */
  balance: string;
}>;

export type Ledger = Readonly<{
  book: BookSummary;
  account: Readonly<Pick<AccountInfo, 'code' | 'name' | 'type' | 'normal_side'>>;
  party: string | null;
  as_of: string;
  currency: string;
  from: string | null;
  to: string | null;
  /** The balance before `from` (zero without one), on the normal side. */
  opening: string;
  /** The balance before this page's first line: `opening` on the first page. */
  page_opening: string;
  lines: readonly LedgerLine[];
  /** The balance through `to` (or the cut): the last line's balance on the last page. */
  closing: string;
  next: string | null;
}>;

type LineRow = {
  entry_id: string;
  line_no: number;
  entry_date: string;
  global_position: string;
  party: string | null;
  debit: string;
  credit: string;
  due_on: string | null;
  memo: string;
  kind: EntryKind;
};

/**
 * One account's lines in [from, to] with a running balance. Reads: the opening and closing balances as the trial
 * balance does (account_day_totals / account_bucket_totals; for one party, that party's lines by the
 * (book_id, account_code, party, entry_date) index); the page's lines by (book_id, account_code, entry_date,
 * global_position) — or the party index — joined to their entries by key; on a later page, the sum of the
 * period's lines before the cursor (same index).
 */
export async function generalLedger(db: Queryable, input: z.input<typeof LedgerInput>): Promise<Ledger> {
  const request = parseInput(LedgerInput, input);
  checkPeriod(request.from, request.to);
  const after = request.after === undefined ? null : decodeCursor(request.after, ['date', 'position', 'id', 'line']);
  return inSnapshot(db, async (client) => {
    const book = await loadBook(client, request.book_id, request.tenant);
    const account = requireAccount(await loadAccounts(client, book.book_id), request.account, book.book_id);
    const party = request.party ?? null;
    if (party !== null && account.party_kind === null) throw new BooksQueryError('INVALID_INPUT', `account ${account.code} is not kept per party; leave party out`);
    return ledgerOf(client, book, account, party, request, after);
  });
}

async function ledgerOf(
  client: pg.ClientBase,
  book: Book,
  account: AccountInfo,
  party: string | null,
  request: Readonly<{ as_of: z.output<typeof LedgerInput>['as_of']; from?: string | undefined; to?: string | undefined; limit: number }>,
  after: readonly (string | number)[] | null,
  /** The balance after the cursor's line, when the caller has just read it (the previous page's last balance). */
  carried: Money | null = null,
): Promise<Ledger> {
  const currency = book.currency;
  const cut = cutThrough(cutOf(request.as_of), request.to ?? null);
  const from = request.from ?? null;
  const balanceAt = async (at: Cut): Promise<Totals> =>
    party === null
      ? ((await accountTotals(client, book, at, [account.code])).get(account.code) ?? zeroTotals(currency))
      : ((await partyTotals(client, book, account.code, at, party)).get(party) ?? zeroTotals(currency));
  const normal = (totals: Totals): Money => onNormalSide(account.normal_side, totals.debit, totals.credit);

  const opening = from === null ? Money.zero(currency) : normal(await balanceAt(cutBefore(cut, from)));
  const closing = normal(await balanceAt(cut));

  const values: unknown[] = [book.book_id, account.code];
  const param = (value: unknown): string => {
    values.push(value);
    return `$${values.length}`;
  };
  const where = ['l.book_id = $1', 'l.account_code = $2'];
  if (party !== null) where.push(`l.party = ${param(party)}`);
  if (from !== null) where.push(`l.entry_date >= ${param(from)}::date`);
  if (cut.date_max !== null) where.push(`l.entry_date <= ${param(cut.date_max)}::date`);
  if (cut.position_max !== null) where.push(`l.global_position <= ${param(cut.position_max.toString())}::bigint`);
  const key = '(l.entry_date, l.global_position, l.entry_id, l.line_no)';
  let page_opening = opening;
  if (after !== null && carried !== null) {
    page_opening = carried;
    where.push(`${key} > (${param(after[0])}::date, ${param(after[1])}::bigint, ${param(after[2])}, ${param(after[3])}::integer)`);
  } else if (after !== null) {
    const cursor = `(${param(after[0])}::date, ${param(after[1])}::bigint, ${param(after[2])}, ${param(after[3])}::integer)`;
    const before = await client.query<{ debit: string | null; credit: string | null }>(
      `SELECT sum(l.debit)::text AS debit, sum(l.credit)::text AS credit FROM journal_lines l WHERE ${where.join(' AND ')} AND ${key} <= ${cursor}`,
      values,
    );
    page_opening = opening.plus(normal({ debit: moneyFromSql(before.rows[0]?.debit, currency), credit: moneyFromSql(before.rows[0]?.credit, currency) }));
    where.push(`${key} > ${cursor}`);
  }
  const result = await client.query<LineRow>(
    `SELECT l.entry_id, l.line_no, to_char(l.entry_date, 'YYYY-MM-DD') AS entry_date, l.global_position::text AS global_position, l.party,
            l.debit::text AS debit, l.credit::text AS credit, to_char(l.due_on, 'YYYY-MM-DD') AS due_on, e.memo, e.kind
       FROM journal_lines l JOIN journal_entries e ON e.entry_id = l.entry_id
      WHERE ${where.join(' AND ')}
      ORDER BY l.entry_date, l.global_position, l.entry_id, l.line_no
      LIMIT ${request.limit + 1}`,
    values,
  );
  const rows = result.rows.slice(0, request.limit);
  let running = page_opening;
  const lines = rows.map((row): LedgerLine => {
    const debit = moneyFromSql(row.debit, currency);
    const credit = moneyFromSql(row.credit, currency);
    running = running.plus(normal({ debit, credit }));
    return {
      date: row.entry_date,
      entry_id: row.entry_id,
      line_no: row.line_no,
      global_position: row.global_position,
      kind: row.kind,
      memo: row.memo,
      party: row.party,
      debit: debit.toString(),
      credit: credit.toString(),
      due_on: row.due_on,
      balance: running.toString(),
    };
  });
  const last = rows[rows.length - 1];
  const next = result.rows.length > request.limit && last !== undefined ? encodeCursor([last.entry_date, last.global_position, last.entry_id, last.line_no]) : null;
  // Two paths to the same number: the running totals and the lines. On the last page they must meet.
  if (next === null && !running.equals(closing)) {
    throw new BooksInvariantBroken(`the ledger of ${account.code}${party === null ? '' : `[${party}]`} in book ${book.book_id} runs to ${running} but its totals say ${closing}`);
  }
  return {
    book: summaryOf(book),
    account: { code: account.code, name: account.name, type: account.type, normal_side: account.normal_side },
    party,
    as_of: describeAsOf(request.as_of),
    currency,
    from,
    to: cut.date_max,
    opening: opening.toString(),
    page_opening: page_opening.toString(),
    lines,
    closing: closing.toString(),
    next,
  };
}

/**
 * Every page of one account's ledger in one snapshot (give it a client in a transaction), the running balance
 * carried from page to page so no page sums the lines before it again: what exports and documents read, so a
 * ledger of a million lines costs its lines, not their square. The last page meets the totals, as a single
 * page does.
 */
export async function* ledgerPages(client: pg.ClientBase, input: z.input<typeof LedgerInput>): AsyncGenerator<Ledger> {
  const request = parseInput(LedgerInput, input);
  checkPeriod(request.from, request.to);
  if (request.after !== undefined) throw new BooksQueryError('INVALID_INPUT', 'ledger pages start at the first page; leave after out');
  const book = await loadBook(client, request.book_id, request.tenant);
  const account = requireAccount(await loadAccounts(client, book.book_id), request.account, book.book_id);
  const party = request.party ?? null;
  if (party !== null && account.party_kind === null) throw new BooksQueryError('INVALID_INPUT', `account ${account.code} is not kept per party; leave party out`);
  yield* pagesOf(client, book, account, party, request);
}

async function* pagesOf(
  client: pg.ClientBase,
  book: Book,
  account: AccountInfo,
  party: string | null,
  request: Parameters<typeof ledgerOf>[4],
): AsyncGenerator<Ledger> {
  let after: (string | number)[] | null = null;
  let carried: Money | null = null;
  for (;;) {
    const page = await ledgerOf(client, book, account, party, request, after, carried);
    yield page;
    const last = page.lines[page.lines.length - 1];
    if (page.next === null || last === undefined) return;
    after = [last.date, last.global_position, last.entry_id, last.line_no];
    carried = Money.parse(last.balance, book.currency);
  }
}

// --- customer statement -----------------------------------------------------------------------------------------

export const CustomerStatementInput = z
  .object({
    book_id: bookIdSchema,
    tenant: tenantSchema,
    customer_id: z.string().min(1).max(64),
    as_of: asOfSchema,
    from: localDate.optional(),
    to: localDate.optional(),
    limit: z.number().int().min(1).max(10_000).default(1_000),
    after: z.string().max(600).optional(),
  })
  .strict();

export type CustomerStatement = Ledger & Readonly<{ customer_id: string; owner: string | null }>;

/**
 * One customer's account (1100, the customer as party) in the book: opening balance, every bill, payment,
 * credit note and transfer with the balance after it, and the closing balance. Positive means the customer
 * owes; negative is credit. Reads `book_customers` by key and the ledger's reads for one party.
 */
export async function customerStatement(db: Queryable, input: z.input<typeof CustomerStatementInput>): Promise<CustomerStatement> {
  const request = parseInput(CustomerStatementInput, input);
  checkPeriod(request.from, request.to);
  const after = request.after === undefined ? null : decodeCursor(request.after, ['date', 'position', 'id', 'line']);
  return inSnapshot(db, async (client) => {
    const book = await loadBook(client, request.book_id, request.tenant);
    const account = requireAccount(await loadAccounts(client, book.book_id), CUSTOMER_ACCOUNTS, book.book_id);
    const owner = await customerOwner(client, book, request.customer_id);
    const ledger = await ledgerOf(client, book, account, request.customer_id, request, after);
    return { ...ledger, customer_id: request.customer_id, owner };
  });
}

/** Every page of a customer's statement in one snapshot (give it a client), as `ledgerPages` reads a ledger. */
export async function* customerStatementPages(client: pg.ClientBase, input: z.input<typeof CustomerStatementInput>): AsyncGenerator<CustomerStatement> {
  const request = parseInput(CustomerStatementInput, input);
  checkPeriod(request.from, request.to);
  if (request.after !== undefined) throw new BooksQueryError('INVALID_INPUT', 'statement pages start at the first page; leave after out');
  const book = await loadBook(client, request.book_id, request.tenant);
  const account = requireAccount(await loadAccounts(client, book.book_id), CUSTOMER_ACCOUNTS, book.book_id);
  const owner = await customerOwner(client, book, request.customer_id);
  for await (const page of pagesOf(client, book, account, request.customer_id, request)) yield { ...page, customer_id: request.customer_id, owner };
}

/** Reads `book_customers` and `party_totals` by key: the customer's owner, or CUSTOMER_NOT_FOUND when it has no account here. */
async function customerOwner(client: pg.ClientBase, book: Book, customer_id: string): Promise<string | null> {
  const known = await client.query<{ owner: string | null; in_book: boolean }>(
    `SELECT (SELECT owner FROM book_customers WHERE customer_id = $2) AS owner,
            EXISTS (SELECT 1 FROM party_totals WHERE book_id = $1 AND account_code = $3 AND party = $2) AS in_book`,
    [book.book_id, customer_id, CUSTOMER_ACCOUNTS],
  );
  const { owner, in_book } = known.rows[0]!;
  if (owner !== book.book_id && !in_book) throw new BooksQueryError('CUSTOMER_NOT_FOUND', `customer ${customer_id} has no account in book ${book.book_id}`);
  return owner;
}
