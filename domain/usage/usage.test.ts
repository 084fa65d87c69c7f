import { describe, expect, it } from 'vitest';
import { billIssued, contextAt, customerRegistered, customerState, monthly, packageCreated, packageState, PACKAGE_ID, rechargedUntil } from '../shared/spec-fixtures.js';
import { decideIssueMonthlyBill } from '../billing/monthly-bill-run.js';
import type { CustomerEvent } from '../customers/customer.js';
import { decideRecordUsage, evolveUsage, initialUsageState, OCTETS_PER_MB, type RecordUsage, type UsageEvent, type UsageState } from './usage.js';

const quota = packageState(packageCreated(PACKAGE_ID, { data_quota_mb: 100 }));
const unlimited = packageState(packageCreated(PACKAGE_ID));
const mb = (n: number): string => (BigInt(n) * OCTETS_PER_MB).toString();
const session = (id: string, octets: string, overrides: Partial<RecordUsage> = {}): RecordUsage => ({
  customer_id: 'cus-1',
  session_id: id,
  input_octets: '0',
  output_octets: octets,
  started_at: '2026-11-20T08:00:00Z',
  stopped_at: '2026-11-20T09:00:00Z',
  ...overrides,
});
const NOW = contextAt('2026-11-20T09:00:05Z');
const daily = customerState(customerRegistered(), ...rechargedUntil('2026-12-15T18:00:00.000Z'));

function record(usage: UsageState, events: readonly UsageEvent[]): UsageState {
  return events.reduce(evolveUsage, usage);
}

describe('usage and data quotas', () => {
  it('counts sessions toward the current validity and cuts the customer off when the quota is reached', () => {
    const first = decideRecordUsage(initialUsageState(), daily, quota, session('s1', mb(60)), NOW);
    if (!first.ok) throw new Error('refused');
    expect(first.customer).toEqual([]);
    expect(first.usage[0]!.data).toMatchObject({ usage_period: 'validity:2026-12-15T18:00:00.000Z', period_octets: mb(60) });
    const second = decideRecordUsage(record(initialUsageState(), first.usage), daily, quota, session('s2', mb(40)), NOW);
    if (!second.ok) throw new Error('refused');
    expect(second.customer).toEqual([
      { type: 'data-quota-reached', data: { customer_id: 'cus-1', package_id: PACKAGE_ID, quota_mb: 100, used_octets: mb(100), usage_period: 'validity:2026-12-15T18:00:00.000Z' } },
      { type: 'customer-expired', data: { customer_id: 'cus-1', expired_at: '2026-11-20T09:00:05.000Z' } },
    ]);
  });

  it('counts a session once, never cuts off twice, and ignores quotas of unlimited packages', () => {
    const first = decideRecordUsage(initialUsageState(), daily, quota, session('s1', mb(200)), NOW);
    if (!first.ok) throw new Error('refused');
    const usage = record(initialUsageState(), first.usage);
    expect(decideRecordUsage(usage, daily, quota, session('s1', mb(200)), NOW)).toEqual({ ok: true, usage: [], customer: [] });
    const cut = customerState(customerRegistered(), ...rechargedUntil('2026-12-15T18:00:00.000Z'), ...(first.customer as CustomerEvent[]));
    const later = decideRecordUsage(usage, cut, quota, session('s2', mb(1)), NOW);
    expect(later.ok && later.customer).toEqual([]);
    const free = decideRecordUsage(initialUsageState(), daily, unlimited, session('s1', mb(10_000)), NOW);
    expect(free.ok && free.customer).toEqual([]);
  });

  it('starts a fresh period with a recharge (daily) and with the billing period (monthly), which the bill renews', () => {
    const first = decideRecordUsage(initialUsageState(), daily, quota, session('s1', mb(90)), NOW);
    if (!first.ok) throw new Error('refused');
    const recharged = customerState(customerRegistered(), ...rechargedUntil('2027-01-14T18:00:00.000Z'));
    const next = decideRecordUsage(record(initialUsageState(), first.usage), recharged, quota, session('s2', mb(20)), NOW);
    expect(next.ok && next.usage[0]!.data.period_octets).toBe(mb(20));

    const monthlyCustomer = customerState(customerRegistered({ profile: monthly(1, 'prepaid') }), billIssued('2026-11', '500.00'));
    const over = decideRecordUsage(initialUsageState(), monthlyCustomer, quota, session('m1', mb(150)), NOW);
    if (!over.ok) throw new Error('refused');
    expect(over.usage[0]!.data.usage_period).toBe('period:2026-11');
    const locked = customerState(customerRegistered({ profile: monthly(1, 'prepaid') }), billIssued('2026-11', '500.00'), ...(over.customer as CustomerEvent[]));
    expect(locked.quota_locked_period).toBe('period:2026-11');
    const december = decideIssueMonthlyBill(locked, unlimited, '2026-12', contextAt('2026-11-30T18:30:00Z'));
    expect(december.ok && december.events.map((event) => event.type)).toEqual(['bill-issued', 'customer-reactivated']);
  });

  it.each<[string, Partial<RecordUsage>]>([
    ['negative octets', { output_octets: '-1' }],
    ['octets beyond 2^63', { input_octets: '9223372036854775808' }],
    ['a fractional count', { input_octets: '1.5' }],
    ['a time without zone', { stopped_at: '2026-11-20 09:00' }],
    ['a stop before the start', { started_at: '2026-11-20T10:00:00Z' }],
    ['a stop in the future', { stopped_at: '2026-11-21T09:00:00Z' }],
    ['an empty session id', { session_id: ' ' }],
  ])('refuses %s with INVALID_INPUT', (_what, overrides) => {
    const decision = decideRecordUsage(initialUsageState(), daily, quota, session('s1', '5', overrides), NOW);
    expect(decision.ok ? null : decision.rejection.code).toBe('INVALID_INPUT');
  });

  it('refuses a customer that does not exist', () => {
    const decision = decideRecordUsage(initialUsageState(), customerState(), quota, session('s1', '5'), NOW);
    expect(decision.ok ? null : decision.rejection.code).toBe('CUSTOMER_NOT_FOUND');
  });
});
