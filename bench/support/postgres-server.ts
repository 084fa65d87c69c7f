import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { databaseUrl, startEmbeddedPostgres } from '../../cli/embedded-postgres.js';
import { ensureDatabaseExists } from '../../cli/database.js';
import { freePort } from '../../test/support/free-port.js';

export type BenchServer = Readonly<{
  /** URL of the server's maintenance database (`postgres`). */
  server_url: string;
  /** 'embedded' when this process started the server, 'external' for BENCH_DATABASE_URL. */
  kind: 'embedded' | 'external';
  /** The postmaster's process id when the server runs on this machine under our control, else null. */
  postgres_pid: number | null;
  /** Creates a fresh, empty database for one benchmark and returns its URL; `stop` drops it. */
  createDatabase: (prefix: string) => Promise<string>;
  stop: () => Promise<void>;
}>;

/**
 * The server a benchmark measures: BENCH_DATABASE_URL's server when set (the role must be allowed to CREATE
 * DATABASE), otherwise a durable embedded PostgreSQL (fsync on, the production default) in a temporary
 * directory under /tmp, removed again by `stop`.
 */
export async function startBenchServer(log: (line: string) => void): Promise<BenchServer> {
  const given = process.env.BENCH_DATABASE_URL;
  const created: string[] = [];
  const createDatabase = async (server_url: string, prefix: string): Promise<string> => {
    const name = `${prefix}_${randomBytes(4).toString('hex')}`;
    await ensureDatabaseExists(server_url, name);
    created.push(name);
    return databaseUrl(server_url, name);
  };

  if (given !== undefined && given !== '') {
    const server_url = databaseUrl(given, 'postgres');
    log(`using the server of BENCH_DATABASE_URL (${new URL(given).host})`);
    return {
      server_url,
      kind: 'external',
      postgres_pid: null,
      createDatabase: (prefix) => createDatabase(server_url, prefix),
      stop: async () => {
        const client = new pg.Client({ connectionString: server_url });
        await client.connect();
        try {
          for (const name of created) await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        } finally {
          await client.end();
        }
      },
    };
  }

  const directory = await mkdtemp(path.join(os.tmpdir(), 'ispbills-bench-pg-'));
  // The server runs as the unprivileged postgres user, which must be able to enter the directory.
  await chmod(directory, 0o755);
  const port = await freePort();
  log(`starting a durable embedded PostgreSQL in ${directory} on port ${port}`);
  const server = await startEmbeddedPostgres({ data_dir: directory, port, durable: true });
  // The first line of postmaster.pid is the postmaster's pid; its children are the backends and helpers.
  const postgres_pid = Number((await readFile(path.join(directory, 'postgres', 'postmaster.pid'), 'utf8')).split('\n', 1)[0]);
  return {
    server_url: server.url,
    kind: 'embedded',
    postgres_pid: Number.isSafeInteger(postgres_pid) && postgres_pid > 0 ? postgres_pid : null,
    createDatabase: (prefix) => createDatabase(server.url, prefix),
    stop: async () => {
      await server.stop();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

export type ServerFacts = Readonly<{ version: string; settings: Readonly<Record<string, string>> }>;

const REPORTED_SETTINGS = [
  'fsync',
  'synchronous_commit',
  'wal_sync_method',
  'full_page_writes',
  'shared_buffers',
  'wal_buffers',
  'max_wal_size',
  'commit_delay',
] as const;

export async function serverFacts(pool: pg.Pool): Promise<ServerFacts> {
  const version = (await pool.query<{ server_version: string }>('SHOW server_version')).rows[0]!.server_version;
  const rows = (
    await pool.query<{ name: string; setting: string }>(
      `SELECT name, current_setting(name) AS setting FROM pg_settings WHERE name = ANY($1::text[])`,
      [REPORTED_SETTINGS],
    )
  ).rows;
  return { version, settings: Object.fromEntries(rows.map((row) => [row.name, row.setting])) };
}
