import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { amountInWords, MoneyFormat } from '../../documents/money-format.js';
import { balanceSheetPdf, customerStatementPdf, incomeStatementPdf, invoicePdf, receiptPdf, resellerStatementPdf, trialBalancePdf, writeBillRunPdf } from '../../documents/pdf-documents.js';
import { FONT_FAMILY } from '../../documents/pdf/fonts.js';
import { loadInvoice, loadReceipt } from '../../projections/queries/billing-documents.js';
import { customerStatement } from '../../projections/queries/books-journal.js';
import { resellerStatement } from '../../projections/queries/books-reseller.js';
import { balanceSheet, incomeStatement, trialBalance } from '../../projections/queries/books-statements.js';
import { ARTIFACTS, keep, pdfFonts, pdfPages, pdfText, renderAllPages, renderFirstPage } from './poppler.js';
import { buildDocumentsWorld, ISP_ADDRESS, type DocumentsWorld } from './world.js';

/**
 * Every PDF, made from the world's read models and checked with poppler: pdftoppm renders every page, pdffonts
 * finds only embedded fonts, and pdftotext finds the figures the report or record holds, formatted for the ISP
 * (taka, en-BD), with the names — a Bengali one too, which the /ActualText spans keep readable. The first pages
 * of the invoice and the statement are kept as PNGs under artifacts/documents/ for a person to look at.
 */
let world: DocumentsWorld;
const at = new Date('2027-01-06T09:00:00Z');
const money = new MoneyFormat('BDT', 'en-BD');
const pool = () => world.database.pool;
const isp = () => ({ tenant: world.tenant, operator_id: null, customer_id: null });

beforeAll(async () => {
  world = await buildDocumentsWorld();
}, 180_000);
afterAll(async () => world?.close());

/** Keeps the PDF, renders every page, checks its fonts; returns its text. */
async function checked(name: string, bytes: Buffer): Promise<string> {
  const file = keep(name, bytes);
  await renderAllPages(file);
  const fonts = await pdfFonts(file);
  expect(fonts.length).toBeGreaterThan(0);
  for (const font of fonts) {
    expect(font.embedded, `${font.name} is embedded`).toBe(true);
    expect(font.name).toContain('NotoSansBengali');
  }
  // A cell may wrap a long name over two lines: compare words, not line breaks.
  return (await pdfText(file)).replace(/\s+/g, ' ');
}

describe('money and dates as the documents write them', () => {
  it('taka in English by default, lakh-grouped digits in Bengali, in words on receipts', () => {
    expect(money.format('1234567.5')).toBe('৳1,234,567.50');
    expect(money.format('-12.00')).toBe('-৳12.00');
    expect(new MoneyFormat('BDT', 'bn-BD').format('1234567.50')).toBe('১২,৩৪,৫৬৭.৫০৳');
    expect(money.format('123456789012345.67')).toBe('৳123,456,789,012,345.67');
    expect(amountInWords('1250000.75', 'BDT')).toBe('Taka Twelve Lakh Fifty Thousand and Paisa Seventy-Five Only');
    expect(amountInWords('100000000', 'BDT')).toBe('Taka Ten Crore Only');
    expect(amountInWords('1001.00', 'USD')).toBe('Dollars One Thousand One Only');
    expect(amountInWords('5', 'XAF')).toBeNull();
    expect(FONT_FAMILY).toBe('NotoSansBengali');
  });
});

describe('PDF documents', () => {
  it('an invoice: the ISP, the customer, the period and package, the amount, each payment applied, the balance due, the due date and the payment reference', async () => {
    const bill_id = `${world.run.partly}:2027-01`;
    const invoice = await loadInvoice(pool(), isp(), bill_id);
    expect(invoice.settlements).toHaveLength(1);
    const text = await checked('invoice.pdf', await invoicePdf(pool(), isp(), bill_id, at));
    await renderFirstPage(path.join(ARTIFACTS, 'invoice.pdf'));
    for (const expected of [
      'INVOICE',
      'Demo Net',
      ISP_ADDRESS,
      'billing@demo-net.example',
      'Fatema Begum',
      invoice.customer.customer_id,
      'January 2027',
      'Home 10M',
      money.format(invoice.amount),
      money.format(invoice.settlements[0]!.amount),
      money.format(invoice.paid),
      money.format(invoice.open),
      `Balance due by ${'Jan 7, 2027'}`,
      'Payment reference:',
      bill_id,
      'bKash merchant 01700-000111',
    ]) {
      expect(text, expected).toContain(expected);
    }
  });

  it('a money receipt: received from (a Bengali name), the sum in figures and words, how and by whom, what it paid', async () => {
    const payment = await pool().query<{ payment_id: string }>('SELECT payment_id FROM payments WHERE customer_id = $1', [world.run.bengali]);
    const receipt = await loadReceipt(pool(), isp(), payment.rows[0]!.payment_id);
    const text = await checked('receipt.pdf', await receiptPdf(pool(), isp(), receipt.payment_id, at));
    await renderFirstPage(path.join(ARTIFACTS, 'receipt.pdf'));
    for (const expected of ['MONEY RECEIPT', world.bengali_name, money.format('250.50'), 'Taka Two Hundred Fifty and Paisa Fifty Only', 'Cash', `Bill ${world.run.bengali}:2027-01`, receipt.payment_id]) {
      expect(text, expected).toContain(expected);
    }
  });

  it("a customer statement: the statement's opening balance, every line, and the amount due", async () => {
    const report = await customerStatement(pool(), { book_id: world.scenario.sub_reseller, customer_id: world.run.partly });
    const text = await checked('customer-statement.pdf', await customerStatementPdf(pool(), isp(), { book_id: world.scenario.sub_reseller, customer_id: world.run.partly }, at));
    await renderFirstPage(path.join(ARTIFACTS, 'customer-statement.pdf'));
    expect(text).toContain('STATEMENT');
    expect(text).toContain('Fatema Begum');
    for (const line of report.lines) {
      expect(text).toContain(money.plain(line.balance));
      expect(text).toContain(line.memo.slice(0, 20));
    }
    expect(text).toContain('Amount due');
    expect(text).toContain(money.format(report.closing));
  });

  it('a reseller commission statement, a trial balance, a balance sheet and an income statement say what their reports say', async () => {
    const reseller = await resellerStatement(pool(), { book_id: world.scenario.reseller });
    const commission = await checked('reseller-statement.pdf', await resellerStatementPdf(pool(), { book_id: world.scenario.reseller }, at));
    expect(commission).toContain('COMMISSION STATEMENT');
    expect(commission).toContain(money.format(reseller.commission_earned));
    expect(commission).toContain(money.format(reseller.wallet!.closing));
    for (const line of reseller.commission_lines ?? []) expect(commission).toContain(line.payment_id.slice(0, 12));

    const tb = await trialBalance(pool(), { book_id: world.tenant });
    const trial = await checked('trial-balance.pdf', await trialBalancePdf(pool(), { book_id: world.tenant }, at));
    expect(trial).toContain('TRIAL BALANCE');
    for (const account of tb.accounts) expect(trial).toContain(account.name);
    expect(trial).toContain(money.plain(tb.totals.debit));
    expect(trial).toContain(money.plain(tb.totals.balance_credit));

    const bs = await balanceSheet(pool(), { book_id: world.tenant, as_of: '2027-01-05' });
    const sheet = await checked('balance-sheet.pdf', await balanceSheetPdf(pool(), { book_id: world.tenant, as_of: '2027-01-05' }, at));
    expect(sheet).toContain('BALANCE SHEET');
    expect(sheet).toContain('end of 2027-01-05');
    expect(sheet).toContain(money.plain(bs.assets.total));
    expect(sheet).toContain(money.plain(bs.liabilities_and_equity));

    const is = await incomeStatement(pool(), { book_id: world.tenant, from: '2026-11-01', to: '2027-01-31' });
    const income = await checked('income-statement.pdf', await incomeStatementPdf(pool(), { book_id: world.tenant, from: '2026-11-01', to: '2027-01-31' }, at));
    expect(income).toContain('INCOME STATEMENT');
    expect(income).toContain(money.plain(is.revenue.total));
    expect(income).toContain(money.plain(is.net_income));
  });

  it("a bill run's invoices as one PDF, one invoice after another by zone and name, each with its own page count", async () => {
    const file = path.join(ARTIFACTS, 'bill-run-2027-01.pdf');
    keep('bill-run-2027-01.pdf', '');
    const progress: number[] = [];
    const summary = await writeBillRunPdf(pool(), isp(), { period: '2027-01' }, createWriteStream(file), { generated_at: at, on_progress: (done) => progress.push(done.invoices) });
    const bills = await pool().query<{ bill_id: string; amount: string }>("SELECT bill_id, amount::text FROM bills WHERE tenant = $1 AND period = '2027-01'", [world.tenant]);
    expect(summary.invoices).toBe(bills.rows.length);
    expect(progress[progress.length - 1]).toBe(bills.rows.length);
    expect(await pdfPages(file)).toBe(summary.pages);
    await renderAllPages(file);
    const text = await pdfText(file);
    for (const bill of bills.rows) {
      expect(text).toContain(bill.bill_id);
      expect(text).toContain(money.format(bill.amount));
    }
    expect(text).toContain(world.bengali_name);
    // Ordered by zone, then name: "Mirpur" sorts before "মিরপুর", so the Bengali customer comes last.
    expect(text.indexOf('Abdul Karim')).toBeLessThan(text.indexOf('Sumon Ahmed'));
    expect(text.lastIndexOf('INVOICE')).toBeLessThan(text.indexOf(world.bengali_name, text.lastIndexOf('INVOICE') - 2000) + 2000);
    expect((text.match(/page 1 of 1/g) ?? []).length).toBe(bills.rows.length);
  });

  it('a bill the scope may not see is not found, and a run without bills is refused', async () => {
    await expect(invoicePdf(pool(), { tenant: world.tenant, operator_id: null, customer_id: world.run.paid }, `${world.run.partly}:2027-01`, at)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(invoicePdf(pool(), { tenant: world.tenant, operator_id: world.scenario.reseller, customer_id: null }, `${world.run.partly}:2027-01`, at)).resolves.toBeInstanceOf(Buffer);
    await expect(writeBillRunPdf(pool(), isp(), { period: '2031-01' }, createWriteStream(path.join(ARTIFACTS, 'empty.pdf')), { generated_at: at })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});
