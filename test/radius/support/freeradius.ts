import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { CODE, signAccessRequest } from '../../../radius-bridge/wire.js';
import { exchange, freeUdpPort } from './udp.js';

/**
 * A stock FreeRADIUS 3.2 (Debian `freeradius` + `freeradius-postgresql`) on free ports, with the configuration
 * the repository ships (deploy/freeradius) reading our tables through rlm_sql. Its accounting tables
 * (radacct, radpostauth, nasreload) can be put in a schema of their own, so its rows and radius-bridge's can
 * be compared side by side; the RADIUS tables it reads are the same views in `public`.
 */
export const FREERADIUS_CONFIG = path.resolve(import.meta.dirname, '../../../deploy/freeradius');

export type RunningFreeRadius = Readonly<{
  auth_port: number;
  acct_port: number;
  /** Where its radacct is ('public' when not separated). */
  schema: string;
  output: () => string;
  stop: () => Promise<void>;
  pid: number;
}>;

export function freeRadiusVersion(): string {
  const run = spawnSync('freeradius', ['-v'], { encoding: 'utf8' });
  if (run.error !== undefined) {
    throw new Error('FreeRADIUS is not installed: apt-get install freeradius freeradius-postgresql freeradius-utils (npm test installs them as root)');
  }
  return /FreeRADIUS Version (\S+)/.exec(run.stdout)?.[1] ?? 'unknown';
}

export async function startFreeRadius(options: Readonly<{ database_url: string; schema?: string; debug?: boolean; secret: string }>): Promise<RunningFreeRadius> {
  freeRadiusVersion();
  const url = new URL(options.database_url);
  const schema = options.schema ?? 'public';
  if (schema !== 'public') {
    if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`schema name ${schema}`);
    const client = new pg.Client({ connectionString: options.database_url });
    await client.connect();
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      for (const table of ['radacct', 'radpostauth', 'nasreload']) await client.query(`CREATE TABLE IF NOT EXISTS ${schema}.${table} (LIKE public.${table} INCLUDING ALL)`);
    } finally {
      await client.end();
    }
  }
  const conninfo = [
    `host=${url.hostname}`,
    `port=${url.port || '5432'}`,
    `dbname=${url.pathname.slice(1)}`,
    `user=${decodeURIComponent(url.username)}`,
    `password=${decodeURIComponent(url.password)}`,
    ...(schema === 'public' ? [] : [`options='-c search_path=${schema},public'`]),
  ].join(' ');
  const run_dir = await mkdtemp(path.join(os.tmpdir(), 'freeradius-run-'));
  const auth_port = await freeUdpPort();
  const acct_port = await freeUdpPort();
  const args = options.debug === true ? ['-X', '-d', FREERADIUS_CONFIG] : ['-f', '-l', 'stdout', '-d', FREERADIUS_CONFIG];
  const child: ChildProcess = spawn('freeradius', args, {
    env: {
      ...process.env,
      ISPBILLS_FREERADIUS_DB: conninfo,
      RADIUS_LISTEN_ADDRESS: '127.0.0.1',
      RADIUS_AUTH_PORT: String(auth_port),
      RADIUS_ACCT_PORT: String(acct_port),
      ISPBILLS_FREERADIUS_RUN_DIR: run_dir,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Keep the tail of its output for failure messages; never let a full pipe stall it.
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-200_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exited: number | null = null;
  child.on('exit', (code) => (exited = code ?? -1));
  const secret = Buffer.from(options.secret);
  const deadline = Date.now() + 20_000;
  for (let attempt = 0; ; attempt += 1) {
    if (exited !== null) throw new Error(`FreeRADIUS exited with ${exited} while starting:\n${output.slice(-5_000)}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`FreeRADIUS did not answer Status-Server within 20 s:\n${output.slice(-5_000)}`);
    }
    const probe = signAccessRequest(attempt % 256, () => Buffer.alloc(0), secret, undefined, CODE.STATUS_SERVER);
    if ((await exchange(probe, auth_port, { timeout_ms: 300 })) !== null) break;
  }
  return {
    auth_port,
    acct_port,
    schema,
    pid: child.pid!,
    output: () => output,
    stop: async () => {
      if (exited === null) {
        const gone = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, 5_000))]);
        if (exited === null) child.kill('SIGKILL');
      }
      await rm(run_dir, { recursive: true, force: true });
    },
  };
}
