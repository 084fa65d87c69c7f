import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCsv } from '../../documents/auditor-package.js';
import { ARTIFACTS, pdfPages, pdfText } from './poppler.js';
import { buildDocumentsWorld, type DocumentsWorld } from './world.js';

/** `ispbills export …`, `ispbills verify-package` and `ispbills isp-profile` as a person runs them, against the world's database. */
const run = promisify(execFile);
let world: DocumentsWorld;

beforeAll(async () => {
  world = await buildDocumentsWorld();
  mkdirSync(ARTIFACTS, { recursive: true });
}, 180_000);
afterAll(async () => world?.close());

async function ispbills(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  const env = { ...process.env, DATABASE_URL: world.database.url, LOG_LEVEL: 'warn', DATABASE_POOL_SIZE: '4' };
  try {
    const { stdout, stderr } = await run(process.execPath, ['bin/ispbills.js', ...args], { env, maxBuffer: 64 * 1024 * 1024, cwd: path.resolve(import.meta.dirname, '../..'), timeout: 120_000 });
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const failed = error as { stdout: string; stderr: string; code: number };
    return { stdout: failed.stdout, stderr: failed.stderr, code: failed.code };
  }
}

const at = (name: string): string => path.join(ARTIFACTS, `cli-${name}`);

describe('ispbills export', () => {
  it('writes an invoice and a bill run’s invoices as PDFs', async () => {
    const invoice = await ispbills('export', 'invoice', '--bill', `${world.run.online}:2027-01`, '--out', at('invoice.pdf'));
    expect(invoice.code, invoice.stderr).toBe(0);
    expect(await pdfText(at('invoice.pdf'))).toContain('Nusrat Jahan');

    const bulk = await ispbills('export', 'invoices', '--isp', world.tenant, '--period', '2027-01', '--out', at('invoices.pdf'));
    expect(bulk.code, bulk.stderr).toBe(0);
    expect(bulk.stderr).toMatch(/invoices: 6 on 6 pages/);
    expect(await pdfPages(at('invoices.pdf'))).toBe(6);

  });

  it('writes tables as XLSX and CSV, the journal in three formats, and refuses what it cannot do with a reason', async () => {
    const csv = await ispbills('export', 'customers', '--isp', world.tenant, '--format', 'csv');
    expect(csv.code, csv.stderr).toBe(0);
    const rows = parseCsv(csv.stdout);
    expect(rows[0]![0]).toBe('Customer ID');
    expect(rows.some((row) => row[1] === world.bengali_name)).toBe(true);

    const xlsx = await ispbills('export', 'journal', '--book', world.scenario.sub_reseller, '--format', 'xlsx', '--out', at('journal.xlsx'));
    expect(xlsx.code, xlsx.stderr).toBe(0);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.readFile(at('journal.xlsx'));
    expect(workbook.worksheets[0]!.rowCount).toBeGreaterThan(10);
    const hledger = await ispbills('export', 'journal', '--book', world.scenario.sub_reseller, '--format', 'hledger');
    expect(hledger.stdout).toContain('commodity');

    const refused = await ispbills('export', 'bills', '--isp', world.tenant);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/--out <file>.*INVALID_INPUT/s);
    const noBook = await ispbills('export', 'general-ledger', '--book', 'no-such-book', '--format', 'csv');
    expect(noBook.code).toBe(1);
    expect(noBook.stderr).toContain('BOOK_NOT_FOUND');
  });

  it("makes an auditor's package that verify-package accepts, and rejects it once a byte is changed", async () => {
    const made = await ispbills('export', 'auditor-package', '--book', world.scenario.sub_reseller, '--from', '2026-11-01', '--to', '2027-01-31', '--out', at('package.zip'));
    expect(made.code, made.stderr).toBe(0);
    const ok = await ispbills('verify-package', at('package.zip'), '--database');
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toContain('the package verifies');
    const bytes = readFileSync(at('package.zip'));
    bytes[Math.floor(bytes.length / 2)] = bytes[Math.floor(bytes.length / 2)]! ^ 0x01;
    writeFileSync(at('package-changed.zip'), bytes);
    const changed = await ispbills('verify-package', at('package-changed.zip'));
    expect(changed.code).toBe(1);
    expect(changed.stdout).toContain('does NOT verify');
  });

  it('shows and sets the ISP profile', async () => {
    const set = await ispbills('isp-profile', '--isp', world.tenant, '--phone', '+880 1700 000222', '--by', 'test');
    expect(set.code, set.stderr).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({ name: 'Demo Net', currency: 'BDT', logo: { media_type: 'image/png' } });
    const events = await world.database.pool.query<{ data: { phone: string } }>("SELECT data FROM events WHERE type = 'isp-profile-set' ORDER BY global_position DESC LIMIT 1");
    expect(events.rows[0]!.data.phone).toBe('+880 1700 000222');
    const refused = await ispbills('isp-profile', '--isp', world.tenant, '--email', 'not-an-email');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('INVALID_INPUT');
  });
});
