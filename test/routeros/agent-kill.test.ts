import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { suspendCustomer } from '../../commands/customer-commands.js';
import { admin, ok } from '../support/demo-isp.js';
import type { TestDatabase } from '../support/test-database.js';
import { startHarness, type Harness } from './agent-harness.js';
import { RouterOsTestServer, type Mutation } from './routeros-test-server.js';

/**
 * Exactly-once effect across agent restarts: the agent runs in a child process and is killed with SIGKILL while
 * a command is on the router — carried out there, but its answer not yet back. The next agent process finds
 * the command still pending, runs it again, and the router ends up with every change once: no queue added
 * twice, no session ended twice (nor a session that began after the event), no command lost, and one outcome
 * event per command.
 */
const script = path.resolve(import.meta.dirname, 'agent-child.ts');
const children = new Set<ChildProcess>();
let harness: Harness;
let child_env: NodeJS.ProcessEnv = {};
const server = new RouterOsTestServer();

function startAgent(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', script], { env: { ...process.env, ...child_env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`agent child exited with ${code}: ${stderr}`)));
    child.stdout!.once('data', () => resolve(child));
  });
}

function kill(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/** Holds the `nth` command matching `match`: carried out on the router, never answered. Resolves when it happened. */
function holdNth(match: (mutation: Readonly<{ command: string; attributes: Readonly<Record<string, string>> }>) => boolean, nth: number): Promise<void> {
  let seen = 0;
  return new Promise((resolve) => {
    server.hold = (command, attributes) => {
      if (!match({ command, attributes })) return false;
      seen += 1;
      if (seen !== nth) return false;
      server.hold = null;
      setImmediate(resolve);
      return true;
    };
  });
}

beforeAll(async () => {
  await server.start();
  harness = await startHarness({
    start_agent: false,
    before_isp: async (database: TestDatabase, key: Buffer) => {
      child_env = { AGENT_DATABASE_URL: database.url, AGENT_KEY_HEX: key.toString('hex') };
      // The agent is running before the ISP exists, so every event after this is one it acts on.
      const first = await startAgent();
      await kill(first);
    },
  });
});

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await harness?.close();
  await server.stop();
});

const addsOf = (mutations: readonly Mutation[], command: string) => mutations.filter((mutation) => mutation.command === command);

describe('an agent killed mid-command', () => {
  // Three agent processes start one after another (each loads the program through tsx): slow on a busy machine.
  it('loses nothing and does nothing twice: queues added once each, sessions ended once each', { timeout: 240_000 }, async () => {
    const envelope = admin(harness.demo.tenant);
    const router_id = await harness.addRouter(server, { setup: { static_ip_networks: ['10.20.0.0/16'] } });
    let agent = await startAgent();
    await harness.settle(60_000);

    // Round 1: twenty static-IP customers, the agent killed while the router is adding the 8th queue.
    const held = holdNth((mutation) => mutation.command === '/queue/simple/add', 8);
    const statics: string[] = [];
    for (let index = 1; index <= 20; index += 1) statics.push(await harness.customer({ connection_type: 'static_ip', username: null, password: null, static_ip: `10.20.5.${index}` }));
    await held;
    await kill(agent);
    const pendingAtKill = (await harness.database.pool.query<{ n: string }>(`SELECT count(*) AS n FROM router_outbox WHERE router_id = $1 AND state = 'pending'`, [router_id])).rows[0]!.n;
    expect(Number(pendingAtKill)).toBeGreaterThan(0);
    agent = await startAgent();
    await harness.settle(60_000);

    const queueAdds = addsOf(server.mutations, '/queue/simple/add');
    expect(queueAdds).toHaveLength(20);
    expect(new Set(queueAdds.map((mutation) => mutation.attributes.name)).size).toBe(20);
    for (const customer_id of statics) expect(server.items('/queue/simple').filter((queue) => queue.name === `ispbills-${customer_id}`)).toHaveLength(1);

    // Round 2: ten PPPoE customers online are suspended; the agent is killed while the 4th session is being ended.
    const pppoe: { customer_id: string; login: string }[] = [];
    for (let index = 0; index < 10; index += 1) {
      const customer_id = await harness.customer();
      pppoe.push({ customer_id, login: '' });
    }
    await harness.settle(60_000);
    for (const entry of pppoe) {
      entry.login = (await harness.database.pool.query<{ username: string }>(`SELECT username FROM router_agent_customers WHERE customer_id = $1`, [entry.customer_id])).rows[0]!.username;
      server.pppLogin(entry.login, { address: '10.1.2.3', started_ms_ago: 300_000 });
    }
    const heldKick = holdNth((mutation) => mutation.command === '/ppp/active/remove', 4);
    for (const entry of pppoe) ok(await suspendCustomer(harness.runtime, envelope, { customer_id: entry.customer_id, reason: 'unpaid' }));
    await heldKick;
    await kill(agent);
    // The customer whose kick was in flight dials in again at once (RADIUS puts them in the suspended pool):
    // the restarted agent must not end that new session.
    const removedSoFar = new Set(addsOf(server.mutations, '/ppp/active/remove').map((mutation) => mutation.attributes['.id']));
    const online = new Set(server.items('/ppp/active').map((session) => session.name));
    const redialed = pppoe.filter((entry) => !online.has(entry.login)).at(-1)!;
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    server.pppLogin(redialed.login, { address: '100.64.0.7', started_ms_ago: 0 });
    agent = await startAgent();
    await harness.settle(60_000);

    const removes = addsOf(server.mutations, '/ppp/active/remove').map((mutation) => mutation.attributes['.id']);
    expect(removes).toHaveLength(10);
    expect(new Set(removes).size).toBe(10);
    expect(removedSoFar.size).toBeGreaterThanOrEqual(4);
    expect(server.items('/ppp/active').map((session) => `${session.name}@${session.address}`)).toEqual([`${redialed.login}@100.64.0.7`]);

    // Every command done once, every outcome recorded once.
    const rows = (await harness.database.pool.query<{ state: string; n: string }>(`SELECT state, count(*) AS n FROM router_outbox WHERE router_id = $1 GROUP BY state`, [router_id])).rows;
    expect(rows).toEqual([{ state: 'done', n: String(20 + 10 + 1) }]);
    const outcomes = await harness.outcomes(router_id);
    expect(outcomes).toHaveLength(31);
    expect(new Set(outcomes.map((event) => event.data.command_id)).size).toBe(31);
    await kill(agent);
  });
});
