import type { LocalDate } from '../calendar/local-date.js';
import { Money } from '../money/money.js';

/**
 * Journal entries. An entry balances per currency (one currency per entry here: an ISP works in one), has at
 * least two lines, and every line is a positive debit or a positive credit. Entries are never edited: a
 * correction is a reversal, the exact opposite of the original, posted at most once.
 */
export type JournalLine = Readonly<{
  account_code: string;
  /** The customer or counterparty operator of a per-party account; null for plain accounts. */
  party: string | null;
  debit: string;
  credit: string;
  /** For a customer account line that bills: when it falls due (for ageing). */
  due_on: LocalDate | null;
}>;

export type EntryKind = 'system' | 'manual' | 'reversal';

export type JournalEntry = Readonly<{
  entry_id: string;
  book_id: string;
  date: LocalDate;
  currency: string;
  memo: string;
  kind: EntryKind;
  reverses_entry_id: string | null;
  lines: readonly JournalLine[];
}>;

export class UnbalancedEntry extends Error {
  constructor(entry: Pick<JournalEntry, 'entry_id' | 'book_id'>, reason: string) {
    super(`journal entry ${entry.entry_id} in book ${entry.book_id} is not valid: ${reason}`);
    this.name = 'UnbalancedEntry';
  }
}

/** Why the lines cannot form an entry, or null when they can. */
export function entryProblem(lines: readonly JournalLine[], currency: string): string | null {
  if (lines.length < 2) return 'an entry needs at least two lines';
  let debits = Money.zero(currency);
  let credits = Money.zero(currency);
  for (const line of lines) {
    let debit: Money;
    let credit: Money;
    try {
      debit = Money.parse(line.debit, currency);
      credit = Money.parse(line.credit, currency);
    } catch (error) {
      return `account ${line.account_code}: ${error instanceof Error ? error.message : String(error)}`;
    }
    if (debit.isNegative() || credit.isNegative()) return `account ${line.account_code}: amounts must not be negative`;
    if (debit.isPositive() === credit.isPositive()) return `account ${line.account_code}: a line is either a debit or a credit, and not zero`;
    debits = debits.plus(debit);
    credits = credits.plus(credit);
  }
  if (!debits.equals(credits)) return `debits ${debits.toString()} and credits ${credits.toString()} differ`;
  return null;
}

/** Asserts the invariant where entries are made: an unbalanced entry is a bug, never a book row. */
export function assertBalanced(entry: JournalEntry): JournalEntry {
  const problem = entryProblem(entry.lines, entry.currency);
  if (problem !== null) throw new UnbalancedEntry(entry, problem);
  return entry;
}

/** The exact opposite of the lines: every debit becomes the same credit and back. */
export const oppositeLines = (lines: readonly JournalLine[]): readonly JournalLine[] =>
  lines.map((line) => ({ ...line, debit: line.credit, credit: line.debit }));

/** Collects lines for one book's entry; amounts that are zero leave no line, negative ones switch sides. */
export class LinesBuilder {
  readonly #lines: JournalLine[] = [];
  constructor(private readonly currency: string) {}

  debit(account_code: string, amount: Money | string, party: string | null = null, due_on: LocalDate | null = null): this {
    return this.line(account_code, typeof amount === 'string' ? Money.parse(amount, this.currency) : amount, party, due_on);
  }

  credit(account_code: string, amount: Money | string, party: string | null = null): this {
    const money = typeof amount === 'string' ? Money.parse(amount, this.currency) : amount;
    return this.line(account_code, money.negated(), party, null);
  }

  /** Positive: debit; negative: credit. */
  private line(account_code: string, signed: Money, party: string | null, due_on: LocalDate | null): this {
    if (signed.isZero()) return this;
    const zero = Money.zero(this.currency).toString();
    this.#lines.push(
      signed.isPositive()
        ? { account_code, party, debit: signed.toString(), credit: zero, due_on }
        : { account_code, party, debit: zero, credit: signed.negated().toString(), due_on },
    );
    return this;
  }

  /** Debits first, then credits, each in the order they were added: how the entry is read aloud. */
  get lines(): readonly JournalLine[] {
    const zero = Money.zero(this.currency).toString();
    return [...this.#lines.filter((line) => line.debit !== zero), ...this.#lines.filter((line) => line.debit === zero)];
  }
}
