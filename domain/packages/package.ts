import { Money } from '../money/money.js';
import { accept, refuse, type Decision, type DomainEvent } from '../shared/decider.js';
import { checkId } from '../shared/ids.js';
import { rejection } from '../shared/rejection.js';
import { isRouterOsName } from '../shared/routeros-name.js';

/**
 * A package is what a customer buys: speeds, price, validity and pool. Rates are whole kbit/s (10 Mbit/s is
 * 10000), so the RADIUS reply can print them exactly; the price is in the ISP's currency.
 */
export type Burst = Readonly<{ down_kbps: number; up_kbps: number; threshold_down_kbps: number; threshold_up_kbps: number; time_seconds: number }>;

export type PackageSpec = Readonly<{
  name: string;
  down_kbps: number;
  up_kbps: number;
  burst: Burst | null;
  price: string;
  validity_days: number;
  ip_pool: string;
  /** null = unlimited. */
  data_quota_mb: number | null;
}>;

export type PackageEvent =
  | DomainEvent<'package-created', PackageSpec & { package_id: string; tenant: string; currency: string }>
  | DomainEvent<'package-updated', PackageSpec & { package_id: string }>
  | DomainEvent<'package-retired', { package_id: string }>;

export type PackageState = Readonly<{ exists: boolean; package_id: string; tenant: string; currency: string; retired: boolean; spec: PackageSpec | null }>;

export const initialPackageState = (): PackageState => ({ exists: false, package_id: '', tenant: '', currency: '', retired: false, spec: null });

export function evolvePackage(state: PackageState, event: PackageEvent): PackageState {
  switch (event.type) {
    case 'package-created': {
      const { package_id, tenant, currency, ...spec } = event.data;
      return { exists: true, package_id, tenant, currency, retired: false, spec };
    }
    case 'package-updated': {
      const { package_id: _id, ...spec } = event.data;
      return { ...state, spec };
    }
    case 'package-retired':
      return { ...state, retired: true };
  }
}

const MAX_RATE_KBPS = 100_000_000;

/** Checks a package's figures; the first problem found is returned. */
export function checkPackageSpec(spec: PackageSpec, currency: string): string | null {
  if (spec.name.trim() === '') return 'the package needs a name';
  for (const [name, value] of [['down_kbps', spec.down_kbps], ['up_kbps', spec.up_kbps]] as const) {
    if (!Number.isInteger(value) || value < 1 || value > MAX_RATE_KBPS) return `${name} must be a whole number of kbit/s from 1 to ${MAX_RATE_KBPS}`;
  }
  if (spec.burst !== null) {
    const b = spec.burst;
    for (const value of [b.down_kbps, b.up_kbps, b.threshold_down_kbps, b.threshold_up_kbps, b.time_seconds]) {
      if (!Number.isInteger(value) || value < 1 || value > MAX_RATE_KBPS) return 'burst figures must be whole positive numbers';
    }
    if (b.down_kbps < spec.down_kbps || b.up_kbps < spec.up_kbps) return 'a burst rate must be at least the normal rate';
  }
  let price: Money;
  try {
    price = Money.parse(spec.price, currency);
  } catch {
    return `price ${spec.price} is not an amount in ${currency}`;
  }
  if (price.isNegative()) return 'price must not be negative';
  if (!Number.isInteger(spec.validity_days) || spec.validity_days < 1 || spec.validity_days > 3660) return 'validity_days must be 1–3660';
  if (!isRouterOsName(spec.ip_pool)) return 'ip_pool must be a RouterOS pool name (letters, digits, _ . -)';
  if (spec.data_quota_mb !== null && (!Number.isInteger(spec.data_quota_mb) || spec.data_quota_mb < 1)) return 'data_quota_mb must be a whole number ≥ 1, or null';
  return null;
}

export function decideCreatePackage(state: PackageState, command: PackageSpec & { package_id: string; tenant: string; currency: string }): Decision<PackageEvent> {
  const badId = checkId('package id', command.package_id);
  if (badId !== null) return refuse(badId);
  if (state.exists) return refuse(rejection('PACKAGE_ALREADY_EXISTS', `package ${command.package_id} already exists`));
  const problem = checkPackageSpec(command, command.currency);
  if (problem !== null) return refuse(rejection('INVALID_PACKAGE', problem));
  return accept({ type: 'package-created', data: { ...command, name: command.name.trim(), price: Money.parse(command.price, command.currency).toString() } });
}

export function decideUpdatePackage(state: PackageState, spec: PackageSpec): Decision<PackageEvent> {
  if (!state.exists) return refuse(rejection('PACKAGE_NOT_FOUND', 'no such package'));
  if (state.retired) return refuse(rejection('PACKAGE_RETIRED', 'a retired package cannot change'));
  const problem = checkPackageSpec(spec, state.currency);
  if (problem !== null) return refuse(rejection('INVALID_PACKAGE', problem));
  return accept({ type: 'package-updated', data: { ...spec, package_id: state.package_id, name: spec.name.trim(), price: Money.parse(spec.price, state.currency).toString() } });
}

export function decideRetirePackage(state: PackageState): Decision<PackageEvent> {
  if (!state.exists) return refuse(rejection('PACKAGE_NOT_FOUND', 'no such package'));
  if (state.retired) return accept();
  return accept({ type: 'package-retired', data: { package_id: state.package_id } });
}
