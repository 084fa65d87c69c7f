import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { ALLOCATION_MAX_PARTS, allocateByWeights, allocateMinorByIntegerWeights } from './allocation.js';
import { KNOWN_CURRENCIES } from './currency.js';
import { Money } from './money.js';
import { InvalidAllocationError } from './money-errors.js';

const bdt = (text: string): Money => Money.parse(text, 'BDT');
const strings = (parts: readonly Money[]): string[] => parts.map((part) => part.toString());

/** A weight with up to 4 decimals, zero a good part of the time. */
const weightArb = fc.oneof(
  fc.constant('0'),
  fc.integer({ min: 0, max: 100 }).map(String),
  fc
    .tuple(fc.integer({ min: 0, max: 1_000_000 }), fc.integer({ min: 0, max: 4 }))
    .map(([digits, scale]) => scaledDecimal(BigInt(digits), scale)),
);
const weightsArb = fc
  .array(weightArb, { minLength: 1, maxLength: 12 })
  .filter((weights) => weights.some((weight) => Number(weight) > 0));
const totalArb = fc.constantFrom(...KNOWN_CURRENCIES).chain((currency) =>
  fc
    .oneof(fc.bigInt({ min: 0n, max: 1_000n }), fc.bigInt({ min: 0n, max: 10n ** 24n }))
    .map((minor) => Money.fromMinor(minor, currency)),
);

function scaledDecimal(digits: bigint, scale: number): string {
  if (scale === 0) return digits.toString();
  const padded = digits.toString().padStart(scale + 1, '0');
  return `${padded.slice(0, -scale)}.${padded.slice(-scale)}`;
}

/** The exact share of part `index` as a fraction of minor units: numerator / denominator. */
function exactShare(
  total: Money,
  weights: readonly string[],
  index: number,
): { numerator: bigint; denominator: bigint } {
  const scale = Math.max(...weights.map((weight) => weight.split('.')[1]?.length ?? 0));
  const scaled = weights.map((weight) => {
    const [whole = '', fraction = ''] = weight.split('.');
    return BigInt(whole + fraction.padEnd(scale, '0'));
  });
  return {
    numerator: total.toMinor() * scaled[index]!,
    denominator: scaled.reduce((sum, weight) => sum + weight, 0n),
  };
}

describe('allocateByWeights', () => {
  it('splits 100.00 three ways as 33.34, 33.33, 33.33 (tie goes to the lower index)', () => {
    expect(strings(allocateByWeights(bdt('100'), ['1', '1', '1']))).toEqual(['33.34', '33.33', '33.33']);
  });

  it('gives leftover units to the largest remainders first', () => {
    // Shares that are already exact need no leftover units at all.
    expect(strings(allocateByWeights(bdt('1'), ['30', '39', '31']))).toEqual(['0.30', '0.39', '0.31']);
    // 0.05 by 1:1:3 → exact 0.01, 0.01, 0.03.
    expect(strings(allocateByWeights(bdt('0.05'), ['1', '1', '3']))).toEqual(['0.01', '0.01', '0.03']);
    // 0.10 by 1:1:1 → floors 0.03 each, remainders equal, one unit to index 0.
    expect(strings(allocateByWeights(bdt('0.10'), ['1', '1', '1']))).toEqual(['0.04', '0.03', '0.03']);
    // 0.07 by 2:3:5 → exact 1.4, 2.1, 3.5 minor units → floors 1, 2, 3 leave one unit, and remainder .5 is largest.
    expect(strings(allocateByWeights(bdt('0.07'), ['2', '3', '5']))).toEqual(['0.01', '0.02', '0.04']);
  });

  it('accepts decimal weights and zero weights', () => {
    expect(strings(allocateByWeights(bdt('10'), ['0.5', '0', '1.5']))).toEqual(['2.50', '0.00', '7.50']);
    expect(strings(allocateByWeights(Money.parse('10', 'JPY'), ['1', '2']))).toEqual(['3', '7']);
    expect(strings(allocateByWeights(Money.zero('BDT'), ['1', '2']))).toEqual(['0.00', '0.00']);
  });

  it.each<[string, string[]]>([
    ['-1', ['1']],
    ['1', []],
    ['1', ['0', '0']],
    ['1', ['-1', '2']],
    ['1', ['1e2']],
    ['1', [' 1']],
    ['1', ['.5']],
    ['1', ['']],
  ])('rejects total %s with weights %j as INVALID_ALLOCATION', (total, weights) => {
    expect(() => allocateByWeights(bdt(total), weights)).toThrow(InvalidAllocationError);
    try {
      allocateByWeights(bdt(total), weights);
    } catch (error) {
      expect((error as InvalidAllocationError).code).toBe('INVALID_ALLOCATION');
    }
  });

  it('limits the number of parts', () => {
    expect(() => allocateByWeights(bdt('1'), Array.from({ length: ALLOCATION_MAX_PARTS + 1 }, () => '1'))).toThrow(
      InvalidAllocationError,
    );
  });

  it('the integer form rejects negative totals and weights', () => {
    expect(() => allocateMinorByIntegerWeights(-1n, [1n])).toThrow(InvalidAllocationError);
    expect(() => allocateMinorByIntegerWeights(1n, [2n, -1n])).toThrow(InvalidAllocationError);
  });
});

describe('allocateByWeights properties', () => {
  it('parts sum exactly to the total, stay within one minor unit of the exact share, and are never negative', () => {
    fc.assert(
      fc.property(totalArb, weightsArb, (total, weights) => {
        const parts = allocateByWeights(total, weights);
        expect(parts).toHaveLength(weights.length);
        expect(Money.sum(parts, total.currency).equals(total)).toBe(true);
        parts.forEach((part, index) => {
          expect(part.currency).toBe(total.currency);
          expect(part.isNegative()).toBe(false);
          // |part − numerator/denominator| < 1 ⇔ |part × denominator − numerator| < denominator.
          const { numerator, denominator } = exactShare(total, weights, index);
          const difference = part.toMinor() * denominator - numerator;
          expect(difference < denominator && -difference < denominator).toBe(true);
          if (Number(weights[index]) === 0) expect(part.isZero()).toBe(true);
        });
      }),
      { numRuns: 1000 },
    );
  });

  it('gives the same (weight, part) pairs whatever the order of the weights, when remainders do not tie', () => {
    fc.assert(
      fc.property(
        totalArb,
        weightsArb.chain((weights) =>
          fc.tuple(
            fc.constant(weights),
            fc.shuffledSubarray(
              weights.map((_, index) => index),
              { minLength: weights.length, maxLength: weights.length },
            ),
          ),
        ),
        (total, [weights, permutation]) => {
          const remainders = weights
            .map((_, index) => exactShare(total, weights, index))
            .map(({ numerator, denominator }) => numerator % denominator)
            .filter((remainder) => remainder !== 0n);
          fc.pre(new Set(remainders).size === remainders.length);

          const permuted = permutation.map((index) => weights[index]!);
          const pairs = (ws: readonly string[], parts: readonly Money[]): string[] =>
            ws.map((weight, index) => `${weight}→${parts[index]!.toString()}`).sort();
          expect(pairs(permuted, allocateByWeights(total, permuted))).toEqual(
            pairs(weights, allocateByWeights(total, weights)),
          );
        },
      ),
      { numRuns: 500 },
    );
  });

  it('is deterministic and splits a single positive weight into the whole total', () => {
    fc.assert(
      fc.property(totalArb, weightsArb, (total, weights) => {
        expect(strings(allocateByWeights(total, weights))).toEqual(strings(allocateByWeights(total, weights)));
        expect(allocateByWeights(total, ['7'])[0]!.equals(total)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});
