import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { Decimal } from 'decimal.js';
import { Money } from '../money/money.js';
import {
  COMMISSION_MAX_CHAIN_LEVELS,
  checkCommissionChain,
  clawbackSplit,
  splitCommission,
} from './commission-split.js';
import type { ChainLevel, CommissionSplit, CommissionSplitInput } from './commission-split.js';
import { InvalidCommissionTermsError } from './commission-errors.js';

const bdt = (text: string): Money => Money.parse(text, 'BDT');
const isp: ChainLevel = { operator_id: 'isp', terms: null };
const share = (operator_id: string, percent: string): ChainLevel => ({
  operator_id,
  terms: { kind: 'share', percent },
});
const wholesale = (operator_id: string, price: string): ChainLevel => ({
  operator_id,
  terms: { kind: 'wholesale', price: bdt(price) },
});

function splitOf(input: CommissionSplitInput): CommissionSplit {
  const result = splitCommission(input);
  if (!result.ok) throw new InvalidCommissionTermsError(result.rejection);
  return result.split;
}
const kept = (split: CommissionSplit): Record<string, string> =>
  Object.fromEntries(split.kept.map(({ operator_id, amount }) => [operator_id, amount.toString()]));
const passed = (split: CommissionSplit): string[] =>
  split.passed_down.map((link) => `${link.from_operator_id}→${link.to_operator_id} ${link.amount.toString()}`);

describe('splitCommission with shares', () => {
  it('splits 100.00 paid to a sub-reseller with a 60% reseller and a 50% sub-reseller as 40/30/30', () => {
    const split = splitOf({ total: bdt('100'), chain: [isp, share('reseller', '60'), share('sub', '50')] });
    expect(kept(split)).toEqual({ isp: '40.00', reseller: '30.00', sub: '30.00' });
    expect(passed(split)).toEqual(['isp→reseller 60.00', 'reseller→sub 30.00']);
    expect(split.total.toString()).toBe('100.00');
  });

  it('gives an ISP with no resellers everything', () => {
    const split = splitOf({ total: bdt('123.45'), chain: [isp] });
    expect(kept(split)).toEqual({ isp: '123.45' });
    expect(split.passed_down).toEqual([]);
  });

  it('rounds to the minor unit with the largest remainder, ties to the level nearer the ISP', () => {
    // 0.01 × 50% = 0.005 each: the tie goes to the ISP.
    expect(kept(splitOf({ total: bdt('0.01'), chain: [isp, share('reseller', '50')] }))).toEqual({
      isp: '0.01',
      reseller: '0.00',
    });
    // 100.01 at 33.33% then 50%: exact 66.676667 / 16.6666665 / 16.6666665. The floors leave two minor units:
    // one to the ISP (largest remainder), one to the reseller (tied with the sub-reseller, nearer the ISP).
    const split = splitOf({ total: bdt('100.01'), chain: [isp, share('reseller', '33.33'), share('sub', '50')] });
    expect(kept(split)).toEqual({ isp: '66.68', reseller: '16.67', sub: '16.66' });
    expect(passed(split)).toEqual(['isp→reseller 33.33', 'reseller→sub 16.66']);
  });

  it('handles 0% and 100% shares', () => {
    expect(kept(splitOf({ total: bdt('10'), chain: [isp, share('reseller', '0'), share('sub', '100')] }))).toEqual({
      isp: '10.00',
      reseller: '0.00',
      sub: '0.00',
    });
    expect(kept(splitOf({ total: bdt('10'), chain: [isp, share('reseller', '100')] }))).toEqual({
      isp: '0.00',
      reseller: '10.00',
    });
  });

  it('splits a zero payment into zeros', () => {
    const split = splitOf({ total: bdt('0'), chain: [isp, share('reseller', '60')] });
    expect(kept(split)).toEqual({ isp: '0.00', reseller: '0.00' });
  });
});

describe('splitCommission with wholesale prices', () => {
  const chain = [isp, wholesale('reseller', '400'), wholesale('sub', '450')];
  const full_sale = { total: bdt('500'), list_price: bdt('500') };

  it('splits a full 500.00 sale as 400/50/50', () => {
    const split = splitOf({ total: bdt('500'), list_price: bdt('500'), chain });
    expect(kept(split)).toEqual({ isp: '400.00', reseller: '50.00', sub: '50.00' });
    expect(passed(split)).toEqual(['isp→reseller 100.00', 'reseller→sub 50.00']);
  });

  it('scales a partial payment of 100.00 to 80/10/10', () => {
    const split = splitOf({ total: bdt('100'), list_price: bdt('500'), chain });
    expect(kept(split)).toEqual({ isp: '80.00', reseller: '10.00', sub: '10.00' });
    expect(passed(split)).toEqual(['isp→reseller 20.00', 'reseller→sub 10.00']);
  });

  it('mixes a share level under a wholesale level', () => {
    const split = splitOf({ ...full_sale, chain: [isp, wholesale('reseller', '400'), share('sub', '50')] });
    expect(kept(split)).toEqual({ isp: '400.00', reseller: '50.00', sub: '50.00' });
  });

  it('mixes a wholesale level under a share level', () => {
    // The reseller receives 20% of 500 = 100, i.e. it pays 400; the sub-reseller buys from it at 450.
    const split = splitOf({ ...full_sale, chain: [isp, share('reseller', '20'), wholesale('sub', '450')] });
    expect(kept(split)).toEqual({ isp: '400.00', reseller: '50.00', sub: '50.00' });
  });

  it('lets a wholesale price equal the parent’s and the list price (the operator then earns nothing)', () => {
    const split = splitOf({
      ...full_sale,
      chain: [isp, wholesale('reseller', '400'), wholesale('sub', '400'), wholesale('leaf', '500')],
    });
    expect(kept(split)).toEqual({ isp: '400.00', reseller: '0.00', sub: '100.00', leaf: '0.00' });
  });
});

describe('splitCommission rejections', () => {
  const list_price = bdt('500');
  const too_many_resellers = Array.from({ length: COMMISSION_MAX_CHAIN_LEVELS }, (_, i) => share(`r${i}`, '50'));
  const usd_wholesale: ChainLevel = {
    operator_id: 'reseller',
    terms: { kind: 'wholesale', price: Money.parse('400', 'USD') },
  };
  it.each<[string, CommissionSplitInput]>([
    ['EMPTY_CHAIN', { total: bdt('1'), chain: [] }],
    ['CHAIN_TOO_LONG', { total: bdt('1'), chain: [isp, ...too_many_resellers] }],
    ['INVALID_LIST_PRICE', { total: bdt('1'), list_price: bdt('-1'), chain: [isp] }],
    ['INVALID_OPERATOR_ID', { total: bdt('1'), chain: [isp, share('', '50')] }],
    ['DUPLICATE_OPERATOR', { total: bdt('1'), chain: [isp, share('isp', '50')] }],
    ['ROOT_HAS_TERMS', { total: bdt('1'), chain: [share('isp', '50')] }],
    ['MISSING_TERMS', { total: bdt('1'), chain: [isp, { operator_id: 'reseller', terms: null }] }],
    ['INVALID_PERCENT', { total: bdt('1'), chain: [isp, share('reseller', '100.01')] }],
    ['INVALID_PERCENT', { total: bdt('1'), chain: [isp, share('reseller', '-5')] }],
    ['INVALID_PERCENT', { total: bdt('1'), chain: [isp, share('reseller', '1e1')] }],
    ['INVALID_PERCENT', { total: bdt('1'), chain: [isp, share('reseller', '12.1234567')] }],
    ['MISSING_LIST_PRICE', { total: bdt('1'), chain: [isp, wholesale('reseller', '400')] }],
    ['CURRENCY_MISMATCH', { total: bdt('1'), list_price, chain: [isp, usd_wholesale] }],
    ['WHOLESALE_ABOVE_LIST_PRICE', { total: bdt('1'), list_price, chain: [isp, wholesale('reseller', '500.01')] }],
    [
      'WHOLESALE_BELOW_PARENT',
      { total: bdt('1'), list_price, chain: [isp, wholesale('reseller', '400'), wholesale('sub', '399.99')] },
    ],
    ['WHOLESALE_BELOW_PARENT', { total: bdt('1'), list_price, chain: [isp, wholesale('reseller', '-1')] }],
    [
      'WHOLESALE_BELOW_PARENT',
      { total: bdt('1'), list_price, chain: [isp, share('reseller', '20'), wholesale('sub', '399.99')] },
    ],
    ['CURRENCY_MISMATCH', { total: Money.parse('1', 'USD'), list_price, chain: [isp] }],
    ['NEGATIVE_TOTAL', { total: bdt('-1'), chain: [isp, share('reseller', '60')] }],
    ['TOTAL_EXCEEDS_LIST_PRICE', { total: bdt('500.01'), list_price, chain: [isp, wholesale('reseller', '400')] }],
  ])('returns %s as a value', (reason, input) => {
    const result = splitCommission(input);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.rejection.code).toBe('INVALID_COMMISSION_TERMS');
    expect(result.rejection.reason).toBe(reason);
    expect(result.rejection.message.length).toBeGreaterThan(20);
  });

  it('reports the first problem in a fixed order: terms before the total, upper levels before lower', () => {
    const result = splitCommission({
      total: bdt('-1'),
      list_price,
      chain: [isp, wholesale('reseller', '600'), wholesale('sub', '1')],
    });
    expect(result.ok ? null : result.rejection).toMatchObject({ reason: 'WHOLESALE_ABOVE_LIST_PRICE', level: 1 });
  });

  it('names what the parent pays when a wholesale price is too low', () => {
    const chain = [isp, wholesale('reseller', '400'), wholesale('sub', '350')];
    const result = splitCommission({ total: bdt('1'), list_price, chain });
    expect(result.ok ? '' : result.rejection.message).toContain('(400.00)');
  });

  it('can be thrown as InvalidCommissionTermsError', () => {
    const result = splitCommission({ total: bdt('1'), chain: [] });
    if (result.ok) throw new Error('expected a rejection');
    const error = new InvalidCommissionTermsError(result.rejection);
    expect(error.code).toBe('INVALID_COMMISSION_TERMS');
    expect(error.rejection.reason).toBe('EMPTY_CHAIN');
    expect(error.message).toBe(result.rejection.message);
  });

  it('checks a chain on its own when terms are configured', () => {
    expect(checkCommissionChain([isp, share('reseller', '60'), share('sub', '50')])).toBeNull();
    expect(checkCommissionChain([isp, wholesale('reseller', '400'), wholesale('sub', '450')], list_price)).toBeNull();
    expect(checkCommissionChain([isp, wholesale('reseller', '400')])?.reason).toBe('MISSING_LIST_PRICE');
    expect(checkCommissionChain([isp, wholesale('reseller', '450'), wholesale('sub', '400')], list_price)?.reason).toBe(
      'WHOLESALE_BELOW_PARENT',
    );
  });
});

describe('clawbackSplit', () => {
  it('negates every amount of the split of the refunded amount', () => {
    const chain = [isp, share('reseller', '60'), share('sub', '50')];
    const clawback = clawbackSplit(splitOf({ total: bdt('100'), chain }));
    expect(clawback.total.toString()).toBe('-100.00');
    expect(kept(clawback)).toEqual({ isp: '-40.00', reseller: '-30.00', sub: '-30.00' });
    expect(passed(clawback)).toEqual(['isp→reseller -60.00', 'reseller→sub -30.00']);
  });

  it('reverses a full refund exactly', () => {
    const chain = [isp, share('reseller', '33.33'), share('sub', '47.5')];
    const payment = splitOf({ total: bdt('99.99'), chain });
    const refund = clawbackSplit(splitOf({ total: bdt('99.99'), chain }));
    payment.kept.forEach((level, index) => expect(level.amount.plus(refund.kept[index]!.amount).isZero()).toBe(true));
    payment.passed_down.forEach((link, index) =>
      expect(link.amount.plus(refund.passed_down[index]!.amount).isZero()).toBe(true),
    );
  });
});

describe('splitCommission properties', () => {
  const percentArb = fc.oneof(
    fc.integer({ min: 0, max: 10_000 }).map((hundredths) => {
      const text = (hundredths / 100).toFixed(2).replace(/\.?0+$/, '');
      return text === '' ? '0' : text;
    }),
    fc.constantFrom('0', '100', '50', '0.01', '99.99'),
  );
  const shareChainArb = fc
    .array(percentArb, { minLength: 0, maxLength: 4 })
    .map((percents) => [isp, ...percents.map((percent, index) => share(`level-${index + 1}`, percent))]);
  const totalArb = fc
    .oneof(fc.bigInt({ min: 0n, max: 1_000n }), fc.bigInt({ min: 0n, max: 10n ** 15n }))
    .map((minor) => Money.fromMinor(minor, 'BDT'));

  /** A chain of 1–5 levels mixing shares and wholesale prices that are never below the parent's cost. */
  const mixedArb = fc.bigInt({ min: 0n, max: 10n ** 9n }).chain((list_minor) =>
    fc
      .array(fc.tuple(fc.boolean(), percentArb, fc.bigInt({ min: 0n, max: 10n ** 9n })), { minLength: 0, maxLength: 4 })
      .chain((specs) => {
        // Track each level's gross in minor units (as a Decimal) to pick only valid wholesale prices.
        const Exact = Decimal.clone({ precision: 100 });
        let parent_gross = new Exact(list_minor.toString());
        const chain: ChainLevel[] = [isp];
        specs.forEach(([use_wholesale, percent, random_minor], index) => {
          const operator_id = `level-${index + 1}`;
          if (use_wholesale) {
            // price ∈ [list − parent_gross, list], i.e. gross = list − price ∈ [0, parent_gross].
            const max_gross = BigInt(parent_gross.floor().toFixed(0));
            const gross_minor = max_gross === 0n ? 0n : random_minor % (max_gross + 1n);
            const price = Money.fromMinor(list_minor - gross_minor, 'BDT');
            chain.push({ operator_id, terms: { kind: 'wholesale', price } });
            parent_gross = new Exact(gross_minor.toString());
          } else {
            chain.push(share(operator_id, percent));
            parent_gross = parent_gross.times(percent).dividedBy(100);
          }
        });
        return fc.tuple(
          fc.constant(chain),
          fc.constant(Money.fromMinor(list_minor, 'BDT')),
          fc.bigInt({ min: 0n, max: list_minor }).map((minor) => Money.fromMinor(minor, 'BDT')),
        );
      }),
  );

  function expectInvariants(split: CommissionSplit, total: Money, chain: readonly ChainLevel[]): void {
    expect(split.kept.map((level) => level.operator_id)).toEqual(chain.map((level) => level.operator_id));
    expect(split.passed_down).toHaveLength(chain.length - 1);
    expect(Money.sum(split.kept.map((level) => level.amount), 'BDT').equals(total)).toBe(true);
    for (const level of split.kept) expect(level.amount.isNegative()).toBe(false);
    split.passed_down.forEach((link, index) => {
      expect(link.from_operator_id).toBe(chain[index]!.operator_id);
      expect(link.to_operator_id).toBe(chain[index + 1]!.operator_id);
      const subtree = Money.sum(split.kept.slice(index + 1).map((level) => level.amount), 'BDT');
      expect(link.amount.equals(subtree)).toBe(true);
    });
  }

  it('share chains: Σ kept = total, none negative, links = subtree, each within a minor unit of exact', () => {
    const Exact = Decimal.clone({ precision: 100 });
    fc.assert(
      fc.property(totalArb, shareChainArb, (total, chain) => {
        const split = splitOf({ total, chain });
        expectInvariants(split, total, chain);
        // Independent check of each level's exact share with high-precision decimals.
        const gross = [new Exact(total.toString())];
        for (const level of chain.slice(1)) {
          const percent = level.terms?.kind === 'share' ? level.terms.percent : '0';
          gross.push(gross[gross.length - 1]!.times(percent).dividedBy(100));
        }
        split.kept.forEach((level, index) => {
          const exact = gross[index]!.minus(gross[index + 1] ?? 0);
          expect(new Exact(level.amount.toString()).minus(exact).abs().lt('0.01')).toBe(true);
        });
      }),
      { numRuns: 1000 },
    );
  });

  it('mixed chains with partial payments: the same invariants, and scaling stays within a minor unit of exact', () => {
    fc.assert(
      fc.property(mixedArb, ([chain, list_price, total]) => {
        expect(checkCommissionChain(chain, list_price)).toBeNull();
        const split = splitOf({ total, list_price, chain });
        expectInvariants(split, total, chain);
        if (list_price.isZero()) return;
        const full = splitOf({ total: list_price, list_price, chain });
        split.kept.forEach((level, index) => {
          // |kept × list − full_kept × total| < list, i.e. within one minor unit of full_kept × total / list,
          // give or take the full split's own rounding (at most one minor unit, scaled down by total / list).
          const scaled = full.kept[index]!.amount.toMinor() * total.toMinor();
          const difference = level.amount.toMinor() * list_price.toMinor() - scaled;
          const bound = 2n * list_price.toMinor();
          expect(difference < bound && -difference < bound).toBe(true);
        });
      }),
      { numRuns: 1000 },
    );
  });

  it('clawback of a split is its exact negation and keeps the invariants, negated', () => {
    fc.assert(
      fc.property(totalArb, shareChainArb, (total, chain) => {
        const split = splitOf({ total, chain });
        const clawback = clawbackSplit(split);
        expectInvariants(clawbackSplit(clawback), total, chain);
        clawback.kept.forEach((level, index) => {
          expect(level.amount.plus(split.kept[index]!.amount).isZero()).toBe(true);
        });
      }),
      { numRuns: 200 },
    );
  });
});
