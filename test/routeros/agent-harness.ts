import { randomBytes, randomUUID } from 'node:crypto';
import pino from 'pino';
import type { CommandRuntime } from '../../commands/command-runtime.js';
import { createPackage, registerCustomer } from '../../commands/customer-commands.js';
import { assignPackage, setRadiusPolicy } from '../../commands/operator-commands.js';
import { registerRouter, setRouterConnection, setRouterSetup } from '../../commands/router-commands.js';
import type { RegisterCustomer } from '../../domain/customers/registration.js';
import type { RouterTransport } from '../../domain/routers/router-connection.js';
import type { RouterSetup } from '../../domain/routers/router-setup.js';
import { comparePositions, type RecordedEvent } from '../../eventstore/event-store.js';
import { PostgresEventStore } from '../../eventstore/postgres/postgres-event-store.js';
import { RouterAgent, type RouterAgentOptions } from '../../router-agent/agent.js';
import { AesGcmSecretBox } from '../../router-agent/credentials.js';
import { outcomeStream } from '../../router-agent/publisher.js';
import { admin, createDemoIsp, ok, PACKAGE_10M, runtimeOn, type DemoIsp } from '../support/demo-isp.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import type { RouterOsTestServer } from './routeros-test-server.js';

/**
 * What the router-agent tests share: a database of their own, the real command layer, an ISP that lets blocked
 * customers into a suspended pool, routers registered through the real commands and pointed at test routers,
 * and an agent tuned for tests (short polls and backoffs).
 */
export const SUSPENDED_POOL = 'ispbills-suspended';
export const SUSPENDED_LIST = 'ispbills-suspended';

export const testSetup = (overrides: Partial<RouterSetup> = {}): RouterSetup => ({
  radius_address: '10.0.0.10',
  radius_auth_port: 1812,
  radius_accounting_port: 1813,
  radius_timeout_ms: 3_000,
  pppoe_servers: [{ service_name: 'isp-pppoe', interface: 'ether2', default_profile: 'ispbills' }],
  hotspot_profiles: ['hsprof-ispbills'],
  portal_host: 'portal.example.net',
  portal_address: '10.0.0.20',
  suspended_pool_ranges: '100.64.0.2-100.64.3.254',
  static_ip: { mode: 'queue' },
  static_ip_networks: ['10.20.0.0/16'],
  ...overrides,
});

export const agentOptions = (secrets: AesGcmSecretBox, overrides: Partial<RouterAgentOptions['dispatcher']> = {}): RouterAgentOptions => ({
  logger: pino({ level: process.env.AGENT_LOG_LEVEL ?? 'silent' }),
  secrets,
  batch_size: 500,
  poll_interval_ms: 20,
  rate_check_delay_ms: 0,
  max_pending_per_router: 10_000,
  reconcile_interval_ms: 0,
  outbox_retention_ms: 3_600_000,
  leader_retry_ms: 100,
  dispatcher: {
    concurrency_per_router: 8,
    max_routers: 128,
    batch_size: 500,
    max_attempts: 3,
    retry_base_ms: 50,
    retry_max_ms: 200,
    reconnect_base_ms: 50,
    reconnect_max_ms: 300,
    timeouts: { connect_timeout_ms: 2_000, command_timeout_ms: 3_000, idle_timeout_ms: 30_000 },
    rest_plain_http: true,
    ...overrides,
  },
});

export type Harness = Readonly<{
  database: TestDatabase;
  runtime: CommandRuntime;
  store: PostgresEventStore;
  secrets: AesGcmSecretBox;
  demo: DemoIsp;
  /** A second, faster package of the ISP. */
  fast_package: string;
  agent: () => RouterAgent;
  startAgent: (overrides?: Partial<RouterAgentOptions['dispatcher']>) => Promise<RouterAgent>;
  stopAgent: () => Promise<void>;
  addRouter: (server: RouterOsTestServer, options?: Readonly<{ transport?: RouterTransport; setup?: Partial<RouterSetup>; username?: string; password?: string; version?: string }>) => Promise<string>;
  customer: (overrides?: Partial<RegisterCustomer>) => Promise<string>;
  settle: (timeout_ms?: number) => Promise<void>;
  outcomes: (router_id: string) => Promise<readonly RecordedEvent[]>;
  close: () => Promise<void>;
}>;

export async function startHarness(options: Readonly<{ start_agent?: boolean; before_isp?: (database: TestDatabase, key: Buffer) => Promise<void> }> = {}): Promise<Harness> {
  const database = await createTestDatabase(20);
  const store = new PostgresEventStore(database.pool, { poll_interval_ms: 20 });
  const runtime = runtimeOn(database.pool, { now: () => new Date() });
  const key = randomBytes(32);
  const secrets = new AesGcmSecretBox(key);
  let agent: RouterAgent | null = null;
  const startAgent = async (overrides: Partial<RouterAgentOptions['dispatcher']> = {}): Promise<RouterAgent> => {
    agent = new RouterAgent(database.pool, store, agentOptions(secrets, overrides));
    await agent.start();
    const deadline = Date.now() + 5_000;
    while (!agent.leading) {
      if (Date.now() > deadline) throw new Error('the router-agent did not become leader');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return agent;
  };
  // The agent runs before the ISP exists, so everything below happens while it is live.
  if (options.start_agent !== false) await startAgent();
  await options.before_isp?.(database, key);
  const demo = await createDemoIsp(runtime);
  const envelope = admin(demo.tenant);
  ok(await setRadiusPolicy(runtime, envelope, { operator_id: demo.tenant, blocked_access: 'suspended_pool', suspended_pool: SUSPENDED_POOL, suspended_address_list: SUSPENDED_LIST, interim_interval_seconds: 300 }));
  const fast_package = `pkg-fast-${randomUUID().slice(0, 6)}`;
  ok(await createPackage(runtime, envelope, { ...PACKAGE_10M, package_id: fast_package, name: 'Home 20M', down_kbps: 20_000, up_kbps: 5_000 }));
  ok(await assignPackage(runtime, envelope, { operator_id: demo.reseller, package_id: fast_package, wholesale_price: '300.00', effective_from: '2020-01-01' }));
  let nas = 1;

  const settle = async (timeout_ms = 15_000): Promise<void> => {
    const deadline = Date.now() + timeout_ms;
    for (;;) {
      const head = await store.headPosition();
      const checkpoint = (await database.pool.query<{ c: string; p: string }>(`SELECT position_commit AS c, position_prepare AS p FROM router_agent_checkpoint`)).rows[0];
      // Every committed event, not only those the store lets readers see yet: a transaction running anywhere on
      // the server (another test file's) holds the readers' horizon back, and "caught up" must not mean "behind".
      const unseen =
        checkpoint === undefined
          ? 1
          : Number((await database.pool.query<{ n: string }>(`SELECT count(*) AS n FROM events WHERE (tx_id::text::bigint, global_position) > ($1::bigint, $2::bigint)`, [checkpoint.c, checkpoint.p])).rows[0]!.n);
      const caughtUp = checkpoint !== undefined && unseen === 0 && comparePositions({ commit: BigInt(checkpoint.c), prepare: BigInt(checkpoint.p) }, head) >= 0;
      const open = (await database.pool.query<{ due: string; unpublished: string }>(
        `SELECT count(*) FILTER (WHERE state = 'pending' AND not_before <= now() + interval '1 second') AS due,
                count(*) FILTER (WHERE state <> 'pending' AND NOT published) AS unpublished FROM router_outbox`,
      )).rows[0]!;
      // Outcome events are appended after the checkpoint moved; the next look sees them too.
      if (caughtUp && open.due === '0' && open.unpublished === '0') {
        const again = await store.headPosition();
        if (comparePositions(again, head) === 0) return;
      }
      if (Date.now() > deadline) throw new Error(`router-agent did not settle: ${JSON.stringify({ caughtUp, ...open })}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };

  return {
    database,
    runtime,
    store,
    secrets,
    demo,
    fast_package,
    agent: () => agent!,
    startAgent,
    stopAgent: async () => {
      await agent?.stop();
      agent = null;
    },
    addRouter: async (server, routerOptions = {}) => {
      const router_id = `rtr-${randomUUID().slice(0, 8)}`;
      const transport = routerOptions.transport ?? 'api';
      ok(await registerRouter(runtime, envelope, { router_id, name: `Router ${router_id}`, nas_ip: `10.0.${Math.floor(nas / 250)}.${(nas++ % 250) + 1}`, secret: 'radius-secret-1' }));
      ok(await setRouterSetup(runtime, envelope, { router_id, ...testSetup(routerOptions.setup) }));
      ok(
        await setRouterConnection(
          runtime,
          envelope,
          {
            router_id,
            host: '127.0.0.1',
            transport,
            port: transport === 'rest' ? server.rest_port : server.port,
            username: routerOptions.username ?? 'admin',
            password: routerOptions.password ?? 'admin-password',
            routeros_version: routerOptions.version ?? server.version,
          },
          secrets,
        ),
      );
      return router_id;
    },
    customer: async (overrides = {}) => {
      const suffix = randomUUID().slice(0, 8);
      const command: RegisterCustomer = {
        customer_id: `cus-${suffix}`,
        operator_id: demo.tenant,
        connection_type: 'pppoe',
        name: `Customer ${suffix}`,
        mobile: `+88017${Math.floor(10_000_000 + Math.random() * 89_999_999)}`,
        zone: 'Mirpur',
        username: `user-${suffix}`,
        password: 'secret-pass',
        mac: null,
        static_ip: null,
        package_id: demo.package_id,
        profile: { kind: 'monthly', due_day: 1, mode: 'postpaid', grace_days: 5 },
        special_price: null,
        self_registered: false,
        ...overrides,
      };
      return ok(await registerCustomer(runtime, envelope, command)).customer_id;
    },
    settle,
    outcomes: (router_id) => store.readStream(outcomeStream(router_id)),
    close: async () => {
      await agent?.stop();
      await database.close();
    },
  };
}
