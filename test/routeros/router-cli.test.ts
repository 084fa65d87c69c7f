import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './agent-harness.js';
import { RouterOsTestServer } from './routeros-test-server.js';

/** `ispbills router setup|reconcile|status` against a running agent, as an operator would type them. */
const run = promisify(execFile);
const bin = path.resolve(import.meta.dirname, '../../bin/ispbills.js');
let harness: Harness;
const server = new RouterOsTestServer();

beforeAll(async () => {
  await server.start();
  harness = await startHarness();
});
afterAll(async () => {
  await harness?.close();
  await server.stop();
});

const ispbills = (...args: string[]) =>
  run(process.execPath, [bin, ...args], { timeout: 90_000, env: { ...process.env, DATABASE_URL: harness.database.url, LOG_LEVEL: 'silent' } }).then(
    (result) => ({ code: 0, ...result }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  );

describe('the router commands of the ispbills CLI', () => {
  // Each run starts a Node process that loads the whole program through tsx: seconds each on a busy machine.
  it('sets up a router through the running agent and shows its status; an unknown router is a clear error', { timeout: 240_000 }, async () => {
    const router_id = await harness.addRouter(server);
    await harness.settle();
    const missing = await ispbills('router', 'setup', 'rtr-nowhere');
    expect(missing.stderr).toContain('[ROUTER_NOT_FOUND]');
    expect(missing).toMatchObject({ code: 1 });
    expect(missing.stderr).toContain('[ROUTER_NOT_FOUND]');
    const setup = await ispbills('router', 'setup', router_id, '--wait', '30');
    expect(setup).toMatchObject({ code: 0 });
    expect(JSON.parse(setup.stdout)).toMatchObject({ state: 'done', outcome: { changes: expect.arrayContaining(['added the RADIUS client']) } });
    expect(server.setting('/radius/incoming')).toMatchObject({ accept: 'yes', port: '3799' });
    const status = await ispbills('router', 'status', '--json');
    expect(JSON.parse(status.stdout)).toContainEqual(expect.objectContaining({ router_id, status: 'up', pending: 0, failed: 0 }));
  });
});
