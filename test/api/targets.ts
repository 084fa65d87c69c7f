import { createHash, randomInt, randomUUID } from 'node:crypto';
import type { FastifyInstance, InjectOptions } from 'fastify';
import type { RouteEntry } from '../../api/access/route-access.js';
import { postManualEntry } from '../../commands/book-commands.js';
import { createPackage, registerCustomer } from '../../commands/customer-commands.js';
import { addStaff, assignPackage } from '../../commands/operator-commands.js';
import { generateCardBatch, receivePayment } from '../../commands/payment-commands.js';
import { registerRouter } from '../../commands/router-commands.js';
import { planRun } from '../../commands/scheduler-commands.js';
import { runIdOf } from '../../domain/scheduler/scheduler-run.js';
import { admin, ok, PACKAGE_10M } from '../support/demo-isp.js';
import { as, logIn, PASSWORD, type ApiWorld, type Session } from './harness.js';

/**
 * What the authorisation matrix and the fuzzer aim routes at: for every kind of thing a route names (its path
 * parameters, and `:name` placeholders in its example's body and query), one in the caller's own subtree (under
 * sub-reseller S1 of ISP A, or ISP A itself for ISP-wide things), one in the sibling subtree (reseller R2 of ISP
 * A) and one in the other ISP. Built with the commands directly: these tests are about the API, not the set-up.
 */
export const TARGETS = ['own', 'sibling', 'foreign'] as const;
export type Target = (typeof TARGETS)[number];
export type Targets = Readonly<Record<Target, Readonly<Record<string, string>>>>;

const customer = (operator_id: string, package_id: string, name: string, profile: 'daily' | 'monthly') => ({
  customer_id: `cus-${name}-${randomUUID().slice(0, 6)}`,
  operator_id,
  connection_type: 'pppoe' as const,
  name: `Customer ${name}`,
  mobile: '+8801711111111',
  zone: 'Mirpur',
  username: `${name}-${randomUUID().slice(0, 6)}`,
  password: 'pppoe-secret',
  mac: null,
  static_ip: null,
  package_id,
  profile: profile === 'daily' ? ({ kind: 'daily' } as const) : ({ kind: 'monthly', due_day: 1, mode: 'prepaid', grace_days: 5 } as const),
  special_price: null,
  self_registered: false,
});

export async function buildTargets(world: ApiWorld): Promise<Targets> {
  const { runtime, a, b, customers } = world;
  const place = { own: { tenant: a.tenant, operator_id: a.sub_reseller, customer: customers.own }, sibling: { tenant: a.tenant, operator_id: a.sibling, customer: customers.sibling }, foreign: { tenant: b.tenant, operator_id: b.sub_reseller, customer: customers.foreign } };

  // A package only the sibling reseller may sell: what R1's people may not see.
  const sibling_package = `pkg-sib-${randomUUID().slice(0, 6)}`;
  ok(await createPackage(runtime, admin(a.tenant), { ...PACKAGE_10M, name: 'Sibling only 5M', package_id: sibling_package }));
  ok(await assignPackage(runtime, admin(a.tenant), { operator_id: a.sibling, package_id: sibling_package, wholesale_price: '200.00', effective_from: '2020-01-01' }));

  const built = {} as Record<Target, Record<string, string>>;
  const batches = new Map<string, { batch_id: string; cards: { serial: string; pin: string }[] }>();
  const routers = new Map<string, string>();
  const runs = new Map<string, string>();
  for (const tenant of [a.tenant, b.tenant]) {
    const pins = Array.from({ length: 6 }, (_, index) => `${randomInt(10_000_000, 100_000_000)}${String(index).padStart(8, '0')}`);
    batches.set(tenant, ok(await generateCardBatch(runtime, admin(tenant), { batch_id: `batch-${randomUUID().slice(0, 8)}`, count: 6, value: '500.00', package_id: null, expires_on: '2027-12-31', first_serial: 1 }, () => pins.shift()!)));
    const router_id = `router-${randomUUID().slice(0, 8)}`;
    ok(await registerRouter(runtime, admin(tenant), { router_id, name: 'Core', nas_ip: '10.99.0.1', secret: 'fixture-radius-secret' }));
    routers.set(tenant, router_id);
    // A scheduler run the safety stop held, for the routes that confirm or cancel one.
    const run_id = runIdOf(tenant, 'expiry-sweep', '2026-11-16');
    ok(
      await planRun(runtime, { tenant, actor: { id: 'scheduler', role: 'system' } }, {
        run_id,
        job: 'expiry-sweep',
        local_date: '2026-11-16',
        time_zone: 'Asia/Dhaka',
        previous_local_date: null,
        summary: { counts: { expire: 2 }, samples: {}, amounts: {}, population: 4 },
        hold_reasons: [{ rule: 'share-of-customers', action: 'expire', count: 2, limit: 1, message: 'half the customers would expire at once' }],
      }),
    );
    runs.set(tenant, run_id);
  }
  const monthly = new Map<Target, string>();

  for (const target of ['own', 'sibling', 'foreign'] as const) {
    const { tenant, operator_id } = place[target];
    const package_id = target === 'own' ? a.package_id : target === 'sibling' ? sibling_package : b.package_id;
    const staff_id = `staff-${target}-${randomUUID().slice(0, 6)}`;
    ok(await addStaff(runtime, admin(tenant), { staff_id, operator_id, role: 'auditor', name: `Auditor ${target}`, permissions: [] }));
    const monthly_customer = customer(operator_id, target === 'foreign' ? b.package_id : a.package_id, `monthly-${target}`, 'monthly');
    ok(await registerCustomer(runtime, admin(tenant), monthly_customer));
    monthly.set(target, monthly_customer.customer_id);
    const payment_id = `pay-${target}-${randomUUID().slice(0, 8)}`;
    ok(
      await receivePayment(runtime, admin(tenant), {
        customer_id: place[target].customer,
        payment_id,
        method: 'cash',
        amount: '100.00',
        collected_by: `${tenant}-admin`,
        collector_operator_id: tenant,
        gateway: null,
        gateway_reference: null,
        card: null,
        recharge_package_id: null,
      }),
    );
    const entry_id = `man-${target}-${randomUUID().slice(0, 8)}`;
    ok(
      await postManualEntry(runtime, admin(tenant), {
        book_id: operator_id,
        entry_id,
        date: '2026-11-16',
        memo: `fixture entry (${target})`,
        lines: [
          { account_code: '1000', debit: '1.00' },
          { account_code: '3000', credit: '1.00' },
        ],
      }),
    );
    const batch = batches.get(tenant)!;
    const card = batch.cards[target === 'sibling' ? 1 : 0]!;
    built[target] = {
      customer_id: place[target].customer,
      operator_id,
      package_id,
      staff_id,
      payment_id,
      entry_id,
      batch_id: batch.batch_id,
      serial: card.serial,
      pin: card.pin,
      router_id: routers.get(tenant)!,
      run_id: runs.get(tenant)!,
      // A person at the hotspot: a number and a device of their own per target (the hotspot routes throttle per number and device).
      mobile: `0171100000${TARGETS.indexOf(target)}`,
      mac: `02:00:00:00:00:0${TARGETS.indexOf(target)}`,
      // Tokens are the caller's own; any other is "not found", which is what the matrix sees.
      token_id: randomUUID(),
    };
  }
  await world.settle();
  // Each monthly customer's first bill, issued (prorated) when it was registered.
  for (const target of TARGETS) {
    const bill = await world.database.pool.query<{ bill_id: string }>('SELECT bill_id FROM bills WHERE customer_id = $1', [monthly.get(target)]);
    if (bill.rows[0] === undefined) throw new Error(`the ${target} monthly customer has no bill`);
    built[target].bill_id = bill.rows[0].bill_id;
  }
  return built;
}

// --- routes as the OpenAPI description documents them ---------------------------------------------------------------

export type RouteDoc = Readonly<{ has_body: boolean; query: readonly string[]; required_query: readonly string[] }>;

/** What /docs says each route takes: whether it has a body, which query parameters it requires. */
export async function routeDocs(app: FastifyInstance): Promise<ReadonlyMap<string, RouteDoc>> {
  const spec = (await app.inject({ method: 'GET', url: '/docs/json' })).json<{
    paths: Record<string, Record<string, { requestBody?: unknown; parameters?: { in: string; name: string; required?: boolean }[] }>>;
  }>();
  const docs = new Map<string, RouteDoc>();
  for (const [path, methods] of Object.entries(spec.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      const url = path.replace(/\{([^}]+)\}/g, ':$1');
      docs.set(`${method.toUpperCase()} ${url}`, {
        has_body: operation.requestBody !== undefined,
        query: (operation.parameters ?? []).filter((parameter) => parameter.in === 'query').map((parameter) => parameter.name),
        required_query: (operation.parameters ?? []).filter((parameter) => parameter.in === 'query' && parameter.required === true).map((parameter) => parameter.name),
      });
    }
  }
  return docs;
}

/** Why a route cannot be exercised from its declaration, or null. */
export function declarationProblem(route: RouteEntry, doc: RouteDoc | undefined): string | null {
  const name = `${route.method} ${route.url}`;
  if (route.access === undefined) return `${name} declares no config.access: every /api route must say which capability it needs`;
  if (doc === undefined) return `${name} is not in the OpenAPI description at /docs/json`;
  if (doc.has_body && route.access.example?.body === undefined) return `${name} takes a body but config.access.example has no body: give a valid example so the matrix reaches the handler`;
  const missing = doc.required_query.filter((name) => route.access?.example?.query?.[name] === undefined);
  if (missing.length > 0) return `${name} requires query ${missing.join(', ')} but config.access.example.query does not give it`;
  return null;
}

// --- requests --------------------------------------------------------------------------------------------------------

const PLACEHOLDER = /^:([a-z_]+)$/;

/** The `:name`s a route's path and example refer to. */
export function placeholdersOf(route: RouteEntry): string[] {
  const names = new Set<string>();
  for (const match of route.url.matchAll(/:([a-z_]+)/g)) names.add(match[1]!);
  const visit = (value: unknown): void => {
    if (typeof value === 'string') {
      const match = PLACEHOLDER.exec(value);
      if (match !== null) names.add(match[1]!);
    } else if (Array.isArray(value)) value.forEach(visit);
    else if (value !== null && typeof value === 'object') Object.values(value).forEach(visit);
  };
  visit(route.access?.example?.body);
  visit(route.access?.example?.query);
  return [...names];
}

function fill(value: unknown, fixtures: Readonly<Record<string, string>>): unknown {
  if (typeof value === 'string') {
    const match = PLACEHOLDER.exec(value);
    if (match === null) return value;
    const filled = fixtures[match[1]!];
    if (filled === undefined) throw new Error(`no fixture for the placeholder ${value}`);
    return filled;
  }
  if (Array.isArray(value)) return value.map((item) => fill(item, fixtures));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, fill(item, fixtures)]));
  return value;
}

export const urlFor = (route: RouteEntry, fixtures: Readonly<Record<string, string>>): string =>
  route.url.replace(/:([a-z_]+)/g, (_whole, name: string) => {
    const value = fixtures[name];
    if (value === undefined) throw new Error(`no fixture for the path parameter :${name} of ${route.url}`);
    return encodeURIComponent(value);
  });

export const exampleBody = (route: RouteEntry, fixtures: Readonly<Record<string, string>>): unknown => fill(route.access?.example?.body, fixtures);
export const exampleQuery = (route: RouteEntry, fixtures: Readonly<Record<string, string>>): Record<string, string> => (fill(route.access?.example?.query ?? {}, fixtures) as Record<string, string>);

/** One request as a session (or nobody), with a fresh Idempotency-Key on every write. */
export function requestFor(
  session: Session | null,
  route: RouteEntry,
  url: string,
  parts: Readonly<{ body?: unknown; query?: Readonly<Record<string, string>>; headers?: Record<string, string> }>,
): InjectOptions {
  const write = route.method !== 'GET' && route.method !== 'HEAD';
  const headers: Record<string, string> = { ...(write ? { 'idempotency-key': `key-${randomUUID()}` } : {}), ...(parts.headers ?? {}) };
  return as(session, {
    method: route.method as InjectOptions['method'],
    url,
    ...(parts.query === undefined || Object.keys(parts.query).length === 0 ? {} : { query: { ...parts.query } }),
    ...(parts.body === undefined ? {} : { payload: parts.body as InjectOptions['payload'] }),
    headers,
  });
}

export const eventCount = async (world: ApiWorld): Promise<number> => Number((await world.database.pool.query<{ n: string }>('SELECT count(*) AS n FROM events')).rows[0]!.n);

/**
 * A session confirmed with a passkey. The passkey ceremony itself is tested with a software authenticator
 * elsewhere; here the session row is marked as the step-up verification would mark it.
 */
export async function steppedUpSession(world: ApiWorld, role: string): Promise<Session> {
  const session = await logIn(world.app, `${role}@${world.a.tenant}`, PASSWORD);
  const token = session.cookie.slice('ispbills_session='.length);
  await world.database.pool.query('UPDATE sessions SET step_up_until = $2 WHERE session_hash = $1', [createHash('sha256').update(token).digest(), new Date(world.clock.now().getTime() + 10 * 60_000)]);
  return session;
}
