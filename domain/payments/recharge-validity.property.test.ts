import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { daysBetween, isLocalMidnight, localDateOf } from '../calendar/local-date.js';
import { decideExpire } from '../customers/lifecycle.js';
import type { CustomerState } from '../customers/customer.js';
import { evolveCustomer } from '../customers/customer-evolve.js';
import { contextAt, customerRegistered, customerState, isp, packageCreated, packageState, TENANT } from '../shared/spec-fixtures.js';
import { decideReceivePayment } from './receive-payment.js';

/**
 * Daily validity bought through payments: whatever the zone, the instants and the order of recharges and expiry
 * sweeps, the expiry never moves back, always falls on a local midnight, and no paid day is lost — counting
 * local calendar days, what is left after a recharge is at least everything bought so far less the days gone by.
 */
const ZONES = ['Asia/Dhaka', 'Asia/Kathmandu', 'America/New_York', 'Europe/London', 'Australia/Lord_Howe', 'America/Santiago'] as const;
const PACKAGES = [
  packageState(packageCreated('pkg-day', { price: '20.00', validity_days: 1 })),
  packageState(packageCreated('pkg-week', { price: '100.00', validity_days: 7 })),
  packageState(packageCreated('pkg-month', { price: '500.00', validity_days: 30 })),
];
const DAY_MS = 86_400_000;

const stepArb = fc.record({
  gap_ms: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 40 * DAY_MS }), fc.integer({ min: 0, max: 2 * DAY_MS })),
  package_index: fc.integer({ min: 0, max: PACKAGES.length - 1 }),
  sweep_first: fc.boolean(),
});

describe('validity bought through recharges', () => {
  it('never moves back, ends on a local midnight, and never loses a paid day', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ZONES),
        fc.date({ min: new Date('2026-01-01T00:00:00Z'), max: new Date('2030-01-01T00:00:00Z'), noInvalidDate: true }),
        fc.array(stepArb, { minLength: 1, maxLength: 12 }),
        (zone, start, steps) => {
          let state: CustomerState = customerState(customerRegistered({ time_zone: zone, package_id: 'pkg-month' }));
          let now = start.getTime();
          let first_day: string | null = null;
          let days_bought = 0;
          for (const [index, step] of steps.entries()) {
            now += step.gap_ms;
            const context = contextAt(new Date(now).toISOString());
            if (step.sweep_first) {
              const swept = decideExpire(state, context);
              if (swept.ok) state = swept.events.reduce(evolveCustomer, state);
            }
            const pkg = PACKAGES[step.package_index]!;
            const before = state.expires_at;
            const decision = decideReceivePayment(
              state,
              [isp()],
              pkg,
              {
                payment_id: `pay-${index}`,
                method: 'cash',
                amount: pkg.spec!.price,
                collected_by: 'admin-1',
                collector_operator_id: TENANT,
                gateway: null,
                gateway_reference: null,
                card: null,
                recharge_package_id: pkg.package_id,
              },
              context,
            );
            if (!decision.ok) throw new Error(`recharge refused: ${decision.rejection.code}`);
            state = decision.outcome.customer.reduce(evolveCustomer, state);

            const expires_at = new Date(state.expires_at!);
            if (before !== null) expect(expires_at.getTime()).toBeGreaterThanOrEqual(new Date(before).getTime());
            expect(expires_at.getTime()).toBeGreaterThan(now);
            expect(isLocalMidnight(expires_at, zone)).toBe(true);
            expect(state.expired).toBe(false);

            const today = localDateOf(context.now, zone);
            first_day ??= today;
            days_bought += pkg.spec!.validity_days;
            const days_left = daysBetween(today, localDateOf(expires_at, zone));
            expect(days_left).toBeGreaterThanOrEqual(days_bought - daysBetween(first_day, today));
            expect(days_left).toBeGreaterThanOrEqual(pkg.spec!.validity_days);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
