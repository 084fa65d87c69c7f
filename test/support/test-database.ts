import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { databaseUrl, } from '../../cli/embedded-postgres.js';
import { ensureDatabaseExists, openDatabase, type Database } from '../../cli/database.js';
import { migrateToLatest } from '../../migrations/index.js';

export type TestDatabase = Database & Readonly<{ url: string; name: string }>;

/** A fresh, migrated database on the run's PostgreSQL server, private to the calling test file. */
export async function createTestDatabase(pool_size = 30): Promise<TestDatabase> {
  const server = inject('postgres_server_url');
  const name = `test_${randomBytes(6).toString('hex')}`;
  await ensureDatabaseExists(server, name);
  const url = databaseUrl(server, name);
  const database = openDatabase(url, pool_size);
  await migrateToLatest(database.db);
  return { ...database, url, name };
}
