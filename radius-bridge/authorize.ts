import type { ReplyAttribute } from './attribute-codec.js';
import { canonicalMac } from './mac-address.js';
import type { Attribute, GroupRows, UserRows } from './radius-model.js';
import { constantTimeEqual, verifyChap } from './wire.js';

/**
 * What FreeRADIUS 3.2 with deploy/freeradius decides for an Access-Request, computed from the same rows:
 *
 *   authorize { preprocess; ispbills_canonical_calling_station_id; chap; sql; [ispbills_mac_login]; expiration; pap }
 *   authenticate { PAP | CHAP }   session { sql (Simultaneous-Use) }   Post-Auth-Type REJECT { attr_filter.access_reject }
 *
 * rlm_sql: the user's radcheck items must all match the request (`:=` always matches and is copied to the
 * control list); only then are its radreply items merged. Then groups in priority order: a group whose check
 * items do not match is skipped; a matching one merges its checks and replies and ends the walk unless its
 * reply says `Fall-Through = Yes` (a group with no reply rows ends it too). `:=` replaces, `=` adds when absent,
 * `+=` appends. rlm_expiration rejects at or after `Expiration` and caps Session-Timeout at the time left.
 * Then Auth-Type decides: Reject, Accept, CHAP (set by rlm_chap when the request has CHAP-Password and no
 * User-Password) or PAP (set by rlm_pap when the request has a User-Password and the control list a
 * Cleartext-Password); nothing set means reject. The password comparison is constant-time.
 *
 * This file is pure: the caller looks the rows up, supplies the open-session count and encodes the answer.
 */
export type AuthRequest = Readonly<{
  user_name: string;
  /** User-Password in clear (up to the first NUL), or null. */
  password: Buffer | null;
  chap: Readonly<{ password: Buffer; challenge: Buffer }> | null;
  /** A request attribute as FreeRADIUS prints it, for check items (`Calling-Station-Id == …`). */
  attribute: (name: string) => string | undefined;
  now_seconds: number;
}>;

export type Lookup = Readonly<{
  user: (login: string) => UserRows | null;
  group: (name: string) => GroupRows;
  /** Open sessions under these user names (radacct rows without a stop, since the router's last reboot). */
  open_sessions: (user_names: readonly string[]) => number;
}>;

export type Decision = Readonly<{
  accept: boolean;
  /** Accept: everything the rows and modules put in the reply. Reject: only what attr_filter.access_reject lets through. */
  reply: readonly ReplyAttribute[];
  /** Why, for the log (never sent). */
  reason: string;
  /** The name the rows were found under (the canonical MAC for a MAC login), or null when none were. */
  login: string | null;
}>;

type Item = { name: string; op: string; value: string };

/** FreeRADIUS' main_config.denied_msg, as it rejects a login over Simultaneous-Use. */
export const SIMULTANEOUS_USE_MESSAGE = 'You are already logged in - access denied';

/** What attr_filter.access_reject lets an Access-Reject carry (Message-Authenticator and Proxy-State are added on encoding). */
const REJECT_ATTRIBUTES = new Set(['EAP-Message', 'State', 'Error-Cause', 'Reply-Message', 'MS-CHAP-Error']);
/** FreeRADIUS-internal attributes: they live in the control list or steer rlm_sql, and are never sent. */
const INTERNAL = new Set(['Fall-Through', 'Auth-Type', 'Simultaneous-Use', 'Expiration', 'Cleartext-Password', 'SQL-Group']);

const ASSIGNMENT = new Set([':=', '=', '+=']);

function pairmove(list: Item[], items: readonly Attribute[]): void {
  for (const item of items) {
    const moved = { name: item.attribute, op: item.op, value: item.value };
    switch (item.op) {
      case ':=': {
        for (let i = list.length - 1; i >= 0; i -= 1) if (list[i]!.name === moved.name) list.splice(i, 1);
        list.push(moved);
        break;
      }
      case '=':
        if (!list.some((existing) => existing.name === moved.name)) list.push(moved);
        break;
      case '+=':
        list.push(moved);
        break;
      default:
        // Comparison operators are check items; they are never copied.
        break;
    }
  }
}

const numeric = (text: string | undefined): number | null => (text !== undefined && /^-?\d+$/.test(text) ? Number(text) : null);

/** Does one check item match the request (paircompare)? Assignments always match. */
function matches(item: Attribute, request: AuthRequest): boolean {
  if (ASSIGNMENT.has(item.op)) return true;
  const value = request.attribute(item.attribute);
  switch (item.op) {
    case '=*':
      return value !== undefined;
    case '!*':
      return value === undefined;
    case '==':
    case '!=': {
      if (value === undefined) return false;
      let equal = value === item.value;
      // ispbills_canonical_calling_station_id: the router's MAC is compared as AA:BB:CC:DD:EE:FF.
      if (!equal && item.attribute === 'Calling-Station-Id') {
        const mac = canonicalMac(value);
        equal = mac !== null && mac === item.value;
      }
      return item.op === '==' ? equal : !equal;
    }
    case '>':
    case '>=':
    case '<':
    case '<=': {
      const left = numeric(value);
      const right = numeric(item.value);
      if (left === null || right === null) return false;
      return item.op === '>' ? left > right : item.op === '>=' ? left >= right : item.op === '<' ? left < right : left <= right;
    }
    default:
      // Regular expressions (=~, !~) and unknown operators: not evaluated here, so the item does not match.
      return false;
  }
}

const allMatch = (items: readonly Attribute[], request: AuthRequest): boolean => items.every((item) => matches(item, request));

type Authorized = { found: boolean; control: Item[]; reply: Item[] };

/** rlm_sql's authorize for one login name. */
function sqlAuthorize(rows: UserRows | null, request: AuthRequest, lookup: Lookup): Authorized {
  const control: Item[] = [];
  const reply: Item[] = [];
  if (rows === null) return { found: false, control, reply };
  let fall_through: 'yes' | 'no' | 'default' = 'default';
  let user_matched = true;
  if (rows.check.length > 0 && !allMatch(rows.check, request)) user_matched = false;
  if (user_matched) {
    pairmove(control, rows.check);
    if (rows.reply.length > 0) {
      fall_through = fallThrough(rows.reply);
      pairmove(reply, rows.reply);
    }
  }
  if (fall_through !== 'no') {
    for (const name of rows.groups) {
      const group = lookup.group(name);
      if (group.check.length > 0 && !allMatch(group.check, request)) continue;
      pairmove(control, group.check);
      if (group.reply.length === 0) break;
      pairmove(reply, group.reply);
      if (fallThrough(group.reply) !== 'yes') break;
    }
  }
  return { found: true, control, reply: reply.filter((item) => item.name !== 'Fall-Through') };
}

function fallThrough(items: readonly Attribute[]): 'yes' | 'no' | 'default' {
  const item = items.find((candidate) => candidate.attribute === 'Fall-Through');
  if (item === undefined) return 'default';
  return /^(yes|1|true)$/i.test(item.value) ? 'yes' : 'no';
}

const controlValue = (control: readonly Item[], name: string): string | undefined => control.find((item) => item.name === name)?.value;

/** A FreeRADIUS `date` value from a row: unix seconds (what the projection writes) or a date string. */
function parseDate(text: string): number | null {
  if (/^\d{1,12}$/.test(text)) return Number(text);
  const parsed = Date.parse(text);
  return Number.isNaN(parsed) ? null : Math.floor(parsed / 1000);
}

const reject = (reason: string, reply: readonly Item[], login: string | null): Decision => ({
  accept: false,
  reply: reply.filter((item) => REJECT_ATTRIBUTES.has(item.name)).map(({ name, value }) => ({ name, value })),
  reason,
  login,
});

export function authorize(request: AuthRequest, lookup: Lookup): Decision {
  // sql, then — when the exact name has no rows and it is a MAC — ispbills_mac_login.
  let login: string | null = request.user_name;
  let result = sqlAuthorize(request.user_name === '' ? null : lookup.user(request.user_name), request, lookup);
  if (!result.found) {
    const mac = canonicalMac(request.user_name);
    login = null;
    if (mac !== null) {
      result = sqlAuthorize(lookup.user(mac), request, lookup);
      if (result.found) {
        login = mac;
        const cleartext = result.control.find((item) => item.name === 'Cleartext-Password');
        // The router sends the MAC as the password in its own spelling.
        if (cleartext !== undefined && cleartext.value === mac) cleartext.value = request.user_name;
      }
    }
  }
  const { control, reply } = result;

  // chap (before sql) sets Auth-Type CHAP; sql's `Auth-Type :=` replaces it; pap sets PAP only if none is set.
  let auth_type = controlValue(control, 'Auth-Type') ?? (request.chap !== null && request.password === null ? 'CHAP' : undefined);

  // expiration
  const expiration = controlValue(control, 'Expiration');
  if (expiration !== undefined) {
    const expires = parseDate(expiration);
    if (expires === null || expires <= request.now_seconds) return reject('account expired (Expiration)', reply, login);
    const left = expires - request.now_seconds;
    const timeout = reply.find((item) => item.name === 'Session-Timeout');
    if (timeout === undefined) reply.push({ name: 'Session-Timeout', op: ':=', value: String(left) });
    else if (Number(timeout.value) > left) timeout.value = String(left);
  }

  const cleartext = controlValue(control, 'Cleartext-Password');
  if (auth_type === undefined && request.password !== null && cleartext !== undefined) auth_type = 'PAP';

  switch (auth_type) {
    case undefined:
      return reject(result.found ? 'no usable password for this request' : 'unknown user', reply, login);
    case 'Reject':
      return reject('Auth-Type Reject', reply, login);
    case 'Accept':
      break;
    case 'PAP':
      if (request.password === null || cleartext === undefined || !constantTimeEqual(request.password, Buffer.from(cleartext, 'utf8'))) {
        return reject('wrong password (PAP)', reply, login);
      }
      break;
    case 'CHAP':
      if (request.chap === null || cleartext === undefined || !verifyChap(request.chap.password, Buffer.from(cleartext, 'utf8'), request.chap.challenge)) {
        return reject('wrong password (CHAP)', reply, login);
      }
      break;
    default:
      return reject(`Auth-Type ${auth_type} is not supported`, reply, login);
  }

  // session { sql }: Simultaneous-Use counts open sessions. rlm_sql counts the name it found the rows under;
  // a MAC login also counts the spelling the router uses in accounting, which FreeRADIUS misses.
  const limit = numeric(controlValue(control, 'Simultaneous-Use'));
  const names = login === null || login === request.user_name ? [request.user_name] : [login, request.user_name];
  if (limit !== null && lookup.open_sessions(names) >= limit) {
    return reject('Simultaneous-Use', [{ name: 'Reply-Message', op: ':=', value: SIMULTANEOUS_USE_MESSAGE }], login);
  }

  return {
    accept: true,
    reply: reply.filter((item) => !INTERNAL.has(item.name)).map(({ name, value }) => ({ name, value })),
    reason: 'accepted',
    login,
  };
}
