import { describe, expect, it } from 'vitest';
import type { CustomerEvent } from '../customers/customer.js';
import type { JournalEntry } from './journal.js';
import { postingsFor, type BookInfo, type PostingContext } from './posting-rules.js';

/**
 * The worked examples, posted exactly: a sub-reseller's customer pays 100.00; the reseller's share is 60 % and
 * the sub-reseller gets 50 % of that, so the ISP keeps 40.00, the reseller 30.00 and the sub-reseller 30.00.
 */
const ISP = 'isp';
const RESELLER = 'res';
const SUB = 'sub';
const books: Record<string, BookInfo> = {
  [ISP]: { book_id: ISP, role: 'admin', parent_id: null, currency: 'BDT', time_zone: 'Asia/Dhaka', closed_through: null },
  [RESELLER]: { book_id: RESELLER, role: 'reseller', parent_id: ISP, currency: 'BDT', time_zone: 'Asia/Dhaka', closed_through: null },
  [SUB]: { book_id: SUB, role: 'sub_reseller', parent_id: RESELLER, currency: 'BDT', time_zone: 'Asia/Dhaka', closed_through: null },
};
const context: PostingContext = {
  book: (id) => books[id],
  customer: () => ({ owner: SUB, balance: '0.00' }),
  payment: () => ({ collector_operator_id: ISP, method: 'online', chain: [ISP, RESELLER, SUB], customer_id: 'cus-1' }),
  entry: () => undefined,
};

const payment = (collector: string, method: 'online' | 'cash', movements: { operator_id: string; amount: string; direction: 'debit' | 'credit' }[]) =>
  ({
    event_id: 'ev-1',
    occurred_at: new Date('2026-11-20T06:00:00Z'),
    type: 'payment-received',
    data: {
      payment_id: 'pay-1',
      customer_id: 'cus-1',
      method,
      amount: '100.00',
      currency: 'BDT',
      received_at: '2026-11-20T06:00:00.000Z',
      collected_by: 'someone',
      collector_operator_id: collector,
      gateway: null,
      gateway_reference: null,
      card: null,
      allocations: [],
      to_recharge: '100.00',
      to_credit: '0.00',
      credit_used: '0.00',
      chain: [ISP, RESELLER, SUB],
      commission: [
        { operator_id: ISP, amount: '40.00' },
        { operator_id: RESELLER, amount: '30.00' },
        { operator_id: SUB, amount: '30.00' },
      ],
      wallet_movements: movements,
    },
  }) satisfies CustomerEvent & { event_id: string; occurred_at: Date };

/** An entry as "debit/credit account[party] amount" lines, for reading. */
const lines = (entries: readonly JournalEntry[], book: string): string[] =>
  entries
    .find((entry) => entry.book_id === book)!
    .lines.map((line) => `${line.debit !== '0.00' ? 'Dr' : 'Cr'} ${line.account_code}${line.party === null ? '' : `[${line.party}]`} ${line.debit !== '0.00' ? line.debit : line.credit}`);

describe('posting rules: the worked examples', () => {
  it('online payment to the ISP: the ISP keeps 40 and owes the reseller 60; the reseller keeps 30 and owes the sub-reseller 30', () => {
    const entries = postingsFor(
      payment(ISP, 'online', [
        { operator_id: RESELLER, amount: '60.00', direction: 'credit' },
        { operator_id: SUB, amount: '30.00', direction: 'credit' },
      ]),
      context,
    );
    expect(entries.map((entry) => entry.book_id)).toEqual([ISP, RESELLER, SUB]);
    expect(lines(entries, ISP)).toEqual(['Dr 1020 100.00', 'Cr 4000 40.00', 'Cr 2100[res] 60.00']);
    expect(lines(entries, RESELLER)).toEqual(['Dr 1200[isp] 60.00', 'Cr 4100 30.00', 'Cr 2100[sub] 30.00']);
    expect(lines(entries, SUB)).toEqual(['Dr 1200[res] 30.00', 'Cr 4100 30.00']);
    for (const entry of entries) expect(entry.date).toBe('2026-11-20');
  });

  it('cash collected by the sub-reseller (prepaid wallets): each level keeps its share and settles the rest up the chain', () => {
    const entries = postingsFor(
      payment(SUB, 'cash', [
        { operator_id: RESELLER, amount: '40.00', direction: 'debit' },
        { operator_id: SUB, amount: '70.00', direction: 'debit' },
      ]),
      context,
    );
    expect(lines(entries, SUB)).toEqual(['Dr 1000 100.00', 'Cr 4100 30.00', 'Cr 1200[res] 70.00']);
    expect(lines(entries, RESELLER)).toEqual(['Dr 2100[sub] 70.00', 'Cr 4100 30.00', 'Cr 1200[isp] 40.00']);
    expect(lines(entries, ISP)).toEqual(['Dr 2100[res] 40.00', 'Cr 4000 40.00']);
  });

  it('a full refund of the online payment posts the exact opposite in every book', () => {
    const paid = postingsFor(
      payment(ISP, 'online', [
        { operator_id: RESELLER, amount: '60.00', direction: 'credit' },
        { operator_id: SUB, amount: '30.00', direction: 'credit' },
      ]),
      context,
    );
    const refunded = postingsFor(
      {
        event_id: 'ev-2',
        occurred_at: new Date('2026-11-21T06:00:00Z'),
        type: 'payment-refunded',
        data: {
          refund_id: 'ref-1',
          payment_id: 'pay-1',
          customer_id: 'cus-1',
          amount: '100.00',
          currency: 'BDT',
          reason: 'double charge',
          reopened: [],
          credit_reduced: '0.00',
          recharge_reversed: '100.00',
          commission_clawback: [
            { operator_id: ISP, amount: '40.00' },
            { operator_id: RESELLER, amount: '30.00' },
            { operator_id: SUB, amount: '30.00' },
          ],
          wallet_movements: [
            { operator_id: RESELLER, amount: '60.00', direction: 'debit' },
            { operator_id: SUB, amount: '30.00', direction: 'debit' },
          ],
        },
      },
      context,
    );
    for (const book of [ISP, RESELLER, SUB]) {
      const flip = (line: string) => (line.startsWith('Dr') ? line.replace('Dr', 'Cr') : line.replace('Cr', 'Dr'));
      expect([...lines(refunded, book)].sort()).toEqual(lines(paid, book).map(flip).sort());
    }
  });

  it('dates an entry that falls in a closed period on the first open day', () => {
    const closed = { ...context, book: (id: string) => ({ ...books[id]!, closed_through: '2026-11-30' }) };
    const entries = postingsFor(payment(SUB, 'cash', [{ operator_id: RESELLER, amount: '40.00', direction: 'debit' }, { operator_id: SUB, amount: '70.00', direction: 'debit' }]), closed);
    for (const entry of entries) expect(entry.date).toBe('2026-12-01');
  });
});
