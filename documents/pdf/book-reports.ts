import type { Content, TableCell } from 'pdfmake/interfaces.js';
import type { InvoiceParty } from '../../projections/queries/billing-documents.js';
import type { CustomerStatement, LedgerLine } from '../../projections/queries/books-journal.js';
import type { ResellerStatement } from '../../projections/queries/books-reseller.js';
import type { BalanceSheet, BookSummary, IncomeStatement, StatementSection, TrialBalance } from '../../projections/queries/books-statements.js';
import { amountCell, dataTable, facts, footer, headerRow, letterhead, totals, type DocumentContext } from './layout.js';
import type { PdfPart } from './pdf-writer.js';

/**
 * The books' reports as PDFs: each takes the report object the query returned (books-*.ts) and lays it out,
 * so a PDF says exactly what `ispbills report …` and the API say. Amounts in the tables are plain numbers
 * under a heading naming the currency; statement totals carry the symbol.
 */
const ROLE_NAMES: Readonly<Record<string, string>> = { admin: 'ISP', reseller: 'Reseller', sub_reseller: 'Sub-reseller' };

const bookLine = (book: BookSummary): string => `${book.name} (${ROLE_NAMES[book.role] ?? book.role}, book ${book.book_id})`;
const currencyNote = (context: DocumentContext): Content => ({ text: `Amounts in ${context.isp.currency} (${context.money.symbol})`, style: 'label', alignment: 'right', margin: [0, 0, 0, 2] });
const periodText = (context: DocumentContext, from: string | null, to: string | null): string =>
  from === null && to === null ? 'from the first entry' : `${from === null ? 'the first entry' : context.day(from)} – ${to === null ? 'now' : context.day(to)}`;

// --- customer statement -----------------------------------------------------------------------------------------

/** Every page of a customer's statement (customerStatementPages) as one document. */
export function customerStatementPart(context: DocumentContext, customer: InvoiceParty, pages: readonly CustomerStatement[]): PdfPart {
  const first = pages[0];
  const last = pages[pages.length - 1];
  if (first === undefined || last === undefined) throw new Error('bug: a statement without pages');
  const lines: LedgerLine[] = pages.flatMap((page) => page.lines);
  const closing = last.closing;
  const owes = !closing.startsWith('-') && !/^0(\.0+)?$/.test(closing);
  const rows: TableCell[][] = [
    [{ text: first.from === null ? '' : context.day(first.from) }, { text: 'Opening balance', italics: true }, { text: '' }, { text: '' }, amountCell(context, first.opening, { plain: true })],
    ...lines.map((line) => [
      { text: context.day(line.date) },
      { text: `${line.memo}${line.due_on === null ? '' : ` (due ${context.day(line.due_on)})`}` },
      amountCell(context, line.debit, { plain: true, blankZero: true }),
      amountCell(context, line.credit, { plain: true, blankZero: true }),
      amountCell(context, line.balance, { plain: true }),
    ]),
  ];
  const content: Content[] = [
    letterhead(context, 'STATEMENT', [
      ['Customer', customer.customer_id],
      ['Period', periodText(context, first.from, first.to)],
      ['As of', first.as_of],
    ]),
    {
      columns: [
        { width: '*', stack: [{ text: 'Statement for', style: 'label' }, { text: customer.name, bold: true, fontSize: 11 }, { text: customer.zone }, { text: customer.mobile, style: 'muted' }] },
        { width: 230, ...facts([['Account', `${first.account.code} ${first.account.name}`], ['Book', bookLine(first.book)]]) } as Content,
      ],
      margin: [0, 0, 0, 8],
    },
    currencyNote(context),
    dataTable([55, '*', 60, 60, 65], headerRow(['Date', 'Details', ['Charges', 'right'], ['Payments', 'right'], ['Balance', 'right']]), rows),
    totals(context, [
      ['Opening balance', first.opening],
      [owes ? 'Amount due' : closing.startsWith('-') ? 'In credit' : 'Closing balance', closing.startsWith('-') ? closing.slice(1) : closing, 'due'],
    ]),
    { text: 'A positive balance is what the customer owes; a credit is paid in advance.', style: 'label', margin: [0, 10, 0, 0] },
  ];
  return { content, footer: footer(context, `Statement of ${customer.customer_id}`) };
}

// --- reseller commission statement --------------------------------------------------------------------------------

export function resellerStatementPart(context: DocumentContext, report: ResellerStatement): PdfPart {
  const content: Content[] = [
    letterhead(context, 'COMMISSION STATEMENT', [
      ['Operator', report.book.book_id],
      ['Period', periodText(context, report.from, report.to)],
      ['As of', report.as_of],
    ]),
    { text: report.book.name, bold: true, fontSize: 11 },
    { text: bookLine(report.book), style: 'muted', margin: [0, 0, 0, 6] },
    totals(context, [['Commission earned in the period (4100)', report.commission_earned, 'due']]),
  ];
  if (report.wallet !== null) {
    content.push(
      { text: `Wallet with ${report.wallet.name ?? report.wallet.operator_id} (1200; positive: the parent owes you)`, style: 'heading' },
      totals(context, [
        ['Opening', report.wallet.opening],
        ['Closing', report.wallet.closing, 'total'],
      ]),
    );
  }
  content.push(
    { text: 'Child operators (2100; positive: you owe the child, negative: the child owes you)', style: 'heading' },
    currencyNote(context),
    dataTable(
      ['auto', '*', 'auto', 'auto'],
      headerRow(['Operator', 'Name', ['Opening', 'right'], ['Closing', 'right']]),
      report.children.map((child) => [{ text: child.operator_id }, { text: child.name ?? '' }, amountCell(context, child.opening, { plain: true }), amountCell(context, child.closing, { plain: true })]),
      'no child operators',
    ),
  );
  if (report.commission_lines !== null) {
    content.push(
      { text: `Commission payment by payment (${report.commission_lines.length})`, style: 'heading' },
      currencyNote(context),
      dataTable(
        ['auto', 'auto', 'auto', '*', 'auto'],
        headerRow(['When', 'Kind', 'Customer', 'Payment', ['Amount', 'right']]),
        report.commission_lines.map((line) => [
          { text: context.instant(line.at) },
          { text: line.kind === 'clawback' ? 'Clawback (refund)' : 'Commission' },
          { text: line.customer_id },
          { text: line.payment_id, style: 'muted' },
          amountCell(context, line.amount, { plain: true }),
        ]),
        'no commission in the period',
      ),
      totals(context, [['Total of the lines', report.commission_lines_total ?? '0']]),
      { text: 'The lines are stamped with the payment’s instant; the book’s 4100 movement above is the figure (an entry moved out of a closed period keeps its instant here).', style: 'label', margin: [0, 6, 0, 0] },
    );
  }
  return { content, footer: footer(context, `Commission statement of ${report.book.book_id}`) };
}

// --- trial balance, balance sheet, income statement -----------------------------------------------------------------

export function trialBalancePart(context: DocumentContext, report: TrialBalance): PdfPart {
  const rows: TableCell[][] = report.accounts.map((account) => [
    { text: account.code },
    { text: account.name },
    { text: account.type, style: 'muted' },
    amountCell(context, account.debit, { plain: true, blankZero: true }),
    amountCell(context, account.credit, { plain: true, blankZero: true }),
    amountCell(context, account.balance_debit, { plain: true, blankZero: true }),
    amountCell(context, account.balance_credit, { plain: true, blankZero: true }),
  ]);
  rows.push([
    { text: '' },
    { text: 'Total', bold: true },
    { text: '' },
    amountCell(context, report.totals.debit, { plain: true, bold: true }),
    amountCell(context, report.totals.credit, { plain: true, bold: true }),
    amountCell(context, report.totals.balance_debit, { plain: true, bold: true }),
    amountCell(context, report.totals.balance_credit, { plain: true, bold: true }),
  ]);
  return {
    content: [
      letterhead(context, 'TRIAL BALANCE', [
        ['Book', report.book.book_id],
        ['As of', report.as_of],
      ]),
      { text: bookLine(report.book), bold: true, margin: [0, 0, 0, 6] },
      currencyNote(context),
      dataTable(['auto', '*', 'auto', 'auto', 'auto', 'auto', 'auto'], headerRow(['Code', 'Account', 'Type', ['Debits', 'right'], ['Credits', 'right'], ['Debit balance', 'right'], ['Credit balance', 'right']]), rows),
      { text: 'Both columns sum to the same total: the report refuses to print one that does not.', style: 'label', margin: [0, 8, 0, 0] },
    ],
    footer: footer(context, `Trial balance of ${report.book.book_id}`),
  };
}

function sectionRows(context: DocumentContext, title: string, section: StatementSection, total_label: string): TableCell[][] {
  return [
    [{ text: title, bold: true, colSpan: 2 }, {}],
    ...section.accounts.map((account) => [{ text: `${account.code}  ${account.name}`, margin: [10, 0, 0, 0] as [number, number, number, number] }, amountCell(context, account.amount, { plain: true })]),
    [{ text: total_label, bold: true, margin: [10, 0, 0, 0] as [number, number, number, number] }, amountCell(context, section.total, { plain: true, bold: true })],
  ];
}

const statementTable = (rows: TableCell[][]): Content => ({ table: { widths: ['*', 110], body: rows, dontBreakRows: true }, layout: 'lightHorizontalLines' });

export function balanceSheetPart(context: DocumentContext, report: BalanceSheet): PdfPart {
  const rows: TableCell[][] = [
    ...sectionRows(context, 'Assets', report.assets, 'Total assets'),
    ...sectionRows(context, 'Liabilities', report.liabilities, 'Total liabilities'),
    [{ text: 'Equity', bold: true, colSpan: 2 }, {}],
    ...report.equity.accounts.map((account) => [{ text: `${account.code}  ${account.name}`, margin: [10, 0, 0, 0] as [number, number, number, number] }, amountCell(context, account.amount, { plain: true })]),
    [{ text: 'Current earnings (revenue − expense)', margin: [10, 0, 0, 0] as [number, number, number, number] }, amountCell(context, report.equity.current_earnings, { plain: true })],
    [{ text: 'Total equity', bold: true, margin: [10, 0, 0, 0] as [number, number, number, number] }, amountCell(context, report.equity.total, { plain: true, bold: true })],
    [{ text: 'Total liabilities and equity', bold: true }, amountCell(context, report.liabilities_and_equity, { plain: true, bold: true })],
  ];
  return {
    content: [
      letterhead(context, 'BALANCE SHEET', [
        ['Book', report.book.book_id],
        ['As of', report.as_of],
      ]),
      { text: bookLine(report.book), bold: true, margin: [0, 0, 0, 6] },
      currencyNote(context),
      statementTable(rows),
    ],
    footer: footer(context, `Balance sheet of ${report.book.book_id}`),
  };
}

export function incomeStatementPart(context: DocumentContext, report: IncomeStatement): PdfPart {
  const rows: TableCell[][] = [
    ...sectionRows(context, 'Revenue', report.revenue, 'Total revenue'),
    ...sectionRows(context, 'Expenses', report.expenses, 'Total expenses'),
    [{ text: 'Net income', bold: true }, amountCell(context, report.net_income, { plain: true, bold: true })],
  ];
  return {
    content: [
      letterhead(context, 'INCOME STATEMENT', [
        ['Book', report.book.book_id],
        ['Period', `${context.day(report.from)} – ${context.day(report.to)}`],
        ['As of', report.as_of],
      ]),
      { text: bookLine(report.book), bold: true, margin: [0, 0, 0, 6] },
      currencyNote(context),
      statementTable(rows),
    ],
    footer: footer(context, `Income statement of ${report.book.book_id}`),
  };
}
