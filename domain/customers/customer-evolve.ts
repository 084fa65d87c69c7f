import { Money } from '../money/money.js';
import type { Bill, BillingProfile, CustomerEvent, CustomerState } from './customer.js';

export const initialCustomerState = (): CustomerState => ({
  exists: false,
  customer_id: '',
  tenant: '',
  operator_id: '',
  chain: [],
  connection_type: 'pppoe',
  credentials: { username: null, password: null, mac: null, static_ip: null },
  name: '',
  mobile: '',
  zone: '',
  package_id: '',
  profile: { kind: 'daily' },
  special_price: null,
  currency: '',
  time_zone: '',
  registered_on: '',
  expires_at: null,
  suspended: false,
  disabled: false,
  expired: false,
  locked_for_unpaid: false,
  credit: '0',
  bills: [],
  billed_until: null,
  billing_starts_on: null,
  payments: {},
  recharges: {},
  gateway_references: [],
  quota_locked_period: null,
  contact: { email: null, language: null, channels: null },
});

const add = (state: CustomerState, a: string, b: string): string => Money.parse(a, state.currency).plus(Money.parse(b, state.currency)).toString();
const subtract = (state: CustomerState, a: string, b: string): string => Money.parse(a, state.currency).minus(Money.parse(b, state.currency)).toString();

function settle(state: CustomerState, bills: readonly Bill[], bill_id: string, amount: string, sign: 1 | -1): readonly Bill[] {
  return bills.map((bill) =>
    bill.bill_id === bill_id ? { ...bill, open: sign === 1 ? subtract(state, bill.open, amount) : add(state, bill.open, amount) } : bill,
  );
}

/** A daily customer has no validity until the first recharge; a monthly one is served from day one. */
export const startsExpired = (profile: BillingProfile): boolean => profile.kind === 'daily';

export function evolveCustomer(state: CustomerState, event: CustomerEvent): CustomerState {
  switch (event.type) {
    case 'customer-registered': {
      const d = event.data;
      return {
        ...initialCustomerState(),
        exists: true,
        customer_id: d.customer_id,
        tenant: d.tenant,
        operator_id: d.operator_id,
        chain: d.chain,
        connection_type: d.connection_type,
        credentials: { username: d.username, password: d.password, mac: d.mac, static_ip: d.static_ip },
        name: d.name,
        mobile: d.mobile,
        zone: d.zone,
        package_id: d.package_id,
        profile: d.profile,
        special_price: d.special_price,
        currency: d.currency,
        time_zone: d.time_zone,
        registered_on: d.registered_on,
        credit: Money.zero(d.currency).toString(),
        expired: startsExpired(d.profile),
        billing_starts_on: d.profile.kind === 'monthly' ? d.registered_on : null,
      };
    }
    case 'customer-details-changed':
      return { ...state, name: event.data.name, mobile: event.data.mobile, zone: event.data.zone };
    case 'customer-recharged':
      return {
        ...state,
        expires_at: event.data.expires_at_after,
        package_id: event.data.package_id,
        recharges: { ...state.recharges, [event.data.payment_id]: { package_id: event.data.package_id, days: event.data.days } },
      };
    case 'payment-received': {
      const d = event.data;
      let bills = state.bills;
      for (const allocation of d.allocations) bills = settle(state, bills, allocation.bill_id, allocation.amount, 1);
      return {
        ...state,
        bills,
        credit: subtract(state, add(state, state.credit, d.to_credit), d.credit_used),
        payments: {
          ...state.payments,
          [d.payment_id]: {
            payment_id: d.payment_id,
            method: d.method,
            amount: d.amount,
            refunded: Money.zero(state.currency).toString(),
            allocations: d.allocations,
            to_recharge: d.to_recharge,
            to_credit: d.to_credit,
            chain: d.chain,
            collector_operator_id: d.collector_operator_id,
            commission: d.commission,
            package_id: state.package_id,
            gateway_reference: d.gateway_reference,
            refunds: [],
          },
        },
        gateway_references: d.gateway_reference === null ? state.gateway_references : [...state.gateway_references, d.gateway_reference],
      };
    }
    case 'payment-refunded': {
      const d = event.data;
      let bills = state.bills;
      for (const reopened of d.reopened) bills = settle(state, bills, reopened.bill_id, reopened.amount, -1);
      const payment = state.payments[d.payment_id];
      return {
        ...state,
        bills,
        credit: subtract(state, state.credit, d.credit_reduced),
        payments:
          payment === undefined
            ? state.payments
            : {
                ...state.payments,
                [d.payment_id]: {
                  ...payment,
                  refunded: add(state, payment.refunded, d.amount),
                  refunds: [
                    ...payment.refunds,
                    {
                      refund_id: d.refund_id,
                      amount: d.amount,
                      reopened: d.reopened,
                      credit_reduced: d.credit_reduced,
                      recharge_reversed: d.recharge_reversed,
                      commission_clawback: d.commission_clawback,
                    },
                  ],
                },
              },
      };
    }
    case 'bill-issued': {
      const d = event.data;
      const bill: Bill = { bill_id: d.bill_id, period: d.period, kind: d.kind, amount: d.amount, open: d.amount, issued_on: d.issued_on, due_on: d.due_on };
      return {
        ...state,
        bills: [...state.bills, bill],
        billed_until: d.kind === 'proration' || (state.billed_until !== null && state.billed_until >= d.covers_until) ? state.billed_until : d.covers_until,
      };
    }
    case 'credit-applied':
      return { ...state, credit: subtract(state, state.credit, event.data.amount), bills: settle(state, state.bills, event.data.bill_id, event.data.amount, 1) };
    case 'credit-granted':
      return { ...state, credit: add(state, state.credit, event.data.amount) };
    case 'customer-suspended':
      return { ...state, suspended: true };
    case 'customer-resumed':
      return { ...state, suspended: false };
    case 'customer-expired':
      return { ...state, expired: true };
    case 'customer-locked':
      return { ...state, expired: true, locked_for_unpaid: true };
    case 'customer-reactivated':
      return { ...state, expired: false, locked_for_unpaid: false, quota_locked_period: null };
    case 'customer-disabled':
      return { ...state, disabled: true };
    case 'customer-enabled':
      return { ...state, disabled: false };
    case 'expiry-set':
      return { ...state, expires_at: event.data.expires_at };
    case 'mac-bound':
      return { ...state, credentials: { ...state.credentials, mac: event.data.mac } };
    case 'mac-unbound':
      return { ...state, credentials: { ...state.credentials, mac: null } };
    case 'package-changed':
      return { ...state, package_id: event.data.to_package_id };
    case 'special-price-set':
      return { ...state, special_price: event.data.special_price };
    case 'customer-moved':
      return { ...state, operator_id: event.data.to_operator_id, chain: event.data.chain };
    case 'billing-profile-changed':
      return { ...state, profile: event.data.to, billing_starts_on: event.data.billing_starts_on, expires_at: event.data.expires_at };
    case 'data-quota-reached':
      return { ...state, quota_locked_period: event.data.usage_period };
    case 'contact-preferences-set':
      return { ...state, contact: { email: event.data.email, language: event.data.language, channels: event.data.channels } };
  }
}

/** Bills with money still owed, oldest first (issue date, then id for a stable order). */
export function openBills(state: CustomerState): readonly Bill[] {
  return state.bills
    .filter((bill) => Money.parse(bill.open, state.currency).isPositive())
    .sort((a, b) => (a.issued_on === b.issued_on ? (a.bill_id < b.bill_id ? -1 : 1) : a.issued_on < b.issued_on ? -1 : 1));
}

export function balanceDue(state: CustomerState): Money {
  return Money.sum(
    openBills(state).map((bill) => Money.parse(bill.open, state.currency)),
    state.currency,
  );
}

/**
 * A bill id unique within the customer: the natural id when free, else with a numbered suffix (a package
 * changed twice in a day, a period key that comes round again after the due day moved).
 */
export function uniqueBillId(state: CustomerState, base: string): string {
  const taken = new Set(state.bills.map((bill) => bill.bill_id));
  let id = base;
  for (let n = 2; taken.has(id); n += 1) id = `${base}:${n}`;
  return id;
}
