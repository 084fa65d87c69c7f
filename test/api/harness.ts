import { randomUUID } from 'node:crypto';
import type { FastifyInstance, InjectOptions } from 'fastify';
import pino from 'pino';
import { buildApp } from '../../api/app.js';
import { createLogin } from '../../api/access/logins.js';
import type { RouteEntry } from '../../api/access/route-access.js';
import { settingsFor } from '../../api/dependencies.js';
import { registerCustomer } from '../../commands/customer-commands.js';
import { addStaff, createOperator, setCommissionTerms, assignPackage } from '../../commands/operator-commands.js';
import type { CommandRuntime } from '../../commands/command-runtime.js';
import type { NotificationProvider } from '../../notifications/providers.js';
import { PostgresEventStore } from '../../eventstore/postgres/postgres-event-store.js';
import { ALL_PROJECTIONS } from '../../projections/index.js';
import { Projector } from '../../projections/projector.js';
import { waitForProjections } from '../../projections/status.js';
import { lastWritten } from '../projections/last-written.js';
import { admin, createDemoIsp, ManualClock, ok, runtimeOn, type DemoIsp } from '../support/demo-isp.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/**
 * A running API on a fresh database with two ISPs, for tests that go through HTTP only: ISP A with reseller R1
 * (and its sub-reseller S1) and a sibling reseller R2, ISP B elsewhere; a login per role; a customer in each
 * place (own subtree under S1, sibling under R2, foreign in ISP B).
 */
export const PASSWORD = 'correct horse battery';

export type Session = Readonly<{ cookie: string; csrf: string; role: string; login: string }>;

export type ApiWorld = Readonly<{
  app: FastifyInstance;
  database: TestDatabase;
  runtime: CommandRuntime;
  clock: ManualClock;
  projector: Projector;
  a: DemoIsp & { sibling: string };
  b: DemoIsp;
  customers: Readonly<{ own: string; sibling: string; foreign: string }>;
  sessions: Readonly<Record<string, Session>>;
  routes: readonly RouteInfo[];
  /** Waits until every read model has what was written so far. */
  settle: () => Promise<void>;
  close: () => Promise<void>;
}>;

export type RouteInfo = RouteEntry;

export type WorldOptions = Readonly<{
  /** The SMS provider the API sends one-time codes with (default: the log). */
  sms?: NotificationProvider | null;
  /** The address the browser reaches the app at (default http://localhost:3000). */
  public_url?: string;
}>;

export async function startApiWorld(options: WorldOptions = {}): Promise<ApiWorld> {
  const database = await createTestDatabase(20);
  const clock = new ManualClock(new Date('2026-11-16T06:00:00Z'));
  const runtime = runtimeOn(database.pool, clock);
  const store = new PostgresEventStore(database.pool, { poll_interval_ms: 10 });
  const projector = new Projector(database.pool, store, ALL_PROJECTIONS, { poll_interval_ms: 10, retry_after_failure_ms: 200 });
  projector.start();
  const settle = async (): Promise<void> => {
    await waitForProjections(
      database.pool,
      ALL_PROJECTIONS.map((projection) => projection.name),
      await lastWritten(database.pool),
      { timeout_ms: 20_000 },
    );
  };

  const a = await createDemoIsp(runtime, { wallet_top_up: '100000.00' });
  const b = await createDemoIsp(runtime, { wallet_top_up: '100000.00' });
  const sibling = `sib-${randomUUID().slice(0, 8)}`;
  ok(await createOperator(runtime, admin(a.tenant), { operator_id: sibling, parent_id: a.tenant, role: 'reseller', name: 'Sibling Reseller', billing_mode: 'postpaid', credit_limit: '100000' }));
  ok(await setCommissionTerms(runtime, admin(a.tenant), { operator_id: sibling, effective_from: '2020-01-01', terms: { kind: 'share', percent: '50' } }));
  ok(await assignPackage(runtime, admin(a.tenant), { operator_id: sibling, package_id: a.package_id, wholesale_price: '200.00', effective_from: '2020-01-01' }));
  const customer = async (isp: DemoIsp, operator_id: string, name: string): Promise<string> => {
    const customer_id = `cus-${name}-${randomUUID().slice(0, 6)}`;
    ok(
      await registerCustomer(runtime, admin(isp.tenant), {
        customer_id,
        operator_id,
        connection_type: 'pppoe',
        name: `Customer ${name}`,
        mobile: '+8801711111111',
        zone: 'Mirpur',
        username: customer_id,
        password: 'pppoe-secret',
        mac: null,
        static_ip: null,
        package_id: isp.package_id,
        profile: { kind: 'daily' },
        special_price: null,
        self_registered: false,
      }),
    );
    return customer_id;
  };
  const customers = { own: await customer(a, a.sub_reseller, 'own'), sibling: await customer(a, sibling, 'sibling'), foreign: await customer(b, b.sub_reseller, 'foreign') };
  const staff = async (operator_id: string, role: 'manager' | 'accountant' | 'auditor' | 'card_distributor', permissions: string[] = []): Promise<string> => {
    const staff_id = `staff-${role}-${randomUUID().slice(0, 6)}`;
    ok(await addStaff(runtime, admin(a.tenant), { staff_id, operator_id, role, name: `A ${role}`, permissions } as never));
    return staff_id;
  };
  const manager = await staff(a.reseller, 'manager', ['customers.read', 'customers.write', 'customers.recharge', 'customers.suspend', 'payments.collect', 'payments.refund', 'bills.run', 'packages.read', 'cards.read', 'reports.read']);
  const accountant = await staff(a.tenant, 'accountant');
  const auditor = await staff(a.tenant, 'auditor');
  const distributor = await staff(a.reseller, 'card_distributor');
  await settle();

  const principals: Record<string, { kind: 'operator' | 'staff' | 'customer'; id: string }> = {
    admin: { kind: 'operator', id: a.tenant },
    reseller: { kind: 'operator', id: a.reseller },
    sub_reseller: { kind: 'operator', id: a.sub_reseller },
    manager: { kind: 'staff', id: manager },
    accountant: { kind: 'staff', id: accountant },
    auditor: { kind: 'staff', id: auditor },
    card_distributor: { kind: 'staff', id: distributor },
    customer: { kind: 'customer', id: customers.own },
  };
  const app = await buildApp({
    pool: database.pool,
    store,
    logger: pino({ level: 'silent' }),
    clock,
    runtime,
    settings: settingsFor(options.public_url ?? 'http://localhost:3000'),
    ...(options.sms === undefined ? {} : { sms: options.sms }),
  });
  await app.ready();
  for (const [role, principal] of Object.entries(principals)) {
    await createLogin(database.pool, clock, { tenant: a.tenant, login: `${role}@${a.tenant}`, password: PASSWORD, principal_kind: principal.kind, principal_id: principal.id });
  }
  const sessions: Record<string, Session> = {};
  for (const role of Object.keys(principals)) sessions[role] = await logIn(app, `${role}@${a.tenant}`, PASSWORD);
  return {
    app,
    database,
    runtime,
    clock,
    projector,
    a: { ...a, sibling },
    b,
    customers,
    sessions,
    routes: app.routeTable,
    settle,
    close: async () => {
      await app.close();
      await projector.stop();
      await database.close();
    },
  };
}

export async function logIn(app: FastifyInstance, login: string, password: string): Promise<Session> {
  const response = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { login, password } });
  if (response.statusCode !== 200) throw new Error(`login ${login} failed: ${response.statusCode} ${response.body}`);
  const cookie = response.cookies.find((candidate) => candidate.name === 'ispbills_session')!;
  const body = response.json<{ csrf_token: string; role: string }>();
  return { cookie: `ispbills_session=${cookie.value}`, csrf: body.csrf_token, role: body.role, login };
}

/** A request as a logged-in session: the cookie, and the CSRF token on writes. */
export function as(session: Session | null, options: InjectOptions & { headers?: Record<string, string> }): InjectOptions {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (session !== null) {
    headers.cookie = session.cookie;
    if (options.method !== 'GET') headers['x-csrf-token'] = session.csrf;
  }
  return { ...options, headers };
}
