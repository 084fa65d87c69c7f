import type { RadiusPolicy } from '../domain/operators/operator.js';
import { poolContains } from '../domain/routers/networks.js';
import type { RouterSetup } from '../domain/routers/router-setup.js';
import { customerOfTag, customerTag, isCustomerTag, loginsOf, staticQueueName } from './commands.js';
import { ADDRESS_LIST, desiredStaticEntries, HOTSPOT_ACTIVE, PPP_ACTIVE, removeSessions, sessionsFrom, SIMPLE_QUEUE, syncStatic, type ActiveSession, type StaticEntries } from './operations.js';
import { accessOf, servesStaticIp, type AgentCustomer, type AgentPackage, type AgentRouter } from './reactions.js';
import type { RouterOsItem, RouterOsSession } from './routeros/session.js';
import { sameRate } from './routeros/values.js';

/**
 * Compares what billing says should be on a router with what is, heals the difference and reads the router
 * again to confirm. Kinds of drift:
 * - `orphan-session`: a session of a login no customer of the ISP has;
 * - `disabled-online` / `blocked-online`: a disabled customer online, or a suspended or expired one online
 *   other than in the suspended pool (or at all, where the ISP rejects blocked users);
 * - `active-in-suspended-pool`: an active customer still holding an address from the suspended pool;
 * - `wrong-speed`: a session's dynamic queue, or a static customer's queue, not at the package's speed;
 * - `duplicate-session`: one login online twice (the older session is ended);
 * - `missing-static` / `wrong-static` / `orphan-static`: a static-IP customer's address-list entries or queue
 *   missing, different, or left over for a customer who should have none here.
 * Sessions are healed by ending them (RADIUS lets the customer back on the right terms); static entries by
 * writing them as they should be.
 */
export type DriftKind =
  | 'orphan-session'
  | 'disabled-online'
  | 'blocked-online'
  | 'active-in-suspended-pool'
  | 'wrong-speed'
  | 'duplicate-session'
  | 'missing-static'
  | 'wrong-static'
  | 'orphan-static';

export type Drift = Readonly<{ kind: DriftKind; subject: string; detail: string }>;

export type ReconcileReport = Readonly<{
  checked: Readonly<{ sessions: number; static_customers: number }>;
  counts: Readonly<Partial<Record<DriftKind, number>>>;
  /** The drift found, at most MAX_LISTED entries (the counts are complete). */
  drift: readonly Drift[];
  healed: number;
  /** True when reading the router again showed every healed item as it should be. */
  confirmed: boolean;
  remaining: readonly Drift[];
  duration_ms: number;
}>;

export type DesiredState = Readonly<{
  router: AgentRouter;
  policy: RadiusPolicy;
  customers: readonly AgentCustomer[];
  packages: ReadonlyMap<string, AgentPackage>;
}>;

/** Drift entries a report lists; a router with 10,000 wrong sessions reports counts, not a 10,000-line event. */
export const MAX_LISTED = 200;
/** Static customers healed at once over one connection (the API client pipelines tagged commands). */
const STATIC_CONCURRENCY = 16;

type RouterView = Readonly<{ sessions: ActiveSession[]; dynamic_queues: Map<string, RouterOsItem>; entries: RouterOsItem[]; queues: RouterOsItem[] }>;

async function readRouter(session: RouterOsSession, now_ms: number, static_enabled: boolean): Promise<RouterView> {
  const [ppp, hotspot, queues, entries] = await Promise.all([
    session.print(PPP_ACTIVE, { proplist: ['.id', 'name', 'address', 'uptime'] }),
    session.print(HOTSPOT_ACTIVE, { proplist: ['.id', 'user', 'address', 'uptime'] }),
    session.print(SIMPLE_QUEUE, { proplist: ['.id', 'name', 'target', 'max-limit', 'comment', 'dynamic'] }),
    static_enabled ? session.print(ADDRESS_LIST, { proplist: ['.id', 'list', 'address', 'comment'] }) : Promise.resolve([]),
  ]);
  const dynamic_queues = new Map<string, RouterOsItem>();
  const ours: RouterOsItem[] = [];
  for (const queue of queues) {
    if (queue.dynamic === 'true') dynamic_queues.set(queue.name ?? '', queue);
    else if (isCustomerTag(queue.comment) || (queue.name ?? '').startsWith('ispbills-')) ours.push(queue);
  }
  return {
    sessions: [...sessionsFrom(PPP_ACTIVE, ppp, now_ms), ...sessionsFrom(HOTSPOT_ACTIVE, hotspot, now_ms)],
    dynamic_queues,
    entries: entries.filter((entry) => isCustomerTag(entry.comment)),
    queues: ours,
  };
}

type SessionVerdict = Readonly<{ session: ActiveSession; drift: Drift }>;

function judgeSessions(view: RouterView, state: DesiredState): SessionVerdict[] {
  const byLogin = new Map<string, AgentCustomer>();
  for (const customer of state.customers) for (const login of loginsOf(customer)) byLogin.set(login, customer);
  const ranges = state.router.setup?.suspended_pool_ranges ?? null;
  const verdicts: SessionVerdict[] = [];
  const grouped = new Map<string, ActiveSession[]>();
  for (const session of view.sessions) grouped.set(session.login, [...(grouped.get(session.login) ?? []), session]);
  for (const [login, sessions] of grouped) {
    const customer = byLogin.get(login);
    const verdict = (kind: DriftKind, detail: string, which = sessions): void => {
      for (const session of which) verdicts.push({ session, drift: { kind, subject: login, detail: `${detail} (session ${session.id})` } });
    };
    if (customer === undefined) {
      verdict('orphan-session', 'no customer of this ISP logs in as this');
      continue;
    }
    const access = accessOf(customer);
    if (access === 'absent') {
      verdict('disabled-online', `customer ${customer.customer_id} is disabled`);
      continue;
    }
    if (access === 'blocked') {
      const outside = sessions.filter((session) => state.policy.blocked_access === 'reject' || (ranges !== null && !poolContains(ranges, session.address)));
      if (outside.length > 0) verdict('blocked-online', `customer ${customer.customer_id} is ${customer.suspended ? 'suspended' : 'expired'} but online outside the suspended pool`, outside);
      continue;
    }
    const inPool = ranges === null ? [] : sessions.filter((session) => session.address !== '' && poolContains(ranges, session.address));
    if (inPool.length > 0) {
      verdict('active-in-suspended-pool', `customer ${customer.customer_id} is active but holds an address of the suspended pool`, inPool);
      continue;
    }
    const speed = state.packages.get(customer.package_id);
    const queue = view.dynamic_queues.get(`<pppoe-${login}>`) ?? view.dynamic_queues.get(`<hotspot-${login}>`);
    if (speed !== undefined && queue !== undefined && !sameRate(queue['max-limit'], speed.up_kbps, speed.down_kbps)) {
      verdict('wrong-speed', `runs at ${queue['max-limit'] ?? '?'} instead of ${speed.up_kbps}k/${speed.down_kbps}k`);
      continue;
    }
    if (sessions.length > 1) {
      // Simultaneous-Use is 1: keep the newest session, end the others.
      const newest = [...sessions].sort((a, b) => (b.started_ms ?? 0) - (a.started_ms ?? 0))[0]!;
      verdict('duplicate-session', 'logged in more than once', sessions.filter((session) => session !== newest));
    }
  }
  return verdicts;
}

type StaticPlan = Readonly<{ customer_id: string; ip: string; tag: string; desired: StaticEntries; entries: RouterOsItem[]; queues: RouterOsItem[]; drift: Drift[] }>;

function judgeStatic(view: RouterView, state: DesiredState): StaticPlan[] {
  const setup: RouterSetup | null = state.router.setup;
  if (setup === null || setup.static_ip.mode === 'none') return [];
  const entriesOf = new Map<string, RouterOsItem[]>();
  for (const entry of view.entries) {
    const customer_id = customerOfTag(entry.comment ?? '');
    if (customer_id !== null) entriesOf.set(customer_id, [...(entriesOf.get(customer_id) ?? []), entry]);
  }
  const queuesOf = new Map<string, RouterOsItem[]>();
  for (const queue of view.queues) {
    const customer_id = customerOfTag(queue.comment ?? '') ?? (queue.name ?? '').replace(/^ispbills-/, '');
    queuesOf.set(customer_id, [...(queuesOf.get(customer_id) ?? []), queue]);
  }
  const plans: StaticPlan[] = [];
  const seen = new Set<string>();
  for (const customer of state.customers) {
    if (customer.static_ip === null || !servesStaticIp(state.router, customer.static_ip)) continue;
    seen.add(customer.customer_id);
    const speed = state.packages.get(customer.package_id);
    const desired = desiredStaticEntries(accessOf(customer), customer.static_ip, speed?.up_kbps ?? 0, speed?.down_kbps ?? 0, setup, state.policy);
    const tag = customerTag(customer.customer_id, customer.operator_id);
    const entries = entriesOf.get(customer.customer_id) ?? [];
    const queues = queuesOf.get(customer.customer_id) ?? [];
    const drift = staticDrift(customer.customer_id, customer.static_ip, tag, desired, entries, queues);
    if (drift.length > 0) plans.push({ customer_id: customer.customer_id, ip: customer.static_ip, tag, desired, entries, queues, drift });
  }
  // Entries of customers who should have none here (unknown, disabled, or no longer served by this router).
  for (const customer_id of new Set([...entriesOf.keys(), ...queuesOf.keys()])) {
    if (seen.has(customer_id)) continue;
    const entries = entriesOf.get(customer_id) ?? [];
    const queues = queuesOf.get(customer_id) ?? [];
    const ip = entries[0]?.address ?? queues[0]?.target ?? '?';
    plans.push({
      customer_id,
      ip,
      tag: '',
      desired: { lists: [], queue: null },
      entries,
      queues,
      drift: [{ kind: 'orphan-static', subject: customer_id, detail: `${entries.length} address-list entr${entries.length === 1 ? 'y' : 'ies'} and ${queues.length} queue(s) for a customer who should have none here` }],
    });
  }
  return plans;
}

function staticDrift(customer_id: string, ip: string, tag: string, desired: StaticEntries, entries: readonly RouterOsItem[], queues: readonly RouterOsItem[]): Drift[] {
  const drift: Drift[] = [];
  const missingLists = desired.lists.filter((list) => !entries.some((entry) => entry.list === list && entry.address === ip));
  if (missingLists.length > 0) drift.push({ kind: 'missing-static', subject: customer_id, detail: `${ip} missing from address list ${missingLists.join(', ')}` });
  const extraEntries = entries.filter((entry) => !desired.lists.includes(entry.list ?? '') || entry.address !== ip);
  if (extraEntries.length > 0) drift.push({ kind: 'wrong-static', subject: customer_id, detail: `${ip} is in address list ${extraEntries.map((entry) => entry.list).join(', ')} where it should not be` });
  const retag = entries.filter((entry) => desired.lists.includes(entry.list ?? '') && entry.comment !== tag);
  if (retag.length > 0) drift.push({ kind: 'wrong-static', subject: customer_id, detail: `entries of ${ip} are tagged for another operator` });
  if (desired.queue === null) {
    if (queues.length > 0) drift.push({ kind: 'wrong-static', subject: customer_id, detail: `queue ${staticQueueName(customer_id)} should not exist` });
  } else if (queues.length === 0) {
    drift.push({ kind: 'missing-static', subject: customer_id, detail: `queue ${staticQueueName(customer_id)} is missing` });
  } else {
    const queue = queues[0]!;
    const [up, down] = desired.queue.max_limit.split('/').map((part) => Number(part.replace('k', '')));
    if (!sameRate(queue['max-limit'], up!, down!)) drift.push({ kind: 'wrong-speed', subject: customer_id, detail: `queue runs at ${queue['max-limit'] ?? '?'} instead of ${desired.queue.max_limit}` });
    if (queue.target !== desired.queue.target || queue.comment !== tag || queues.length > 1) drift.push({ kind: 'wrong-static', subject: customer_id, detail: `queue ${staticQueueName(customer_id)} has target ${queue.target ?? '?'} or tag ${queue.comment ?? '?'}` });
  }
  return drift;
}

export async function reconcile(session: RouterOsSession, state: DesiredState, now: () => number = Date.now): Promise<ReconcileReport> {
  const started = now();
  const static_enabled = state.router.setup !== null && state.router.setup.static_ip.mode !== 'none';
  const view = await readRouter(session, started, static_enabled);
  const sessionVerdicts = judgeSessions(view, state);
  const staticPlans = judgeStatic(view, state);
  const drift = [...sessionVerdicts.map((verdict) => verdict.drift), ...staticPlans.flatMap((plan) => plan.drift)];

  // Heal.
  const kicked = [...new Map(sessionVerdicts.map((verdict) => [`${verdict.session.menu}${verdict.session.id}`, verdict.session])).values()];
  await removeSessions(session, kicked);
  for (let index = 0; index < staticPlans.length; index += STATIC_CONCURRENCY) {
    await Promise.all(staticPlans.slice(index, index + STATIC_CONCURRENCY).map((plan) => syncStatic(session, { customer_id: plan.customer_id, ip: plan.ip, tag: plan.tag }, plan.desired, plan.entries, plan.queues)));
  }

  // Confirm by reading back: every ended session gone, every healed customer's entries as they should be.
  let remaining: Drift[] = [];
  if (kicked.length > 0 || staticPlans.length > 0) {
    const after = await readRouter(session, now(), static_enabled);
    const still = new Set(after.sessions.map((entry) => `${entry.menu}${entry.id}`));
    remaining = sessionVerdicts.filter((verdict) => still.has(`${verdict.session.menu}${verdict.session.id}`)).map((verdict) => verdict.drift);
    const healedCustomers = new Set(staticPlans.map((plan) => plan.customer_id));
    remaining.push(...judgeStatic(after, state).filter((plan) => healedCustomers.has(plan.customer_id)).flatMap((plan) => plan.drift));
  }
  const counts: Partial<Record<DriftKind, number>> = {};
  for (const entry of drift) counts[entry.kind] = (counts[entry.kind] ?? 0) + 1;
  return {
    checked: { sessions: view.sessions.length, static_customers: state.customers.filter((customer) => customer.static_ip !== null && servesStaticIp(state.router, customer.static_ip)).length },
    counts,
    drift: drift.slice(0, MAX_LISTED),
    healed: kicked.length + staticPlans.length,
    confirmed: remaining.length === 0,
    remaining: remaining.slice(0, MAX_LISTED),
    duration_ms: now() - started,
  };
}
