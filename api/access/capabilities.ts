import { MANAGER_PERMISSIONS } from '../../domain/staff/staff.js';

/**
 * What each role may do, in one table. A route names the capability it needs; the subtree a caller sees is
 * separate (every query is restricted to the caller's operator and below, in SQL). Managers get exactly the
 * permissions their operator gave them (a subset of the manager permissions, which are capabilities too).
 */
export const CAPABILITIES = [
  'operators.read',
  'operators.write',
  'staff.manage',
  'logins.manage',
  'packages.read',
  'packages.write',
  'customers.read',
  'customers.write',
  'customers.recharge',
  'customers.suspend',
  'payments.collect',
  'payments.refund',
  'bills.run',
  'cards.read',
  'cards.manage',
  'cards.redeem',
  'routers.read',
  'routers.write',
  'books.read',
  'books.write',
  'reports.read',
  'replay.read',
  'projections.read',
  'self.read',
] as const;

export type Capability = (typeof CAPABILITIES)[number];

export const ROLES = ['admin', 'reseller', 'sub_reseller', 'manager', 'accountant', 'auditor', 'card_distributor', 'customer'] as const;
export type Role = (typeof ROLES)[number];

const ALL_STAFF_WORK: readonly Capability[] = CAPABILITIES.filter((capability) => capability !== 'self.read');

const FIXED: Readonly<Record<Exclude<Role, 'manager'>, readonly Capability[]>> = {
  admin: ALL_STAFF_WORK,
  reseller: ALL_STAFF_WORK.filter((capability) => !['packages.write', 'routers.write', 'routers.read', 'projections.read'].includes(capability)),
  sub_reseller: ALL_STAFF_WORK.filter((capability) => !['packages.write', 'routers.write', 'routers.read', 'projections.read'].includes(capability)),
  accountant: ['operators.read', 'customers.read', 'packages.read', 'cards.read', 'books.read', 'books.write', 'reports.read', 'replay.read'],
  auditor: ['operators.read', 'customers.read', 'packages.read', 'cards.read', 'books.read', 'reports.read', 'replay.read', 'projections.read'],
  card_distributor: ['customers.read', 'packages.read', 'cards.read', 'cards.redeem'],
  customer: ['self.read', 'cards.redeem'],
};

export function capabilitiesOf(role: Role, manager_permissions: readonly string[] = []): ReadonlySet<Capability> {
  if (role !== 'manager') return new Set(FIXED[role]);
  const granted = manager_permissions.filter((permission): permission is Capability & (typeof MANAGER_PERMISSIONS)[number] =>
    (MANAGER_PERMISSIONS as readonly string[]).includes(permission),
  );
  return new Set<Capability>(['operators.read', ...granted]);
}

/** Risky actions a session must have confirmed with a passkey in the last few minutes. */
export const STEP_UP: ReadonlySet<Capability> = new Set<Capability>(['payments.refund', 'books.write', 'cards.manage']);
export const STEP_UP_MINUTES = 10;
