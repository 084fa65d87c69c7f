import { billingPeriodFor } from '../calendar/billing-period.js';
import { addDays, daysBetween, localDateOf } from '../calendar/local-date.js';
import { prorateByDays } from '../calendar/proration.js';
import { Money } from '../money/money.js';
import { parseAmount, wholesalePriceOn, type OperatorState } from '../operators/operator.js';
import type { PackageState } from '../packages/package.js';
import type { CommandContext } from '../shared/command-context.js';
import { accept, refuse, type Decision } from '../shared/decider.js';
import { checkId } from '../shared/ids.js';
import { rejection } from '../shared/rejection.js';
import type { BillingProfile, ConnectionType, CustomerEvent, CustomerState } from './customer.js';
import { normaliseIpv4, normaliseMac, normaliseUsername } from './identifiers.js';

export type RegisterCustomer = Readonly<{
  customer_id: string;
  operator_id: string;
  connection_type: ConnectionType;
  name: string;
  mobile: string;
  zone: string;
  username: string | null;
  password: string | null;
  mac: string | null;
  static_ip: string | null;
  package_id: string;
  profile: BillingProfile;
  special_price: string | null;
  self_registered: boolean;
}>;

/** The identifiers a registration reserves, normalised; the handler appends one reservation stream for each. */
export type NormalisedCredentials = Readonly<{ username: string | null; password: string | null; mac: string | null; static_ip: string | null }>;

/** Credential rules per connection type; returns the normalised credentials or why they are unusable. */
export function checkCredentials(command: Pick<RegisterCustomer, 'connection_type' | 'username' | 'password' | 'mac' | 'static_ip'>): NormalisedCredentials | string {
  const username = command.username === null || command.username === '' ? null : normaliseUsername(command.username);
  if (command.username !== null && command.username !== '' && username === null) {
    return `username ${JSON.stringify(command.username)} must be 3–64 letters, digits or . _ @ -`;
  }
  const mac = command.mac === null || command.mac === '' ? null : normaliseMac(command.mac);
  if (command.mac !== null && command.mac !== '' && mac === null) return `${command.mac} is not a MAC address`;
  const static_ip = command.static_ip === null || command.static_ip === '' ? null : normaliseIpv4(command.static_ip);
  if (command.static_ip !== null && command.static_ip !== '' && static_ip === null) return `${command.static_ip} is not an IPv4 address`;
  const password = command.password === '' ? null : command.password;
  if (password !== null && (password.length > 64 || /[\u0000-\u001f]/.test(password))) return 'password must be at most 64 printable characters';
  switch (command.connection_type) {
    case 'pppoe':
      if (username === null || password === null) return 'a PPPoE customer needs a username and a password';
      break;
    case 'hotspot':
      if (mac === null && (username === null || password === null)) return 'a hotspot customer needs a MAC address, or a username and a password';
      break;
    case 'static_ip':
      if (static_ip === null) return 'a static IP customer needs its IP address';
      break;
  }
  return { username, password, mac, static_ip };
}

export function checkProfile(profile: BillingProfile): string | null {
  if (profile.kind === 'daily') return null;
  if (!Number.isInteger(profile.due_day) || profile.due_day < 1 || profile.due_day > 31) return 'due_day must be a day of the month, 1–31';
  if (!Number.isInteger(profile.grace_days) || profile.grace_days < 0 || profile.grace_days > 60) return 'grace_days must be 0–60';
  return null;
}

/** What the customer pays for a period or a recharge: the special price when set, else the package's. */
export function customerPrice(customer: Pick<CustomerState, 'special_price' | 'currency'>, pkg: PackageState): Money {
  return Money.parse(customer.special_price ?? pkg.spec!.price, customer.currency);
}

/**
 * Rules, in order: the customer is new; the owner exists in this ISP and is active; the package exists, is
 * current, and (for a reseller) was assigned to the owner; credentials fit the connection type; the profile
 * is valid; a special price is not below what the owner pays for the package.
 */
export function decideRegisterCustomer(
  state: CustomerState,
  command: RegisterCustomer,
  owner: OperatorState,
  isp: OperatorState,
  pkg: PackageState,
  context: CommandContext,
): Decision<CustomerEvent> {
  const badId = checkId('customer id', command.customer_id);
  if (badId !== null) return refuse(badId);
  if (state.exists) return refuse(rejection('CUSTOMER_ALREADY_EXISTS', `customer ${command.customer_id} already exists`));
  if (!owner.exists) return refuse(rejection('OPERATOR_NOT_FOUND', `operator ${command.operator_id} does not exist`));
  const chain = owner.role === 'admin' ? [owner.operator_id] : [...owner.ancestry, owner.operator_id];
  if (chain[0] !== context.tenant || isp.operator_id !== context.tenant) return refuse(rejection('WRONG_TENANT', 'the operator belongs to another ISP'));
  if (owner.status !== 'active') return refuse(rejection('OPERATOR_SUSPENDED', `operator ${owner.name} is suspended`));
  if (!pkg.exists || pkg.tenant !== context.tenant) return refuse(rejection('PACKAGE_NOT_FOUND', `package ${command.package_id} does not exist`));
  if (pkg.retired) return refuse(rejection('PACKAGE_RETIRED', `package ${pkg.spec?.name} is retired; choose a current one`));
  const today = localDateOf(context.now, isp.time_zone);
  if (owner.role !== 'admin' && wholesalePriceOn(owner, pkg.package_id, today) === null) {
    return refuse(rejection('PACKAGE_NOT_ASSIGNED', `package ${pkg.spec?.name} is not assigned to ${owner.name}`));
  }
  const credentials = checkCredentials(command);
  if (typeof credentials === 'string') return refuse(rejection('INVALID_CREDENTIALS', credentials));
  if (command.name.trim() === '') return refuse(rejection('INVALID_INPUT', 'the customer needs a name'));
  const profileProblem = checkProfile(command.profile);
  if (profileProblem !== null) return refuse(rejection('INVALID_INPUT', profileProblem));
  if (command.special_price !== null) {
    const special = parseAmount(command.special_price, isp.currency);
    if (special === null || special.isNegative()) return refuse(rejection('INVALID_AMOUNT', `special price ${command.special_price} is not an amount ≥ 0`));
    const floor = owner.role === 'admin' ? null : wholesalePriceOn(owner, pkg.package_id, today);
    if (floor !== null && special.compare(floor) < 0) {
      return refuse(rejection('PRICE_BELOW_WHOLESALE', `special price ${special} is below ${owner.name}'s own price ${floor}`));
    }
  }
  const registered: CustomerEvent = {
    type: 'customer-registered',
    data: {
      customer_id: command.customer_id,
      tenant: context.tenant,
      operator_id: owner.operator_id,
      chain,
      connection_type: command.connection_type,
      name: command.name.trim(),
      mobile: command.mobile.trim(),
      zone: command.zone.trim(),
      ...credentials,
      package_id: pkg.package_id,
      profile: command.profile,
      special_price: command.special_price === null ? null : Money.parse(command.special_price, isp.currency).toString(),
      currency: isp.currency,
      time_zone: isp.time_zone,
      registered_on: today,
      self_registered: command.self_registered,
    },
  };
  const profile = command.profile;
  if (profile.kind !== 'monthly' || profile.mode !== 'prepaid') return accept(registered);
  // A prepaid monthly customer pays before service: the rest of the current period is billed at once, prorated.
  const period = billingPeriodFor(today, profile.due_day);
  const price = Money.parse(registered.data.special_price ?? pkg.spec!.price, isp.currency);
  const amount = prorateByDays({ amount: price, days: daysBetween(today, period.ends_before), period_days: daysBetween(period.starts_on, period.ends_before) });
  if (amount.isZero()) return accept(registered);
  return accept<CustomerEvent>(registered, {
    type: 'bill-issued',
    data: {
      bill_id: `${command.customer_id}:${period.period}`,
      customer_id: command.customer_id,
      kind: today === period.starts_on ? 'monthly' : 'first-period',
      period: period.period,
      covers_from: today,
      covers_until: period.ends_before,
      package_id: pkg.package_id,
      amount: amount.toString(),
      currency: isp.currency,
      issued_on: today,
      due_on: addDays(today, profile.grace_days),
    },
  });
}
