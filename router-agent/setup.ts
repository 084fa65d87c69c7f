import { isIP } from 'node:net';
import type { RadiusPolicy } from '../domain/operators/operator.js';
import { routerOsAtLeast } from '../domain/routers/router-connection.js';
import type { RouterState } from '../domain/routers/router.js';
import type { Change } from './operations.js';
import type { RouterOsItem, RouterOsSession } from './routeros/session.js';
import { formatSeconds, parseDuration } from './routeros/values.js';

/**
 * One-click setup: makes a router a NAS of this ISP. Every step reads what is there and changes only what
 * differs, so a second run changes nothing and leaves the router exactly as the first left it. Before any
 * change it checks that it can finish: the API user has write rights, the interfaces it needs exist, the pool
 * ranges the ISP's policy needs are configured; if not, it says what is wrong and changes nothing.
 *
 * Values come from the router's registration (NAS IP, RADIUS secret, CoA port, Message-Authenticator rule),
 * its setup settings (RADIUS address and ports, timeout, PPPoE servers, hotspot profiles, portal, pool
 * ranges) and the ISP's RADIUS policy (suspended pool and address list names, interim interval).
 */
export type SetupRefusalCode = 'ROUTER_API_USER_MISSING' | 'ROUTER_API_RIGHTS_MISSING' | 'ROUTER_NOT_CONFIGURED';

export type SetupReport =
  | Readonly<{ ok: true; changes: readonly Change[]; unchanged: number; notes: readonly string[] }>
  | Readonly<{ ok: false; code: SetupRefusalCode; message: string }>;

/** Marks what setup put on the router, so a later run finds it again. */
export const SETUP_TAG = 'ispbills';
export const PORTAL_TAG = 'ispbills:portal';
export const DROP_RULE_TAG = 'ispbills:suspended-drop';

/**
 * The PPP profile's on-up script: when a user logs in while an older session of theirs is still up (a dropped
 * line the router has not noticed yet), the older one is ended, so the customer is not locked out.
 */
export const DUPLICATE_SESSION_SCRIPT =
  ':local sessions [/ppp active find where name=$user]; :if ([:len $sessions] > 1) do={ /ppp active remove [:pick $sessions 0] }';

/** RouterOS prints lists of flags in its own order; compare them as sets. */
const sameSet = (a: string | undefined, b: string): boolean => new Set((a ?? '').split(',').filter(Boolean)).size === new Set(b.split(',')).size && b.split(',').every((part) => (a ?? '').split(',').includes(part));
const sameDuration = (a: string | undefined, b: string): boolean => parseDuration(a ?? '') !== null && parseDuration(a ?? '') === parseDuration(b);

type Comparator = (actual: string | undefined, wanted: string) => boolean;
const exact: Comparator = (actual, wanted) => actual === wanted;

export async function runSetup(session: RouterOsSession, router: RouterState, policy: RadiusPolicy): Promise<SetupReport> {
  const { connection, setup } = router;
  if (connection === null || setup === null) return { ok: false, code: 'ROUTER_NOT_CONFIGURED', message: `router ${router.name} has no ${connection === null ? 'API connection' : 'setup settings'} yet` };

  // --- checks first: nothing changes unless every step can be done -------------------------------------
  const [user] = await session.print('/user', { where: { name: connection.username }, proplist: ['name', 'group'] });
  if (user === undefined) return { ok: false, code: 'ROUTER_API_USER_MISSING', message: `API user ${connection.username} does not exist on router ${router.name}` };
  const [group] = await session.print('/user/group', { where: { name: user.group ?? '' }, proplist: ['name', 'policy'] });
  const rights = (group?.policy ?? '').split(',');
  if (!(user.group === 'full' || user.group === 'write' || rights.includes('write'))) {
    return {
      ok: false,
      code: 'ROUTER_API_RIGHTS_MISSING',
      message: `API user ${connection.username} is in group ${user.group ?? '?'}, which may not write (policy ${group?.policy ?? 'unknown'}); setup changes the router's configuration: put the user in group full or write`,
    };
  }
  const interfaces = new Set((await session.print('/interface', { proplist: ['name'] })).map((item) => item.name));
  for (const server of setup.pppoe_servers) {
    if (!interfaces.has(server.interface)) return { ok: false, code: 'ROUTER_NOT_CONFIGURED', message: `interface ${server.interface} (PPPoE service ${server.service_name}) does not exist on router ${router.name}` };
  }
  if (policy.blocked_access === 'suspended_pool' && setup.suspended_pool_ranges === null) {
    return { ok: false, code: 'ROUTER_NOT_CONFIGURED', message: `the ISP lets blocked users in with pool ${policy.suspended_pool ?? '?'}, but router ${router.name} has no suspended pool ranges; set them in its setup` };
  }

  const changes: Change[] = [];
  const notes: string[] = [];
  let unchanged = 0;

  /** Makes the item matched by `where` have `wanted`: adds it when missing, sets what differs. */
  const ensureItem = async (path: string, where: Readonly<Record<string, string>>, wanted: Readonly<Record<string, string>>, compare: Readonly<Record<string, Comparator>> = {}, what = path): Promise<string> => {
    const [existing, ...duplicates] = await session.print(path, { where });
    if (existing === undefined) {
      const id = await session.add(path, { ...where, ...wanted });
      changes.push(`added ${what}`);
      return id;
    }
    if (duplicates.length > 0) notes.push(`${what}: ${duplicates.length + 1} items match ${JSON.stringify(where)}; the first was used`);
    const fixes = differing(existing, wanted, compare);
    if (Object.keys(fixes).length === 0) unchanged += 1;
    else {
      await session.set(path, existing['.id']!, fixes);
      changes.push(`set ${what}: ${Object.keys(fixes).join(', ')}`);
    }
    return existing['.id']!;
  };
  const ensureSetting = async (path: string, wanted: Readonly<Record<string, string>>, compare: Readonly<Record<string, Comparator>> = {}): Promise<void> => {
    const [current] = await session.print(path);
    const fixes = differing(current ?? {}, wanted, compare);
    if (Object.keys(fixes).length === 0) unchanged += 1;
    else {
      await session.set(path, null, fixes);
      changes.push(`set ${path}: ${Object.entries(fixes).map(([name, value]) => `${name}=${value}`).join(' ')}`);
    }
  };

  // The RADIUS client for PPP and hotspot.
  const radius: Record<string, string> = {
    service: 'ppp,hotspot',
    address: setup.radius_address,
    secret: router.secret,
    'authentication-port': String(setup.radius_auth_port),
    'accounting-port': String(setup.radius_accounting_port),
    timeout: `${setup.radius_timeout_ms}ms`,
  };
  // Requests come from the NAS IP, which is how RADIUS knows the router.
  if (isIP(router.nas_ip) === 4) radius['src-address'] = router.nas_ip;
  if (routerOsAtLeast(connection.routeros_version, 7, 15)) radius['require-message-auth'] = router.require_message_authenticator ? 'yes-for-request-resp' : 'no';
  else notes.push(`RouterOS ${connection.routeros_version} has no require-message-auth (7.15+); upgrade the router to be protected against Blast-RADIUS`);
  await ensureItem('/radius', { comment: SETUP_TAG }, radius, { service: sameSet, timeout: sameDuration }, 'the RADIUS client');

  // Disconnect and CoA from RADIUS; the port is set explicitly (the default moved between versions).
  await ensureSetting('/radius/incoming', { accept: 'yes', port: String(router.coa_port) }, { accept: yesNo });
  await ensureSetting('/ppp/aaa', { 'use-radius': 'yes', accounting: 'yes', 'interim-update': formatSeconds(policy.interim_interval_seconds) }, { 'use-radius': yesNo, accounting: yesNo, 'interim-update': sameDuration });

  for (const server of setup.pppoe_servers) {
    await ensureItem('/ppp/profile', { name: server.default_profile }, { 'on-up': DUPLICATE_SESSION_SCRIPT }, {}, `PPP profile ${server.default_profile}`);
    await ensureItem(
      '/interface/pppoe-server/server',
      { 'service-name': server.service_name },
      { interface: server.interface, 'default-profile': server.default_profile, authentication: 'pap,chap', 'one-session-per-host': 'yes', disabled: 'no' },
      { authentication: sameSet, 'one-session-per-host': yesNo, disabled: yesNo },
      `PPPoE server ${server.service_name}`,
    );
  }

  for (const profile of setup.hotspot_profiles) {
    await ensureItem(
      '/ip/hotspot/profile',
      { name: profile },
      { 'use-radius': 'yes', 'radius-accounting': 'yes', 'radius-interim-update': 'received', 'login-by': 'mac,http-chap', 'mac-auth-mode': 'mac-as-username-and-password' },
      { 'use-radius': yesNo, 'radius-accounting': yesNo, 'login-by': sameSet },
      `hotspot profile ${profile}`,
    );
  }

  // The portal through the walled garden, by name and by address.
  await ensureTagged(session, '/ip/hotspot/walled-garden', PORTAL_TAG, setup.portal_host === null ? null : { 'dst-host': setup.portal_host, action: 'allow' }, changes, () => (unchanged += 1));
  await ensureTagged(session, '/ip/hotspot/walled-garden/ip', PORTAL_TAG, setup.portal_address === null ? null : { 'dst-address': setup.portal_address, action: 'accept' }, changes, () => (unchanged += 1));

  if (policy.blocked_access === 'suspended_pool' && policy.suspended_pool !== null && setup.suspended_pool_ranges !== null) {
    await ensureItem('/ip/pool', { name: policy.suspended_pool }, { ranges: setup.suspended_pool_ranges }, { ranges: sameSet }, `pool ${policy.suspended_pool}`);
  } else notes.push('the ISP rejects blocked users (RADIUS policy), so no suspended pool is needed');

  if (policy.suspended_address_list !== null) {
    await ensureDropRule(session, policy.suspended_address_list, setup.portal_address, changes, () => (unchanged += 1));
  }

  const [resource] = await session.print('/system/resource', { proplist: ['version'] });
  const running = (resource?.version ?? '').split(' ')[0] ?? '';
  if (running !== '' && running !== connection.routeros_version) notes.push(`the router runs RouterOS ${running}, registered as ${connection.routeros_version}; update the registration`);
  return { ok: true, changes, unchanged, notes };
}

const yesNo: Comparator = (actual, wanted) => normaliseBoolean(actual) === normaliseBoolean(wanted);
const normaliseBoolean = (value: string | undefined): string => (value === 'true' || value === 'yes' ? 'yes' : value === 'false' || value === 'no' ? 'no' : (value ?? ''));

function differing(existing: RouterOsItem, wanted: Readonly<Record<string, string>>, compare: Readonly<Record<string, Comparator>>): Record<string, string> {
  const fixes: Record<string, string> = {};
  for (const [name, value] of Object.entries(wanted)) if (!(compare[name] ?? exact)(existing[name], value)) fixes[name] = value;
  return fixes;
}

/** One item carrying `tag` as its comment: made to have `wanted`, or removed when nothing is wanted. */
async function ensureTagged(session: RouterOsSession, path: string, tag: string, wanted: Readonly<Record<string, string>> | null, changes: Change[], same: () => void): Promise<void> {
  const [existing, ...extra] = await session.print(path, { where: { comment: tag } });
  if (extra.length > 0) {
    await session.remove(path, extra.map((item) => item['.id']!));
    changes.push(`removed ${extra.length} duplicate(s) from ${path}`);
  }
  if (wanted === null) {
    if (existing !== undefined) {
      await session.remove(path, [existing['.id']!]);
      changes.push(`removed ${path} ${tag}`);
    } else same();
    return;
  }
  if (existing === undefined) {
    await session.add(path, { ...wanted, comment: tag });
    changes.push(`added ${path} ${Object.values(wanted).join(' ')}`);
    return;
  }
  const fixes = differing(existing, wanted, {});
  if (Object.keys(fixes).length === 0) same();
  else {
    await session.set(path, existing['.id']!, fixes);
    changes.push(`set ${path} ${tag}`);
  }
}

/**
 * Drops forwarded traffic from the suspended users' address list (except to the portal), placed before the
 * first accept rule of the forward chain so no accept rule lets them through first.
 */
async function ensureDropRule(session: RouterOsSession, list: string, portal_address: string | null, changes: Change[], same: () => void): Promise<void> {
  const path = '/ip/firewall/filter';
  const wanted: Record<string, string> = { chain: 'forward', action: 'drop', 'src-address-list': list, 'dst-address': portal_address === null ? '' : `!${portal_address}`, disabled: 'false' };
  const rules = await session.print(path, { proplist: ['.id', 'chain', 'action', 'src-address-list', 'dst-address', 'disabled', 'comment'] });
  const ours = rules.filter((rule) => rule.comment === DROP_RULE_TAG);
  const [rule, ...extra] = ours;
  if (extra.length > 0) {
    await session.remove(path, extra.map((item) => item['.id']!));
    changes.push(`removed ${extra.length} duplicate drop rule(s)`);
  }
  const firstAccept = rules.find((candidate) => candidate.chain === 'forward' && candidate.action === 'accept' && candidate.comment !== DROP_RULE_TAG);
  if (rule === undefined) {
    const attributes: Record<string, string> = { ...wanted, comment: DROP_RULE_TAG };
    if (attributes['dst-address'] === '') delete attributes['dst-address'];
    if (firstAccept !== undefined) attributes['place-before'] = firstAccept['.id']!;
    await session.add(path, attributes);
    changes.push(`added the drop rule for address list ${list}${firstAccept === undefined ? '' : ' before the first accept rule'}`);
    return;
  }
  const fixes = differing(rule, wanted, { disabled: yesNo, 'dst-address': (actual, value) => (actual ?? '') === value });
  let changed = false;
  if (Object.keys(fixes).length > 0) {
    await session.set(path, rule['.id']!, fixes);
    changes.push(`set the drop rule: ${Object.keys(fixes).join(', ')}`);
    changed = true;
  }
  if (firstAccept !== undefined && rules.indexOf(rule) > rules.indexOf(firstAccept)) {
    await session.move(path, rule['.id']!, firstAccept['.id']!);
    changes.push('moved the drop rule before the first accept rule');
    changed = true;
  }
  if (!changed) same();
}
