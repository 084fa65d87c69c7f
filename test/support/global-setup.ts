import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../../cli/embedded-postgres.js';
import { freePort } from './free-port.js';

declare module 'vitest' {
  export interface ProvidedContext {
    postgres_server_url: string;
  }
}

/**
 * One real PostgreSQL for the whole run: TEST_DATABASE_URL's server when set (it must allow CREATE DATABASE),
 * otherwise an embedded one in a temporary directory. Each test file makes its own database on it.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const given = process.env.TEST_DATABASE_URL;
  if (given !== undefined && given !== '') {
    project.provide('postgres_server_url', given);
    return async () => undefined;
  }
  const directory = await mkdtemp(path.join(os.tmpdir(), 'ispbills-test-pg-'));
  // The server runs as the unprivileged postgres user, which must be able to enter the directory.
  await chmod(directory, 0o755);
  const server = await startEmbeddedPostgres({ data_dir: directory, port: await freePort(), durable: false });
  project.provide('postgres_server_url', server.url);
  return async () => {
    await server.stop();
    await rm(directory, { recursive: true, force: true });
  };
}
