import type pg from 'pg';
import type { LogPosition } from '../eventstore/event-store.js';
import { waitForProjections } from '../projections/status.js';
import type { Caller } from './access/caller.js';
import { ApiError } from './errors.js';

/**
 * The caller's subtree, enforced in SQL: an operator is visible when it is the caller's operator or has it among
 * its ancestors; a customer when its chain contains the caller's operator (a customer login: only itself).
 * Anything outside reads as absent (404), so nobody learns what other ISPs or siblings hold.
 */
export async function operatorInScope(pool: pg.Pool, caller: Caller, operator_id: string): Promise<void> {
  const found = await pool.query('SELECT 1 FROM operators WHERE operator_id = $1 AND tenant = $2 AND (operator_id = $3 OR $3 = ANY(ancestry))', [
    operator_id,
    caller.tenant,
    caller.operator_id,
  ]);
  if (found.rowCount === 0) throw new ApiError('OPERATOR_NOT_FOUND', `no operator ${operator_id} in your part of the network`);
}

export async function customerInScope(pool: pg.Pool, caller: Caller, customer_id: string): Promise<void> {
  if (caller.principal_kind === 'customer' && caller.principal_id !== customer_id) throw new ApiError('CUSTOMER_NOT_FOUND', `no customer ${customer_id} for you`);
  const found = await pool.query('SELECT 1 FROM customers WHERE customer_id = $1 AND tenant = $2 AND chain @> ARRAY[$3]::text[]', [customer_id, caller.tenant, caller.operator_id]);
  if (found.rowCount === 0) throw new ApiError('CUSTOMER_NOT_FOUND', `no customer ${customer_id} in your part of the network`);
}

/** `X-Consistent-With: <commit>.<prepare>` from a command's reply: wait (bounded) until the read models have it. */
export const POSITION_HEADER = 'x-consistent-with';

export const formatPosition = (position: LogPosition | null): string | null => (position === null ? null : `${position.commit}.${position.prepare}`);

export function parsePosition(text: string): LogPosition {
  const match = /^(\d{1,20})\.(\d{1,20})$/.exec(text);
  if (match === null) throw new ApiError('INVALID_INPUT', `${POSITION_HEADER} must be the "position" a command returned, like 12345.678`);
  return { commit: BigInt(match[1]!), prepare: BigInt(match[2]!) };
}

export async function consistentWith(pool: pg.Pool, header: string | string[] | undefined, projections: readonly string[]): Promise<void> {
  if (header === undefined) return;
  await waitForProjections(pool, projections, parsePosition(Array.isArray(header) ? header[0]! : header), { timeout_ms: 5_000 });
}
