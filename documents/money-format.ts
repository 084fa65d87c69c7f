import { Decimal } from 'decimal.js';
import { minorUnitsOf } from '../domain/money/currency.js';

/**
 * How documents write amounts and dates: in the ISP's currency and locale (Bangladesh taka in English by
 * default: ৳1,234.50; with `bn-BD`, ১,২৩৪.৫০৳). Amounts stay decimal strings all the way: Intl formats the
 * string itself (ECMA-402's exact decimal path), never a JS number, so 12345678901234.56 prints as it is.
 */
export const DEFAULT_LOCALE = 'en-BD';

/** The locale a document is written in: the ISP's own, or the default. */
export const documentLocale = (locale: string | null | undefined): string => (locale === null || locale === undefined || locale === '' ? DEFAULT_LOCALE : locale);

type StringNumberFormat = { format(value: string): string; formatToParts(value: string): Intl.NumberFormatPart[] };

export class MoneyFormat {
  readonly minor_units: number;
  /** The symbol as the locale writes it (৳, $, ₹), and whether it comes before the number. */
  readonly symbol: string;
  readonly symbol_first: boolean;
  readonly #currency: StringNumberFormat;
  readonly #plain: StringNumberFormat;

  constructor(
    readonly currency: string,
    readonly locale: string,
  ) {
    this.minor_units = minorUnitsOf(currency);
    const digits = { minimumFractionDigits: this.minor_units, maximumFractionDigits: this.minor_units };
    this.#currency = new Intl.NumberFormat(locale, { style: 'currency', currency, currencyDisplay: 'narrowSymbol', ...digits }) as unknown as StringNumberFormat;
    this.#plain = new Intl.NumberFormat(locale, { style: 'decimal', ...digits }) as unknown as StringNumberFormat;
    const parts = this.#currency.formatToParts('1');
    const at = parts.findIndex((part) => part.type === 'currency');
    this.symbol = parts[at]?.value ?? currency;
    this.symbol_first = at < parts.findIndex((part) => part.type === 'integer');
  }

  /** "৳1,234.50" (or the locale's way); the amount is a decimal string in the currency's minor units. */
  format(amount: string): string {
    return this.#currency.format(checked(amount));
  }

  /** "1,234.50": for columns headed with the currency. */
  plain(amount: string): string {
    return this.#plain.format(checked(amount));
  }

  /**
   * The spreadsheet number format for amounts of this currency: the symbol where the locale puts it, thousands
   * separators, the currency's decimals, negatives with a minus (`"৳"#,##0.00;-"৳"#,##0.00`). Spreadsheet
   * programs draw their own digits and grouping; the symbol and the decimals are what must be right.
   */
  spreadsheetFormat(): string {
    const number = this.minor_units === 0 ? '#,##0' : `#,##0.${'0'.repeat(this.minor_units)}`;
    const symbol = `"${this.symbol.replaceAll('"', '')}"`;
    const positive = this.symbol_first ? `${symbol}${number}` : `${number}${symbol}`;
    return `${positive};-${positive}`;
  }
}

function checked(amount: string): string {
  if (!/^-?\d+(\.\d+)?$/.test(amount)) throw new Error(`bug: ${JSON.stringify(amount)} is not a decimal amount`);
  return amount;
}

/** "30 Nov 2026" (or the locale's way) for a day of the ISP's calendar, YYYY-MM-DD. */
export function formatDay(day: string, locale: string): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone: 'UTC' }).format(new Date(`${day}T00:00:00Z`));
}

/** "30 Nov 2026, 14:05" in the ISP's zone, for an instant. */
export function formatInstant(instant: string, locale: string, time_zone: string): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short', timeZone: time_zone, hourCycle: 'h23' }).format(new Date(instant));
}

/** "November 2026" for a billing period, YYYY-MM. */
export function formatPeriod(period: string, locale: string): string {
  return new Intl.DateTimeFormat(locale, { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(new Date(`${period}-01T00:00:00Z`));
}

// --- amounts in words, as money receipts write them ---------------------------------------------------------------

/** What the major and minor units are called on a receipt; currencies not listed get no words line. */
const UNIT_NAMES: Readonly<Record<string, readonly [major: string, minor: string, south_asian: boolean]>> = {
  BDT: ['Taka', 'Paisa', true],
  INR: ['Rupees', 'Paise', true],
  NPR: ['Rupees', 'Paisa', true],
  PKR: ['Rupees', 'Paisa', true],
  USD: ['Dollars', 'Cents', false],
  EUR: ['Euros', 'Cents', false],
  GBP: ['Pounds', 'Pence', false],
};

const ONES = ['', 'One', 'Two', 'Three', 'Four', 'Five', 'Six', 'Seven', 'Eight', 'Nine', 'Ten', 'Eleven', 'Twelve', 'Thirteen', 'Fourteen', 'Fifteen', 'Sixteen', 'Seventeen', 'Eighteen', 'Nineteen'];
const TENS = ['', '', 'Twenty', 'Thirty', 'Forty', 'Fifty', 'Sixty', 'Seventy', 'Eighty', 'Ninety'];

function belowThousand(n: number): string {
  const hundreds = Math.floor(n / 100);
  const rest = n % 100;
  const parts: string[] = [];
  if (hundreds > 0) parts.push(`${ONES[hundreds]} Hundred`);
  if (rest > 0) parts.push(rest < 20 ? ONES[rest]! : `${TENS[Math.floor(rest / 10)]}${rest % 10 === 0 ? '' : `-${ONES[rest % 10]}`}`);
  return parts.join(' ');
}

/** A whole number in English words: 1,25,000 as "One Lakh Twenty-Five Thousand" (South Asian) or by thousands. */
function wholeInWords(whole: bigint, south_asian: boolean): string {
  if (whole === 0n) return 'Zero';
  const parts: string[] = [];
  let rest = whole;
  if (south_asian) {
    // crore (10^7) may itself run past 99: it is written in words the same way, as "Twelve Hundred Crore".
    const crore = rest / 10_000_000n;
    rest %= 10_000_000n;
    if (crore > 0n) parts.push(`${wholeInWords(crore, true)} Crore`);
    const lakh = Number(rest / 100_000n);
    rest %= 100_000n;
    if (lakh > 0) parts.push(`${belowThousand(lakh)} Lakh`);
    const thousand = Number(rest / 1_000n);
    rest %= 1_000n;
    if (thousand > 0) parts.push(`${belowThousand(thousand)} Thousand`);
    if (rest > 0n) parts.push(belowThousand(Number(rest)));
    return parts.join(' ');
  }
  const scales = ['', 'Thousand', 'Million', 'Billion', 'Trillion', 'Quadrillion', 'Quintillion'];
  let scale = 0;
  while (rest > 0n) {
    const group = Number(rest % 1_000n);
    if (group > 0) parts.unshift(`${belowThousand(group)}${scales[scale] === '' ? '' : ` ${scales[scale]}`}`);
    rest /= 1_000n;
    scale += 1;
  }
  return parts.join(' ');
}

/** "Taka One Thousand Two Hundred and Paisa Fifty Only", or null for a currency without names here. */
export function amountInWords(amount: string, currency: string): string | null {
  const names = UNIT_NAMES[currency];
  if (names === undefined) return null;
  const [major, minor, south_asian] = names;
  const value = new Decimal(checked(amount));
  const minor_units = minorUnitsOf(currency);
  const scaled = value.abs().times(new Decimal(10).pow(minor_units));
  const total = BigInt(scaled.toFixed(0));
  const whole = total / 10n ** BigInt(minor_units);
  const fraction = total % 10n ** BigInt(minor_units);
  const sign = value.isNegative() && !value.isZero() ? 'Minus ' : '';
  const fractionWords = fraction === 0n ? '' : ` and ${minor} ${wholeInWords(fraction, false)}`;
  return `${sign}${major} ${wholeInWords(whole, south_asian)}${fractionWords} Only`;
}
