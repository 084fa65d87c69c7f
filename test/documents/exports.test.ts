import { createWriteStream, readFileSync } from 'node:fs';
import path from 'node:path';
import { Decimal } from 'decimal.js';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCsv } from '../../documents/auditor-package.js';
import { csvField } from '../../documents/csv.js';
import { exportTable, type ExportFormat } from '../../documents/exports.js';
import { MoneyFormat } from '../../documents/money-format.js';
import { billsTable, cardBatchesTable, collectionsTable, customersTable, generalLedgerTable, journalTable, paymentsTable, trialBalanceTable, type ExportTable } from '../../documents/tables.js';
import { dayDate, spreadsheetNumber } from '../../documents/xlsx.js';
import { journal } from '../../projections/queries/books-journal.js';
import { trialBalance } from '../../projections/queries/books-statements.js';
import { ARTIFACTS, keep, libreOfficeCsv } from './poppler.js';
import { buildDocumentsWorld, type DocumentsWorld } from './world.js';

/**
 * Every table export written as XLSX and read back with exceljs (numbers are numbers in the taka format and equal
 * the report or the read model, days are dates, the header is frozen and filtered, columns have widths), the
 * same rows as CSV, and one workbook opened by LibreOffice to prove another program accepts it.
 */
let world: DocumentsWorld;
const at = new Date('2027-01-06T09:00:00Z');
const money = new MoneyFormat('BDT', 'en-BD');
const pool = () => world.database.pool;
const isp = () => ({ tenant: world.tenant, operator_id: null, customer_id: null });

beforeAll(async () => {
  world = await buildDocumentsWorld();
}, 180_000);
afterAll(async () => world?.close());

async function written(table: ExportTable, format: ExportFormat): Promise<string> {
  const file = path.join(ARTIFACTS, `${table.name}.${format}`);
  keep(`${table.name}.${format}`, '');
  await exportTable(pool(), table, format, createWriteStream(file), { created_at: at });
  return file;
}

type Sheet = Readonly<{ header: string[]; rows: ExcelJS.CellValue[][]; worksheet: ExcelJS.Worksheet }>;

async function readXlsx(file: string): Promise<Sheet> {
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.readFile(file);
  const worksheet = workbook.worksheets[0]!;
  const all: ExcelJS.CellValue[][] = [];
  worksheet.eachRow({ includeEmpty: false }, (row) => {
    const values = row.values as ExcelJS.CellValue[];
    all.push(values.slice(1));
  });
  const [header, ...rows] = all;
  return { header: (header ?? []).map(String), rows, worksheet };
}

const column = (sheet: Sheet, name: string): number => {
  const index = sheet.header.indexOf(name);
  if (index === -1) throw new Error(`no column ${name} in ${sheet.header.join(', ')}`);
  return index;
};
const decimal = (value: ExcelJS.CellValue | string | undefined): Decimal => new Decimal(value === null || value === undefined || value === '' ? 0 : String(value));
const sum = (values: readonly (ExcelJS.CellValue | string | undefined)[]): Decimal => values.reduce<Decimal>((total, value) => total.plus(decimal(value)), new Decimal(0));

/** The typed-cell promises every workbook keeps. */
function expectWellFormed(sheet: Sheet, table: ExportTable): void {
  expect(sheet.header).toEqual(table.columns.map((c) => c.header));
  expect(sheet.worksheet.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 });
  expect(sheet.worksheet.autoFilter).toBeTruthy();
  table.columns.forEach((definition, index) => {
    expect(sheet.worksheet.getColumn(index + 1).width).toBe(definition.width);
    for (const row of sheet.rows) {
      const value = row[index];
      if (value === null || value === undefined) continue;
      if (definition.type === 'money' || definition.type === 'integer') expect(typeof value, `${definition.header} is a number`).toBe('number');
      if (definition.type === 'day' || definition.type === 'instant') expect(value, `${definition.header} is a date`).toBeInstanceOf(Date);
      if (definition.type === 'text') expect(typeof value, `${definition.header} is text`).toBe('string');
    }
    if (definition.type === 'money') {
      const cell = sheet.worksheet.getRow(2).getCell(index + 1);
      if (cell.value !== null) expect(cell.numFmt).toBe(money.spreadsheetFormat());
    }
  });
}

describe('money as a spreadsheet number', () => {
  it('survives exactly up to 15 significant digits and is refused beyond', () => {
    expect(spreadsheetNumber('1234.50', 2)).toBe(1234.5);
    expect(spreadsheetNumber('-0.01', 2)).toBe(-0.01);
    expect(spreadsheetNumber('9999999999999.99', 2)).toBe(9999999999999.99);
    expect(() => spreadsheetNumber('99999999999999.99', 2)).toThrow(/15 significant digits/);
    expect(money.spreadsheetFormat()).toBe('"৳"#,##0.00;-"৳"#,##0.00');
    expect(dayDate('2026-11-30').toISOString()).toBe('2026-11-30T00:00:00.000Z');
    expect(csvField('=HYPERLINK("x")', 'text')).toBe('"\'=HYPERLINK(""x"")"');
    expect(csvField('+8801711000001', 'text')).toBe('+8801711000001');
    expect(csvField('-5', 'money')).toBe('-5');
  });
});

describe('table exports', () => {
  it('trial balance: every account’s figures equal the report, in XLSX and CSV', async () => {
    const table = trialBalanceTable({ book_id: world.tenant });
    const report = await trialBalance(pool(), { book_id: world.tenant });
    const sheet = await readXlsx(await written(table, 'xlsx'));
    expectWellFormed(sheet, table);
    expect(sheet.rows).toHaveLength(report.accounts.length + 1);
    for (const account of report.accounts) {
      const row = sheet.rows.find((candidate) => candidate[0] === account.code)!;
      expect(decimal(row[column(sheet, 'Debits')]).equals(decimal(account.debit))).toBe(true);
      expect(decimal(row[column(sheet, 'Credits')]).equals(decimal(account.credit))).toBe(true);
      expect(decimal(row[column(sheet, 'Debit balance')]).equals(decimal(account.balance_debit))).toBe(true);
      expect(decimal(row[column(sheet, 'Credit balance')]).equals(decimal(account.balance_credit))).toBe(true);
    }
    const total = sheet.rows[sheet.rows.length - 1]!;
    expect(total[1]).toBe('Total');
    expect(decimal(total[column(sheet, 'Debits')]).equals(decimal(report.totals.debit))).toBe(true);
    const csv = parseCsv(readFileSync(await written(table, 'csv'), 'utf8'));
    expect(csv[0]).toEqual(table.columns.map((c) => c.header));
    expect(csv[csv.length - 1]).toEqual(['', 'Total', '', report.totals.debit, report.totals.credit, report.totals.balance_debit, report.totals.balance_credit]);
  });

  it('journal: one row per line, sums and entries equal the journal report', async () => {
    const table = journalTable({ book_id: world.scenario.sub_reseller });
    const report = await journal(pool(), { book_id: world.scenario.sub_reseller, limit: 1000 });
    const lines = report.entries.flatMap((entry) => entry.lines);
    const sheet = await readXlsx(await written(table, 'xlsx'));
    expectWellFormed(sheet, table);
    expect(sheet.rows).toHaveLength(lines.length);
    expect(sum(sheet.rows.map((row) => row[column(sheet, 'Debit')])).equals(sum(lines.map((line) => line.debit)))).toBe(true);
    expect(sum(sheet.rows.map((row) => row[column(sheet, 'Credit')])).equals(sum(lines.map((line) => line.credit)))).toBe(true);
    expect(new Set(sheet.rows.map((row) => row[column(sheet, 'Entry')]))).toEqual(new Set(report.entries.map((entry) => entry.entry_id)));
    const csv = parseCsv(readFileSync(await written(table, 'csv'), 'utf8'));
    expect(csv).toHaveLength(lines.length + 1);
    expect(sum(csv.slice(1).map((row) => row[6])).equals(sum(lines.map((line) => line.debit)))).toBe(true);
  });

  it('general ledger: every account’s closing balance is the trial balance’s, and its lines run to it', async () => {
    const table = generalLedgerTable({ book_id: world.tenant });
    const report = await trialBalance(pool(), { book_id: world.tenant });
    const sheet = await readXlsx(await written(table, 'xlsx'));
    expectWellFormed(sheet, table);
    for (const account of report.accounts) {
      const rows = sheet.rows.filter((row) => row[0] === account.code);
      if (/^-?0(\.0+)?$/.test(account.balance) && rows.length === 0) continue;
      const closing = rows.find((row) => row[column(sheet, 'Row')] === 'closing')!;
      expect(decimal(closing[column(sheet, 'Balance')]).equals(decimal(account.balance)), `account ${account.code}`).toBe(true);
      const lines = rows.filter((row) => row[column(sheet, 'Row')] === 'line');
      expect(sum(lines.map((row) => row[column(sheet, 'Debit')])).equals(decimal(account.debit))).toBe(true);
      expect(sum(lines.map((row) => row[column(sheet, 'Credit')])).equals(decimal(account.credit))).toBe(true);
    }
    const csv = parseCsv(readFileSync(await written(table, 'csv'), 'utf8'));
    expect(csv).toHaveLength(sheet.rows.length + 1);
  });

  it('customers, bills, payments, collections and card batches equal their read models', async () => {
    const db = pool();
    // Each table: its count and total against the read model, and (where rows have an id) every row's amounts.
    const checks: readonly [ExportTable, string, string, string | null][] = [
      [customersTable(isp()), 'SELECT count(*)::int AS n, COALESCE(sum(balance_due), 0)::text AS total FROM customers WHERE tenant = $1', 'Balance due', 'SELECT customer_id AS id, balance_due::text AS a, credit::text AS b FROM customers WHERE tenant = $1'],
      [billsTable(isp()), 'SELECT count(*)::int AS n, COALESCE(sum(amount), 0)::text AS total FROM bills WHERE tenant = $1', 'Amount', 'SELECT bill_id AS id, amount::text AS a, open::text AS b FROM bills WHERE tenant = $1'],
      [paymentsTable(isp()), 'SELECT count(*)::int AS n, COALESCE(sum(amount), 0)::text AS total FROM payments WHERE tenant = $1', 'Amount', 'SELECT payment_id AS id, amount::text AS a, refunded::text AS b FROM payments WHERE tenant = $1'],
      [collectionsTable(isp()), 'SELECT count(*)::int AS n, COALESCE(sum(amount), 0)::text AS total FROM collections_daily WHERE tenant = $1', 'Amount (net of refunds)', null],
      [cardBatchesTable(isp(), at), "SELECT count(DISTINCT batch_id)::int AS n, COALESCE(sum(value) FILTER (WHERE status = 'redeemed'), 0)::text AS total FROM recharge_cards WHERE tenant = $1", 'Value redeemed', null],
    ];
    const secondAmount: Readonly<Record<string, string>> = { customers: 'Credit', bills: 'Open', payments: 'Refunded' };
    for (const [table, sql, amount, perRow] of checks) {
      const expected = (await db.query<{ n: number; total: string }>(sql, [world.tenant])).rows[0]!;
      const sheet = await readXlsx(await written(table, 'xlsx'));
      expectWellFormed(sheet, table);
      expect(sheet.rows, table.name).toHaveLength(expected.n);
      expect(sum(sheet.rows.map((row) => row[column(sheet, amount)])).equals(decimal(expected.total)), table.name).toBe(true);
      if (perRow !== null) {
        const byId = new Map(sheet.rows.map((row) => [String(row[0]), row]));
        for (const record of (await db.query<{ id: string; a: string; b: string }>(perRow, [world.tenant])).rows) {
          const row = byId.get(record.id);
          expect(row, `${table.name} ${record.id}`).toBeDefined();
          expect(decimal(row![column(sheet, amount)]).equals(decimal(record.a)), `${table.name} ${record.id} ${amount}`).toBe(true);
          expect(decimal(row![column(sheet, secondAmount[table.name]!)]).equals(decimal(record.b)), `${table.name} ${record.id}`).toBe(true);
        }
      }
      const csv = parseCsv(readFileSync(await written(table, 'csv'), 'utf8'));
      expect(csv, table.name).toHaveLength(expected.n + 1);
      expect(sum(csv.slice(1).map((row) => row[column(sheet, amount)])).equals(decimal(expected.total)), table.name).toBe(true);
    }
    expect(expected(world.bengali_name)).toBe(true);
    function expected(name: string): boolean {
      return readFileSync(path.join(ARTIFACTS, 'customers.csv'), 'utf8').includes(name);
    }
  });

  it('a sub-reseller sees only its subtree', async () => {
    const all = await readXlsx(await written(customersTable(isp()), 'xlsx'));
    const mine = await readXlsx(await written(customersTable({ tenant: world.tenant, operator_id: world.scenario.sub_reseller, customer_id: null }), 'xlsx'));
    const theirs = (await pool().query<{ n: number }>('SELECT count(*)::int AS n FROM customers WHERE tenant = $1 AND $2 = ANY(chain)', [world.tenant, world.scenario.sub_reseller])).rows[0]!.n;
    expect(mine.rows).toHaveLength(theirs);
    expect(all.rows.length).toBeGreaterThanOrEqual(theirs);
  });

  it('LibreOffice opens a workbook and reads the same numbers', async () => {
    const table = trialBalanceTable({ book_id: world.tenant });
    const report = await trialBalance(pool(), { book_id: world.tenant });
    const file = await written(table, 'xlsx');
    const csv = parseCsv((await libreOfficeCsv(file, path.join(ARTIFACTS, 'libreoffice'))).replace(/\n/g, '\r\n'));
    expect(csv[0]).toEqual(table.columns.map((c) => c.header));
    for (const account of report.accounts) {
      const row = csv.find((candidate) => candidate[0] === account.code)!;
      // LibreOffice writes the cells as formatted: the taka sign, grouping, two decimals.
      expect(row[3], `${account.code} debits`).toBe(/^0(\.0+)?$/.test(account.debit) ? '৳0.00' : `৳${money.plain(account.debit)}`);
    }
  }, 180_000);
});
