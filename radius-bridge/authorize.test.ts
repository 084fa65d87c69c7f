import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { authorize, SIMULTANEOUS_USE_MESSAGE, type AuthRequest, type Lookup } from './authorize.js';
import type { Attribute, GroupRows, UserRows } from './radius-model.js';

/** rlm_sql's semantics on small row sets, the same rules the radclient suite checks against FreeRADIUS itself. */
const a = (attribute: string, op: string, value: string): Attribute => ({ attribute, op, value });
const NOW = 1_800_000_000;

function lookup(users: Record<string, UserRows>, groups: Record<string, Omit<GroupRows, 'name'>> = {}, open = 0): Lookup & { counted: string[][] } {
  const counted: string[][] = [];
  return {
    counted,
    user: (login) => users[login] ?? null,
    group: (name) => ({ name, check: [], reply: [], ...groups[name] }),
    open_sessions: (names) => {
      counted.push([...names]);
      return open;
    },
  };
}

const pap = (user: string, password: string, attributes: Record<string, string> = {}): AuthRequest => ({
  user_name: user,
  password: Buffer.from(password),
  chap: null,
  attribute: (name) => attributes[name],
  now_seconds: NOW,
});

const replyOf = (decision: ReturnType<typeof authorize>) => decision.reply.map((item) => `${item.name}=${item.value}`);

describe('authorize (rlm_sql + pap/chap + expiration + Simultaneous-Use)', () => {
  const alice: UserRows = { check: [a('Cleartext-Password', ':=', 'pw')], reply: [], groups: ['pkg', 'isp'] };
  const groups = {
    pkg: { check: [], reply: [a('Mikrotik-Rate-Limit', ':=', '2M/10M'), a('Fall-Through', ':=', 'Yes')] },
    isp: { check: [], reply: [a('Acct-Interim-Interval', ':=', '300')] },
    never: { check: [], reply: [a('Reply-Message', ':=', 'never reached')] },
  };

  it('walks groups while they say Fall-Through, and never sends Fall-Through itself', () => {
    const decision = authorize(pap('alice', 'pw'), lookup({ alice: { ...alice, groups: ['pkg', 'isp', 'never'] } }, groups));
    expect(decision.accept).toBe(true);
    expect(replyOf(decision)).toEqual(['Mikrotik-Rate-Limit=2M/10M', 'Acct-Interim-Interval=300']);
  });

  it('skips a group whose check items do not match, and stops at a group without reply rows', () => {
    const decision = authorize(
      pap('alice', 'pw', { 'NAS-Port-Type': 'Wireless-802.11' }),
      lookup({ alice: { ...alice, groups: ['ethernet-only', 'empty', 'isp'] } }, { ...groups, 'ethernet-only': { check: [a('NAS-Port-Type', '==', 'Ethernet')], reply: [a('Reply-Message', ':=', 'wired')] }, empty: { check: [], reply: [] } }),
    );
    expect(decision.accept).toBe(true);
    expect(replyOf(decision)).toEqual([]);
  });

  it('`:=` replaces, `=` adds only when absent, `+=` appends', () => {
    const decision = authorize(
      pap('alice', 'pw'),
      lookup({ alice: { ...alice, reply: [a('Framed-Pool', '=', 'user-pool'), a('Reply-Message', '+=', 'one'), a('Fall-Through', ':=', 'Yes')], groups: ['g'] } }, { g: { check: [], reply: [a('Framed-Pool', '=', 'group-pool'), a('Reply-Message', '+=', 'two'), a('Session-Timeout', ':=', '60')] } }),
    );
    expect(replyOf(decision)).toEqual(['Framed-Pool=user-pool', 'Reply-Message=one', 'Reply-Message=two', 'Session-Timeout=60']);
  });

  it('a user check item that does not match the request leaves the user without a password (rejected)', () => {
    const bound = { ...alice, check: [...alice.check, a('Calling-Station-Id', '==', 'AA:BB:CC:DD:EE:FF')] };
    expect(authorize(pap('alice', 'pw', { 'Calling-Station-Id': 'aa-bb-cc-dd-ee-ff' }), lookup({ alice: bound }, groups)).accept).toBe(true);
    expect(authorize(pap('alice', 'pw', { 'Calling-Station-Id': 'AA:BB:CC:DD:EE:00' }), lookup({ alice: bound }, groups)).accept).toBe(false);
    expect(authorize(pap('alice', 'pw'), lookup({ alice: bound }, groups)).accept).toBe(false);
  });

  it('rejects at or after Expiration and caps Session-Timeout at the time left', () => {
    const expiring = (at: number, timeout: string | null): UserRows => ({ check: [a('Cleartext-Password', ':=', 'pw'), a('Expiration', ':=', String(at))], reply: timeout === null ? [] : [a('Session-Timeout', ':=', timeout)], groups: [] });
    expect(authorize(pap('alice', 'pw'), lookup({ alice: expiring(NOW, null) })).accept).toBe(false);
    expect(replyOf(authorize(pap('alice', 'pw'), lookup({ alice: expiring(NOW + 90, null) })))).toEqual(['Session-Timeout=90']);
    expect(replyOf(authorize(pap('alice', 'pw'), lookup({ alice: expiring(NOW + 90, '30') })))).toEqual(['Session-Timeout=30']);
    expect(replyOf(authorize(pap('alice', 'pw'), lookup({ alice: expiring(NOW + 90, '600') })))).toEqual(['Session-Timeout=90']);
  });

  it('Auth-Type Reject from a group wins over a right password; a reject carries only Reply-Message', () => {
    const decision = authorize(pap('alice', 'pw'), lookup({ alice: { ...alice, groups: ['blocked'] } }, { blocked: { check: [a('Auth-Type', ':=', 'Reject')], reply: [a('Reply-Message', ':=', 'Suspended'), a('Framed-Pool', ':=', 'x')] } }));
    expect(decision.accept).toBe(false);
    expect(replyOf(decision)).toEqual(['Reply-Message=Suspended']);
  });

  it('CHAP is checked against the clear-text password, with CHAP-Challenge', () => {
    const challenge = Buffer.from('challenge-octets');
    const chap = Buffer.concat([Buffer.from([3]), createHash('md5').update(Buffer.from([3])).update('pw').update(challenge).digest()]);
    const request: AuthRequest = { user_name: 'alice', password: null, chap: { password: chap, challenge }, attribute: () => undefined, now_seconds: NOW };
    expect(authorize(request, lookup({ alice }, groups)).accept).toBe(true);
    expect(authorize({ ...request, chap: { password: chap, challenge: Buffer.from('other-challenge!') } }, lookup({ alice }, groups)).accept).toBe(false);
  });

  it('a MAC login found under AA:BB:CC:DD:EE:FF expects the MAC as the router spells it as the password', () => {
    const mac = 'AA:BB:CC:DD:EE:FF';
    const rows = lookup({ [mac]: { check: [a('Cleartext-Password', ':=', mac)], reply: [], groups: ['pkg', 'isp'] } }, groups);
    const decision = authorize(pap('aabb.ccdd.eeff', 'aabb.ccdd.eeff'), rows);
    expect(decision).toMatchObject({ accept: true, login: mac });
    expect(authorize(pap('aabb.ccdd.eeff', mac), rows).accept).toBe(false);
  });

  it('Simultaneous-Use refuses at the limit with FreeRADIUS’ message, counting every spelling of a MAC login', () => {
    const mac = 'AA:BB:CC:DD:EE:FF';
    const rows = lookup({ [mac]: { check: [a('Cleartext-Password', ':=', mac), a('Simultaneous-Use', ':=', '1')], reply: [], groups: ['pkg'] } }, groups, 1);
    const decision = authorize(pap('aa-bb-cc-dd-ee-ff', 'aa-bb-cc-dd-ee-ff'), rows);
    expect(decision.accept).toBe(false);
    expect(replyOf(decision)).toEqual([`Reply-Message=${SIMULTANEOUS_USE_MESSAGE}`]);
    expect(rows.counted).toEqual([[mac, 'aa-bb-cc-dd-ee-ff']]);
  });

  it('an unknown user, an empty user name and an unsupported Auth-Type are rejected', () => {
    expect(authorize(pap('nobody', 'pw'), lookup({})).accept).toBe(false);
    expect(authorize(pap('', 'pw'), lookup({ '': alice })).accept).toBe(false);
    expect(authorize(pap('alice', 'pw'), lookup({ alice: { ...alice, check: [...alice.check, a('Auth-Type', ':=', 'MS-CHAP')] } })).accept).toBe(false);
  });
});
