import type { Writable } from 'node:stream';
import type pg from 'pg';
import type { z } from 'zod';
import { billRunInvoices, countBillRunInvoices, loadDocumentCustomer, loadInvoice, loadReceipt, type BillRunSelection } from '../projections/queries/billing-documents.js';
import { BooksQueryError, inSnapshot, type Queryable } from '../projections/queries/books-common.js';
import { customerStatementPages, type CustomerStatement, type CustomerStatementInput } from '../projections/queries/books-journal.js';
import { resellerStatement, type ResellerStatementInput } from '../projections/queries/books-reseller.js';
import { balanceSheet, incomeStatement, trialBalance, type BalanceSheetInput, type IncomeStatementInput, type TrialBalanceInput } from '../projections/queries/books-statements.js';
import { loadIspProfile } from '../projections/queries/isp-profile.js';
import type { ListScope } from '../projections/queries/list-scope.js';
import { balanceSheetPart, customerStatementPart, incomeStatementPart, resellerStatementPart, trialBalancePart } from './pdf/book-reports.js';
import { invoicePart } from './pdf/invoice.js';
import { documentContext, metaFor, type DocumentContext } from './pdf/layout.js';
import { pdfBuffer, writePdf, type PdfSummary } from './pdf/pdf-writer.js';
import { receiptPart } from './pdf/receipt.js';

/**
 * Every PDF the system makes, from the read models to bytes: load the report or record (the same queries the
 * API and `ispbills report` use), lay it out for the ISP (its profile, currency, locale and zone), write it.
 * Single documents come back as a Buffer; a bill run's invoices stream to a Writable.
 */
export class DocumentIspMissing extends Error {
  readonly code = 'NOT_FOUND';
  constructor(isp_id: string) {
    super(`the ISP ${isp_id} is not in the operators read model (yet)`);
    this.name = 'DocumentIspMissing';
  }
}

async function contextFor(db: Queryable, isp_id: string, generated_at: Date): Promise<DocumentContext> {
  const isp = await loadIspProfile(db, isp_id);
  if (isp === null) throw new DocumentIspMissing(isp_id);
  return documentContext(isp, generated_at);
}

/** The ISP whose book this is: its letterhead heads the book's reports. */
async function ispOfBook(db: Queryable, book_id: string): Promise<string> {
  const found = await db.query<{ tenant: string }>('SELECT tenant FROM books WHERE book_id = $1', [book_id]);
  if (found.rows[0] === undefined) throw new BooksQueryError('BOOK_NOT_FOUND', `there is no book ${book_id}`);
  return found.rows[0].tenant;
}

export async function invoicePdf(db: Queryable, scope: ListScope, bill_id: string, generated_at: Date): Promise<Buffer> {
  const invoice = await loadInvoice(db, scope, bill_id);
  const context = await contextFor(db, scope.tenant, generated_at);
  return pdfBuffer(metaFor(context, `Invoice ${invoice.bill_id}`, `${invoice.customer.name}, ${invoice.period}`), [invoicePart(context, invoice)]);
}

export async function receiptPdf(db: Queryable, scope: ListScope, payment_id: string, generated_at: Date): Promise<Buffer> {
  const receipt = await loadReceipt(db, scope, payment_id);
  const context = await contextFor(db, scope.tenant, generated_at);
  return pdfBuffer(metaFor(context, `Money receipt ${receipt.payment_id}`, receipt.customer.name), [receiptPart(context, receipt)]);
}

export type BillRunProgress = Readonly<{ invoices: number; total: number }>;

/**
 * Every invoice of a bill run as one PDF, written to `out` as it is made: a page of bills is read (in one
 * snapshot for the whole run), each invoice laid out and flushed, then the next page. Memory holds one page of
 * invoices and one invoice's layout.
 */
export async function writeBillRunPdf(
  pool: pg.Pool,
  scope: ListScope,
  selection: BillRunSelection,
  out: Writable,
  options: Readonly<{ generated_at: Date; on_progress?: (progress: BillRunProgress) => void }>,
): Promise<PdfSummary & { invoices: number }> {
  return inSnapshot(pool, async (client) => {
    const total = await countBillRunInvoices(client, scope, selection);
    if (total === 0) throw new BooksQueryError('INVALID_INPUT', `no bills of period ${selection.period}${selection.issued_on === undefined ? '' : ` issued on ${selection.issued_on}`} in this part of the network`);
    const context = await contextFor(client, scope.tenant, options.generated_at);
    let invoices = 0;
    async function* parts() {
      for await (const page of billRunInvoices(client, scope, selection)) {
        for (const invoice of page) {
          yield invoicePart(context, invoice);
          invoices += 1;
          if (invoices % 100 === 0 || invoices === total) options.on_progress?.({ invoices, total });
        }
      }
    }
    const summary = await writePdf(out, metaFor(context, `Invoices of ${selection.period}`, `${total} invoices`), parts());
    return { ...summary, invoices };
  });
}

/** A customer's statement (every page of it) in a book: its own operator's unless the input names another. */
export async function customerStatementPdf(db: pg.Pool, scope: ListScope, input: z.input<typeof CustomerStatementInput>, generated_at: Date): Promise<Buffer> {
  const customer = await loadDocumentCustomer(db, scope, input.customer_id);
  const pages = await inSnapshot(db, async (client) => {
    const all: CustomerStatement[] = [];
    for await (const page of customerStatementPages(client, { ...input, tenant: scope.tenant })) all.push(page);
    return all;
  });
  const context = await contextFor(db, scope.tenant, generated_at);
  return pdfBuffer(metaFor(context, `Statement of ${customer.name}`, `customer ${customer.customer_id}`), [customerStatementPart(context, customer, pages)]);
}

export async function resellerStatementPdf(db: Queryable, input: z.input<typeof ResellerStatementInput>, generated_at: Date): Promise<Buffer> {
  const report = await resellerStatement(db, input);
  const context = await contextFor(db, await ispOfBook(db, report.book.book_id), generated_at);
  return pdfBuffer(metaFor(context, `Commission statement of ${report.book.name}`), [resellerStatementPart(context, report)]);
}

export async function trialBalancePdf(db: Queryable, input: z.input<typeof TrialBalanceInput>, generated_at: Date): Promise<Buffer> {
  const report = await trialBalance(db, input);
  const context = await contextFor(db, await ispOfBook(db, report.book.book_id), generated_at);
  return pdfBuffer(metaFor(context, `Trial balance of ${report.book.name}`, report.as_of), [trialBalancePart(context, report)]);
}

export async function balanceSheetPdf(db: Queryable, input: z.input<typeof BalanceSheetInput>, generated_at: Date): Promise<Buffer> {
  const report = await balanceSheet(db, input);
  const context = await contextFor(db, await ispOfBook(db, report.book.book_id), generated_at);
  return pdfBuffer(metaFor(context, `Balance sheet of ${report.book.name}`, report.as_of), [balanceSheetPart(context, report)]);
}

export async function incomeStatementPdf(db: Queryable, input: z.input<typeof IncomeStatementInput>, generated_at: Date): Promise<Buffer> {
  const report = await incomeStatement(db, input);
  const context = await contextFor(db, await ispOfBook(db, report.book.book_id), generated_at);
  return pdfBuffer(metaFor(context, `Income statement of ${report.book.name}`, `${report.from} to ${report.to}`), [incomeStatementPart(context, report)]);
}
