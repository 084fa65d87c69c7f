import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { Money } from '../money/money.js';
import { CurrencyMismatchError, InvalidMoneyError } from '../money/money-errors.js';
import { prorateByDays, prorateForPackageChange } from './proration.js';
import { InvalidDayCountError } from './calendar-errors.js';

const bdt = (text: string): Money => Money.parse(text, 'BDT');

describe('prorateByDays', () => {
  it('takes the share of the days, rounded half-even to the minor unit', () => {
    expect(prorateByDays({ amount: bdt('500'), days: 10, period_days: 30 }).toString()).toBe('166.67');
    expect(prorateByDays({ amount: bdt('500'), days: 0, period_days: 30 }).toString()).toBe('0.00');
    expect(prorateByDays({ amount: bdt('500'), days: 30, period_days: 30 }).toString()).toBe('500.00');
    // 0.05 × 1/2 = 0.025 → half-even gives 0.02; 0.15 × 1/2 = 0.075 → 0.08.
    expect(prorateByDays({ amount: bdt('0.05'), days: 1, period_days: 2 }).toString()).toBe('0.02');
    expect(prorateByDays({ amount: bdt('0.15'), days: 1, period_days: 2 }).toString()).toBe('0.08');
  });

  it.each<[number, number]>([
    [-1, 30],
    [31, 30],
    [1.5, 30],
    [1, 0],
    [1, 2.5],
  ])('rejects %s days of %s with INVALID_DAY_COUNT', (days, period_days) => {
    expect(() => prorateByDays({ amount: bdt('1'), days, period_days })).toThrow(InvalidDayCountError);
  });
});

describe('prorateForPackageChange', () => {
  it('credits the unused days of the old package and charges the remaining days of the new one', () => {
    // Changing from 500 to 800 after 10 of 30 days: credit 500 × 20/30, charge 800 × 20/30.
    const change = prorateForPackageChange({
      old_price: bdt('500'),
      new_price: bdt('800'),
      used_days: 10,
      period_days: 30,
    });
    expect(change.remaining_days).toBe(20);
    expect(change.credit.toString()).toBe('333.33');
    expect(change.charge.toString()).toBe('533.33');
    expect(change.net.toString()).toBe('200.00');
  });

  it('gives a negative net on a downgrade', () => {
    const change = prorateForPackageChange({
      old_price: bdt('800'),
      new_price: bdt('500'),
      used_days: 15,
      period_days: 31,
    });
    expect(change.credit.toString()).toBe('412.90');
    expect(change.charge.toString()).toBe('258.06');
    expect(change.net.toString()).toBe('-154.84');
  });

  it('rejects negative prices, mixed currencies and impossible day counts', () => {
    const base = { old_price: bdt('500'), new_price: bdt('800'), used_days: 10, period_days: 30 };
    expect(() => prorateForPackageChange({ ...base, old_price: bdt('-1') })).toThrow(InvalidMoneyError);
    const usd = Money.parse('1', 'USD');
    expect(() => prorateForPackageChange({ ...base, new_price: usd })).toThrow(CurrencyMismatchError);
    expect(() => prorateForPackageChange({ ...base, used_days: 31 })).toThrow(InvalidDayCountError);
  });

  it('lines are never negative, never exceed the prices, and net is exactly charge − credit', () => {
    const priceArb = fc.bigInt({ min: 0n, max: 10n ** 12n }).map((minor) => Money.fromMinor(minor, 'BDT'));
    fc.assert(
      fc.property(
        priceArb,
        priceArb,
        fc.integer({ min: 1, max: 366 }).chain((period_days) =>
          fc.tuple(fc.integer({ min: 0, max: period_days }), fc.constant(period_days)),
        ),
        (old_price, new_price, [used_days, period_days]) => {
          const change = prorateForPackageChange({ old_price, new_price, used_days, period_days });
          for (const [line, price] of [[change.credit, old_price], [change.charge, new_price]] as const) {
            expect(line.isNegative()).toBe(false);
            expect(line.compare(price)).toBeLessThanOrEqual(0);
            // Within half a minor unit of the exact share: |line × period − price × remaining| ≤ period / 2.
            const difference = line.toMinor() * BigInt(period_days) - price.toMinor() * BigInt(change.remaining_days);
            expect(2n * (difference < 0n ? -difference : difference) <= BigInt(period_days)).toBe(true);
          }
          expect(change.net.equals(change.charge.minus(change.credit))).toBe(true);
          if (used_days === 0) expect(change.credit.equals(old_price)).toBe(true);
          if (used_days === period_days) expect(change.charge.isZero()).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });
});
