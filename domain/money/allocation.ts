import { Money } from './money.js';
import { InvalidAllocationError } from './money-errors.js';

/** No real split (commission chain, bill lines, instalments) has more parts; more is a bug or hostile input. */
export const ALLOCATION_MAX_PARTS = 10_000;
const WEIGHT_MAX_TEXT_LENGTH = 64;
const PLAIN_NON_NEGATIVE_DECIMAL = /^(\d+)(?:\.(\d+))?$/;

/**
 * Splits `total` into parts proportional to `weights` (plain non-negative decimal strings such as "60",
 * "0.5"), exact to the minor unit, by the largest remainder method:
 * - every part first gets the floor of its exact share;
 * - the minor units left over go one each to the parts with the largest remainders, ties broken by the lower
 *   index, so the result is deterministic and does not depend on anything but the inputs.
 *
 * Guarantees: the parts sum exactly to `total`; each part is within one minor unit of its exact share
 * (`total × weight / Σweights`); no part is negative; a zero weight gets a zero part.
 *
 * Requires `total ≥ 0`, every weight ≥ 0 and at least one weight > 0; otherwise it throws
 * InvalidAllocationError. To split a negative amount (a refund), allocate its absolute value and negate the
 * parts, which keeps the rounding symmetrical with the original split.
 */
export function allocateByWeights(total: Money, weights: readonly string[]): Money[] {
  if (total.isNegative()) {
    throw new InvalidAllocationError(
      `Cannot allocate a negative total (${total.toString()} ${total.currency}); allocate its absolute value ` +
        `and negate the parts.`,
    );
  }
  checkPartCount(weights.length);
  const scaled = scaleWeightsToIntegers(weights);
  return allocateMinorByIntegerWeights(total.toMinor(), scaled).map((part_minor) =>
    Money.fromMinor(part_minor, total.currency),
  );
}

/**
 * The same largest remainder allocation on whole minor units and integer weights, for callers whose weights
 * are exact rationals brought to a common denominator (the commission split). Same requirements and
 * guarantees as `allocateByWeights`.
 */
export function allocateMinorByIntegerWeights(total_minor: bigint, weights: readonly bigint[]): bigint[] {
  if (total_minor < 0n) {
    throw new InvalidAllocationError(`Cannot allocate a negative total of ${total_minor} minor units.`);
  }
  checkPartCount(weights.length);
  let weight_sum = 0n;
  for (const [index, weight] of weights.entries()) {
    if (weight < 0n) {
      throw new InvalidAllocationError(`Weight at index ${index} is negative (${weight}); weights must be ≥ 0.`);
    }
    weight_sum += weight;
  }
  if (weight_sum === 0n) {
    throw new InvalidAllocationError(
      'Every weight is zero, so there is no proportion to split by; give at least one part a positive weight.',
    );
  }

  const parts = weights.map((weight) => (total_minor * weight) / weight_sum);
  const remainders = weights.map((weight) => (total_minor * weight) % weight_sum);
  let leftover_minor = total_minor - parts.reduce((sum, part) => sum + part, 0n);

  // The leftover is Σremainders / Σweights and every remainder is below Σweights, so there are always more
  // parts with a non-zero remainder than leftover units: a part whose share is already exact (including
  // every zero weight) never receives one.
  const order = weights
    .map((_, index) => index)
    .sort((a, b) => {
      const by_remainder = compareBigints(remainders[b]!, remainders[a]!);
      return by_remainder !== 0 ? by_remainder : a - b;
    });
  for (const index of order) {
    if (leftover_minor === 0n) break;
    parts[index]! += 1n;
    leftover_minor -= 1n;
  }
  return parts;
}

function checkPartCount(count: number): void {
  if (count === 0) {
    throw new InvalidAllocationError('Cannot allocate into zero parts; pass at least one weight.');
  }
  if (count > ALLOCATION_MAX_PARTS) {
    throw new InvalidAllocationError(
      `Cannot allocate into ${count} parts; at most ${ALLOCATION_MAX_PARTS} are allowed.`,
    );
  }
}

/** Brings decimal weight strings to integers over a common power of ten, exactly. */
function scaleWeightsToIntegers(weights: readonly string[]): bigint[] {
  const parsed = weights.map((weight, index) => {
    const match =
      typeof weight === 'string' && weight.length <= WEIGHT_MAX_TEXT_LENGTH
        ? PLAIN_NON_NEGATIVE_DECIMAL.exec(weight)
        : null;
    if (match === null) {
      throw new InvalidAllocationError(
        `Weight at index ${index} (${JSON.stringify(weight)}) is not a plain non-negative decimal such as ` +
          `"60" or "12.5" of at most ${WEIGHT_MAX_TEXT_LENGTH} characters.`,
      );
    }
    const fraction = match[2] ?? '';
    return { digits: `${match[1] ?? ''}${fraction}`, fraction_digits: fraction.length };
  });
  const common_fraction_digits = Math.max(...parsed.map((weight) => weight.fraction_digits));
  return parsed.map(
    (weight) => BigInt(weight.digits) * 10n ** BigInt(common_fraction_digits - weight.fraction_digits),
  );
}

function compareBigints(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
