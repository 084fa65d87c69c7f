import type {} from '@fastify/cookie';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type pg from 'pg';
import type { Clock } from '../../commands/command-runtime.js';
import type { CommandEnvelope } from '../../commands/command-runtime.js';
import { ApiError } from '../errors.js';
import { capabilitiesOf, STEP_UP, STEP_UP_MINUTES, type Capability, type Role } from './capabilities.js';

/**
 * The caller of a request: who (a login), acting as which principal and role, seeing which subtree, and how it
 * proved it (a session cookie, which also needs the CSRF token for writes, or an API token).
 */
export type Caller = Readonly<{
  login_id: string;
  login: string;
  tenant: string;
  principal_kind: 'operator' | 'staff' | 'customer';
  principal_id: string;
  role: Role;
  /** Everything the caller sees is this operator and below; a customer sees only itself. */
  operator_id: string;
  capabilities: ReadonlySet<Capability>;
  via: 'session' | 'token';
  csrf_token: string | null;
  step_up_until: Date | null;
}>;

export const SESSION_COOKIE = 'ispbills_session';
export const CSRF_HEADER = 'x-csrf-token';
export const SESSION_HOURS = 12;

const sha256 = (text: string): Buffer => createHash('sha256').update(text).digest();

type LoginRow = {
  login_id: string;
  login: string;
  tenant: string;
  principal_kind: Caller['principal_kind'];
  principal_id: string;
  role: Role;
  operator_id: string;
  disabled: boolean;
};

/**
 * A manager's permissions come from the staff read model, so a change by its operator applies at once; and a
 * removed staff member of any role (not only a manager) can do nothing from the moment it is removed.
 */
async function capabilitiesFor(pool: pg.Pool, row: LoginRow): Promise<ReadonlySet<Capability>> {
  if (row.principal_kind !== 'staff') return capabilitiesOf(row.role);
  const staff = await pool.query<{ permissions: string[]; removed: boolean }>('SELECT permissions, removed FROM staff WHERE staff_id = $1', [row.principal_id]).catch(() => ({ rows: [] }));
  const found = staff.rows[0];
  if (found === undefined || found.removed) return new Set();
  return row.role === 'manager' ? capabilitiesOf('manager', found.permissions) : capabilitiesOf(row.role);
}

export async function createSession(pool: pg.Pool, clock: Clock, login_id: string): Promise<{ token: string; csrf_token: string; expires_at: Date }> {
  const token = randomBytes(32).toString('base64url');
  const csrf_token = randomBytes(24).toString('base64url');
  const now = clock.now();
  const expires_at = new Date(now.getTime() + SESSION_HOURS * 3_600_000);
  await pool.query('INSERT INTO sessions (session_hash, login_id, csrf_token, created_at, expires_at, last_seen_at) VALUES ($1, $2, $3, $4, $5, $4)', [
    sha256(token),
    login_id,
    csrf_token,
    now,
    expires_at,
  ]);
  return { token, csrf_token, expires_at };
}

export async function endSession(pool: pg.Pool, token: string): Promise<void> {
  await pool.query('DELETE FROM sessions WHERE session_hash = $1', [sha256(token)]);
}

export async function markSteppedUp(pool: pg.Pool, clock: Clock, token: string): Promise<Date> {
  const until = new Date(clock.now().getTime() + STEP_UP_MINUTES * 60_000);
  await pool.query('UPDATE sessions SET step_up_until = $2 WHERE session_hash = $1', [sha256(token), until]);
  return until;
}

export async function createApiToken(pool: pg.Pool, clock: Clock, login_id: string, name: string, scopes: readonly Capability[]): Promise<{ token_id: string; token: string }> {
  const token_id = randomUUID();
  const token = `ibt_${randomBytes(32).toString('base64url')}`;
  await pool.query('INSERT INTO api_tokens (token_id, token_hash, login_id, name, scopes, created_at) VALUES ($1, $2, $3, $4, $5, $6)', [
    token_id,
    sha256(token),
    login_id,
    name,
    scopes,
    clock.now(),
  ]);
  return { token_id, token };
}

const LOGIN_COLUMNS = 'l.login_id, l.login, l.tenant, l.principal_kind, l.principal_id, l.role, l.operator_id, l.disabled';

/**
 * Who is calling, from the session cookie or a bearer token; null when the request carries neither. A cookie
 * session must show its CSRF token on anything but GET/HEAD, since a browser sends cookies to any site's forms.
 */
export async function identify(pool: pg.Pool, clock: Clock, request: FastifyRequest): Promise<Caller | null> {
  const now = clock.now();
  const authorization = request.headers.authorization;
  if (authorization !== undefined) {
    const match = /^Bearer (ibt_[A-Za-z0-9_-]{20,100})$/.exec(authorization);
    if (match === null) throw new ApiError('UNAUTHENTICATED', 'Authorization must be "Bearer ibt_…" with an API token');
    const found = await pool.query<LoginRow & { scopes: Capability[]; revoked_at: Date | null; token_id: string }>(
      `SELECT ${LOGIN_COLUMNS}, t.scopes, t.revoked_at, t.token_id FROM api_tokens t JOIN logins l USING (login_id) WHERE t.token_hash = $1`,
      [sha256(match[1]!)],
    );
    const row = found.rows[0];
    if (row === undefined) throw new ApiError('UNAUTHENTICATED', 'this API token is not known; create one in the panel');
    if (row.revoked_at !== null) throw new ApiError('TOKEN_REVOKED', 'this API token was revoked; create a new one');
    if (row.disabled) throw new ApiError('UNAUTHENTICATED', 'the login behind this token is disabled');
    await pool.query('UPDATE api_tokens SET last_used_at = $2 WHERE token_id = $1', [row.token_id, now]);
    const allowed = await capabilitiesFor(pool, row);
    // A token can do at most what its login can, and only what it was scoped to.
    const capabilities = new Set([...row.scopes].filter((scope) => allowed.has(scope)));
    return { ...toCaller(row), capabilities, via: 'token', csrf_token: null, step_up_until: null };
  }
  const token = request.cookies?.[SESSION_COOKIE];
  if (token === undefined || token === '') return null;
  const found = await pool.query<LoginRow & { csrf_token: string; expires_at: Date; step_up_until: Date | null }>(
    `SELECT ${LOGIN_COLUMNS}, s.csrf_token, s.expires_at, s.step_up_until FROM sessions s JOIN logins l USING (login_id) WHERE s.session_hash = $1`,
    [sha256(token)],
  );
  const row = found.rows[0];
  if (row === undefined || row.expires_at.getTime() <= now.getTime()) throw new ApiError('SESSION_EXPIRED', 'your session has ended; log in again');
  if (row.disabled) throw new ApiError('UNAUTHENTICATED', 'this login is disabled');
  if (request.method !== 'GET' && request.method !== 'HEAD' && request.headers[CSRF_HEADER] !== row.csrf_token) {
    throw new ApiError('CSRF_TOKEN_INVALID', `send the session's CSRF token in the ${CSRF_HEADER} header (GET /api/v1/auth/me returns it)`);
  }
  return { ...toCaller(row), capabilities: await capabilitiesFor(pool, row), via: 'session', csrf_token: row.csrf_token, step_up_until: row.step_up_until };
}

/** The caller a fresh session belongs to (for the login reply). */
export async function sessionCaller(pool: pg.Pool, login_id: string, csrf_token: string): Promise<Caller> {
  const found = await pool.query<LoginRow>(`SELECT ${LOGIN_COLUMNS} FROM logins l WHERE l.login_id = $1`, [login_id]);
  const row = found.rows[0];
  if (row === undefined) throw new ApiError('UNAUTHENTICATED', 'this login no longer exists');
  return { ...toCaller(row), capabilities: await capabilitiesFor(pool, row), via: 'session', csrf_token, step_up_until: null };
}

function toCaller(row: LoginRow): Omit<Caller, 'capabilities' | 'via' | 'csrf_token' | 'step_up_until'> {
  return {
    login_id: row.login_id,
    login: row.login,
    tenant: row.tenant,
    principal_kind: row.principal_kind,
    principal_id: row.principal_id,
    role: row.role,
    operator_id: row.operator_id,
  };
}

/** Refuses unless the caller holds the capability (and, for risky ones, stepped up with a passkey lately). */
export function requireCapability(caller: Caller | null, capability: Capability, clock: Clock, step_up = STEP_UP.has(capability)): Caller {
  if (caller === null) throw new ApiError('UNAUTHENTICATED', 'log in first (POST /api/v1/auth/login) or send an API token');
  if (!caller.capabilities.has(capability)) throw new ApiError('FORBIDDEN', `a ${caller.role}${caller.via === 'token' ? ' token' : ''} may not ${capability.replace('.', ' ')}`);
  if (step_up && (caller.step_up_until === null || caller.step_up_until.getTime() < clock.now().getTime())) {
    throw new ApiError('STEP_UP_REQUIRED', 'confirm this action with your passkey first (POST /api/v1/auth/passkeys/step-up/options), then try again');
  }
  return caller;
}

/** What a command records as its actor. */
export const envelopeOf = (caller: Caller, idempotency_key?: string): CommandEnvelope => ({
  tenant: caller.tenant,
  actor: { id: caller.principal_id, role: caller.role },
  ...(idempotency_key === undefined ? {} : { idempotency_key }),
});
