import { billingPeriodOf } from '../calendar/billing-period.js';
import { addDays } from '../calendar/local-date.js';
import type { CustomerEvent, CustomerState, BillingProfile } from '../customers/customer.js';
import { evolveCustomer, initialCustomerState } from '../customers/customer-evolve.js';
import { evolveOperator, initialOperatorState, type BillingMode, type OperatorEvent, type OperatorState } from '../operators/operator.js';
import { evolvePackage, initialPackageState, type PackageEvent, type PackageSpec, type PackageState } from '../packages/package.js';
import type { RouterEvent, RouterSettings } from '../routers/router.js';
import type { Actor, CommandContext } from './command-context.js';

/**
 * Test code only: the ISP every decider spec starts from, as events, so a spec's "given" reads as history.
 * One ISP in Asia/Dhaka (UTC+6, no daylight saving) billing in BDT: ISP → reseller (60 % share) → sub-reseller
 * (50 % share of that), and a 10 Mbit/s package at 500.00 for 30 days.
 */
export const TENANT = 'isp-1';
export const ZONE = 'Asia/Dhaka';
export const CURRENCY = 'BDT';
export const ADMIN: Actor = { id: 'admin-1', role: 'admin' };

export const at = (iso: string): Date => new Date(iso);

/** A command's context at a fixed instant; nothing in a spec reads the clock. */
export const contextAt = (iso: string, options: Readonly<{ tenant?: string; actor?: Actor }> = {}): CommandContext => ({
  tenant: options.tenant ?? TENANT,
  actor: options.actor ?? ADMIN,
  now: at(iso),
});

// --- operators -------------------------------------------------------------------------------------------

export const ispRegistered = (operator_id: string = TENANT): OperatorEvent => ({
  type: 'isp-registered',
  data: { operator_id, name: 'Dhaka Net', currency: CURRENCY, time_zone: ZONE, address: 'Road 1, Dhanmondi' },
});

export const operatorCreated = (
  operator_id: string,
  ancestry: readonly string[],
  options: Readonly<{ billing_mode?: BillingMode; credit_limit?: string; name?: string }> = {},
): OperatorEvent => ({
  type: 'operator-created',
  data: {
    operator_id,
    parent_id: ancestry[ancestry.length - 1]!,
    ancestry,
    role: ancestry.length === 1 ? 'reseller' : 'sub_reseller',
    name: options.name ?? operator_id,
    currency: CURRENCY,
    time_zone: ZONE,
    billing_mode: options.billing_mode ?? 'prepaid',
    credit_limit: options.credit_limit ?? '0.00',
  },
});

export const shareSet = (operator_id: string, percent: string, effective_from = '2026-01-01'): OperatorEvent => ({
  type: 'commission-terms-set',
  data: { operator_id, effective_from, terms: { kind: 'share', percent } },
});

export const wholesaleTermsSet = (operator_id: string, effective_from = '2026-01-01'): OperatorEvent => ({
  type: 'commission-terms-set',
  data: { operator_id, effective_from, terms: { kind: 'wholesale' } },
});

export const packageAssigned = (operator_id: string, package_id: string, wholesale_price: string, effective_from = '2026-01-01'): OperatorEvent => ({
  type: 'package-assigned',
  data: { operator_id, package_id, wholesale_price, effective_from },
});

export const walletToppedUp = (operator_id: string, amount: string): OperatorEvent => ({
  type: 'wallet-topped-up',
  data: { operator_id, amount, method: 'cash', reference: `top-up-${amount}` },
});

export function operatorState(...events: readonly OperatorEvent[]): OperatorState {
  return events.reduce<OperatorState>(evolveOperator, initialOperatorState());
}

export const isp = (): OperatorState => operatorState(ispRegistered());

/** The reseller `res-1` under the ISP with a 60 % share and the package at 350.00; more events may follow. */
export const reseller = (...more: readonly OperatorEvent[]): OperatorState =>
  operatorState(operatorCreated('res-1', [TENANT]), shareSet('res-1', '60'), packageAssigned('res-1', PACKAGE_ID, '350.00'), ...more);

/** The sub-reseller `sub-1` under `res-1` with a 50 % share and the package at 400.00; more events may follow. */
export const subReseller = (...more: readonly OperatorEvent[]): OperatorState =>
  operatorState(operatorCreated('sub-1', [TENANT, 'res-1']), shareSet('sub-1', '50'), packageAssigned('sub-1', PACKAGE_ID, '400.00'), ...more);

// --- packages --------------------------------------------------------------------------------------------

export const PACKAGE_ID = 'pkg-10m';

export const packageSpec = (overrides: Partial<PackageSpec> = {}): PackageSpec => ({
  name: '10 Mbit/s',
  down_kbps: 10_000,
  up_kbps: 10_000,
  burst: null,
  price: '500.00',
  validity_days: 30,
  ip_pool: 'pool-10m',
  data_quota_mb: null,
  ...overrides,
});

export const packageCreated = (package_id: string = PACKAGE_ID, overrides: Partial<PackageSpec> = {}): PackageEvent => ({
  type: 'package-created',
  data: { ...packageSpec(overrides), package_id, tenant: TENANT, currency: CURRENCY },
});

export function packageState(...events: readonly PackageEvent[]): PackageState {
  return events.reduce<PackageState>(evolvePackage, initialPackageState());
}

export const tenMegabit = (): PackageState => packageState(packageCreated());

// --- routers ---------------------------------------------------------------------------------------------

export const ROUTER_ID = 'rtr-1';

/** The ISP's router `rtr-1` at 10.0.0.1 with the defaults for the CoA port and the Message-Authenticator rule. */
export const routerRegistered = (overrides: Partial<RouterSettings> = {}, router_id: string = ROUTER_ID): RouterEvent => ({
  type: 'router-registered',
  data: {
    router_id,
    tenant: TENANT,
    name: 'Mirpur core',
    nas_ip: '10.0.0.1',
    secret: 'radius-secret-1',
    coa_port: 3799,
    require_message_authenticator: true,
    description: '',
    ...overrides,
  },
});

// --- customers -------------------------------------------------------------------------------------------

export const DAILY: BillingProfile = { kind: 'daily' };
export const monthly = (due_day: number, mode: 'prepaid' | 'postpaid', grace_days = 5): BillingProfile => ({ kind: 'monthly', due_day, mode, grace_days });

type RegisteredData = Extract<CustomerEvent, { type: 'customer-registered' }>['data'];

/** A PPPoE customer `cus-1` of the ISP itself on the 10 Mbit/s package, daily unless told otherwise. */
export const customerRegistered = (overrides: Partial<RegisteredData> = {}): CustomerEvent => ({
  type: 'customer-registered',
  data: {
    customer_id: 'cus-1',
    tenant: TENANT,
    operator_id: TENANT,
    chain: [TENANT],
    connection_type: 'pppoe',
    username: 'alice',
    password: 'secret-1',
    mac: null,
    static_ip: null,
    name: 'Alice',
    mobile: '01700000000',
    zone: 'Dhanmondi',
    package_id: PACKAGE_ID,
    profile: DAILY,
    special_price: null,
    currency: CURRENCY,
    time_zone: ZONE,
    registered_on: '2026-11-16',
    self_registered: false,
    ...overrides,
  },
});

type BillData = Extract<CustomerEvent, { type: 'bill-issued' }>['data'];

/** The monthly bill of `cus-1` for a period of due day 1, issued on its first day and due five days later. */
export const billIssued = (period: string, amount: string, overrides: Partial<BillData> = {}): CustomerEvent => {
  const { starts_on, ends_before } = billingPeriodOf(period, 1);
  return {
    type: 'bill-issued',
    data: {
      bill_id: `cus-1:${period}`,
      customer_id: 'cus-1',
      kind: 'monthly',
      period,
      covers_from: starts_on,
      covers_until: ends_before,
      package_id: PACKAGE_ID,
      amount,
      currency: CURRENCY,
      issued_on: starts_on,
      due_on: addDays(starts_on, 5),
      ...overrides,
    },
  };
};

/** `cus-1` recharged (by payment `payment_id`) to be served until `expires_at`, and active again. */
export const rechargedUntil = (expires_at: string, payment_id = 'pay-0', expires_at_before: string | null = null): readonly CustomerEvent[] => [
  { type: 'customer-recharged', data: { customer_id: 'cus-1', payment_id, package_id: PACKAGE_ID, days: 30, price: '500.00', expires_at_before, expires_at_after: expires_at } },
  { type: 'customer-reactivated', data: { customer_id: 'cus-1', reason: 'recharged' } },
];

export function customerState(...events: readonly CustomerEvent[]): CustomerState {
  return events.reduce<CustomerState>(evolveCustomer, initialCustomerState());
}

/** The events of an accepted decision, for building the history of a later spec; a refusal is a broken setup. */
export function acceptedEvents<Event>(decision: Readonly<{ ok: true; events: readonly Event[] }> | Readonly<{ ok: false; rejection: { code: string; message: string } }>): readonly Event[] {
  if (!decision.ok) throw new Error(`setup refused with ${decision.rejection.code}: ${decision.rejection.message}`);
  return decision.events;
}
