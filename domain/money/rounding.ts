/**
 * Rounding of exact rational amounts to whole minor units. Every place that turns a ratio into money
 * (multiplying by a factor, proration, scaling a commission) goes through `divideRounded`, so there is one
 * definition of each rounding mode and no intermediate floating or precision-limited step.
 */

/**
 * How to round a value that falls between two minor units.
 * - `half-even`: ties go to the even neighbour (banker's rounding); the default, because it has no bias
 *   over many roundings.
 * - `half-up`: ties go away from zero (as decimal.js ROUND_HALF_UP and Java's HALF_UP do).
 * - `half-down`: ties go towards zero.
 * - `up`: always away from zero. `down`: always towards zero (truncation).
 * - `ceil`: towards +infinity. `floor`: towards -infinity.
 */
export type RoundingMode = 'half-even' | 'half-up' | 'half-down' | 'up' | 'down' | 'ceil' | 'floor';

export const ROUNDING_MODES: readonly RoundingMode[] = Object.freeze([
  'half-even',
  'half-up',
  'half-down',
  'up',
  'down',
  'ceil',
  'floor',
]);

/**
 * `numerator / denominator` rounded to an integer with the given mode. The denominator must be positive;
 * a zero or negative one is a bug in the caller, so it throws a RangeError rather than a domain error.
 */
export function divideRounded(numerator: bigint, denominator: bigint, mode: RoundingMode): bigint {
  if (denominator <= 0n) {
    throw new RangeError(`divideRounded needs a positive denominator, got ${denominator}.`);
  }
  // BigInt division truncates towards zero, and the remainder takes the sign of the numerator.
  const quotient = numerator / denominator;
  const remainder = numerator % denominator;
  if (remainder === 0n) return quotient;

  const away_from_zero = numerator < 0n ? quotient - 1n : quotient + 1n;
  const towards_ceiling = numerator < 0n ? quotient : away_from_zero;
  const towards_floor = numerator < 0n ? away_from_zero : quotient;

  switch (mode) {
    case 'down':
      return quotient;
    case 'up':
      return away_from_zero;
    case 'ceil':
      return towards_ceiling;
    case 'floor':
      return towards_floor;
    default: {
      const twice_remainder = 2n * (remainder < 0n ? -remainder : remainder);
      if (twice_remainder > denominator) return away_from_zero;
      if (twice_remainder < denominator) return quotient;
      // Exactly half way: only the tie rule differs between the half-* modes.
      switch (mode) {
        case 'half-up':
          return away_from_zero;
        case 'half-down':
          return quotient;
        case 'half-even':
          return quotient % 2n === 0n ? quotient : away_from_zero;
      }
    }
  }
}
