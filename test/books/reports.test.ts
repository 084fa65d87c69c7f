import { Decimal } from 'decimal.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { arAging } from '../../projections/queries/books-aging.js';
import { BooksQueryError } from '../../projections/queries/books-common.js';
import { customerStatement, generalLedger, journal, type JournalEntryView, type Ledger } from '../../projections/queries/books-journal.js';
import { resellerStatement } from '../../projections/queries/books-reseller.js';
import { balanceSheet, incomeStatement, trialBalance } from '../../projections/queries/books-statements.js';
import { POSITION_BUCKET } from '../../projections/read-models/books.js';
import { buildBooksWorld, closeBooksWorld, fixed, naiveAging, naiveLines, naiveNet, within, type BooksWorld, type NaiveCut, type NaiveLine } from './fixture.js';

/**
 * Every report on the scenario's books, checked against the journal lines summed by hand (fixture.ts), as of
 * now, as of every day with entries and as of every log position (and the edges of each position bucket).
 */
let world: BooksWorld;
const lines = new Map<string, NaiveLine[]>();

beforeAll(async () => {
  world = await buildBooksWorld();
  for (const book of world.books) lines.set(book, await naiveLines(world, book));
}, 120_000);

afterAll(async () => closeBooksWorld(world));

const pool = () => world.database.pool;
const isp = () => world.scenario.tenant;
const reseller = () => world.scenario.reseller;
const sub = () => world.scenario.sub_reseller;
const linesOf = (book: string): NaiveLine[] => lines.get(book)!;
const asOfString = (cut: NaiveCut): string | undefined => (cut.date !== undefined ? cut.date : cut.position !== undefined ? `position:${cut.position}` : undefined);
const netOf = (totals: { debit: Decimal; credit: Decimal } | undefined): Decimal => (totals === undefined ? new Decimal(0) : totals.debit.minus(totals.credit));

async function codeOf(work: Promise<unknown>): Promise<string> {
  try {
    await work;
    return 'no error';
  } catch (error) {
    return error instanceof BooksQueryError ? error.code : `not a BooksQueryError: ${String(error)}`;
  }
}

/** Every day with an entry (and the day before the first), every position an event has, and each bucket's edges. */
function cutsOf(book: string): NaiveCut[] {
  const dates = [...new Set(linesOf(book).map((line) => line.date))].sort();
  const edges: bigint[] = [0n];
  for (let bucket = 0n; bucket <= 3n; bucket += 1n) {
    const start = bucket * POSITION_BUCKET;
    edges.push(start, start + POSITION_BUCKET / 2n - 1n, start + POSITION_BUCKET / 2n, start + POSITION_BUCKET - 1n);
  }
  const positions = [...new Set([...world.positions, ...world.positions.map((p) => p - 1n), ...edges])].filter((p) => p >= 0n).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return [{}, { date: '2026-11-01' }, ...dates.map((date) => ({ date })), ...positions.map((position) => ({ position }))];
}

describe('trial balance', () => {
  it('equals the journal lines summed by hand for every book, as of now, every day and every position', async () => {
    let checked = 0;
    for (const book of world.books) {
      for (const cut of cutsOf(book)) {
        const report = await trialBalance(pool(), { book_id: book, as_of: asOfString(cut) });
        const naive = naiveNet(linesOf(book), cut, (line) => line.account);
        for (const account of report.accounts) {
          const expected = naive.get(account.code);
          expect([cut, account.code, account.debit, account.credit]).toEqual([cut, account.code, fixed(expected?.debit ?? new Decimal(0)), fixed(expected?.credit ?? new Decimal(0))]);
        }
        for (const code of naive.keys()) expect(report.accounts.some((account) => account.code === code)).toBe(true);
        expect(report.totals.debit).toBe(report.totals.credit);
        expect(report.totals.balance_debit).toBe(report.totals.balance_credit);
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(200);
  });

  it('shows the balance on each account’s normal side and in the debit or credit column', async () => {
    const report = await trialBalance(pool(), { book_id: isp() });
    const bank = report.accounts.find((account) => account.code === '1010')!;
    const equity = report.accounts.find((account) => account.code === '3000')!;
    expect([bank.normal_side, bank.balance, bank.balance_credit]).toEqual(['debit', '105000.00', '0.00']);
    expect([equity.normal_side, equity.balance, equity.balance_credit, equity.balance_debit]).toEqual(['credit', '100000.00', '100000.00', '0.00']);
    expect(report.accounts.find((account) => account.code === '5300')).toMatchObject({ name: 'Bank charges', type: 'expense', debit: '12.50', credit: '12.50', balance: '0.00' });
  });

  it('as of the scenario’s last position gives the figures read back then; as of a date counts a back-dated entry posted later', async () => {
    for (const book of world.books) {
      const then = world.trial_balances_then.get(book)!;
      const asOf = await trialBalance(pool(), { book_id: book, as_of: `position:${world.scenario_end}` });
      const byCode = new Map(asOf.accounts.map((account) => [account.code, account]));
      for (const account of then.accounts) expect(byCode.get(account.code)).toEqual(account);
      for (const account of asOf.accounts) if (!then.accounts.some((old) => old.code === account.code)) expect([account.debit, account.credit]).toEqual(['0.00', '0.00']);
      expect(asOf.totals).toEqual(then.totals);
    }
    // The owner's capital is dated 2026-11-15 but was posted after the scenario: in the book as of any later date,
    // not as of the scenario's positions.
    const bankAsOfDate = (await trialBalance(pool(), { book_id: isp(), as_of: '2026-11-30' })).accounts.find((account) => account.code === '1010')!;
    const bankAsOfPosition = (await trialBalance(pool(), { book_id: isp(), as_of: `position:${world.scenario_end}` })).accounts.find((account) => account.code === '1010')!;
    expect(bankAsOfDate.balance).toBe('105000.00');
    expect(bankAsOfPosition.balance).toBe('5000.00');
    const beforeCapital = (await trialBalance(pool(), { book_id: isp(), as_of: '2026-11-14' })).accounts.find((account) => account.code === '1010')!;
    expect(beforeCapital.balance).toBe('0.00');
  });
});

describe('balance sheet', () => {
  it('balances (assets = liabilities + equity with current earnings) and matches the lines, as of now, dates and positions', async () => {
    for (const book of world.books) {
      for (const cut of cutsOf(book).filter((_, index) => index % 3 === 0)) {
        const report = await balanceSheet(pool(), { book_id: book, as_of: asOfString(cut) });
        const naive = naiveNet(linesOf(book), cut, (line) => line.account);
        const accounts = (await pool().query<{ code: string; type: string }>('SELECT code, type FROM book_accounts WHERE book_id = $1', [book])).rows;
        const sumOf = (type: string, sign: 1 | -1): Decimal =>
          accounts.filter((account) => account.type === type).reduce((total, account) => total.plus(netOf(naive.get(account.code)).times(sign)), new Decimal(0));
        expect(report.assets.total).toBe(fixed(sumOf('asset', 1)));
        expect(report.liabilities.total).toBe(fixed(sumOf('liability', -1)));
        expect(report.equity.current_earnings).toBe(fixed(sumOf('revenue', -1).minus(sumOf('expense', 1))));
        expect(report.equity.total).toBe(fixed(sumOf('equity', -1).plus(sumOf('revenue', -1)).minus(sumOf('expense', 1))));
        expect(report.liabilities_and_equity).toBe(report.assets.total);
      }
    }
  });
});

describe('income statement', () => {
  it('sums the revenue and expense movements of the period, as of a date or a position', async () => {
    const periods = [
      ['2026-11-01', '2026-11-30'],
      ['2026-12-01', '2026-12-31'],
      ['2026-11-16', '2027-03-31'],
    ] as const;
    for (const book of world.books) {
      const accounts = (await pool().query<{ code: string; type: string }>('SELECT code, type FROM book_accounts WHERE book_id = $1', [book])).rows;
      for (const [from, to] of periods) {
        for (const cut of [{}, { date: '2026-12-10' }, { position: world.scenario_end }, { position: 170_000n }]) {
          const report = await incomeStatement(pool(), { book_id: book, from, to, as_of: asOfString(cut) });
          const through = cut.date !== undefined && cut.date < to ? cut.date : to;
          const naive = naiveNet(linesOf(book), { ...cut, date: through, from }, (line) => line.account);
          const revenue = accounts.filter((a) => a.type === 'revenue').reduce((total, a) => total.minus(netOf(naive.get(a.code))), new Decimal(0));
          const expense = accounts.filter((a) => a.type === 'expense').reduce((total, a) => total.plus(netOf(naive.get(a.code))), new Decimal(0));
          expect([book, from, to, cut, report.revenue.total, report.expenses.total, report.net_income]).toEqual([book, from, to, cut, fixed(revenue), fixed(expense), fixed(revenue.minus(expense))]);
          expect(report.to).toBe(through);
        }
      }
    }
  });

  it('shows the bank charge as an expense as of a position before its reversal, and nothing after it', async () => {
    const reversal = (await pool().query<{ p: string }>('SELECT global_position::text AS p FROM journal_entries WHERE entry_id = $1', [world.bank_charge_reversal])).rows[0]!;
    const period = { book_id: isp(), from: '2026-12-01', to: '2026-12-31' };
    const before = await incomeStatement(pool(), { ...period, as_of: `position:${BigInt(reversal.p) - 1n}` });
    const after = await incomeStatement(pool(), period);
    expect(before.expenses.accounts.find((account) => account.code === '5300')!.amount).toBe('12.50');
    expect(after.expenses.accounts.find((account) => account.code === '5300')!.amount).toBe('0.00');
  });
});

describe('journal', () => {
  it('pages through every entry in date and log order, each balanced, the same as one page', async () => {
    for (const book of world.books) {
      const all: JournalEntryView[] = [];
      let after: string | undefined;
      for (let page = 0; page < 1_000; page += 1) {
        const result = await journal(pool(), { book_id: book, limit: 7, ...(after === undefined ? {} : { after }) });
        all.push(...result.entries);
        if (result.next === null) break;
        after = result.next;
      }
      const whole = await journal(pool(), { book_id: book, limit: 1_000 });
      expect(all).toEqual(whole.entries);
      expect(new Set(all.map((entry) => entry.entry_id)).size).toBe(new Set(linesOf(book).map((line) => line.entry_id)).size);
      for (const [index, entry] of all.entries()) {
        const previous = all[index - 1];
        if (previous !== undefined) expect(previous.date <= entry.date).toBe(true);
        const debit = entry.lines.reduce((total, line) => total.plus(line.debit), new Decimal(0));
        const credit = entry.lines.reduce((total, line) => total.plus(line.credit), new Decimal(0));
        expect(debit.equals(credit)).toBe(true);
        expect(entry.lines.length).toBeGreaterThanOrEqual(2);
      }
    }
  });

  it('keeps to the period and the cut, and shows a reversal only once it is within the cut', async () => {
    const december = await journal(pool(), { book_id: isp(), from: '2026-12-01', to: '2026-12-31', limit: 1_000 });
    expect(december.entries.every((entry) => entry.date >= '2026-12-01' && entry.date <= '2026-12-31')).toBe(true);
    const charge = december.entries.find((entry) => entry.entry_id === world.bank_charge_entry)!;
    const reversal = december.entries.find((entry) => entry.entry_id === world.bank_charge_reversal)!;
    expect(charge.reversed_by_entry_id).toBe(world.bank_charge_reversal);
    expect(reversal).toMatchObject({ kind: 'reversal', reverses_entry_id: world.bank_charge_entry, date: '2026-12-06' });
    expect(reversal.lines.map((line) => [line.account_code, line.debit, line.credit])).toEqual(charge.lines.map((line) => [line.account_code, line.credit, line.debit]));
    const before = await journal(pool(), { book_id: isp(), as_of: `position:${BigInt(reversal.global_position) - 1n}`, limit: 1_000 });
    expect(before.entries.find((entry) => entry.entry_id === world.bank_charge_entry)!.reversed_by_entry_id).toBeNull();
    expect(before.entries.some((entry) => entry.entry_id === world.bank_charge_reversal)).toBe(false);
    const asOfDate = await journal(pool(), { book_id: isp(), as_of: '2026-11-30', limit: 1_000 });
    expect(asOfDate.entries.every((entry) => entry.date <= '2026-11-30')).toBe(true);
    expect(asOfDate.entries[0]!.memo).toBe("Owner's capital paid into the bank");
  });

  it('says where the entries came from: the source event of every system entry', async () => {
    const page = await journal(pool(), { book_id: reseller(), limit: 1_000 });
    const events = await pool().query<{ event_id: string; type: string }>('SELECT event_id::text AS event_id, type FROM events');
    const types = new Map(events.rows.map((row) => [row.event_id, row.type]));
    for (const entry of page.entries) expect(types.get(entry.source_event_id)).toBe(entry.source_type);
  });
});

describe('general ledger', () => {
  const check = (report: Ledger, book: string, account: string, party: string | null, cut: NaiveCut, from: string | undefined): void => {
    const own = linesOf(book).filter((line) => line.account === account && (party === null || line.party === party));
    const normal = report.account.normal_side === 'debit' ? 1 : -1;
    const opening = from === undefined ? new Decimal(0) : own.filter((line) => within(line, cut) && line.date < from).reduce((total, line) => total.plus(line.debit.minus(line.credit).times(normal)), new Decimal(0));
    const inRange = own.filter((line) => within(line, { ...cut, ...(from === undefined ? {} : { from }) }));
    expect(report.opening).toBe(fixed(opening));
    expect(report.lines.map((line) => [line.entry_id, line.line_no])).toEqual(inRange.map((line) => [line.entry_id, line.line_no]));
    let running = opening;
    for (const [index, line] of inRange.entries()) {
      running = running.plus(line.debit.minus(line.credit).times(normal));
      expect(report.lines[index]!.balance).toBe(fixed(running));
    }
    expect(report.closing).toBe(fixed(running));
  };

  it('runs each account’s balance from its opening through the period, as of dates and positions, with and without a party', async () => {
    const cases = [
      { book: isp(), account: '1010', party: null },
      { book: isp(), account: '1020', party: null },
      { book: isp(), account: '2100', party: reseller() },
      { book: reseller(), account: '1200', party: isp() },
      { book: sub(), account: '1100', party: world.scenario.monthly },
      { book: sub(), account: '4100', party: null },
    ];
    for (const { book, account, party } of cases) {
      for (const from of [undefined, '2026-11-16', '2026-12-01', '2027-02-01']) {
        for (const cut of [{}, { date: '2026-11-30' }, { date: '2027-02-15' }, { position: world.scenario_end }, { position: 170_100n }, { position: 250_005n }]) {
          const report = await generalLedger(pool(), { book_id: book, account, ...(party === null ? {} : { party }), as_of: asOfString(cut), ...(from === undefined ? {} : { from }), limit: 10_000 });
          check(report, book, account, party, cut, from);
        }
      }
    }
  });

  it('carries the balance across pages', async () => {
    const whole = await generalLedger(pool(), { book_id: sub(), account: '4100', from: '2026-11-16', limit: 10_000 });
    let after: string | undefined;
    const paged: Ledger['lines'][number][] = [];
    for (let page = 0; page < 100; page += 1) {
      const result = await generalLedger(pool(), { book_id: sub(), account: '4100', from: '2026-11-16', limit: 2, ...(after === undefined ? {} : { after }) });
      if (page > 0) expect(result.page_opening).toBe(paged[paged.length - 1]!.balance);
      paged.push(...result.lines);
      if (result.next === null) break;
      after = result.next;
    }
    expect(paged).toEqual(whole.lines);
    expect(whole.lines.length).toBeGreaterThan(4);
  });
});

describe('customer statement', () => {
  it("lists one customer's account with its opening, running and closing balances", async () => {
    const customer = world.scenario.monthly;
    for (const cut of [{}, { date: '2027-01-31' }, { position: 250_003n }]) {
      for (const from of [undefined, '2027-01-01']) {
        const report = await customerStatement(pool(), { book_id: sub(), customer_id: customer, as_of: asOfString(cut), ...(from === undefined ? {} : { from }) });
        const own = linesOf(sub()).filter((line) => line.account === '1100' && line.party === customer && within(line, cut));
        const opening = own.filter((line) => from !== undefined && line.date < from).reduce((total, line) => total.plus(line.debit).minus(line.credit), new Decimal(0));
        const closing = own.reduce((total, line) => total.plus(line.debit).minus(line.credit), new Decimal(0));
        expect([report.opening, report.closing, report.lines.length]).toEqual([fixed(opening), fixed(closing), own.filter((line) => from === undefined || line.date >= from).length]);
        expect(report.lines[report.lines.length - 1]?.balance ?? report.opening).toBe(report.closing);
        expect(report.owner).toBe(sub());
      }
    }
    const now = await customerStatement(pool(), { book_id: sub(), customer_id: customer });
    // 250.00 + 500 + 500 + 500 billed, 200 + 300 paid.
    expect(now.closing).toBe('1250.00');
    expect(now.lines.filter((line) => line.due_on !== null).map((line) => line.due_on)).toEqual(['2026-12-11', '2027-01-07', '2027-02-06', '2027-03-07']);
  });

  it('refuses a customer the book does not keep', async () => {
    expect(await codeOf(customerStatement(pool(), { book_id: isp(), customer_id: world.scenario.monthly }))).toBe('CUSTOMER_NOT_FOUND');
    expect(await codeOf(customerStatement(pool(), { book_id: sub(), customer_id: 'cus-nobody' }))).toBe('CUSTOMER_NOT_FOUND');
  });
});

describe('reseller statement', () => {
  it('shows commission earned, the wallet with the parent and what each child is owed, matching the lines and the other side', async () => {
    for (const cut of [{}, { date: '2026-11-30' }, { position: world.scenario_end }, { position: 170_050n }]) {
      for (const [from, to] of [
        ['2026-11-01', '2026-11-30'],
        ['2026-12-01', '2027-03-31'],
      ] as const) {
        const statement = await resellerStatement(pool(), { book_id: reseller(), from, to, as_of: asOfString(cut) });
        const through = cut.date !== undefined && cut.date < to ? cut.date : to;
        const period = naiveNet(linesOf(reseller()), { ...cut, date: through, from }, (line) => line.account);
        expect(statement.commission_earned).toBe(fixed(netOf(period.get('4100')).negated()));
        const closingCut = { ...cut, date: through };
        const openingCut = { ...cut, date: cut.date !== undefined && cut.date < dayBefore(from) ? cut.date : dayBefore(from) };
        const wallet = (c: NaiveCut) => netOf(naiveNet(linesOf(reseller()), c, (line) => `${line.account}/${line.party}`).get(`1200/${isp()}`));
        expect(statement.wallet).toMatchObject({ operator_id: isp(), closing: fixed(wallet(closingCut)), opening: fixed(wallet(openingCut)) });
        const child = (c: NaiveCut) => netOf(naiveNet(linesOf(reseller()), c, (line) => `${line.account}/${line.party}`).get(`2100/${sub()}`)).negated();
        expect(statement.children).toEqual([{ operator_id: sub(), name: 'Sub S', opening: fixed(child(openingCut)), closing: fixed(child(closingCut)) }]);
        // The mirror: the ISP's payable to the reseller is the reseller's receivable from the ISP.
        const ispSide = await resellerStatement(pool(), { book_id: isp(), from, to, as_of: asOfString(cut) });
        expect(ispSide.children.find((row) => row.operator_id === reseller())!.closing).toBe(statement.wallet!.closing);
        expect(ispSide.wallet).toBeNull();
        // Payment by payment, the operators read model tells the same commission (nothing of this book was re-dated).
        expect(statement.commission_lines_total).toBe(statement.commission_earned);
      }
    }
  });

  it("counts a manual commission entry in 4100 but not among the payment-by-payment lines", async () => {
    const statement = await resellerStatement(pool(), { book_id: sub(), from: '2027-03-01', to: '2027-03-31' });
    expect(new Decimal(statement.commission_earned).minus(statement.commission_lines_total!).toFixed(2)).toBe('75.00');
  });
});

function dayBefore(date: string): string {
  const day = new Date(`${date}T00:00:00Z`);
  day.setUTCDate(day.getUTCDate() - 1);
  return day.toISOString().slice(0, 10);
}

describe('AR aging', () => {
  it('ages each customer first in, first out, by due date, the same as the obvious walk over every line', async () => {
    for (const cut of [{}, { date: '2027-02-15' }, { date: '2026-12-31' }, { position: 250_004n }, { position: world.scenario_end }]) {
      // Days on which a bill's due date and its entry date fall in different buckets, and days far on.
      for (const aged_on of ['2027-02-04', '2027-03-02', '2027-03-05', '2027-03-20', '2027-05-15', '2027-12-31']) {
        const report = await arAging(pool(), { book_id: sub(), as_of: asOfString(cut), aged_on });
        const naive = naiveAging(linesOf(sub()), cut, aged_on);
        expect(new Map(report.customers.map(({ customer_id, ...rest }) => [customer_id, rest]))).toEqual(naive);
      }
    }
  });

  it('puts the open bills of the worked history in the expected buckets', async () => {
    const report = await arAging(pool(), { book_id: sub(), as_of: '2027-05-15' });
    expect(report.aged_on).toBe('2027-05-15');
    expect(report.customers.find((row) => row.customer_id === world.scenario.monthly)).toMatchObject({
      balance: '1250.00',
      current: '0.00',
      days_1_30: '0.00',
      days_31_60: '0.00',
      days_61_90: '500.00',
      over_90: '750.00',
    });
    expect(report.customers.find((row) => row.customer_id === world.scenario.hotspot)).toMatchObject({ balance: '75.00', days_61_90: '75.00' });
    expect(report.totals.balance).toBe('1325.00');
    // Aged by due date, not entry date: the March bill (entered 03-02, due 03-07) is not yet due on 03-05.
    const early = await arAging(pool(), { book_id: sub(), aged_on: '2027-03-05' });
    expect(early.customers.find((row) => row.customer_id === world.scenario.monthly)).toMatchObject({ current: '500.00', days_1_30: '500.00', days_31_60: '250.00' });
  });
});

describe('the book commands the reports follow', () => {
  it('reverses an entry once, and refuses an entry in a closed period', async () => {
    expect(world.refused).toEqual({ second_reversal: 'ENTRY_ALREADY_REVERSED', entry_in_closed_period: 'PERIOD_CLOSED' });
    const reversals = await pool().query('SELECT entry_id FROM journal_entries WHERE reverses_entry_id = $1', [world.bank_charge_entry]);
    expect(reversals.rows).toEqual([{ entry_id: world.bank_charge_reversal }]);
    const closed = await trialBalance(pool(), { book_id: sub() });
    expect(closed.book.closed_through).toBe('2026-11-30');
    expect(linesOf(sub()).some((line) => line.entry_id.startsWith('man-') && line.date === '2026-11-20')).toBe(false);
  });
});

describe('bad input', () => {
  it('is refused with a coded error, and nothing is written', async () => {
    const count = async () =>
      (await pool().query<{ events: string; lines: string }>('SELECT (SELECT count(*) FROM events)::text AS events, (SELECT count(*) FROM journal_lines)::text AS lines')).rows[0];
    const before = await count();
    const book_id = isp();
    const refusals: [string, Promise<unknown>][] = [
      ['BOOK_NOT_FOUND', trialBalance(pool(), { book_id: 'no-such-book' })],
      ['BOOK_NOT_FOUND', trialBalance(pool(), { book_id, tenant: 'another-isp' })],
      ['INVALID_INPUT', trialBalance(pool(), { book_id, as_of: '2026-13-01' })],
      ['INVALID_INPUT', trialBalance(pool(), { book_id, as_of: 'yesterday' })],
      ['INVALID_INPUT', trialBalance(pool(), { book_id, as_of: 'position:-1' })],
      ['INVALID_INPUT', trialBalance(pool(), { book_id: '' })],
      ['INVALID_INPUT', trialBalance(pool(), { book_id, extra: 1 } as never)],
      ['INVALID_INPUT', balanceSheet(pool(), { book_id, as_of: '2026-11-31' })],
      ['INVALID_INPUT', incomeStatement(pool(), { book_id, from: '2026-12-01', to: '2026-11-01' })],
      ['INVALID_INPUT', incomeStatement(pool(), { book_id } as never)],
      ['BOOK_NOT_FOUND', incomeStatement(pool(), { book_id: 'nope', from: '2026-11-01', to: '2026-11-30' })],
      ['INVALID_INPUT', journal(pool(), { book_id, limit: 0 })],
      ['INVALID_INPUT', journal(pool(), { book_id, limit: 1.5 })],
      ['INVALID_CURSOR', journal(pool(), { book_id, after: 'forged' })],
      ['INVALID_CURSOR', journal(pool(), { book_id, after: Buffer.from(JSON.stringify(['2026-11-01', 'x', 'y'])).toString('base64url') })],
      ['ACCOUNT_NOT_FOUND', generalLedger(pool(), { book_id, account: '1999' })],
      ['INVALID_INPUT', generalLedger(pool(), { book_id, account: 'cash' })],
      ['INVALID_INPUT', generalLedger(pool(), { book_id, account: '1010', party: 'someone' })],
      ['INVALID_CURSOR', generalLedger(pool(), { book_id, account: '1010', after: 'bm90IGEgY3Vyc29y' })],
      ['INVALID_INPUT', resellerStatement(pool(), { book_id, from: '2027-01-01', to: '2026-01-01' })],
      ['INVALID_INPUT', customerStatement(pool(), { book_id, customer_id: '' })],
      ['INVALID_INPUT', arAging(pool(), { book_id })],
      ['INVALID_INPUT', arAging(pool(), { book_id, as_of: 'position:5' })],
      ['INVALID_INPUT', arAging(pool(), { book_id, aged_on: '31/12/2026' })],
      ['BOOK_NOT_FOUND', arAging(pool(), { book_id: 'nope', aged_on: '2026-12-31' })],
    ];
    const codes = await Promise.all(refusals.map(async ([, work]) => codeOf(work)));
    expect(codes).toEqual(refusals.map(([code]) => code));
    expect(await count()).toEqual(before);
  });

  it('names what was wrong', async () => {
    await expect(trialBalance(pool(), { book_id: isp(), as_of: 'yesterday' })).rejects.toThrow(/as_of: "yesterday" is neither a date \(YYYY-MM-DD\) nor position:<n>/);
    await expect(incomeStatement(pool(), { book_id: isp(), from: '2026-12-01', to: '2026-11-01' })).rejects.toThrow(/starts \(2026-12-01\) after it ends \(2026-11-01\)/);
  });
});
