import { describe, expect, it } from 'vitest';
import { startOfLocalDay } from '../calendar/local-date.js';
import { decideIssueMonthlyBill } from '../billing/monthly-bill-run.js';
import { given } from '../shared/decider-spec.js';
import {
  DAILY,
  PACKAGE_ID,
  TENANT,
  ZONE,
  billIssued,
  contextAt,
  customerRegistered,
  isp,
  ispRegistered,
  monthly,
  operatorCreated,
  operatorState,
  packageAssigned,
  packageCreated,
  packageState,
  rechargedUntil,
  reseller,
  subReseller,
  tenMegabit,
} from '../shared/spec-fixtures.js';
import type { OperatorEvent } from '../operators/operator.js';
import type { CustomerEvent } from './customer.js';
import { customerStatus } from './customer.js';
import { evolveCustomer, initialCustomerState } from './customer-evolve.js';
import {
  decideBindMac,
  decideChangeDetails,
  decideChangePackage,
  decideDisable,
  decideEnable,
  decideExpire,
  decideLockForNonpayment,
  decideMove,
  decideResume,
  decideSetExpiry,
  decideSetSpecialPrice,
  decideSuspend,
  decideSwitchProfile,
} from './lifecycle.js';

/** The first instant of a day in Dhaka (18:00 UTC the day before), as events write it. */
const midnight = (date: string): string => startOfLocalDay(date, ZONE).toISOString();
const NOON_16_NOV = contextAt('2026-11-16T06:00:00Z', { actor: { id: 'staff-7', role: 'manager' } });

const daily = customerRegistered();
const activeUntil1Dec: readonly CustomerEvent[] = [daily, ...rechargedUntil(midnight('2026-12-01'))];
const expired: CustomerEvent = { type: 'customer-expired', data: { customer_id: 'cus-1', expired_at: '2026-12-01T00:00:00.000Z' } };
const suspended: CustomerEvent = { type: 'customer-suspended', data: { customer_id: 'cus-1', reason: 'abuse', by: 'staff-7' } };
const disabled: CustomerEvent = { type: 'customer-disabled', data: { customer_id: 'cus-1', reason: 'left', by: 'staff-7' } };
const prepaidFrom1Nov: readonly CustomerEvent[] = [customerRegistered({ profile: monthly(1, 'prepaid'), registered_on: '2026-11-01' }), billIssued('2026-11', '500.00')];
const postpaidFrom1Nov: readonly CustomerEvent[] = [customerRegistered({ profile: monthly(1, 'postpaid'), registered_on: '2026-11-01' })];
const paidByCredit = (bill_id: string, amount: string): readonly CustomerEvent[] => [
  { type: 'credit-granted', data: { customer_id: 'cus-1', amount, reason: 'adjustment' } },
  { type: 'credit-applied', data: { customer_id: 'cus-1', bill_id, amount } },
];

const twentyMegabit = () => packageState(packageCreated('pkg-20m', { name: '20 Mbit/s', price: '800.00' }));
const fiveMegabit = () => packageState(packageCreated('pkg-5m', { name: '5 Mbit/s', price: '300.00' }));

describe('suspending and resuming', () => {
  it('suspends with a trimmed reason and the actor; suspending again changes nothing', () => {
    given(evolveCustomer, initialCustomerState, activeUntil1Dec)
      .when((state) => decideSuspend(state, ' abuse ', NOON_16_NOV))
      .then([{ type: 'customer-suspended', data: { customer_id: 'cus-1', reason: 'abuse', by: 'staff-7' } }]);
    given(evolveCustomer, initialCustomerState, [...activeUntil1Dec, suspended])
      .when((state) => decideSuspend(state, 'again', NOON_16_NOV))
      .thenNothingHappens();
  });

  it('needs the customer, then a reason', () => {
    given(evolveCustomer, initialCustomerState)
      .when((state) => decideSuspend(state, ' ', NOON_16_NOV))
      .thenRejects('CUSTOMER_NOT_FOUND');
    given(evolveCustomer, initialCustomerState, activeUntil1Dec)
      .when((state) => decideSuspend(state, ' ', NOON_16_NOV))
      .thenRejects('INVALID_INPUT');
  });

  it('resumes a suspended customer, and refuses one that is not suspended', () => {
    given(evolveCustomer, initialCustomerState, [...activeUntil1Dec, suspended])
      .when((state) => decideResume(state, NOON_16_NOV))
      .then([{ type: 'customer-resumed', data: { customer_id: 'cus-1', by: 'staff-7' } }]);
    given(evolveCustomer, initialCustomerState, activeUntil1Dec)
      .when((state) => decideResume(state, NOON_16_NOV))
      .thenRejects('CUSTOMER_NOT_SUSPENDED');
    given(evolveCustomer, initialCustomerState)
      .when((state) => decideResume(state, NOON_16_NOV))
      .thenRejects('CUSTOMER_NOT_FOUND');
  });

  it('shows disabled before suspended before expired', () => {
    const state = given(evolveCustomer, initialCustomerState, [daily, suspended]).state;
    expect(customerStatus(state)).toBe('suspended');
    expect(customerStatus(given(evolveCustomer, initialCustomerState, [daily, suspended, disabled]).state)).toBe('disabled');
    expect(customerStatus(given(evolveCustomer, initialCustomerState, [daily]).state)).toBe('expired');
    expect(customerStatus(given(evolveCustomer, initialCustomerState, activeUntil1Dec).state)).toBe('active');
  });
});

describe('the expiry sweep', () => {
  it('expires a daily customer at the instant its validity ends, not a moment before', () => {
    given(evolveCustomer, initialCustomerState, activeUntil1Dec)
      .when((state) => decideExpire(state, contextAt('2026-11-30T17:59:59.999Z')))
      .thenRejects('CUSTOMER_NOT_EXPIRED');
    given(evolveCustomer, initialCustomerState, activeUntil1Dec)
      .when((state) => decideExpire(state, contextAt('2026-11-30T18:00:00Z')))
      .then([{ type: 'customer-expired', data: { customer_id: 'cus-1', expired_at: '2026-11-30T18:00:00.000Z' } }]);
  });

  it('changes nothing for a customer already expired, including one never recharged', () => {
    given(evolveCustomer, initialCustomerState, [...activeUntil1Dec, expired])
      .when((state) => decideExpire(state, contextAt('2026-12-05T00:00:00Z')))
      .thenNothingHappens();
    given(evolveCustomer, initialCustomerState, [daily])
      .when((state) => decideExpire(state, contextAt('2026-12-05T00:00:00Z')))
      .thenNothingHappens();
  });

  it('does not expire monthly customers, whose bills decide', () => {
    given(evolveCustomer, initialCustomerState, prepaidFrom1Nov)
      .when((state) => decideExpire(state, contextAt('2027-06-01T00:00:00Z')))
      .thenRejects('CUSTOMER_NOT_EXPIRED');
    given(evolveCustomer, initialCustomerState)
      .when((state) => decideExpire(state, contextAt('2027-06-01T00:00:00Z')))
      .thenRejects('CUSTOMER_NOT_FOUND');
  });
});

describe('locking for nonpayment', () => {
  // The November bill is due on 6 November (grace 5): it is overdue from 7 November, Dhaka time.
  it('locks a monthly customer once a bill is open past its due date, naming the bills', () => {
    given(evolveCustomer, initialCustomerState, prepaidFrom1Nov)
      .when((state) => decideLockForNonpayment(state, contextAt('2026-11-06T17:59:00Z')))
      .thenRejects('CUSTOMER_NOT_DUE');
    given(evolveCustomer, initialCustomerState, prepaidFrom1Nov)
      .when((state) => decideLockForNonpayment(state, contextAt('2026-11-06T18:00:00Z')))
      .then([{ type: 'customer-locked', data: { customer_id: 'cus-1', reason: 'unpaid', overdue_bill_ids: ['cus-1:2026-11'] } }]);
  });

  it('names every overdue bill, oldest first, and not the ones still within grace', () => {
    const history = [...prepaidFrom1Nov, billIssued('2026-12', '500.00'), billIssued('2027-01', '500.00')];
    given(evolveCustomer, initialCustomerState, history)
      .when((state) => decideLockForNonpayment(state, contextAt('2027-01-03T06:00:00Z')))
      .then([{ type: 'customer-locked', data: { customer_id: 'cus-1', reason: 'unpaid', overdue_bill_ids: ['cus-1:2026-11', 'cus-1:2026-12'] } }]);
  });

  it('locks once: a locked customer changes nothing', () => {
    const locked: CustomerEvent = { type: 'customer-locked', data: { customer_id: 'cus-1', reason: 'unpaid', overdue_bill_ids: ['cus-1:2026-11'] } };
    const state = given(evolveCustomer, initialCustomerState, [...prepaidFrom1Nov, locked]).state;
    expect(customerStatus(state)).toBe('expired');
    given(evolveCustomer, initialCustomerState, [...prepaidFrom1Nov, locked])
      .when((state) => decideLockForNonpayment(state, contextAt('2026-11-20T06:00:00Z')))
      .thenNothingHappens();
  });

  it('does not lock a customer whose bills are paid', () => {
    given(evolveCustomer, initialCustomerState, [...prepaidFrom1Nov, ...paidByCredit('cus-1:2026-11', '500.00')])
      .when((state) => decideLockForNonpayment(state, contextAt('2026-11-20T06:00:00Z')))
      .thenRejects('CUSTOMER_NOT_DUE');
  });

  it('refuses a daily customer, after checking the customer exists', () => {
    given(evolveCustomer, initialCustomerState, activeUntil1Dec)
      .when((state) => decideLockForNonpayment(state, NOON_16_NOV))
      .thenRejects('WRONG_BILLING_PROFILE');
    given(evolveCustomer, initialCustomerState)
      .when((state) => decideLockForNonpayment(state, NOON_16_NOV))
      .thenRejects('CUSTOMER_NOT_FOUND');
  });
});

describe('disabling and enabling', () => {
  it('disables and enables once each; repeating changes nothing', () => {
    given(evolveCustomer, initialCustomerState, activeUntil1Dec)
      .when((state) => decideDisable(state, ' moved away ', NOON_16_NOV))
      .then([{ type: 'customer-disabled', data: { customer_id: 'cus-1', reason: 'moved away', by: 'staff-7' } }]);
    given(evolveCustomer, initialCustomerState, [...activeUntil1Dec, disabled])
      .when((state) => decideDisable(state, 'again', NOON_16_NOV))
      .thenNothingHappens();
    given(evolveCustomer, initialCustomerState, [...activeUntil1Dec, disabled])
      .when((state) => decideEnable(state, NOON_16_NOV))
      .then([{ type: 'customer-enabled', data: { customer_id: 'cus-1', by: 'staff-7' } }]);
    given(evolveCustomer, initialCustomerState, activeUntil1Dec)
      .when((state) => decideEnable(state, NOON_16_NOV))
      .thenNothingHappens();
    given(evolveCustomer, initialCustomerState)
      .when((state) => decideDisable(state, 'x', NOON_16_NOV))
      .thenRejects('CUSTOMER_NOT_FOUND');
    given(evolveCustomer, initialCustomerState)
      .when((state) => decideEnable(state, NOON_16_NOV))
      .thenRejects('CUSTOMER_NOT_FOUND');
  });
});

describe('setting the expiry by hand', () => {
  it('moves the expiry to the local midnight that starts the date given', () => {
    given(evolveCustomer, initialCustomerState, activeUntil1Dec)
      .when((state) => decideSetExpiry(state, '2026-12-05', ' goodwill ', NOON_16_NOV))
      .then([{ type: 'expiry-set', data: { customer_id: 'cus-1', expires_at: '2026-12-04T18:00:00.000Z', reason: 'goodwill', by: 'staff-7' } }]);
  });

  it('reactivates an expired customer when the new expiry is still ahead', () => {
    given(evolveCustomer, initialCustomerState, [...activeUntil1Dec, expired])
      .when((state) => decideSetExpiry(state, '2026-12-10', 'outage compensation', contextAt('2026-12-03T06:00:00Z')))
      .then([
        { type: 'expiry-set', data: { customer_id: 'cus-1', expires_at: midnight('2026-12-10'), reason: 'outage compensation', by: 'admin-1' } },
        { type: 'customer-reactivated', data: { customer_id: 'cus-1', reason: 'expiry-extended' } },
      ]);
  });

  it('expires an active customer at once when the new expiry has passed', () => {
    given(evolveCustomer, initialCustomerState, activeUntil1Dec)
      .when((state) => decideSetExpiry(state, '2026-11-16', 'correction', NOON_16_NOV))
      .then([
        { type: 'expiry-set', data: { customer_id: 'cus-1', expires_at: midnight('2026-11-16'), reason: 'correction', by: 'staff-7' } },
        { type: 'customer-expired', data: { customer_id: 'cus-1', expired_at: '2026-11-16T06:00:00.000Z' } },
      ]);
  });

  it('only moves the date of an expired customer whose new expiry has passed too', () => {
    given(evolveCustomer, initialCustomerState, [...activeUntil1Dec, expired])
      .when((state) => decideSetExpiry(state, '2026-11-20', 'correction', contextAt('2026-12-03T06:00:00Z')))
      .then([{ type: 'expiry-set', data: { customer_id: 'cus-1', expires_at: midnight('2026-11-20'), reason: 'correction', by: 'admin-1' } }]);
  });

  it('checks, in order: the customer, a daily profile, a reason, a real calendar date', () => {
    given(evolveCustomer, initialCustomerState)
      .when((state) => decideSetExpiry(state, 'x', ' ', NOON_16_NOV))
      .thenRejects('CUSTOMER_NOT_FOUND');
    given(evolveCustomer, initialCustomerState, prepaidFrom1Nov)
      .when((state) => decideSetExpiry(state, 'x', ' ', NOON_16_NOV))
      .thenRejects('WRONG_BILLING_PROFILE');
    given(evolveCustomer, initialCustomerState, activeUntil1Dec)
      .when((state) => decideSetExpiry(state, 'x', ' ', NOON_16_NOV))
      .thenRejects('INVALID_INPUT');
    for (const expires_on of ['05-12-2026', '2026-13-01', '2026-02-30', '2026-12-5']) {
      given(evolveCustomer, initialCustomerState, activeUntil1Dec)
        .when((state) => decideSetExpiry(state, expires_on, 'goodwill', NOON_16_NOV))
        .thenRejects('INVALID_INPUT');
    }
  });
});

describe('changing details', () => {
  it('records the details trimmed, and needs a name', () => {
    given(evolveCustomer, initialCustomerState, [daily])
      .when((state) => decideChangeDetails(state, { name: ' Alice Rahman ', mobile: ' 01800000000 ', zone: ' Gulshan ' }))
      .then([{ type: 'customer-details-changed', data: { customer_id: 'cus-1', name: 'Alice Rahman', mobile: '01800000000', zone: 'Gulshan' } }]);
    given(evolveCustomer, initialCustomerState, [daily])
      .when((state) => decideChangeDetails(state, { name: '', mobile: '', zone: '' }))
      .thenRejects('INVALID_INPUT');
    given(evolveCustomer, initialCustomerState)
      .when((state) => decideChangeDetails(state, { name: 'A', mobile: '', zone: '' }))
      .thenRejects('CUSTOMER_NOT_FOUND');
  });
});

describe('binding a MAC', () => {
  const bound: CustomerEvent = { type: 'mac-bound', data: { customer_id: 'cus-1', mac: 'AA:BB:CC:DD:EE:FF' } };

  it('binds a normalised MAC to a customer without one', () => {
    given(evolveCustomer, initialCustomerState, [daily])
      .when((state) => decideBindMac(state, 'aabb.ccdd.eeff'))
      .then([bound]);
  });

  it('changes nothing when the same device is bound again, in any spelling', () => {
    given(evolveCustomer, initialCustomerState, [daily, bound])
      .when((state) => decideBindMac(state, 'aa-bb-cc-dd-ee-ff'))
      .thenNothingHappens();
  });

  it('unbinds the old MAC before binding a new one', () => {
    given(evolveCustomer, initialCustomerState, [daily, bound])
      .when((state) => decideBindMac(state, '11:22:33:44:55:66'))
      .then([
        { type: 'mac-unbound', data: { customer_id: 'cus-1', mac: 'AA:BB:CC:DD:EE:FF' } },
        { type: 'mac-bound', data: { customer_id: 'cus-1', mac: '11:22:33:44:55:66' } },
      ]);
  });

  it('refuses what is not a MAC, and a customer that does not exist', () => {
    given(evolveCustomer, initialCustomerState, [daily])
      .when((state) => decideBindMac(state, 'aa:bb'))
      .thenRejects('INVALID_CREDENTIALS');
    given(evolveCustomer, initialCustomerState)
      .when((state) => decideBindMac(state, 'aa:bb'))
      .thenRejects('CUSTOMER_NOT_FOUND');
  });
});

describe('changing package', () => {
  const changed = (to: string, credit: string, charge: string, net: string, changed_on = '2026-11-16'): CustomerEvent => ({
    type: 'package-changed',
    data: { customer_id: 'cus-1', from_package_id: PACKAGE_ID, to_package_id: to, credit, charge, net, changed_on },
  });
  const prorationBill = (to: string, amount: string, covers_from: string, covers_until: string, due_on: string): CustomerEvent => ({
    type: 'bill-issued',
    data: {
      bill_id: `cus-1:change:2026-11-16:${to}`,
      customer_id: 'cus-1',
      kind: 'proration',
      period: '2026-11',
      covers_from,
      covers_until,
      package_id: to,
      amount,
      currency: 'BDT',
      issued_on: '2026-11-16',
      due_on,
    },
  });

  describe('for a monthly prepaid customer whose period is paid at the old price', () => {
    it('credits the unused half of 500.00 and charges half of 800.00: a proration bill of 150.00', () => {
      given(evolveCustomer, initialCustomerState, prepaidFrom1Nov)
        .when((state) => decideChangePackage(state, tenMegabit(), twentyMegabit(), isp(), NOON_16_NOV))
        .then([changed('pkg-20m', '250.00', '400.00', '150.00'), prorationBill('pkg-20m', '150.00', '2026-11-16', '2026-12-01', '2026-11-21')]);
    });

    it('turns a net credit (a cheaper package) into customer credit', () => {
      given(evolveCustomer, initialCustomerState, prepaidFrom1Nov)
        .when((state) => decideChangePackage(state, tenMegabit(), fiveMegabit(), isp(), NOON_16_NOV))
        .then([changed('pkg-5m', '250.00', '150.00', '-100.00'), { type: 'credit-granted', data: { customer_id: 'cus-1', amount: '100.00', reason: 'proration' } }]);
    });

    it('credits the special price the customer paid and returns it to list prices', () => {
      const history = [customerRegistered({ profile: monthly(1, 'prepaid'), registered_on: '2026-11-01', special_price: '450.00' }), billIssued('2026-11', '450.00')];
      given(evolveCustomer, initialCustomerState, history)
        .when((state) => decideChangePackage(state, tenMegabit(), twentyMegabit(), isp(), NOON_16_NOV))
        .then([
          changed('pkg-20m', '225.00', '400.00', '175.00'),
          { type: 'special-price-set', data: { customer_id: 'cus-1', special_price: null } },
          prorationBill('pkg-20m', '175.00', '2026-11-16', '2026-12-01', '2026-11-21'),
        ]);
    });
  });

  describe('when the period’s bill is still to come', () => {
    it('settles the used days of a postpaid customer, so the period costs old price then new price', () => {
      // Up to 16 November on 500.00, then on 800.00: 250.00 + 400.00 = 650.00 for November.
      const change = given(evolveCustomer, initialCustomerState, postpaidFrom1Nov)
        .when((state) => decideChangePackage(state, tenMegabit(), twentyMegabit(), isp(), NOON_16_NOV))
        .then([changed('pkg-20m', '400.00', '250.00', '-150.00'), { type: 'credit-granted', data: { customer_id: 'cus-1', amount: '150.00', reason: 'proration' } }]);
      given(evolveCustomer, initialCustomerState, [...postpaidFrom1Nov, ...change])
        .when((state) => decideIssueMonthlyBill(state, twentyMegabit(), '2026-12', contextAt('2026-12-01T06:00:00Z')))
        .then([
          expect.objectContaining({ type: 'bill-issued', data: expect.objectContaining({ covers_from: '2026-11-01', covers_until: '2026-12-01', amount: '800.00' }) }) as CustomerEvent,
          { type: 'credit-applied', data: { customer_id: 'cus-1', bill_id: 'cus-1:2026-12', amount: '150.00' } },
        ]);
    });

    it('bills a postpaid downgrade’s used days at once, counted from when billing started', () => {
      // Registered on 10 November: 6 days on 500.00 are 100.00, which the December bill (at 300.00) prices at 60.00.
      const history = [customerRegistered({ profile: monthly(1, 'postpaid'), registered_on: '2026-11-10' })];
      const change = given(evolveCustomer, initialCustomerState, history)
        .when((state) => decideChangePackage(state, tenMegabit(), fiveMegabit(), isp(), NOON_16_NOV))
        .then([changed('pkg-5m', '60.00', '100.00', '40.00'), prorationBill('pkg-5m', '40.00', '2026-11-10', '2026-11-16', '2026-11-21')]);
      given(evolveCustomer, initialCustomerState, [...history, ...change])
        .when((state) => decideIssueMonthlyBill(state, fiveMegabit(), '2026-12', contextAt('2026-12-01T06:00:00Z')))
        .then([expect.objectContaining({ type: 'bill-issued', data: expect.objectContaining({ covers_from: '2026-11-10', amount: '210.00' }) }) as CustomerEvent]);
    });

    it('settles nothing for a prepaid customer changing on its billing day before the run, which then bills the new price', () => {
      const history = [...prepaidFrom1Nov, ...paidByCredit('cus-1:2026-11', '500.00')];
      given(evolveCustomer, initialCustomerState, history)
        .when((state) => decideChangePackage(state, tenMegabit(), twentyMegabit(), isp(), contextAt('2026-12-01T06:00:00Z')))
        .then([changed('pkg-20m', '0.00', '0.00', '0.00', '2026-12-01')]);
    });
  });

  it('prorates a daily customer over its remaining validity, the bill due at once', () => {
    given(evolveCustomer, initialCustomerState, activeUntil1Dec)
      .when((state) => decideChangePackage(state, tenMegabit(), twentyMegabit(), isp(), NOON_16_NOV))
      .then([changed('pkg-20m', '250.00', '400.00', '150.00'), prorationBill('pkg-20m', '150.00', '2026-11-16', '2026-12-01', '2026-11-16')]);
  });

  it('changes nothing when the package is the current one', () => {
    given(evolveCustomer, initialCustomerState, prepaidFrom1Nov)
      .when((state) => decideChangePackage(state, tenMegabit(), tenMegabit(), isp(), NOON_16_NOV))
      .thenNothingHappens();
  });

  it('checks, in order: customer, disabled, package found in this ISP, not retired, assigned to a reseller owner', () => {
    const retired = packageState(packageCreated('pkg-20m', { price: '800.00' }), { type: 'package-retired', data: { package_id: 'pkg-20m' } });
    given(evolveCustomer, initialCustomerState)
      .when((state) => decideChangePackage(state, tenMegabit(), retired, isp(), NOON_16_NOV))
      .thenRejects('CUSTOMER_NOT_FOUND');
    given(evolveCustomer, initialCustomerState, [...prepaidFrom1Nov, disabled])
      .when((state) => decideChangePackage(state, tenMegabit(), retired, isp(), NOON_16_NOV))
      .thenRejects('CUSTOMER_DISABLED');
    given(evolveCustomer, initialCustomerState, prepaidFrom1Nov)
      .when((state) => decideChangePackage(state, tenMegabit(), packageState(), isp(), NOON_16_NOV))
      .thenRejects('PACKAGE_NOT_FOUND');
    given(evolveCustomer, initialCustomerState, prepaidFrom1Nov)
      .when((state) => decideChangePackage(state, tenMegabit(), retired, isp(), NOON_16_NOV))
      .thenRejects('PACKAGE_RETIRED');
    const resellerCustomer = [customerRegistered({ operator_id: 'res-1', chain: [TENANT, 'res-1'], profile: monthly(1, 'prepaid'), registered_on: '2026-11-01' }), billIssued('2026-11', '500.00')];
    given(evolveCustomer, initialCustomerState, resellerCustomer)
      .when((state) => decideChangePackage(state, tenMegabit(), twentyMegabit(), reseller(), NOON_16_NOV))
      .thenRejects('PACKAGE_NOT_ASSIGNED');
    given(evolveCustomer, initialCustomerState, resellerCustomer)
      .when((state) => decideChangePackage(state, tenMegabit(), twentyMegabit(), reseller(packageAssigned('res-1', 'pkg-20m', '600.00')), NOON_16_NOV))
      .then([changed('pkg-20m', '250.00', '400.00', '150.00'), prorationBill('pkg-20m', '150.00', '2026-11-16', '2026-12-01', '2026-11-21')]);
  });
});

describe('setting a special price', () => {
  const resellerCustomer = [customerRegistered({ operator_id: 'res-1', chain: [TENANT, 'res-1'] })];

  it('sets a price at or above what the owner pays, and not below', () => {
    given(evolveCustomer, initialCustomerState, resellerCustomer)
      .when((state) => decideSetSpecialPrice(state, '350', reseller(), NOON_16_NOV))
      .then([{ type: 'special-price-set', data: { customer_id: 'cus-1', special_price: '350.00' } }]);
    given(evolveCustomer, initialCustomerState, resellerCustomer)
      .when((state) => decideSetSpecialPrice(state, '349.99', reseller(), NOON_16_NOV))
      .thenRejects('PRICE_BELOW_WHOLESALE');
  });

  it('returns to the list price with null, once', () => {
    const withSpecial = [customerRegistered({ special_price: '450.00' })];
    given(evolveCustomer, initialCustomerState, withSpecial)
      .when((state) => decideSetSpecialPrice(state, null, isp(), NOON_16_NOV))
      .then([{ type: 'special-price-set', data: { customer_id: 'cus-1', special_price: null } }]);
    given(evolveCustomer, initialCustomerState, [daily])
      .when((state) => decideSetSpecialPrice(state, null, isp(), NOON_16_NOV))
      .thenNothingHappens();
  });

  it('refuses an amount that is malformed or negative, and a missing customer', () => {
    for (const price of ['-1', '1.234', 'cheap']) {
      given(evolveCustomer, initialCustomerState, [daily])
        .when((state) => decideSetSpecialPrice(state, price, isp(), NOON_16_NOV))
        .thenRejects('INVALID_AMOUNT');
    }
    given(evolveCustomer, initialCustomerState)
      .when((state) => decideSetSpecialPrice(state, '1', isp(), NOON_16_NOV))
      .thenRejects('CUSTOMER_NOT_FOUND');
  });
});

describe('moving a customer to another operator', () => {
  const subCustomer = [customerRegistered({ operator_id: 'sub-1', chain: [TENANT, 'res-1', 'sub-1'] })];
  const otherReseller = (...more: readonly OperatorEvent[]) => operatorState(operatorCreated('res-2', [TENANT]), ...more);

  it('lets a reseller move its sub-reseller’s customer to itself, the chain following', () => {
    given(evolveCustomer, initialCustomerState, subCustomer)
      .when((state) => decideMove(state, subReseller(), reseller(), NOON_16_NOV, 'res-1'))
      .then([{ type: 'customer-moved', data: { customer_id: 'cus-1', from_operator_id: 'sub-1', to_operator_id: 'res-1', chain: [TENANT, 'res-1'] } }]);
  });

  it('lets the ISP move a customer down its tree', () => {
    given(evolveCustomer, initialCustomerState, [daily])
      .when((state) => decideMove(state, isp(), subReseller(), NOON_16_NOV, TENANT))
      .then([{ type: 'customer-moved', data: { customer_id: 'cus-1', from_operator_id: TENANT, to_operator_id: 'sub-1', chain: [TENANT, 'res-1', 'sub-1'] } }]);
  });

  it('refuses a move outside the mover’s subtree, from either end', () => {
    const res2 = otherReseller(packageAssigned('res-2', PACKAGE_ID, '300.00'));
    given(evolveCustomer, initialCustomerState, subCustomer)
      .when((state) => decideMove(state, subReseller(), res2, NOON_16_NOV, 'res-1'))
      .thenRejects('OPERATOR_NOT_IN_SUBTREE');
    given(evolveCustomer, initialCustomerState, subCustomer)
      .when((state) => decideMove(state, subReseller(), reseller(), NOON_16_NOV, 'sub-1'))
      .thenRejects('OPERATOR_NOT_IN_SUBTREE');
    given(evolveCustomer, initialCustomerState, subCustomer)
      .when((state) => decideMove(state, subReseller(), res2, NOON_16_NOV, TENANT))
      .then([{ type: 'customer-moved', data: { customer_id: 'cus-1', from_operator_id: 'sub-1', to_operator_id: 'res-2', chain: [TENANT, 'res-2'] } }]);
  });

  it('checks, in order: customer, target exists, same ISP, subtree, target active, then same owner and package', () => {
    const suspendedRes2 = otherReseller({ type: 'operator-suspended', data: { operator_id: 'res-2', reason: 'dues' } });
    given(evolveCustomer, initialCustomerState)
      .when((state) => decideMove(state, subReseller(), operatorState(), NOON_16_NOV, TENANT))
      .thenRejects('CUSTOMER_NOT_FOUND');
    given(evolveCustomer, initialCustomerState, subCustomer)
      .when((state) => decideMove(state, subReseller(), operatorState(), NOON_16_NOV, TENANT))
      .thenRejects('OPERATOR_NOT_FOUND');
    given(evolveCustomer, initialCustomerState, subCustomer)
      .when((state) => decideMove(state, subReseller(), operatorState(ispRegistered('isp-2')), NOON_16_NOV, TENANT))
      .thenRejects('WRONG_TENANT');
    given(evolveCustomer, initialCustomerState, subCustomer)
      .when((state) => decideMove(state, subReseller(), suspendedRes2, NOON_16_NOV, 'res-1'))
      .thenRejects('OPERATOR_NOT_IN_SUBTREE');
    given(evolveCustomer, initialCustomerState, subCustomer)
      .when((state) => decideMove(state, subReseller(), suspendedRes2, NOON_16_NOV, TENANT))
      .thenRejects('OPERATOR_SUSPENDED');
    given(evolveCustomer, initialCustomerState, subCustomer)
      .when((state) => decideMove(state, subReseller(), subReseller(), NOON_16_NOV, 'res-1'))
      .thenNothingHappens();
    given(evolveCustomer, initialCustomerState, subCustomer)
      .when((state) => decideMove(state, subReseller(), otherReseller(), NOON_16_NOV, TENANT))
      .thenRejects('PACKAGE_NOT_ASSIGNED');
  });
});

describe('switching between daily and monthly billing', () => {
  it('starts monthly billing when the paid daily validity ends', () => {
    given(evolveCustomer, initialCustomerState, activeUntil1Dec)
      .when((state) => decideSwitchProfile(state, monthly(1, 'prepaid'), NOON_16_NOV))
      .then([{ type: 'billing-profile-changed', data: { customer_id: 'cus-1', from: DAILY, to: monthly(1, 'prepaid'), billing_starts_on: '2026-12-01', expires_at: null } }]);
  });

  it('starts monthly billing today, and serves again, a daily customer whose validity has run out', () => {
    given(evolveCustomer, initialCustomerState, [...activeUntil1Dec, expired])
      .when((state) => decideSwitchProfile(state, monthly(10, 'postpaid'), contextAt('2026-12-03T06:00:00Z')))
      .then([
        { type: 'billing-profile-changed', data: { customer_id: 'cus-1', from: DAILY, to: monthly(10, 'postpaid'), billing_starts_on: '2026-12-03', expires_at: null } },
        { type: 'customer-reactivated', data: { customer_id: 'cus-1', reason: 'expiry-extended' } },
      ]);
  });

  it('gives a prepaid monthly customer validity to the end of the period it has paid for', () => {
    given(evolveCustomer, initialCustomerState, [...prepaidFrom1Nov, ...paidByCredit('cus-1:2026-11', '500.00')])
      .when((state) => decideSwitchProfile(state, DAILY, NOON_16_NOV))
      .then([{ type: 'billing-profile-changed', data: { customer_id: 'cus-1', from: monthly(1, 'prepaid'), to: DAILY, billing_starts_on: null, expires_at: midnight('2026-12-01') } }]);
  });

  it('expires a monthly customer at once when its current period is not paid', () => {
    given(evolveCustomer, initialCustomerState, prepaidFrom1Nov)
      .when((state) => decideSwitchProfile(state, DAILY, NOON_16_NOV))
      .then([
        { type: 'billing-profile-changed', data: { customer_id: 'cus-1', from: monthly(1, 'prepaid'), to: DAILY, billing_starts_on: null, expires_at: midnight('2026-11-16') } },
        { type: 'customer-expired', data: { customer_id: 'cus-1', expired_at: '2026-11-16T06:00:00.000Z' } },
      ]);
  });

  it('does not count a paid postpaid bill as paying for the period it is keyed by, which it does not cover', () => {
    // The postpaid bill keyed 2026-11 covers October; on 16 November nothing ahead is paid for.
    const history = [customerRegistered({ profile: monthly(1, 'postpaid'), registered_on: '2026-10-01' }), billIssued('2026-11', '500.00', { covers_from: '2026-10-01', covers_until: '2026-11-01' }), ...paidByCredit('cus-1:2026-11', '500.00')];
    given(evolveCustomer, initialCustomerState, history)
      .when((state) => decideSwitchProfile(state, DAILY, NOON_16_NOV))
      .then([
        { type: 'billing-profile-changed', data: { customer_id: 'cus-1', from: monthly(1, 'postpaid'), to: DAILY, billing_starts_on: null, expires_at: midnight('2026-11-16') } },
        { type: 'customer-expired', data: { customer_id: 'cus-1', expired_at: '2026-11-16T06:00:00.000Z' } },
      ]);
  });

  it('changes nothing for the same profile, and refuses an invalid one', () => {
    given(evolveCustomer, initialCustomerState, prepaidFrom1Nov)
      .when((state) => decideSwitchProfile(state, monthly(1, 'prepaid'), NOON_16_NOV))
      .thenNothingHappens();
    given(evolveCustomer, initialCustomerState, activeUntil1Dec)
      .when((state) => decideSwitchProfile(state, DAILY, NOON_16_NOV))
      .thenNothingHappens();
    given(evolveCustomer, initialCustomerState, activeUntil1Dec)
      .when((state) => decideSwitchProfile(state, monthly(0, 'prepaid'), NOON_16_NOV))
      .thenRejects('INVALID_INPUT');
    given(evolveCustomer, initialCustomerState)
      .when((state) => decideSwitchProfile(state, monthly(0, 'prepaid'), NOON_16_NOV))
      .thenRejects('CUSTOMER_NOT_FOUND');
  });

  it('bills a customer who switched to monthly from the day billing starts', () => {
    const switched = given(evolveCustomer, initialCustomerState, activeUntil1Dec)
      .when((state) => decideSwitchProfile(state, monthly(20, 'prepaid'), NOON_16_NOV))
      .then([{ type: 'billing-profile-changed', data: { customer_id: 'cus-1', from: DAILY, to: monthly(20, 'prepaid'), billing_starts_on: '2026-12-01', expires_at: null } }]);
    // The period from 20 November to 20 December is billed from 1 December: 19 of 30 days of 500.00.
    given(evolveCustomer, initialCustomerState, [...activeUntil1Dec, ...switched])
      .when((state) => decideIssueMonthlyBill(state, tenMegabit(), '2026-11', contextAt('2026-11-20T06:00:00Z')))
      .then([expect.objectContaining({ data: expect.objectContaining({ kind: 'first-period', covers_from: '2026-12-01', covers_until: '2026-12-20', amount: '316.67' }) }) as CustomerEvent]);
  });
});
