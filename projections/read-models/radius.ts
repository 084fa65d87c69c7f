import type { RecordedEvent } from '../../eventstore/event-store.js';
import type { CustomerEvent } from '../../domain/customers/customer.js';
import { customerStatus } from '../../domain/customers/customer.js';
import { startsExpired } from '../../domain/customers/customer-evolve.js';
import type { PackageEvent, PackageSpec } from '../../domain/packages/package.js';
import { put, ref, remove, type Projection, type Row, type RowChange, type RowRef, type TableSpec } from '../projection.js';
import { asDomain, tenantOf } from './event-fields.js';

/**
 * The FreeRADIUS tables (`radcheck`, `radreply`, `radusergroup`, `radgroupcheck`, `radgroupreply`, `nas`) in
 * FreeRADIUS 3.2's own PostgreSQL schema (lower-case columns, serial `id`), plus a `tenant` column: one
 * deployment may serve several ISPs, and a shared FreeRADIUS filters by the NAS's tenant.
 *
 * What a router gets for a user:
 * - `radcheck`: `Cleartext-Password :=` (PAP and CHAP need the clear text), `Simultaneous-Use := 1`,
 *   `Calling-Station-Id ==` the bound MAC (and, for a hotspot MAC login, the MAC itself), `Expiration :=` the paid-until instant of an active account (daily
 *   customers; unix seconds, so no time zone is guessed), and `Auth-Type := Reject` while disabled.
 * - groups: an active user is in `pkg-<package>` (rate limit, pool, quota; Fall-Through) then `isp-<tenant>`
 *   (interim interval); a suspended, expired or locked one only in `blocked-<tenant>`, which per the ISP's
 *   policy rejects (`radgroupcheck Auth-Type := Reject`) or admits into the suspended pool and address list.
 * - hotspot customers with a MAC log in with the MAC as user name and password (MikroTik MAC authentication).
 */
export const RADIUS_ACCOUNTS = 'radius_accounts';
const POLICIES = 'radius_policies';

type RadiusPolicy = Readonly<{
  blocked_access: 'reject' | 'suspended_pool';
  suspended_pool: string | null;
  suspended_address_list: string | null;
  interim_interval_seconds: number;
}>;
const DEFAULT_POLICY: RadiusPolicy = { blocked_access: 'reject', suspended_pool: null, suspended_address_list: null, interim_interval_seconds: 300 };

const attributeTable = (name: string, owner: 'username' | 'groupname', default_op: string): TableSpec => ({
  name,
  key: owner === 'username' ? ['tenant', 'username', 'attribute'] : ['groupname', 'attribute'],
  serial_id: 'id',
  columns: { tenant: 'text', [owner]: 'text', attribute: 'text', op: 'text', value: 'text' },
  indexes: [`CREATE INDEX ON {table} (${owner}, attribute)`, `ALTER TABLE {table} ALTER COLUMN op SET DEFAULT '${default_op}'`],
});

export const radiusProjection: Projection = {
  name: 'radius',
  // 3: a hotspot MAC login must come from that MAC (Calling-Station-Id).
  version: 3,
  tables: [
    {
      name: RADIUS_ACCOUNTS,
      key: ['customer_id'],
      columns: {
        customer_id: 'text',
        tenant: 'text',
        connection_type: 'text',
        username: 'text',
        password: 'text',
        mac: 'text',
        static_ip: 'text',
        package_id: 'text',
        status: 'text',
        disabled: 'boolean',
        suspended: 'boolean',
        expired: 'boolean',
        expires_at: 'timestamptz',
      },
      indexes: ['CREATE INDEX ON {table} (tenant, username)', 'CREATE INDEX ON {table} (tenant, mac)'],
    },
    { name: POLICIES, key: ['tenant'], columns: { tenant: 'text', policy: 'jsonb' } },
    attributeTable('radcheck', 'username', '=='),
    attributeTable('radreply', 'username', '='),
    {
      name: 'radusergroup',
      key: ['tenant', 'username', 'groupname'],
      serial_id: 'id',
      columns: { tenant: 'text', username: 'text', groupname: 'text', priority: 'integer' },
      indexes: ['CREATE INDEX ON {table} (username)'],
    },
    attributeTable('radgroupcheck', 'groupname', '=='),
    attributeTable('radgroupreply', 'groupname', '='),
    {
      name: 'nas',
      key: ['router_id'],
      serial_id: 'id',
      columns: {
        router_id: 'text',
        tenant: 'text',
        nasname: 'text',
        shortname: 'text',
        type: 'text',
        ports: 'integer',
        coa_port: 'integer',
        secret: 'text',
        server: 'text',
        community: 'text',
        description: 'text',
        require_message_authenticator: 'boolean',
      },
      indexes: ['CREATE INDEX ON {table} (nasname)'],
    },
  ],
  reads: (recorded): readonly RowRef[] => {
    const data = recorded.data as { customer_id?: string; operator_id?: string; router_id?: string };
    if (recorded.stream_id.startsWith('customer-') && data.customer_id !== undefined) return [ref(RADIUS_ACCOUNTS, { customer_id: data.customer_id })];
    if (recorded.type === 'radius-policy-set') return [ref(POLICIES, { tenant: tenantOf(recorded) })];
    if (recorded.stream_id.startsWith('router-') && data.router_id !== undefined) return [ref('nas', { router_id: data.router_id })];
    return [];
  },
  handle: (recorded, rows) => {
    if (recorded.stream_id.startsWith('customer-')) {
      const customer_id = (recorded.data as { customer_id: string }).customer_id;
      const before = rows.get(RADIUS_ACCOUNTS, { customer_id });
      const after = nextAccount(before, recorded);
      if (after === null) return [];
      return [put(RADIUS_ACCOUNTS, after), ...diffUserRows(before, after)];
    }
    if (recorded.stream_id.startsWith('package-')) return packageGroup(recorded);
    if (recorded.type === 'isp-registered') return tenantGroups(tenantOf(recorded), DEFAULT_POLICY, null);
    if (recorded.type === 'radius-policy-set') {
      const previous = rows.get(POLICIES, { tenant: tenantOf(recorded) })?.policy as RadiusPolicy | undefined;
      return tenantGroups(tenantOf(recorded), recorded.data as unknown as RadiusPolicy, previous ?? DEFAULT_POLICY);
    }
    if (recorded.stream_id.startsWith('router-')) return nasRows(recorded, rows.get('nas', { router_id: (recorded.data as { router_id: string }).router_id }));
    return [];
  },
};

function nextAccount(before: Row | undefined, recorded: RecordedEvent): Row | null {
  const event = asDomain<CustomerEvent>(recorded);
  if (event.type === 'customer-registered') {
    const d = event.data;
    const expired = startsExpired(d.profile);
    return {
      customer_id: d.customer_id,
      tenant: d.tenant,
      connection_type: d.connection_type,
      username: d.username,
      password: d.password,
      mac: d.mac,
      static_ip: d.static_ip,
      package_id: d.package_id,
      status: customerStatus({ disabled: false, suspended: false, expired }),
      disabled: false,
      suspended: false,
      expired,
      expires_at: null,
    };
  }
  if (before === undefined) return null;
  const flags = (changes: Partial<Record<'disabled' | 'suspended' | 'expired', boolean>>): Row => {
    const next = { ...before, ...changes };
    return { ...next, status: customerStatus(next as never) };
  };
  switch (event.type) {
    case 'customer-suspended':
      return flags({ suspended: true });
    case 'customer-resumed':
      return flags({ suspended: false });
    case 'customer-expired':
    case 'customer-locked':
      return flags({ expired: true });
    case 'customer-reactivated':
      return flags({ expired: false });
    case 'customer-disabled':
      return flags({ disabled: true });
    case 'customer-enabled':
      return flags({ disabled: false });
    case 'customer-recharged':
      return { ...before, package_id: event.data.package_id, expires_at: event.data.expires_at_after };
    case 'expiry-set':
      return { ...before, expires_at: event.data.expires_at };
    case 'billing-profile-changed':
      return { ...before, expires_at: event.data.expires_at };
    case 'mac-bound':
      return { ...before, mac: event.data.mac };
    case 'mac-unbound':
      return { ...before, mac: null };
    case 'package-changed':
      return { ...before, package_id: event.data.to_package_id };
    default:
      return null;
  }
}

/**
 * The names RADIUS knows an account by, which are also the User-Name of its sessions in radacct: its username when
 * it has a password (PPPoE, or a hotspot account with a login), and a hotspot device's MAC (MAC login).
 */
export function radiusLogins(account: Readonly<{ connection_type: string; username: string | null; has_password: boolean; mac: string | null }>): string[] {
  const logins: string[] = [];
  if (account.username !== null && account.has_password) logins.push(account.username);
  if (account.connection_type === 'hotspot' && account.mac !== null && account.mac !== account.username) logins.push(account.mac);
  return logins;
}

type UserRow = Readonly<{ table: 'radcheck' | 'radreply' | 'radusergroup'; row: Row }>;

/** Every RADIUS row one customer account implies; a change is the difference between two of these sets. */
function userRows(account: Row): UserRow[] {
  const tenant = account.tenant as string;
  const out: UserRow[] = [];
  const check = (username: string, attribute: string, op: string, value: string): void => {
    out.push({ table: 'radcheck', row: { tenant, username, attribute, op, value } });
  };
  const username = account.username as string | null;
  const password = account.password as string | null;
  const mac = account.mac as string | null;
  const logins = radiusLogins({ connection_type: account.connection_type as string, username, has_password: password !== null, mac });
  if (username !== null && password !== null) {
    check(username, 'Cleartext-Password', ':=', password);
    // A PPPoE account bound to a MAC only logs in from that device.
    if (mac !== null && account.connection_type === 'pppoe') check(username, 'Calling-Station-Id', '==', mac);
  }
  const macLogin = mac !== null && mac !== username && logins.includes(mac) ? mac : null;
  if (macLogin !== null) {
    check(macLogin, 'Cleartext-Password', ':=', macLogin);
    // The MAC is both name and password, so anyone who knows it could type it into the hotspot's login form on
    // another device: the router's own report of the device (Calling-Station-Id) must be that MAC.
    check(macLogin, 'Calling-Station-Id', '==', macLogin);
  }
  for (const login of logins) {
    check(login, 'Simultaneous-Use', ':=', '1');
    // Only an active account's paid-until instant is a check item: a blocked one is already decided by its
    // group, and under the suspended-pool policy a past Expiration would refuse the walled garden it is owed.
    if (account.expires_at !== null && account.status === 'active') check(login, 'Expiration', ':=', String(Math.floor(Date.parse(account.expires_at as string) / 1000)));
    if (account.disabled === true) check(login, 'Auth-Type', ':=', 'Reject');
    if (account.static_ip !== null) out.push({ table: 'radreply', row: { tenant, username: login, attribute: 'Framed-IP-Address', op: ':=', value: account.static_ip as string } });
    if (account.status === 'active') {
      out.push({ table: 'radusergroup', row: { tenant, username: login, groupname: `pkg-${account.package_id as string}`, priority: 1 } });
      out.push({ table: 'radusergroup', row: { tenant, username: login, groupname: `isp-${tenant}`, priority: 2 } });
    } else {
      out.push({ table: 'radusergroup', row: { tenant, username: login, groupname: `blocked-${tenant}`, priority: 1 } });
    }
  }
  return out;
}

const userRowKey = (entry: UserRow): string =>
  entry.table === 'radusergroup'
    ? `${entry.table}\u0000${entry.row.username as string}\u0000${entry.row.groupname as string}`
    : `${entry.table}\u0000${entry.row.username as string}\u0000${entry.row.attribute as string}`;

function diffUserRows(before: Row | undefined, after: Row): RowChange[] {
  const old = new Map((before === undefined ? [] : userRows(before)).map((entry) => [userRowKey(entry), entry]));
  const fresh = new Map(userRows(after).map((entry) => [userRowKey(entry), entry]));
  const changes: RowChange[] = [];
  for (const [key, entry] of old) {
    if (fresh.has(key)) continue;
    const { tenant, username } = entry.row as { tenant: string; username: string };
    changes.push(
      entry.table === 'radusergroup'
        ? remove(entry.table, { tenant, username, groupname: entry.row.groupname as string })
        : remove(entry.table, { tenant, username, attribute: entry.row.attribute as string }),
    );
  }
  for (const [key, entry] of fresh) {
    const previous = old.get(key);
    if (previous !== undefined && JSON.stringify(previous.row) === JSON.stringify(entry.row)) continue;
    changes.push(put(entry.table, entry.row));
  }
  return changes;
}

/** `Mikrotik-Rate-Limit` is rx/tx as the router sees it: rx is the customer's upload. */
export function rateLimit(spec: Pick<PackageSpec, 'down_kbps' | 'up_kbps' | 'burst'>): string {
  const base = `${spec.up_kbps}k/${spec.down_kbps}k`;
  if (spec.burst === null) return base;
  const b = spec.burst;
  return `${base} ${b.up_kbps}k/${b.down_kbps}k ${b.threshold_up_kbps}k/${b.threshold_down_kbps}k ${b.time_seconds}/${b.time_seconds}`;
}

function packageGroup(recorded: RecordedEvent): RowChange[] {
  const event = asDomain<PackageEvent>(recorded);
  if (event.type === 'package-retired') return [];
  const spec = event.data;
  const groupname = `pkg-${spec.package_id}`;
  const tenant = tenantOf(recorded);
  const reply = (attribute: string, value: string): RowChange => put('radgroupreply', { tenant, groupname, attribute, op: ':=', value });
  const changes = [reply('Mikrotik-Rate-Limit', rateLimit(spec)), reply('Framed-Pool', spec.ip_pool), reply('Fall-Through', 'Yes')];
  if (spec.data_quota_mb === null) {
    changes.push(remove('radgroupreply', { groupname, attribute: 'Mikrotik-Total-Limit' }), remove('radgroupreply', { groupname, attribute: 'Mikrotik-Total-Limit-Gigawords' }));
  } else {
    // Bytes as a 32-bit value plus gigawords (2^32 bytes) for what does not fit.
    const bytes = BigInt(spec.data_quota_mb) * 1_048_576n;
    changes.push(reply('Mikrotik-Total-Limit', (bytes % 4_294_967_296n).toString()), reply('Mikrotik-Total-Limit-Gigawords', (bytes / 4_294_967_296n).toString()));
  }
  return changes;
}

/** The ISP-wide groups: defaults for active users, and what blocked (suspended, expired, locked) users get. */
function tenantGroups(tenant: string, policy: RadiusPolicy, previous: RadiusPolicy | null): RowChange[] {
  const blocked = `blocked-${tenant}`;
  const changes: RowChange[] = [
    put(POLICIES, { tenant, policy }),
    put('radgroupreply', { tenant, groupname: `isp-${tenant}`, attribute: 'Acct-Interim-Interval', op: ':=', value: String(policy.interim_interval_seconds) }),
  ];
  if (previous !== null) {
    for (const attribute of ['Framed-Pool', 'Mikrotik-Address-List', 'Acct-Interim-Interval', 'Reply-Message']) changes.push(remove('radgroupreply', { groupname: blocked, attribute }));
    changes.push(remove('radgroupcheck', { groupname: blocked, attribute: 'Auth-Type' }));
  }
  if (policy.blocked_access === 'reject') {
    changes.push(put('radgroupcheck', { tenant, groupname: blocked, attribute: 'Auth-Type', op: ':=', value: 'Reject' }));
    changes.push(put('radgroupreply', { tenant, groupname: blocked, attribute: 'Reply-Message', op: ':=', value: 'Account suspended or expired' }));
  } else {
    changes.push(put('radgroupreply', { tenant, groupname: blocked, attribute: 'Framed-Pool', op: ':=', value: policy.suspended_pool ?? '' }));
    changes.push(put('radgroupreply', { tenant, groupname: blocked, attribute: 'Mikrotik-Address-List', op: ':=', value: policy.suspended_address_list ?? '' }));
    changes.push(put('radgroupreply', { tenant, groupname: blocked, attribute: 'Acct-Interim-Interval', op: ':=', value: String(policy.interim_interval_seconds) }));
  }
  return changes;
}

type RouterEvent =
  | { type: 'router-registered'; data: { router_id: string; tenant: string; name: string; nas_ip: string; secret: string; coa_port: number; require_message_authenticator: boolean; description: string } }
  | { type: 'router-updated'; data: { router_id: string; name: string; nas_ip: string; secret: string; coa_port: number; require_message_authenticator: boolean; description: string } }
  | { type: 'router-removed'; data: { router_id: string } };

function nasRows(recorded: RecordedEvent, before: Row | undefined): RowChange[] {
  const event = asDomain<RouterEvent>(recorded);
  switch (event.type) {
    case 'router-registered':
    case 'router-updated': {
      const d = event.data;
      return [
        put('nas', {
          router_id: d.router_id,
          tenant: (before?.tenant as string | undefined) ?? tenantOf(recorded),
          nasname: d.nas_ip,
          shortname: d.name,
          type: 'other',
          ports: null,
          coa_port: d.coa_port,
          secret: d.secret,
          server: null,
          community: null,
          description: d.description,
          require_message_authenticator: d.require_message_authenticator,
        }),
      ];
    }
    case 'router-removed':
      return [remove('nas', { router_id: event.data.router_id })];
    default:
      return [];
  }
}
