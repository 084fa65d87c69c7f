import { UnknownCurrencyError } from './money-errors.js';

/** An ISO 4217 alphabetic code, upper case ("BDT", "USD"). One currency per ISP. */
export type CurrencyCode = string;

/**
 * Minor units (digits after the decimal point) of ISO 4217 currencies, taken from the ISO 4217 list rather
 * than from CLDR: CLDR rounds some currencies for display (IDR, HUF, …) that ISO still defines with two
 * decimals, and bills must follow ISO. The list covers the markets an ISP billing system is likely to serve;
 * add a currency here (with its ISO minor units) when a deployment needs it.
 */
const MINOR_UNITS_BY_CURRENCY: ReadonlyMap<CurrencyCode, number> = new Map<CurrencyCode, number>([
  ['AED', 2], ['AFN', 2], ['ALL', 2], ['AMD', 2], ['AOA', 2], ['ARS', 2], ['AUD', 2], ['AZN', 2],
  ['BAM', 2], ['BDT', 2], ['BGN', 2], ['BHD', 3], ['BIF', 0], ['BND', 2], ['BOB', 2], ['BRL', 2],
  ['BTN', 2], ['BWP', 2], ['BYN', 2], ['CAD', 2], ['CDF', 2], ['CHF', 2], ['CLP', 0], ['CNY', 2],
  ['COP', 2], ['CRC', 2], ['CZK', 2], ['DJF', 0], ['DKK', 2], ['DOP', 2], ['DZD', 2], ['EGP', 2],
  ['ETB', 2], ['EUR', 2], ['FJD', 2], ['GBP', 2], ['GEL', 2], ['GHS', 2], ['GMD', 2], ['GNF', 0],
  ['GTQ', 2], ['HKD', 2], ['HNL', 2], ['HUF', 2], ['IDR', 2], ['ILS', 2], ['INR', 2], ['IQD', 3],
  ['IRR', 2], ['ISK', 0], ['JMD', 2], ['JOD', 3], ['JPY', 0], ['KES', 2], ['KGS', 2], ['KHR', 2],
  ['KMF', 0], ['KRW', 0], ['KWD', 3], ['KZT', 2], ['LAK', 2], ['LBP', 2], ['LKR', 2], ['LYD', 3],
  ['MAD', 2], ['MDL', 2], ['MGA', 2], ['MKD', 2], ['MMK', 2], ['MNT', 2], ['MUR', 2], ['MVR', 2],
  ['MWK', 2], ['MXN', 2], ['MYR', 2], ['MZN', 2], ['NAD', 2], ['NGN', 2], ['NOK', 2], ['NPR', 2],
  ['NZD', 2], ['OMR', 3], ['PEN', 2], ['PGK', 2], ['PHP', 2], ['PKR', 2], ['PLN', 2], ['PYG', 0],
  ['QAR', 2], ['RON', 2], ['RSD', 2], ['RUB', 2], ['RWF', 0], ['SAR', 2], ['SCR', 2], ['SDG', 2],
  ['SEK', 2], ['SGD', 2], ['SLE', 2], ['SOS', 2], ['SSP', 2], ['SYP', 2], ['THB', 2], ['TJS', 2],
  ['TMT', 2], ['TND', 3], ['TRY', 2], ['TTD', 2], ['TWD', 2], ['TZS', 2], ['UAH', 2], ['UGX', 0],
  ['USD', 2], ['UYU', 2], ['UZS', 2], ['VES', 2], ['VND', 0], ['VUV', 0], ['XAF', 0], ['XCD', 2],
  ['XOF', 0], ['XPF', 0], ['YER', 2], ['ZAR', 2], ['ZMW', 2],
]);

/** Every currency code the table knows, sorted; useful for schemas and for property tests. */
export const KNOWN_CURRENCIES: readonly CurrencyCode[] = Object.freeze([...MINOR_UNITS_BY_CURRENCY.keys()].sort());

export function isKnownCurrency(code: string): code is CurrencyCode {
  return MINOR_UNITS_BY_CURRENCY.has(code);
}

/**
 * Number of digits after the decimal point for `code` (BDT 2, JPY 0, KWD 3).
 * Codes are case-sensitive: "bdt" is rejected so that events carry one spelling.
 */
export function minorUnitsOf(code: CurrencyCode): number {
  const minor_units = MINOR_UNITS_BY_CURRENCY.get(code);
  if (minor_units === undefined) throw new UnknownCurrencyError(code);
  return minor_units;
}
