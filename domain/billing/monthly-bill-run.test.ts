import { describe, expect, it } from 'vitest';
import type { CustomerEvent } from '../customers/customer.js';
import { evolveCustomer, initialCustomerState } from '../customers/customer-evolve.js';
import { given } from '../shared/decider-spec.js';
import { PACKAGE_ID, billIssued, contextAt, customerRegistered, monthly, packageCreated, packageState, tenMegabit } from '../shared/spec-fixtures.js';
import { decideIssueMonthlyBill } from './monthly-bill-run.js';

type BillData = Extract<CustomerEvent, { type: 'bill-issued' }>['data'];
const bill = (data: Partial<BillData> & Pick<BillData, 'period' | 'covers_from' | 'covers_until' | 'amount' | 'issued_on' | 'due_on'>): CustomerEvent => ({
  type: 'bill-issued',
  data: { bill_id: `cus-1:${data.period}`, customer_id: 'cus-1', kind: 'monthly', package_id: PACKAGE_ID, currency: 'BDT', ...data },
});
const creditGranted = (amount: string): CustomerEvent => ({ type: 'credit-granted', data: { customer_id: 'cus-1', amount, reason: 'adjustment' } });

/** Noon in Dhaka on a local date. */
const noonOn = (date: string) => contextAt(`${date}T06:00:00Z`);

const prepaidSince1Oct = [customerRegistered({ profile: monthly(1, 'prepaid'), registered_on: '2026-10-01' }), billIssued('2026-10', '500.00')];
const postpaidSince1Oct = [customerRegistered({ profile: monthly(1, 'postpaid'), registered_on: '2026-10-01' })];

describe('the monthly bill run', () => {
  it('bills a prepaid customer for the period that starts', () => {
    given(evolveCustomer, initialCustomerState, prepaidSince1Oct)
      .when((state) => decideIssueMonthlyBill(state, tenMegabit(), '2026-11', noonOn('2026-11-01')))
      .then([bill({ period: '2026-11', covers_from: '2026-11-01', covers_until: '2026-12-01', amount: '500.00', issued_on: '2026-11-01', due_on: '2026-11-06' })]);
  });

  it('bills a postpaid customer for the period that just ended', () => {
    given(evolveCustomer, initialCustomerState, postpaidSince1Oct)
      .when((state) => decideIssueMonthlyBill(state, tenMegabit(), '2026-11', noonOn('2026-11-01')))
      .then([bill({ period: '2026-11', covers_from: '2026-10-01', covers_until: '2026-11-01', amount: '500.00', issued_on: '2026-11-01', due_on: '2026-11-06' })]);
  });

  it('prorates the first postpaid bill from the day billing started: 16 of 31 October days', () => {
    given(evolveCustomer, initialCustomerState, [customerRegistered({ profile: monthly(1, 'postpaid'), registered_on: '2026-10-16' })])
      .when((state) => decideIssueMonthlyBill(state, tenMegabit(), '2026-11', noonOn('2026-11-01')))
      .then([bill({ kind: 'first-period', period: '2026-11', covers_from: '2026-10-16', covers_until: '2026-11-01', amount: '258.06', issued_on: '2026-11-01', due_on: '2026-11-06' })]);
  });

  it('gives a bill issued late its full grace period, counted from the day it is issued', () => {
    given(evolveCustomer, initialCustomerState, postpaidSince1Oct)
      .when((state) => decideIssueMonthlyBill(state, tenMegabit(), '2026-11', noonOn('2026-11-10')))
      .then([bill({ period: '2026-11', covers_from: '2026-10-01', covers_until: '2026-11-01', amount: '500.00', issued_on: '2026-11-10', due_on: '2026-11-15' })]);
  });

  it('after the due day moves from the 1st to the 15th, bills exactly the days not billed yet', () => {
    // Prepaid, November billed to 1 December; on 10 November the due day becomes the 15th.
    const moved: CustomerEvent = {
      type: 'billing-profile-changed',
      data: { customer_id: 'cus-1', from: monthly(1, 'prepaid'), to: monthly(15, 'prepaid'), billing_starts_on: '2026-10-01', expires_at: null },
    };
    const history = [...prepaidSince1Oct, billIssued('2026-11', '500.00'), moved];
    // The period starting 15 November was half paid already: 1–15 December (14 of 30 days) is what is left.
    given(evolveCustomer, initialCustomerState, history)
      .when((state) => decideIssueMonthlyBill(state, tenMegabit(), '2026-11', noonOn('2026-11-15')))
      .then([
        bill({ bill_id: 'cus-1:2026-11:2', kind: 'first-period', period: '2026-11', covers_from: '2026-12-01', covers_until: '2026-12-15', amount: '233.33', issued_on: '2026-11-15', due_on: '2026-11-20' }),
      ]);
  });

  it('bills nothing for a period that ends before billing starts', () => {
    given(evolveCustomer, initialCustomerState, [customerRegistered({ profile: monthly(1, 'postpaid'), registered_on: '2026-10-16' })])
      .when((state) => decideIssueMonthlyBill(state, tenMegabit(), '2026-10', noonOn('2026-10-20')))
      .thenNothingHappens();
    given(evolveCustomer, initialCustomerState, [customerRegistered({ profile: monthly(1, 'prepaid'), registered_on: '2026-10-16' })])
      .when((state) => decideIssueMonthlyBill(state, tenMegabit(), '2026-09', noonOn('2026-10-20')))
      .thenNothingHappens();
  });

  it('bills the special price', () => {
    given(evolveCustomer, initialCustomerState, [customerRegistered({ profile: monthly(1, 'postpaid'), registered_on: '2026-10-01', special_price: '420.00' })])
      .when((state) => decideIssueMonthlyBill(state, tenMegabit(), '2026-11', noonOn('2026-11-01')))
      .then([bill({ period: '2026-11', covers_from: '2026-10-01', covers_until: '2026-11-01', amount: '420.00', issued_on: '2026-11-01', due_on: '2026-11-06' })]);
  });

  it('settles the new bill from credit at once, as far as the credit goes', () => {
    const november = bill({ period: '2026-11', covers_from: '2026-11-01', covers_until: '2026-12-01', amount: '500.00', issued_on: '2026-11-01', due_on: '2026-11-06' });
    given(evolveCustomer, initialCustomerState, [...prepaidSince1Oct, creditGranted('200.00')])
      .when((state) => decideIssueMonthlyBill(state, tenMegabit(), '2026-11', noonOn('2026-11-01')))
      .then([november, { type: 'credit-applied', data: { customer_id: 'cus-1', bill_id: 'cus-1:2026-11', amount: '200.00' } }]);
    given(evolveCustomer, initialCustomerState, [...prepaidSince1Oct, creditGranted('700.00')])
      .when((state) => decideIssueMonthlyBill(state, tenMegabit(), '2026-11', noonOn('2026-11-01')))
      .then([november, { type: 'credit-applied', data: { customer_id: 'cus-1', bill_id: 'cus-1:2026-11', amount: '500.00' } }]);
  });

  it('issues one bill per period: running the same period again changes nothing', () => {
    const first = given(evolveCustomer, initialCustomerState, prepaidSince1Oct)
      .when((state) => decideIssueMonthlyBill(state, tenMegabit(), '2026-11', noonOn('2026-11-01')))
      .then([bill({ period: '2026-11', covers_from: '2026-11-01', covers_until: '2026-12-01', amount: '500.00', issued_on: '2026-11-01', due_on: '2026-11-06' })]);
    given(evolveCustomer, initialCustomerState, [...prepaidSince1Oct, ...first])
      .when((state) => decideIssueMonthlyBill(state, tenMegabit(), '2026-11', noonOn('2026-11-20')))
      .thenNothingHappens();
    // The first period's bill from registration counts too.
    given(evolveCustomer, initialCustomerState, prepaidSince1Oct)
      .when((state) => decideIssueMonthlyBill(state, tenMegabit(), '2026-10', noonOn('2026-11-01')))
      .thenNothingHappens();
  });

  it('does not count a proration bill as the period’s bill', () => {
    const proration = bill({ bill_id: 'cus-1:change:2026-10-20:pkg-20m', kind: 'proration', period: '2026-10', covers_from: '2026-10-01', covers_until: '2026-10-20', amount: '40.00', issued_on: '2026-10-20', due_on: '2026-10-25' });
    given(evolveCustomer, initialCustomerState, [...postpaidSince1Oct, proration])
      .when((state) => decideIssueMonthlyBill(state, tenMegabit(), '2026-10', noonOn('2026-11-01')))
      .thenNothingHappens();
    given(evolveCustomer, initialCustomerState, [customerRegistered({ profile: monthly(1, 'postpaid'), registered_on: '2026-09-01' }), proration])
      .when((state) => decideIssueMonthlyBill(state, tenMegabit(), '2026-10', noonOn('2026-10-21')))
      .then([expect.objectContaining({ type: 'bill-issued', data: expect.objectContaining({ kind: 'monthly', period: '2026-10', covers_from: '2026-09-01', covers_until: '2026-10-01', amount: '500.00' }) }) as CustomerEvent]);
  });

  it('refuses a period whose billing day has not come in the ISP’s zone', () => {
    // 23:59 on 30 November in Dhaka, then 00:30 on 1 December (still 30 November in UTC).
    given(evolveCustomer, initialCustomerState, prepaidSince1Oct)
      .when((state) => decideIssueMonthlyBill(state, tenMegabit(), '2026-12', contextAt('2026-11-30T17:59:00Z')))
      .thenRejects('BILL_NOT_DUE_YET');
    given(evolveCustomer, initialCustomerState, prepaidSince1Oct)
      .when((state) => decideIssueMonthlyBill(state, tenMegabit(), '2026-12', contextAt('2026-11-30T18:30:00Z')))
      .then([bill({ period: '2026-12', covers_from: '2026-12-01', covers_until: '2027-01-01', amount: '500.00', issued_on: '2026-12-01', due_on: '2026-12-06' })]);
  });

  describe('due days the month does not have', () => {
    it('bills a due day of 31 on the last day of February, for a period of 31 days', () => {
      const history = [customerRegistered({ profile: monthly(31, 'prepaid', 2), registered_on: '2027-01-31' })];
      given(evolveCustomer, initialCustomerState, history)
        .when((state) => decideIssueMonthlyBill(state, tenMegabit(), '2027-02', noonOn('2027-02-27')))
        .thenRejects('BILL_NOT_DUE_YET');
      given(evolveCustomer, initialCustomerState, history)
        .when((state) => decideIssueMonthlyBill(state, tenMegabit(), '2027-02', noonOn('2027-02-28')))
        .then([bill({ period: '2027-02', covers_from: '2027-02-28', covers_until: '2027-03-31', amount: '500.00', issued_on: '2027-02-28', due_on: '2027-03-02' })]);
    });

    it('bills a postpaid due day of 30 for the short period that ends in February', () => {
      given(evolveCustomer, initialCustomerState, [customerRegistered({ profile: monthly(30, 'postpaid', 0), registered_on: '2027-01-30' })])
        .when((state) => decideIssueMonthlyBill(state, tenMegabit(), '2027-02', noonOn('2027-02-28')))
        .then([bill({ period: '2027-02', covers_from: '2027-01-30', covers_until: '2027-02-28', amount: '500.00', issued_on: '2027-02-28', due_on: '2027-02-28' })]);
    });

    it('bills a due day of 29 on 29 February in a leap year', () => {
      given(evolveCustomer, initialCustomerState, [customerRegistered({ profile: monthly(29, 'prepaid', 0), registered_on: '2028-01-29' })])
        .when((state) => decideIssueMonthlyBill(state, tenMegabit(), '2028-02', noonOn('2028-02-29')))
        .then([bill({ period: '2028-02', covers_from: '2028-02-29', covers_until: '2028-03-29', amount: '500.00', issued_on: '2028-02-29', due_on: '2028-02-29' })]);
    });
  });

  it('bills nothing to a disabled customer, and nothing for a free package', () => {
    given(evolveCustomer, initialCustomerState, [...prepaidSince1Oct, { type: 'customer-disabled', data: { customer_id: 'cus-1', reason: 'left', by: 'admin-1' } }])
      .when((state) => decideIssueMonthlyBill(state, tenMegabit(), '2026-11', noonOn('2026-11-01')))
      .thenNothingHappens();
    given(evolveCustomer, initialCustomerState, prepaidSince1Oct)
      .when((state) => decideIssueMonthlyBill(state, packageState(packageCreated(PACKAGE_ID, { price: '0' })), '2026-11', noonOn('2026-11-01')))
      .thenNothingHappens();
  });

  it('checks, in order: the customer, a monthly profile, the billing day, then disabled', () => {
    given(evolveCustomer, initialCustomerState)
      .when((state) => decideIssueMonthlyBill(state, tenMegabit(), '2027-05', noonOn('2026-11-01')))
      .thenRejects('CUSTOMER_NOT_FOUND');
    given(evolveCustomer, initialCustomerState, [customerRegistered()])
      .when((state) => decideIssueMonthlyBill(state, tenMegabit(), '2027-05', noonOn('2026-11-01')))
      .thenRejects('WRONG_BILLING_PROFILE');
    given(evolveCustomer, initialCustomerState, [...prepaidSince1Oct, { type: 'customer-disabled', data: { customer_id: 'cus-1', reason: 'left', by: 'admin-1' } }])
      .when((state) => decideIssueMonthlyBill(state, tenMegabit(), '2027-05', noonOn('2026-11-01')))
      .thenRejects('BILL_NOT_DUE_YET');
  });
});
