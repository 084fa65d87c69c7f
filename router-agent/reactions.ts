import type { ConnectionType, CustomerEvent } from '../domain/customers/customer.js';
import { startsExpired } from '../domain/customers/customer-evolve.js';
import { DEFAULT_RADIUS_POLICY, type OperatorEvent, type RadiusPolicy } from '../domain/operators/operator.js';
import type { PackageEvent } from '../domain/packages/package.js';
import { networkContains, parseNetwork } from '../domain/routers/networks.js';
import type { RouterEvent } from '../domain/routers/router.js';
import type { RouterConnection } from '../domain/routers/router-connection.js';
import type { RouterSetup } from '../domain/routers/router-setup.js';
import type { RecordedEvent } from '../eventstore/event-store.js';
import { loginsOf, orderingKey, type PlannedCommand, type RouterCommand, type StaticAccess } from './commands.js';

/**
 * How events become router commands, as pure functions over the agent's own small state (routers, customers,
 * packages, each ISP's RADIUS policy). The reactor loads the rows a batch touches, folds each event in with
 * `applyEvent` and stores the rows and the commands it returns in the same transaction as its checkpoint.
 */
export type AgentCustomer = Readonly<{
  customer_id: string;
  tenant: string;
  operator_id: string;
  connection_type: ConnectionType;
  username: string | null;
  mac: string | null;
  static_ip: string | null;
  package_id: string;
  suspended: boolean;
  expired: boolean;
  disabled: boolean;
}>;

export type AgentPackage = Readonly<{ package_id: string; tenant: string; down_kbps: number; up_kbps: number }>;

export type AgentRouter = Readonly<{
  router_id: string;
  tenant: string;
  name: string;
  nas_ip: string;
  removed: boolean;
  connection: RouterConnection | null;
  setup: RouterSetup | null;
}>;

/** The rows a batch works on, keyed by id; `applyEvent` replaces rows (never edits them) and notes which changed. */
export type AgentView = {
  readonly customers: Map<string, AgentCustomer>;
  readonly packages: Map<string, AgentPackage>;
  readonly routers: Map<string, AgentRouter>;
  readonly policies: Map<string, RadiusPolicy>;
  readonly changed: Readonly<{ customers: Set<string>; packages: Set<string>; routers: Set<string>; policies: Set<string> }>;
};

export const emptyView = (): AgentView => ({
  customers: new Map(),
  packages: new Map(),
  routers: new Map(),
  policies: new Map(),
  changed: { customers: new Set(), packages: new Set(), routers: new Set(), policies: new Set() },
});

export type ReactionOptions = Readonly<{
  /** False while catching up on history recorded before the agent first ran: state only, no commands. */
  live: boolean;
  /** How long after a package change the agent checks a session's speed (a CoA from RADIUS usually lands first). */
  rate_check_delay_ms: number;
}>;

/** What the router should allow a customer: everything, the suspended treatment, or nothing at all. */
export function accessOf(customer: Pick<AgentCustomer, 'disabled' | 'suspended' | 'expired'>): StaticAccess {
  if (customer.disabled) return 'absent';
  if (customer.suspended || customer.expired) return 'blocked';
  return 'active';
}

/** Routers the agent can reach. */
export const reachable = (router: AgentRouter): boolean => !router.removed && router.connection !== null;

/** Whether the router takes care of this static IP: it handles static IPs and one of its networks holds it. */
export function servesStaticIp(router: AgentRouter, ip: string): boolean {
  if (!reachable(router) || router.setup === null || router.setup.static_ip.mode === 'none') return false;
  return router.setup.static_ip_networks.some((network) => {
    const parsed = parseNetwork(network);
    return parsed !== null && networkContains(parsed, ip);
  });
}

/** What the batch must have loaded for an event: its customer, package, routers and policy of its ISP. */
export function needs(event: RecordedEvent): Readonly<{ customer_id?: string; package_id?: string; router_id?: string; tenant: string }> {
  const data = event.data as { customer_id?: string; package_id?: string; to_package_id?: string; router_id?: string };
  const tenant = event.metadata.tenant;
  if (event.stream_id.startsWith('customer-') && data.customer_id !== undefined) {
    return { tenant, customer_id: data.customer_id, ...(data.to_package_id !== undefined ? { package_id: data.to_package_id } : data.package_id !== undefined ? { package_id: data.package_id } : {}) };
  }
  if (event.stream_id.startsWith('package-') && data.package_id !== undefined) return { tenant, package_id: data.package_id };
  if (event.stream_id.startsWith('router-') && data.router_id !== undefined) return { tenant, router_id: data.router_id };
  return { tenant };
}

/**
 * Folds one event into the view and returns the commands it implies. Commands go to the ISP's routers the
 * agent can reach: kicks and speed checks to all of them (RADIUS may have put the session on any), a
 * static-IP customer's entries to the routers serving its address. Changes that touch many customers at once
 * (a package's speed, the ISP's RADIUS policy, a router's setup) become one reconciliation per router instead
 * of a command per customer.
 */
export function applyEvent(view: AgentView, event: RecordedEvent, options: ReactionOptions): PlannedCommand[] {
  const tenant = event.metadata.tenant;
  if (event.stream_id.startsWith('router-')) return applyRouterEvent(view, event, options);
  if (event.stream_id.startsWith('package-')) return applyPackageEvent(view, event, options);
  if (event.stream_id.startsWith('operator-')) {
    const operatorEvent = { type: event.type, data: event.data } as unknown as OperatorEvent;
    if (operatorEvent.type === 'isp-registered') setPolicy(view, operatorEvent.data.operator_id, DEFAULT_RADIUS_POLICY);
    if (operatorEvent.type === 'radius-policy-set') {
      const { operator_id, ...policy } = operatorEvent.data;
      setPolicy(view, operator_id, policy);
      return reconcileEach(view, tenant, event, options, 'settings-changed');
    }
    return [];
  }
  if (!event.stream_id.startsWith('customer-')) return [];
  const customerEvent = { type: event.type, data: event.data } as unknown as CustomerEvent;
  const customer_id = (event.data as { customer_id?: string }).customer_id;
  if (customer_id === undefined) return [];
  const before = view.customers.get(customer_id);
  const after = nextCustomer(before, customerEvent, tenant);
  if (after === before || after === undefined) return [];
  view.customers.set(customer_id, after);
  view.changed.customers.add(customer_id);
  if (!options.live) return [];
  return customerCommands(view, before, after, event, options);
}

function nextCustomer(before: AgentCustomer | undefined, event: CustomerEvent, tenant: string): AgentCustomer | undefined {
  if (event.type === 'customer-registered') {
    const d = event.data;
    return {
      customer_id: d.customer_id,
      tenant: d.tenant ?? tenant,
      operator_id: d.operator_id,
      connection_type: d.connection_type,
      username: d.username,
      mac: d.mac,
      static_ip: d.static_ip,
      package_id: d.package_id,
      suspended: false,
      expired: startsExpired(d.profile),
      disabled: false,
    };
  }
  if (before === undefined) return undefined;
  switch (event.type) {
    case 'customer-suspended':
      return { ...before, suspended: true };
    case 'customer-resumed':
      return { ...before, suspended: false };
    case 'customer-expired':
    case 'customer-locked':
      return { ...before, expired: true };
    case 'customer-reactivated':
      return { ...before, expired: false };
    case 'customer-disabled':
      return { ...before, disabled: true };
    case 'customer-enabled':
      return { ...before, disabled: false };
    case 'mac-bound':
      return { ...before, mac: event.data.mac };
    case 'mac-unbound':
      return { ...before, mac: null };
    case 'package-changed':
      return { ...before, package_id: event.data.to_package_id };
    case 'customer-recharged':
      return event.data.package_id === before.package_id ? before : { ...before, package_id: event.data.package_id };
    case 'customer-moved':
      return { ...before, operator_id: event.data.to_operator_id };
    default:
      return before;
  }
}

function customerCommands(view: AgentView, before: AgentCustomer | undefined, after: AgentCustomer, event: RecordedEvent, options: ReactionOptions): PlannedCommand[] {
  const commands: PlannedCommand[] = [];
  const routers = [...view.routers.values()].filter((router) => router.tenant === after.tenant && reachable(router));
  const plan = (router: AgentRouter, command: RouterCommand, not_before = event.recorded_at): void => {
    commands.push({ router_id: router.router_id, tenant: after.tenant, command, ordering_key: orderingKey(command), source_event_id: event.event_id, not_before });
  };
  const access = accessOf(after);
  const accessBefore = before === undefined ? null : accessOf(before);

  // Sessions: a change of access ends them (RADIUS lets the customer back in on the new terms, if any); so
  // does a new MAC binding (the session may come from another device). A hotspot customer whose MAC changed
  // logged in by the old one.
  const oldLogins = before === undefined ? [] : loginsOf(before);
  const kickLogins = new Set<string>();
  if (before !== undefined && accessBefore !== access) for (const login of oldLogins) kickLogins.add(login);
  if (event.type === 'mac-bound' && after.connection_type === 'pppoe') for (const login of loginsOf(after)) kickLogins.add(login);
  if (before !== undefined && before.mac !== after.mac) for (const login of oldLogins.filter((login) => !loginsOf(after).includes(login))) kickLogins.add(login);
  if (kickLogins.size > 0) {
    for (const router of routers) plan(router, { kind: 'kick', customer_id: after.customer_id, logins: [...kickLogins], before: event.recorded_at.toISOString(), reason: event.type });
  }

  const speed = view.packages.get(after.package_id);
  // A new package while online: make sure the session runs at the new speed.
  if (before !== undefined && before.package_id !== after.package_id && access === 'active' && accessBefore === 'active' && speed !== undefined && loginsOf(after).length > 0) {
    const later = new Date(event.recorded_at.getTime() + options.rate_check_delay_ms);
    for (const router of routers) plan(router, { kind: 'check-rate', customer_id: after.customer_id, logins: loginsOf(after), up_kbps: speed.up_kbps, down_kbps: speed.down_kbps }, later);
  }

  // Static IPs: the routers serving the address get the customer's entries as they should now be.
  if (after.static_ip !== null) {
    const changed =
      before === undefined ||
      accessBefore !== access ||
      before.package_id !== after.package_id ||
      before.operator_id !== after.operator_id ||
      before.static_ip !== after.static_ip;
    if (changed) {
      for (const router of routers.filter((candidate) => servesStaticIp(candidate, after.static_ip!))) {
        plan(router, {
          kind: 'static',
          customer_id: after.customer_id,
          operator_id: after.operator_id,
          ip: after.static_ip,
          access,
          up_kbps: speed?.up_kbps ?? 0,
          down_kbps: speed?.down_kbps ?? 0,
        });
      }
    }
  }
  return commands;
}

function applyPackageEvent(view: AgentView, event: RecordedEvent, options: ReactionOptions): PlannedCommand[] {
  const packageEvent = { type: event.type, data: event.data } as unknown as PackageEvent;
  if (packageEvent.type === 'package-retired') return [];
  const d = packageEvent.data;
  const before = view.packages.get(d.package_id);
  const tenant = packageEvent.type === 'package-created' ? packageEvent.data.tenant : (before?.tenant ?? event.metadata.tenant);
  const after: AgentPackage = { package_id: d.package_id, tenant, down_kbps: d.down_kbps, up_kbps: d.up_kbps };
  view.packages.set(d.package_id, after);
  view.changed.packages.add(d.package_id);
  // New speeds for everyone on the package: one reconciliation per router settles sessions and queues.
  if (before !== undefined && (before.down_kbps !== after.down_kbps || before.up_kbps !== after.up_kbps)) return reconcileEach(view, tenant, event, options, 'settings-changed');
  return [];
}

function applyRouterEvent(view: AgentView, event: RecordedEvent, options: ReactionOptions): PlannedCommand[] {
  const routerEvent = { type: event.type, data: event.data } as unknown as RouterEvent;
  const router_id = routerEvent.data.router_id;
  const before = view.routers.get(router_id);
  let after: AgentRouter | undefined;
  switch (routerEvent.type) {
    case 'router-registered': {
      const d = routerEvent.data;
      after = { router_id, tenant: d.tenant, name: d.name, nas_ip: d.nas_ip, removed: false, connection: null, setup: null };
      break;
    }
    case 'router-updated':
      after = before === undefined ? undefined : { ...before, name: routerEvent.data.name, nas_ip: routerEvent.data.nas_ip };
      break;
    case 'router-removed':
      after = before === undefined ? undefined : { ...before, removed: true };
      break;
    case 'router-connection-set': {
      const { router_id: _id, ...connection } = routerEvent.data;
      after = before === undefined ? undefined : { ...before, connection };
      break;
    }
    case 'router-setup-set': {
      const { router_id: _id, ...setup } = routerEvent.data;
      after = before === undefined ? undefined : { ...before, setup };
      break;
    }
  }
  if (after === undefined) return [];
  view.routers.set(router_id, after);
  view.changed.routers.add(router_id);
  if (!options.live) return [];
  // A router the agent can now reach, or whose static-IP handling changed, gets a reconciliation: it brings
  // the router to what billing says (static entries under the new mode, sessions that should not be there).
  const newlyReachable = (before === undefined || !reachable(before)) && reachable(after);
  const setupChanged = routerEvent.type === 'router-setup-set' && reachable(after);
  if (newlyReachable || setupChanged) {
    const command: RouterCommand = { kind: 'reconcile', reason: newlyReachable ? 'first-contact' : 'settings-changed' };
    return [{ router_id, tenant: after.tenant, command, ordering_key: orderingKey(command), source_event_id: event.event_id, not_before: event.recorded_at }];
  }
  return [];
}

function setPolicy(view: AgentView, tenant: string, policy: RadiusPolicy): void {
  view.policies.set(tenant, policy);
  view.changed.policies.add(tenant);
}

function reconcileEach(view: AgentView, tenant: string, event: RecordedEvent, options: ReactionOptions, reason: 'settings-changed'): PlannedCommand[] {
  if (!options.live) return [];
  const command: RouterCommand = { kind: 'reconcile', reason };
  return [...view.routers.values()]
    .filter((router) => router.tenant === tenant && reachable(router))
    .map((router) => ({ router_id: router.router_id, tenant, command, ordering_key: orderingKey(command), source_event_id: event.event_id, not_before: event.recorded_at }));
}
