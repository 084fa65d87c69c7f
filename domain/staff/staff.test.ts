import { describe, it } from 'vitest';
import { given } from '../shared/decider-spec.js';
import { decideAddStaff, decideRemoveStaff, decideSetStaffPermissions, evolveStaff, initialStaffState, type StaffEvent, type StaffRole } from './staff.js';

const add = (role: StaffRole, permissions: readonly string[] = [], name = 'Karim') => ({ staff_id: 'staff-1', operator_id: 'res-1', role, name, permissions });
const managerAdded: StaffEvent = { type: 'staff-added', data: { staff_id: 'staff-1', operator_id: 'res-1', role: 'manager', name: 'Karim', permissions: ['customers.read'] } };
const accountantAdded: StaffEvent = { type: 'staff-added', data: { staff_id: 'staff-1', operator_id: 'res-1', role: 'accountant', name: 'Karim', permissions: [] } };
const removed: StaffEvent = { type: 'staff-removed', data: { staff_id: 'staff-1' } };

describe('adding staff', () => {
  it('adds a manager with chosen permissions, each once, the name trimmed', () => {
    given(evolveStaff, initialStaffState)
      .when((state) => decideAddStaff(state, add('manager', ['customers.read', 'payments.collect', 'customers.read'], ' Karim ')))
      .then([{ type: 'staff-added', data: { staff_id: 'staff-1', operator_id: 'res-1', role: 'manager', name: 'Karim', permissions: ['customers.read', 'payments.collect'] } }]);
  });

  it('adds an accountant, an auditor or a card distributor with their fixed rights and nothing chosen', () => {
    for (const role of ['accountant', 'auditor', 'card_distributor'] as const) {
      given(evolveStaff, initialStaffState)
        .when((state) => decideAddStaff(state, add(role)))
        .then([{ type: 'staff-added', data: { staff_id: 'staff-1', operator_id: 'res-1', role, name: 'Karim', permissions: [] } }]);
      given(evolveStaff, initialStaffState)
        .when((state) => decideAddStaff(state, add(role, ['reports.read'])))
        .thenRejects('INVALID_INPUT');
    }
  });

  it('checks, in order: the id is new, the name is given, the permissions exist', () => {
    given(evolveStaff, initialStaffState, [managerAdded])
      .when((state) => decideAddStaff(state, add('manager', ['root'], '')))
      .thenRejects('STAFF_ALREADY_EXISTS');
    given(evolveStaff, initialStaffState)
      .when((state) => decideAddStaff(state, add('manager', ['root'], ' ')))
      .thenRejects('INVALID_INPUT');
    given(evolveStaff, initialStaffState)
      .when((state) => decideAddStaff(state, add('manager', ['root'])))
      .thenRejects('INVALID_INPUT');
  });
});

describe('setting a manager’s permissions', () => {
  it('replaces the permissions, each once', () => {
    given(evolveStaff, initialStaffState, [managerAdded])
      .when((state) => decideSetStaffPermissions(state, ['bills.run', 'bills.run', 'reports.read']))
      .then([{ type: 'staff-permissions-set', data: { staff_id: 'staff-1', permissions: ['bills.run', 'reports.read'] } }]);
  });

  it('refuses staff that do not exist or were removed, then roles with fixed rights, then unknown permissions', () => {
    given(evolveStaff, initialStaffState)
      .when((state) => decideSetStaffPermissions(state, []))
      .thenRejects('STAFF_NOT_FOUND');
    given(evolveStaff, initialStaffState, [managerAdded, removed])
      .when((state) => decideSetStaffPermissions(state, []))
      .thenRejects('STAFF_NOT_FOUND');
    given(evolveStaff, initialStaffState, [accountantAdded])
      .when((state) => decideSetStaffPermissions(state, ['reports.read']))
      .thenRejects('INVALID_INPUT');
    given(evolveStaff, initialStaffState, [managerAdded])
      .when((state) => decideSetStaffPermissions(state, ['everything']))
      .thenRejects('INVALID_INPUT');
  });
});

describe('removing staff', () => {
  it('removes once; removing again changes nothing', () => {
    given(evolveStaff, initialStaffState, [managerAdded])
      .when((state) => decideRemoveStaff(state))
      .then([removed]);
    given(evolveStaff, initialStaffState, [managerAdded, removed])
      .when((state) => decideRemoveStaff(state))
      .thenNothingHappens();
    given(evolveStaff, initialStaffState)
      .when((state) => decideRemoveStaff(state))
      .thenRejects('STAFF_NOT_FOUND');
  });
});
