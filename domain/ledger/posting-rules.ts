import { localDateOf, type LocalDate } from '../calendar/local-date.js';
import type { CustomerEvent, PaymentMethod, WalletMovement } from '../customers/customer.js';
import { Money } from '../money/money.js';
import type { OperatorEvent, OperatorRole } from '../operators/operator.js';
import { openDate, type BookEvent } from './book.js';
import {
  BANK,
  BILLED_NOT_COLLECTED,
  CARD_COLLECTIONS,
  CASH,
  COMMISSION_INCOME,
  CUSTOMER_ACCOUNTS,
  GATEWAY_CLEARING,
  OTHER_INCOME,
  PAYABLE_TO_CHILDREN,
  RECEIVABLE_FROM_PARENT,
  SERVICE_REVENUE,
  WALLET_ADJUSTMENTS,
} from './chart.js';
import { assertBalanced, LinesBuilder, oppositeLines, type JournalEntry, type JournalLine } from './journal.js';

/**
 * Posting rules: pure functions from a business event to balanced journal entries, one per book it touches.
 * The table in docs/posting-rules.md says the same in words; the property tests check both against a naive
 * model. Revenue is recognised when money is collected (that is when the domain splits it along the chain);
 * bills and customer credit live in the owner's book as customer accounts against "billed, not collected".
 */
export type BookInfo = Readonly<{
  book_id: string;
  role: OperatorRole;
  parent_id: string | null;
  currency: string;
  time_zone: string;
  closed_through: LocalDate | null;
}>;

export type PostingContext = Readonly<{
  book: (operator_id: string) => BookInfo | undefined;
  /** The book a customer's account is kept in (its owning operator), and the account's balance now. */
  customer: (customer_id: string) => Readonly<{ owner: string; balance: string }> | undefined;
  payment: (payment_id: string) => Readonly<{ collector_operator_id: string; method: PaymentMethod; chain: readonly string[]; customer_id: string }> | undefined;
  entry: (entry_id: string) => JournalEntry | undefined;
}>;

export type PostableEvent = Readonly<{ event_id: string; type: string; data: unknown; occurred_at: Date }>;

export class PostingContextMissing extends Error {
  constructor(what: string, event: PostableEvent) {
    super(`cannot post ${event.type} ${event.event_id}: ${what} is unknown to the books`);
    this.name = 'PostingContextMissing';
  }
}

/** Where collected money lands in the collector's book. */
export function moneyAccount(method: PaymentMethod | string): string {
  switch (method) {
    case 'online':
      return GATEWAY_CLEARING;
    case 'card':
      return CARD_COLLECTIONS;
    case 'bank':
      return BANK;
    default:
      return CASH;
  }
}

const keptAccount = (book: BookInfo): string => (book.role === 'admin' ? SERVICE_REVENUE : COMMISSION_INCOME);

/** The system entry id for an event's posting in one book: stable, so replays produce the same rows. */
export const systemEntryId = (event_id: string, book_id: string): string => `${event_id}/${book_id}`;

export function postingsFor(event: PostableEvent, context: PostingContext): readonly JournalEntry[] {
  const customerEvent = event as unknown as CustomerEvent;
  switch (customerEvent.type) {
    case 'payment-received': {
      const d = customerEvent.data;
      return moneyAlongChain(event, context, {
        customer_id: d.customer_id,
        collector_operator_id: d.collector_operator_id,
        method: d.method,
        chain: d.chain,
        amount: d.amount,
        currency: d.currency,
        kept: d.commission,
        movements: d.wallet_movements,
        direction: 1,
        customer_settled: Money.sum(
          d.allocations.map((allocation) => Money.parse(allocation.amount, d.currency)),
          d.currency,
        )
          .plus(Money.parse(d.to_credit, d.currency))
          .minus(Money.parse(d.credit_used, d.currency)),
        memo: `Payment ${d.amount} ${d.currency} (${d.method}) from customer ${d.customer_id}`,
      });
    }
    case 'payment-refunded': {
      const d = customerEvent.data;
      const payment = context.payment(d.payment_id);
      if (payment === undefined) throw new PostingContextMissing(`payment ${d.payment_id}`, event);
      return moneyAlongChain(event, context, {
        customer_id: d.customer_id,
        collector_operator_id: payment.collector_operator_id,
        method: payment.method,
        chain: payment.chain,
        amount: d.amount,
        currency: d.currency,
        kept: d.commission_clawback,
        movements: d.wallet_movements,
        direction: -1,
        customer_settled: Money.sum(
          d.reopened.map((allocation) => Money.parse(allocation.amount, d.currency)),
          d.currency,
        ).plus(Money.parse(d.credit_reduced, d.currency)),
        memo: `Refund ${d.amount} ${d.currency} of payment ${d.payment_id}: ${d.reason}`,
      });
    }
    case 'bill-issued': {
      const d = customerEvent.data;
      return customerEntry(event, context, d.customer_id, `Bill ${d.period} issued to customer ${d.customer_id}`, (lines, customer) =>
        lines.debit(CUSTOMER_ACCOUNTS, d.amount, customer, d.due_on).credit(BILLED_NOT_COLLECTED, d.amount),
      );
    }
    case 'credit-granted': {
      const d = customerEvent.data;
      // Revenue is recognised on collection, so a credit note is not an expense: it lowers what the customer
      // owes (or adds to its credit) and shows in the books as lower collections later.
      return customerEntry(event, context, d.customer_id, `Credit note ${d.amount} to customer ${d.customer_id} (${d.reason})`, (lines, customer) =>
        lines.debit(BILLED_NOT_COLLECTED, d.amount).credit(CUSTOMER_ACCOUNTS, d.amount, customer),
      );
    }
    case 'customer-moved': {
      const d = customerEvent.data;
      const account = context.customer(d.customer_id);
      if (account === undefined) throw new PostingContextMissing(`customer ${d.customer_id}`, event);
      const from = requireBook(context, d.from_operator_id, event);
      const to = requireBook(context, d.to_operator_id, event);
      const balance = Money.parse(account.balance, from.currency);
      if (balance.isZero() || from.book_id === to.book_id) return [];
      const out = new LinesBuilder(from.currency).debit(BILLED_NOT_COLLECTED, balance).credit(CUSTOMER_ACCOUNTS, balance, d.customer_id);
      const into = new LinesBuilder(to.currency).debit(CUSTOMER_ACCOUNTS, balance, d.customer_id).credit(BILLED_NOT_COLLECTED, balance);
      return [
        entry(event, from, `Customer ${d.customer_id} moved to ${d.to_operator_id}: balance transferred out`, out.lines),
        entry(event, to, `Customer ${d.customer_id} moved from ${d.from_operator_id}: balance transferred in`, into.lines),
      ];
    }
    default:
      break;
  }
  const operatorEvent = event as unknown as OperatorEvent;
  switch (operatorEvent.type) {
    case 'wallet-topped-up': {
      const d = operatorEvent.data;
      const child = requireBook(context, d.operator_id, event);
      if (child.parent_id === null) return [];
      const parent = requireBook(context, child.parent_id, event);
      const money = moneyAccount(d.method);
      const memo = `Wallet top-up ${d.amount} by ${d.method} (${d.reference})`;
      return [
        entry(event, child, memo, new LinesBuilder(child.currency).debit(RECEIVABLE_FROM_PARENT, d.amount, parent.book_id).credit(money, d.amount).lines),
        entry(event, parent, memo, new LinesBuilder(parent.currency).debit(money, d.amount).credit(PAYABLE_TO_CHILDREN, d.amount, child.book_id).lines),
      ];
    }
    case 'wallet-credited':
    case 'wallet-debited': {
      const d = operatorEvent.data;
      // A movement that settles a payment or a refund is posted from the customer's event, with the rest of it.
      if (d.payment_id !== null) return [];
      const child = requireBook(context, d.operator_id, event);
      if (child.parent_id === null) return [];
      const parent = requireBook(context, child.parent_id, event);
      const signed = operatorEvent.type === 'wallet-credited' ? Money.parse(d.amount, child.currency) : Money.parse(d.amount, child.currency).negated();
      const memo = `Wallet adjustment ${signed.toString()} (${d.reason})`;
      return [
        entry(event, parent, memo, new LinesBuilder(parent.currency).debit(WALLET_ADJUSTMENTS, signed).debit(PAYABLE_TO_CHILDREN, signed.negated(), child.book_id).lines),
        entry(event, child, memo, new LinesBuilder(child.currency).debit(RECEIVABLE_FROM_PARENT, signed, parent.book_id).debit(OTHER_INCOME, signed.negated()).lines),
      ];
    }
    default:
      break;
  }
  const bookEvent = event as unknown as BookEvent;
  switch (bookEvent.type) {
    case 'manual-entry-posted': {
      const d = bookEvent.data;
      const book = requireBook(context, d.book_id, event);
      return [
        assertBalanced({ entry_id: d.entry_id, book_id: book.book_id, date: openDate(d.date, book.closed_through), currency: d.currency, memo: d.memo, kind: 'manual', reverses_entry_id: null, lines: d.lines }),
      ];
    }
    case 'entry-reversed': {
      const d = bookEvent.data;
      const book = requireBook(context, d.book_id, event);
      const original = context.entry(d.entry_id);
      if (original === undefined) throw new PostingContextMissing(`entry ${d.entry_id}`, event);
      return [
        assertBalanced({
          entry_id: d.reversal_entry_id,
          book_id: book.book_id,
          date: openDate(d.date, book.closed_through),
          currency: original.currency,
          memo: `Reversal of ${d.entry_id}: ${d.reason}`,
          kind: 'reversal',
          reverses_entry_id: d.entry_id,
          lines: oppositeLines(original.lines),
        }),
      ];
    }
    default:
      return [];
  }
}

type ChainMoney = Readonly<{
  customer_id: string;
  collector_operator_id: string;
  method: PaymentMethod;
  chain: readonly string[];
  amount: string;
  currency: string;
  /** What each level keeps (payment) or gives back (refund). */
  kept: readonly Readonly<{ operator_id: string; amount: string }>[];
  movements: readonly WalletMovement[];
  direction: 1 | -1;
  /** What the customer's account is credited by (payment: settled bills and credit kept, less credit used). */
  customer_settled: Money;
  memo: string;
}>;

/**
 * Money received for (or refunded to) a customer, in every book on its chain: the collector's money account,
 * each level's share as revenue or commission, each wallet link as the parent's payable and the child's
 * receivable, and in the owner's book the customer account against "billed, not collected".
 */
function moneyAlongChain(event: PostableEvent, context: PostingContext, money: ChainMoney): JournalEntry[] {
  const sign = (amount: string): Money => {
    const value = Money.parse(amount, money.currency);
    return money.direction === 1 ? value : value.negated();
  };
  const builders = new Map<string, LinesBuilder>();
  const linesOf = (operator_id: string): LinesBuilder => {
    let builder = builders.get(operator_id);
    if (builder === undefined) builders.set(operator_id, (builder = new LinesBuilder(money.currency)));
    return builder;
  };
  linesOf(money.collector_operator_id).debit(moneyAccount(money.method), sign(money.amount));
  for (const share of money.kept) linesOf(share.operator_id).debit(keptAccount(requireBook(context, share.operator_id, event)), sign(share.amount).negated());
  for (const movement of money.movements) {
    const child = requireBook(context, movement.operator_id, event);
    if (child.parent_id === null) throw new PostingContextMissing(`the parent of ${child.book_id}`, event);
    // A credit to the child's wallet: the parent owes more, the child is owed more.
    const owed = movement.direction === 'credit' ? Money.parse(movement.amount, money.currency) : Money.parse(movement.amount, money.currency).negated();
    linesOf(child.parent_id).debit(PAYABLE_TO_CHILDREN, owed.negated(), child.book_id);
    linesOf(child.book_id).debit(RECEIVABLE_FROM_PARENT, owed, child.parent_id);
  }
  // The customer's account lives with its owner now, which after a move is not the payment's chain's end.
  const owner = context.customer(money.customer_id)?.owner ?? money.chain[money.chain.length - 1];
  if (owner !== undefined) {
    const settled = money.direction === 1 ? money.customer_settled : money.customer_settled.negated();
    linesOf(owner).debit(BILLED_NOT_COLLECTED, settled).credit(CUSTOMER_ACCOUNTS, settled, money.customer_id);
  }
  const books = owner === undefined || money.chain.includes(owner) ? money.chain : [...money.chain, owner];
  const entries: JournalEntry[] = [];
  for (const operator_id of books) {
    const builder = builders.get(operator_id);
    if (builder === undefined || builder.lines.length === 0) continue;
    entries.push(entry(event, requireBook(context, operator_id, event), money.memo, builder.lines));
  }
  for (const operator_id of builders.keys()) {
    if (!books.includes(operator_id)) throw new PostingContextMissing(`operator ${operator_id} outside the customer's chain`, event);
  }
  return entries;
}

function customerEntry(
  event: PostableEvent,
  context: PostingContext,
  customer_id: string,
  memo: string,
  build: (lines: LinesBuilder, customer: string) => LinesBuilder,
): JournalEntry[] {
  const account = context.customer(customer_id);
  if (account === undefined) throw new PostingContextMissing(`customer ${customer_id}`, event);
  const book = requireBook(context, account.owner, event);
  const lines = build(new LinesBuilder(book.currency), customer_id).lines;
  return lines.length === 0 ? [] : [entry(event, book, memo, lines)];
}

function requireBook(context: PostingContext, operator_id: string, event: PostableEvent): BookInfo {
  const book = context.book(operator_id);
  if (book === undefined) throw new PostingContextMissing(`the book of operator ${operator_id}`, event);
  return book;
}

function entry(event: PostableEvent, book: BookInfo, memo: string, lines: readonly JournalLine[]): JournalEntry {
  return assertBalanced({
    entry_id: systemEntryId(event.event_id, book.book_id),
    book_id: book.book_id,
    date: openDate(localDateOf(event.occurred_at, book.time_zone), book.closed_through),
    currency: book.currency,
    memo,
    kind: 'system',
    reverses_entry_id: null,
    lines,
  });
}
