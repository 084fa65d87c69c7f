import { Decimal } from 'decimal.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sumKeepingScale } from '../../projections/apply-batch.js';

/** Counter columns add money as scaled integers; the answer must be Decimal's, at the larger of the two scales. */
const decimalText = fc
  .tuple(fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }), fc.integer({ min: 0, max: 6 }))
  .map(([units, scale]) => {
    const negative = units < 0n;
    const digits = (negative ? -units : units).toString().padStart(scale + 1, '0');
    return `${negative ? '-' : ''}${digits.slice(0, digits.length - scale)}${scale > 0 ? `.${digits.slice(digits.length - scale)}` : ''}`;
  });

/** Decimal's default 20 significant digits would round these; the reference must not. */
const Exact = Decimal.clone({ precision: 100 });

const scaleOf = (text: string): number => (text.includes('.') ? text.length - text.indexOf('.') - 1 : 0);

/** Zeros of every scale and sign, as journal lines carry them (a line's debit or credit is zero). */
const amount = fc.oneof(decimalText, fc.constantFrom('0', '0.00', '-0.00', '0.0', '00.00', '-0'));

describe('sumKeepingScale', () => {
  it('adds any two decimals exactly, keeping the larger scale, as exact decimal arithmetic does', () => {
    fc.assert(
      fc.property(amount, amount, (a, b) => {
        expect(sumKeepingScale(a, b)).toBe(new Exact(a).plus(b).toFixed(Math.max(scaleOf(a), scaleOf(b))));
      }),
      { numRuns: 2_000 },
    );
  });

  it('keeps the scale through zero and across signs', () => {
    expect(sumKeepingScale('0', '500.00')).toBe('500.00');
    expect(sumKeepingScale('-0.50', '0.50')).toBe('0.00');
    expect(sumKeepingScale('-0.5', '0.25')).toBe('-0.25');
    expect(sumKeepingScale('1e3', '0.10')).toBe('1000.10');
  });
});
