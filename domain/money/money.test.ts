import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { Decimal } from 'decimal.js';
import { KNOWN_CURRENCIES, minorUnitsOf } from './currency.js';
import { MONEY_MAX_INTEGER_DIGITS, Money } from './money.js';
import { CurrencyMismatchError, InvalidMoneyError, UnknownCurrencyError } from './money-errors.js';
import { ROUNDING_MODES } from './rounding.js';
import type { RoundingMode } from './rounding.js';

const bdt = (text: string): Money => Money.parse(text, 'BDT');

/** Any amount the money type accepts in `currency`, biased towards small values and the extremes. */
function minorAmountIn(currency: string): fc.Arbitrary<bigint> {
  const limit = 10n ** BigInt(MONEY_MAX_INTEGER_DIGITS + minorUnitsOf(currency)) - 1n;
  return fc.oneof(
    fc.bigInt({ min: -10_000n, max: 10_000n }),
    fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }),
    fc.bigInt({ min: -limit, max: limit }),
    fc.constantFrom(limit, -limit, 2n ** 53n + 1n, -(2n ** 53n) - 1n),
  );
}
const currencyArb = fc.constantFrom(...KNOWN_CURRENCIES);
const currencyAndMinorArb = currencyArb.chain((currency) => fc.tuple(fc.constant(currency), minorAmountIn(currency)));
const moneyArb = currencyAndMinorArb.map(([currency, minor]) => Money.fromMinor(minor, currency));
/** Several amounts that share one currency, so they can be combined. */
const sameCurrencyAmounts = (count: number): fc.Arbitrary<Money[]> =>
  currencyArb.chain((currency) =>
    fc.array(
      fc.bigInt({ min: -(10n ** 25n), max: 10n ** 25n }).map((minor) => Money.fromMinor(minor, currency)),
      { minLength: count, maxLength: count },
    ),
  );

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

describe('Money.parse', () => {
  it.each([
    ['100', 'BDT', '100.00'],
    ['100.5', 'BDT', '100.50'],
    ['-3.25', 'BDT', '-3.25'],
    ['0', 'USD', '0.00'],
    ['-0.00', 'USD', '0.00'],
    ['007.10', 'EUR', '7.10'],
    ['100', 'JPY', '100'],
    ['1.5', 'KWD', '1.500'],
    ['123456789012345678901234567890.99', 'BDT', '123456789012345678901234567890.99'],
  ])('parses %j in %s as %s', (text, currency, canonical) => {
    expect(Money.parse(text, currency).toString()).toBe(canonical);
  });

  it.each([
    ['1e5', 'BDT'],
    ['1E5', 'BDT'],
    [' 1', 'BDT'],
    ['1 ', 'BDT'],
    ['1,000', 'BDT'],
    ['1_000', 'BDT'],
    ['+1', 'BDT'],
    ['.5', 'BDT'],
    ['1.', 'BDT'],
    ['', 'BDT'],
    ['-', 'BDT'],
    ['--1', 'BDT'],
    ['1.2.3', 'BDT'],
    ['abc', 'BDT'],
    ['NaN', 'BDT'],
    ['Infinity', 'BDT'],
    ['0x10', 'BDT'],
    ['١٠٠', 'BDT'],
    ['1.005', 'BDT'],
    ['100.50', 'JPY'],
    ['100.0', 'JPY'],
    ['1.0000', 'KWD'],
    ['1'.repeat(MONEY_MAX_INTEGER_DIGITS + 1), 'BDT'],
    ['1'.repeat(100), 'BDT'],
  ])('rejects %j in %s with INVALID_AMOUNT', (text, currency) => {
    expect(() => Money.parse(text, currency)).toThrow(InvalidMoneyError);
    expect(codeOf(() => Money.parse(text, currency))).toBe('INVALID_AMOUNT');
  });

  it('says what was wrong and how to fix it', () => {
    expect(() => bdt('1.005')).toThrow(/3 decimal places but BDT has 2/);
    expect(() => bdt('1,000')).toThrow(/no spaces, "\+", thousands separators or exponents/);
  });

  it('rejects a number smuggled in through untyped JSON', () => {
    expect(() => Money.parse(100 as unknown as string, 'BDT')).toThrow(InvalidMoneyError);
  });

  it('rejects an unknown currency with UNKNOWN_CURRENCY', () => {
    expect(() => Money.parse('1', 'XYZ')).toThrow(UnknownCurrencyError);
  });
});

describe('Money basics', () => {
  it('converts to and from minor units', () => {
    expect(Money.fromMinor(12345n, 'BDT').toString()).toBe('123.45');
    expect(Money.fromMinor(-5n, 'BDT').toString()).toBe('-0.05');
    expect(Money.fromMinor(5n, 'KWD').toString()).toBe('0.005');
    expect(Money.fromMinor(-7n, 'JPY').toString()).toBe('-7');
    expect(bdt('-0.05').toMinor()).toBe(-5n);
    expect(Money.parse('100', 'JPY').toMinor()).toBe(100n);
    expect(Money.zero('KWD').toString()).toBe('0.000');
  });

  it('is frozen and serialises to its canonical string only', () => {
    const amount = bdt('100');
    expect(Object.isFrozen(amount)).toBe(true);
    expect(JSON.stringify({ amount })).toBe('{"amount":"100.00"}');
  });

  it('never shows a negative zero', () => {
    expect(bdt('0').negated().toString()).toBe('0.00');
    expect(bdt('1').minus(bdt('1')).toString()).toBe('0.00');
    expect(bdt('0.01').times('-0.1').toString()).toBe('0.00');
  });

  it('adds, subtracts, negates and compares', () => {
    expect(bdt('100.10').plus(bdt('0.95')).toString()).toBe('101.05');
    expect(bdt('1').minus(bdt('2.50')).toString()).toBe('-1.50');
    expect(bdt('2').negated().toString()).toBe('-2.00');
    expect(bdt('1').compare(bdt('2'))).toBe(-1);
    expect(bdt('2').compare(bdt('2.00'))).toBe(0);
    expect(bdt('3').compare(bdt('2'))).toBe(1);
    expect(bdt('3').equals(bdt('3.00'))).toBe(true);
    expect(bdt('3').equals(Money.parse('3', 'USD'))).toBe(false);
    expect([bdt('0').isZero(), bdt('0').isNegative(), bdt('0').isPositive()]).toEqual([true, false, false]);
    expect([bdt('-1').isNegative(), bdt('1').isPositive()]).toEqual([true, true]);
  });

  it('refuses to mix currencies with CURRENCY_MISMATCH', () => {
    const usd = Money.parse('1', 'USD');
    for (const action of [() => bdt('1').plus(usd), () => bdt('1').minus(usd), () => bdt('1').compare(usd)]) {
      expect(action).toThrow(CurrencyMismatchError);
      expect(codeOf(action)).toBe('CURRENCY_MISMATCH');
    }
    expect(() => Money.sum([bdt('1'), usd], 'BDT')).toThrow(CurrencyMismatchError);
    expect(() => Money.min(bdt('1'), usd)).toThrow(CurrencyMismatchError);
  });

  it('sums, including an empty list, and picks min and max', () => {
    expect(Money.sum([], 'JPY').toString()).toBe('0');
    expect(Money.sum([bdt('1.10'), bdt('2.20'), bdt('-0.30')], 'BDT').toString()).toBe('3.00');
    expect(Money.min(bdt('3'), bdt('-1'), bdt('2')).toString()).toBe('-1.00');
    expect(Money.max(bdt('3'), bdt('-1'), bdt('2')).toString()).toBe('3.00');
  });

  it('refuses results beyond the integer digit limit', () => {
    const huge = bdt('9'.repeat(MONEY_MAX_INTEGER_DIGITS));
    expect(() => huge.plus(bdt('1'))).toThrow(InvalidMoneyError);
    expect(() => huge.times('10')).toThrow(InvalidMoneyError);
    expect(() => Money.fromMinor(10n ** BigInt(MONEY_MAX_INTEGER_DIGITS + 2), 'BDT')).toThrow(InvalidMoneyError);
  });

  it('leaves the global decimal.js configuration alone', () => {
    expect(Decimal.precision).toBe(20);
    expect(Decimal.rounding).toBe(Decimal.ROUND_HALF_UP);
  });
});

describe('Money.times and timesFraction', () => {
  it.each<[string, string, RoundingMode, string]>([
    ['10.00', '0.125', 'half-even', '1.25'],
    ['0.05', '0.5', 'half-even', '0.02'],
    ['0.15', '0.5', 'half-even', '0.08'],
    ['0.05', '0.5', 'half-up', '0.03'],
    ['0.05', '0.5', 'half-down', '0.02'],
    ['-0.05', '0.5', 'half-even', '-0.02'],
    ['-0.05', '0.5', 'half-up', '-0.03'],
    ['-0.05', '0.5', 'floor', '-0.03'],
    ['-0.05', '0.5', 'ceil', '-0.02'],
    ['100.00', '0.333', 'up', '33.30'],
    ['1.00', '0.001', 'up', '0.01'],
    ['1.00', '0.009', 'down', '0.00'],
    ['100.00', '-1', 'half-even', '-100.00'],
  ])('%s × %s rounded %s is %s', (amount, factor, rounding, expected) => {
    expect(bdt(amount).times(factor, rounding).toString()).toBe(expected);
  });

  it('rounds half-even by default and accepts a Decimal factor', () => {
    expect(bdt('0.05').times('0.5').toString()).toBe('0.02');
    expect(bdt('100').times(new Decimal(1).dividedBy(3)).toString()).toBe('33.33');
    expect(Money.parse('1000', 'JPY').times(new Decimal('1e-3')).toString()).toBe('1');
  });

  it('rejects factors that are not plain finite decimals', () => {
    for (const factor of ['1e2', ' 1', '1/3', '', 'NaN']) {
      expect(() => bdt('1').times(factor)).toThrow(InvalidMoneyError);
    }
    expect(() => bdt('1').times(new Decimal(Infinity))).toThrow(InvalidMoneyError);
    expect(() => bdt('1').times(new Decimal(NaN))).toThrow(InvalidMoneyError);
  });

  it('multiplies by exact fractions', () => {
    expect(bdt('100').timesFraction(1n, 3n).toString()).toBe('33.33');
    expect(bdt('100').timesFraction(2n, 3n).toString()).toBe('66.67');
    expect(bdt('0.01').timesFraction(1n, 2n).toString()).toBe('0.00');
    expect(bdt('0.03').timesFraction(1n, 2n).toString()).toBe('0.02');
    expect(bdt('0.03').timesFraction(-1n, -2n).toString()).toBe('0.02');
    expect(bdt('0.03').timesFraction(1n, -2n).toString()).toBe('-0.02');
    expect(() => bdt('1').timesFraction(1n, 0n)).toThrow(InvalidMoneyError);
  });
});

describe('Money properties', () => {
  it('parse(toString(x)) round-trips for every amount and currency', () => {
    fc.assert(
      fc.property(moneyArb, (amount) => {
        const again = Money.parse(amount.toString(), amount.currency);
        expect(again.equals(amount)).toBe(true);
        expect(again.toString()).toBe(amount.toString());
        expect(again.toMinor()).toBe(amount.toMinor());
      }),
      { numRuns: 1000 },
    );
  });

  it('fromMinor and toMinor are inverse, with exactly the currency decimals in the string', () => {
    fc.assert(
      fc.property(currencyAndMinorArb, ([currency, minor]) => {
        const amount = Money.fromMinor(minor, currency);
        expect(amount.toMinor()).toBe(minor);
        const decimals = amount.toString().split('.')[1]?.length ?? 0;
        expect(decimals).toBe(minorUnitsOf(currency));
      }),
      { numRuns: 1000 },
    );
  });

  it('survives JSON.stringify and JSON.parse without losing precision, above 2^53 minor units too', () => {
    fc.assert(
      fc.property(moneyArb, (amount) => {
        const decoded = JSON.parse(JSON.stringify({ amount, currency: amount.currency })) as {
          amount: string;
          currency: string;
        };
        expect(typeof decoded.amount).toBe('string');
        expect(Money.parse(decoded.amount, decoded.currency).toMinor()).toBe(amount.toMinor());
      }),
      { numRuns: 1000 },
    );
    const above_2_pow_53 = Money.fromMinor(2n ** 53n + 1n, 'BDT');
    expect(JSON.stringify(above_2_pow_53)).toBe('"90071992547409.93"');
  });

  it('plus is associative and commutative, minus undoes plus, and a + (−a) = 0', () => {
    fc.assert(
      fc.property(sameCurrencyAmounts(3), ([a, b, c]) => {
        expect(a!.plus(b!).plus(c!).equals(a!.plus(b!.plus(c!)))).toBe(true);
        expect(a!.plus(b!).equals(b!.plus(a!))).toBe(true);
        expect(a!.plus(b!).minus(b!).equals(a!)).toBe(true);
        expect(a!.plus(a!.negated()).isZero()).toBe(true);
        expect(a!.plus(b!).toMinor()).toBe(a!.toMinor() + b!.toMinor());
      }),
      { numRuns: 1000 },
    );
  });

  it('compare agrees with minor units, and min/max pick members', () => {
    fc.assert(
      fc.property(sameCurrencyAmounts(2), ([a, b]) => {
        const expected = a!.toMinor() < b!.toMinor() ? -1 : a!.toMinor() > b!.toMinor() ? 1 : 0;
        expect(a!.compare(b!)).toBe(expected);
        expect(Money.min(a!, b!).toMinor()).toBe(expected <= 0 ? a!.toMinor() : b!.toMinor());
        expect(Money.max(a!, b!).toMinor()).toBe(expected >= 0 ? a!.toMinor() : b!.toMinor());
      }),
      { numRuns: 500 },
    );
  });

  it('times matches decimal.js at high precision for every rounding mode', () => {
    const Reference = Decimal.clone({ precision: 200 });
    const reference_mode: Readonly<Record<RoundingMode, Decimal.Rounding>> = {
      'half-even': Decimal.ROUND_HALF_EVEN,
      'half-up': Decimal.ROUND_HALF_UP,
      'half-down': Decimal.ROUND_HALF_DOWN,
      up: Decimal.ROUND_UP,
      down: Decimal.ROUND_DOWN,
      ceil: Decimal.ROUND_CEIL,
      floor: Decimal.ROUND_FLOOR,
    };
    const factorArb = fc
      .tuple(fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }), fc.integer({ min: 0, max: 10 }))
      .map(([digits, scale]) => new Reference(digits.toString()).dividedBy(new Reference(10).pow(scale)).toFixed());
    fc.assert(
      fc.property(
        currencyArb.chain((currency) =>
          fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n }).map((minor) => Money.fromMinor(minor, currency)),
        ),
        factorArb,
        fc.constantFrom(...ROUNDING_MODES),
        (amount, factor, rounding) => {
          const expected = new Reference(amount.toString())
            .times(factor)
            .toDecimalPlaces(minorUnitsOf(amount.currency), reference_mode[rounding]);
          expect(amount.times(factor, rounding).toMinor()).toBe(
            BigInt(expected.times(new Reference(10).pow(minorUnitsOf(amount.currency))).toFixed(0)),
          );
        },
      ),
      { numRuns: 1000 },
    );
  });
});
