import { randomUUID } from 'node:crypto';
import { Decimal } from 'decimal.js';
import { addAccount, closePeriod, postManualEntry, reverseEntry, type ManualLine } from '../../commands/book-commands.js';
import type { CommandRuntime } from '../../commands/command-runtime.js';
import { issueMonthlyBill, receivePayment } from '../../commands/payment-commands.js';
import { daysBetween } from '../../domain/calendar/local-date.js';
import { PostgresEventStore } from '../../eventstore/postgres/postgres-event-store.js';
import { Projector } from '../../projections/projector.js';
import { entryLookup } from '../../projections/queries/books-entries.js';
import { trialBalance, type TrialBalance } from '../../projections/queries/books-statements.js';
import { booksProjection } from '../../projections/read-models/books.js';
import { operatorsProjection } from '../../projections/read-models/operators.js';
import { waitForProjections } from '../../projections/status.js';
import { lastWritten } from '../projections/last-written.js';
import { buildScenario, type Scenario } from '../projections/scenario.js';
import { admin, ManualClock, ok, runtimeOn } from '../support/demo-isp.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/**
 * The scenario month (test/projections/scenario.ts) and then four more months of an accountant's work, all
 * through the real commands and the real projector: opening balances as manual entries (one dated before the
 * scenario, so date order and log order disagree), a custom account, a bank charge and its reversal, a period
 * close, more payments and unpaid monthly bills to age. The event log's positions are moved on between phases
 * (the identity sequence only; events are never touched) so entries fall into three position buckets, on both
 * sides of a bucket's middle: every path of the as-of-position totals is taken.
 */
export type BooksWorld = Readonly<{
  database: TestDatabase;
  runtime: CommandRuntime;
  clock: ManualClock;
  scenario: Scenario;
  projector: Projector;
  books: readonly string[];
  /** The last position of the scenario month, before any manual entry. */
  scenario_end: bigint;
  /** Each book's trial balance read right after the scenario month (as of now, then). */
  trial_balances_then: ReadonlyMap<string, TrialBalance>;
  bank_charge_entry: string;
  bank_charge_reversal: string;
  refused: Readonly<{ second_reversal: string; entry_in_closed_period: string }>;
  /** Every position an event now has, for cuts. */
  positions: readonly bigint[];
}>;

export async function buildBooksWorld(): Promise<BooksWorld> {
  const database = await createTestDatabase(10);
  const clock = new ManualClock(new Date('2026-11-16T06:00:00Z'));
  const runtime = runtimeOn(database.pool, clock);
  const scenario = await buildScenario(runtime, clock);
  const projector = new Projector(database.pool, new PostgresEventStore(database.pool, { poll_interval_ms: 20 }), [booksProjection, operatorsProjection], {
    poll_interval_ms: 20,
    retry_after_failure_ms: 100,
  });
  projector.start();
  const caughtUp = async (): Promise<void> => waitForProjections(database.pool, ['books', 'operators'], await lastWritten(database.pool), { timeout_ms: 20_000 });
  const jumpTo = async (position: number): Promise<void> => {
    await database.pool.query(`SELECT setval(pg_get_serial_sequence('events', 'global_position'), $1)`, [position]);
  };
  await caughtUp();

  const envelope = admin(scenario.tenant);
  const books = [scenario.tenant, scenario.reseller, scenario.sub_reseller];
  const scenario_end = (await lastWritten(database.pool)).prepare;
  const trial_balances_then = new Map<string, TrialBalance>();
  for (const book of books) trial_balances_then.set(book, await trialBalance(database.pool, { book_id: book }));

  // Bucket 1, lower half: opening balances, a custom account, a bank charge and its reversal (today: 2026-12-06).
  await jumpTo(100_010);
  const manual = async (book_id: string, date: string, memo: string, lines: readonly ManualLine[]): Promise<string> =>
    ok(await postManualEntry(runtime, envelope, { book_id, entry_id: `man-${randomUUID().slice(0, 12)}`, date, memo, lines })).entry_id;
  await manual(scenario.tenant, '2026-11-15', "Owner's capital paid into the bank", [
    { account_code: '1010', debit: '100000' },
    { account_code: '3000', credit: '100000' },
  ]);
  await manual(scenario.sub_reseller, '2026-11-16', 'Opening cash; the wallet seed was paid from it', [
    { account_code: '1000', debit: '5000.00' },
    { account_code: '3000', credit: '5000.00' },
  ]);
  ok(await addAccount(runtime, envelope, { book_id: scenario.tenant, code: '5300', name: 'Bank charges' }));
  const bank_charge_entry = await manual(scenario.tenant, '2026-12-01', 'Bank charges for November', [
    { account_code: '5300', debit: '12.50' },
    { account_code: '1010', credit: '12.50' },
  ]);
  await caughtUp();
  const lookup = entryLookup(database.pool);
  const bank_charge_reversal = `rev-${randomUUID().slice(0, 12)}`;
  ok(await reverseEntry(runtime, envelope, { book_id: scenario.tenant, entry_id: bank_charge_entry, reversal_entry_id: bank_charge_reversal, reason: 'charged twice by the bank statement import' }, lookup));
  await caughtUp();
  const again = await reverseEntry(runtime, envelope, { book_id: scenario.tenant, entry_id: bank_charge_entry, reversal_entry_id: `rev-${randomUUID().slice(0, 12)}`, reason: 'again' }, lookup);

  // Bucket 1, upper half: a recharge paid online (all three books), then the sub-reseller closes November.
  await jumpTo(170_000);
  clock.set('2026-12-20T06:00:00Z');
  ok(
    await receivePayment(runtime, envelope, {
      customer_id: scenario.pppoe,
      payment_id: randomUUID(),
      method: 'online',
      amount: '500.00',
      collected_by: 'gateway',
      collector_operator_id: scenario.tenant,
      gateway: 'sslcommerz',
      gateway_reference: `gw-${randomUUID()}`,
      card: null,
      recharge_package_id: scenario.package_id,
    }),
  );
  ok(await closePeriod(runtime, envelope, { book_id: scenario.sub_reseller, through: '2026-11-30' }));
  const closed = await postManualEntry(runtime, envelope, {
    book_id: scenario.sub_reseller,
    entry_id: `man-${randomUUID().slice(0, 12)}`,
    date: '2026-11-20',
    memo: 'late cash count',
    lines: [
      { account_code: '1000', debit: '1.00' },
      { account_code: '4100', credit: '1.00' },
    ],
  });

  // Bucket 2: three monthly bills, one partly paid, and a manual charge to another customer: something to age.
  await jumpTo(250_000);
  clock.set('2027-01-02T06:00:00Z');
  ok(await issueMonthlyBill(runtime, envelope, { customer_id: scenario.monthly, period: '2027-01' as never }));
  clock.set('2027-02-01T06:00:00Z');
  ok(await issueMonthlyBill(runtime, envelope, { customer_id: scenario.monthly, period: '2027-02' as never }));
  ok(
    await receivePayment(runtime, envelope, {
      customer_id: scenario.monthly,
      payment_id: randomUUID(),
      method: 'cash',
      amount: '300.00',
      collected_by: `${scenario.sub_reseller}-cashier`,
      collector_operator_id: scenario.sub_reseller,
      gateway: null,
      gateway_reference: null,
      card: null,
      recharge_package_id: null,
    }),
  );
  clock.set('2027-03-02T06:00:00Z');
  ok(await issueMonthlyBill(runtime, envelope, { customer_id: scenario.monthly, period: '2027-03' as never }));
  await manual(scenario.sub_reseller, '2027-03-02', 'Router rental charged to the customer', [
    { account_code: '1100', party: scenario.hotspot, debit: '75.00' },
    { account_code: '4100', credit: '75.00' },
  ]);
  await caughtUp();

  const positions = (await database.pool.query<{ p: string }>('SELECT global_position::text AS p FROM events ORDER BY global_position')).rows.map((row) => BigInt(row.p));
  return {
    database,
    runtime,
    clock,
    scenario,
    projector,
    books,
    scenario_end,
    trial_balances_then,
    bank_charge_entry,
    bank_charge_reversal,
    refused: { second_reversal: again.ok ? 'accepted' : again.rejection.code, entry_in_closed_period: closed.ok ? 'accepted' : closed.rejection.code },
    positions,
  };
}

export async function closeBooksWorld(world: BooksWorld | undefined): Promise<void> {
  await world?.projector.stop();
  await world?.database.close();
}

// --- the naive reference: every figure recomputed from the journal lines alone ---------------------------------

export type NaiveLine = Readonly<{
  entry_id: string;
  line_no: number;
  date: string;
  position: bigint;
  account: string;
  party: string | null;
  debit: Decimal;
  credit: Decimal;
  due_on: string | null;
}>;

/** All of a book's journal lines, in date and log order; nothing from the totals tables. */
export async function naiveLines(world: BooksWorld, book_id: string): Promise<NaiveLine[]> {
  const result = await world.database.pool.query<{ entry_id: string; line_no: number; d: string; p: string; account_code: string; party: string | null; debit: string; credit: string; due: string | null }>(
    `SELECT entry_id, line_no, to_char(entry_date, 'YYYY-MM-DD') AS d, global_position::text AS p, account_code, party, debit::text AS debit, credit::text AS credit,
            to_char(due_on, 'YYYY-MM-DD') AS due
       FROM journal_lines WHERE book_id = $1`,
    [book_id],
  );
  return result.rows
    .map((row) => ({
      entry_id: row.entry_id,
      line_no: row.line_no,
      date: row.d,
      position: BigInt(row.p),
      account: row.account_code,
      party: row.party,
      debit: new Decimal(row.debit),
      credit: new Decimal(row.credit),
      due_on: row.due,
    }))
    .sort((a, b) => (a.date !== b.date ? (a.date < b.date ? -1 : 1) : a.position !== b.position ? (a.position < b.position ? -1 : 1) : a.entry_id !== b.entry_id ? (a.entry_id < b.entry_id ? -1 : 1) : a.line_no - b.line_no));
}

export type NaiveCut = Readonly<{ date?: string; position?: bigint; from?: string }>;

export const within = (line: NaiveLine, cut: NaiveCut): boolean =>
  (cut.date === undefined || line.date <= cut.date) && (cut.position === undefined || line.position <= cut.position) && (cut.from === undefined || line.date >= cut.from);

/** Net debit (debits − credits) per key, as fixed two-decimal strings. */
export function naiveNet(lines: readonly NaiveLine[], cut: NaiveCut, key: (line: NaiveLine) => string): Map<string, { debit: Decimal; credit: Decimal }> {
  const totals = new Map<string, { debit: Decimal; credit: Decimal }>();
  for (const line of lines) {
    if (!within(line, cut)) continue;
    const id = key(line);
    const before = totals.get(id) ?? { debit: new Decimal(0), credit: new Decimal(0) };
    totals.set(id, { debit: before.debit.plus(line.debit), credit: before.credit.plus(line.credit) });
  }
  return totals;
}

export const fixed = (value: Decimal): string => value.toFixed(2);

/**
 * AR aging the slow, obvious way: walk each customer's 1100 lines oldest first, queue the debits, let every
 * credit pay the front of the queue (an early credit waits for later debits), then age what is left.
 */
export function naiveAging(lines: readonly NaiveLine[], cut: NaiveCut, aged_on: string): Map<string, Record<string, string>> {
  const byParty = new Map<string, NaiveLine[]>();
  for (const line of lines) {
    if (line.account !== '1100' || line.party === null || !within(line, cut)) continue;
    byParty.set(line.party, [...(byParty.get(line.party) ?? []), line]);
  }
  const result = new Map<string, Record<string, string>>();
  for (const [party, partyLines] of byParty) {
    const open: { amount: Decimal; age_from: string }[] = [];
    let unapplied = new Decimal(0);
    const settle = (): void => {
      // decimal.js calls zero positive (it has a sign): compare with 0 instead.
      while (unapplied.greaterThan(0) && open.length > 0) {
        const first = open[0]!;
        const paid = Decimal.min(first.amount, unapplied);
        first.amount = first.amount.minus(paid);
        unapplied = unapplied.minus(paid);
        if (first.amount.isZero()) open.shift();
      }
    };
    for (const line of partyLines) {
      if (line.debit.greaterThan(0)) open.push({ amount: line.debit, age_from: line.due_on ?? line.date });
      unapplied = unapplied.plus(line.credit);
      settle();
    }
    const buckets: Record<string, Decimal> = { current: new Decimal(0), days_1_30: new Decimal(0), days_31_60: new Decimal(0), days_61_90: new Decimal(0), over_90: new Decimal(0) };
    let balance = unapplied.negated();
    for (const debit of open) {
      const days = daysBetween(debit.age_from, aged_on);
      const bucket = days <= 0 ? 'current' : days <= 30 ? 'days_1_30' : days <= 60 ? 'days_31_60' : days <= 90 ? 'days_61_90' : 'over_90';
      buckets[bucket] = buckets[bucket]!.plus(debit.amount);
      balance = balance.plus(debit.amount);
    }
    if (balance.isZero()) continue;
    result.set(party, {
      balance: fixed(balance),
      credit: fixed(unapplied),
      ...Object.fromEntries(Object.entries(buckets).map(([name, amount]) => [name, fixed(amount)])),
    });
  }
  return result;
}
