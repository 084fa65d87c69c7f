import type { Writable } from 'node:stream';
import ExcelJS from 'exceljs';
import { MoneyFormat } from './money-format.js';
import type { Column, ExportTable, OpenedTable, TableRow, TableValue } from './tables.js';

/**
 * A table export as an Excel workbook, streamed: exceljs' WorkbookWriter writes each row to the zip as it is
 * committed, so 1,000,000 rows take the memory of a few. Cells are typed — amounts are numbers in the
 * currency's number format, days and instants are dates — the header row is frozen and filtered, and the
 * columns have widths. A sheet holds at most 1,048,575 rows under its header (Excel's limit); a longer table
 * goes on in a second sheet with the same header.
 */
export const MAX_ROWS_PER_SHEET = 1_048_575;
const PROGRESS_EVERY = 10_000;

export type ExportProgress = Readonly<{ rows: number }>;
export type ExportSummary = Readonly<{ rows: number; sheets: number }>;

/** Sheet names: at most 31 characters, none of : \ / ? * [ ]. */
const sheetName = (title: string, index: number): string => {
  const base = title.replace(/[:\\/?*[\]]/g, ' ').slice(0, index === 1 ? 31 : 26).trim();
  return index === 1 ? base : `${base} (${index})`;
};

export async function writeXlsx(
  opened: OpenedTable,
  table: Pick<ExportTable, 'columns'>,
  out: Writable,
  options: Readonly<{ created_at: Date; on_progress?: (progress: ExportProgress) => void }>,
): Promise<ExportSummary> {
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useStyles: true, useSharedStrings: false });
  workbook.creator = 'IspBills';
  workbook.created = options.created_at;
  workbook.modified = options.created_at;
  workbook.title = opened.title;
  const money = new MoneyFormat(opened.currency, opened.locale);
  const toCell = cellWriter(money, opened.time_zone);
  const formats: Readonly<Record<Column['type'], string | undefined>> = {
    text: undefined,
    integer: '#,##0',
    money: money.spreadsheetFormat(),
    day: 'yyyy-mm-dd',
    instant: 'yyyy-mm-dd hh:mm:ss',
  };

  let sheet: ExcelJS.Worksheet | null = null;
  let sheets = 0;
  let inSheet = 0;
  const openSheet = (): ExcelJS.Worksheet => {
    sheets += 1;
    const next = workbook.addWorksheet(sheetName(opened.title, sheets), { views: [{ state: 'frozen', ySplit: 1, xSplit: 0 }] });
    next.columns = table.columns.map((column) => ({ key: column.key, width: column.width, ...(formats[column.type] === undefined ? {} : { style: { numFmt: formats[column.type]! } }) }));
    const header = next.addRow(table.columns.map((column) => column.header));
    header.eachCell((cell) => {
      cell.style = { font: { bold: true }, fill: { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFEEF2F6' } }, border: { bottom: { style: 'thin' } }, alignment: { vertical: 'middle' } };
    });
    header.commit();
    inSheet = 0;
    return next;
  };
  const closeSheet = (current: ExcelJS.Worksheet): void => {
    current.autoFilter = { from: { row: 1, column: 1 }, to: { row: inSheet + 1, column: table.columns.length } };
    current.commit();
  };

  let rows = 0;
  sheet = openSheet();
  for await (const row of opened.rows) {
    if (inSheet === MAX_ROWS_PER_SHEET) {
      closeSheet(sheet);
      sheet = openSheet();
    }
    sheet.addRow(table.columns.map((column) => toCell(column, row))).commit();
    inSheet += 1;
    rows += 1;
    if (rows % PROGRESS_EVERY === 0) {
      options.on_progress?.({ rows });
      // Let the zip stream flush what the rows made before more are added.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  closeSheet(sheet);
  await workbook.commit();
  options.on_progress?.({ rows });
  return { rows, sheets };
}

type CellValue = string | number | Date | null;

function cellWriter(money: MoneyFormat, time_zone: string): (column: Column, row: TableRow) => CellValue {
  const wall = wallClock(time_zone);
  return (column, row) => {
    const value: TableValue | undefined = row[column.key];
    if (value === null || value === undefined || value === '') return null;
    switch (column.type) {
      case 'text':
        return String(value);
      case 'integer':
        return typeof value === 'number' ? value : Number(value);
      case 'money':
        return spreadsheetNumber(String(value), money.minor_units);
      case 'day':
        return dayDate(String(value));
      case 'instant':
        return wall(String(value));
    }
  };
}

/**
 * The one place money becomes a JS number: a spreadsheet cell is an IEEE double in the file format. An amount
 * of at most 15 significant digits survives that exactly (it prints back the same); a longer one cannot be a
 * number in any spreadsheet, and refusing is better than writing a different amount.
 */
export function spreadsheetNumber(amount: string, minor_units: number): number {
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(amount);
  if (match === null) throw new Error(`bug: ${JSON.stringify(amount)} is not a decimal amount`);
  const [, sign, whole, fraction = ''] = match;
  const digits = `${whole!.replace(/^0+/, '')}${fraction.replace(/0+$/, '')}`;
  if (digits.length > 15) throw new Error(`${amount} has more than 15 significant digits: a spreadsheet cannot hold it as a number`);
  if (fraction.replace(/0+$/, '').length > minor_units) throw new Error(`bug: ${amount} is finer than the currency's minor unit`);
  const value = Number(amount);
  const expected = `${value === 0 ? '' : sign}${whole!.replace(/^0+(?=\d)/, '')}${minor_units === 0 ? '' : `.${fraction.padEnd(minor_units, '0').slice(0, minor_units)}`}`;
  if (value.toFixed(minor_units) !== expected) throw new Error(`bug: ${amount} did not survive as a number (${value.toFixed(minor_units)})`);
  return value;
}

/** A day (YYYY-MM-DD) as the date cell of that day. */
export function dayDate(day: string): Date {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (match === null) throw new Error(`bug: ${JSON.stringify(day)} is not a day`);
  return new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
}

/** An instant as the date-time cell of its wall time in the zone (spreadsheet dates have no zone). */
function wallClock(time_zone: string): (instant: string) => Date {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: time_zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
  return (instant) => {
    const at = new Date(instant);
    if (Number.isNaN(at.getTime())) throw new Error(`bug: ${JSON.stringify(instant)} is not an instant`);
    const field: Record<string, number> = {};
    for (const part of parts.formatToParts(at)) if (part.type !== 'literal') field[part.type] = Number(part.value);
    return new Date(Date.UTC(field.year!, field.month! - 1, field.day!, field.hour!, field.minute!, field.second!, at.getUTCMilliseconds()));
  };
}
