/**
 * Documents (issue 10): 10,000 invoices as one PDF and a 1,000,000-line general ledger as XLSX — time and peak
 * memory (target: peak resident memory ≤ 512 MB), on a durable PostgreSQL (fsync on).
 *
 *   npx tsx bench/documents.bench.ts          (or: npm run bench:documents)
 *
 * The ISP's history is the projections benchmark's (bench/support/isp-history.ts: BENCH_DOCUMENTS_CUSTOMERS
 * customers, of whom a tenth are monthly postpaid customers billed for October 2026 by the bill run's decider and
 * 70 % of those paid), appended and then projected by the real projections (customers, billing, operators, books)
 * with `rebuildProjections`. The figures are taken in a child process each (bench/support/documents-child.ts), so
 * the peak resident memory (getrusage) is the document's alone, Node and the module loading included:
 *
 * 1. every invoice of October's bill run (kind monthly) as one PDF: `writeBillRunPdf`, as `ispbills export
 *    invoices` and GET /api/v1/bill-runs/invoices.pdf run it;
 * 2. the ISP's general ledger as XLSX: `exportTable(generalLedgerTable)`, as `ispbills export general-ledger` and
 *    the API run it. The projected book holds fewer than a million lines, so its real journal entries (with
 *    their lines) are copied by SQL into the same live generation of the books projection — each copy a new
 *    entry id and log position past the end of the log, the same dates, accounts, parties and amounts — until
 *    the book has BENCH_DOCUMENTS_LEDGER_LINES lines, and the totals tables (account_day_totals,
 *    account_bucket_totals, party_totals) are made again as GROUP BY sums of journal_lines. The ledger query
 *    reads exactly those tables (books, book_accounts, account_day_totals, journal_lines, journal_entries).
 *
 * Beside each, a plain-SQL baseline in the same run: the same rows read by one query (the bills with their
 * customers and settlements; the book's lines with their entries through a cursor, 10,000 at a time).
 *
 * Environment:
 *   BENCH_DATABASE_URL             use that server instead of a durable embedded one (the role needs CREATE DATABASE)
 *   BENCH_DOCUMENTS_CUSTOMERS      customers in the history (default 110,000: about 10,400 October bills)
 *   BENCH_DOCUMENTS_LEDGER_LINES   lines the ISP's book is filled to (default 1,000,000)
 *   BENCH_NO_RESULTS=1             print only; leave bench/RESULTS.md alone
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import ExcelJS from 'exceljs';
import { openDatabase } from '../cli/database.js';
import { CommandRuntime } from '../commands/command-runtime.js';
import { PostgresSnapshotStore } from '../commands/snapshots.js';
import { PostgresEventStore } from '../eventstore/postgres/postgres-event-store.js';
import { migrateToLatest } from '../migrations/index.js';
import { liveGeneration } from '../projections/generations.js';
import { trialBalance } from '../projections/queries/books-statements.js';
import { billingProjection } from '../projections/read-models/billing.js';
import { booksProjection, POSITION_BUCKET } from '../projections/read-models/books.js';
import { customersProjection } from '../projections/read-models/customers.js';
import { operatorsProjection } from '../projections/read-models/operators.js';
import { rebuildProjections } from '../projections/rebuild.js';
import { appendHistory, setUpIsp, TENANT } from './support/isp-history.js';
import { integer, startCpuMeter, type CpuUse } from './support/measure.js';
import { serverFacts, startBenchServer } from './support/postgres-server.js';
import { writeResultsSection } from './support/results-file.js';

const HEADING = '## Documents: 10,000 invoices as one PDF, a 1,000,000-line general ledger as XLSX (issue 10)';
const CUSTOMERS = Number(process.env.BENCH_DOCUMENTS_CUSTOMERS ?? 110_000);
const LEDGER_LINES = Number(process.env.BENCH_DOCUMENTS_LEDGER_LINES ?? 1_000_000);
const TARGET_MB = 512;
const PERIOD = '2026-10';
const CHILD = path.join(import.meta.dirname, 'support', 'documents-child.ts');
const run = promisify(execFile);

const progress = (line: string): void => {
  process.stderr.write(`[documents bench] ${line}\n`);
};
/**
 * The child's own CPU (it reports its CPU time: a process that has exited is gone from /proc, as are the database
 * backends it used) beside what every process on the machine kept busy meanwhile, and the load average.
 */
const cores = (result: ChildResult): string =>
  `the document's process ${(result.cpu_seconds / result.seconds).toFixed(2)} cores; all processes together ${(result.cpu.node_cores + (result.cpu.postgres_cores ?? 0) + result.cpu.other_cores).toFixed(2)} of ${os.availableParallelism()} cores busy` +
  (result.cpu.busiest_other === null || result.cpu.busiest_other.cores < 0.2 ? '' : ` (busiest other: ${result.cpu.busiest_other.name} ${result.cpu.busiest_other.cores.toFixed(2)})`) +
  `; load average ${result.load_before.toFixed(1)} before, ${result.load_after.toFixed(1)} after`;

type ChildResult = Readonly<{
  seconds: number;
  peak_rss_mb: number;
  rss_before_mb: number;
  cpu_seconds: number;
  load_before: number;
  load_after: number;
  samples: readonly { at_s: number; rss_mb: number; done: number }[];
  written: Readonly<Record<string, number>>;
  cpu: CpuUse;
}>;

/** Runs one document in a child process and reads its JSON line. */
async function child(args: readonly string[]): Promise<ChildResult> {
  const load_before = os.loadavg()[0]!;
  const meter = startCpuMeter(postgresPid);
  const process_ = spawn(process.execPath, ['--import', 'tsx', '--expose-gc', CHILD, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  process_.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  const code = await new Promise<number | null>((resolve) => process_.on('close', resolve));
  const cpu = meter();
  if (code !== 0) throw new Error(`documents-child ${args[0]} exited with ${code}`);
  return { ...(JSON.parse(stdout.trim().split('\n').pop()!) as Omit<ChildResult, 'cpu' | 'load_before' | 'load_after'>), cpu, load_before, load_after: os.loadavg()[0]! };
}

/** RSS at a quarter, half, three quarters and the end of the work: does memory grow with the document? */
function growth(result: ChildResult, total: number): string {
  const at = (share: number): string => {
    const sample = result.samples.find((entry) => entry.done >= total * share) ?? result.samples[result.samples.length - 1];
    return sample === undefined ? '?' : `${sample.rss_mb.toFixed(0)}`;
  };
  return `${at(0.25)} / ${at(0.5)} / ${at(0.75)} / ${at(1)} MB`;
}

let postgresPid: number | null = null;

async function main(): Promise<void> {
  const began = performance.now();
  const server = await startBenchServer(progress);
  postgresPid = server.postgres_pid;
  const url = await server.createDatabase('bench_documents');
  const database = openDatabase(url, 10);
  const { pool } = database;
  const directory = await mkdtemp(path.join(os.tmpdir(), 'ispbills-documents-bench-'));
  try {
    await migrateToLatest(database.db);
    const facts = await serverFacts(pool);
    progress(`PostgreSQL ${facts.version}`);
    const store = new PostgresEventStore(pool);
    const runtime = new CommandRuntime({ store, snapshots: new PostgresSnapshotStore(pool), clock: { now: () => new Date('2024-12-15T06:00:00Z') } });
    progress('setting up the ISP through the commands');
    const isp = await setUpIsp(runtime);
    const history = await appendHistory(store, isp, { customers: CUSTOMERS, log: progress });
    progress(`history: ${integer(history.events)} events for ${integer(history.customers)} customers`);

    const projectionsStarted = performance.now();
    const reports = await rebuildProjections(pool, store, [customersProjection, billingProjection, operatorsProjection, booksProjection], { on_progress: () => undefined });
    progress(`${reports.map((report) => report.projection).join(', ')} projected: ${integer(reports[0]!.events_applied)} events in ${((performance.now() - projectionsStarted) / 1000).toFixed(0)} s`);
    const projectionSeconds = (performance.now() - projectionsStarted) / 1000;
    await pool.query('VACUUM (ANALYZE)');

    // --- 1. every invoice of October's bill run as one PDF ------------------------------------------------------------
    const bills = Number((await pool.query<{ n: string }>(`SELECT count(*)::text AS n FROM bills WHERE tenant = $1 AND period = $2 AND kind = 'monthly'`, [TENANT, PERIOD])).rows[0]!.n);
    const settlements = Number((await pool.query<{ n: string }>(`SELECT count(*)::text AS n FROM bill_settlements s JOIN bills b USING (bill_id) WHERE b.tenant = $1 AND b.period = $2 AND b.kind = 'monthly'`, [TENANT, PERIOD])).rows[0]!.n);
    progress(`part 1: ${integer(bills)} monthly bills of ${PERIOD} (${integer(settlements)} payments applied to them)`);
    await pool.query('CHECKPOINT').catch(() => undefined);
    const pdfFile = path.join(directory, 'invoices.pdf');
    const invoices = await child(['invoices', url, TENANT, PERIOD, pdfFile]);
    progress(`part 1: ${integer(invoices.written.invoices!)} invoices, ${integer(invoices.written.pages!)} pages, ${(invoices.written.bytes! / 1024 / 1024).toFixed(1)} MB in ${invoices.seconds.toFixed(1)} s; peak RSS ${invoices.peak_rss_mb.toFixed(0)} MB (${cores(invoices)})`);
    let pdfPages: number | null = null;
    try {
      pdfPages = Number(/^Pages:\s+(\d+)/m.exec((await run('pdfinfo', [pdfFile])).stdout)?.[1] ?? Number.NaN);
    } catch {
      progress('pdfinfo (poppler-utils) is not installed: the page count is not checked by a second program');
    }
    const invoiceBaselineStarted = performance.now();
    const baselineRows = await pool.query(
      `SELECT b.*, c.name, c.zone, c.mobile, (SELECT json_agg(s ORDER BY s.global_position) FROM bill_settlements s WHERE s.bill_id = b.bill_id) AS settlements
         FROM bills b JOIN customers c USING (customer_id) WHERE b.tenant = $1 AND b.period = $2 AND b.kind = 'monthly' ORDER BY c.zone, c.name, b.bill_id`,
      [TENANT, PERIOD],
    );
    const invoiceBaseline = (performance.now() - invoiceBaselineStarted) / 1000;

    // --- 2. the ISP's general ledger of 1,000,000 lines as XLSX --------------------------------------------------------
    const live = await liveGeneration(pool, 'books');
    if (live === null) throw new Error('the books projection has no live generation');
    const schema = live.schema_name;
    const projectedLines = Number((await pool.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${schema}.journal_lines WHERE book_id = $1`, [TENANT])).rows[0]!.n);
    const projectedEntries = Number((await pool.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${schema}.journal_entries WHERE book_id = $1`, [TENANT])).rows[0]!.n);
    const copies = Math.max(0, Math.ceil(LEDGER_LINES / Math.max(projectedLines, 1)) - 1);
    progress(`part 2: the ISP's book holds ${integer(projectedLines)} projected lines in ${integer(projectedEntries)} entries; adding ${copies} SQL copies of them`);
    const fillStarted = performance.now();
    const span = BigInt((await pool.query<{ p: string }>('SELECT COALESCE(max(global_position), 0)::text AS p FROM events')).rows[0]!.p) + 1n;
    if (copies > 0) {
      await pool.query(
        `INSERT INTO ${schema}.journal_entries (entry_id, book_id, tenant, entry_date, global_position, source_event_id, source_type, kind, memo, reverses_entry_id, reversed_by_entry_id, currency, lines)
         SELECT e.entry_id || '~' || k, e.book_id, e.tenant, e.entry_date, e.global_position + k * $2::bigint, e.source_event_id, e.source_type, e.kind, e.memo,
                e.reverses_entry_id || '~' || k, e.reversed_by_entry_id || '~' || k, e.currency, e.lines
           FROM ${schema}.journal_entries e CROSS JOIN generate_series(1, $3::int) AS k WHERE e.book_id = $1`,
        [TENANT, span.toString(), copies],
      );
      await pool.query(
        `INSERT INTO ${schema}.journal_lines (entry_id, line_no, book_id, entry_date, global_position, account_code, party, debit, credit, currency, due_on)
         SELECT l.entry_id || '~' || k, l.line_no, l.book_id, l.entry_date, l.global_position + k * $2::bigint, l.account_code, l.party, l.debit, l.credit, l.currency, l.due_on
           FROM ${schema}.journal_lines l CROSS JOIN generate_series(1, $3::int) AS k WHERE l.book_id = $1`,
        [TENANT, span.toString(), copies],
      );
      for (const table of ['account_day_totals', 'account_bucket_totals', 'party_totals']) await pool.query(`DELETE FROM ${schema}.${table} WHERE book_id = $1`, [TENANT]);
      await pool.query(
        `INSERT INTO ${schema}.account_day_totals (book_id, account_code, entry_date, currency, debit, credit)
         SELECT book_id, account_code, entry_date, currency, sum(debit), sum(credit) FROM ${schema}.journal_lines WHERE book_id = $1 GROUP BY book_id, account_code, entry_date, currency`,
        [TENANT],
      );
      await pool.query(
        `INSERT INTO ${schema}.account_bucket_totals (book_id, account_code, bucket, currency, debit, credit)
         SELECT book_id, account_code, global_position / $2::bigint, currency, sum(debit), sum(credit) FROM ${schema}.journal_lines WHERE book_id = $1
          GROUP BY book_id, account_code, global_position / $2::bigint, currency`,
        [TENANT, POSITION_BUCKET.toString()],
      );
      await pool.query(
        `INSERT INTO ${schema}.party_totals (book_id, account_code, party, currency, debit, credit)
         SELECT book_id, account_code, party, currency, sum(debit), sum(credit) FROM ${schema}.journal_lines WHERE book_id = $1 AND party IS NOT NULL GROUP BY book_id, account_code, party, currency`,
        [TENANT],
      );
      for (const table of ['journal_entries', 'journal_lines', 'account_day_totals', 'account_bucket_totals', 'party_totals']) await pool.query(`VACUUM (ANALYZE) ${schema}.${table}`);
    }
    const fillSeconds = (performance.now() - fillStarted) / 1000;
    const lines = Number((await pool.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${schema}.journal_lines WHERE book_id = $1`, [TENANT])).rows[0]!.n);
    const tb = await trialBalance(pool, { book_id: TENANT });
    progress(`part 2: ${integer(lines)} lines in the ISP's book after ${fillSeconds.toFixed(0)} s of SQL; its trial balance balances at ${tb.totals.debit}`);
    await pool.query('CHECKPOINT').catch(() => undefined);
    const xlsxFile = path.join(directory, 'general-ledger.xlsx');
    const ledger = await child(['ledger', url, TENANT, xlsxFile]);
    progress(`part 2: ${integer(ledger.written.rows!)} rows on ${ledger.written.sheets} sheet(s), ${(ledger.written.bytes! / 1024 / 1024).toFixed(1)} MB in ${ledger.seconds.toFixed(1)} s; peak RSS ${ledger.peak_rss_mb.toFixed(0)} MB (${cores(ledger)})`);

    progress('part 2: reading the workbook back with exceljs streaming reader (not timed)');
    let readRows = 0;
    const reader = new ExcelJS.stream.xlsx.WorkbookReader(xlsxFile, { worksheets: 'emit', sharedStrings: 'cache', hyperlinks: 'ignore', styles: 'ignore', entries: 'emit' });
    for await (const sheet of reader) for await (const _row of sheet) readRows += 1;
    const sheetCount = ledger.written.sheets!;

    const ledgerBaselineStarted = performance.now();
    const client = await pool.connect();
    let baselineLines = 0;
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      await client.query(
        `DECLARE ledger CURSOR FOR SELECT l.account_code, l.entry_date, l.entry_id, l.line_no, l.party, l.debit::text, l.credit::text, l.global_position::text, e.memo, e.kind
           FROM journal_lines l JOIN journal_entries e ON e.entry_id = l.entry_id WHERE l.book_id = $1 ORDER BY l.account_code, l.entry_date, l.global_position, l.entry_id, l.line_no`,
        [TENANT],
      );
      for (;;) {
        const page = await client.query('FETCH 10000 FROM ledger');
        baselineLines += page.rows.length;
        if (page.rows.length === 0) break;
      }
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    const ledgerBaseline = (performance.now() - ledgerBaselineStarted) / 1000;

    const pdfMet = invoices.peak_rss_mb <= TARGET_MB;
    const xlsxMet = ledger.peak_rss_mb <= TARGET_MB;
    const counted = bills >= 10_000 && lines >= 1_000_000;
    const section = [
      HEADING,
      '',
      `Run ${new Date().toISOString()} with \`npx tsx bench/documents.bench.ts\` on a durable PostgreSQL ${facts.version} (fsync ${facts.settings.fsync ?? '?'}, synchronous_commit ${facts.settings.synchronous_commit ?? '?'}), ${((performance.now() - began) / 60_000).toFixed(0)} min in all.`,
      `History (bench/support/isp-history.ts): ${integer(history.customers)} customers, ${integer(history.events)} events, projected by the real projections (customers, billing, operators, books: ${projectionSeconds.toFixed(0)} s).`,
      `Each document is made in a child process of its own (bench/support/documents-child.ts); "peak RSS" is that process's getrusage maximum, Node and module loading included (${invoices.rss_before_mb.toFixed(0)} MB before the invoices began, ${ledger.rss_before_mb.toFixed(0)} MB before the ledger).`,
      '',
      '| figure | time | peak RSS | RSS at ¼ / ½ / ¾ / end | target (peak RSS) | | plain-SQL baseline (same rows, one query) |',
      '|---|---|---|---|---|---|---|',
      `| ${integer(invoices.written.invoices!)} invoices of ${PERIOD}'s bill run as one PDF (${integer(invoices.written.pages!)} pages${pdfPages === null ? '' : `, pdfinfo: ${integer(pdfPages)}`}, ${(invoices.written.bytes! / 1024 / 1024).toFixed(1)} MB) | ${invoices.seconds.toFixed(1)} s (${integer(invoices.written.invoices! / invoices.seconds)} invoices/s) | ${invoices.peak_rss_mb.toFixed(0)} MB | ${growth(invoices, invoices.written.invoices!)} | ≤ ${TARGET_MB} MB | ${pdfMet ? 'met' : 'missed'} | ${invoiceBaseline.toFixed(2)} s for ${integer(baselineRows.rowCount ?? 0)} bills with customers and settlements |`,
      `| the ISP's general ledger, ${integer(lines)} lines, as XLSX (${integer(ledger.written.rows!)} rows with openings and closings, ${sheetCount} sheet${sheetCount === 1 ? '' : 's'}, ${(ledger.written.bytes! / 1024 / 1024).toFixed(1)} MB; read back: ${integer(readRows)} rows) | ${ledger.seconds.toFixed(1)} s (${integer(ledger.written.rows! / ledger.seconds)} rows/s) | ${ledger.peak_rss_mb.toFixed(0)} MB | ${growth(ledger, ledger.written.rows!)} | ≤ ${TARGET_MB} MB | ${xlsxMet ? 'met' : 'missed'} | ${ledgerBaseline.toFixed(1)} s for ${integer(baselineLines)} lines with their entries (cursor, 10,000 a fetch) |`,
      '',
      `CPU during the invoices: ${cores(invoices)}. During the ledger: ${cores(ledger)}.`,
      `How the ledger got its lines: the history's payments, bills and top-ups were posted into the ISP's book by the books projection (${integer(projectedLines)} lines in ${integer(projectedEntries)} entries); ` +
        `then ${copies} copies of those entries and their lines were written by SQL into the same live generation (new entry ids and log positions past the end of the log, same dates, accounts, parties and amounts), ` +
        `and account_day_totals, account_bucket_totals and party_totals were made again as GROUP BY sums of journal_lines (${fillSeconds.toFixed(0)} s). The ledger reads exactly those tables; its last page checked its running balance against the totals for every account, and the trial balance balanced (${tb.totals.debit} BDT each side).`,
      counted ? '' : `**Fewer than 10,000 invoices or 1,000,000 lines: these figures do not count.**`,
    ]
      .filter((line, index, all) => !(line === '' && index === all.length - 1))
      .join('\n');
    process.stdout.write(`${section}\n`);
    if (process.env.BENCH_NO_RESULTS !== '1') {
      if (!counted) progress('below the sizes of the figure: RESULTS.md is left alone');
      else writeResultsSection(HEADING, section, facts.version);
    }
  } finally {
    await rm(directory, { recursive: true, force: true });
    await database.close();
    await server.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
