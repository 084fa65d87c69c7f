import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { billingPeriodFor, billingPeriodOf } from '../calendar/billing-period.js';
import { formatYearMonth, localDateOf } from '../calendar/local-date.js';
import type { CustomerEvent, CustomerState } from '../customers/customer.js';
import { evolveCustomer, initialCustomerState } from '../customers/customer-evolve.js';
import { decideChangePackage } from '../customers/lifecycle.js';
import { decideRegisterCustomer } from '../customers/registration.js';
import { Money } from '../money/money.js';
import type { PackageState } from '../packages/package.js';
import { PACKAGE_ID, TENANT, contextAt, monthly, operatorState, packageCreated, packageState } from '../shared/spec-fixtures.js';
import { decideIssueMonthlyBill } from './monthly-bill-run.js';

/**
 * Bill runs are idempotent and issue one bill per period: for random monthly customers (any due day, prepaid or
 * postpaid, registered at any moment in a few zones) and random histories of bill runs (for the current,
 * previous or next period, early or late), credits and package changes, deciding a period again after its
 * events are applied issues nothing, no period ever has two bills (proration bills aside), and the periods the
 * bills cover never overlap.
 */
const ZONES = ['Asia/Dhaka', 'America/New_York', 'Australia/Lord_Howe', 'UTC'] as const;
const DAY_MS = 86_400_000;

const ispIn = (time_zone: string) =>
  operatorState({ type: 'isp-registered', data: { operator_id: TENANT, name: 'Dhaka Net', currency: 'BDT', time_zone, address: 'Road 1' } });

const actionArb = fc.record({
  at_ms: fc.integer({ min: 0, max: 430 * DAY_MS }),
  action: fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('run' as const), shift: fc.constantFrom(-1, 0, 0, 0, 1) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('credit' as const), amount_minor: fc.bigInt({ min: 1n, max: 100_000n }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('change' as const) }) },
  ),
});

const customerArb = fc.record({
  zone: fc.constantFrom(...ZONES),
  due_day: fc.integer({ min: 1, max: 31 }),
  mode: fc.constantFrom('prepaid' as const, 'postpaid' as const),
  grace_days: fc.integer({ min: 0, max: 10 }),
  registered_at: fc.date({ min: new Date('2026-01-01T00:00:00Z'), max: new Date('2028-12-31T00:00:00Z'), noInvalidDate: true }),
  price_minor: fc.bigInt({ min: 0n, max: 300_000n }),
  actions: fc.array(actionArb, { minLength: 1, maxLength: 20 }),
});

function shiftPeriod(period: string, months: number): string {
  const index = Number(period.slice(0, 4)) * 12 + Number(period.slice(5, 7)) - 1 + months;
  return formatYearMonth(Math.floor(index / 12), (index % 12) + 1);
}

describe('monthly bill runs', () => {
  it('issue nothing the second time, one bill per period, and never bill a day twice', () => {
    fc.assert(
      fc.property(customerArb, (c) => {
        const isp = ispIn(c.zone);
        const packages: Readonly<Record<string, PackageState>> = {
          [PACKAGE_ID]: packageState(packageCreated(PACKAGE_ID, { price: Money.fromMinor(c.price_minor, 'BDT').toString() })),
          'pkg-20m': packageState(packageCreated('pkg-20m', { price: Money.fromMinor(c.price_minor * 2n + 1n, 'BDT').toString() })),
        };
        const registration = decideRegisterCustomer(
          initialCustomerState(),
          {
            customer_id: 'cus-1',
            operator_id: TENANT,
            connection_type: 'pppoe',
            name: 'Alice',
            mobile: '',
            zone: '',
            username: 'alice',
            password: 'pw',
            mac: null,
            static_ip: null,
            package_id: PACKAGE_ID,
            profile: monthly(c.due_day, c.mode, c.grace_days),
            special_price: null,
            self_registered: false,
          },
          isp,
          isp,
          packages[PACKAGE_ID]!,
          contextAt(c.registered_at.toISOString()),
        );
        if (!registration.ok) throw new Error(`registration refused: ${registration.rejection.code}`);
        const history: CustomerEvent[] = [...registration.events];
        let state: CustomerState = registration.events.reduce(evolveCustomer, initialCustomerState());
        const apply = (events: readonly CustomerEvent[]) => {
          history.push(...events);
          state = events.reduce(evolveCustomer, state);
        };

        let last = contextAt(c.registered_at.toISOString());
        for (const { at_ms, action } of [...c.actions].sort((a, b) => a.at_ms - b.at_ms)) {
          const context = contextAt(new Date(c.registered_at.getTime() + at_ms).toISOString());
          last = context;
          if (action.kind === 'credit') {
            apply([{ type: 'credit-granted', data: { customer_id: 'cus-1', amount: Money.fromMinor(action.amount_minor, 'BDT').toString(), reason: 'adjustment' } }]);
            continue;
          }
          if (action.kind === 'change') {
            const to = state.package_id === PACKAGE_ID ? 'pkg-20m' : PACKAGE_ID;
            const changed = decideChangePackage(state, packages[state.package_id]!, packages[to]!, isp, context);
            if (!changed.ok) throw new Error(`package change refused: ${changed.rejection.code}`);
            apply(changed.events);
            continue;
          }
          const today = localDateOf(context.now, c.zone);
          const period = shiftPeriod(billingPeriodFor(today, c.due_day).period, action.shift);
          const pkg = packages[state.package_id]!;
          const decision = decideIssueMonthlyBill(state, pkg, period, context);
          if (!decision.ok) {
            expect(decision.rejection.code).toBe('BILL_NOT_DUE_YET');
            expect(billingPeriodOf(period, c.due_day).starts_on > today).toBe(true);
            continue;
          }
          apply(decision.events);
          const again = decideIssueMonthlyBill(state, pkg, period, context);
          expect(again).toEqual({ ok: true, events: [] });
        }

        const periodBills = state.bills.filter((bill) => bill.kind !== 'proration');
        expect(new Set(periodBills.map((bill) => bill.period)).size).toBe(periodBills.length);
        expect(new Set(state.bills.map((bill) => bill.bill_id)).size).toBe(state.bills.length);
        // Later runs of every billed period, at the last moment seen, still issue nothing.
        for (const bill of periodBills) {
          expect(decideIssueMonthlyBill(state, packages[state.package_id]!, bill.period, last)).toEqual({ ok: true, events: [] });
        }
        // No day is billed by two period bills (the registration's own bill included): their coverage never
        // overlaps, and none starts before the customer registered.
        const coverage = history
          .flatMap((event) => (event.type === 'bill-issued' && event.data.kind !== 'proration' ? [event.data] : []))
          .sort((a, b) => (a.covers_from < b.covers_from ? -1 : 1));
        for (const [index, bill] of coverage.entries()) {
          expect(bill.covers_from >= state.registered_on).toBe(true);
          expect(bill.covers_from < bill.covers_until).toBe(true);
          if (index > 0) expect(coverage[index - 1]!.covers_until <= bill.covers_from).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
  });
});
