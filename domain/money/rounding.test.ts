import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { Decimal } from 'decimal.js';
import { ROUNDING_MODES, divideRounded } from './rounding.js';
import type { RoundingMode } from './rounding.js';

// An independent reference: decimal.js with enough precision that the quotient is exact to well past the
// rounding digit, then rounded to an integer with the matching decimal.js mode.
const Reference = Decimal.clone({ precision: 200 });
const REFERENCE_MODE: Readonly<Record<RoundingMode, Decimal.Rounding>> = {
  'half-even': Decimal.ROUND_HALF_EVEN,
  'half-up': Decimal.ROUND_HALF_UP,
  'half-down': Decimal.ROUND_HALF_DOWN,
  up: Decimal.ROUND_UP,
  down: Decimal.ROUND_DOWN,
  ceil: Decimal.ROUND_CEIL,
  floor: Decimal.ROUND_FLOOR,
};

describe('divideRounded', () => {
  it.each<[bigint, bigint, RoundingMode, bigint]>([
    [25n, 10n, 'half-even', 2n],
    [35n, 10n, 'half-even', 4n],
    [-25n, 10n, 'half-even', -2n],
    [25n, 10n, 'half-up', 3n],
    [-25n, 10n, 'half-up', -3n],
    [25n, 10n, 'half-down', 2n],
    [21n, 10n, 'up', 3n],
    [-21n, 10n, 'up', -3n],
    [29n, 10n, 'down', 2n],
    [-29n, 10n, 'down', -2n],
    [-21n, 10n, 'ceil', -2n],
    [-21n, 10n, 'floor', -3n],
    [26n, 10n, 'half-down', 3n],
    [30n, 10n, 'up', 3n],
  ])('%s / %s rounded %s is %s', (numerator, denominator, mode, expected) => {
    expect(divideRounded(numerator, denominator, mode)).toBe(expected);
  });

  it('rejects a non-positive denominator', () => {
    expect(() => divideRounded(1n, 0n, 'half-even')).toThrow(RangeError);
    expect(() => divideRounded(1n, -1n, 'half-even')).toThrow(RangeError);
  });

  it('agrees with decimal.js for every mode', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }),
        fc.oneof(fc.bigInt({ min: 1n, max: 20n }), fc.bigInt({ min: 1n, max: 10n ** 20n })),
        fc.constantFrom(...ROUNDING_MODES),
        (numerator, denominator, mode) => {
          const expected = new Reference(numerator.toString())
            .dividedBy(denominator.toString())
            .toDecimalPlaces(0, REFERENCE_MODE[mode])
            .toFixed(0);
          expect(divideRounded(numerator, denominator, mode).toString()).toBe(expected === '-0' ? '0' : expected);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
