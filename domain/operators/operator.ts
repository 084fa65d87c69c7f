import { createHash } from 'node:crypto';
import type { CommissionTerms } from '../commission/commission-split.js';
import { Money } from '../money/money.js';
import { isKnownCurrency } from '../money/currency.js';
import { isValidTimeZone } from '../calendar/time-zone.js';
import { isLocalDate, type LocalDate } from '../calendar/local-date.js';
import { accept, refuse, type Decision, type DomainEvent } from '../shared/decider.js';
import { checkId } from '../shared/ids.js';
import { rejection } from '../shared/rejection.js';
import { isRouterOsName } from '../shared/routeros-name.js';
import type { CommandContext } from '../shared/command-context.js';

/**
 * Operators form a tree per ISP: the ISP itself (role `admin`, the root) → `reseller` → `sub_reseller`.
 * Each lives in its stream `operator-<id>` holding its profile, commission terms, the packages its parent
 * assigned to it, and its wallet with the parent. Amounts are decimal strings in the ISP's currency.
 */
export type OperatorRole = 'admin' | 'reseller' | 'sub_reseller';
export type BillingMode = 'prepaid' | 'postpaid';

/**
 * How the ISP's RADIUS answers. A customer who may not browse (expired, suspended, locked for non-payment) is
 * either rejected outright, or let in with an address from `suspended_pool` and put on the firewall address
 * list `suspended_address_list`, where the router redirects it to a "please pay" page. Routers send an
 * accounting update every `interim_interval_seconds`.
 */
export type RadiusPolicy = Readonly<{
  blocked_access: 'reject' | 'suspended_pool';
  /** A RouterOS IP pool; set exactly when blocked_access is 'suspended_pool'. */
  suspended_pool: string | null;
  /** A RouterOS firewall address list; set exactly when blocked_access is 'suspended_pool'. */
  suspended_address_list: string | null;
  interim_interval_seconds: number;
}>;

/** What an ISP's RADIUS does until the ISP says otherwise. */
export const DEFAULT_RADIUS_POLICY: RadiusPolicy = { blocked_access: 'reject', suspended_pool: null, suspended_address_list: null, interim_interval_seconds: 300 };

/**
 * What the ISP prints on its documents (invoices, receipts, statements): where it is and how to reach it, the
 * locale amounts and dates are written in, its logo, and how customers pay. The name and currency are the
 * registration's. The address starts as the registration's; the rest is empty until the ISP sets it.
 */
export type IspProfile = Readonly<{
  address: string;
  phone: string | null;
  email: string | null;
  /** A BCP 47 tag (en-BD, bn-BD); null: the documents' default. */
  locale: string | null;
  logo: IspLogo | null;
  /** How to pay, printed on invoices: a bKash merchant number, a bank account. */
  payment_note: string | null;
}>;

export type IspLogo = Readonly<{ media_type: 'image/png' | 'image/jpeg'; data_base64: string }>;

/** The profile as the decider keeps it: the logo by its digest, so the ISP's state does not carry the image. */
export type IspProfileState = Omit<IspProfile, 'logo'> & Readonly<{ logo: Readonly<{ media_type: IspLogo['media_type']; sha256: string }> | null }>;

/** A logo is printed a few centimetres wide: 64 KiB is plenty, and it travels in an event. */
export const MAX_LOGO_BYTES = 65_536;

/** How a level below the ISP earns, as stored: wholesale prices live in package assignments. */
export type StoredTerms = Readonly<{ kind: 'share'; percent: string }> | Readonly<{ kind: 'wholesale' }>;

export type OperatorEvent =
  | DomainEvent<'isp-registered', { operator_id: string; name: string; currency: string; time_zone: string; address: string }>
  | DomainEvent<
      'operator-created',
      {
        operator_id: string;
        parent_id: string;
        /** From the ISP down to the parent: the commission chain above this operator. */
        ancestry: readonly string[];
        role: 'reseller' | 'sub_reseller';
        name: string;
        currency: string;
        /** The ISP's zone, copied down: an operator's calendar (commission dates, statements) is the ISP's. */
        time_zone: string;
        billing_mode: BillingMode;
        credit_limit: string;
      }
    >
  | DomainEvent<'operator-suspended', { operator_id: string; reason: string }>
  | DomainEvent<'operator-reinstated', { operator_id: string }>
  | DomainEvent<'operator-billing-mode-set', { operator_id: string; billing_mode: BillingMode; credit_limit: string }>
  | DomainEvent<'commission-terms-set', { operator_id: string; effective_from: LocalDate; terms: StoredTerms }>
  | DomainEvent<'package-assigned', { operator_id: string; package_id: string; wholesale_price: string; effective_from: LocalDate }>
  | DomainEvent<'package-unassigned', { operator_id: string; package_id: string }>
  | DomainEvent<'radius-policy-set', { operator_id: string } & RadiusPolicy>
  | DomainEvent<'isp-profile-set', { operator_id: string; logo_sha256: string | null } & IspProfile>
  | DomainEvent<'wallet-topped-up', { operator_id: string; amount: string; method: string; reference: string }>
  | DomainEvent<
      'wallet-debited',
      { operator_id: string; amount: string; reason: 'recharge' | 'payment' | 'adjustment'; customer_id: string | null; payment_id: string | null }
    >
  | DomainEvent<
      'wallet-credited',
      { operator_id: string; amount: string; reason: 'commission' | 'refund' | 'adjustment'; customer_id: string | null; payment_id: string | null }
    >;

export type OperatorState = Readonly<{
  exists: boolean;
  operator_id: string;
  role: OperatorRole;
  parent_id: string | null;
  ancestry: readonly string[];
  name: string;
  currency: string;
  time_zone: string;
  status: 'active' | 'suspended';
  billing_mode: BillingMode;
  credit_limit: string;
  wallet_balance: string;
  terms: readonly Readonly<{ effective_from: LocalDate; terms: StoredTerms }>[];
  packages: Readonly<Record<string, readonly Readonly<{ effective_from: LocalDate; wholesale_price: string }>[]>>;
  assigned_packages: readonly string[];
  /** Only the ISP's own (the root's) is used; other operators keep the default. */
  radius_policy: RadiusPolicy;
  /** The ISP's (the root's) only; null for every other operator. */
  isp_profile: IspProfileState | null;
}>;

export const initialOperatorState = (): OperatorState => ({
  exists: false,
  operator_id: '',
  role: 'reseller',
  parent_id: null,
  ancestry: [],
  name: '',
  currency: '',
  time_zone: '',
  status: 'active',
  billing_mode: 'prepaid',
  credit_limit: '0',
  wallet_balance: '0',
  terms: [],
  packages: {},
  assigned_packages: [],
  radius_policy: DEFAULT_RADIUS_POLICY,
  isp_profile: null,
});

export function evolveOperator(state: OperatorState, event: OperatorEvent): OperatorState {
  switch (event.type) {
    case 'isp-registered':
      return {
        ...initialOperatorState(),
        exists: true,
        operator_id: event.data.operator_id,
        role: 'admin',
        name: event.data.name,
        currency: event.data.currency,
        time_zone: event.data.time_zone,
        wallet_balance: Money.zero(event.data.currency).toString(),
        credit_limit: Money.zero(event.data.currency).toString(),
        isp_profile: { address: event.data.address, phone: null, email: null, locale: null, logo: null, payment_note: null },
      };
    case 'operator-created':
      return {
        ...initialOperatorState(),
        exists: true,
        operator_id: event.data.operator_id,
        role: event.data.role,
        parent_id: event.data.parent_id,
        ancestry: event.data.ancestry,
        name: event.data.name,
        currency: event.data.currency,
        time_zone: event.data.time_zone,
        billing_mode: event.data.billing_mode,
        credit_limit: event.data.credit_limit,
        wallet_balance: Money.zero(event.data.currency).toString(),
      };
    case 'operator-suspended':
      return { ...state, status: 'suspended' };
    case 'operator-reinstated':
      return { ...state, status: 'active' };
    case 'operator-billing-mode-set':
      return { ...state, billing_mode: event.data.billing_mode, credit_limit: event.data.credit_limit };
    case 'commission-terms-set':
      return {
        ...state,
        terms: [...state.terms.filter((t) => t.effective_from !== event.data.effective_from), { effective_from: event.data.effective_from, terms: event.data.terms }].sort(
          (a, b) => (a.effective_from < b.effective_from ? -1 : 1),
        ),
      };
    case 'package-assigned': {
      const history = (state.packages[event.data.package_id] ?? []).filter((p) => p.effective_from !== event.data.effective_from);
      return {
        ...state,
        packages: {
          ...state.packages,
          [event.data.package_id]: [...history, { effective_from: event.data.effective_from, wholesale_price: event.data.wholesale_price }].sort((a, b) =>
            a.effective_from < b.effective_from ? -1 : 1,
          ),
        },
        assigned_packages: state.assigned_packages.includes(event.data.package_id) ? state.assigned_packages : [...state.assigned_packages, event.data.package_id],
      };
    }
    case 'package-unassigned':
      return { ...state, assigned_packages: state.assigned_packages.filter((id) => id !== event.data.package_id) };
    case 'radius-policy-set': {
      const { operator_id: _id, ...radius_policy } = event.data;
      return { ...state, radius_policy };
    }
    case 'isp-profile-set': {
      const { address, phone, email, locale, logo, payment_note, logo_sha256 } = event.data;
      return { ...state, isp_profile: { address, phone, email, locale, payment_note, logo: logo === null ? null : { media_type: logo.media_type, sha256: logo_sha256 ?? '' } } };
    }
    // Wallet events carry amounts, not balances: a credit is appended without waiting for other writers of the
    // wallet (it cannot break a limit), so only the fold knows the balance.
    case 'wallet-topped-up':
    case 'wallet-credited':
      return { ...state, wallet_balance: Money.parse(state.wallet_balance, state.currency).plus(Money.parse(event.data.amount, state.currency)).toString() };
    case 'wallet-debited':
      return { ...state, wallet_balance: Money.parse(state.wallet_balance, state.currency).minus(Money.parse(event.data.amount, state.currency)).toString() };
  }
}

/** The terms in force on a local date: the latest whose effective date is on or before it. */
export function termsOn(state: OperatorState, date: LocalDate): StoredTerms | null {
  let found: StoredTerms | null = null;
  for (const entry of state.terms) if (entry.effective_from <= date) found = entry.terms;
  return found;
}

/** The wholesale price of a package to this operator on a local date, or null when not assigned then. */
export function wholesalePriceOn(state: OperatorState, package_id: string, date: LocalDate): Money | null {
  if (!state.assigned_packages.includes(package_id)) return null;
  let found: string | null = null;
  for (const entry of state.packages[package_id] ?? []) if (entry.effective_from <= date) found = entry.wholesale_price;
  return found === null ? null : Money.parse(found, state.currency);
}

/** The chain terms for the commission split, or null when this operator has none in force. */
export function commissionTermsOn(state: OperatorState, package_id: string, date: LocalDate): CommissionTerms | null {
  const terms = termsOn(state, date);
  if (terms === null) return null;
  if (terms.kind === 'share') return terms;
  const price = wholesalePriceOn(state, package_id, date);
  return price === null ? null : { kind: 'wholesale', price };
}

/** Whether a wallet can give `amount` now: prepaid down to zero, postpaid down to minus its credit limit. */
export function walletCanPay(state: OperatorState, amount: Money): 'ok' | 'INSUFFICIENT_RESELLER_BALANCE' | 'CREDIT_LIMIT_EXCEEDED' {
  const after = Money.parse(state.wallet_balance, state.currency).minus(amount);
  if (state.billing_mode === 'prepaid') return after.isNegative() ? 'INSUFFICIENT_RESELLER_BALANCE' : 'ok';
  const floor = Money.parse(state.credit_limit, state.currency).negated();
  return after.compare(floor) < 0 ? 'CREDIT_LIMIT_EXCEEDED' : 'ok';
}

// ---------------------------------------------------------------------------------------------------------
// Commands. Each decide function checks its rules in the order written; the first failure is the answer.
// ---------------------------------------------------------------------------------------------------------

export type RegisterIsp = Readonly<{ operator_id: string; name: string; currency: string; time_zone: string; address: string }>;

export function decideRegisterIsp(command: RegisterIsp, existing: OperatorState): Decision<OperatorEvent> {
  const badId = checkId('ISP id', command.operator_id);
  if (badId !== null) return refuse(badId);
  if (existing.exists) return refuse(rejection('ISP_ALREADY_EXISTS', `an operator ${command.operator_id} already exists`));
  if (command.name.trim() === '') return refuse(rejection('INVALID_INPUT', 'the ISP needs a name'));
  if (!isKnownCurrency(command.currency)) return refuse(rejection('INVALID_INPUT', `${command.currency} is not an ISO 4217 currency code such as BDT`));
  if (!isValidTimeZone(command.time_zone)) return refuse(rejection('INVALID_INPUT', `${command.time_zone} is not an IANA time zone such as Asia/Dhaka`));
  return accept({ type: 'isp-registered', data: { ...command, name: command.name.trim() } });
}

export type CreateOperator = Readonly<{
  operator_id: string;
  role: 'reseller' | 'sub_reseller';
  name: string;
  billing_mode: BillingMode;
  credit_limit: string;
}>;

/**
 * Rules: not yet existing; parent exists, is in the caller's ISP, is active (the tenant comes first, so a caller
 * learns nothing about another ISP's operators); role fits the parent; name given; mode valid.
 */
export function decideCreateOperator(
  command: CreateOperator,
  existing: OperatorState,
  parent: OperatorState,
  context: CommandContext,
): Decision<OperatorEvent> {
  const badId = checkId('operator id', command.operator_id);
  if (badId !== null) return refuse(badId);
  if (existing.exists) return refuse(rejection('OPERATOR_ALREADY_EXISTS', `operator ${command.operator_id} already exists`));
  if (!parent.exists) return refuse(rejection('OPERATOR_NOT_FOUND', 'the parent operator does not exist'));
  const tenant = parent.role === 'admin' ? parent.operator_id : parent.ancestry[0];
  if (tenant !== context.tenant) return refuse(rejection('WRONG_TENANT', 'the parent operator belongs to another ISP'));
  if (parent.status !== 'active') return refuse(rejection('OPERATOR_SUSPENDED', `parent ${parent.name} is suspended; reinstate it first`));
  const allowed = parent.role === 'admin' ? 'reseller' : parent.role === 'reseller' ? 'sub_reseller' : null;
  if (command.role !== allowed) {
    return refuse(
      rejection('CHILD_ROLE_NOT_ALLOWED', allowed === null ? 'a sub-reseller cannot have operators below it' : `an operator of role ${parent.role} can only create a ${allowed}`),
    );
  }
  if (command.name.trim() === '') return refuse(rejection('INVALID_INPUT', 'the operator needs a name'));
  const limit = parseAmount(command.credit_limit, parent.currency);
  if (limit === null || limit.isNegative()) return refuse(rejection('INVALID_BILLING_MODE', `credit limit ${command.credit_limit} must be an amount ≥ 0`));
  if (command.billing_mode === 'prepaid' && !limit.isZero()) return refuse(rejection('INVALID_BILLING_MODE', 'a prepaid operator has no credit limit; use postpaid'));
  return accept({
    type: 'operator-created',
    data: {
      operator_id: command.operator_id,
      parent_id: parent.operator_id,
      ancestry: [...parent.ancestry, parent.operator_id],
      role: command.role,
      name: command.name.trim(),
      currency: parent.currency,
      time_zone: parent.time_zone,
      billing_mode: command.billing_mode,
      credit_limit: limit.toString(),
    },
  });
}

export function decideSuspendOperator(state: OperatorState, reason: string): Decision<OperatorEvent> {
  if (!state.exists) return refuse(rejection('OPERATOR_NOT_FOUND', 'no such operator'));
  if (state.role === 'admin') return refuse(rejection('NOT_PERMITTED', 'the ISP itself cannot be suspended'));
  if (state.status === 'suspended') return accept();
  return accept({ type: 'operator-suspended', data: { operator_id: state.operator_id, reason } });
}

export function decideReinstateOperator(state: OperatorState): Decision<OperatorEvent> {
  if (!state.exists) return refuse(rejection('OPERATOR_NOT_FOUND', 'no such operator'));
  if (state.status === 'active') return accept();
  return accept({ type: 'operator-reinstated', data: { operator_id: state.operator_id } });
}

export function decideSetBillingMode(state: OperatorState, billing_mode: BillingMode, credit_limit: string): Decision<OperatorEvent> {
  if (!state.exists) return refuse(rejection('OPERATOR_NOT_FOUND', 'no such operator'));
  if (state.role === 'admin') return refuse(rejection('NOT_PERMITTED', 'the ISP has no wallet with a parent'));
  const limit = parseAmount(credit_limit, state.currency);
  if (limit === null || limit.isNegative()) return refuse(rejection('INVALID_BILLING_MODE', `credit limit ${credit_limit} must be an amount ≥ 0`));
  if (billing_mode === 'prepaid' && !limit.isZero()) return refuse(rejection('INVALID_BILLING_MODE', 'a prepaid operator has no credit limit; use postpaid'));
  return accept({ type: 'operator-billing-mode-set', data: { operator_id: state.operator_id, billing_mode, credit_limit: limit.toString() } });
}

export function decideSetCommissionTerms(state: OperatorState, effective_from: LocalDate, terms: StoredTerms): Decision<OperatorEvent> {
  if (!state.exists) return refuse(rejection('OPERATOR_NOT_FOUND', 'no such operator'));
  if (state.role === 'admin') return refuse(rejection('INVALID_COMMISSION_TERMS', 'the ISP keeps what is left; it has no commission terms'));
  if (!isLocalDate(effective_from)) return refuse(rejection('INVALID_INPUT', `${effective_from} is not a date (YYYY-MM-DD)`));
  if (terms.kind === 'share' && !/^(100(\.0{1,6})?|\d{1,2}(\.\d{1,6})?)$/.test(terms.percent)) {
    return refuse(rejection('INVALID_COMMISSION_TERMS', `share ${terms.percent} must be a percentage from 0 to 100 with at most 6 decimals`));
  }
  return accept({ type: 'commission-terms-set', data: { operator_id: state.operator_id, effective_from, terms } });
}

/**
 * The parent assigns a package to a child at a wholesale price, which may not be below what the parent itself
 * pays for it (the ISP's own cost is its list price floor: anything ≥ 0).
 */
export function decideAssignPackage(
  child: OperatorState,
  parent: OperatorState,
  command: Readonly<{ package_id: string; wholesale_price: string; effective_from: LocalDate; package_price: string; package_retired: boolean }>,
): Decision<OperatorEvent> {
  if (!child.exists || !parent.exists) return refuse(rejection('OPERATOR_NOT_FOUND', 'no such operator'));
  if (child.parent_id !== parent.operator_id) return refuse(rejection('OPERATOR_NOT_IN_SUBTREE', 'only the direct parent assigns packages'));
  if (command.package_retired) return refuse(rejection('PACKAGE_RETIRED', 'a retired package cannot be assigned'));
  if (!isLocalDate(command.effective_from)) return refuse(rejection('INVALID_INPUT', `${command.effective_from} is not a date (YYYY-MM-DD)`));
  const price = parseAmount(command.wholesale_price, child.currency);
  if (price === null || price.isNegative()) return refuse(rejection('INVALID_AMOUNT', `${command.wholesale_price} is not an amount ≥ 0`));
  if (parent.role !== 'admin') {
    const parentPrice = wholesalePriceOn(parent, command.package_id, command.effective_from);
    if (parentPrice === null) return refuse(rejection('PACKAGE_NOT_ASSIGNED', 'the parent does not have this package itself'));
    if (price.compare(parentPrice) < 0) {
      return refuse(rejection('PRICE_BELOW_WHOLESALE', `${price} is below the parent's own price ${parentPrice} for this package`));
    }
  }
  if (price.compare(Money.parse(command.package_price, child.currency)) > 0) {
    return refuse(rejection('INVALID_AMOUNT', `wholesale ${price} is above the package's list price ${command.package_price}`));
  }
  return accept({
    type: 'package-assigned',
    data: { operator_id: child.operator_id, package_id: command.package_id, wholesale_price: price.toString(), effective_from: command.effective_from },
  });
}

/** The parent credits a child's wallet, for money the child paid it (cash, bank transfer, …). */
export function decideTopUpWallet(child: OperatorState, amount: string, method: string, reference: string): Decision<OperatorEvent> {
  if (!child.exists) return refuse(rejection('OPERATOR_NOT_FOUND', 'no such operator'));
  if (child.role === 'admin') return refuse(rejection('NOT_PERMITTED', 'the ISP has no wallet with a parent'));
  const value = parseAmount(amount, child.currency);
  if (value === null || !value.isPositive()) return refuse(rejection('INVALID_AMOUNT', `top-up ${amount} must be an amount > 0 in ${child.currency}`));
  return accept({ type: 'wallet-topped-up', data: { operator_id: child.operator_id, amount: value.toString(), method, reference } });
}

/** Accounting updates no more often than a minute (load on RADIUS) and no rarer than an hour (usage and sessions go stale). */
const INTERIM_INTERVAL_SECONDS = { min: 60, max: 3600 } as const;

/**
 * The ISP sets how its RADIUS answers. Rules, in order: the operator exists; it is the ISP itself (the root);
 * blocked_access is 'reject' or 'suspended_pool'; with 'suspended_pool' the pool and the address list are both
 * RouterOS names, with 'reject' both are null; the interim interval is whole seconds from 60 to 3600. Setting
 * the policy in force again appends nothing.
 */
export function decideSetRadiusPolicy(state: OperatorState, policy: RadiusPolicy): Decision<OperatorEvent> {
  if (!state.exists) return refuse(rejection('OPERATOR_NOT_FOUND', 'no such operator'));
  if (state.role !== 'admin') return refuse(rejection('NOT_PERMITTED', 'the RADIUS policy is the ISP’s; resellers follow it'));
  switch (policy.blocked_access) {
    case 'suspended_pool':
      for (const [field, value] of [['suspended_pool', policy.suspended_pool], ['suspended_address_list', policy.suspended_address_list]] as const) {
        if (value === null || !isRouterOsName(value)) {
          return refuse(rejection('INVALID_INPUT', `${field} must be a RouterOS name (1–64 letters, digits, _ . -) when blocked customers go to a suspended pool`));
        }
      }
      break;
    case 'reject':
      if (policy.suspended_pool !== null || policy.suspended_address_list !== null) {
        return refuse(rejection('INVALID_INPUT', 'blocked customers are rejected, so suspended_pool and suspended_address_list must be null'));
      }
      break;
    default:
      return refuse(rejection('INVALID_INPUT', `blocked_access ${JSON.stringify(policy.blocked_access)} must be 'reject' or 'suspended_pool'`));
  }
  const interval = policy.interim_interval_seconds;
  if (!Number.isInteger(interval) || interval < INTERIM_INTERVAL_SECONDS.min || interval > INTERIM_INTERVAL_SECONDS.max) {
    return refuse(rejection('INVALID_INPUT', `interim_interval_seconds ${interval} must be whole seconds from ${INTERIM_INTERVAL_SECONDS.min} to ${INTERIM_INTERVAL_SECONDS.max}`));
  }
  const next: RadiusPolicy = {
    blocked_access: policy.blocked_access,
    suspended_pool: policy.suspended_pool,
    suspended_address_list: policy.suspended_address_list,
    interim_interval_seconds: interval,
  };
  const current = state.radius_policy;
  if ((Object.keys(next) as (keyof RadiusPolicy)[]).every((key) => next[key] === current[key])) return accept();
  return accept({ type: 'radius-policy-set', data: { operator_id: state.operator_id, ...next } });
}

const PROFILE_EMAIL = /^[^\s@]{1,64}@[^\s@]{1,189}\.[^\s@]{1,63}$/;
/** Printable text; an address may run over several lines. */
const printable = (text: string, lines: boolean): boolean => !(lines ? /[\u0000-\u0009\u000B-\u001F\u007F-\u009F]/u : /\p{Cc}/u).test(text);

/** The image's own bytes say what it is: PNG's eight-byte signature, JPEG's start-of-image marker. */
function logoProblem(logo: IspLogo): string | null {
  if (logo.media_type !== 'image/png' && logo.media_type !== 'image/jpeg') return `the logo must be image/png or image/jpeg, not ${JSON.stringify(logo.media_type)}`;
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(logo.data_base64) || logo.data_base64.length % 4 !== 0 || logo.data_base64.length === 0) return 'the logo must be base64 (RFC 4648, padded)';
  const bytes = Buffer.from(logo.data_base64, 'base64');
  if (bytes.length > MAX_LOGO_BYTES) return `the logo is ${bytes.length} bytes; at most ${MAX_LOGO_BYTES}`;
  const png = bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  const jpeg = bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
  if (logo.media_type === 'image/png' ? !png : !jpeg) return `the logo's bytes are not a ${logo.media_type === 'image/png' ? 'PNG' : 'JPEG'} image`;
  return null;
}

/**
 * The ISP sets what its documents print. Rules, in order: the operator exists; it is the ISP itself; the
 * address is 1–300 printable characters (lines allowed); the phone at most 40, the payment note at most 300
 * printable characters; the email looks like one; the locale is a BCP 47 tag the number formatter supports;
 * the logo is a PNG or JPEG of at most MAX_LOGO_BYTES whose bytes match its media type. Setting the profile in
 * force again appends nothing. The event carries the digest of the logo's bytes, which is all the state keeps.
 */
export function decideSetIspProfile(state: OperatorState, profile: IspProfile): Decision<OperatorEvent> {
  if (!state.exists) return refuse(rejection('OPERATOR_NOT_FOUND', 'no such operator'));
  if (state.role !== 'admin') return refuse(rejection('NOT_PERMITTED', 'the documents carry the ISP’s profile; resellers print the ISP’s'));
  const address = profile.address.trim();
  if (address === '' || address.length > 300 || !printable(address, true)) return refuse(rejection('INVALID_INPUT', 'the address must be 1–300 printable characters'));
  const text = (value: string | null, max: number): string | null | false => {
    if (value === null) return null;
    const trimmed = value.trim();
    if (trimmed === '') return null;
    return trimmed.length > max || !printable(trimmed, false) ? false : trimmed;
  };
  const phone = text(profile.phone, 40);
  if (phone === false) return refuse(rejection('INVALID_INPUT', 'the phone must be at most 40 printable characters'));
  const payment_note = text(profile.payment_note, 300);
  if (payment_note === false) return refuse(rejection('INVALID_INPUT', 'the payment note must be at most 300 printable characters on one line'));
  const email = profile.email === null || profile.email.trim() === '' ? null : profile.email.trim();
  if (email !== null && (email.length > 254 || !PROFILE_EMAIL.test(email))) return refuse(rejection('INVALID_INPUT', `${JSON.stringify(profile.email)} is not an email address`));
  if (profile.locale !== null && !isSupportedLocale(profile.locale)) return refuse(rejection('INVALID_INPUT', `${JSON.stringify(profile.locale)} is not a locale tag such as en-BD or bn-BD`));
  if (profile.logo !== null) {
    const problem = logoProblem(profile.logo);
    if (problem !== null) return refuse(rejection('INVALID_INPUT', problem));
  }
  const next: IspProfile = { address, phone, email, locale: profile.locale, logo: profile.logo, payment_note };
  const digest = next.logo === null ? null : createHash('sha256').update(Buffer.from(next.logo.data_base64, 'base64')).digest('hex');
  const current = state.isp_profile;
  if (
    current !== null &&
    current.address === next.address &&
    current.phone === next.phone &&
    current.email === next.email &&
    current.locale === next.locale &&
    current.payment_note === next.payment_note &&
    (current.logo === null ? next.logo === null : next.logo !== null && current.logo.media_type === next.logo.media_type && current.logo.sha256 === digest)
  ) {
    return accept();
  }
  return accept({ type: 'isp-profile-set', data: { operator_id: state.operator_id, ...next, logo_sha256: digest } });
}

/** A well-formed BCP 47 tag that the number formatter has data for (its own language at least). */
export function isSupportedLocale(tag: string): boolean {
  if (tag.length === 0 || tag.length > 35) return false;
  try {
    const [canonical] = Intl.getCanonicalLocales(tag);
    return canonical !== undefined && Intl.NumberFormat.supportedLocalesOf([canonical]).length === 1;
  } catch {
    return false;
  }
}

export function parseAmount(text: string, currency: string): Money | null {
  try {
    return Money.parse(text, currency);
  } catch {
    return null;
  }
}
