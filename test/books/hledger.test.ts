import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Decimal } from 'decimal.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportHledgerJournal } from '../../projections/queries/books-hledger.js';
import { trialBalance } from '../../projections/queries/books-statements.js';
import { buildBooksWorld, closeBooksWorld, fixed, naiveLines, naiveNet, type BooksWorld, type NaiveCut } from './fixture.js';

/**
 * The independent check: each book's journal exported as hledger text and read by the real `hledger` (Debian
 * package `hledger`). `hledger check` with the strict checks must pass, and `hledger balance` must agree with
 * our trial balance to the minor unit, account by account and party by party. Then the same through the
 * `ispbills` command line.
 */
const run = promisify(execFile);
let world: BooksWorld;
let directory: string;
let hledger: string;

/** hledger, installed from Debian when missing and we can (root + apt-get); otherwise every test here fails. */
function ensureHledger(): string {
  const works = (): boolean => spawnSync('hledger', ['--version'], { stdio: 'ignore' }).status === 0;
  if (works()) return 'hledger';
  const canInstall = process.getuid?.() === 0 && spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;
  if (canInstall) {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    try {
      execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'hledger'], { stdio: 'ignore', env });
    } catch {
      execFileSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env });
      execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'hledger'], { stdio: 'ignore', env });
    }
    if (works()) return 'hledger';
  }
  throw new Error(
    'the books are checked by the real hledger (Debian package `hledger`), which is missing and could not be installed here; ' +
      'install it (sudo apt-get install -y hledger) and run the tests again',
  );
}

beforeAll(async () => {
  hledger = ensureHledger();
  directory = await mkdtemp(path.join(os.tmpdir(), 'ispbills-hledger-'));
  world = await buildBooksWorld();
}, 180_000);

afterAll(async () => {
  await closeBooksWorld(world);
  if (directory !== undefined) await rm(directory, { recursive: true, force: true });
});

async function hledgerRun(file: string, args: readonly string[]): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(hledger, ['-f', file, ...args], { maxBuffer: 64 * 1024 * 1024 });
    return { ok: true, stdout, stderr };
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string };
    return { ok: false, stdout: failed.stdout ?? '', stderr: failed.stderr ?? String(error) };
  }
}

async function exportTo(book_id: string, as_of: string | undefined, name: string): Promise<{ file: string; text: string; entries: number }> {
  let text = '';
  const summary = await exportHledgerJournal(world.database.pool, { book_id, ...(as_of === undefined ? {} : { as_of }) }, (chunk) => {
    text += chunk;
  });
  const file = path.join(directory, `${name}.journal`);
  await writeFile(file, text);
  return { file, text, entries: summary.entries };
}

/** `hledger balance -O csv` as account name → amount in minor-unit-exact text ("0" → "0.00"). */
function parseBalanceCsv(csv: string): Map<string, string> {
  const amounts = new Map<string, string>();
  for (const line of csv.trim().split('\n').slice(1)) {
    const match = /^"(.*)","(.*)"$/.exec(line.trim());
    if (match === null) throw new Error(`unexpected hledger balance line: ${line}`);
    const amount = /^(-?\d+(?:\.\d+)?)(?: BDT)?$/.exec(match[2]!);
    if (amount === null) throw new Error(`unexpected hledger amount: ${match[2]}`);
    amounts.set(match[1]!, new Decimal(amount[1]!).toFixed(2));
  }
  return amounts;
}

const HLEDGER_NAME = /^(assets|liabilities|equity|revenue|expenses):(\d{4}) [^:]*(?::(.+))?$/;

const asOfString = (cut: NaiveCut): string | undefined => (cut.date !== undefined ? cut.date : cut.position !== undefined ? `position:${cut.position}` : undefined);

describe('hledger reads our journal export', () => {
  it('passes `hledger check` and the strict checks, and `hledger balance` agrees with our trial balance to the minor unit', async () => {
    const cuts: NaiveCut[] = [{}, { date: '2026-11-30' }, { position: world.scenario_end }, { position: 170_050n }, { date: '2027-02-15' }];
    for (const book of world.books) {
      const lines = await naiveLines(world, book);
      for (const [index, cut] of cuts.entries()) {
        const as_of = asOfString(cut);
        const exported = await exportTo(book, as_of, `${book}-${index}`);
        const basic = await hledgerRun(exported.file, ['check']);
        expect(basic, basic.stderr).toMatchObject({ ok: true });
        const strict = await hledgerRun(exported.file, ['check', 'accounts', 'commodities', 'ordereddates']);
        expect(strict, strict.stderr).toMatchObject({ ok: true });

        // Account by account (depth 2 is the account code level; -E keeps the zero ones).
        const byAccount = await hledgerRun(exported.file, ['balance', '-E', '--depth', '2', '-O', 'csv']);
        expect(byAccount.ok, byAccount.stderr).toBe(true);
        const theirs = parseBalanceCsv(byAccount.stdout);
        const ours = await trialBalance(world.database.pool, { book_id: book, ...(as_of === undefined ? {} : { as_of }) });
        expect(theirs.get('total')).toBe('0.00');
        // hledger lists every account with postings (-E: even when they net to zero), not the declared-only ones.
        const posted = ours.accounts.filter((account) => account.debit !== '0.00' || account.credit !== '0.00');
        for (const account of posted) {
          const name = [...theirs.keys()].find((candidate) => HLEDGER_NAME.exec(candidate)?.[2] === account.code && HLEDGER_NAME.exec(candidate)?.[3] === undefined);
          expect(name, `account ${account.code} is missing from hledger's balance`).toBeDefined();
          expect([account.code, theirs.get(name!)]).toEqual([account.code, new Decimal(account.debit).minus(account.credit).toFixed(2)]);
        }
        expect(theirs.size).toBe(posted.length + 1);

        // Party by party: hledger's per-party sub-accounts against the lines summed by hand.
        const flat = await hledgerRun(exported.file, ['balance', '--flat', '-O', 'csv']);
        const parties = naiveNet(lines, cut, (line) => (line.party === null ? '' : `${line.account}/${line.party}`));
        parties.delete('');
        let seen = 0;
        for (const [name, amount] of parseBalanceCsv(flat.stdout)) {
          const match = HLEDGER_NAME.exec(name);
          if (match?.[3] === undefined) continue;
          const expected = parties.get(`${match[2]}/${match[3]}`);
          expect([name, amount]).toEqual([name, fixed(expected === undefined ? new Decimal(0) : expected.debit.minus(expected.credit))]);
          seen += 1;
        }
        expect(seen).toBe([...parties.values()].filter((totals) => !totals.debit.equals(totals.credit)).length);

        // Every transaction carries its entry id and source event as two tags.
        const tags = await hledgerRun(exported.file, ['tags', '^entry$', '--values']);
        expect(tags.stdout.trim() === '' ? 0 : tags.stdout.trim().split('\n').length).toBe(exported.entries);
      }
    }
  });

  it('writes what the accountant expects to read', async () => {
    const { text } = await exportTo(world.scenario.reseller, undefined, 'reseller-text');
    expect(text).toContain('commodity 100000.00 BDT');
    expect(text).toContain('account assets:1020 Payment gateway clearing  ; type:A');
    expect(text).toContain('account revenue:4100 Commission income  ; type:R');
    expect(text).toContain(`account liabilities:2100 Payable to child operators (wallets):${world.scenario.sub_reseller}  ; type:L`);
    expect(text).toMatch(/^\d{4}-\d{2}-\d{2} \* Payment 500\.00 BDT \(online\) from customer /m);
    expect(text).toMatch(/^ {4}; entry:[^,]+\/res-[^,]+, event:[0-9a-f-]{36}, position:\d+$/m);
    expect(text).toMatch(new RegExp(`^ {4}assets:1200 Receivable from parent operator \\(wallet\\):${world.scenario.tenant} {4}\\d+\\.\\d{2} BDT$`, 'm'));
    expect(text).toMatch(/^ {4}revenue:4100 Commission income {4}-\d+\.\d{2} BDT$/m);
  });

  it('is checked for real: an undeclared account or an unbalanced transaction makes hledger fail', async () => {
    const { file, text } = await exportTo(world.scenario.tenant, undefined, 'isp-broken');
    await writeFile(file, `${text}\n2027-12-31 * tampered\n    assets:9999 Nowhere    1.00 BDT\n    equity:3000 Owner's equity    -1.00 BDT\n`);
    expect((await hledgerRun(file, ['check', 'accounts'])).ok).toBe(false);
    await writeFile(file, `${text}\n2027-12-31 * tampered\n    assets:1000 Cash on hand    1.00 BDT\n    equity:3000 Owner's equity    -0.99 BDT\n`);
    expect((await hledgerRun(file, ['check'])).ok).toBe(false);
  });
});

// --- the command line -------------------------------------------------------------------------------------------

async function ispbills(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, DATABASE_URL: world.database.url, LOG_LEVEL: 'warn', DATABASE_POOL_SIZE: '4' };
  try {
    const { stdout, stderr } = await run(process.execPath, ['bin/ispbills.js', ...args], { env, maxBuffer: 64 * 1024 * 1024, cwd: path.resolve(import.meta.dirname, '../..') });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

/** Runs the commands two at a time: each is a whole process start, and the machine has two cores. */
async function inTurn<Result>(work: readonly (() => Promise<Result>)[]): Promise<Result[]> {
  const results: Result[] = new Array(work.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < work.length) {
      const index = next++;
      results[index] = await work[index]!();
    }
  };
  await Promise.all([worker(), worker()]);
  return results;
}

// Each command starts a process that loads the whole program: allow minutes, not the default minute.
const CLI_TIMEOUT_MS = 600_000;

describe('ispbills books, report and export', () => {
  it('lists the books and prints every report, as a table and as the same JSON the queries return', { timeout: CLI_TIMEOUT_MS }, async () => {
    const { tenant, reseller, sub_reseller, monthly } = world.scenario;
    const books = await ispbills(['books', '--json']);
    expect(books.code, books.stderr).toBe(0);
    expect((JSON.parse(books.stdout) as { book_id: string }[]).map((book) => book.book_id).sort()).toEqual([tenant, reseller, sub_reseller].sort());

    const json = await ispbills(['report', 'trial-balance', '--book', tenant, '--as-of', '2026-11-30', '--json']);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual(await trialBalance(world.database.pool, { book_id: tenant, as_of: '2026-11-30' }));

    const tables: [readonly string[], RegExp][] = [
      [['trial-balance', '--book', tenant], /^Trial balance — book .*\n[\s\S]*1010 +Bank +asset +105012\.50 +12\.50 +105000\.00/m],
      [['balance-sheet', '--book', reseller, '--as-of', `position:${world.scenario_end}`], /Total liabilities and equity/],
      [['income-statement', '--book', tenant, '--from', '2026-11-01', '--to', '2026-12-31'], /Net income/],
      [['journal', '--book', sub_reseller, '--limit', '3'], /more: --after \S+/],
      [['ledger', '--book', tenant, '--account', '1010', '--from', '2026-12-01'], /Opening balance +105000\.00[\s\S]*Closing balance +105000\.00/],
      [['reseller-statement', '--book', reseller, '--from', '2026-11-01', '--to', '2027-03-31'], /Commission earned \(4100\): \d+\.\d{2} BDT/],
      [['customer-statement', '--book', sub_reseller, '--customer', monthly], /Closing balance +1250\.00/],
      [['ar-aging', '--book', sub_reseller, '--as-of', '2027-05-15'], /Total +1325\.00 +0\.00 +0\.00 +0\.00 +575\.00 +750\.00 +0\.00/],
    ];
    const outputs = await inTurn(tables.map(([args]) => () => ispbills(['report', ...args])));
    for (const [index, [args, expected]] of tables.entries()) {
      const output = outputs[index]!;
      expect([args, output.code, output.stderr]).toEqual([args, 0, '']);
      expect(output.stdout).toMatch(expected);
    }
  });

  it('refuses bad input with the error code and exit status 1', { timeout: CLI_TIMEOUT_MS }, async () => {
    const cases: [readonly string[], string][] = [
      [['report', 'trial-balance', '--book', 'no-such-book'], 'BOOK_NOT_FOUND'],
      [['report', 'trial-balance', '--book', world.scenario.tenant, '--as-of', 'last tuesday'], 'INVALID_INPUT'],
      [['report', 'ledger', '--book', world.scenario.tenant], 'INVALID_INPUT'],
      [['report', 'journal', '--book', world.scenario.tenant, '--limit', 'many'], 'INVALID_INPUT'],
      [['export', 'journal', '--book', world.scenario.tenant, '--format', 'docx'], 'INVALID_INPUT'],
      // A spreadsheet is binary: it is written to a file, never to the terminal.
      [['export', 'journal', '--book', world.scenario.tenant, '--format', 'xlsx'], 'INVALID_INPUT'],
    ];
    const outputs = await inTurn(cases.map(([args]) => () => ispbills(args)));
    for (const [index, [args, code]] of cases.entries()) {
      expect([args, outputs[index]!.code, outputs[index]!.stderr]).toEqual([args, 1, expect.stringContaining(`[${code}]`)]);
    }
  });

  it('exports a journal to a file that hledger checks, the same text the query writes', { timeout: CLI_TIMEOUT_MS }, async () => {
    const file = path.join(directory, 'cli-sub.journal');
    const result = await ispbills(['export', 'journal', '--book', world.scenario.sub_reseller, '--format', 'hledger', '--as-of', '2027-02-15', '--out', file]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/^exported \d+ entries \(\d+ postings, \d+ accounts\) of book sub-/);
    const strict = await hledgerRun(file, ['check', 'accounts', 'commodities', 'ordereddates']);
    expect(strict, strict.stderr).toMatchObject({ ok: true });
    const { text } = await exportTo(world.scenario.sub_reseller, '2027-02-15', 'sub-direct');
    expect(await readFile(file, 'utf8')).toBe(text);
  });
});
