import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { PassThrough } from 'node:stream';
import type { Command } from 'commander';
import { localDateOf } from '../domain/calendar/local-date.js';
import { arAging, type ArAging } from '../projections/queries/books-aging.js';
import { BooksQueryError, listBooks, type Book } from '../projections/queries/books-common.js';
import { exportHledgerJournal } from '../projections/queries/books-hledger.js';
import { customerStatement, generalLedger, journal, type CustomerStatement, type JournalPage, type Ledger } from '../projections/queries/books-journal.js';
import { resellerStatement, type ResellerStatement } from '../projections/queries/books-reseller.js';
import { balanceSheet, incomeStatement, trialBalance, type BalanceSheet, type BookSummary, type IncomeStatement, type StatementSection, type TrialBalance } from '../projections/queries/books-statements.js';
import { exportTable } from '../documents/exports.js';
import { journalTable } from '../documents/tables.js';
import { loadConfig } from './config.js';
import { connect, quietLogger, type Connected } from './system.js';

/**
 * The books on the command line: `ispbills books` lists them, `ispbills report <kind>` prints one report as a
 * table (or JSON), `ispbills export journal --format hledger` writes a book's journal for hledger/ledger.
 * Everything here reads the books projection; nothing is written. Registered from cli/main.ts.
 */
export const REPORT_KINDS = ['trial-balance', 'balance-sheet', 'income-statement', 'journal', 'ledger', 'reseller-statement', 'customer-statement', 'ar-aging'] as const;
export type ReportKind = (typeof REPORT_KINDS)[number];

export type ReportOptions = Readonly<{
  book: string;
  tenant?: string;
  asOf?: string;
  from?: string;
  to?: string;
  account?: string;
  party?: string;
  customer?: string;
  agedOn?: string;
  limit?: string;
  after?: string;
  json?: boolean;
}>;

export function registerBooksCommands(program: Command): void {
  program
    .command('books')
    .description("every operator's book: id, ISP, role, parent, name, currency, zone and the day it is closed through")
    .option('--tenant <id>', 'only the books of this ISP')
    .option('--json', 'print JSON instead of a table')
    .action(async (options: { tenant?: string; json?: boolean }) =>
      withConnection(async (connected) => {
        const books = await listBooks(connected.database.pool, options.tenant === undefined ? {} : { tenant: options.tenant });
        print(options.json === true ? books : formatBooks(books), options.json === true);
      }),
    );

  program
    .command('report')
    .description(`a report from one book, as of a date (YYYY-MM-DD, the book's own days) or a log position (position:<n>): ${REPORT_KINDS.join(', ')}`)
    .argument('<kind>', REPORT_KINDS.join(' | '))
    .requiredOption('--book <id>', "the book: its operator's id (see `ispbills books`)")
    .option('--tenant <id>', 'refuse a book outside this ISP')
    .option('--as-of <when>', 'YYYY-MM-DD (entries dated through that day) or position:<n> (entries posted by event n); default: now')
    .option('--from <date>', 'first day of the period (income-statement, journal, ledger, statements)')
    .option('--to <date>', 'last day of the period')
    .option('--account <code>', 'ledger: the account, e.g. 1020')
    .option('--party <id>', 'ledger: one customer or operator of a per-party account (1100, 1200, 2100)')
    .option('--customer <id>', 'customer-statement: the customer')
    .option('--aged-on <date>', "ar-aging: the day ages count to (default: the as-of date, else today in the book's zone)")
    .option('--limit <n>', 'journal, ledger, customer-statement: rows per page')
    .option('--after <cursor>', 'journal, ledger, customer-statement: the next page (the cursor the previous page printed)')
    .option('--json', 'print JSON instead of tables')
    .action(async (kind: string, options: ReportOptions) =>
      withConnection(async (connected) => {
        const report = await runReport(connected, kind, options);
        print(options.json === true ? report : formatReport(kind as ReportKind, report), options.json === true);
      }),
    );

  const exporter = program.commands.find((command) => command.name() === 'export') ?? program.command('export').description('export data for other tools');
  exporter
    .command('journal')
    .description("a book's journal: hledger/ledger text (check it with `hledger -f FILE check accounts commodities`), or one row per line as XLSX or CSV")
    .requiredOption('--book <id>', "the book: its operator's id")
    .requiredOption('--format <format>', 'hledger, xlsx or csv')
    .option('--tenant <id>', 'refuse a book outside this ISP')
    .option('--as-of <when>', 'YYYY-MM-DD or position:<n>; default: now')
    .option('--from <date>', 'first day of entries to include')
    .option('--to <date>', 'last day of entries to include')
    .option('--out <file>', 'write here instead of standard output')
    .action(async (options: { book: string; format: string; tenant?: string; asOf?: string; from?: string; to?: string; out?: string }) =>
      withConnection(async (connected) => {
        if (options.format === 'xlsx' || options.format === 'csv') {
          await writeJournalTable(connected, options as typeof options & { format: 'xlsx' | 'csv' });
          return;
        }
        if (options.format !== 'hledger') throw new BooksQueryError('INVALID_INPUT', `--format ${options.format}: the journal exports as hledger (ledger-compatible) text, xlsx or csv`);
        const out = options.out === undefined ? process.stdout : createWriteStream(options.out, { encoding: 'utf8' });
        const write = async (chunk: string): Promise<void> => {
          if (!out.write(chunk)) await once(out, 'drain');
        };
        const summary = await exportHledgerJournal(
          connected.database.pool,
          { book_id: options.book, ...defined({ tenant: options.tenant, as_of: options.asOf, from: options.from, to: options.to }) },
          write,
        );
        if (out !== process.stdout) {
          out.end();
          await once(out, 'finish');
        }
        process.stderr.write(`exported ${summary.entries} entries (${summary.postings} postings, ${summary.accounts} accounts) of book ${summary.book_id}${options.out === undefined ? '' : ` to ${options.out}`}\n`);
      }),
    );
}

/** The journal as a table (one row per line), the same export the API and the auditor's package write. */
async function writeJournalTable(connected: Connected, options: Readonly<{ book: string; format: 'xlsx' | 'csv'; tenant?: string; asOf?: string; from?: string; to?: string; out?: string }>): Promise<void> {
  if (options.format === 'xlsx' && options.out === undefined) throw new BooksQueryError('INVALID_INPUT', 'the journal as xlsx is binary: say where to write it with --out <file>');
  const out = options.out === undefined ? toStandardOutput() : createWriteStream(options.out);
  const table = journalTable({ book_id: options.book, ...defined({ tenant: options.tenant, as_of: options.asOf, from: options.from, to: options.to }) });
  const summary = await exportTable(connected.database.pool, table, options.format, out, { created_at: new Date() });
  process.stderr.write(`exported ${summary.rows} journal lines of book ${options.book}${options.out === undefined ? '' : ` to ${options.out}`}\n`);
}

/** A stream the exporters may end; standard output itself stays open. */
export function toStandardOutput(): PassThrough {
  const pass = new PassThrough();
  pass.pipe(process.stdout, { end: false });
  return pass;
}

async function withConnection(work: (connected: Connected) => Promise<void>): Promise<void> {
  const connected = await connect(loadConfig(), quietLogger());
  try {
    await work(connected);
  } finally {
    await connected.close();
  }
}

const print = (value: unknown, json: boolean): void => {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${String(value)}\n`);
};

/** Options the user did not give stay out of the input, so the report's own defaults apply. */
function defined<Values extends Record<string, unknown>>(values: Values): { [Key in keyof Values]?: Exclude<Values[Key], undefined> } {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as { [Key in keyof Values]?: Exclude<Values[Key], undefined> };
}

const limitOf = (limit: string | undefined): number | undefined => (limit === undefined ? undefined : /^\d{1,6}$/.test(limit) ? Number(limit) : Number.NaN);

/** Runs one report; the report checks its own input and refuses with a coded error. */
export async function runReport(connected: Connected, kind: string, options: ReportOptions): Promise<unknown> {
  const pool = connected.database.pool;
  const base = { book_id: options.book, ...defined({ tenant: options.tenant, as_of: options.asOf }) };
  const period = defined({ from: options.from, to: options.to });
  const paging = defined({ limit: limitOf(options.limit), after: options.after });
  switch (kind as ReportKind) {
    case 'trial-balance':
      return trialBalance(pool, base);
    case 'balance-sheet':
      return balanceSheet(pool, base);
    case 'income-statement':
      return incomeStatement(pool, { ...base, from: options.from ?? '', to: options.to ?? '' });
    case 'journal':
      return journal(pool, { ...base, ...period, ...paging });
    case 'ledger':
      if (options.account === undefined) throw new BooksQueryError('INVALID_INPUT', 'ledger: say which account with --account <code>');
      return generalLedger(pool, { ...base, ...period, ...paging, account: options.account, ...defined({ party: options.party }) });
    case 'reseller-statement':
      return resellerStatement(pool, { ...base, ...period });
    case 'customer-statement':
      if (options.customer === undefined) throw new BooksQueryError('INVALID_INPUT', 'customer-statement: say which customer with --customer <id>');
      return customerStatement(pool, { ...base, ...period, ...paging, customer_id: options.customer });
    case 'ar-aging': {
      let aged_on = options.agedOn;
      if (aged_on === undefined && !/^\d{4}-\d{2}-\d{2}$/.test(options.asOf ?? '')) {
        // The command line is an edge of the system: "today" is read here, in the book's own zone.
        const zone = await pool.query<{ time_zone: string }>('SELECT time_zone FROM books WHERE book_id = $1', [options.book]);
        if (zone.rows[0] !== undefined) aged_on = localDateOf(new Date(), zone.rows[0].time_zone);
      }
      return arAging(pool, { ...base, ...defined({ aged_on }) });
    }
    default:
      throw new BooksQueryError('INVALID_INPUT', `no report ${JSON.stringify(kind)}; choose one of ${REPORT_KINDS.join(', ')}`);
  }
}

// --- tables ------------------------------------------------------------------------------------------------------

/** Amounts of zero print as blanks in debit/credit columns, as on paper. */
const blankIfZero = (amount: string): string => (/^-?0(\.0+)?$/.test(amount) ? '' : amount);

type Cell = Readonly<{ text: string; right?: boolean }>;
const right = (text: string): Cell => ({ text, right: true });

/** Columns padded to their widest cell; amounts right-aligned. */
export function table(header: readonly Cell[], rows: readonly (readonly Cell[])[]): string {
  const widths = header.map((cell, column) => Math.max(cell.text.length, ...rows.map((row) => row[column]?.text.length ?? 0)));
  const line = (cells: readonly Cell[]): string =>
    cells
      .map((cell, column) => (cell.right === true ? cell.text.padStart(widths[column]!) : cell.text.padEnd(widths[column]!)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((width) => '-'.repeat(width)).join('  ');
  return [line(header), rule, ...rows.map(line)].join('\n');
}

const titleOf = (title: string, book: BookSummary, as_of: string, extra = ''): string =>
  `${title} — book ${book.book_id} "${book.name}" (${book.role}), ${book.currency}, as of ${as_of}${extra}` +
  (book.closed_through === null ? '' : ` [closed through ${book.closed_through}]`);

export function formatBooks(books: readonly Book[]): string {
  if (books.length === 0) return 'no books yet: a book opens when an ISP or operator is created';
  return table(
    ['book', 'ISP', 'role', 'parent', 'name', 'currency', 'zone', 'closed through'].map((text) => ({ text })),
    books.map((book) => [book.book_id, book.tenant, book.role, book.parent_id ?? '-', book.name, book.currency, book.time_zone, book.closed_through ?? '-'].map((text) => ({ text }))),
  );
}

export function formatReport(kind: ReportKind, report: unknown): string {
  switch (kind) {
    case 'trial-balance':
      return formatTrialBalance(report as TrialBalance);
    case 'balance-sheet':
      return formatBalanceSheet(report as BalanceSheet);
    case 'income-statement':
      return formatIncomeStatement(report as IncomeStatement);
    case 'journal':
      return formatJournal(report as JournalPage);
    case 'ledger':
      return formatLedger(report as Ledger, 'General ledger');
    case 'reseller-statement':
      return formatResellerStatement(report as ResellerStatement);
    case 'customer-statement':
      return formatLedger(report as CustomerStatement, `Customer statement of ${(report as CustomerStatement).customer_id}`);
    case 'ar-aging':
      return formatAging(report as ArAging);
  }
}

export function formatTrialBalance(report: TrialBalance): string {
  const rows = report.accounts.map((account) => [
    { text: account.code },
    { text: account.name },
    { text: account.type },
    right(account.debit),
    right(account.credit),
    right(blankIfZero(account.balance_debit)),
    right(blankIfZero(account.balance_credit)),
  ]);
  rows.push([{ text: '' }, { text: 'Total' }, { text: '' }, right(report.totals.debit), right(report.totals.credit), right(report.totals.balance_debit), right(report.totals.balance_credit)]);
  return `${titleOf('Trial balance', report.book, report.as_of)}\n\n${table(
    [{ text: 'code' }, { text: 'account' }, { text: 'type' }, right('debits'), right('credits'), right('debit balance'), right('credit balance')],
    rows,
  )}`;
}

function sectionLines(title: string, section: StatementSection, total_label: string): (readonly Cell[])[] {
  return [
    [{ text: title }, right('')],
    ...section.accounts.map((account) => [{ text: `  ${account.code} ${account.name}` }, right(account.amount)]),
    [{ text: `  ${total_label}` }, right(section.total)],
  ];
}

export function formatBalanceSheet(report: BalanceSheet): string {
  const rows: (readonly Cell[])[] = [
    ...sectionLines('Assets', report.assets, 'Total assets'),
    ...sectionLines('Liabilities', report.liabilities, 'Total liabilities'),
    [{ text: 'Equity' }, right('')],
    ...report.equity.accounts.map((account) => [{ text: `  ${account.code} ${account.name}` }, right(account.amount)]),
    [{ text: '  Current earnings (revenue − expense)' }, right(report.equity.current_earnings)],
    [{ text: '  Total equity' }, right(report.equity.total)],
    [{ text: 'Total liabilities and equity' }, right(report.liabilities_and_equity)],
  ];
  return `${titleOf('Balance sheet', report.book, report.as_of)}\n\n${table([{ text: '' }, right(report.currency)], rows)}`;
}

export function formatIncomeStatement(report: IncomeStatement): string {
  const rows: (readonly Cell[])[] = [...sectionLines('Revenue', report.revenue, 'Total revenue'), ...sectionLines('Expenses', report.expenses, 'Total expenses'), [{ text: 'Net income' }, right(report.net_income)]];
  return `${titleOf('Income statement', report.book, report.as_of, `, ${report.from} to ${report.to}`)}\n\n${table([{ text: '' }, right(report.currency)], rows)}`;
}

export function formatJournal(report: JournalPage): string {
  const rows: (readonly Cell[])[] = [];
  for (const entry of report.entries) {
    const note = entry.reverses_entry_id !== null ? ` (reverses ${entry.reverses_entry_id})` : entry.reversed_by_entry_id !== null ? ` (reversed by ${entry.reversed_by_entry_id})` : '';
    rows.push([{ text: entry.date }, { text: `${entry.memo}${note}` }, right(''), right('')]);
    rows.push([{ text: '' }, { text: `  entry ${entry.entry_id}, event ${entry.source_event_id} (${entry.source_type}, position ${entry.global_position})` }, right(''), right('')]);
    for (const line of entry.lines) {
      const debit = blankIfZero(line.debit);
      rows.push([{ text: '' }, { text: `    ${line.account_code} ${line.account_name}${line.party === null ? '' : ` [${line.party}]`}` }, right(debit), right(debit === '' ? line.credit : '')]);
    }
  }
  const body = report.entries.length === 0 ? 'no entries' : table([{ text: 'date' }, { text: 'entry' }, right('debit'), right('credit')], rows);
  return `${titleOf('Journal', report.book, report.as_of)}\n\n${body}${report.next === null ? '' : `\n\nmore: --after ${report.next}`}`;
}

export function formatLedger(report: Ledger, title: string): string {
  const account = `${report.account.code} ${report.account.name}${report.party === null ? '' : ` [${report.party}]`}, balance on the ${report.account.normal_side} side`;
  const period = report.from === null && report.to === null ? '' : `, ${report.from ?? 'start'} to ${report.to ?? 'now'}`;
  const rows: (readonly Cell[])[] = [
    [{ text: '' }, { text: report.page_opening === report.opening ? 'Opening balance' : 'Balance brought forward' }, right(''), right(''), right(report.page_opening)],
    ...report.lines.map((line) => [
      { text: line.date },
      { text: `${line.memo}${line.due_on === null ? '' : ` (due ${line.due_on})`}` },
      right(blankIfZero(line.debit)),
      right(blankIfZero(line.credit)),
      right(line.balance),
    ]),
  ];
  if (report.next === null) rows.push([{ text: '' }, { text: 'Closing balance' }, right(''), right(''), right(report.closing)]);
  return `${titleOf(title, report.book, report.as_of, period)}\n${account}\n\n${table([{ text: 'date' }, { text: 'memo' }, right('debit'), right('credit'), right('balance')], rows)}${
    report.next === null ? '' : `\n\nmore: --after ${report.next}`
  }`;
}

export function formatResellerStatement(report: ResellerStatement): string {
  const period = `, ${report.from ?? 'start'} to ${report.to ?? 'now'}`;
  const parts = [titleOf('Reseller statement', report.book, report.as_of, period), '', `Commission earned (4100): ${report.commission_earned} ${report.currency}`];
  if (report.wallet !== null) {
    parts.push(
      '',
      `Wallet with parent ${report.wallet.operator_id}${report.wallet.name === null ? '' : ` "${report.wallet.name}"`} (1200, positive: the parent owes you): opening ${report.wallet.opening}, closing ${report.wallet.closing}`,
    );
  }
  parts.push('', 'Child operators (2100, positive: you owe the child; negative: the child owes you)');
  parts.push(
    report.children.length === 0
      ? '  none'
      : table(
          [{ text: 'operator' }, { text: 'name' }, right('opening'), right('closing')],
          report.children.map((child) => [{ text: child.operator_id }, { text: child.name ?? '' }, right(child.opening), right(child.closing)]),
        ),
  );
  if (report.commission_lines !== null) {
    parts.push('', `Commission lines (operators read model): ${report.commission_lines.length}, total ${report.commission_lines_total}`);
    if (report.commission_lines.length > 0) {
      parts.push(
        table(
          [{ text: 'at' }, { text: 'kind' }, { text: 'customer' }, { text: 'payment' }, right('amount')],
          report.commission_lines.map((line) => [{ text: line.at }, { text: line.kind }, { text: line.customer_id }, { text: line.payment_id }, right(line.amount)]),
        ),
      );
    }
  }
  return parts.join('\n');
}

export function formatAging(report: ArAging): string {
  const header = [{ text: 'customer' }, right('balance'), right('current'), right('1–30'), right('31–60'), right('61–90'), right('over 90'), right('credit')];
  const cells = (name: string, row: ArAging['totals']): Cell[] => [
    { text: name },
    right(row.balance),
    right(row.current),
    right(row.days_1_30),
    right(row.days_31_60),
    right(row.days_61_90),
    right(row.over_90),
    right(row.credit),
  ];
  const rows = [...report.customers.map((row) => cells(row.customer_id, row)), cells('Total', report.totals)];
  return `${titleOf('Accounts receivable aging', report.book, report.as_of, `, days past due on ${report.aged_on}`)}\n\n${table(header, rows)}`;
}
