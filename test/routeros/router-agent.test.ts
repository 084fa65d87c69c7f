import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changePackage, disableCustomer, moveCustomer, resumeCustomer, suspendCustomer } from '../../commands/customer-commands.js';
import { requestRouterCommand, waitForCommand } from '../../router-agent/on-demand.js';
import { DROP_RULE_TAG, DUPLICATE_SESSION_SCRIPT } from '../../router-agent/setup.js';
import { admin, ok } from '../support/demo-isp.js';
import { startHarness, SUSPENDED_LIST, SUSPENDED_POOL, type Harness } from './agent-harness.js';
import { RouterOsTestServer } from './routeros-test-server.js';

let harness: Harness;
const servers: RouterOsTestServer[] = [];

beforeAll(async () => {
  harness = await startHarness();
});
afterAll(async () => {
  await harness?.close();
  for (const server of servers) await server.stop();
});

const router = async (options: ConstructorParameters<typeof RouterOsTestServer>[0] = {}): Promise<RouterOsTestServer> => {
  const server = await new RouterOsTestServer(options).start();
  servers.push(server);
  return server;
};

const envelope = () => admin(harness.demo.tenant);

async function onDemand(router_id: string, kind: 'setup' | 'reconcile') {
  const request = await requestRouterCommand(harness.database.pool, router_id, kind, 'test');
  if (!request.ok) throw new Error(request.rejection.message);
  harness.agent().wake();
  const status = await waitForCommand(harness.database.pool, request.command_id, 15_000, 20);
  await harness.settle();
  return status!;
}

describe('one-click setup', () => {
  it('makes the router a NAS of the ISP, and a second run leaves it exactly as the first did', async () => {
    const server = await router();
    // The router's own firewall: an accept rule the drop rule must go in front of.
    server.seed('/ip/firewall/filter', { chain: 'input', action: 'accept', comment: 'winbox' });
    const lanAccept = server.seed('/ip/firewall/filter', { chain: 'forward', action: 'accept', comment: 'lan to wan' });
    const router_id = await harness.addRouter(server);
    await harness.settle();

    const first = await onDemand(router_id, 'setup');
    expect(first).toMatchObject({ state: 'done', outcome: { changes: expect.any(Array) } });
    expect(server.items('/radius')).toEqual([
      expect.objectContaining({
        service: 'ppp,hotspot',
        address: '10.0.0.10',
        secret: 'radius-secret-1',
        'authentication-port': '1812',
        'accounting-port': '1813',
        timeout: '3000ms',
        'require-message-auth': 'yes-for-request-resp',
        comment: 'ispbills',
      }),
    ]);
    expect(server.items('/radius')[0]!['src-address']).toMatch(/^10\.0\.\d+\.\d+$/);
    expect(server.setting('/radius/incoming')).toMatchObject({ accept: 'yes', port: '3799' });
    expect(server.setting('/ppp/aaa')).toMatchObject({ 'use-radius': 'yes', accounting: 'yes', 'interim-update': '5m' });
    expect(server.items('/interface/pppoe-server/server')).toEqual([
      expect.objectContaining({ 'service-name': 'isp-pppoe', interface: 'ether2', 'default-profile': 'ispbills', authentication: 'pap,chap', 'one-session-per-host': 'yes' }),
    ]);
    expect(server.items('/ppp/profile').find((profile) => profile.name === 'ispbills')).toMatchObject({ 'on-up': DUPLICATE_SESSION_SCRIPT });
    expect(server.items('/ip/hotspot/profile').find((profile) => profile.name === 'hsprof-ispbills')).toMatchObject({
      'use-radius': 'yes',
      'radius-accounting': 'yes',
      'login-by': 'mac,http-chap',
      'mac-auth-mode': 'mac-as-username-and-password',
    });
    expect(server.items('/ip/hotspot/walled-garden')).toEqual([expect.objectContaining({ 'dst-host': 'portal.example.net', comment: 'ispbills:portal' })]);
    expect(server.items('/ip/hotspot/walled-garden/ip')).toEqual([expect.objectContaining({ 'dst-address': '10.0.0.20', action: 'accept' })]);
    expect(server.items('/ip/pool').find((pool) => pool.name === SUSPENDED_POOL)).toMatchObject({ ranges: '100.64.0.2-100.64.3.254' });
    const filter = server.items('/ip/firewall/filter');
    const drop = filter.findIndex((rule) => rule.comment === DROP_RULE_TAG);
    expect(filter[drop]).toMatchObject({ chain: 'forward', action: 'drop', 'src-address-list': SUSPENDED_LIST, 'dst-address': '!10.0.0.20' });
    expect(drop).toBeLessThan(filter.findIndex((rule) => rule['.id'] === lanAccept));

    const afterFirst = server.snapshot();
    const changesAfterFirst = server.mutations.length;
    const second = await onDemand(router_id, 'setup');
    expect(second).toMatchObject({ state: 'done', outcome: { changes: [] } });
    expect(server.snapshot()).toEqual(afterFirst);
    expect(server.mutations.length).toBe(changesAfterFirst);

    const outcomes = (await harness.outcomes(router_id)).filter((event) => event.type === 'router-setup-completed');
    expect(outcomes).toHaveLength(2);
    expect((outcomes[0]!.data.changes as string[]).length).toBeGreaterThanOrEqual(10);
    expect(outcomes[1]!.data).toMatchObject({ changes: [], router_id });
  });

  it('moves its drop rule back in front of an accept rule put before it, and does the same over the REST API', async () => {
    const server = await router({ rest: true });
    const router_id = await harness.addRouter(server, { transport: 'rest' });
    await harness.settle();
    expect(await onDemand(router_id, 'setup')).toMatchObject({ state: 'done' });
    expect(server.setting('/radius/incoming')).toMatchObject({ accept: 'yes', port: '3799' });
    expect(server.commands.some((command) => command.startsWith('PUT /radius'))).toBe(true);
    // Someone adds an accept rule at the top: the next setup moves the drop rule in front of it again.
    const items = server.menus.get('/ip/firewall/filter')!;
    server.seed('/ip/firewall/filter', { chain: 'forward', action: 'accept', comment: 'new accept' });
    items.unshift(items.pop()!);
    expect(await onDemand(router_id, 'setup')).toMatchObject({ state: 'done', outcome: { changes: ['moved the drop rule before the first accept rule'] } });
    expect(server.items('/ip/firewall/filter').map((rule) => rule.comment)).toEqual([DROP_RULE_TAG, 'new accept']);
  });

  it('refuses clearly, and changes nothing, when the API user may not write', async () => {
    const server = await router({ users: [{ name: 'readonly', password: 'read-password', group: 'read' }] });
    const router_id = await harness.addRouter(server, { username: 'readonly', password: 'read-password' });
    await harness.settle();
    const before = server.snapshot();
    const status = await onDemand(router_id, 'setup');
    expect(status).toMatchObject({ state: 'failed', outcome: { code: 'ROUTER_API_RIGHTS_MISSING', message: expect.stringContaining('group read') } });
    expect(server.mutations).toEqual([]);
    expect(server.snapshot()).toEqual(before);
    const refused = (await harness.outcomes(router_id)).find((event) => event.type === 'router-setup-refused');
    expect(refused?.data).toMatchObject({ code: 'ROUTER_API_RIGHTS_MISSING' });
  });

  it('refuses before changing anything when an interface it needs is missing', async () => {
    const server = await router({ interfaces: ['ether1'] });
    const router_id = await harness.addRouter(server);
    await harness.settle();
    const status = await onDemand(router_id, 'setup');
    expect(status).toMatchObject({ state: 'failed', outcome: { code: 'ROUTER_NOT_CONFIGURED', message: expect.stringContaining('interface ether2') } });
    expect(server.mutations).toEqual([]);
  });
});

describe('reactions to billing events', () => {
  it('kicks the sessions of a suspended PPPoE customer and of an expired hotspot customer, and records it', async () => {
    const server = await router();
    const router_id = await harness.addRouter(server);
    const pppoe = await harness.customer();
    const hotspot = await harness.customer({ connection_type: 'hotspot', username: null, password: null, mac: 'AA:BB:CC:00:00:07' });
    await harness.settle();
    const pppUser = server.items('/ppp/active').length;
    expect(pppUser).toBe(0);
    const username = (await harness.database.pool.query<{ username: string }>(`SELECT username FROM router_agent_customers WHERE customer_id = $1`, [pppoe])).rows[0]!.username;
    server.pppLogin(username, { address: '10.1.0.5', started_ms_ago: 120_000 });
    server.pppLogin('someone-else', { address: '10.1.0.6' });
    server.hotspotLogin('AA:BB:CC:00:00:07', { address: '10.5.0.9', started_ms_ago: 30_000 });
    ok(await suspendCustomer(harness.runtime, envelope(), { customer_id: pppoe, reason: 'unpaid' }));
    ok(await disableCustomer(harness.runtime, envelope(), { customer_id: hotspot, reason: 'left' }));
    await harness.settle();
    expect(server.items('/ppp/active').map((session) => session.name)).toEqual(['someone-else']);
    expect(server.items('/ip/hotspot/active')).toEqual([]);
    // The dynamic queue went with the session.
    expect(server.items('/queue/simple').some((queue) => queue.name === `<pppoe-${username}>`)).toBe(false);
    const completed = (await harness.outcomes(router_id)).filter((event) => event.type === 'router-command-completed' && event.data.kind === 'kick');
    expect(completed.map((event) => event.data.customer_id).sort()).toEqual([pppoe, hotspot].sort());
    expect(completed.find((event) => event.data.customer_id === pppoe)!.data.changes).toEqual([expect.stringContaining(`PPPoE session`)]);
  });

  it('keeps a static-IP customer’s queue and address lists as billing says, and cleans up after a move and a disable', async () => {
    const server = await router();
    const router_id = await harness.addRouter(server, { setup: { static_ip_networks: ['10.20.1.0/24'] } });
    const listServer = await router();
    const listRouter = await harness.addRouter(listServer, { setup: { static_ip: { mode: 'address-list', list: 'allowed-static' }, static_ip_networks: ['10.20.1.0/24'] } });
    const elsewhere = await router();
    await harness.addRouter(elsewhere, { setup: { static_ip_networks: ['10.99.0.0/16'] } });
    const customer = await harness.customer({ connection_type: 'static_ip', username: null, password: null, static_ip: '10.20.1.5' });
    await harness.settle();
    const queue = () => server.items('/queue/simple').filter((entry) => entry.name === `ispbills-${customer}`);
    const lists = (on: RouterOsTestServer) => on.items('/ip/firewall/address-list').filter((entry) => entry.address === '10.20.1.5').map((entry) => entry.list);
    expect(queue()).toEqual([expect.objectContaining({ target: '10.20.1.5/32', 'max-limit': '2000k/10000k', comment: `ispbills:${customer}:${harness.demo.tenant}` })]);
    expect(lists(listServer)).toEqual(['allowed-static']);
    expect(elsewhere.mutations).toEqual([]);

    ok(await changePackage(harness.runtime, envelope(), { customer_id: customer, package_id: harness.fast_package }));
    await harness.settle();
    expect(queue()).toEqual([expect.objectContaining({ 'max-limit': '5000k/20000k' })]);

    ok(await suspendCustomer(harness.runtime, envelope(), { customer_id: customer, reason: 'unpaid' }));
    await harness.settle();
    expect(queue()).toEqual([]);
    expect(lists(server)).toEqual([SUSPENDED_LIST]);
    expect(lists(listServer)).toEqual([SUSPENDED_LIST]);

    ok(await resumeCustomer(harness.runtime, envelope(), { customer_id: customer }));
    await harness.settle();
    expect(queue()).toHaveLength(1);
    expect(lists(server)).toEqual([]);
    expect(lists(listServer)).toEqual(['allowed-static']);

    ok(await moveCustomer(harness.runtime, envelope(), { customer_id: customer, to_operator_id: harness.demo.reseller, mover_operator_id: harness.demo.tenant }));
    await harness.settle();
    expect(queue()[0]!.comment).toBe(`ispbills:${customer}:${harness.demo.reseller}`);
    expect(listServer.items('/ip/firewall/address-list').filter((entry) => entry.address === '10.20.1.5').map((entry) => entry.comment)).toEqual([`ispbills:${customer}:${harness.demo.reseller}`]);

    ok(await disableCustomer(harness.runtime, envelope(), { customer_id: customer, reason: 'left the area' }));
    await harness.settle();
    expect(queue()).toEqual([]);
    expect(lists(server)).toEqual([]);
    expect(lists(listServer)).toEqual([]);
    const kinds = (await harness.outcomes(router_id)).filter((event) => event.data.kind === 'static').map((event) => event.type);
    expect(kinds).toEqual(Array(6).fill('router-command-completed'));
    expect((await harness.outcomes(listRouter)).filter((event) => event.data.kind === 'static')).toHaveLength(6);
  });

  it('after a package change ends a session still at the old speed, and leaves one a CoA already changed', async () => {
    const server = await router();
    await harness.addRouter(server);
    const slow = await harness.customer();
    const updated = await harness.customer();
    await harness.settle();
    const name = async (customer_id: string) => (await harness.database.pool.query<{ username: string }>(`SELECT username FROM router_agent_customers WHERE customer_id = $1`, [customer_id])).rows[0]!.username;
    server.pppLogin(await name(slow), { rate: '2000000/10000000' });
    server.pppLogin(await name(updated), { rate: '5M/20M' });
    ok(await changePackage(harness.runtime, envelope(), { customer_id: slow, package_id: harness.fast_package }));
    ok(await changePackage(harness.runtime, envelope(), { customer_id: updated, package_id: harness.fast_package }));
    await harness.settle();
    expect(server.items('/ppp/active').map((session) => session.name)).toEqual([await name(updated)]);
  });
});

describe('delivery', () => {
  it('keeps commands while the router is down and delivers them in order when it is back', async () => {
    const server = await router();
    const router_id = await harness.addRouter(server, { setup: { static_ip_networks: ['10.20.2.0/24'] } });
    const customers = [await harness.customer({ connection_type: 'static_ip', username: null, password: null, static_ip: '10.20.2.1' }), await harness.customer({ connection_type: 'static_ip', username: null, password: null, static_ip: '10.20.2.2' })];
    await harness.settle();
    await server.down();
    for (const customer_id of customers) {
      ok(await changePackage(harness.runtime, envelope(), { customer_id, package_id: harness.fast_package }));
      ok(await suspendCustomer(harness.runtime, envelope(), { customer_id, reason: 'unpaid' }));
      ok(await resumeCustomer(harness.runtime, envelope(), { customer_id }));
      ok(await changePackage(harness.runtime, envelope(), { customer_id, package_id: harness.demo.package_id }));
    }
    await expect
      .poll(async () => (await harness.database.pool.query<{ status: string; failures: number }>(`SELECT status, failures FROM router_agent_routers WHERE router_id = $1`, [router_id])).rows[0], { timeout: 10_000 })
      .toMatchObject({ status: 'down', failures: expect.any(Number) });
    // All eight wait, none of them charged an attempt: the router being away is not the commands' fault.
    await expect
      .poll(async () => (await harness.database.pool.query(`SELECT count(*) AS n, max(attempts) AS attempts FROM router_outbox WHERE router_id = $1 AND state = 'pending'`, [router_id])).rows[0], { timeout: 10_000 })
      .toEqual({ n: '8', attempts: 0 });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const before = server.mutations.length;
    await server.up();
    harness.agent().wake();
    await harness.settle(20_000);
    // Which customer each item on the router belongs to, from the adds that made it.
    const owner = new Map<string, string>();
    for (const mutation of server.mutations) {
      const customer_id = customers.find((candidate) => JSON.stringify(mutation.attributes).includes(candidate));
      if (mutation.command.endsWith('/add') && mutation.id !== null && customer_id !== undefined) owner.set(mutation.id, customer_id);
    }
    for (const customer_id of customers) {
      const steps = server.mutations
        .slice(before)
        .filter((mutation) => (mutation.command.endsWith('/add') ? owner.get(mutation.id ?? '') : owner.get(mutation.attributes['.id'] ?? '')) === customer_id);
      // The faster package, then suspended (on the suspended list, queue off), then resumed, then the old speed.
      expect(steps.map((mutation) => `${mutation.command} ${mutation.attributes['max-limit'] ?? mutation.attributes.list ?? ''}`.trim())).toEqual([
        '/queue/simple/set 5000k/20000k',
        `/ip/firewall/address-list/add ${SUSPENDED_LIST}`,
        '/queue/simple/remove',
        '/ip/firewall/address-list/remove',
        '/queue/simple/add 5000k/20000k',
        '/queue/simple/set 2000k/10000k',
      ]);
    }
    for (const customer_id of customers) expect(server.items('/queue/simple').find((queue) => queue.name === `ispbills-${customer_id}`)).toMatchObject({ 'max-limit': '2000k/10000k' });
    expect(server.items('/ip/firewall/address-list').filter((entry) => entry.list === SUSPENDED_LIST && (entry.address ?? '').startsWith('10.20.2.'))).toEqual([]);
    const outcomes = (await harness.outcomes(router_id)).filter((event) => event.data.kind === 'static');
    expect(outcomes).toHaveLength(10);
    expect(outcomes.every((event) => event.type === 'router-command-completed')).toBe(true);
  });

  it('retries a command the router refuses with backoff, records it failed after the limit, and goes on with the rest', async () => {
    const server = await router();
    const router_id = await harness.addRouter(server, { setup: { static_ip_networks: ['10.20.3.0/24'] } });
    await harness.settle();
    server.trap = (command, attributes) => (command === '/queue/simple/add' && attributes.target === '10.20.3.1/32' ? 'failure: not enough memory' : null);
    const refused = await harness.customer({ connection_type: 'static_ip', username: null, password: null, static_ip: '10.20.3.1' });
    const fine = await harness.customer({ connection_type: 'static_ip', username: null, password: null, static_ip: '10.20.3.2' });
    await harness.settle();
    expect(server.commands.filter((command) => command === '/queue/simple/add').length).toBeGreaterThanOrEqual(4);
    const failed = (await harness.outcomes(router_id)).filter((event) => event.type === 'router-command-failed');
    expect(failed).toEqual([expect.objectContaining({ data: expect.objectContaining({ customer_id: refused, attempts: 3, error: { code: 'ROUTEROS_TRAP', message: 'failure: not enough memory' } }) })]);
    expect(server.items('/queue/simple').map((queue) => queue.name)).toEqual([`ispbills-${fine}`]);
    server.trap = null;
  });
});

describe('the reconciler', () => {
  it('finds and heals every kind of drift, confirms it by reading back, and records what it did', async () => {
    const server = await router();
    const router_id = await harness.addRouter(server, { setup: { static_ip_networks: ['10.20.4.0/24', '10.20.9.0/24'] } });
    const wrongSpeed = await harness.customer();
    const suspended = await harness.customer();
    const disabled = await harness.customer();
    const twice = await harness.customer();
    const inPool = await harness.customer();
    const fine = await harness.customer();
    const missingQueue = await harness.customer({ connection_type: 'static_ip', username: null, password: null, static_ip: '10.20.4.1' });
    const slowQueue = await harness.customer({ connection_type: 'static_ip', username: null, password: null, static_ip: '10.20.4.2' });
    ok(await suspendCustomer(harness.runtime, envelope(), { customer_id: suspended, reason: 'unpaid' }));
    ok(await disableCustomer(harness.runtime, envelope(), { customer_id: disabled, reason: 'left' }));
    await harness.settle();
    const login = async (customer_id: string) => (await harness.database.pool.query<{ username: string }>(`SELECT username FROM router_agent_customers WHERE customer_id = $1`, [customer_id])).rows[0]!.username;
    // Drift behind the agent's back: what a lost CoA, a RADIUS outage or a hand edit leaves.
    server.pppLogin(await login(wrongSpeed), { address: '10.1.0.1', rate: '1M/1M' });
    server.pppLogin(await login(suspended), { address: '10.1.0.2', rate: '2M/10M' });
    server.pppLogin(await login(disabled), { address: '10.1.0.3', rate: '2M/10M' });
    server.pppLogin(await login(twice), { address: '10.1.0.4', rate: '2M/10M', started_ms_ago: 600_000 });
    server.pppLogin(await login(twice), { address: '10.1.0.5', rate: '2M/10M', started_ms_ago: 60_000 });
    server.pppLogin(await login(inPool), { address: '100.64.0.9', rate: '2M/10M' });
    server.pppLogin(await login(fine), { address: '10.1.0.6', rate: '2M/10M' });
    server.pppLogin('stranger', { address: '10.1.0.7' });
    server.removeWhere('/queue/simple', (queue) => queue.name === `ispbills-${missingQueue}`);
    server.updateWhere('/queue/simple', (queue) => queue.name === `ispbills-${slowQueue}`, { 'max-limit': '1k/1k' });
    server.seed('/queue/simple', { name: 'ispbills-ghost', target: '10.20.9.9/32', 'max-limit': '1M/1M', dynamic: 'false', comment: `ispbills:ghost:${harness.demo.tenant}` });
    server.seed('/ip/firewall/address-list', { list: SUSPENDED_LIST, address: '10.20.9.9', comment: `ispbills:ghost:${harness.demo.tenant}` });
    server.seed('/queue/simple', { name: 'manual-queue', target: '10.30.0.1/32', 'max-limit': '1M/1M', dynamic: 'false' });

    const status = await onDemand(router_id, 'reconcile');
    expect(status.state).toBe('done');
    const report = status.outcome as { counts: Record<string, number>; confirmed: boolean; healed: number; drift: { kind: string; subject: string }[] };
    expect(report.counts).toEqual({
      'wrong-speed': 2,
      'blocked-online': 1,
      'disabled-online': 1,
      'duplicate-session': 1,
      'active-in-suspended-pool': 1,
      'orphan-session': 1,
      'missing-static': 1,
      'orphan-static': 1,
    });
    expect(report.confirmed).toBe(true);
    expect(server.items('/ppp/active').map((session) => `${session.name}@${session.address}`).sort()).toEqual([`${await login(fine)}@10.1.0.6`, `${await login(twice)}@10.1.0.5`].sort());
    expect(server.items('/queue/simple').filter((queue) => queue.dynamic !== 'true').map((queue) => `${queue.name} ${queue['max-limit']}`).sort()).toEqual(
      [`ispbills-${missingQueue} 2000k/10000k`, `ispbills-${slowQueue} 2000k/10000k`, 'manual-queue 1M/1M'].sort(),
    );
    expect(server.items('/ip/firewall/address-list').filter((entry) => entry.address === '10.20.9.9')).toEqual([]);
    const recorded = (await harness.outcomes(router_id)).filter((event) => event.type === 'router-reconciled').at(-1)!;
    expect(recorded.data).toMatchObject({ reason: 'on-demand', confirmed: true, counts: report.counts });

    // Nothing left to heal: a second run finds no drift and changes nothing.
    const changes = server.mutations.length;
    const again = await onDemand(router_id, 'reconcile');
    expect(again.outcome).toMatchObject({ counts: {}, healed: 0, confirmed: true });
    expect(server.mutations.length).toBe(changes);
  });
});
