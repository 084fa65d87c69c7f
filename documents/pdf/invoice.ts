import type { Content, TableCell } from 'pdfmake/interfaces.js';
import type { Invoice } from '../../projections/queries/billing-documents.js';
import { formatPeriod } from '../money-format.js';
import { amountCell, CONNECTION_NAMES, dataTable, facts, footer, headerRow, letterhead, METHOD_NAMES, rateText, totals, type DocumentContext } from './layout.js';
import type { PdfPart } from './pdf-writer.js';

/**
 * A customer's invoice for one bill: the ISP's letterhead, who is billed, the period and package, the bill's
 * amount, every payment and credit applied to it (and refunds that reopened it), the balance due and its due
 * date, and the payment reference to quote. Every figure is the billing read model's; the page adds none.
 */
const KIND_NAMES: Readonly<Record<string, string>> = { monthly: 'Monthly bill', 'first-period': 'First period (from connection)', proration: 'Package change (prorated)' };
const STATUS_NAMES: Readonly<Record<string, string>> = { open: 'Unpaid', partially_paid: 'Partly paid', paid: 'Paid' };

/** What the customer quotes when paying (bKash, bank transfer, at the counter): the bill's own id. */
export const paymentReference = (invoice: Pick<Invoice, 'bill_id'>): string => invoice.bill_id;

export function invoicePart(context: DocumentContext, invoice: Invoice): PdfPart {
  const { customer } = invoice;
  const period = `${formatPeriod(invoice.period, context.locale)} (${context.day(invoice.covers_from)} – ${context.day(invoice.covers_until)})`;
  const rate = rateText(invoice.package.down_kbps, invoice.package.up_kbps);
  const packageName = invoice.package.name ?? invoice.package.package_id;
  const settlementRows: TableCell[][] = invoice.settlements.map((line) => [
    { text: context.instant(line.at) },
    { text: line.kind === 'credit' ? METHOD_NAMES.credit! : line.kind === 'refund' ? 'Refund (reopened)' : (METHOD_NAMES[line.method ?? ''] ?? line.method ?? 'Payment') },
    { text: [line.payment_id, line.reference].filter((part) => part !== null && part !== '').join(' · ') || '—', style: 'muted' },
    amountCell(context, line.amount),
  ]);
  const due = invoice.status === 'paid' ? 'Balance due' : `Balance due by ${context.day(invoice.due_on)}`;
  const content: Content[] = [
    letterhead(context, 'INVOICE', [
      ['Invoice no.', invoice.bill_id],
      ['Issued', context.day(invoice.issued_on)],
      ['Due date', context.day(invoice.due_on)],
      ['Status', STATUS_NAMES[invoice.status] ?? invoice.status],
    ]),
    {
      columns: [
        {
          width: '*',
          stack: [
            { text: 'Bill to', style: 'label' },
            { text: customer.name, bold: true, fontSize: 11 },
            { text: customer.zone },
            { text: customer.mobile, style: 'muted' },
          ],
        },
        {
          width: 230,
          ...facts([
            ['Customer ID', customer.customer_id],
            ...(customer.username === null ? [] : ([['Username', customer.username]] as const)),
            ['Connection', CONNECTION_NAMES[customer.connection_type] ?? customer.connection_type],
            ['Served by', customer.operator_name ?? customer.operator_id],
          ]),
        } as Content,
      ],
      margin: [0, 0, 0, 10],
    },
    dataTable(
      ['*', 'auto', 'auto'],
      headerRow(['Description', 'Period', ['Amount', 'right']]),
      [
        [
          { stack: [{ text: `${packageName}${rate === null ? '' : ` — ${rate}`}` }, { text: KIND_NAMES[invoice.kind] ?? invoice.kind, style: 'muted' }] },
          { text: period },
          amountCell(context, invoice.amount),
        ],
      ],
    ),
    totals(context, [['Total of this bill', invoice.amount, 'total']]),
    { text: 'Payments and credits applied', style: 'heading' },
    dataTable(['auto', 'auto', '*', 'auto'], headerRow(['Date', 'How', 'Payment · reference', ['Amount', 'right']]), settlementRows, 'nothing paid yet'),
    totals(context, [
      ['Total applied', invoice.paid],
      [due, invoice.open, 'due'],
    ]),
    {
      margin: [0, 16, 0, 0],
      table: {
        widths: ['*'],
        body: [
          [
            {
              stack: [
                { text: [{ text: 'Payment reference: ', style: 'label' }, { text: paymentReference(invoice), bold: true }] },
                { text: 'Quote this reference when you pay by mobile banking, bank transfer or at the counter.', style: 'muted' },
                ...(context.isp.payment_note === null ? [] : [{ text: context.isp.payment_note, margin: [0, 4, 0, 0] as [number, number, number, number] }]),
              ],
              fillColor: '#f6f8fa',
              margin: [6, 6, 6, 6],
            },
          ],
        ],
      },
      layout: 'noBorders',
    },
  ];
  return { content, footer: footer(context, `Invoice ${invoice.bill_id}`) };
}
