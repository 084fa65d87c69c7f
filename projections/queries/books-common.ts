import { Decimal } from 'decimal.js';
import pg from 'pg';
import { z } from 'zod';
import { addDays, isLocalDate, type LocalDate } from '../../domain/calendar/local-date.js';
import type { AccountType, NormalSide } from '../../domain/ledger/chart.js';
import { minorUnitsOf } from '../../domain/money/currency.js';
import { Money } from '../../domain/money/money.js';
import type { OperatorRole } from '../../domain/operators/operator.js';

/**
 * What every books report shares: its errors, how input is checked, what "as of" means, the book and its
 * accounts, and one consistent snapshot to read them in. Reports read the books projection's public views
 * (books, book_accounts, journal_entries, journal_lines and the totals tables), never the event log.
 */
export type Queryable = pg.Pool | pg.ClientBase;

export const BOOKS_QUERY_CODES = ['BOOK_NOT_FOUND', 'INVALID_INPUT', 'ACCOUNT_NOT_FOUND', 'CUSTOMER_NOT_FOUND', 'INVALID_CURSOR'] as const;
export type BooksQueryCode = (typeof BOOKS_QUERY_CODES)[number];

/** A report refused: bad input or something that does not exist. Nothing is written by any report. */
export class BooksQueryError extends Error {
  constructor(
    readonly code: BooksQueryCode,
    message: string,
  ) {
    super(message);
    this.name = 'BooksQueryError';
  }
}

/** The books contradict an invariant (an unbalanced trial balance, a fraction of a minor unit): a bug, never input. */
export class BooksInvariantBroken extends Error {
  readonly code = 'BOOKS_INVARIANT_BROKEN';
  constructor(message: string) {
    super(message);
    this.name = 'BooksInvariantBroken';
  }
}

/** Checks a report's input against its schema; every problem is named, and the code is INVALID_INPUT. */
export function parseInput<Schema extends z.ZodType>(schema: Schema, input: unknown): z.output<Schema> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${issue.path.length === 0 ? 'input' : issue.path.join('.')}: ${issue.message}`);
  throw new BooksQueryError('INVALID_INPUT', problems.join('; '));
}

// --- as of ----------------------------------------------------------------------------------------------------

/**
 * "As of" a report: a day of the book's calendar (entries dated on or before it, in the book's zone — entry
 * dates are already local) or a log position (entries posted from events at or before it), or now.
 */
export type AsOf = Readonly<{ kind: 'now' }> | Readonly<{ kind: 'date'; date: LocalDate }> | Readonly<{ kind: 'position'; position: bigint }>;

const MAX_POSITION = 9_223_372_036_854_775_807n;

export const localDate = z.string().refine((value) => isLocalDate(value), 'must be a date, YYYY-MM-DD');

export const asOfSchema = z
  .string()
  .max(40)
  .optional()
  .transform((value, context): AsOf => {
    if (value === undefined || value === '' || value === 'now') return { kind: 'now' };
    if (isLocalDate(value)) return { kind: 'date', date: value };
    const position = /^position:(\d{1,19})$/.exec(value);
    if (position !== null && BigInt(position[1]!) <= MAX_POSITION) return { kind: 'position', position: BigInt(position[1]!) };
    context.addIssue({ code: 'custom', message: `${JSON.stringify(value)} is neither a date (YYYY-MM-DD) nor position:<n>` });
    return z.NEVER;
  });

export const bookIdSchema = z.string().min(1).max(64);
/** Scope: when given, the book must belong to this ISP, else it does not exist for the caller. */
export const tenantSchema = z.string().min(1).max(64).optional();

export const describeAsOf = (as_of: AsOf): string =>
  as_of.kind === 'now' ? 'now' : as_of.kind === 'date' ? `end of ${as_of.date}` : `event ${as_of.position}`;

/** The rows a report may count: entries dated on or before `date_max` and posted at or before `position_max`. */
export type Cut = Readonly<{ date_max: LocalDate | null; position_max: bigint | null }>;

export const cutOf = (as_of: AsOf): Cut =>
  as_of.kind === 'date' ? { date_max: as_of.date, position_max: null } : as_of.kind === 'position' ? { date_max: null, position_max: as_of.position } : { date_max: null, position_max: null };

/** The cut narrowed to entries dated on or before `date` as well. */
export function cutThrough(cut: Cut, date: LocalDate | null): Cut {
  if (date === null) return cut;
  return { ...cut, date_max: cut.date_max === null || date < cut.date_max ? date : cut.date_max };
}

/** The cut narrowed to entries dated strictly before `date` (an opening balance). */
export const cutBefore = (cut: Cut, date: LocalDate): Cut => cutThrough(cut, addDays(date, -1));

export function checkPeriod(from: LocalDate | undefined, to: LocalDate | undefined): void {
  if (from !== undefined && to !== undefined && from > to) throw new BooksQueryError('INVALID_INPUT', `the period starts (${from}) after it ends (${to})`);
}

// --- snapshot ---------------------------------------------------------------------------------------------------

/** A report's queries may each take this long; a report that needs more is a bug or a missing index. */
const STATEMENT_TIMEOUT_MS = 60_000;

/**
 * Runs a report's queries in one read-only REPEATABLE READ snapshot, so totals, lines and balances all come
 * from the same moment even while the projector writes. Given a client, the caller's transaction is used as is.
 */
export async function inSnapshot<Result>(db: Queryable, work: (client: pg.ClientBase) => Promise<Result>): Promise<Result> {
  if (!(db instanceof pg.Pool)) return work(db);
  const client = await db.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await client.query(`SET LOCAL statement_timeout = ${STATEMENT_TIMEOUT_MS}`);
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

// --- books and accounts -----------------------------------------------------------------------------------------

export type Book = Readonly<{
  book_id: string;
  tenant: string;
  role: OperatorRole;
  parent_id: string | null;
  name: string;
  currency: string;
  time_zone: string;
  closed_through: LocalDate | null;
}>;

const BOOK_COLUMNS = "book_id, tenant, role, parent_id, name, currency, time_zone, to_char(closed_through, 'YYYY-MM-DD') AS closed_through";

/** Reads `books` by its key. */
export async function loadBook(client: pg.ClientBase, book_id: string, tenant?: string): Promise<Book> {
  const result = await client.query<Book>(`SELECT ${BOOK_COLUMNS} FROM books WHERE book_id = $1`, [book_id]);
  const book = result.rows[0];
  if (book === undefined || (tenant !== undefined && book.tenant !== tenant)) throw new BooksQueryError('BOOK_NOT_FOUND', `there is no book ${book_id}`);
  return book;
}

/** Reads `books` by tenant (its index); every book when no tenant is given. */
export async function listBooks(db: Queryable, input: Readonly<{ tenant?: string }> = {}): Promise<readonly Book[]> {
  const { tenant } = parseInput(z.object({ tenant: tenantSchema }).strict(), input);
  const result =
    tenant === undefined
      ? await db.query<Book>(`SELECT ${BOOK_COLUMNS} FROM books ORDER BY tenant, book_id`)
      : await db.query<Book>(`SELECT ${BOOK_COLUMNS} FROM books WHERE tenant = $1 ORDER BY book_id`, [tenant]);
  return result.rows;
}

export type AccountInfo = Readonly<{
  code: string;
  name: string;
  type: AccountType;
  normal_side: NormalSide;
  party_kind: 'customer' | 'operator' | null;
  custom: boolean;
}>;

/** Reads `book_accounts` by its key prefix (book_id): the template accounts and the book's own. */
export async function loadAccounts(client: pg.ClientBase, book_id: string): Promise<readonly AccountInfo[]> {
  const result = await client.query<AccountInfo>('SELECT code, name, type, normal_side, party_kind, custom FROM book_accounts WHERE book_id = $1 ORDER BY code', [book_id]);
  return result.rows;
}

export function requireAccount(accounts: readonly AccountInfo[], code: string, book_id: string): AccountInfo {
  const account = accounts.find((candidate) => candidate.code === code);
  if (account === undefined) throw new BooksQueryError('ACCOUNT_NOT_FOUND', `there is no account ${code} in book ${book_id}`);
  return account;
}

// --- money ------------------------------------------------------------------------------------------------------

/**
 * A numeric from SQL as Money. Sums come back as text with whatever scale PostgreSQL chose ("0", "100.00");
 * anything finer than the currency's minor unit means a row that should never have been written.
 */
export function moneyFromSql(text: string | null | undefined, currency: string): Money {
  if (text === null || text === undefined) return Money.zero(currency);
  const value = new Decimal(text);
  const minor_units = minorUnitsOf(currency);
  if (value.decimalPlaces() > minor_units) throw new BooksInvariantBroken(`an amount ${text} ${currency} is finer than the currency's minor unit`);
  return Money.parse(value.toFixed(minor_units), currency);
}

/** An account's balance on its normal side: positive when it holds what it usually holds. */
export const onNormalSide = (normal_side: NormalSide, debit: Money, credit: Money): Money => (normal_side === 'debit' ? debit.minus(credit) : credit.minus(debit));

export type Totals = Readonly<{ debit: Money; credit: Money }>;

export const zeroTotals = (currency: string): Totals => ({ debit: Money.zero(currency), credit: Money.zero(currency) });
export const plusTotals = (a: Totals, b: Totals): Totals => ({ debit: a.debit.plus(b.debit), credit: a.credit.plus(b.credit) });
export const minusTotals = (a: Totals, b: Totals): Totals => ({ debit: a.debit.minus(b.debit), credit: a.credit.minus(b.credit) });
