import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { balanceSheetPdf, customerStatementPdf, incomeStatementPdf, invoicePdf, receiptPdf, resellerStatementPdf, trialBalancePdf } from '../../documents/pdf-documents.js';
import { MoneyFormat } from '../../documents/money-format.js';
import { loadInvoice, loadReceipt } from '../../projections/queries/billing-documents.js';
import { trialBalance } from '../../projections/queries/books-statements.js';
import { buildDocumentsWorld, ISP_ADDRESS, type DocumentsWorld } from './world.js';
import { keep, pdfFonts, pdfText, renderFirstPage } from './poppler.js';

let world: DocumentsWorld;
const at = new Date('2027-01-06T09:00:00Z');
const money = new MoneyFormat('BDT', 'en-BD');

beforeAll(async () => {
  world = await buildDocumentsWorld();
}, 180_000);
afterAll(async () => world?.close());

const isp = () => ({ tenant: world.tenant, operator_id: null, customer_id: null });

describe('PDF documents', () => {
  it('an invoice renders, embeds its font, and says the bill, the payments applied and the balance due', async () => {
    const bill_id = `${world.run.partly}:2027-01`;
    const invoice = await loadInvoice(world.database.pool, isp(), bill_id);
    const file = keep('invoice.pdf', await invoicePdf(world.database.pool, isp(), bill_id, at));
    const png = await renderFirstPage(file);
    const text = await pdfText(file);
    expect(text).toContain('INVOICE');
    expect(text).toContain('Fatema Begum');
    expect(text).toContain(money.format(invoice.amount));
    expect(text).toContain(money.format(invoice.open));
    expect(text).toContain('৳300.00');
    expect(text).toContain(bill_id);
    expect(text).toContain(ISP_ADDRESS);
    expect((await pdfFonts(file)).every((font) => font.embedded)).toBe(true);
    expect(png).toMatch(/invoice\.png$/);
  });

  it('a receipt', async () => {
    const payment = await world.database.pool.query<{ payment_id: string }>('SELECT payment_id FROM payments WHERE customer_id = $1', [world.run.bengali]);
    const payment_id = payment.rows[0]!.payment_id;
    const receipt = await loadReceipt(world.database.pool, isp(), payment_id);
    const file = keep('receipt.pdf', await receiptPdf(world.database.pool, isp(), payment_id, at));
    await renderFirstPage(file);
    const text = await pdfText(file);
    expect(text).toContain(world.bengali_name);
    expect(text).toContain(money.format(receipt.amount));
  });

  it('a customer statement', async () => {
    const file = keep(
      'customer-statement.pdf',
      await customerStatementPdf(world.database.pool, isp(), { book_id: world.scenario.sub_reseller, customer_id: world.run.partly }, at),
    );
    await renderFirstPage(file);
    const text = await pdfText(file);
    expect(text).toContain('Fatema Begum');
  });

  it('book reports', async () => {
    const tb = await trialBalance(world.database.pool, { book_id: world.tenant });
    const file = keep('trial-balance.pdf', await trialBalancePdf(world.database.pool, { book_id: world.tenant }, at));
    await renderFirstPage(file);
    const text = await pdfText(file);
    expect(text).toContain(money.plain(tb.totals.debit));
    keep('balance-sheet.pdf', await balanceSheetPdf(world.database.pool, { book_id: world.tenant }, at));
    keep('income-statement.pdf', await incomeStatementPdf(world.database.pool, { book_id: world.tenant, from: '2026-11-01', to: '2027-01-31' }, at));
    keep('reseller-statement.pdf', await resellerStatementPdf(world.database.pool, { book_id: world.scenario.reseller }, at));
  });
});
