import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { Column, ExportTable, OpenedTable, TableValue } from './tables.js';
import type { ExportProgress, ExportSummary } from './xlsx.js';

/**
 * A table export as CSV (RFC 4180: comma-separated, CRLF line ends, fields quoted when they hold a comma, a
 * quote or a line break), UTF-8 without a byte-order mark, for other programs: amounts are plain decimals in
 * the currency's minor units (1234.50), days YYYY-MM-DD, instants ISO 8601 in UTC. The same rows as the
 * spreadsheet, written as they are read.
 *
 * Text that a spreadsheet would run as a formula (starting with = or @, or + or - followed by anything but a
 * number, or a tab or carriage return) is prefixed with an apostrophe, as OWASP advises against CSV injection;
 * a mobile number such as +8801711000001 is left alone.
 */
const PROGRESS_EVERY = 10_000;
const FORMULA_LIKE = /^(?:[=@\t\r]|[+-](?![\d.\s]*$))/;

export function csvField(value: TableValue, type: Column['type']): string {
  if (value === null) return '';
  let text = String(value);
  if (type === 'text' && FORMULA_LIKE.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export async function writeCsv(
  opened: OpenedTable,
  table: Pick<ExportTable, 'columns'>,
  out: Writable,
  options: Readonly<{ on_progress?: (progress: ExportProgress) => void }> = {},
): Promise<ExportSummary> {
  const write = async (text: string): Promise<void> => {
    if (!out.write(text)) await once(out, 'drain');
  };
  await write(`${table.columns.map((column) => csvField(column.header, 'text')).join(',')}\r\n`);
  let rows = 0;
  let buffered = '';
  for await (const row of opened.rows) {
    buffered += `${table.columns.map((column) => csvField(row[column.key] ?? null, column.type)).join(',')}\r\n`;
    rows += 1;
    if (buffered.length > 64 * 1024) {
      await write(buffered);
      buffered = '';
    }
    if (rows % PROGRESS_EVERY === 0) options.on_progress?.({ rows });
  }
  if (buffered !== '') await write(buffered);
  out.end();
  await once(out, 'finish');
  options.on_progress?.({ rows });
  return { rows, sheets: 1 };
}
