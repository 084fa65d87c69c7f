import type { BillingProfile, ContactPreferences, CustomerEvent, CustomerState } from '../domain/customers/customer.js';
import { decideSetContactPreferences } from '../domain/customers/contact.js';
import type { IdentifierKind } from '../domain/customers/identifiers.js';
import {
  decideBindMac,
  decideChangeDetails,
  decideChangePackage,
  decideDisable,
  decideEnable,
  decideExpire,
  decideLockForNonpayment,
  decideMove,
  decideResume,
  decideSetExpiry,
  decideSetSpecialPrice,
  decideSuspend,
  decideSwitchProfile,
} from '../domain/customers/lifecycle.js';
import { decideRegisterCustomer, type RegisterCustomer } from '../domain/customers/registration.js';
import { decideCreatePackage, decideRetirePackage, decideUpdatePackage, type PackageSpec } from '../domain/packages/package.js';
import type { CommandContext } from '../domain/shared/command-context.js';
import type { Decision } from '../domain/shared/decider.js';
import { rejection } from '../domain/shared/rejection.js';
import { CustomerAggregate, PackageAggregate } from './aggregates.js';
import { CommandRuntime, refusePlan, type CommandEnvelope, type CommandResult, type Loaded, type Plan } from './command-runtime.js';
import { loadOperator } from './operator-commands.js';
import { isPlan, reservationWrites, type Write } from './reservations.js';
import { customerStream, packageStream } from './streams.js';

export async function loadCustomer(runtime: CommandRuntime, tenant: string, customer_id: string): Promise<Loaded<CustomerState> | null> {
  const loaded = await runtime.load(CustomerAggregate, customerStream(customer_id));
  return loaded.state.exists && loaded.state.tenant === tenant ? loaded : null;
}

export async function loadPackage(runtime: CommandRuntime, tenant: string, package_id: string) {
  const loaded = await runtime.load(PackageAggregate, packageStream(package_id));
  return loaded.state.tenant === tenant || !loaded.state.exists ? loaded : { ...loaded, state: PackageAggregate.initial() };
}

const customerMissing = () => refusePlan(rejection('CUSTOMER_NOT_FOUND', 'no such customer in this ISP'));

function customerPlan<Value>(loaded: Loaded<CustomerState>, decision: Decision<CustomerEvent>, value: Value, extra: readonly Write[] = []): Plan<Value> {
  if (!decision.ok) return refusePlan(decision.rejection);
  return { kind: 'append', writes: [{ stream_id: loaded.stream_id, expected: CommandRuntime.expected(loaded), events: decision.events }, ...extra], value };
}

// --- packages ---------------------------------------------------------------------------------------------

export function createPackage(runtime: CommandRuntime, envelope: CommandEnvelope, command: PackageSpec & { package_id: string }): Promise<CommandResult<{ package_id: string }>> {
  return runtime.execute(envelope, 'create-package', command, async (context) => {
    const isp = await loadOperator(runtime, context.tenant, context.tenant);
    if (isp === null) return refusePlan(rejection('ISP_NOT_FOUND', 'register the ISP first'));
    const pkg = await runtime.load(PackageAggregate, packageStream(command.package_id));
    const decision = decideCreatePackage(pkg.state, { ...command, tenant: context.tenant, currency: isp.state.currency });
    if (!decision.ok) return refusePlan(decision.rejection);
    return { kind: 'append', writes: [{ stream_id: pkg.stream_id, expected: CommandRuntime.expected(pkg), events: decision.events }], value: { package_id: command.package_id } };
  });
}

export function updatePackage(runtime: CommandRuntime, envelope: CommandEnvelope, command: PackageSpec & { package_id: string }): Promise<CommandResult<null>> {
  return runtime.execute(envelope, 'update-package', command, async (context) => {
    const pkg = await loadPackage(runtime, context.tenant, command.package_id);
    const { package_id: _id, ...spec } = command;
    const decision = decideUpdatePackage(pkg.state, spec);
    if (!decision.ok) return refusePlan(decision.rejection);
    return { kind: 'append', writes: [{ stream_id: pkg.stream_id, expected: CommandRuntime.expected(pkg), events: decision.events }], value: null };
  });
}

export function retirePackage(runtime: CommandRuntime, envelope: CommandEnvelope, command: { package_id: string }): Promise<CommandResult<null>> {
  return runtime.execute(envelope, 'retire-package', command, async (context) => {
    const pkg = await loadPackage(runtime, context.tenant, command.package_id);
    const decision = decideRetirePackage(pkg.state);
    if (!decision.ok) return refusePlan(decision.rejection);
    return { kind: 'append', writes: [{ stream_id: pkg.stream_id, expected: CommandRuntime.expected(pkg), events: decision.events }], value: null };
  });
}

// --- registration and identifiers ---------------------------------------------------------------------------

function identifiersOf(data: Readonly<{ username: string | null; mac: string | null; static_ip: string | null }>) {
  const identifiers: { kind: IdentifierKind; value: string }[] = [];
  if (data.username !== null) identifiers.push({ kind: 'username', value: data.username });
  if (data.mac !== null) identifiers.push({ kind: 'mac', value: data.mac });
  if (data.static_ip !== null) identifiers.push({ kind: 'static_ip', value: data.static_ip });
  return identifiers;
}

export function registerCustomer(runtime: CommandRuntime, envelope: CommandEnvelope, command: RegisterCustomer): Promise<CommandResult<{ customer_id: string }>> {
  return runtime.execute(envelope, 'register-customer', command, async (context) => {
    const isp = await loadOperator(runtime, context.tenant, context.tenant);
    if (isp === null) return refusePlan(rejection('ISP_NOT_FOUND', 'register the ISP first'));
    const owner = await loadOperator(runtime, context.tenant, command.operator_id);
    if (owner === null) return refusePlan(rejection('OPERATOR_NOT_FOUND', `operator ${command.operator_id} does not exist in this ISP`));
    const pkg = await loadPackage(runtime, context.tenant, command.package_id);
    const customer = await runtime.load(CustomerAggregate, customerStream(command.customer_id));
    const decision = decideRegisterCustomer(customer.state, command, owner.state, isp.state, pkg.state, context);
    if (!decision.ok) return refusePlan(decision.rejection);
    const registered = decision.events[0]!;
    if (registered.type !== 'customer-registered') throw new Error('bug: registration must start with customer-registered');
    const reservations = await reservationWrites(runtime, context, command.customer_id, identifiersOf(registered.data));
    if (isPlan(reservations)) return reservations;
    return customerPlan(customer, decision, { customer_id: command.customer_id }, reservations);
  });
}

export function bindMac(runtime: CommandRuntime, envelope: CommandEnvelope, command: { customer_id: string; mac: string }): Promise<CommandResult<null>> {
  return runtime.execute(envelope, 'bind-mac', command, async (context) => {
    const customer = await loadCustomer(runtime, context.tenant, command.customer_id);
    if (customer === null) return customerMissing();
    const decision = decideBindMac(customer.state, command.mac);
    if (!decision.ok) return refusePlan(decision.rejection);
    const bound = decision.events.find((event) => event.type === 'mac-bound');
    const unbound = decision.events.find((event) => event.type === 'mac-unbound');
    const reservations = await reservationWrites(
      runtime,
      context,
      command.customer_id,
      bound?.type === 'mac-bound' ? [{ kind: 'mac', value: bound.data.mac }] : [],
      unbound?.type === 'mac-unbound' ? [{ kind: 'mac', value: unbound.data.mac }] : [],
    );
    if (isPlan(reservations)) return reservations;
    return customerPlan(customer, decision, null, reservations);
  });
}

// --- lifecycle ------------------------------------------------------------------------------------------------

/** The shape most lifecycle commands share: load the customer, decide on it alone, append to it. */
function simple<Command extends { customer_id: string }>(
  name: string,
  decide: (state: CustomerState, command: Command, context: CommandContext) => Decision<CustomerEvent>,
) {
  return (runtime: CommandRuntime, envelope: CommandEnvelope, command: Command): Promise<CommandResult<null>> =>
    runtime.execute(envelope, name, command as never, async (context) => {
      const customer = await loadCustomer(runtime, context.tenant, command.customer_id);
      if (customer === null) return customerMissing();
      return customerPlan(customer, decide(customer.state, command, context), null);
    });
}

export const suspendCustomer = simple<{ customer_id: string; reason: string }>('suspend-customer', (s, c, ctx) => decideSuspend(s, c.reason, ctx));
export const resumeCustomer = simple<{ customer_id: string }>('resume-customer', (s, _c, ctx) => decideResume(s, ctx));
export const expireCustomer = simple<{ customer_id: string }>('expire-customer', (s, _c, ctx) => decideExpire(s, ctx));
export const lockForNonpayment = simple<{ customer_id: string }>('lock-for-nonpayment', (s, _c, ctx) => decideLockForNonpayment(s, ctx));
export const disableCustomer = simple<{ customer_id: string; reason: string }>('disable-customer', (s, c, ctx) => decideDisable(s, c.reason, ctx));
export const enableCustomer = simple<{ customer_id: string }>('enable-customer', (s, _c, ctx) => decideEnable(s, ctx));
export const setExpiry = simple<{ customer_id: string; expires_on: string; reason: string }>('set-expiry', (s, c, ctx) => decideSetExpiry(s, c.expires_on, c.reason, ctx));
export const changeCustomerDetails = simple<{ customer_id: string; name: string; mobile: string; zone: string }>('change-customer-details', (s, c) => decideChangeDetails(s, c));
export const switchBillingProfile = simple<{ customer_id: string; profile: BillingProfile }>('switch-billing-profile', (s, c, ctx) => decideSwitchProfile(s, c.profile, ctx));
export const setContactPreferences = simple<{ customer_id: string } & ContactPreferences>('set-contact-preferences', (s, c, ctx) =>
  decideSetContactPreferences(s, { email: c.email, language: c.language, channels: c.channels }, ctx),
);

export function changePackage(runtime: CommandRuntime, envelope: CommandEnvelope, command: { customer_id: string; package_id: string }): Promise<CommandResult<null>> {
  return runtime.execute(envelope, 'change-package', command, async (context) => {
    const customer = await loadCustomer(runtime, context.tenant, command.customer_id);
    if (customer === null) return customerMissing();
    const from = await loadPackage(runtime, context.tenant, customer.state.package_id);
    const to = await loadPackage(runtime, context.tenant, command.package_id);
    const owner = await loadOperator(runtime, context.tenant, customer.state.operator_id);
    if (owner === null) return refusePlan(rejection('OPERATOR_NOT_FOUND', 'the customer’s operator is gone'));
    return customerPlan(customer, decideChangePackage(customer.state, from.state, to.state, owner.state, context), null);
  });
}

export function setSpecialPrice(runtime: CommandRuntime, envelope: CommandEnvelope, command: { customer_id: string; special_price: string | null }): Promise<CommandResult<null>> {
  return runtime.execute(envelope, 'set-special-price', command, async (context) => {
    const customer = await loadCustomer(runtime, context.tenant, command.customer_id);
    if (customer === null) return customerMissing();
    const owner = await loadOperator(runtime, context.tenant, customer.state.operator_id);
    if (owner === null) return refusePlan(rejection('OPERATOR_NOT_FOUND', 'the customer’s operator is gone'));
    return customerPlan(customer, decideSetSpecialPrice(customer.state, command.special_price, owner.state, context), null);
  });
}

/** `mover_operator_id` is the operator the actor acts for; the API layer derives it from the session. */
export function moveCustomer(
  runtime: CommandRuntime,
  envelope: CommandEnvelope,
  command: { customer_id: string; to_operator_id: string; mover_operator_id: string },
): Promise<CommandResult<null>> {
  return runtime.execute(envelope, 'move-customer', command, async (context) => {
    const customer = await loadCustomer(runtime, context.tenant, command.customer_id);
    if (customer === null) return customerMissing();
    const from = await loadOperator(runtime, context.tenant, customer.state.operator_id);
    const to = await loadOperator(runtime, context.tenant, command.to_operator_id);
    if (from === null || to === null) return refusePlan(rejection('OPERATOR_NOT_FOUND', 'no such operator in this ISP'));
    return customerPlan(customer, decideMove(customer.state, from.state, to.state, context, command.mover_operator_id), null);
  });
}
