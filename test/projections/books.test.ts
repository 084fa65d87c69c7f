import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresEventStore } from '../../eventstore/postgres/postgres-event-store.js';
import { booksProjection } from '../../projections/read-models/books.js';
import { rebuildProjection } from '../../projections/rebuild.js';
import { Projector } from '../../projections/projector.js';
import { waitForProjections } from '../../projections/status.js';
import { ManualClock, runtimeOn } from '../support/demo-isp.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { lastWritten } from './last-written.js';
import { buildScenario, type Scenario } from './scenario.js';

/** The books the scenario's month posts: balanced, zero trial balances, mirrored intercompany accounts. */
let database: TestDatabase;
let projector: Projector;
let scenario: Scenario;

beforeAll(async () => {
  database = await createTestDatabase(10);
  const clock = new ManualClock(new Date('2026-11-16T06:00:00Z'));
  scenario = await buildScenario(runtimeOn(database.pool, clock), clock);
  projector = new Projector(database.pool, new PostgresEventStore(database.pool, { poll_interval_ms: 20 }), [booksProjection], { poll_interval_ms: 20, retry_after_failure_ms: 100 });
  projector.start();
  await waitForProjections(database.pool, ['books'], await lastWritten(database.pool), { timeout_ms: 20_000 });
}, 60_000);

afterAll(async () => {
  await projector?.stop();
  await database?.close();
});

const query = async <Row>(text: string, values: unknown[] = []): Promise<Row[]> => (await database.pool.query(text, values)).rows as Row[];

describe('books posted from the scenario', () => {
  it('has a book per operator, every entry balanced with at least two lines', async () => {
    const books = await query<{ book_id: string }>('SELECT book_id FROM books ORDER BY book_id');
    expect(books.map((b) => b.book_id).sort()).toEqual([scenario.tenant, scenario.reseller, scenario.sub_reseller].sort());
    const unbalanced = await query(`SELECT entry_id FROM journal_lines GROUP BY entry_id HAVING sum(debit) <> sum(credit) OR count(*) < 2`);
    expect(unbalanced).toEqual([]);
    const [count] = await query<{ n: number }>('SELECT count(*)::int AS n FROM journal_entries');
    expect(count!.n).toBeGreaterThan(10);
  });

  it('has a zero trial balance in every book, from the lines and from the running totals alike', async () => {
    const fromLines = await query<{ book_id: string; net: string }>('SELECT book_id, sum(debit - credit)::text AS net FROM journal_lines GROUP BY book_id');
    for (const book of fromLines) expect(Number(book.net)).toBe(0);
    const fromTotals = await query<{ book_id: string; net: string }>('SELECT book_id, sum(debit - credit)::text AS net FROM account_day_totals GROUP BY book_id');
    for (const book of fromTotals) expect(Number(book.net)).toBe(0);
    const perAccount = await query<{ book_id: string; account_code: string; lines: string; totals: string }>(
      `SELECT l.book_id, l.account_code, l.net::text AS lines, t.net::text AS totals
         FROM (SELECT book_id, account_code, sum(debit - credit) AS net FROM journal_lines GROUP BY 1, 2) l
         JOIN (SELECT book_id, account_code, sum(debit - credit) AS net FROM account_day_totals GROUP BY 1, 2) t USING (book_id, account_code)
        WHERE l.net <> t.net`,
    );
    expect(perAccount).toEqual([]);
  });

  it("mirrors every intercompany pair: the parent's payable to a child equals the child's receivable from it", async () => {
    const pairs = await query<{ parent: string; child: string; payable: string; receivable: string }>(
      `SELECT p.book_id AS parent, p.party AS child, (p.credit - p.debit)::text AS payable, (c.debit - c.credit)::text AS receivable
         FROM party_totals p JOIN party_totals c ON c.book_id = p.party AND c.party = p.book_id AND c.account_code = '1200'
        WHERE p.account_code = '2100'`,
    );
    expect(pairs.length).toBe(2);
    for (const pair of pairs) expect(pair.payable).toBe(pair.receivable);
  });

  it("keeps each wallet balance equal to the intercompany balance with the parent", async () => {
    const wallets = await database.pool.query<{ operator_id: string; amount: string }>(
      `SELECT data->>'operator_id' AS operator_id, data->>'amount' AS amount, type FROM events WHERE type IN ('wallet-topped-up', 'wallet-credited', 'wallet-debited')`,
    );
    const balance = new Map<string, number>();
    for (const row of wallets.rows as { operator_id: string; amount: string; type: string }[]) {
      const signed = row.type === 'wallet-debited' ? -Number(row.amount) : Number(row.amount);
      balance.set(row.operator_id, Math.round(((balance.get(row.operator_id) ?? 0) + signed) * 100) / 100);
    }
    const receivables = await query<{ book_id: string; net: string }>(`SELECT book_id, (debit - credit)::text AS net FROM party_totals WHERE account_code = '1200'`);
    for (const receivable of receivables) expect(Number(receivable.net)).toBe(balance.get(receivable.book_id));
  });

  it('replays from position 0 to identical books: a hash of every book before and after the rebuild', async () => {
    const hashes = async (): Promise<Record<string, string>> => {
      const result = await query<{ book_id: string; hash: string }>(
        `SELECT book_id, md5(string_agg(concat_ws('|', entry_id, line_no, entry_date, global_position, account_code, party, debit, credit, currency, due_on), E'\n' ORDER BY entry_id, line_no)) AS hash
           FROM journal_lines GROUP BY book_id`,
      );
      return Object.fromEntries(result.map((row) => [row.book_id, row.hash]));
    };
    const before = await hashes();
    const report = await rebuildProjection(database.pool, new PostgresEventStore(database.pool), booksProjection);
    expect(report.identical).toBe(true);
    expect(report.comparison!.every((table) => table.only_live === 0 && table.only_new === 0)).toBe(true);
    expect(await hashes()).toEqual(before);
    expect(Object.keys(before)).toHaveLength(3);
  });

  it("keeps each customer's account equal to its open bills less its credit", async () => {
    const accounts = await query<{ party: string; net: string }>(`SELECT party, (debit - credit)::text AS net FROM party_totals WHERE account_code = '1100'`);
    const monthly = accounts.find((account) => account.party === scenario.monthly);
    const [bills] = await query<{ open: string }>(`SELECT coalesce(sum((data->>'amount')::numeric), 0)::text AS open FROM events WHERE type = 'bill-issued' AND stream_id = $1`, [`customer-${scenario.monthly}`]);
    expect(Number(monthly!.net)).toBe(Number(bills!.open) - 200);
  });
});
