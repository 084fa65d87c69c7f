import { describe, expect, it } from 'vitest';
import { Money } from '../money/money.js';
import { given } from '../shared/decider-spec.js';
import {
  CURRENCY,
  PACKAGE_ID,
  TENANT,
  contextAt,
  isp,
  ispRegistered,
  operatorCreated,
  operatorState,
  packageAssigned,
  reseller,
  shareSet,
  subReseller,
  walletToppedUp,
  wholesaleTermsSet,
} from '../shared/spec-fixtures.js';
import {
  commissionTermsOn,
  decideAssignPackage,
  decideCreateOperator,
  decideRegisterIsp,
  decideReinstateOperator,
  decideSetBillingMode,
  decideSetCommissionTerms,
  decideSetRadiusPolicy,
  decideSuspendOperator,
  decideTopUpWallet,
  evolveOperator,
  initialOperatorState,
  termsOn,
  walletCanPay,
  wholesalePriceOn,
  type CreateOperator,
  type OperatorEvent,
  type RadiusPolicy,
  type RegisterIsp,
} from './operator.js';

const now = contextAt('2026-11-16T06:00:00Z');
const bdt = (text: string): Money => Money.parse(text, CURRENCY);
const registerIsp = (overrides: Partial<RegisterIsp> = {}): RegisterIsp => ({
  operator_id: 'isp-1',
  name: 'Dhaka Net',
  currency: 'BDT',
  time_zone: 'Asia/Dhaka',
  address: 'Road 1, Dhanmondi',
  ...overrides,
});
const createOperator = (overrides: Partial<CreateOperator> = {}): CreateOperator => ({
  operator_id: 'res-1',
  role: 'reseller',
  name: 'Mirpur Link',
  billing_mode: 'prepaid',
  credit_limit: '0',
  ...overrides,
});
const suspended = (operator_id: string): OperatorEvent => ({ type: 'operator-suspended', data: { operator_id, reason: 'unpaid dues' } });

describe('registering an ISP', () => {
  it('records the ISP with its currency and time zone, the name trimmed', () => {
    given(evolveOperator, initialOperatorState)
      .when((state) => decideRegisterIsp(registerIsp({ name: '  Dhaka Net ' }), state))
      .then([{ type: 'isp-registered', data: { operator_id: 'isp-1', name: 'Dhaka Net', currency: 'BDT', time_zone: 'Asia/Dhaka', address: 'Road 1, Dhanmondi' } }]);
  });

  it('makes the ISP the root of its tree, with an empty wallet in its currency', () => {
    const state = given(evolveOperator, initialOperatorState, [ispRegistered()]).state;
    expect(state).toMatchObject({ exists: true, role: 'admin', parent_id: null, ancestry: [], currency: 'BDT', time_zone: 'Asia/Dhaka', wallet_balance: '0.00', status: 'active' });
  });

  it('refuses an id that is taken before looking at anything else', () => {
    given(evolveOperator, initialOperatorState, [ispRegistered()])
      .when((state) => decideRegisterIsp(registerIsp({ currency: 'TAKA', time_zone: 'GMT+6' }), state))
      .thenRejects('ISP_ALREADY_EXISTS');
  });

  it('refuses a blank name', () => {
    given(evolveOperator, initialOperatorState)
      .when((state) => decideRegisterIsp(registerIsp({ name: '   ' }), state))
      .thenRejects('INVALID_INPUT');
  });

  it('refuses a currency that is not ISO 4217', () => {
    const rejection = given(evolveOperator, initialOperatorState)
      .when((state) => decideRegisterIsp(registerIsp({ currency: 'TAKA' }), state))
      .thenRejects('INVALID_INPUT');
    expect(rejection.message).toContain('ISO 4217');
  });

  it('refuses a zone that is not an IANA name: an offset or the wrong spelling', () => {
    for (const time_zone of ['GMT+6', '+06:00', 'asia/dhaka', 'Asia/Dacca2']) {
      const rejection = given(evolveOperator, initialOperatorState)
        .when((state) => decideRegisterIsp(registerIsp({ time_zone }), state))
        .thenRejects('INVALID_INPUT');
      expect(rejection.message).toContain('IANA');
    }
  });

  it('reports the currency before the zone when both are wrong', () => {
    const rejection = given(evolveOperator, initialOperatorState)
      .when((state) => decideRegisterIsp(registerIsp({ currency: 'TAKA', time_zone: 'GMT+6' }), state))
      .thenRejects('INVALID_INPUT');
    expect(rejection.message).toContain('ISO 4217');
  });
});

describe('creating an operator', () => {
  it('creates a reseller under the ISP, in the ISP currency, with the ISP as its whole ancestry', () => {
    given(evolveOperator, initialOperatorState)
      .when((state) => decideCreateOperator(createOperator({ name: ' Mirpur Link ' }), state, isp(), now))
      .then([
        {
          type: 'operator-created',
          data: { operator_id: 'res-1', parent_id: 'isp-1', ancestry: ['isp-1'], role: 'reseller', name: 'Mirpur Link', currency: 'BDT', time_zone: 'Asia/Dhaka', billing_mode: 'prepaid', credit_limit: '0.00' },
        },
      ]);
  });

  it('creates a sub-reseller under a reseller, the chain running from the ISP down to the parent', () => {
    given(evolveOperator, initialOperatorState)
      .when((state) => decideCreateOperator(createOperator({ operator_id: 'sub-1', role: 'sub_reseller', name: 'Pallabi Net', billing_mode: 'postpaid', credit_limit: '5000' }), state, reseller(), now))
      .then([
        {
          type: 'operator-created',
          data: { operator_id: 'sub-1', parent_id: 'res-1', ancestry: ['isp-1', 'res-1'], role: 'sub_reseller', name: 'Pallabi Net', currency: 'BDT', time_zone: 'Asia/Dhaka', billing_mode: 'postpaid', credit_limit: '5000.00' },
        },
      ]);
  });

  it('starts the new operator with an empty wallet and no terms or packages', () => {
    const state = given(evolveOperator, initialOperatorState, [operatorCreated('sub-1', [TENANT, 'res-1'])]).state;
    expect(state).toMatchObject({ exists: true, role: 'sub_reseller', parent_id: 'res-1', wallet_balance: '0.00', terms: [], assigned_packages: [], status: 'active' });
  });

  it('does not let a sub-reseller have operators below it', () => {
    const rejection = given(evolveOperator, initialOperatorState)
      .when((state) => decideCreateOperator(createOperator({ operator_id: 'sub-2', role: 'sub_reseller' }), state, subReseller(), now))
      .thenRejects('CHILD_ROLE_NOT_ALLOWED');
    expect(rejection.message).toContain('sub-reseller cannot have operators below it');
  });

  it('lets each level create only the level below it', () => {
    given(evolveOperator, initialOperatorState)
      .when((state) => decideCreateOperator(createOperator({ role: 'sub_reseller' }), state, isp(), now))
      .thenRejects('CHILD_ROLE_NOT_ALLOWED');
    given(evolveOperator, initialOperatorState)
      .when((state) => decideCreateOperator(createOperator({ operator_id: 'res-2', role: 'reseller' }), state, reseller(), now))
      .thenRejects('CHILD_ROLE_NOT_ALLOWED');
  });

  it('refuses under a suspended parent', () => {
    given(evolveOperator, initialOperatorState)
      .when((state) => decideCreateOperator(createOperator({ operator_id: 'sub-1', role: 'sub_reseller' }), state, reseller(suspended('res-1')), now))
      .thenRejects('OPERATOR_SUSPENDED');
  });

  it('refuses a parent of another ISP, the ISP itself or one of its resellers', () => {
    const otherIsp = contextAt('2026-11-16T06:00:00Z', { tenant: 'isp-2' });
    given(evolveOperator, initialOperatorState)
      .when((state) => decideCreateOperator(createOperator(), state, isp(), otherIsp))
      .thenRejects('WRONG_TENANT');
    given(evolveOperator, initialOperatorState)
      .when((state) => decideCreateOperator(createOperator({ operator_id: 'sub-1', role: 'sub_reseller' }), state, reseller(), otherIsp))
      .thenRejects('WRONG_TENANT');
  });

  it('says "wrong tenant" before anything about another ISP’s operator, even that it is suspended', () => {
    given(evolveOperator, initialOperatorState)
      .when((state) => decideCreateOperator(createOperator({ operator_id: 'sub-1', role: 'sub_reseller' }), state, reseller(suspended('res-1')), contextAt('2026-11-16T06:00:00Z', { tenant: 'isp-2' })))
      .thenRejects('WRONG_TENANT');
  });

  it('refuses an id that exists before checking the parent, and a parent that does not exist', () => {
    given(evolveOperator, initialOperatorState, [operatorCreated('res-1', [TENANT])])
      .when((state) => decideCreateOperator(createOperator(), state, initialOperatorState(), now))
      .thenRejects('OPERATOR_ALREADY_EXISTS');
    given(evolveOperator, initialOperatorState)
      .when((state) => decideCreateOperator(createOperator(), state, initialOperatorState(), now))
      .thenRejects('OPERATOR_NOT_FOUND');
  });

  it('checks the role before the name', () => {
    given(evolveOperator, initialOperatorState)
      .when((state) => decideCreateOperator(createOperator({ role: 'sub_reseller', name: ' ' }), state, isp(), now))
      .thenRejects('CHILD_ROLE_NOT_ALLOWED');
    given(evolveOperator, initialOperatorState)
      .when((state) => decideCreateOperator(createOperator({ name: ' ' }), state, isp(), now))
      .thenRejects('INVALID_INPUT');
  });

  it('refuses a prepaid operator with a credit limit, and a limit that is negative or not an amount', () => {
    for (const [billing_mode, credit_limit] of [['prepaid', '100'], ['postpaid', '-1'], ['postpaid', 'lots'], ['postpaid', '10.001']] as const) {
      given(evolveOperator, initialOperatorState)
        .when((state) => decideCreateOperator(createOperator({ billing_mode, credit_limit }), state, isp(), now))
        .thenRejects('INVALID_BILLING_MODE');
    }
  });
});

describe('suspending and reinstating an operator', () => {
  it('suspends a reseller once; suspending it again changes nothing', () => {
    given(evolveOperator, initialOperatorState, [operatorCreated('res-1', [TENANT])])
      .when((state) => decideSuspendOperator(state, 'unpaid dues'))
      .then([{ type: 'operator-suspended', data: { operator_id: 'res-1', reason: 'unpaid dues' } }]);
    given(evolveOperator, initialOperatorState, [operatorCreated('res-1', [TENANT]), suspended('res-1')])
      .when((state) => decideSuspendOperator(state, 'again'))
      .thenNothingHappens();
  });

  it('never suspends the ISP itself, and knows no missing operator', () => {
    given(evolveOperator, initialOperatorState, [ispRegistered()])
      .when((state) => decideSuspendOperator(state, 'no'))
      .thenRejects('NOT_PERMITTED');
    given(evolveOperator, initialOperatorState)
      .when((state) => decideSuspendOperator(state, 'no'))
      .thenRejects('OPERATOR_NOT_FOUND');
  });

  it('reinstates a suspended operator; an active one stays as it is', () => {
    const history = [operatorCreated('res-1', [TENANT]), suspended('res-1')];
    given(evolveOperator, initialOperatorState, history)
      .when((state) => decideReinstateOperator(state))
      .then([{ type: 'operator-reinstated', data: { operator_id: 'res-1' } }]);
    given(evolveOperator, initialOperatorState, [...history, { type: 'operator-reinstated', data: { operator_id: 'res-1' } }])
      .when((state) => decideReinstateOperator(state))
      .thenNothingHappens();
    given(evolveOperator, initialOperatorState)
      .when((state) => decideReinstateOperator(state))
      .thenRejects('OPERATOR_NOT_FOUND');
  });
});

describe('setting the billing mode of an operator’s wallet', () => {
  it('makes a reseller postpaid with a credit limit', () => {
    given(evolveOperator, initialOperatorState, [operatorCreated('res-1', [TENANT])])
      .when((state) => decideSetBillingMode(state, 'postpaid', '2500.5'))
      .then([{ type: 'operator-billing-mode-set', data: { operator_id: 'res-1', billing_mode: 'postpaid', credit_limit: '2500.50' } }]);
  });

  it('checks, in order: the operator exists, is not the ISP, the limit is an amount ≥ 0, prepaid has none', () => {
    given(evolveOperator, initialOperatorState)
      .when((state) => decideSetBillingMode(state, 'prepaid', '100'))
      .thenRejects('OPERATOR_NOT_FOUND');
    given(evolveOperator, initialOperatorState, [ispRegistered()])
      .when((state) => decideSetBillingMode(state, 'prepaid', '100'))
      .thenRejects('NOT_PERMITTED');
    given(evolveOperator, initialOperatorState, [operatorCreated('res-1', [TENANT])])
      .when((state) => decideSetBillingMode(state, 'postpaid', '-5'))
      .thenRejects('INVALID_BILLING_MODE');
    given(evolveOperator, initialOperatorState, [operatorCreated('res-1', [TENANT])])
      .when((state) => decideSetBillingMode(state, 'prepaid', '100'))
      .thenRejects('INVALID_BILLING_MODE');
  });
});

describe('commission terms', () => {
  it('records a share effective from a date', () => {
    given(evolveOperator, initialOperatorState, [operatorCreated('res-1', [TENANT])])
      .when((state) => decideSetCommissionTerms(state, '2026-12-01', { kind: 'share', percent: '12.5' }))
      .then([{ type: 'commission-terms-set', data: { operator_id: 'res-1', effective_from: '2026-12-01', terms: { kind: 'share', percent: '12.5' } } }]);
  });

  it('accepts percentages from 0 to 100 with up to six decimals, and nothing else', () => {
    for (const percent of ['0', '60', '99.999999', '100', '100.000000']) {
      given(evolveOperator, initialOperatorState, [operatorCreated('res-1', [TENANT])])
        .when((state) => decideSetCommissionTerms(state, '2026-12-01', { kind: 'share', percent }))
        .then([{ type: 'commission-terms-set', data: { operator_id: 'res-1', effective_from: '2026-12-01', terms: { kind: 'share', percent } } }]);
    }
    for (const percent of ['100.5', '101', '-1', '60.1234567', '6e1', '', ' 60']) {
      given(evolveOperator, initialOperatorState, [operatorCreated('res-1', [TENANT])])
        .when((state) => decideSetCommissionTerms(state, '2026-12-01', { kind: 'share', percent }))
        .thenRejects('INVALID_COMMISSION_TERMS');
    }
  });

  it('has no terms for the ISP, which keeps what is left; checks that before the date', () => {
    given(evolveOperator, initialOperatorState, [ispRegistered()])
      .when((state) => decideSetCommissionTerms(state, 'someday', { kind: 'share', percent: '10' }))
      .thenRejects('INVALID_COMMISSION_TERMS');
    given(evolveOperator, initialOperatorState)
      .when((state) => decideSetCommissionTerms(state, '2026-12-01', { kind: 'share', percent: '10' }))
      .thenRejects('OPERATOR_NOT_FOUND');
  });

  it('refuses a date that is not a calendar date before looking at the percentage', () => {
    given(evolveOperator, initialOperatorState, [operatorCreated('res-1', [TENANT])])
      .when((state) => decideSetCommissionTerms(state, '2026-02-30', { kind: 'share', percent: '101' }))
      .thenRejects('INVALID_INPUT');
  });

  it('applies the terms in force on a date: the latest that started on or before it', () => {
    // Recorded out of order on purpose: the effective date decides, not the order of the events.
    const state = operatorState(operatorCreated('res-1', [TENANT]), shareSet('res-1', '50', '2026-07-01'), shareSet('res-1', '60', '2026-01-01'));
    expect(termsOn(state, '2025-12-31')).toBeNull();
    expect(termsOn(state, '2026-01-01')).toEqual({ kind: 'share', percent: '60' });
    expect(termsOn(state, '2026-06-30')).toEqual({ kind: 'share', percent: '60' });
    expect(termsOn(state, '2026-07-01')).toEqual({ kind: 'share', percent: '50' });
    expect(termsOn(state, '2030-01-01')).toEqual({ kind: 'share', percent: '50' });
  });

  it('replaces the terms of the same effective date', () => {
    const state = operatorState(operatorCreated('res-1', [TENANT]), shareSet('res-1', '60', '2026-07-01'), shareSet('res-1', '55', '2026-07-01'));
    expect(state.terms).toEqual([{ effective_from: '2026-07-01', terms: { kind: 'share', percent: '55' } }]);
  });

  it('turns wholesale terms into the wholesale price of the package on that date', () => {
    const state = operatorState(
      operatorCreated('res-1', [TENANT]),
      wholesaleTermsSet('res-1'),
      packageAssigned('res-1', PACKAGE_ID, '350.00', '2026-01-01'),
      packageAssigned('res-1', PACKAGE_ID, '380.00', '2026-10-01'),
    );
    expect(commissionTermsOn(state, PACKAGE_ID, '2026-09-30')).toEqual({ kind: 'wholesale', price: bdt('350.00') });
    expect(commissionTermsOn(state, PACKAGE_ID, '2026-10-01')).toEqual({ kind: 'wholesale', price: bdt('380.00') });
    expect(commissionTermsOn(state, 'pkg-other', '2026-10-01')).toBeNull();
    expect(commissionTermsOn(reseller(), PACKAGE_ID, '2025-06-01')).toBeNull();
    expect(commissionTermsOn(reseller(), PACKAGE_ID, '2026-06-01')).toEqual({ kind: 'share', percent: '60' });
  });
});

describe('assigning a package to a child operator', () => {
  const assignment = (overrides: Partial<Parameters<typeof decideAssignPackage>[2]> = {}) => ({
    package_id: PACKAGE_ID,
    wholesale_price: '400',
    effective_from: '2026-12-01',
    package_price: '500.00',
    package_retired: false,
    ...overrides,
  });
  const subHistory = [operatorCreated('sub-1', [TENANT, 'res-1'])];

  it('lets the ISP assign a package to its reseller at any price up to the list price', () => {
    given(evolveOperator, initialOperatorState, [operatorCreated('res-1', [TENANT])])
      .when((child) => decideAssignPackage(child, isp(), assignment({ wholesale_price: '0' })))
      .then([{ type: 'package-assigned', data: { operator_id: 'res-1', package_id: PACKAGE_ID, wholesale_price: '0.00', effective_from: '2026-12-01' } }]);
    given(evolveOperator, initialOperatorState, [operatorCreated('res-1', [TENANT])])
      .when((child) => decideAssignPackage(child, isp(), assignment({ wholesale_price: '500.01' })))
      .thenRejects('INVALID_AMOUNT');
  });

  it('lets a reseller pass a package on at or above its own price, not below it', () => {
    given(evolveOperator, initialOperatorState, subHistory)
      .when((child) => decideAssignPackage(child, reseller(), assignment({ wholesale_price: '350' })))
      .then([{ type: 'package-assigned', data: { operator_id: 'sub-1', package_id: PACKAGE_ID, wholesale_price: '350.00', effective_from: '2026-12-01' } }]);
    const rejection = given(evolveOperator, initialOperatorState, subHistory)
      .when((child) => decideAssignPackage(child, reseller(), assignment({ wholesale_price: '349.99' })))
      .thenRejects('PRICE_BELOW_WHOLESALE');
    expect(rejection.message).toContain('350.00');
  });

  it('compares with the parent’s price on the date the assignment takes effect', () => {
    const raised = reseller(packageAssigned('res-1', PACKAGE_ID, '420.00', '2027-01-01'));
    given(evolveOperator, initialOperatorState, subHistory)
      .when((child) => decideAssignPackage(child, raised, assignment({ effective_from: '2026-12-01' })))
      .then([{ type: 'package-assigned', data: { operator_id: 'sub-1', package_id: PACKAGE_ID, wholesale_price: '400.00', effective_from: '2026-12-01' } }]);
    given(evolveOperator, initialOperatorState, subHistory)
      .when((child) => decideAssignPackage(child, raised, assignment({ effective_from: '2027-01-01' })))
      .thenRejects('PRICE_BELOW_WHOLESALE');
  });

  it('refuses a package the parent does not have itself (then, or any more)', () => {
    given(evolveOperator, initialOperatorState, subHistory)
      .when((child) => decideAssignPackage(child, reseller(), assignment({ package_id: 'pkg-other' })))
      .thenRejects('PACKAGE_NOT_ASSIGNED');
    given(evolveOperator, initialOperatorState, subHistory)
      .when((child) => decideAssignPackage(child, reseller(), assignment({ effective_from: '2025-12-31' })))
      .thenRejects('PACKAGE_NOT_ASSIGNED');
    const unassigned = reseller({ type: 'package-unassigned', data: { operator_id: 'res-1', package_id: PACKAGE_ID } });
    expect(wholesalePriceOn(unassigned, PACKAGE_ID, '2026-12-01')).toBeNull();
    given(evolveOperator, initialOperatorState, subHistory)
      .when((child) => decideAssignPackage(child, unassigned, assignment()))
      .thenRejects('PACKAGE_NOT_ASSIGNED');
  });

  it('is done only by the direct parent', () => {
    given(evolveOperator, initialOperatorState, subHistory)
      .when((child) => decideAssignPackage(child, isp(), assignment()))
      .thenRejects('OPERATOR_NOT_IN_SUBTREE');
    given(evolveOperator, initialOperatorState)
      .when((child) => decideAssignPackage(child, reseller(), assignment()))
      .thenRejects('OPERATOR_NOT_FOUND');
  });

  it('checks, in order: retired, the date, the amount, the parent’s price, the list price', () => {
    given(evolveOperator, initialOperatorState, subHistory)
      .when((child) => decideAssignPackage(child, reseller(), assignment({ package_retired: true, effective_from: 'soon', wholesale_price: '1' })))
      .thenRejects('PACKAGE_RETIRED');
    given(evolveOperator, initialOperatorState, subHistory)
      .when((child) => decideAssignPackage(child, reseller(), assignment({ effective_from: 'soon', wholesale_price: '-1' })))
      .thenRejects('INVALID_INPUT');
    given(evolveOperator, initialOperatorState, subHistory)
      .when((child) => decideAssignPackage(child, reseller(), assignment({ wholesale_price: '-1' })))
      .thenRejects('INVALID_AMOUNT');
    given(evolveOperator, initialOperatorState, subHistory)
      .when((child) => decideAssignPackage(child, reseller(), assignment({ wholesale_price: '300', package_price: '200.00' })))
      .thenRejects('PRICE_BELOW_WHOLESALE');
    given(evolveOperator, initialOperatorState, subHistory)
      .when((child) => decideAssignPackage(child, reseller(), assignment({ wholesale_price: '450', package_price: '420.00' })))
      .thenRejects('INVALID_AMOUNT');
  });

  it('keeps a price history per package, so a later price does not rewrite an earlier day', () => {
    const state = operatorState(operatorCreated('res-1', [TENANT]), packageAssigned('res-1', PACKAGE_ID, '350.00', '2026-01-01'), packageAssigned('res-1', PACKAGE_ID, '380.00', '2026-10-01'));
    expect(state.assigned_packages).toEqual([PACKAGE_ID]);
    expect(wholesalePriceOn(state, PACKAGE_ID, '2026-09-30')?.toString()).toBe('350.00');
    expect(wholesalePriceOn(state, PACKAGE_ID, '2026-10-01')?.toString()).toBe('380.00');
  });
});

describe('topping up a wallet', () => {
  it('credits the child’s wallet with its parent and records the balance after', () => {
    given(evolveOperator, initialOperatorState, [operatorCreated('res-1', [TENANT])])
      .when((state) => decideTopUpWallet(state, '500', 'bkash', 'TRX-1'))
      .then([{ type: 'wallet-topped-up', data: { operator_id: 'res-1', amount: '500.00', method: 'bkash', reference: 'TRX-1' } }]);
    given(evolveOperator, initialOperatorState, [operatorCreated('res-1', [TENANT]), walletToppedUp('res-1', '500.00')])
      .when((state) => decideTopUpWallet(state, '250.5', 'cash', 'R-2'))
      .then([{ type: 'wallet-topped-up', data: { operator_id: 'res-1', amount: '250.50', method: 'cash', reference: 'R-2' } }]);
  });

  it('refuses, in order: no such operator, the ISP, an amount that is not positive in the currency', () => {
    given(evolveOperator, initialOperatorState)
      .when((state) => decideTopUpWallet(state, '0', 'cash', 'R'))
      .thenRejects('OPERATOR_NOT_FOUND');
    given(evolveOperator, initialOperatorState, [ispRegistered()])
      .when((state) => decideTopUpWallet(state, '0', 'cash', 'R'))
      .thenRejects('NOT_PERMITTED');
    for (const amount of ['0', '-10', '1.234', 'ten']) {
      given(evolveOperator, initialOperatorState, [operatorCreated('res-1', [TENANT])])
        .when((state) => decideTopUpWallet(state, amount, 'cash', 'R'))
        .thenRejects('INVALID_AMOUNT');
    }
  });
});

describe('whether a wallet can pay', () => {
  it('lets a prepaid wallet go down to zero and no further', () => {
    const state = reseller(walletToppedUp('res-1', '100.00'));
    expect(walletCanPay(state, bdt('100.00'))).toBe('ok');
    expect(walletCanPay(state, bdt('100.01'))).toBe('INSUFFICIENT_RESELLER_BALANCE');
  });

  it('lets a postpaid wallet go down to minus its credit limit and no further', () => {
    const postpaid = operatorState(operatorCreated('res-1', [TENANT], { billing_mode: 'postpaid', credit_limit: '1000.00' }));
    expect(walletCanPay(postpaid, bdt('1000.00'))).toBe('ok');
    expect(walletCanPay(postpaid, bdt('1000.01'))).toBe('CREDIT_LIMIT_EXCEEDED');
    const owing = operatorState(
      operatorCreated('res-1', [TENANT], { billing_mode: 'postpaid', credit_limit: '1000.00' }),
      { type: 'wallet-debited', data: { operator_id: 'res-1', amount: '500.00', reason: 'recharge', customer_id: 'cus-1', payment_id: 'pay-1' } },
    );
    expect(walletCanPay(owing, bdt('500.00'))).toBe('ok');
    expect(walletCanPay(owing, bdt('500.01'))).toBe('CREDIT_LIMIT_EXCEEDED');
  });

  it('follows a change of mode: a prepaid wallet that becomes postpaid may go below zero', () => {
    const state = reseller({ type: 'operator-billing-mode-set', data: { operator_id: 'res-1', billing_mode: 'postpaid', credit_limit: '200.00' } });
    expect(walletCanPay(state, bdt('200.00'))).toBe('ok');
    expect(walletCanPay(state, bdt('200.01'))).toBe('CREDIT_LIMIT_EXCEEDED');
  });
});

describe('the ISP’s RADIUS policy', () => {
  const pool: RadiusPolicy = { blocked_access: 'suspended_pool', suspended_pool: 'pool-suspended', suspended_address_list: 'blocked-customers', interim_interval_seconds: 600 };
  const policySet = (policy: RadiusPolicy): OperatorEvent => ({ type: 'radius-policy-set', data: { operator_id: TENANT, ...policy } });

  it('starts by rejecting blocked customers, with accounting updates every five minutes', () => {
    expect(isp().radius_policy).toEqual({ blocked_access: 'reject', suspended_pool: null, suspended_address_list: null, interim_interval_seconds: 300 });
  });

  it('sends blocked customers to a suspended pool and address list', () => {
    given(evolveOperator, initialOperatorState, [ispRegistered()])
      .when((state) => decideSetRadiusPolicy(state, pool))
      .then([
        {
          type: 'radius-policy-set',
          data: { operator_id: TENANT, blocked_access: 'suspended_pool', suspended_pool: 'pool-suspended', suspended_address_list: 'blocked-customers', interim_interval_seconds: 600 },
        },
      ]);
    expect(given(evolveOperator, initialOperatorState, [ispRegistered(), policySet(pool)]).state.radius_policy).toEqual(pool);
  });

  it('goes back to rejecting, and appends nothing when the policy in force is set again', () => {
    const reject: RadiusPolicy = { blocked_access: 'reject', suspended_pool: null, suspended_address_list: null, interim_interval_seconds: 60 };
    given(evolveOperator, initialOperatorState, [ispRegistered(), policySet(pool)])
      .when((state) => decideSetRadiusPolicy(state, reject))
      .then([policySet(reject)]);
    given(evolveOperator, initialOperatorState, [ispRegistered(), policySet(pool)])
      .when((state) => decideSetRadiusPolicy(state, { ...pool }))
      .thenNothingHappens();
    given(evolveOperator, initialOperatorState, [ispRegistered()])
      .when((state) => decideSetRadiusPolicy(state, { blocked_access: 'reject', suspended_pool: null, suspended_address_list: null, interim_interval_seconds: 300 }))
      .thenNothingHappens();
  });

  it('is set on the ISP itself only', () => {
    given(evolveOperator, initialOperatorState)
      .when((state) => decideSetRadiusPolicy(state, pool))
      .thenRejects('OPERATOR_NOT_FOUND');
    for (const operator of [reseller(), subReseller()]) {
      given(evolveOperator, initialOperatorState)
        .when(() => decideSetRadiusPolicy(operator, { ...pool, interim_interval_seconds: 1 }))
        .thenRejects('NOT_PERMITTED');
    }
  });

  it('checks, in order: the kind of access, the pool and address list it needs or forbids, the interim interval', () => {
    const refusal = (policy: RadiusPolicy) =>
      given(evolveOperator, initialOperatorState, [ispRegistered()])
        .when((state) => decideSetRadiusPolicy(state, policy))
        .thenRejects('INVALID_INPUT').message;
    expect(refusal({ ...pool, blocked_access: 'drop' as RadiusPolicy['blocked_access'], interim_interval_seconds: 1 })).toContain('blocked_access');
    for (const suspended_pool of [null, '', 'pool suspended', 'p'.repeat(65), 'pool;drop']) expect(refusal({ ...pool, suspended_pool, interim_interval_seconds: 1 })).toContain('suspended_pool');
    for (const suspended_address_list of [null, '', 'blocked customers', 'l'.repeat(65)]) expect(refusal({ ...pool, suspended_address_list })).toContain('suspended_address_list');
    expect(refusal({ ...pool, blocked_access: 'reject', suspended_address_list: null, interim_interval_seconds: 1 })).toContain('must be null');
    expect(refusal({ ...pool, blocked_access: 'reject', suspended_pool: null })).toContain('must be null');
    for (const interim_interval_seconds of [59, 3601, 300.5, 0, -300]) expect(refusal({ ...pool, interim_interval_seconds })).toContain('interim_interval_seconds');
  });

  it('takes the edges of every range', () => {
    for (const interim_interval_seconds of [60, 3600]) {
      const policy: RadiusPolicy = { blocked_access: 'suspended_pool', suspended_pool: 'p'.repeat(64), suspended_address_list: 'A.b_c-9', interim_interval_seconds };
      given(evolveOperator, initialOperatorState, [ispRegistered()])
        .when((state) => decideSetRadiusPolicy(state, policy))
        .then([policySet(policy)]);
    }
  });
});

describe('the sub-reseller fixture', () => {
  it('is what the other specs assume: a 50 % share of the reseller and the package at 400.00', () => {
    const state = subReseller();
    expect(state.ancestry).toEqual([TENANT, 'res-1']);
    expect(termsOn(state, '2026-11-16')).toEqual({ kind: 'share', percent: '50' });
    expect(wholesalePriceOn(state, PACKAGE_ID, '2026-11-16')?.toString()).toBe('400.00');
    expect(shareSet('sub-1', '50').type).toBe('commission-terms-set');
  });
});
