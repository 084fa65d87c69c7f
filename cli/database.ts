import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';

export type Database = Readonly<{
  pool: pg.Pool;
  db: Kysely<unknown>;
  close: () => Promise<void>;
}>;

/** One pool per process, shared by the event store (raw SQL on the hot path) and kysely (everything else). */
export function openDatabase(url: string, pool_size = 20): Database {
  const pool = new pg.Pool({
    connectionString: url,
    max: pool_size,
    // A connection that cannot be had in 10 s means the server is gone or the pool is exhausted: fail loudly.
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
    application_name: 'ispbills',
  });
  // An idle client that loses its server must not crash the process; the next query reports the problem.
  pool.on('error', () => undefined);
  // A checked-out client has no pool listener (pg-pool removes it on checkout), so a server going away while one
  // is in use (a shutdown racing ours: Ctrl-C reaches the embedded PostgreSQL too) would be an unhandled 'error'
  // event that kills the process. The query in flight still fails with the error; this only keeps the process up.
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
  });
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
  let closed = false;
  return {
    pool,
    db,
    close: async () => {
      if (closed) return;
      closed = true;
      // Kysely's destroy ends the pool it was given.
      await db.destroy();
    },
  };
}

/** Creates the database if the server lacks it; `CREATE DATABASE` cannot run inside a transaction or take parameters. */
export async function ensureDatabaseExists(server_url: string, database: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(database)) throw new Error(`database name ${database} must be lower-case letters, digits and _`);
  const client = new pg.Client({ connectionString: server_url });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${database}`);
  } finally {
    await client.end();
  }
}
