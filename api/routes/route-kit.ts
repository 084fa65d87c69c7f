import { createHash, randomUUID } from 'node:crypto';
import type pg from 'pg';
import { z } from 'zod';
import { isLocalDate } from '../../domain/calendar/local-date.js';
import { BooksQueryError } from '../../projections/queries/books-common.js';
import type { Caller } from '../access/caller.js';
import { ApiError } from '../errors.js';
import { operatorInScope } from '../scope.js';

/**
 * What the route plugins share beyond command-reply.ts: field schemas, SQL fragments that format what pg
 * would otherwise hand back as Date objects, keyset cursors, server-side ids, and the subtree checks that are
 * more than "is it in my subtree" (an operator strictly below me; the ISP level).
 */

/** Money in requests: a decimal string, never a JSON number. */
export const money = z.string().regex(/^\d{1,15}(\.\d{1,4})?$/, 'an amount like 500 or 500.00');
/**
 * A calendar day. Years before 1900 are refused here: Temporal reads "0000-01-01" as a date, PostgreSQL does not
 * (it has no year 0), and nothing in a billing system happened then.
 */
const EARLIEST_DAY = '1900-01-01';
export const localDay = z.iso.date().refine((value) => value >= EARLIEST_DAY, `a day from ${EARLIEST_DAY} on`);
export const yearMonth = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'a month, YYYY-MM');
const MAX_POSITION = 9_223_372_036_854_775_807n;
/** `as_of` of the reports and replays: a date, `position:<n>` or an ISO instant (replays); the query checks the rest. */
export const asOf = z
  .string()
  .min(1)
  .max(40)
  .refine((value) => {
    const position = /^position:(\d+)$/.exec(value);
    return position === null || BigInt(position[1]!) <= MAX_POSITION;
  }, 'an event position is at most 9223372036854775807')
  .refine((value) => !/^\d{4}-/.test(value) || value >= EARLIEST_DAY, `a day or an instant from ${EARLIEST_DAY} on`);
/** Bills are `<customer>:<period>` and payment ids may come from an Idempotency-Key, so these ids may hold a ':'. */
export const RECORD_ID = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/, 'an id as the list shows it: letters, digits, _ . : -');
/** A line of text people type: trimmed, bounded, without control characters (PostgreSQL refuses NUL). */
export const text = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    .refine((value) => !/\p{Cc}/u.test(value), 'no control characters');
export const pageLimit = (max: number, fallback: number) => z.coerce.number().int().min(1).max(max).default(fallback);

// --- SQL formatting: pg turns timestamptz and date into Date objects, the replies carry strings -----------------

export const instantSql = (column: string): string => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
export const daySql = (column: string): string => `to_char(${column}, 'YYYY-MM-DD')`;

// --- keyset cursors ------------------------------------------------------------------------------------------------

export const encodeCursor = (values: readonly string[]): string => Buffer.from(JSON.stringify(values)).toString('base64url');

export function decodeCursor(cursor: string, length: number): string[] {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === length && value.every((part) => typeof part === 'string' && part.length <= 200 && !part.includes('\u0000'))) return value as string[];
  } catch {
    // fall through to the refusal
  }
  throw new ApiError('INVALID_CURSOR', 'the paging cursor is not one this server gave out; start again from the first page');
}

const badCursor = (): never => {
  throw new ApiError('INVALID_CURSOR', 'the paging cursor is not one this server gave out; start again from the first page');
};
/** Cursor parts as this server writes them, or INVALID_CURSOR: nothing a forged cursor holds reaches a cast in SQL. */
export const cursorDay = (value: string): string => (isLocalDate(value) ? value : badCursor());
export const cursorInstant = (value: string): string => {
  const instant = new Date(value);
  return !Number.isNaN(instant.getTime()) && instant.toISOString() === value ? value : badCursor();
};
export const cursorPosition = (value: string): string => (/^\d{1,18}$/.test(value) ? value : badCursor());

/** The page and the cursor of the next one, from a query that fetched `limit + 1` rows. */
export function pageOf<Row>(rows: readonly Row[], limit: number, cursorOf: (row: Row) => readonly string[]): { rows: Row[]; next: string | null } {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { rows: page, next: rows.length > limit && last !== undefined ? encodeCursor(cursorOf(last)) : null };
}

// --- ids ----------------------------------------------------------------------------------------------------------

/** A new id when the caller did not choose one. */
export const newId = (prefix: string): string => `${prefix}-${randomUUID().replaceAll('-', '').slice(0, 16)}`;

/**
 * The id of what a money command creates, derived from its Idempotency-Key: a retry with the same key names the
 * same thing. Hashed, since a key may hold characters an id may not (':').
 */
export const idFromKey = (prefix: string, key: string): string => `${prefix}-${createHash('sha256').update(key).digest('hex').slice(0, 32)}`;

// --- scope beyond the subtree ----------------------------------------------------------------------------------------

/** The caller acts for the ISP itself (its admin or the ISP's staff), not for a reseller below it. */
export const atIspLevel = (caller: Caller): boolean => caller.operator_id === caller.tenant;

/**
 * An operator strictly below the caller's: what a parent does to a child (suspend it, set its terms and prices,
 * credit its wallet) nobody may do to their own operator. Outside the subtree it reads as absent (404).
 */
export async function operatorBelow(pool: pg.Pool, caller: Caller, operator_id: string): Promise<void> {
  await operatorInScope(pool, caller, operator_id);
  if (operator_id === caller.operator_id) {
    throw new ApiError('OPERATOR_NOT_IN_SUBTREE', `${operator_id} is your own operator; only an operator above it may do this`);
  }
}

/**
 * An operator whose direct parent is the caller's: commission terms, package prices, the billing mode and the
 * wallet are a contract between an operator and its parent, which nobody further up signs for it.
 */
export async function operatorChildOf(pool: pg.Pool, caller: Caller, operator_id: string): Promise<void> {
  await operatorBelow(pool, caller, operator_id);
  const found = await pool.query<{ parent_id: string | null }>('SELECT parent_id FROM operators WHERE operator_id = $1', [operator_id]);
  const parent = found.rows[0]?.parent_id ?? null;
  if (parent !== caller.operator_id) {
    throw new ApiError('OPERATOR_NOT_IN_SUBTREE', `only ${operator_id}'s own parent (${parent ?? 'none'}) sets its terms, prices, billing mode and wallet`);
  }
}

/** The SQL condition "this row's operator is the caller's or below it", for a table with operator_id and ancestry. */
export const operatorSubtreeSql = (operator: string, ancestry: string, caller_operator_param: string): string =>
  `(${operator} = ${caller_operator_param} OR ${caller_operator_param} = ANY(${ancestry}))`;

// --- books ----------------------------------------------------------------------------------------------------------

/** A books report's refusal in the catalogue's words; anything else (a broken invariant) stays a 500. */
export async function booksQuery<Result>(work: () => Promise<Result>): Promise<Result> {
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof BooksQueryError)) throw error;
    switch (error.code) {
      case 'BOOK_NOT_FOUND':
        // The operator is in the caller's subtree (checked first), so its book is still being opened by the projector.
        throw new ApiError('NOT_FOUND', `${error.message} (yet: a book opens once its operator is projected)`);
      case 'ACCOUNT_NOT_FOUND':
      case 'CUSTOMER_NOT_FOUND':
      case 'INVALID_CURSOR':
      case 'INVALID_INPUT':
        throw new ApiError(error.code, error.message);
    }
  }
}
