import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { Clock } from '../../commands/command-runtime.js';
import { ApiError } from '../errors.js';
import type { Role } from './capabilities.js';
import { hashPassword, passwordProblem } from './passwords.js';

/**
 * Creating a login for a principal that exists in the read models: an operator (its owner logs in as admin,
 * reseller or sub-reseller), a staff member (with the staff role) or a customer (portal). The role and the
 * subtree come from the principal, never from the request.
 */
export type NewLogin = Readonly<{
  tenant: string;
  login: string;
  /** null: no password; the login is used with one-time codes (hotspot customers) or passkeys. */
  password: string | null;
  principal_kind: 'operator' | 'staff' | 'customer';
  principal_id: string;
}>;

export const LOGIN_PATTERN = /^[a-z0-9][a-z0-9._@+-]{2,99}$/;

export async function principalOf(pool: pg.Pool, tenant: string, kind: NewLogin['principal_kind'], id: string): Promise<{ role: Role; operator_id: string } | null> {
  if (kind === 'operator') {
    const found = await pool.query<{ role: Role }>('SELECT role FROM operators WHERE operator_id = $1 AND tenant = $2', [id, tenant]);
    return found.rows[0] === undefined ? null : { role: found.rows[0].role, operator_id: id };
  }
  if (kind === 'staff') {
    const found = await pool.query<{ role: Role; operator_id: string }>('SELECT role, operator_id FROM staff WHERE staff_id = $1 AND tenant = $2 AND NOT removed', [id, tenant]);
    return found.rows[0] ?? null;
  }
  const found = await pool.query<{ operator_id: string }>('SELECT operator_id FROM customers WHERE customer_id = $1 AND tenant = $2', [id, tenant]);
  return found.rows[0] === undefined ? null : { role: 'customer', operator_id: found.rows[0].operator_id };
}

export async function createLogin(pool: pg.Pool, clock: Clock, input: NewLogin): Promise<{ login_id: string; role: Role; operator_id: string }> {
  const login = input.login.trim().toLowerCase();
  if (!LOGIN_PATTERN.test(login)) throw new ApiError('INVALID_INPUT', 'a login is 3–100 lower-case letters, digits and . _ @ + -');
  const weak = input.password === null ? null : passwordProblem(input.password);
  if (weak !== null) throw new ApiError('INVALID_INPUT', weak);
  const principal = await principalOf(pool, input.tenant, input.principal_kind, input.principal_id);
  if (principal === null) throw new ApiError('NOT_FOUND', `no ${input.principal_kind} ${input.principal_id} in this ISP (yet: it appears once projected)`);
  const login_id = randomUUID();
  const inserted = await pool.query(
    `INSERT INTO logins (login_id, login, tenant, principal_kind, principal_id, role, operator_id, password_hash, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
    [login_id, login, input.tenant, input.principal_kind, input.principal_id, principal.role, principal.operator_id, input.password === null ? null : await hashPassword(input.password), clock.now()],
  );
  if (inserted.rowCount === 0) throw new ApiError('LOGIN_TAKEN', `the login ${login} is taken, or this ${input.principal_kind} already has a login`);
  return { login_id, ...principal };
}
