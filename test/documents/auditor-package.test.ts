import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCsv, verifyAuditorPackage, writeAuditorPackage, type Manifest } from '../../documents/auditor-package.js';
import { readSealedZip, SealedZipWriter } from '../../documents/zip.js';
import { trialBalance } from '../../projections/queries/books-statements.js';
import { ARTIFACTS, keep } from './poppler.js';
import { buildDocumentsWorld, type DocumentsWorld } from './world.js';

/**
 * The auditor's package: it verifies offline and against the database; sha256sum accepts its checksums; and any
 * byte changed anywhere fails it — the seal catches a change to the archive, and a forger who reseals is caught by
 * the checksums, the hash chain, the journal's events or, against the database, the books made again.
 */
const run = promisify(execFile);
let world: DocumentsWorld;
let pkg: Buffer;
let manifest: Manifest;
const at = new Date('2027-01-06T09:00:00Z');

beforeAll(async () => {
  world = await buildDocumentsWorld();
  const chunks: Buffer[] = [];
  const out = new PassThrough();
  out.on('data', (chunk: Buffer) => chunks.push(chunk));
  manifest = await writeAuditorPackage(world.database.pool, { book_id: world.scenario.sub_reseller, from: '2026-11-01', to: '2027-01-31' }, out, { generated_at: at });
  pkg = Buffer.concat(chunks);
  keep('auditor-package.zip', pkg);
}, 180_000);
afterAll(async () => world?.close());

/** The package's files with one replaced, resealed as a forger would (checksums left as they were unless fixed). */
async function resealed(entries: ReadonlyMap<string, Buffer>, changes: Readonly<Record<string, Buffer>>, fixChecksums: boolean): Promise<Buffer> {
  const files = new Map(entries);
  for (const [name, bytes] of Object.entries(changes)) files.set(name, bytes);
  if (fixChecksums) {
    const digest = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
    const manifestJson = JSON.parse(files.get('manifest.json')!.toString('utf8')) as { files: { name: string; bytes: number; sha256: string }[] };
    for (const file of manifestJson.files) {
      file.sha256 = digest(files.get(file.name)!);
      file.bytes = files.get(file.name)!.length;
    }
    files.set('manifest.json', Buffer.from(`${JSON.stringify(manifestJson, null, 2)}\n`));
    const sums = [...files.keys()]
      .filter((name) => name !== 'SHA256SUMS')
      .sort()
      .map((name) => `${digest(files.get(name)!)}  ${name}\n`)
      .join('');
    files.set('SHA256SUMS', Buffer.from(sums));
  }
  const chunks: Buffer[] = [];
  const out = new PassThrough();
  out.on('data', (chunk: Buffer) => chunks.push(chunk));
  const zip = new SealedZipWriter(out, at);
  for (const [name, bytes] of files) await zip.addBuffer(name, bytes);
  await zip.finish();
  return Buffer.concat(chunks);
}

describe("the auditor's package", () => {
  it('has every file, pinned to the chain head and the period, and verifies offline and against the database', async () => {
    const { entries } = readSealedZip(pkg);
    expect([...entries.keys()].sort()).toEqual(
      ['README.txt', 'SHA256SUMS', 'general-ledger.csv', 'general-ledger.xlsx', 'journal.csv', 'journal.hledger', 'journal.xlsx', 'manifest.json', 'source-events.jsonl', 'trial-balance.csv', 'trial-balance.xlsx'].sort(),
    );
    const head = (await world.database.pool.query<{ chain_index: string; global_position: string }>('SELECT chain_index::text, global_position::text FROM event_chain ORDER BY chain_index DESC LIMIT 1')).rows[0]!;
    expect(manifest.chain_head.chain_index).toBe(head.chain_index);
    expect(manifest.as_of).toEqual({ date: '2027-01-31', log_position: head.global_position });
    const report = await trialBalance(world.database.pool, { book_id: world.scenario.sub_reseller, as_of: `position:${head.global_position}`, to: '2027-01-31' });
    expect(manifest.trial_balance_totals).toEqual(report.totals);
    expect(manifest.counts.source_events).toBeGreaterThan(5);

    const offline = await verifyAuditorPackage(pkg);
    expect(offline.problems).toEqual([]);
    expect(offline.ok).toBe(true);
    const online = await verifyAuditorPackage(pkg, { pool: world.database.pool });
    expect(online.problems).toEqual([]);
    expect(online.checked.some((line) => line.startsWith('books now'))).toBe(true);

    // The spreadsheet in the package reads back with the report's totals.
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(entries.get('trial-balance.xlsx')! as unknown as ArrayBuffer);
    const rows: ExcelJS.CellValue[][] = [];
    workbook.worksheets[0]!.eachRow((row) => rows.push((row.values as ExcelJS.CellValue[]).slice(1)));
    expect(String(rows[rows.length - 1]![3])).toBe(String(Number(report.totals.debit)));
  });

  it('sha256sum accepts its checksums, and hledger reads its journal', async () => {
    const directory = path.join(ARTIFACTS, 'auditor-package');
    mkdirSync(directory, { recursive: true });
    for (const [name, bytes] of readSealedZip(pkg).entries) writeFileSync(path.join(directory, name), bytes);
    const { stdout } = await run('sha256sum', ['-c', 'SHA256SUMS'], { cwd: directory });
    expect(stdout.trim().split('\n')).toHaveLength(readSealedZip(pkg).entries.size - 1);
    const balance = await run('hledger', ['-f', path.join(directory, 'journal.hledger'), 'check', 'accounts', 'commodities']);
    expect(balance.stderr).toBe('');
  });

  it('fails when any byte of the archive is changed', async () => {
    const positions = new Set<number>();
    for (let at = 0; at < Math.min(400, pkg.length); at += 1) positions.add(at);
    for (let at = Math.max(0, pkg.length - 400); at < pkg.length; at += 1) positions.add(at);
    for (let at = 0; at < pkg.length; at += 37) positions.add(at);
    for (const at of positions) {
      const changed = Buffer.from(pkg);
      changed[at] = changed[at]! ^ 0x20;
      const result = await verifyAuditorPackage(changed);
      if (result.ok) expect.fail(`byte ${at} of ${pkg.length} changed and the package still verified`);
    }
    expect(positions.size).toBeGreaterThan(800);
  }, 120_000);

  it('a forger who reseals is caught by the checksums; one who fixes them too, by the chain, the journal or the books', async () => {
    const { entries } = readSealedZip(pkg);
    const journal = entries.get('journal.csv')!.toString('utf8');
    const tamperedJournal = Buffer.from(journal.replace(/,(\d+)\.(\d\d),/, (_all, whole: string, cents: string) => `,${Number(whole) + 1}.${cents},`));
    expect(tamperedJournal.equals(entries.get('journal.csv')!)).toBe(false);

    const unsummed = await verifyAuditorPackage(await resealed(entries, { 'journal.csv': tamperedJournal }, false));
    expect(unsummed.ok).toBe(false);
    expect(unsummed.problems.map((p) => p.check)).toContain('checksums');

    // Checksums fixed: offline the journal still names its events, so only the database can tell.
    const forged = await resealed(entries, { 'journal.csv': tamperedJournal }, true);
    expect((await verifyAuditorPackage(forged)).ok).toBe(true);
    const caught = await verifyAuditorPackage(forged, { pool: world.database.pool });
    expect(caught.problems).toContainEqual({ check: 'books now', detail: expect.stringContaining('journal.csv') });

    // An event's content changed: its link no longer hashes, offline.
    const events = entries.get('source-events.jsonl')!.toString('utf8').split('\n');
    const first = JSON.parse(events[0]!) as { data: string };
    first.data = first.data.replace(/\d/, (digit) => String((Number(digit) + 1) % 10));
    events[0] = JSON.stringify(first);
    const chain = await verifyAuditorPackage(await resealed(entries, { 'source-events.jsonl': Buffer.from(events.join('\n')) }, true));
    expect(chain.problems.map((p) => p.check)).toContain('hash chain');

    // An event dropped from the list: the journal names it.
    const dropped = entries.get('source-events.jsonl')!.toString('utf8').split('\n').slice(1).join('\n');
    const missing = await verifyAuditorPackage(await resealed(entries, { 'source-events.jsonl': Buffer.from(dropped) }, true));
    expect(missing.problems.map((p) => p.check)).toEqual(expect.arrayContaining(['hash chain', 'journal']));

    // The trial balance's total row changed with the manifest left alone.
    const trial = parseCsv(entries.get('trial-balance.csv')!.toString('utf8'));
    trial[trial.length - 1]![3] = '1.00';
    const totals = await verifyAuditorPackage(await resealed(entries, { 'trial-balance.csv': Buffer.from(`${trial.map((row) => row.join(',')).join('\r\n')}\r\n`) }, true));
    expect(totals.problems.map((p) => p.check)).toContain('trial balance');
    writeFileSync(path.join(ARTIFACTS, 'auditor-package-forged.zip'), forged);
    expect(readFileSync(path.join(ARTIFACTS, 'auditor-package.zip')).equals(pkg)).toBe(true);
  });
});
