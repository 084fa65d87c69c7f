import type { ConnectionType } from '../domain/customers/customer.js';

/**
 * The commands the outbox holds, one row each, carried out on one router. Each is written so that doing it
 * twice has the effect of doing it once (the agent may be killed after the router acted but before the row
 * says so): it reads the router first and changes only what differs, and a kick only ends sessions that began
 * before the event that asked for it.
 */
export type RouterCommandKind = 'kick' | 'static' | 'check-rate' | 'setup' | 'reconcile';

/** End the customer's active PPPoE and hotspot sessions that began before `before` (ISO instant). */
export type KickCommand = Readonly<{ kind: 'kick'; customer_id: string; logins: readonly string[]; before: string; reason: string }>;

/** What a static-IP customer should have on the router now: entries for `active`, the suspended list for `blocked`, nothing for `absent`. */
export type StaticCommand = Readonly<{
  kind: 'static';
  customer_id: string;
  operator_id: string;
  ip: string;
  access: StaticAccess;
  up_kbps: number;
  down_kbps: number;
}>;

export type StaticAccess = 'active' | 'blocked' | 'absent';

/** After a package change: if a session's dynamic queue does not have the new speed (no CoA landed), end it so it logs in again with it. */
export type CheckRateCommand = Readonly<{ kind: 'check-rate'; customer_id: string; logins: readonly string[]; up_kbps: number; down_kbps: number }>;

export type SetupCommand = Readonly<{ kind: 'setup'; requested_by: string }>;

export type ReconcileCommand = Readonly<{ kind: 'reconcile'; reason: 'schedule' | 'on-demand' | 'settings-changed' | 'queue-overflow' | 'first-contact' }>;

export type RouterCommand = KickCommand | StaticCommand | CheckRateCommand | SetupCommand | ReconcileCommand;

/** A command as the reactor plans it, before it has a row. */
export type PlannedCommand = Readonly<{
  router_id: string;
  tenant: string;
  command: RouterCommand;
  /** Same key: strictly in order. '*': after everything before it, before everything after it. */
  ordering_key: string;
  source_event_id: string | null;
  not_before: Date;
}>;

export const ROUTER_WIDE = '*';

export function orderingKey(command: RouterCommand): string {
  return command.kind === 'setup' || command.kind === 'reconcile' ? ROUTER_WIDE : command.customer_id;
}

/** The comment that marks what the agent put on a router for a customer (address lists, queues). */
export const customerTag = (customer_id: string, operator_id: string): string => `ispbills:${customer_id}:${operator_id}`;
export const isCustomerTag = (comment: string | undefined, customer_id?: string): boolean =>
  comment !== undefined && (customer_id === undefined ? comment.startsWith('ispbills:') : comment.startsWith(`ispbills:${customer_id}:`));
export const customerOfTag = (comment: string): string | null => /^ispbills:([^:]+):/.exec(comment)?.[1] ?? null;

/** The simple queue the agent keeps for a static-IP customer. */
export const staticQueueName = (customer_id: string): string => `ispbills-${customer_id}`;

/** The logins a customer's sessions go by: the PPPoE user name, and for hotspot customers the MAC (MAC authentication). */
export function loginsOf(customer: Readonly<{ connection_type: ConnectionType; username: string | null; mac: string | null }>): string[] {
  if (customer.connection_type === 'static_ip') return [];
  const logins: string[] = [];
  if (customer.username !== null) logins.push(customer.username);
  if (customer.connection_type === 'hotspot' && customer.mac !== null && customer.mac !== customer.username) logins.push(customer.mac);
  return logins;
}
