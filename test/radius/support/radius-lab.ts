import { randomUUID } from 'node:crypto';
import pino from 'pino';
import type { CommandRuntime } from '../../../commands/command-runtime.js';
import { registerRouter } from '../../../commands/router-commands.js';
import { PostgresEventStore } from '../../../eventstore/postgres/postgres-event-store.js';
import { radiusProjection } from '../../../projections/read-models/radius.js';
import { Projector } from '../../../projections/projector.js';
import { waitForProjections } from '../../../projections/status.js';
import { DEFAULT_RADIUS_SETTINGS, startRadius, type RadiusSettings, type RunningRadius } from '../../../radius-bridge/radius-role.js';
import { buildScenario, type Scenario } from '../../projections/scenario.js';
import { lastWritten } from '../../projections/last-written.js';
import { admin, ManualClock, ok, runtimeOn } from '../../support/demo-isp.js';
import { createTestDatabase, type TestDatabase } from '../../support/test-database.js';

/**
 * A small ISP for RADIUS tests: its own database, the scenario's customers of every kind (active PPPoE with a
 * bound MAC, hotspot MAC login, static IP, suspended, expired, disabled, monthly) on a clock that starts now
 * (the servers check Expiration against the real time), one router at 127.0.0.1, and the radius projection
 * running so the FreeRADIUS tables are current.
 */
export const SECRET = 'radius-secret-1';

export type Lab = Readonly<{
  database: TestDatabase;
  runtime: CommandRuntime;
  clock: ManualClock;
  scenario: Scenario;
  router_id: string;
  store: PostgresEventStore;
  /** Waits until the radius projection has applied everything written so far. */
  caughtUp: () => Promise<void>;
  username: (customer_id: string) => Promise<string>;
  column: <T>(customer_id: string, column: string) => Promise<T>;
  startBridge: (settings?: Partial<RadiusSettings>) => Promise<RunningRadius>;
  stop: () => Promise<void>;
}>;

export async function createLab(options: Readonly<{ coa_port?: number; require_message_authenticator?: boolean }> = {}): Promise<Lab> {
  const database = await createTestDatabase(20);
  const clock = new ManualClock(new Date());
  const runtime = runtimeOn(database.pool, clock);
  const scenario = await buildScenario(runtime, clock);
  // The scenario moves its clock 20 days on to expire a customer; later commands happen now again.
  clock.set(new Date());
  const router_id = `router-${randomUUID().slice(0, 8)}`;
  ok(
    await registerRouter(runtime, admin(scenario.tenant), {
      router_id,
      name: 'core-1',
      nas_ip: '127.0.0.1',
      secret: SECRET,
      coa_port: options.coa_port ?? 3799,
      require_message_authenticator: options.require_message_authenticator ?? true,
      description: 'test router',
    }),
  );
  const store = new PostgresEventStore(database.pool, { poll_interval_ms: 20 });
  const projector = new Projector(database.pool, store, [radiusProjection], { poll_interval_ms: 20 });
  projector.start();
  const caughtUp = async (): Promise<void> => waitForProjections(database.pool, ['radius'], await lastWritten(database.pool), { timeout_ms: 20_000 });
  await caughtUp();
  const bridges: RunningRadius[] = [];
  return {
    database,
    runtime,
    clock,
    scenario,
    router_id,
    store,
    caughtUp,
    username: async (customer_id) =>
      (await database.pool.query<{ username: string }>('SELECT username FROM radius_accounts WHERE customer_id = $1', [customer_id])).rows[0]!.username,
    column: async <T>(customer_id: string, column: string) =>
      (await database.pool.query<Record<string, T>>(`SELECT ${column} AS value FROM radius_accounts WHERE customer_id = $1`, [customer_id])).rows[0]!.value as T,
    startBridge: async (settings = {}) => {
      const running = await startRadius(
        database.pool,
        store,
        runtimeOn(database.pool, { now: () => new Date() }),
        { ...DEFAULT_RADIUS_SETTINGS, auth_port: 0, acct_port: 0, poll_interval_ms: 20, ...settings },
        pino({ level: process.env.RADIUS_TEST_LOG ?? 'silent' }),
      );
      bridges.push(running);
      return running;
    },
    stop: async () => {
      for (const bridge of bridges) await bridge.stop();
      await projector.stop();
      await database.close();
    },
  };
}
