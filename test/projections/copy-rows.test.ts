import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyRows } from '../../projections/copy-rows.js';
import type { Row, TableSpec } from '../../projections/projection.js';
import { createTableSql, tableDigest, writeRows } from '../../projections/table-sql.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/**
 * A rebuild writes its rows with COPY; the live projector writes them with `writeRows` (jsonb_to_recordset). The
 * same rows must land as the same values either way, including the characters COPY's text format delimits with.
 */
const spec: TableSpec = {
  name: 'every_type',
  key: ['id'],
  columns: {
    id: 'text',
    label: 'text',
    count: 'integer',
    position: 'bigint',
    amount: 'numeric',
    day: 'date',
    at: 'timestamptz',
    flag: 'boolean',
    tags: 'text[]',
    detail: 'jsonb',
  },
};

const rows: Row[] = [
  { id: 'plain', label: 'Karim Uddin', count: 3, position: '9007199254740993', amount: '100.50', day: '2026-11-26', at: '2026-11-26T06:00:00.123Z', flag: true, tags: ['a', 'b'], detail: { b: 1, a: [1, 'x'] } },
  {
    id: 'tricky\\one',
    label: 'tab\there, newline\nthere, return\rand a backslash \\ and \\N',
    count: -1,
    position: 0,
    amount: '-0.01',
    day: '1999-12-31',
    at: '2026-03-29T01:30:00.000Z',
    flag: false,
    tags: ['comma,inside', 'quote"inside', 'brace{}', 'NULL', '', 'back\\slash', 'tab\tnewline\n', 'সাকিব'],
    detail: { text: 'line\nbreak\ttab\\slash"quote', nested: { empty: [] }, unicode: 'মিরপুর' },
  },
  { id: 'nulls', label: null, count: null, position: null, amount: null, day: null, at: null, flag: null, tags: null, detail: null },
  { id: 'empty', label: '', count: 0, position: '1', amount: '0', day: '2024-02-29', at: '2026-11-26T00:00:00.000Z', flag: true, tags: [], detail: [] },
];

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase(2);
  for (const schema of ['copied', 'upserted']) {
    await database.pool.query(`CREATE SCHEMA ${schema}`);
    await database.pool.query(createTableSql(schema, spec));
  }
});

afterAll(async () => {
  await database?.close();
});

describe('copyRows', () => {
  it('writes every column type as writeRows does, escapes and all', async () => {
    const client = await database.pool.connect();
    try {
      expect(await copyRows(client, 'copied', spec, rows)).toBe(rows.length);
      await writeRows(client, 'upserted', spec, rows, []);
      const copied = await tableDigest(client, 'copied', spec);
      expect(copied.rows).toBe(rows.length);
      expect(copied).toEqual(await tableDigest(client, 'upserted', spec));
      const tricky = await client.query<{ label: string; tags: string[]; detail: unknown }>(`SELECT label, tags, detail FROM copied.every_type WHERE id = $1`, ['tricky\\one']);
      expect(tricky.rows[0]).toEqual({ label: rows[1]!.label, tags: rows[1]!.tags, detail: rows[1]!.detail });
    } finally {
      client.release();
    }
  });

  it('fails the whole COPY on a bad value and leaves the table as it was', async () => {
    const client = await database.pool.connect();
    try {
      await client.query('CREATE TABLE copied.strict (LIKE copied.every_type)');
      const strict: TableSpec = { ...spec, name: 'strict' };
      await expect(copyRows(client, 'copied', strict, [rows[0]!, { ...rows[0]!, id: 'bad', day: 'not a date' }])).rejects.toThrow(/date/);
      expect((await client.query('SELECT count(*)::int AS n FROM copied.strict')).rows[0]).toEqual({ n: 0 });
    } finally {
      client.release();
    }
  });
});
