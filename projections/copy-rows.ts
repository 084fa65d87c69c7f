import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { ColumnType, ColumnValue, Row, TableSpec } from './projection.js';
import { checkName, qualified } from './table-sql.js';

/**
 * Writes rows into an empty table with `COPY … FROM STDIN` (text format): what a rebuild does once it has folded
 * the log in memory, every row written once in its final state. Values are encoded the way `writeRows`'
 * `jsonb_to_recordset` would read them, so a table filled either way holds the same rows.
 */
export async function copyRows(client: pg.ClientBase, schema: string, spec: TableSpec, rows: Iterable<Row>): Promise<number> {
  const columns = Object.entries(spec.columns);
  const stream = client.query(copyFrom(`COPY ${qualified(schema, spec.name)} (${columns.map(([column]) => checkName('column', column)).join(', ')}) FROM STDIN`));
  const done = new Promise<void>((resolve, reject) => {
    stream.on('finish', resolve);
    stream.on('error', reject);
  });
  let written = 0;
  let chunk = '';
  for (const row of rows) {
    let line = '';
    for (let index = 0; index < columns.length; index += 1) {
      const [column, type] = columns[index]!;
      if (index > 0) line += '\t';
      line += encodeValue(row[column] ?? null, type);
    }
    chunk += `${line}\n`;
    written += 1;
    if (chunk.length >= CHUNK_CHARS) {
      const room = stream.write(chunk);
      chunk = '';
      // Backpressure: PostgreSQL parses slower than Node formats; without waiting, the whole table would queue in memory.
      if (!room) await new Promise<void>((resolve, reject) => {
        const onError = (error: Error): void => reject(error);
        stream.once('error', onError);
        stream.once('drain', () => {
          stream.off('error', onError);
          resolve();
        });
      });
    }
  }
  stream.end(chunk);
  await done;
  return written;
}

const CHUNK_CHARS = 256 * 1024;

/** One value in COPY's text format: `\N` for null, backslash escapes for the characters that delimit. */
export function encodeValue(value: ColumnValue, type: ColumnType): string {
  if (value === null) return '\\N';
  switch (type) {
    case 'boolean':
      return value === true || value === 't' || value === 'true' ? 't' : 'f';
    case 'jsonb':
      return escapeText(JSON.stringify(value));
    case 'text[]':
      if (!Array.isArray(value)) throw new Error(`a text[] column was given ${typeof value}`);
      return escapeText(`{${(value as readonly (string | null)[]).map(arrayElement).join(',')}}`);
    default:
      return escapeText(typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value));
  }
}

/** An element of an array literal, always quoted so commas, braces, spaces and the word NULL stay text. */
function arrayElement(element: string | null): string {
  if (element === null) return 'NULL';
  return `"${String(element).replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

const ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };
const HAS_ESCAPE = /[\\\n\r\t]/;
const EVERY_ESCAPE = /[\\\n\r\t]/g;

function escapeText(text: string): string {
  return HAS_ESCAPE.test(text) ? text.replace(EVERY_ESCAPE, (character) => ESCAPES[character]!) : text;
}
