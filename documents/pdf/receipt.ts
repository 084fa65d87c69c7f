import type { Content, TableCell } from 'pdfmake/interfaces.js';
import type { Receipt } from '../../projections/queries/billing-documents.js';
import { amountInWords, formatPeriod } from '../money-format.js';
import { amountCell, CONNECTION_NAMES, dataTable, facts, footer, headerRow, letterhead, METHOD_NAMES, totals, type DocumentContext } from './layout.js';
import type { PdfPart } from './pdf-writer.js';

/**
 * A money receipt for one payment, as ISPs in Bangladesh hand them out: received with thanks from whom, the
 * sum in figures and in words, how it was paid and who took it, what it settled (bills, a recharge, credit),
 * and any refund since. Every figure is the payment as the billing read model recorded it.
 */
export function receiptPart(context: DocumentContext, receipt: Receipt): PdfPart {
  const { customer } = receipt;
  const words = amountInWords(receipt.amount, receipt.currency);
  const how = [METHOD_NAMES[receipt.method] ?? receipt.method, receipt.gateway, receipt.gateway_reference, receipt.card_serial === null ? null : `card ${receipt.card_batch_id ?? ''}/${receipt.card_serial}`]
    .filter((part): part is string => part !== null && part !== '')
    .join(' · ');
  const applied: TableCell[][] = [
    ...receipt.allocations.map((allocation) => [
      { text: `Bill ${allocation.bill_id}` },
      { text: allocation.period === null ? '' : formatPeriod(allocation.period, context.locale) },
      amountCell(context, allocation.amount),
    ]),
    ...(/^0(\.0+)?$/.test(receipt.to_recharge) ? [] : [[{ text: 'Recharge (validity extended)' }, { text: '' }, amountCell(context, receipt.to_recharge)]]),
    ...(/^0(\.0+)?$/.test(receipt.to_credit) ? [] : [[{ text: 'Kept as credit on the account' }, { text: '' }, amountCell(context, receipt.to_credit)]]),
  ];
  const content: Content[] = [
    letterhead(context, 'MONEY RECEIPT', [
      ['Receipt no.', receipt.payment_id],
      ['Received', context.instant(receipt.received_at)],
    ]),
    {
      margin: [0, 4, 0, 10],
      stack: [
        { text: [{ text: 'Received with thanks from ', style: 'muted' }, { text: customer.name, bold: true, fontSize: 11 }, { text: ` (${customer.customer_id})`, style: 'muted' }] },
        { text: [{ text: 'the sum of ', style: 'muted' }, { text: context.money.format(receipt.amount), bold: true, fontSize: 13 }], margin: [0, 4, 0, 0] },
        ...(words === null ? [] : [{ text: `In words: ${words}`, italics: true }]),
      ],
    },
    facts([
      ['Paid by', how],
      ['Collected by', receipt.collector_name === null ? receipt.collected_by : `${receipt.collector_name} (${receipt.collected_by})`],
      ['Connection', `${CONNECTION_NAMES[customer.connection_type] ?? customer.connection_type}${customer.username === null ? '' : ` · ${customer.username}`} · ${customer.zone}`],
      ['Served by', customer.operator_name ?? customer.operator_id],
    ]),
    { text: 'Applied to', style: 'heading' },
    dataTable(['*', 'auto', 'auto'], headerRow(['What', 'Period', ['Amount', 'right']]), applied),
    totals(context, [['Total received', receipt.amount, 'total']]),
    ...(receipt.refunds.length === 0
      ? []
      : [
          { text: 'Refunded since', style: 'heading' } as Content,
          dataTable(
            ['auto', '*', 'auto'],
            headerRow(['Date', 'Reason', ['Amount', 'right']]),
            receipt.refunds.map((refund) => [{ text: context.instant(refund.refunded_at) }, { text: refund.reason }, amountCell(context, refund.amount)]),
          ),
          totals(context, [['Total refunded', receipt.refunded, 'total']]),
        ]),
    { text: 'This receipt was made from the payment as recorded; no signature is needed.', style: 'label', margin: [0, 18, 0, 0] },
  ];
  return { content, footer: footer(context, `Receipt ${receipt.payment_id}`) };
}
