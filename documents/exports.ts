import { once } from 'node:events';
import type { Writable } from 'node:stream';
import pg from 'pg';
import { writeCsv } from './csv.js';
import type { ExportTable } from './tables.js';
import { writeXlsx, type ExportProgress, type ExportSummary } from './xlsx.js';

/**
 * Writes a table export in a format, reading all of it in one snapshot: given a pool, a connection of its own
 * in a read-only REPEATABLE READ transaction for as long as the export takes (read-only, so it holds back no
 * event reader: it has no transaction id); given a client, the caller's transaction (the auditor's package
 * writes several tables from one snapshot).
 */
export const EXPORT_FORMATS = ['xlsx', 'csv'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const CONTENT_TYPES: Readonly<Record<ExportFormat | 'pdf' | 'zip', string>> = {
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  csv: 'text/csv; charset=utf-8',
  pdf: 'application/pdf',
  zip: 'application/zip',
};

export type ExportOptions = Readonly<{ created_at: Date; on_progress?: (progress: ExportProgress) => void }>;

export async function exportTable(db: pg.Pool | pg.ClientBase, table: ExportTable, format: ExportFormat, out: Writable, options: ExportOptions): Promise<ExportSummary & { title: string }> {
  return inExportSnapshot(db, async (client) => {
    const opened = await table.open(client);
    // The first row is read before a byte is written, so bad input the rows' query refuses is a refusal, not a
    // download cut short after its header.
    const ready = { ...opened, rows: await primed(opened.rows) };
    const summary = format === 'xlsx' ? await writeXlsx(ready, table, out, options) : await writeCsv(ready, table, out, options);
    if (!out.writableFinished) await once(out, 'finish');
    return { ...summary, title: opened.title };
  });
}

/** The rows with the first one already read (so its query has run and said yes or no). */
async function primed<Row>(rows: AsyncIterable<Row>): Promise<AsyncIterable<Row>> {
  const iterator = rows[Symbol.asyncIterator]();
  const first = await iterator.next();
  return {
    [Symbol.asyncIterator]: () => {
      let pending: IteratorResult<Row> | null = first;
      return {
        next: async (): Promise<IteratorResult<Row>> => {
          if (pending !== null) {
            const result = pending;
            pending = null;
            return result;
          }
          return iterator.next();
        },
        return: async (): Promise<IteratorResult<Row>> => (iterator.return === undefined ? { done: true, value: undefined } : iterator.return()),
      };
    },
  };
}

/**
 * A whole export in one snapshot. Each statement may take a minute at most; the transaction itself may last as
 * long as the output takes to drain (a slow download), which is why it is read-only.
 */
export async function inExportSnapshot<Result>(db: pg.Pool | pg.ClientBase, work: (client: pg.ClientBase) => Promise<Result>): Promise<Result> {
  if (!(db instanceof pg.Pool)) return work(db);
  const client = await db.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await client.query('SET LOCAL statement_timeout = 60000');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
