import { describe, it, expect } from 'vitest';
import { KNOWN_CURRENCIES, isKnownCurrency, minorUnitsOf } from './currency.js';
import { UnknownCurrencyError } from './money-errors.js';

describe('minorUnitsOf', () => {
  it.each([
    ['BDT', 2], ['USD', 2], ['EUR', 2], ['INR', 2], ['PKR', 2], ['NPR', 2], ['LKR', 2], ['GBP', 2],
    ['IDR', 2], ['JPY', 0], ['KRW', 0], ['KWD', 3], ['BHD', 3], ['OMR', 3],
  ])('%s has %i minor units', (code, minor_units) => {
    expect(minorUnitsOf(code)).toBe(minor_units);
  });

  it.each(['XYZ', 'bdt', 'BD', '', 'constructor', 'toString'])('rejects %j with UNKNOWN_CURRENCY', (code) => {
    expect(() => minorUnitsOf(code)).toThrow(UnknownCurrencyError);
    try {
      minorUnitsOf(code);
    } catch (error) {
      expect((error as UnknownCurrencyError).code).toBe('UNKNOWN_CURRENCY');
      expect((error as UnknownCurrencyError).message).toContain('ISO 4217');
    }
  });

  it('lists every known currency once, as three upper-case letters with 0 to 3 minor units', () => {
    expect(new Set(KNOWN_CURRENCIES).size).toBe(KNOWN_CURRENCIES.length);
    for (const code of KNOWN_CURRENCIES) {
      expect(code).toMatch(/^[A-Z]{3}$/);
      expect(isKnownCurrency(code)).toBe(true);
      expect([0, 2, 3]).toContain(minorUnitsOf(code));
    }
  });
});
