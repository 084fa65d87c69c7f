import { Decimal } from 'decimal.js';
import { minorUnitsOf } from './currency.js';
import type { CurrencyCode } from './currency.js';
import { CurrencyMismatchError, InvalidMoneyError } from './money-errors.js';
import { divideRounded } from './rounding.js';
import type { RoundingMode } from './rounding.js';

/**
 * A private decimal.js constructor. Cloning means no other code (and no library setting `Decimal.set(...)`)
 * can change how money is computed. Forty significant digits leave room for the largest amount we accept
 * (30 integer digits plus up to 3 decimals) and for the sum of two of them, so `plus`/`minus` are exact.
 */
const MoneyDecimal = Decimal.clone({
  precision: 40,
  rounding: Decimal.ROUND_HALF_EVEN,
  toExpNeg: -100,
  toExpPos: 100,
});

/**
 * The largest number of digits before the decimal point an amount may have. No bill, ledger balance or trial
 * balance comes near 10^30 in any currency, so an amount beyond it is a unit mistake or hostile input, and
 * the limit keeps every `plus`/`minus` inside the 40-digit precision above.
 */
export const MONEY_MAX_INTEGER_DIGITS = 30;

/** Amount and factor strings longer than this are rejected before any parsing work is done. */
export const MONEY_MAX_TEXT_LENGTH = 64;
const FACTOR_MAX_TEXT_LENGTH = 200;

const AMOUNT_LIMIT = new MoneyDecimal(`1e${MONEY_MAX_INTEGER_DIGITS}`);
const PLAIN_DECIMAL = /^-?(\d+)(?:\.(\d+))?$/;

/**
 * An immutable amount of money in one currency, always a whole number of the currency's minor units.
 *
 * It never holds or returns a JS number. In JSON and events it is its canonical decimal string
 * (`toJSON()` → "100.00"); the currency travels separately (one currency per ISP), so read it back with
 * `Money.parse(text, currency)`.
 */
export class Money {
  readonly currency: CurrencyCode;
  readonly #amount: Decimal;
  readonly #minor_units: number;

  private constructor(amount: Decimal, currency: CurrencyCode, minor_units: number) {
    // decimal.js keeps the sign of zero; a negative zero would print as "-0.00", so it is normalised here.
    this.#amount = amount.isZero() ? new MoneyDecimal(0) : amount;
    this.currency = currency;
    this.#minor_units = minor_units;
    Object.freeze(this);
  }

  /**
   * Parses a plain decimal string: digits, an optional leading "-", an optional "." followed by digits, and
   * at most as many decimals as the currency has minor units ("100", "100.5", "-3.25" for BDT). Exponents,
   * spaces, "+", thousands separators and extra decimals (even trailing zeros) are rejected rather than
   * guessed at, because a mis-read amount is worse than a refused one.
   */
  static parse(text: string, currency: CurrencyCode): Money {
    const minor_units = minorUnitsOf(currency);
    if (typeof text !== 'string') {
      throw new InvalidMoneyError(
        `An amount must be a decimal string such as "100.50", got a ${typeof text}. ` +
          `Send money as a string so no precision is lost.`,
      );
    }
    if (text.length > MONEY_MAX_TEXT_LENGTH) {
      throw new InvalidMoneyError(
        `The amount is ${text.length} characters long; at most ${MONEY_MAX_TEXT_LENGTH} are accepted.`,
      );
    }
    const match = PLAIN_DECIMAL.exec(text);
    if (match === null) {
      throw new InvalidMoneyError(
        `${JSON.stringify(text)} is not a plain decimal amount. Write digits with an optional leading "-" ` +
          `and an optional "." followed by digits, e.g. "1250.50"; no spaces, "+", thousands separators or exponents.`,
      );
    }
    const fraction_digits = match[2]?.length ?? 0;
    if (fraction_digits > minor_units) {
      throw new InvalidMoneyError(
        `${JSON.stringify(text)} has ${fraction_digits} decimal places but ${currency} has ${minor_units}; ` +
          `round the amount to ${minor_units} decimal places before sending it.`,
      );
    }
    assertIntegerDigitsWithinLimit((match[1] ?? '').replace(/^0+/, '').length, text);
    return new Money(new MoneyDecimal(text), currency, minor_units);
  }

  static zero(currency: CurrencyCode): Money {
    return new Money(new MoneyDecimal(0), currency, minorUnitsOf(currency));
  }

  /** Builds an amount from a whole number of minor units: `fromMinor(12345n, 'BDT')` is 123.45 BDT. */
  static fromMinor(amount_minor: bigint, currency: CurrencyCode): Money {
    const minor_units = minorUnitsOf(currency);
    if (typeof amount_minor !== 'bigint') {
      throw new InvalidMoneyError(
        `Minor units must be a bigint, got a ${typeof amount_minor}; a JS number cannot hold every amount exactly.`,
      );
    }
    const negative = amount_minor < 0n;
    const digits = (negative ? -amount_minor : amount_minor).toString().padStart(minor_units + 1, '0');
    assertIntegerDigitsWithinLimit(digits.length - minor_units, `${amount_minor} minor units`);
    const text = minor_units === 0 ? digits : `${digits.slice(0, -minor_units)}.${digits.slice(-minor_units)}`;
    return new Money(new MoneyDecimal(negative ? `-${text}` : text), currency, minor_units);
  }

  /** Sums a list that may be empty, which is why the currency is given explicitly. */
  static sum(amounts: readonly Money[], currency: CurrencyCode): Money {
    return amounts.reduce((total, amount) => total.plus(amount), Money.zero(currency));
  }

  static min(first: Money, ...rest: readonly Money[]): Money {
    return rest.reduce((smallest, amount) => (amount.compare(smallest) < 0 ? amount : smallest), first);
  }

  static max(first: Money, ...rest: readonly Money[]): Money {
    return rest.reduce((largest, amount) => (amount.compare(largest) > 0 ? amount : largest), first);
  }

  /** The amount as a whole number of minor units: 123.45 BDT → 12345n. */
  toMinor(): bigint {
    return BigInt(this.toString().replace('.', ''));
  }

  /** The canonical string, with exactly the currency's number of decimals: "100.00", "-3.25", JPY "100". */
  toString(): string {
    return this.#amount.toFixed(this.#minor_units);
  }

  toJSON(): string {
    return this.toString();
  }

  plus(other: Money): Money {
    this.#assertSameCurrency(other, 'add');
    return this.#withAmount(this.#amount.plus(other.#amount));
  }

  minus(other: Money): Money {
    this.#assertSameCurrency(other, 'subtract');
    return this.#withAmount(this.#amount.minus(other.#amount));
  }

  negated(): Money {
    return new Money(this.#amount.negated(), this.currency, this.#minor_units);
  }

  /**
   * Multiplies by a decimal factor (a plain decimal string such as "0.15", or a finite Decimal) and rounds
   * the exact product once to the currency's minor units with `rounding` (half-even unless told otherwise).
   * The product is computed exactly with bigints, so there is no intermediate rounding.
   */
  times(factor: string | Decimal, rounding: RoundingMode = 'half-even'): Money {
    const { numerator, denominator } = exactFactor(factor);
    return Money.fromMinor(divideRounded(this.toMinor() * numerator, denominator, rounding), this.currency);
  }

  /**
   * Multiplies by the exact fraction `numerator / denominator` and rounds once to minor units. Use this for
   * ratios that have no finite decimal form (29 of 30 days, a payment of 100 out of 333.33), where `times`
   * would need a rounded factor and could be off by a minor unit.
   */
  timesFraction(numerator: bigint, denominator: bigint, rounding: RoundingMode = 'half-even'): Money {
    if (denominator === 0n) {
      throw new InvalidMoneyError('Cannot multiply money by a fraction whose denominator is zero.');
    }
    const sign = denominator < 0n ? -1n : 1n;
    return Money.fromMinor(
      divideRounded(this.toMinor() * numerator * sign, denominator * sign, rounding),
      this.currency,
    );
  }

  isZero(): boolean {
    return this.#amount.isZero();
  }

  isNegative(): boolean {
    return this.#amount.isNegative() && !this.#amount.isZero();
  }

  isPositive(): boolean {
    return this.#amount.isPositive() && !this.#amount.isZero();
  }

  /** -1, 0 or 1. Comparing different currencies is a bug and throws CurrencyMismatchError. */
  compare(other: Money): -1 | 0 | 1 {
    this.#assertSameCurrency(other, 'compare');
    const order = this.#amount.comparedTo(other.#amount);
    return order < 0 ? -1 : order > 0 ? 1 : 0;
  }

  /** Same currency and same amount. Unlike `compare`, different currencies are simply not equal. */
  equals(other: Money): boolean {
    return this.currency === other.currency && this.#amount.equals(other.#amount);
  }

  #withAmount(amount: Decimal): Money {
    if (amount.abs().gte(AMOUNT_LIMIT)) {
      throw new InvalidMoneyError(
        `The result ${amount.toFixed()} ${this.currency} has more than ${MONEY_MAX_INTEGER_DIGITS} integer ` +
          `digits; this is almost certainly a unit mistake (minor units added as major units, or a loop).`,
      );
    }
    return new Money(amount, this.currency, this.#minor_units);
  }

  #assertSameCurrency(other: Money, operation: string): void {
    if (other.currency !== this.currency) throw new CurrencyMismatchError(this.currency, other.currency, operation);
  }
}

function assertIntegerDigitsWithinLimit(integer_digits: number, shown_as: string): void {
  if (integer_digits > MONEY_MAX_INTEGER_DIGITS) {
    throw new InvalidMoneyError(
      `${shown_as} has ${integer_digits} integer digits; at most ${MONEY_MAX_INTEGER_DIGITS} are accepted. ` +
        `Check that the amount is in major units and not a unit mistake.`,
    );
  }
}

/** A decimal factor as an exact fraction with a power-of-ten denominator. */
function exactFactor(factor: string | Decimal): { readonly numerator: bigint; readonly denominator: bigint } {
  let text: string;
  if (typeof factor === 'string') {
    text = factor;
  } else if (Decimal.isDecimal(factor) && factor.isFinite()) {
    // toFixed() without an argument prints every digit in plain notation, so nothing is rounded here.
    text = factor.toFixed();
  } else {
    throw new InvalidMoneyError('A factor must be a plain decimal string or a finite Decimal.');
  }
  const match = text.length <= FACTOR_MAX_TEXT_LENGTH ? PLAIN_DECIMAL.exec(text) : null;
  if (match === null) {
    throw new InvalidMoneyError(
      `Factor ${JSON.stringify(text.slice(0, 40))} is not a plain decimal of at most ${FACTOR_MAX_TEXT_LENGTH} ` +
        `characters such as "0.15" or "-1".`,
    );
  }
  const fraction_digits = match[2]?.length ?? 0;
  return { numerator: BigInt(text.replace('.', '')), denominator: 10n ** BigInt(fraction_digits) };
}
