import { z } from 'zod';
import type { AccountType, NormalSide } from '../../domain/ledger/chart.js';
import { Money } from '../../domain/money/money.js';
import {
  asOfSchema,
  bookIdSchema,
  BooksInvariantBroken,
  checkPeriod,
  cutOf,
  cutThrough,
  describeAsOf,
  inSnapshot,
  loadAccounts,
  loadBook,
  localDate,
  onNormalSide,
  parseInput,
  tenantSchema,
  zeroTotals,
  type AccountInfo,
  type Book,
  type Cut,
  type Queryable,
} from './books-common.js';
import { accountTotals, periodTotals, type AccountTotals } from './books-totals.js';

/**
 * The statements built from account totals: trial balance, balance sheet and income statement. None of them
 * reads journal lines except for the one partial position bucket (see books-totals.ts): their cost is the
 * number of accounts times the days (or position buckets) with postings.
 */
export type BookSummary = Readonly<Pick<Book, 'book_id' | 'name' | 'role' | 'parent_id' | 'currency' | 'time_zone' | 'closed_through'>>;

export const summaryOf = (book: Book): BookSummary => ({
  book_id: book.book_id,
  name: book.name,
  role: book.role,
  parent_id: book.parent_id,
  currency: book.currency,
  time_zone: book.time_zone,
  closed_through: book.closed_through,
});

// --- trial balance ----------------------------------------------------------------------------------------------

/**
 * `to` narrows the cut to entries dated through that day as well: with `as_of: position:<n>` it is a period's
 * end as the books knew it at that position (what an auditor's package is pinned to).
 */
export const TrialBalanceInput = z.object({ book_id: bookIdSchema, tenant: tenantSchema, as_of: asOfSchema, to: localDate.optional() }).strict();

const cutAndDescription = (request: z.output<typeof TrialBalanceInput>): { cut: Cut; as_of: string } => ({
  cut: cutThrough(cutOf(request.as_of), request.to ?? null),
  as_of: request.to === undefined ? describeAsOf(request.as_of) : `${describeAsOf(request.as_of)}, entries dated through ${request.to}`,
});

export type TrialBalanceLine = Readonly<{
  code: string;
  name: string;
  type: AccountType;
  normal_side: NormalSide;
  debit: string;
  credit: string;
  /** On the account's normal side: positive when it holds what it usually holds. */
  balance: string;
  /** The balance in the classic two columns: exactly one of them is non-zero unless the account is settled. */
  balance_debit: string;
  balance_credit: string;
}>;

export type TrialBalance = Readonly<{
  book: BookSummary;
  as_of: string;
  currency: string;
  accounts: readonly TrialBalanceLine[];
  totals: Readonly<{ debit: string; credit: string; balance_debit: string; balance_credit: string }>;
}>;

/**
 * Every account of the book with its debit and credit totals and its balance, as of a date (account_day_totals)
 * or a position (account_bucket_totals plus at most half a bucket of journal_lines). Both columns must sum to the
 * same total — if they do not, the books are broken and this throws instead of printing a wrong report.
 */
export async function trialBalance(db: Queryable, input: z.input<typeof TrialBalanceInput>): Promise<TrialBalance> {
  const request = parseInput(TrialBalanceInput, input);
  return inSnapshot(db, async (client) => {
    const book = await loadBook(client, request.book_id, request.tenant);
    const accounts = await loadAccounts(client, book.book_id);
    const { cut, as_of } = cutAndDescription(request);
    const totals = await accountTotals(client, book, cut);
    return { book: summaryOf(book), as_of, currency: book.currency, ...trialBalanceOf(book, accounts, totals) };
  });
}

function trialBalanceOf(book: Book, accounts: readonly AccountInfo[], totals: AccountTotals): Pick<TrialBalance, 'accounts' | 'totals'> {
  const currency = book.currency;
  const known = new Set(accounts.map((account) => account.code));
  for (const code of totals.keys()) if (!known.has(code)) throw new BooksInvariantBroken(`book ${book.book_id} has postings to account ${code}, which is not in its chart`);
  let debit = Money.zero(currency);
  let credit = Money.zero(currency);
  let balance_debit = Money.zero(currency);
  let balance_credit = Money.zero(currency);
  const lines = accounts.map((account): TrialBalanceLine => {
    const total = totals.get(account.code) ?? zeroTotals(currency);
    const net = total.debit.minus(total.credit);
    debit = debit.plus(total.debit);
    credit = credit.plus(total.credit);
    if (net.isPositive()) balance_debit = balance_debit.plus(net);
    else balance_credit = balance_credit.minus(net);
    return {
      code: account.code,
      name: account.name,
      type: account.type,
      normal_side: account.normal_side,
      debit: total.debit.toString(),
      credit: total.credit.toString(),
      balance: onNormalSide(account.normal_side, total.debit, total.credit).toString(),
      balance_debit: (net.isPositive() ? net : Money.zero(currency)).toString(),
      balance_credit: (net.isNegative() ? net.negated() : Money.zero(currency)).toString(),
    };
  });
  // Invariant 2 of the ledger, checked on the read path too: a trial balance that does not sum to zero is a bug.
  if (!debit.equals(credit) || !balance_debit.equals(balance_credit)) {
    throw new BooksInvariantBroken(`the trial balance of book ${book.book_id} does not balance: debits ${debit}, credits ${credit}, debit balances ${balance_debit}, credit balances ${balance_credit}`);
  }
  return { accounts: lines, totals: { debit: debit.toString(), credit: credit.toString(), balance_debit: balance_debit.toString(), balance_credit: balance_credit.toString() } };
}

// --- balance sheet ----------------------------------------------------------------------------------------------

export const BalanceSheetInput = TrialBalanceInput;

export type StatementLine = Readonly<{ code: string; name: string; amount: string }>;
export type StatementSection = Readonly<{ accounts: readonly StatementLine[]; total: string }>;

export type BalanceSheet = Readonly<{
  book: BookSummary;
  as_of: string;
  currency: string;
  assets: StatementSection;
  liabilities: StatementSection;
  /** The equity accounts plus the current earnings (revenue − expense to date: no closing entries are posted). */
  equity: StatementSection & Readonly<{ current_earnings: string }>;
  liabilities_and_equity: string;
}>;

/** Assets = liabilities + equity, with the earnings to date shown in equity; reads what the trial balance reads. */
export async function balanceSheet(db: Queryable, input: z.input<typeof BalanceSheetInput>): Promise<BalanceSheet> {
  const request = parseInput(BalanceSheetInput, input);
  return inSnapshot(db, async (client) => {
    const book = await loadBook(client, request.book_id, request.tenant);
    const accounts = await loadAccounts(client, book.book_id);
    const { cut, as_of } = cutAndDescription(request);
    const totals = await accountTotals(client, book, cut);
    const section = (type: AccountType): StatementSection => sectionOf(book, accounts, totals, type);
    const assets = section('asset');
    const liabilities = section('liability');
    const equity = section('equity');
    const money = (text: string): Money => Money.parse(text, book.currency);
    const current_earnings = money(section('revenue').total).minus(money(section('expense').total));
    const equity_total = money(equity.total).plus(current_earnings);
    const liabilities_and_equity = money(liabilities.total).plus(equity_total);
    if (!money(assets.total).equals(liabilities_and_equity)) {
      throw new BooksInvariantBroken(`the balance sheet of book ${book.book_id} does not balance: assets ${assets.total}, liabilities and equity ${liabilities_and_equity}`);
    }
    return {
      book: summaryOf(book),
      as_of,
      currency: book.currency,
      assets,
      liabilities,
      equity: { accounts: equity.accounts, current_earnings: current_earnings.toString(), total: equity_total.toString() },
      liabilities_and_equity: liabilities_and_equity.toString(),
    };
  });
}

function sectionOf(book: Book, accounts: readonly AccountInfo[], totals: AccountTotals, type: AccountType): StatementSection {
  let total = Money.zero(book.currency);
  const lines = accounts
    .filter((account) => account.type === type)
    .map((account) => {
      const amounts = totals.get(account.code) ?? zeroTotals(book.currency);
      const amount = onNormalSide(account.normal_side, amounts.debit, amounts.credit);
      total = total.plus(amount);
      return { code: account.code, name: account.name, amount: amount.toString() };
    });
  return { accounts: lines, total: total.toString() };
}

// --- income statement -------------------------------------------------------------------------------------------

export const IncomeStatementInput = z.object({ book_id: bookIdSchema, tenant: tenantSchema, as_of: asOfSchema, from: localDate, to: localDate }).strict();

export type IncomeStatement = Readonly<{
  book: BookSummary;
  as_of: string;
  currency: string;
  from: string;
  /** The period's last day counted: `to`, or the as-of date when that is earlier. */
  to: string;
  revenue: StatementSection;
  expenses: StatementSection;
  net_income: string;
}>;

/**
 * Revenue and expense movements of the entries dated in [from, to]: the period's rows of account_day_totals,
 * or, as of a position, the period's lines of the revenue and expense accounts (journal_lines by
 * (book_id, account_code, entry_date, global_position)).
 */
export async function incomeStatement(db: Queryable, input: z.input<typeof IncomeStatementInput>): Promise<IncomeStatement> {
  const request = parseInput(IncomeStatementInput, input);
  checkPeriod(request.from, request.to);
  return inSnapshot(db, async (client) => {
    const book = await loadBook(client, request.book_id, request.tenant);
    const accounts = await loadAccounts(client, book.book_id);
    const cut = cutThrough(cutOf(request.as_of), request.to);
    const codes = accounts.filter((account) => account.type === 'revenue' || account.type === 'expense').map((account) => account.code);
    const totals = await periodTotals(client, book, request.from, cut.date_max, cut.position_max, codes);
    const revenue = sectionOf(book, accounts, totals, 'revenue');
    const expenses = sectionOf(book, accounts, totals, 'expense');
    return {
      book: summaryOf(book),
      as_of: describeAsOf(request.as_of),
      currency: book.currency,
      from: request.from,
      to: cut.date_max!,
      revenue,
      expenses,
      net_income: Money.parse(revenue.total, book.currency).minus(Money.parse(expenses.total, book.currency)).toString(),
    };
  });
}
