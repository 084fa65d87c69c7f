import type { RadiusPolicy } from '../domain/operators/operator.js';
import type { RouterSetup } from '../domain/routers/router-setup.js';
import { customerTag, isCustomerTag, staticQueueName, type CheckRateCommand, type KickCommand, type StaticAccess, type StaticCommand } from './commands.js';
import type { RouterOsItem, RouterOsSession } from './routeros/session.js';
import { maxLimit, parseDuration, sameRate } from './routeros/values.js';

/**
 * The customer commands on one router. Each reads before it writes and changes only what differs, so running
 * one again after a crash (the router acted, the row did not yet say so) changes nothing more.
 */
export const PPP_ACTIVE = '/ppp/active';
export const HOTSPOT_ACTIVE = '/ip/hotspot/active';
export const ADDRESS_LIST = '/ip/firewall/address-list';
export const SIMPLE_QUEUE = '/queue/simple';

const UPTIME_RESOLUTION_MS = 1_000;

/** Most ids one remove carries; a mass kick is split so no API word grows without bound. */
const MAX_IDS_PER_REMOVE = 100;

export type Change = string;

/** A session as both menus print it. */
export type ActiveSession = Readonly<{ menu: typeof PPP_ACTIVE | typeof HOTSPOT_ACTIVE; id: string; login: string; address: string; started_ms: number | null }>;

export function sessionsFrom(menu: ActiveSession['menu'], items: readonly RouterOsItem[], now_ms: number): ActiveSession[] {
  const loginKey = menu === PPP_ACTIVE ? 'name' : 'user';
  return items.map((item) => {
    const uptime = parseDuration(item.uptime ?? '');
    return { menu, id: item['.id'] ?? '', login: item[loginKey] ?? '', address: item.address ?? '', started_ms: uptime === null ? null : now_ms - uptime };
  });
}

export async function removeSessions(session: RouterOsSession, sessions: readonly ActiveSession[]): Promise<void> {
  for (const menu of [PPP_ACTIVE, HOTSPOT_ACTIVE] as const) {
    const ids = sessions.filter((entry) => entry.menu === menu).map((entry) => entry.id);
    for (let index = 0; index < ids.length; index += MAX_IDS_PER_REMOVE) {
      try {
        await session.remove(menu, ids.slice(index, index + MAX_IDS_PER_REMOVE));
      } catch (error) {
        // A session that ended by itself meanwhile is what we wanted; remove the rest one by one.
        if ((error as { code?: string }).code !== 'ROUTEROS_TRAP') throw error;
        for (const id of ids.slice(index, index + MAX_IDS_PER_REMOVE)) {
          await session.remove(menu, [id]).catch((single: unknown) => {
            if ((single as { code?: string }).code !== 'ROUTEROS_TRAP') throw single;
          });
        }
      }
    }
  }
}

async function sessionsOf(session: RouterOsSession, login: string, now_ms: number): Promise<ActiveSession[]> {
  const [ppp, hotspot] = await Promise.all([
    session.print(PPP_ACTIVE, { where: { name: login }, proplist: ['.id', 'name', 'address', 'uptime'] }),
    session.print(HOTSPOT_ACTIVE, { where: { user: login }, proplist: ['.id', 'user', 'address', 'uptime'] }),
  ]);
  return [...sessionsFrom(PPP_ACTIVE, ppp, now_ms), ...sessionsFrom(HOTSPOT_ACTIVE, hotspot, now_ms)];
}

/**
 * Ends the customer's sessions that began before the event. A session that began after it was let in by
 * RADIUS on the customer's new terms, and a second run after a crash finds only such sessions: nothing is
 * kicked twice. A session whose start the router does not say is ended (it cannot be told apart).
 */
export async function kick(session: RouterOsSession, command: KickCommand, now_ms: number): Promise<Change[]> {
  // RouterOS prints uptime in whole seconds, so a start time read from it may be up to a second late: a
  // session that began in the second around the event counts as older (ended rather than left online).
  const before_ms = Date.parse(command.before) + UPTIME_RESOLUTION_MS;
  const found = (await Promise.all(command.logins.map((login) => sessionsOf(session, login, now_ms)))).flat();
  const stale = found.filter((entry) => entry.started_ms === null || entry.started_ms < before_ms);
  await removeSessions(session, stale);
  return stale.map((entry) => `ended ${entry.menu === PPP_ACTIVE ? 'PPPoE' : 'hotspot'} session ${entry.id} of ${entry.login}`);
}

/** The dynamic queue RouterOS makes for a session, named after the service and the login. */
export const dynamicQueueNames = (login: string): readonly string[] => [`<pppoe-${login}>`, `<hotspot-${login}>`];

/** Ends sessions whose dynamic queue does not run at the package's speed, so they log in again with it. */
export async function checkRate(session: RouterOsSession, command: CheckRateCommand, now_ms: number): Promise<Change[]> {
  const changes: Change[] = [];
  for (const login of command.logins) {
    const queues = (await Promise.all(dynamicQueueNames(login).map((name) => session.print(SIMPLE_QUEUE, { where: { name }, proplist: ['.id', 'name', 'max-limit'] })))).flat();
    if (queues.length === 0 || queues.every((queue) => sameRate(queue['max-limit'], command.up_kbps, command.down_kbps))) continue;
    const sessions = await sessionsOf(session, login, now_ms);
    await removeSessions(session, sessions);
    for (const entry of sessions) changes.push(`ended session ${entry.id} of ${login}: it ran at ${queues[0]?.['max-limit'] ?? '?'} instead of ${maxLimit(command.up_kbps, command.down_kbps)}`);
  }
  return changes;
}

/** What a static-IP customer's entries on a router should be, by the router's handling and the ISP's policy. */
export type StaticEntries = Readonly<{
  /** Address-list entries: list → present. */
  lists: readonly string[];
  queue: Readonly<{ target: string; max_limit: string }> | null;
}>;

export function desiredStaticEntries(access: StaticAccess, ip: string, up_kbps: number, down_kbps: number, setup: RouterSetup, policy: RadiusPolicy): StaticEntries {
  const handling = setup.static_ip;
  if (access === 'absent' || handling.mode === 'none') return { lists: [], queue: null };
  if (access === 'blocked') return { lists: policy.suspended_address_list === null ? [] : [policy.suspended_address_list], queue: null };
  const target = ip.includes(':') ? `${ip}/128` : `${ip}/32`;
  if (handling.mode === 'address-list') return { lists: [handling.list], queue: null };
  return { lists: [], queue: { target, max_limit: maxLimit(up_kbps, down_kbps) } };
}

/** Brings one static-IP customer's address-list entries and queue on the router to what they should be. */
export async function applyStatic(session: RouterOsSession, command: StaticCommand, setup: RouterSetup, policy: RadiusPolicy): Promise<Change[]> {
  const desired = desiredStaticEntries(command.access, command.ip, command.up_kbps, command.down_kbps, setup, policy);
  const tag = customerTag(command.customer_id, command.operator_id);
  const [entries, queues] = await Promise.all([
    session.print(ADDRESS_LIST, { where: { address: command.ip }, proplist: ['.id', 'list', 'address', 'comment'] }),
    session.print(SIMPLE_QUEUE, { where: { name: staticQueueName(command.customer_id) }, proplist: ['.id', 'name', 'target', 'max-limit', 'comment'] }),
  ]);
  const ours = entries.filter((entry) => isCustomerTag(entry.comment, command.customer_id));
  return syncStatic(session, { customer_id: command.customer_id, ip: command.ip, tag }, desired, ours, queues);
}

/** Adds what is missing, corrects what differs, removes what should not be there; returns what it did. */
export async function syncStatic(
  session: RouterOsSession,
  customer: Readonly<{ customer_id: string; ip: string; tag: string }>,
  desired: StaticEntries,
  entries: readonly RouterOsItem[],
  queues: readonly RouterOsItem[],
): Promise<Change[]> {
  const changes: Change[] = [];
  const kept = new Set<string>();
  for (const list of desired.lists) {
    const existing = entries.find((entry) => entry.list === list && entry.address === customer.ip && !kept.has(entry['.id']!));
    if (existing === undefined) {
      await session.add(ADDRESS_LIST, { list, address: customer.ip, comment: customer.tag });
      changes.push(`added ${customer.ip} to address list ${list}`);
      continue;
    }
    kept.add(existing['.id']!);
    if (existing.comment !== customer.tag) {
      await session.set(ADDRESS_LIST, existing['.id']!, { comment: customer.tag });
      changes.push(`retagged ${customer.ip} in ${list} as ${customer.tag}`);
    }
  }
  const stale = entries.filter((entry) => !kept.has(entry['.id']!));
  if (stale.length > 0) {
    await session.remove(ADDRESS_LIST, stale.map((entry) => entry['.id']!));
    for (const entry of stale) changes.push(`removed ${entry.address} from address list ${entry.list}`);
  }
  const [queue, ...extra] = queues;
  if (desired.queue === null) {
    if (queues.length > 0) {
      await session.remove(SIMPLE_QUEUE, queues.map((entry) => entry['.id']!));
      changes.push(`removed queue ${staticQueueName(customer.customer_id)}`);
    }
    return changes;
  }
  if (queue === undefined) {
    await session.add(SIMPLE_QUEUE, { name: staticQueueName(customer.customer_id), target: desired.queue.target, 'max-limit': desired.queue.max_limit, comment: customer.tag });
    changes.push(`added queue ${staticQueueName(customer.customer_id)} ${desired.queue.max_limit}`);
    return changes;
  }
  const fixes: Record<string, string> = {};
  if (queue.target !== desired.queue.target) fixes.target = desired.queue.target;
  const [up, down] = desired.queue.max_limit.split('/').map((part) => Number(part.replace('k', '')));
  if (!sameRate(queue['max-limit'], up!, down!)) fixes['max-limit'] = desired.queue.max_limit;
  if (queue.comment !== customer.tag) fixes.comment = customer.tag;
  if (Object.keys(fixes).length > 0) {
    await session.set(SIMPLE_QUEUE, queue['.id']!, fixes);
    changes.push(`set queue ${staticQueueName(customer.customer_id)} ${Object.entries(fixes).map(([name, value]) => `${name}=${value}`).join(' ')}`);
  }
  if (extra.length > 0) {
    await session.remove(SIMPLE_QUEUE, extra.map((entry) => entry['.id']!));
    changes.push(`removed ${extra.length} duplicate queue(s) ${staticQueueName(customer.customer_id)}`);
  }
  return changes;
}
