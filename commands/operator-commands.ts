import type { LocalDate } from '../domain/calendar/local-date.js';
import {
  decideAssignPackage,
  decideCreateOperator,
  decideRegisterIsp,
  decideReinstateOperator,
  decideSetBillingMode,
  decideSetCommissionTerms,
  decideSetIspProfile,
  decideSetRadiusPolicy,
  decideSuspendOperator,
  decideTopUpWallet,
  evolveOperator,
  type BillingMode,
  type CreateOperator,
  type IspProfile,
  type OperatorEvent,
  type OperatorState,
  type RadiusPolicy,
  type RegisterIsp,
  type StoredTerms,
} from '../domain/operators/operator.js';
import { decideAddStaff, decideRemoveStaff, decideSetStaffPermissions, type StaffRole } from '../domain/staff/staff.js';
import type { Decision } from '../domain/shared/decider.js';
import { rejection } from '../domain/shared/rejection.js';
import { OperatorAggregate, PackageAggregate, StaffAggregate, tenantOf } from './aggregates.js';
import { CommandRuntime, refusePlan, type CommandEnvelope, type CommandResult, type Loaded, type Plan } from './command-runtime.js';
import { operatorStream, packageStream, staffStream } from './streams.js';

const notFound = () => refusePlan(rejection('OPERATOR_NOT_FOUND', 'no such operator in this ISP'));

/** Loads an operator of the caller's ISP; one of another ISP reads as absent, so nothing leaks across ISPs. */
export async function loadOperator(runtime: CommandRuntime, tenant: string, operator_id: string): Promise<Loaded<OperatorState> | null> {
  const loaded = await runtime.load(OperatorAggregate, operatorStream(operator_id));
  return tenantOf(loaded.state) === tenant ? loaded : null;
}

function planFrom<Value>(loaded: Loaded<OperatorState>, decision: Decision<OperatorEvent>, value: Value): Plan<Value> {
  if (!decision.ok) return refusePlan(decision.rejection);
  return { kind: 'append', writes: [{ stream_id: loaded.stream_id, expected: CommandRuntime.expected(loaded), events: decision.events }], value };
}

export function registerIsp(runtime: CommandRuntime, envelope: CommandEnvelope, command: RegisterIsp): Promise<CommandResult<{ operator_id: string }>> {
  return runtime.execute(envelope, 'register-isp', command, async () => {
    const loaded = await runtime.load(OperatorAggregate, operatorStream(command.operator_id));
    return planFrom(loaded, decideRegisterIsp(command, loaded.state), { operator_id: command.operator_id });
  });
}

export function createOperator(
  runtime: CommandRuntime,
  envelope: CommandEnvelope,
  command: CreateOperator & { parent_id: string },
): Promise<CommandResult<{ operator_id: string }>> {
  return runtime.execute(envelope, 'create-operator', command, async (context) => {
    const parent = await loadOperator(runtime, context.tenant, command.parent_id);
    if (parent === null) return notFound();
    const child = await runtime.load(OperatorAggregate, operatorStream(command.operator_id));
    return planFrom(child, decideCreateOperator(command, child.state, parent.state, context), { operator_id: command.operator_id });
  });
}

export function suspendOperator(runtime: CommandRuntime, envelope: CommandEnvelope, command: { operator_id: string; reason: string }): Promise<CommandResult<null>> {
  return runtime.execute(envelope, 'suspend-operator', command, async (context) => {
    const loaded = await loadOperator(runtime, context.tenant, command.operator_id);
    return loaded === null ? notFound() : planFrom(loaded, decideSuspendOperator(loaded.state, command.reason), null);
  });
}

export function reinstateOperator(runtime: CommandRuntime, envelope: CommandEnvelope, command: { operator_id: string }): Promise<CommandResult<null>> {
  return runtime.execute(envelope, 'reinstate-operator', command, async (context) => {
    const loaded = await loadOperator(runtime, context.tenant, command.operator_id);
    return loaded === null ? notFound() : planFrom(loaded, decideReinstateOperator(loaded.state), null);
  });
}

export function setBillingMode(
  runtime: CommandRuntime,
  envelope: CommandEnvelope,
  command: { operator_id: string; billing_mode: BillingMode; credit_limit: string },
): Promise<CommandResult<null>> {
  return runtime.execute(envelope, 'set-billing-mode', command, async (context) => {
    const loaded = await loadOperator(runtime, context.tenant, command.operator_id);
    return loaded === null ? notFound() : planFrom(loaded, decideSetBillingMode(loaded.state, command.billing_mode, command.credit_limit), null);
  });
}

export function setCommissionTerms(
  runtime: CommandRuntime,
  envelope: CommandEnvelope,
  command: { operator_id: string; effective_from: LocalDate; terms: StoredTerms },
): Promise<CommandResult<null>> {
  return runtime.execute(envelope, 'set-commission-terms', command, async (context) => {
    const loaded = await loadOperator(runtime, context.tenant, command.operator_id);
    return loaded === null ? notFound() : planFrom(loaded, decideSetCommissionTerms(loaded.state, command.effective_from, command.terms), null);
  });
}

/** Sets how the ISP's RADIUS answers; `operator_id` must be the ISP itself. */
export function setRadiusPolicy(runtime: CommandRuntime, envelope: CommandEnvelope, command: RadiusPolicy & { operator_id: string }): Promise<CommandResult<null>> {
  return runtime.execute(envelope, 'set-radius-policy', command, async (context) => {
    const loaded = await loadOperator(runtime, context.tenant, command.operator_id);
    const { operator_id: _id, ...policy } = command;
    return loaded === null ? notFound() : planFrom(loaded, decideSetRadiusPolicy(loaded.state, policy), null);
  });
}

/** Sets what the ISP's documents print (address, contacts, locale, logo, payment note); `operator_id` must be the ISP itself. */
export function setIspProfile(runtime: CommandRuntime, envelope: CommandEnvelope, command: IspProfile & { operator_id: string }): Promise<CommandResult<null>> {
  return runtime.execute(envelope, 'set-isp-profile', command, async (context) => {
    const loaded = await loadOperator(runtime, context.tenant, command.operator_id);
    const { operator_id: _id, ...profile } = command;
    return loaded === null ? notFound() : planFrom(loaded, decideSetIspProfile(loaded.state, profile), null);
  });
}

export function assignPackage(
  runtime: CommandRuntime,
  envelope: CommandEnvelope,
  command: { operator_id: string; package_id: string; wholesale_price: string; effective_from: LocalDate },
): Promise<CommandResult<null>> {
  return runtime.execute(envelope, 'assign-package', command, async (context) => {
    const child = await loadOperator(runtime, context.tenant, command.operator_id);
    if (child === null || child.state.parent_id === null) return notFound();
    const parent = await loadOperator(runtime, context.tenant, child.state.parent_id);
    const pkg = await runtime.load(PackageAggregate, packageStream(command.package_id));
    if (parent === null) return notFound();
    if (!pkg.state.exists || pkg.state.tenant !== context.tenant) return refusePlan(rejection('PACKAGE_NOT_FOUND', 'no such package'));
    const decision = decideAssignPackage(child.state, parent.state, {
      ...command,
      package_price: pkg.state.spec!.price,
      package_retired: pkg.state.retired,
    });
    return planFrom(child, decision, null);
  });
}

export function topUpWallet(
  runtime: CommandRuntime,
  envelope: CommandEnvelope,
  command: { operator_id: string; amount: string; method: string; reference: string },
): Promise<CommandResult<{ balance: string }>> {
  return runtime.execute(envelope, 'top-up-wallet', command, async (context) => {
    const loaded = await loadOperator(runtime, context.tenant, command.operator_id);
    if (loaded === null) return notFound();
    const decision = decideTopUpWallet(loaded.state, command.amount, command.method, command.reference);
    const after = decision.ok ? decision.events.reduce(evolveOperator, loaded.state) : loaded.state;
    return planFrom(loaded, decision, { balance: after.wallet_balance });
  });
}

export function addStaff(
  runtime: CommandRuntime,
  envelope: CommandEnvelope,
  command: { staff_id: string; operator_id: string; role: StaffRole; name: string; permissions: readonly string[] },
): Promise<CommandResult<{ staff_id: string }>> {
  return runtime.execute(envelope, 'add-staff', command, async (context) => {
    if ((await loadOperator(runtime, context.tenant, command.operator_id)) === null) return notFound();
    const staff = await runtime.load(StaffAggregate, staffStream(command.staff_id));
    const decision = decideAddStaff(staff.state, command);
    if (!decision.ok) return refusePlan(decision.rejection);
    return { kind: 'append', writes: [{ stream_id: staff.stream_id, expected: CommandRuntime.expected(staff), events: decision.events }], value: { staff_id: command.staff_id } };
  });
}

export function setStaffPermissions(runtime: CommandRuntime, envelope: CommandEnvelope, command: { staff_id: string; permissions: readonly string[] }): Promise<CommandResult<null>> {
  return runtime.execute(envelope, 'set-staff-permissions', command, async (context) => {
    const staff = await runtime.load(StaffAggregate, staffStream(command.staff_id));
    if (staff.state.exists && (await loadOperator(runtime, context.tenant, staff.state.operator_id)) === null) return refusePlan(rejection('STAFF_NOT_FOUND', 'no such staff account'));
    const decision = decideSetStaffPermissions(staff.state, command.permissions);
    if (!decision.ok) return refusePlan(decision.rejection);
    return { kind: 'append', writes: [{ stream_id: staff.stream_id, expected: CommandRuntime.expected(staff), events: decision.events }], value: null };
  });
}

export function removeStaff(runtime: CommandRuntime, envelope: CommandEnvelope, command: { staff_id: string }): Promise<CommandResult<null>> {
  return runtime.execute(envelope, 'remove-staff', command, async (context) => {
    const staff = await runtime.load(StaffAggregate, staffStream(command.staff_id));
    if (staff.state.exists && (await loadOperator(runtime, context.tenant, staff.state.operator_id)) === null) return refusePlan(rejection('STAFF_NOT_FOUND', 'no such staff account'));
    const decision = decideRemoveStaff(staff.state);
    if (!decision.ok) return refusePlan(decision.rejection);
    return { kind: 'append', writes: [{ stream_id: staff.stream_id, expected: CommandRuntime.expected(staff), events: decision.events }], value: null };
  });
}
