import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from './support/free-port.js';

/**
 * What a newcomer does on a fresh machine: take the tree as git would clone it (tracked files plus new files
 * git does not ignore, so uncommitted work is tested too), `npm ci`, `npm start`, and expect /health = ok;
 * then Ctrl-C (SIGINT) stops everything, the embedded PostgreSQL included.
 */
const repository = path.resolve(import.meta.dirname, '..');
const workspace = mkdtempSync(path.join(os.tmpdir(), 'ispbills-clone-'));
afterAll(() => rmSync(workspace, { recursive: true, force: true }));

function cloneWorkingTree(target: string): void {
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: repository, encoding: 'utf8' })
    .split('\0')
    .filter((file) => file !== '');
  for (const file of files) {
    const destination = path.join(target, file);
    mkdirSync(path.dirname(destination), { recursive: true });
    try {
      cpSync(path.join(repository, file), destination);
    } catch (error) {
      // A tracked file deleted in the working tree is not part of what a clone of this change would hold.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}

async function waitForHealth(url: string, timeout_ms: number, exited: () => boolean): Promise<unknown> {
  const deadline = Date.now() + timeout_ms;
  let last: unknown = null;
  while (Date.now() < deadline && !exited()) {
    try {
      const response = await fetch(url);
      last = await response.json();
      if (response.ok) return last;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`no healthy answer from ${url}: ${JSON.stringify(last)}`);
}

describe('a fresh clone', () => {
  it('installs with npm ci, starts with npm start on its embedded PostgreSQL, reports /health ok, and stops cleanly', { timeout: 300_000 }, async () => {
    const clone = path.join(workspace, 'ispbills');
    // The embedded PostgreSQL runs as the unprivileged postgres user, which must reach ./data inside the clone.
    mkdirSync(clone, { recursive: true, mode: 0o755 });
    execFileSync('chmod', ['755', workspace]);
    cloneWorkingTree(clone);
    execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: clone, stdio: 'pipe', timeout: 240_000 });

    // First as a newcomer does (npm start, Ctrl-C), then as a container runtime does (node, SIGTERM to it alone).
    const first = await runUntilHealthy(clone, ['npm', 'start'], 'group-SIGINT');
    expect(first.output).toContain('stopped');
    // npm re-raises the SIGINT it got, so it ends by that signal; the program under it logged a clean stop.
    expect(first.code === 0 || first.signal === 'SIGINT', first.output).toBe(true);
    const second = await runUntilHealthy(clone, ['node', 'bin/ispbills.js', 'start'], 'SIGTERM');
    expect(second.code, second.output).toBe(0);
    expect(second.output).toContain('stopped');
    // Nothing may keep serving the clone's data directory after the stop.
    const leftovers = execFileSync('sh', ['-c', `pgrep -f "[b]in/postgres -D ${path.join(clone, 'data')}" || true`], { encoding: 'utf8' }).trim();
    expect(leftovers).toBe('');
  });
});

type Run = Readonly<{ code: number | null; signal: NodeJS.Signals | null; output: string }>;

async function runUntilHealthy(cwd: string, command: readonly string[], stop_with: 'group-SIGINT' | 'SIGTERM'): Promise<Run> {
  const port = await freePort();
  const postgresPort = await freePort();
  const output: string[] = [];
  const child = spawn(command[0]!, command.slice(1), {
    cwd,
    env: { ...process.env, PORT: String(port), EMBEDDED_POSTGRES_PORT: String(postgresPort), DATABASE_URL: '', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so that Ctrl-C can be done as a terminal does it: SIGINT to the whole group.
    detached: true,
  });
  child.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  let ended: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  const exited = new Promise<void>((resolve) => child.on('exit', (code, signal) => ((ended = { code, signal }), resolve())));
  try {
    const health = await waitForHealth(`http://127.0.0.1:${port}/health`, 120_000, () => ended !== null);
    expect(health).toMatchObject({ status: 'ok', database: { status: 'ok' }, event_store: { status: 'ok', kind: 'postgres' } });
    expect(output.join('')).toContain(`http://127.0.0.1:${port}`);
  } catch (error) {
    throw new Error(`${String(error)}\n--- ${command.join(' ')} output ---\n${output.join('')}`);
  } finally {
    if (stop_with === 'group-SIGINT') process.kill(-child.pid!, 'SIGINT');
    else child.kill('SIGTERM');
    const stopped = await Promise.race([exited.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 30_000))]);
    if (!stopped) {
      process.kill(-child.pid!, 'SIGKILL');
      throw new Error(`${command.join(' ')} did not stop within 30 s\n${output.join('')}`);
    }
  }
  const { code, signal } = ended ?? { code: null, signal: null };
  return { code, signal, output: output.join('') };
}
