import { describe, expect, it } from 'vitest';
import type { CommissionSplit } from '../commission/commission-split.js';
import { Money } from '../money/money.js';
import type { OperatorEvent, OperatorState } from '../operators/operator.js';
import { PACKAGE_ID, TENANT, at, isp, operatorCreated, operatorState, packageAssigned, reseller, shareSet, subReseller, wholesaleTermsSet } from '../shared/spec-fixtures.js';
import { clawbackOf, isRejection, settleAlongChain, splitForChain } from './chain-settlement.js';

const bdt = (text: string): Money => Money.parse(text, 'BDT');
const NOON_16_NOV = at('2026-11-16T06:00:00Z');
const reference = { customer_id: 'cus-1', payment_id: 'pay-1', purpose: 'recharge' as const };

function split(total: string, chain: readonly OperatorState[], now = NOON_16_NOV, list_price = '500.00'): CommissionSplit {
  const result = splitForChain(bdt(total), bdt(list_price), chain, PACKAGE_ID, now);
  if (isRejection(result)) throw new Error(`${result.code}: ${result.message}`);
  return result;
}
const kept = (s: CommissionSplit) => s.kept.map((k) => `${k.operator_id} ${k.amount.toString()}`);

describe('splitting a payment along the chain', () => {
  it('splits 100.00 40/30/30 for a 60 % reseller and a 50 % sub-reseller', () => {
    expect(kept(split('100', [isp(), reseller(), subReseller()]))).toEqual(['isp-1 40.00', 'res-1 30.00', 'sub-1 30.00']);
  });

  it('gives the ISP everything of its own customers’ payments', () => {
    expect(kept(split('123.45', [isp()]))).toEqual(['isp-1 123.45']);
  });

  it('splits a payment worth several wholesale sales as that many sales plus the rest', () => {
    // Two sales of 500.00 (350.00 + 150.00 each) and 100.00 as a fifth of a sale (70.00 + 30.00).
    const wholesale = operatorState(operatorCreated('res-1', [TENANT]), wholesaleTermsSet('res-1'), packageAssigned('res-1', PACKAGE_ID, '350.00'));
    const s = split('1100', [isp(), wholesale]);
    expect(kept(s)).toEqual(['isp-1 770.00', 'res-1 330.00']);
    expect(s.passed_down.map((link) => link.amount.toString())).toEqual(['330.00']);
  });

  it('refuses wholesale commission on a free package, and a level without terms', () => {
    const wholesale = operatorState(operatorCreated('res-1', [TENANT]), wholesaleTermsSet('res-1'), packageAssigned('res-1', PACKAGE_ID, '0.00'));
    const free = splitForChain(bdt('10'), bdt('0'), [isp(), wholesale], PACKAGE_ID, NOON_16_NOV);
    expect(isRejection(free) && free.code).toBe('INVALID_COMMISSION_TERMS');
    const noTerms = splitForChain(bdt('10'), bdt('500'), [isp(), operatorState(operatorCreated('res-1', [TENANT]))], PACKAGE_ID, NOON_16_NOV);
    expect(isRejection(noTerms) && noTerms.code).toBe('INVALID_COMMISSION_TERMS');
  });

  it('uses the terms in force on the ISP’s local date', () => {
    // Terms from 1 December: 18:30 UTC on 30 November is already 1 December in Dhaka.
    const fromDecember = operatorState(operatorCreated('res-1', [TENANT]), shareSet('res-1', '60', '2026-12-01'));
    expect(isRejection(splitForChain(bdt('100'), bdt('500'), [isp(), fromDecember], PACKAGE_ID, at('2026-11-30T17:59:00Z')))).toBe(true);
    expect(kept(split('100', [isp(), fromDecember], at('2026-11-30T18:30:00Z')))).toEqual(['isp-1 40.00', 'res-1 60.00']);
  });
});

describe('settling a split in the wallets', () => {
  const postpaid = (operator_id: string): OperatorEvent => ({ type: 'operator-billing-mode-set', data: { operator_id, billing_mode: 'postpaid', credit_limit: '1000.00' } });
  const chain = () => [isp(), reseller(postpaid('res-1')), subReseller(postpaid('sub-1'))];
  const movements = (collector: string, direction: 1 | -1 = 1, operators: readonly OperatorState[] = chain()) => {
    const settlement = settleAlongChain(split('100', operators), operators, collector, direction, reference);
    if (isRejection(settlement)) throw new Error(settlement.code);
    return settlement.wallet_movements.map((m) => `${m.operator_id} ${m.direction} ${m.amount}`);
  };

  it('settles the documented example for each place the money can be collected', () => {
    expect(movements(TENANT)).toEqual(['res-1 credit 60.00', 'sub-1 credit 30.00']);
    expect(movements('res-1')).toEqual(['res-1 debit 40.00', 'sub-1 credit 30.00']);
    expect(movements('sub-1')).toEqual(['res-1 debit 40.00', 'sub-1 debit 70.00']);
    // Prepaid wallets with nothing in them cannot take the debits.
    expect(() => movements('sub-1', 1, [isp(), reseller(), subReseller()])).toThrow('INSUFFICIENT_RESELLER_BALANCE');
  });

  it('moves every wallet the other way for a refund, and never refuses it', () => {
    expect(movements(TENANT, -1)).toEqual(['res-1 debit 60.00', 'sub-1 debit 30.00']);
    expect(movements('sub-1', -1)).toEqual(['res-1 credit 40.00', 'sub-1 credit 70.00']);
    expect(movements('res-1', -1)).toEqual(['res-1 credit 40.00', 'sub-1 debit 30.00']);
  });

  it('refuses money collected by an operator outside the chain', () => {
    const settlement = settleAlongChain(split('100', chain()), chain(), 'res-2', 1, reference);
    expect(isRejection(settlement) && settlement.code).toBe('NOT_PERMITTED');
  });

  it('moves no wallet for a level that keeps and passes nothing', () => {
    const zeroShare = operatorState(operatorCreated('res-1', [TENANT]), shareSet('res-1', '0'));
    const settlement = settleAlongChain(split('100', [isp(), zeroShare]), [isp(), zeroShare], TENANT, 1, reference);
    expect(!isRejection(settlement) && settlement.wallet_movements).toEqual([]);
  });
});

describe('clawing back commission', () => {
  const shares = [
    { operator_id: TENANT, amount: '40.00' },
    { operator_id: 'res-1', amount: '30.00' },
    { operator_id: 'sub-1', amount: '30.00' },
  ];

  it('takes back exactly what each level kept when everything is refunded', () => {
    expect(kept(clawbackOf(bdt('100'), shares))).toEqual(['isp-1 40.00', 'res-1 30.00', 'sub-1 30.00']);
  });

  it('takes back a part in proportion, to the minor unit, the links following what is taken below them', () => {
    const part = clawbackOf(bdt('10.01'), shares);
    expect(kept(part)).toEqual(['isp-1 4.01', 'res-1 3.00', 'sub-1 3.00']);
    expect(part.passed_down.map((link) => link.amount.toString())).toEqual(['6.00', '3.00']);
  });

  it('takes nothing from anyone when nobody kept anything', () => {
    expect(kept(clawbackOf(bdt('0'), [{ operator_id: TENANT, amount: '0.00' }]))).toEqual(['isp-1 0.00']);
  });
});
