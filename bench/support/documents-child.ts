/**
 * One document made in a process of its own, so its peak memory is its own (bench/documents.bench.ts):
 *
 *   node --import tsx bench/support/documents-child.ts invoices <database url> <tenant> <period> <out.pdf>
 *   node --import tsx bench/support/documents-child.ts ledger <database url> <book id> <out.xlsx>
 *
 * Prints one JSON line on stdout: seconds, the process's peak resident memory (getrusage's ru_maxrss), the
 * resident memory before the work began, samples of it every half second with how far the work had got, the
 * CPU time it used, and what was written.
 */
import { createWriteStream, statSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { openDatabase } from '../../cli/database.js';
import { exportTable } from '../../documents/exports.js';
import { writeBillRunPdf } from '../../documents/pdf-documents.js';
import { generalLedgerTable } from '../../documents/tables.js';

const MB = 1024 * 1024;

async function main(): Promise<void> {
  const [kind, url, ...rest] = process.argv.slice(2);
  if (url === undefined || (kind !== 'invoices' && kind !== 'ledger')) throw new Error('usage: documents-child.ts invoices|ledger <database url> …');
  const database = openDatabase(url, 2);
  await database.pool.query('SELECT 1');
  global.gc?.();
  const rss_before_mb = process.memoryUsage().rss / MB;
  let done = 0;
  const samples: { at_s: number; rss_mb: number; done: number }[] = [];
  const started = performance.now();
  const timer = setInterval(() => samples.push({ at_s: (performance.now() - started) / 1000, rss_mb: process.memoryUsage().rss / MB, done }), 500);
  try {
    if (kind === 'invoices') {
      const [tenant, period, out] = rest as [string, string, string];
      const summary = await writeBillRunPdf(database.pool, { tenant, operator_id: null, customer_id: null }, { period, kind: 'monthly' }, createWriteStream(out), {
        generated_at: new Date('2026-11-26T05:00:00Z'),
        on_progress: (progress) => {
          done = progress.invoices;
        },
      });
      finish({ invoices: summary.invoices, pages: summary.pages, bytes: statSync(out).size });
    } else {
      const [book_id, out] = rest as [string, string];
      const summary = await exportTable(database.pool, generalLedgerTable({ book_id }), 'xlsx', createWriteStream(out), {
        created_at: new Date('2026-11-26T05:00:00Z'),
        on_progress: (progress) => {
          done = progress.rows;
        },
      });
      finish({ rows: summary.rows, sheets: summary.sheets, bytes: statSync(out).size });
    }
  } finally {
    clearInterval(timer);
    await database.close();
  }

  function finish(written: Record<string, number>): void {
    const seconds = (performance.now() - started) / 1000;
    samples.push({ at_s: seconds, rss_mb: process.memoryUsage().rss / MB, done });
    // ru_maxrss is in kilobytes on Linux: the most this process ever held resident, module loading included.
    const peak_rss_mb = process.resourceUsage().maxRSS / 1024;
    const usage = process.cpuUsage();
    process.stdout.write(`${JSON.stringify({ seconds, peak_rss_mb, rss_before_mb, cpu_seconds: (usage.user + usage.system) / 1e6, samples, written })}\n`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
