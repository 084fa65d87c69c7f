import type pg from 'pg';
import { z } from 'zod';
import { normaliseMac } from '../../domain/customers/identifiers.js';

/**
 * Customer search as staff use it: one box that finds a customer by any part of a name, username, mobile, MAC
 * or static IP (one trigram index over `search_text`), plus filters, always inside one ISP and the caller's subtree, and
 * keyset paging on (name, id) so page 10,000 costs what page 1 costs. Scope is part of the SQL, never a filter
 * applied after the fact.
 */
export const CustomerSearchSchema = z
  .object({
    tenant: z.string().min(1),
    /** The caller's operator: only customers whose chain contains it are visible. */
    within_operator_id: z.string().min(1).nullable().default(null),
    text: z.string().trim().min(1).max(64).optional(),
    operator_id: z.string().min(1).optional(),
    zone: z.string().min(1).max(64).optional(),
    status: z.enum(['active', 'suspended', 'expired', 'disabled']).optional(),
    package_id: z.string().min(1).optional(),
    expires_before: z.iso.datetime({ offset: true }).optional(),
    expires_after: z.iso.datetime({ offset: true }).optional(),
    limit: z.number().int().min(1).max(200).default(50),
    /** The `next` of the previous page. */
    after: z.string().max(400).optional(),
  })
  .strict();

export type CustomerSearch = z.input<typeof CustomerSearchSchema>;

export type CustomerListItem = Readonly<{
  customer_id: string;
  name: string;
  username: string | null;
  mobile: string;
  mac: string | null;
  static_ip: string | null;
  operator_id: string;
  zone: string;
  package_id: string;
  status: string;
  expires_at: string | null;
  balance_due: string;
  credit: string;
}>;

export type CustomerPage = Readonly<{ customers: readonly CustomerListItem[]; next: string | null }>;

export class InvalidCursor extends Error {
  readonly code = 'INVALID_CURSOR';
  constructor() {
    super('the paging cursor is not one this server gave out; start again from the first page');
  }
}

const encodeCursor = (name: string, customer_id: string): string => Buffer.from(JSON.stringify([name, customer_id])).toString('base64url');

function decodeCursor(cursor: string): [string, string] {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    // A forged cursor's text goes into SQL parameters: PostgreSQL refuses NUL in text, so such a cursor is refused here.
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'string' && !`${value[0]}${value[1]}`.includes('\u0000')) return [value[0], value[1]];
  } catch {
    // fall through
  }
  throw new InvalidCursor();
}

const escapeLike = (text: string): string => text.replace(/[\\%_]/g, (char) => `\\${char}`);

export async function searchCustomers(db: pg.Pool | pg.ClientBase, input: CustomerSearch): Promise<CustomerPage> {
  const search = CustomerSearchSchema.parse(input);
  const where: string[] = ['tenant = $1'];
  const values: unknown[] = [search.tenant];
  const param = (value: unknown): string => {
    values.push(value);
    return `$${values.length}`;
  };
  if (search.within_operator_id !== null) where.push(`chain @> ARRAY[${param(search.within_operator_id)}]::text[]`);
  if (search.text !== undefined) {
    // A MAC is found in whichever format it was typed (RouterOS prints several); the column holds AA:BB:….
    const term = (normaliseMac(search.text) ?? search.text).toLowerCase();
    // Trigrams need three characters; a shorter term matches as a name prefix.
    where.push(term.length >= 3 ? `search_text LIKE ${param(`%${escapeLike(term)}%`)}` : `name ILIKE ${param(`${escapeLike(term)}%`)}`);
  }
  if (search.operator_id !== undefined) where.push(`operator_id = ${param(search.operator_id)}`);
  if (search.zone !== undefined) where.push(`zone = ${param(search.zone)}`);
  if (search.status !== undefined) where.push(`status = ${param(search.status)}`);
  if (search.package_id !== undefined) where.push(`package_id = ${param(search.package_id)}`);
  if (search.expires_before !== undefined) where.push(`expires_at < ${param(search.expires_before)}`);
  if (search.expires_after !== undefined) where.push(`expires_at >= ${param(search.expires_after)}`);
  if (search.after !== undefined) {
    const [name, customer_id] = decodeCursor(search.after);
    where.push(`(name, customer_id) > (${param(name)}, ${param(customer_id)})`);
  }
  const result = await db.query<CustomerListItem>(
    `SELECT customer_id, name, username, mobile, mac, static_ip, operator_id, zone, package_id, status,
            to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS expires_at,
            balance_due::text AS balance_due, credit::text AS credit
       FROM customers
      WHERE ${where.join(' AND ')}
      ORDER BY name, customer_id
      LIMIT ${search.limit + 1}`,
    values,
  );
  const customers = result.rows.slice(0, search.limit);
  const last = customers[customers.length - 1];
  return { customers, next: result.rows.length > search.limit && last !== undefined ? encodeCursor(last.name, last.customer_id) : null };
}
