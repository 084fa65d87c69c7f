import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capabilitiesOf, ROLES, STEP_UP, type Capability, type Role } from '../../api/access/capabilities.js';
import type { RouteAccess, RouteEntry } from '../../api/access/route-access.js';
import { startApiWorld, type ApiWorld, type Session } from './harness.js';
import {
  buildTargets,
  declarationProblem,
  eventCount,
  exampleBody,
  exampleQuery,
  placeholdersOf,
  requestFor,
  routeDocs,
  steppedUpSession,
  TARGETS,
  urlFor,
  type RouteDoc,
  type Target,
  type Targets,
} from './targets.js';

/**
 * The authorisation matrix, generated from app.routeTable: every /api route × every role (and nobody) × a target
 * in the caller's own subtree, in the sibling subtree and in the other ISP. The expected answer comes from the
 * capability table (capabilitiesOf), the step-up rule and the subtree, never from the server:
 *
 * - nobody: 401 (public routes: anything but a 5xx);
 * - a role without the route's capability: 403 FORBIDDEN;
 * - a risky route (step-up) with a session that did not confirm with a passkey: 403 STEP_UP_REQUIRED;
 * - a target outside the caller's subtree (the sibling's, unless the caller works at the ISP level; the other
 *   ISP's always): 404;
 * - otherwise the handler is reached: a 2xx, or the domain's own refusal of the example in the state the matrix
 *   left it in (409 already done, 422 not allowed now, 403 for rules such as "not your own operator") — never an
 *   access refusal, never 400 (the example is valid), never a 404 (the target is in scope). Whether the commands
 *   then succeed is the HTTP scenario's subject (http-scenario.test.ts), not this one's.
 *
 * Every refused request, and every 4xx at all, appends no event. A second pass repeats the step-up routes with
 * sessions that stepped up. A route without `config.access`, or without an example for its body or required
 * query, fails the test by name; so does a route whose handler no cell reached.
 */
let world: ApiWorld;
let targets: Targets;
let docs: ReadonlyMap<string, RouteDoc>;
let manager_permissions: readonly string[] = [];
/** Routes whose handler some cell reached with the example: a 2xx, or the domain's answer to it. */
const reached = new Set<string>();
const counts = { cells: 0, refused: 0, reached: 0 };

beforeAll(async () => {
  world = await startApiWorld();
  targets = await buildTargets(world);
  docs = await routeDocs(world.app);
  const manager = await world.database.pool.query<{ permissions: string[] }>(
    "SELECT s.permissions FROM staff s JOIN logins l ON l.principal_id = s.staff_id WHERE l.login = $1",
    [`manager@${world.a.tenant}`],
  );
  manager_permissions = manager.rows[0]!.permissions;
}, 180_000);
afterAll(async () => world?.close());

/** Staff of the ISP itself see the whole ISP; everyone else sees their operator's subtree only. */
const ISP_LEVEL: ReadonlySet<Role> = new Set<Role>(['admin', 'accountant', 'auditor']);

function visible(role: Role, scope: RouteAccess['scope'], target: Target): boolean {
  if (scope === undefined || scope === 'none' || scope === 'self') return true;
  if (target === 'foreign') return false;
  if (scope === 'tenant' || target === 'own') return true;
  return ISP_LEVEL.has(role);
}

type Expected = Readonly<{ kind: 'refused'; status: number; code: string }> | Readonly<{ kind: 'absent' }> | Readonly<{ kind: 'reached'; strict: boolean }>;

const needsStepUp = (access: RouteAccess): boolean => access.capability !== 'public' && access.capability !== 'authenticated' && (access.step_up ?? STEP_UP.has(access.capability));

function expectedFor(access: RouteAccess, role: Role | null, target: Target, stepped_up: boolean): Expected {
  if (access.capability === 'public') return { kind: 'reached', strict: false };
  if (role === null) return { kind: 'refused', status: 401, code: 'UNAUTHENTICATED' };
  if (access.capability === 'authenticated') return { kind: 'reached', strict: false };
  if (!capabilitiesOf(role, role === 'manager' ? manager_permissions : []).has(access.capability as Capability)) return { kind: 'refused', status: 403, code: 'FORBIDDEN' };
  if (needsStepUp(access) && !stepped_up) return { kind: 'refused', status: 403, code: 'STEP_UP_REQUIRED' };
  if (!visible(role, access.scope, target)) return { kind: 'absent' };
  return { kind: 'reached', strict: true };
}

/** What the access hook answers with; on an `authenticated` route only the first four can come from the door. */
const DOOR_CODES = new Set(['UNAUTHENTICATED', 'SESSION_EXPIRED', 'TOKEN_REVOKED', 'CSRF_TOKEN_INVALID']);
const ACCESS_CODES = new Set([...DOOR_CODES, 'FORBIDDEN', 'STEP_UP_REQUIRED']);

/** What is wrong with an answer, or null. */
function mismatch(expected: Expected, status: number, code: string | undefined): string | null {
  if (status >= 500) return `a server error (${code})`;
  switch (expected.kind) {
    case 'refused':
      return status === expected.status && code === expected.code ? null : `expected ${expected.status} ${expected.code}`;
    case 'absent':
      return status === 404 ? null : 'expected 404: the target is outside the caller’s subtree';
    case 'reached':
      if (status < 400) return null;
      if (code !== undefined && (expected.strict ? ACCESS_CODES : DOOR_CODES).has(code)) return 'expected the handler to be reached, not an access refusal';
      if (expected.strict && status === 400) return 'expected the handler to accept the example (is config.access.example valid?)';
      if (expected.strict && status === 404) return 'expected the in-scope target to be found';
      return null;
  }
}

/** Routes that take away what others use (a session, a package, a router) run after the others. */
const lastly = (route: RouteEntry): number => (route.url.endsWith('/logout') ? 2 : route.method === 'DELETE' || route.url.endsWith('/retire') ? 1 : 0);

const apiRoutes = (): RouteEntry[] =>
  world.routes
    .filter((route) => route.url.startsWith('/api/'))
    .map((route, index) => ({ route, index }))
    .sort((x, y) => lastly(x.route) - lastly(y.route) || x.index - y.index)
    .map(({ route }) => route);

const nameOf = (route: RouteEntry): string => `${route.method} ${route.url}`;

async function runCells(routes: readonly RouteEntry[], sessions: Readonly<Record<string, Session>>, stepped_up: boolean): Promise<string[]> {
  const problems: string[] = [];
  for (const route of routes) {
    const access = route.access!;
    const aimed = placeholdersOf(route).length > 0;
    for (const target of aimed ? TARGETS : (['own'] as const)) {
      const fixtures = targets[target];
      const url = urlFor(route, fixtures);
      const body = exampleBody(route, fixtures);
      const query = exampleQuery(route, fixtures);
      for (const role of [null, ...ROLES] as const) {
        const expected = expectedFor(access, role, target, stepped_up);
        const before = await eventCount(world);
        const response = await world.app.inject(requestFor(role === null ? null : sessions[role]!, route, url, { body, query }));
        const after = await eventCount(world);
        const error = response.statusCode >= 400 ? response.json<{ error?: { code?: string; message?: string } }>().error : undefined;
        counts.cells += 1;
        if (expected.kind === 'reached') counts.reached += 1;
        else counts.refused += 1;
        const cell = `${nameOf(route)} as ${role ?? 'nobody'} on the ${target} target${stepped_up ? ' (stepped up)' : ''}: ${response.statusCode} ${error?.code ?? ''}`;
        const wrong = mismatch(expected, response.statusCode, error?.code);
        if (wrong !== null) problems.push(`${cell} — ${wrong}: ${error?.message ?? response.body.slice(0, 200)}`);
        if (response.statusCode >= 400) {
          if (after !== before) problems.push(`${cell} — appended ${after - before} event(s) although refused`);
          if (typeof error?.code !== 'string' || typeof error.message !== 'string' || error.message.length === 0) problems.push(`${cell} — a 4xx must carry a catalogue code and a message`);
        }
        if (expected.kind === 'reached' && wrong === null) reached.add(nameOf(route));
      }
    }
  }
  return problems;
}

describe('the authorisation matrix', () => {
  it('covers every /api route, each with an access rule and a usable example', () => {
    const routes = apiRoutes();
    expect(routes.length).toBeGreaterThan(70);
    const problems = routes.map((route) => declarationProblem(route, docs.get(nameOf(route)))).filter((problem) => problem !== null);
    expect(problems).toEqual([]);
  });

  it('every route × every role × own, sibling and other-ISP targets answers as the capability table and the subtree say, and a refusal appends nothing', async () => {
    const routes = apiRoutes().filter((route) => declarationProblem(route, docs.get(nameOf(route))) === null);
    const problems = await runCells(routes, world.sessions, false);
    expect(problems).toEqual([]);
  }, 600_000);

  it('the step-up routes, with sessions that confirmed with a passkey, answer by capability and subtree alone', async () => {
    const routes = apiRoutes().filter((route) => declarationProblem(route, docs.get(nameOf(route))) === null && needsStepUp(route.access!));
    expect(routes.map(nameOf)).toEqual(expect.arrayContaining(['POST /api/v1/customers/:customer_id/refunds', 'POST /api/v1/card-batches', 'POST /api/v1/books/:operator_id/entries', 'POST /api/v1/customers/bulk-suspension']));
    const sessions: Record<string, Session> = {};
    for (const role of ROLES) sessions[role] = await steppedUpSession(world, role);
    const problems = await runCells(routes, sessions, true);
    expect(problems).toEqual([]);
  }, 300_000);

  it('reached every route’s handler with its example somewhere: some role may call it, and the example is valid and in scope', () => {
    expect(apiRoutes().map(nameOf).filter((name) => !reached.has(name))).toEqual([]);
    expect(counts.refused).toBeGreaterThan(500);
    expect(counts.reached).toBeGreaterThan(100);
  });
});
