import { accept, refuse, type Decision, type DomainEvent } from '../shared/decider.js';
import { checkId } from '../shared/ids.js';
import { rejection } from '../shared/rejection.js';

/**
 * Staff accounts belong to an operator. A manager does what its operator's chosen permissions allow; an
 * accountant keeps the books; an auditor reads; a card distributor holds and sells recharge cards.
 */
export type StaffRole = 'manager' | 'accountant' | 'auditor' | 'card_distributor';

export const MANAGER_PERMISSIONS = [
  'customers.read',
  'customers.write',
  'customers.recharge',
  'customers.suspend',
  'payments.collect',
  'payments.refund',
  'bills.run',
  'packages.read',
  'cards.read',
  'reports.read',
] as const;
export type Permission = (typeof MANAGER_PERMISSIONS)[number];

export type StaffEvent =
  | DomainEvent<'staff-added', { staff_id: string; operator_id: string; role: StaffRole; name: string; permissions: readonly Permission[] }>
  | DomainEvent<'staff-permissions-set', { staff_id: string; permissions: readonly Permission[] }>
  | DomainEvent<'staff-removed', { staff_id: string }>;

export type StaffState = Readonly<{ exists: boolean; removed: boolean; staff_id: string; operator_id: string; role: StaffRole; permissions: readonly Permission[] }>;

export const initialStaffState = (): StaffState => ({ exists: false, removed: false, staff_id: '', operator_id: '', role: 'auditor', permissions: [] });

export function evolveStaff(state: StaffState, event: StaffEvent): StaffState {
  switch (event.type) {
    case 'staff-added':
      return { exists: true, removed: false, staff_id: event.data.staff_id, operator_id: event.data.operator_id, role: event.data.role, permissions: event.data.permissions };
    case 'staff-permissions-set':
      return { ...state, permissions: event.data.permissions };
    case 'staff-removed':
      return { ...state, removed: true };
  }
}

function checkPermissions(role: StaffRole, permissions: readonly string[]): string | null {
  if (role !== 'manager' && permissions.length > 0) return `a ${role} has fixed rights; only managers take chosen permissions`;
  const unknown = permissions.find((p) => !(MANAGER_PERMISSIONS as readonly string[]).includes(p));
  return unknown === undefined ? null : `unknown permission ${unknown}; choose from ${MANAGER_PERMISSIONS.join(', ')}`;
}

export function decideAddStaff(
  state: StaffState,
  command: Readonly<{ staff_id: string; operator_id: string; role: StaffRole; name: string; permissions: readonly string[] }>,
): Decision<StaffEvent> {
  const badId = checkId('staff id', command.staff_id);
  if (badId !== null) return refuse(badId);
  if (state.exists) return refuse(rejection('STAFF_ALREADY_EXISTS', `staff ${command.staff_id} already exists`));
  if (command.name.trim() === '') return refuse(rejection('INVALID_INPUT', 'staff need a name'));
  const problem = checkPermissions(command.role, command.permissions);
  if (problem !== null) return refuse(rejection('INVALID_INPUT', problem));
  return accept({
    type: 'staff-added',
    data: { staff_id: command.staff_id, operator_id: command.operator_id, role: command.role, name: command.name.trim(), permissions: [...new Set(command.permissions)] as Permission[] },
  });
}

export function decideSetStaffPermissions(state: StaffState, permissions: readonly string[]): Decision<StaffEvent> {
  if (!state.exists || state.removed) return refuse(rejection('STAFF_NOT_FOUND', 'no such staff account'));
  const problem = checkPermissions(state.role, permissions);
  if (problem !== null) return refuse(rejection('INVALID_INPUT', problem));
  return accept({ type: 'staff-permissions-set', data: { staff_id: state.staff_id, permissions: [...new Set(permissions)] as Permission[] } });
}

export function decideRemoveStaff(state: StaffState): Decision<StaffEvent> {
  if (!state.exists) return refuse(rejection('STAFF_NOT_FOUND', 'no such staff account'));
  if (state.removed) return accept();
  return accept({ type: 'staff-removed', data: { staff_id: state.staff_id } });
}
