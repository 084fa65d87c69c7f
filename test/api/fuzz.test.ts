import { inspect } from 'node:util';
import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capabilitiesOf, STEP_UP, type Capability } from '../../api/access/capabilities.js';
import type { RouteEntry } from '../../api/access/route-access.js';
import { as, PASSWORD, startApiWorld, type ApiWorld, type Session } from './harness.js';
import { buildTargets, declarationProblem, eventCount, exampleBody, exampleQuery, requestFor, routeDocs, steppedUpSession, urlFor, type Targets } from './targets.js';

/**
 * Fuzzing every route's body and query string with fast-check: random JSON, the route's own example mutated
 * (fields dropped, retyped, replaced by huge or hostile strings, unknown and prototype-polluting keys added),
 * malformed JSON and wrong content types, forged paging cursors. Sent as a caller who may call the route and has
 * stepped up (so the handlers are reached, not just the door), aimed at the caller's own targets. Whatever
 * comes in: never a 5xx; a 4xx carries a catalogue code and a message and appends no event; and nothing
 * pollutes Object.prototype.
 */
let world: ApiWorld;
let targets: Targets;
let admin: Session;
let customer: Session;
let routes: RouteEntry[];
let docs: Awaited<ReturnType<typeof routeDocs>>;

beforeAll(async () => {
  world = await startApiWorld();
  targets = await buildTargets(world);
  docs = await routeDocs(world.app);
  routes = world.routes.filter((route) => route.url.startsWith('/api/') && declarationProblem(route, docs.get(`${route.method} ${route.url}`)) === null);
  admin = await steppedUpSession(world, 'admin');
  customer = await steppedUpSession(world, 'customer');
}, 180_000);
afterAll(async () => world?.close());

/** Routes that end the session or take away fixtures are fuzzed last, so the others still have them. */
const lastly = (route: RouteEntry): number => (route.url.endsWith('/logout') ? 2 : route.method === 'DELETE' || route.url.endsWith('/retire') ? 1 : 0);

const sessionFor = (route: RouteEntry): Session => {
  const capability = route.access?.capability;
  if (capability === undefined || capability === 'public' || capability === 'authenticated') return admin;
  return capabilitiesOf('admin').has(capability as Capability) ? admin : customer;
};

// --- arbitraries -------------------------------------------------------------------------------------------------

const HOSTILE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '__defineGetter__'];

/** Text a database or a JSON column chokes on, or a person did not mean. */
const nastyText = fc.constantFrom('\u0000', 'a\u0000b', '\ud800', 'x\udfffy', '\udbff\ud800', '\u0001\u001f', '\u202e', '\uffff', '\ufeff', 'position:9999999999999999999', '2026-02-31');

const hostileString = fc.oneof(
  nastyText,
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('\u0000', 'a\u0000b', '\ud800', 'x\udfffy', '\u202e', '%00', "'; DROP TABLE events; --", '../../etc/passwd', '{{7*7}}', '<script>', ' ', '', '-1', '1e309', 'NaN'),
  fc.constantFrom('position:9999999999999999999', 'position:99999999999999999999', 'position:0', 'position:-1', '2026-11-16T10:00:00+25:00'),
  fc.constantFrom('2026-02-31', '2026-13-01', '0000-00-00', '0000-01-01', '0001-01-01T00:00:00Z', '9999-12-31', '275760-09-13', '2026-11-16T25:00:00Z', '1970-01-01T00:00:00Z'),
  fc.nat({ max: 6 }).map((power) => 'x'.repeat(10 ** power)),
);

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  fc.integer(),
  fc.double(),
  fc.constantFrom(Number.MAX_SAFE_INTEGER, -1, 0, 1e308, null, true, false),
  fc.jsonValue({ maxDepth: 2 }),
  fc.array(hostileString, { maxLength: 3 }),
  fc.constant(Array.from({ length: 2_000 }, (_, index) => `item-${index}`)),
);

type Mutation = (value: unknown) => unknown;

/** Every string in the value replaced by one hostile string: what reaches the most handlers with bad text. */
const poisonStrings = (poison: string): Mutation => {
  const visit = (value: unknown): unknown => {
    if (typeof value === 'string') return poison;
    if (Array.isArray(value)) return value.map(visit);
    if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, visit(inner)]));
    return value;
  };
  return visit;
};

/** One change to a JSON value at a random place in it. */
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  // Short poisons only: every string of a 2,000-element array made a megabyte long would be a 2 GB request.
  fc.oneof(nastyText, fc.string({ maxLength: 40 }), fc.constant('x'.repeat(1_000))).map(poisonStrings),
  fc.tuple(fc.nat(), hostileString).map(
    ([pick, poison]) =>
      ((value: unknown) => {
        // One string field poisoned, the rest of the example intact: the handler runs with everything else valid.
        if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
        const keys = Object.keys(value).filter((key) => typeof (value as Record<string, unknown>)[key] === 'string');
        return keys.length === 0 ? value : { ...(value as object), [keys[pick % keys.length]!]: poison };
      }) as Mutation,
  ),
  hostileValue.map((replacement) => (() => replacement) as Mutation),
  fc.tuple(fc.nat(), hostileValue).map(
    ([pick, replacement]) =>
      ((value: unknown) => {
        if (value === null || typeof value !== 'object' || Array.isArray(value)) return replacement;
        const keys = Object.keys(value);
        if (keys.length === 0) return { field: replacement };
        return { ...(value as object), [keys[pick % keys.length]!]: replacement };
      }) as Mutation,
  ),
  fc.nat().map(
    (pick) =>
      ((value: unknown) => {
        if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
        const keys = Object.keys(value);
        const copy = { ...(value as Record<string, unknown>) };
        if (keys.length > 0) delete copy[keys[pick % keys.length]!];
        return copy;
      }) as Mutation,
  ),
  fc.tuple(fc.constantFrom(...HOSTILE_KEYS, 'unknown_field'), hostileValue).map(
    ([key, extra]) =>
      ((value: unknown) => {
        const base = value !== null && typeof value === 'object' && !Array.isArray(value) ? { ...(value as object) } : {};
        // defineProperty: an own "__proto__" key, as JSON.parse would make it, rather than a prototype change.
        Object.defineProperty(base, key, { value: extra, enumerable: true, configurable: true, writable: true });
        return base;
      }) as Mutation,
  ),
  fc.nat().map(
    (pick) =>
      ((value: unknown) => {
        // Go one level down: mutate a nested object or array element in place of the whole.
        if (value === null || typeof value !== 'object') return value;
        const keys = Object.keys(value);
        if (keys.length === 0) return value;
        const key = keys[pick % keys.length]!;
        const inner = (value as Record<string, unknown>)[key];
        return Array.isArray(value) ? value.map((item, index) => (index === pick % value.length ? [inner, inner] : item)) : { ...(value as object), [key]: [inner] };
      }) as Mutation,
  ),
);

type Body = Readonly<{ kind: 'json'; value: unknown }> | Readonly<{ kind: 'raw'; text: string; content_type: string }> | Readonly<{ kind: 'none' }>;

const rawBodies = fc.constantFrom<Body>(
  { kind: 'raw', text: '{"__proto__":{"polluted":true}}', content_type: 'application/json' },
  { kind: 'raw', text: '{"constructor":{"prototype":{"polluted":true}}}', content_type: 'application/json' },
  { kind: 'raw', text: '{"a":', content_type: 'application/json' },
  { kind: 'raw', text: '[]', content_type: 'application/json' },
  { kind: 'raw', text: 'null', content_type: 'application/json' },
  { kind: 'raw', text: '"just a string"', content_type: 'application/json' },
  { kind: 'raw', text: 'name=x&amount=1', content_type: 'application/x-www-form-urlencoded' },
  { kind: 'raw', text: '<xml/>', content_type: 'text/xml' },
  { kind: 'raw', text: `{"deep":${'['.repeat(5_000)}${']'.repeat(5_000)}}`, content_type: 'application/json' },
  { kind: 'none' },
);

/** One string field of the example poisoned, everything else valid: the input that gets furthest into a handler. */
const poisonOne = (example: unknown): fc.Arbitrary<Body> =>
  fc.tuple(fc.nat(), fc.oneof(nastyText, hostileString)).map(([pick, poison]): Body => {
    const paths: (string | number)[][] = [];
    const visit = (value: unknown, path: (string | number)[]): void => {
      if (typeof value === 'string') paths.push(path);
      else if (Array.isArray(value)) value.forEach((item, index) => visit(item, [...path, index]));
      else if (value !== null && typeof value === 'object') for (const [key, inner] of Object.entries(value)) visit(inner, [...path, key]);
    };
    visit(example, []);
    if (paths.length === 0) return { kind: 'json', value: example };
    const target = paths[pick % paths.length]!;
    const replace = (value: unknown, depth: number): unknown => {
      if (depth === target.length) return poison;
      const step = target[depth]!;
      if (Array.isArray(value)) return value.map((item, index) => (index === step ? replace(item, depth + 1) : item));
      return { ...(value as object), [step]: replace((value as Record<string | number, unknown>)[step], depth + 1) };
    };
    return { kind: 'json', value: replace(example, 0) };
  });

const bodyFor = (example: unknown): fc.Arbitrary<Body> =>
  fc.oneof(
    { weight: 4, arbitrary: poisonOne(example) },
    { weight: 3, arbitrary: fc.array(mutation, { minLength: 1, maxLength: 3 }).map((mutations): Body => ({ kind: 'json', value: mutations.reduce((value, mutate) => mutate(value), example) })) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((value): Body => ({ kind: 'json', value })) },
    { weight: 1, arbitrary: rawBodies },
  );

const forgedCursor = fc.constantFrom(
  Buffer.from(JSON.stringify(['\u0000', '\u0000', '\u0000'])).toString('base64url'),
  Buffer.from(JSON.stringify(['\u0000', 'x'])).toString('base64url'),
  Buffer.from(JSON.stringify(['\ud800'])).toString('base64url'),
  Buffer.from(JSON.stringify(['2026-13-45', 'x'])).toString('base64url'),
  Buffer.from(JSON.stringify(['2026-02-31', 'x'])).toString('base64url'),
  Buffer.from(JSON.stringify(['0000-01-01', 'x'])).toString('base64url'),
  Buffer.from(JSON.stringify(['Tue, 01 Jan 2030 00:00:00 GMT', 'x'])).toString('base64url'),
  Buffer.from(JSON.stringify(['9999999999999999999'])).toString('base64url'),
  Buffer.from(JSON.stringify(['99999999999999999999999'])).toString('base64url'),
  Buffer.from(JSON.stringify([1, 2])).toString('base64url'),
  Buffer.from('not json').toString('base64url'),
  '!!!not-base64!!!',
);

const queryFor = (example: Readonly<Record<string, string>>, documented: readonly string[]): fc.Arbitrary<Record<string, string>> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.tuple(fc.constantFrom(...documented, ...Object.keys(example), 'unknown', ...HOSTILE_KEYS), fc.oneof(hostileString, forgedCursor)).map(([key, value]) => ({ ...example, [key]: value })) },
    { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 12 }), hostileString, { maxKeys: 4 }) },
    { weight: 1, arbitrary: fc.constant({}) },
  );

// --- the property ----------------------------------------------------------------------------------------------

function injectOptions(route: RouteEntry, session: Session, body: Body, query: Record<string, string>): InjectOptions {
  const fixtures = targets.own;
  const base = requestFor(session, route, urlFor(route, fixtures), { query });
  if (body.kind === 'none' || route.method === 'GET') return base;
  if (body.kind === 'json') return { ...base, payload: JSON.stringify(body.value) ?? 'null', headers: { ...base.headers, 'content-type': 'application/json' } };
  return { ...base, payload: body.text, headers: { ...base.headers, 'content-type': body.content_type } };
}

/** Answers from the access hook, not the route: a fuzz that only ever got these never reached the handler. */
const DOOR = new Set(['UNAUTHENTICATED', 'SESSION_EXPIRED', 'FORBIDDEN', 'STEP_UP_REQUIRED', 'CSRF_TOKEN_INVALID']);
const handled = new Set<string>();

describe('fuzzing every route', () => {
  it('refuses every forged paging cursor on every route that pages, with INVALID_CURSOR and never a 5xx', async () => {
    // Deterministic, not sampled, and before the fuzzing (which ends with a fuzzed logout): each forged cursor on each paging route (its decoded parts reach SQL if let through).
    const forged = [['\u0000', 'x'], ['\u0000'], ['x', '\u0000', 'y'], ['2026-02-31', 'x'], ['0000-01-01', 'x'], ['Tue, 01 Jan 2030 00:00:00 GMT', 'x'], ['9999999999999999999'], [1, 2], 'not a list'].map(
      (parts) => Buffer.from(JSON.stringify(parts)).toString('base64url'),
    );
    const paging = routes.filter((route) => route.method === 'GET' && (docs.get(`${route.method} ${route.url}`)?.query ?? []).includes('after'));
    expect(paging.length).toBeGreaterThan(10);
    const wrong: string[] = [];
    for (const route of paging) {
      for (const after of [...forged, '!!!', 'x'.repeat(399)]) {
        const response = await world.app.inject(requestFor(sessionFor(route), route, urlFor(route, targets.own), { query: { ...exampleQuery(route, targets.own), after } }));
        const code = response.statusCode >= 400 ? response.json<{ error?: { code?: string } }>().error?.code : undefined;
        if (response.statusCode >= 500 || (response.statusCode >= 400 && code !== 'INVALID_CURSOR' && code !== 'INVALID_INPUT')) wrong.push(`${route.url} after=${after}: ${response.statusCode} ${response.body.slice(0, 120)}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('never answers 5xx, and a 4xx says what was wrong and appends nothing', async () => {
    const failures: string[] = [];
    const ordered = [...routes].sort((x, y) => lastly(x) - lastly(y));
    expect(ordered.length).toBeGreaterThan(70);
    let requests = 0;
    for (const route of ordered) {
      const session = sessionFor(route);
      const example = exampleBody(route, targets.own) ?? {};
      const query = exampleQuery(route, targets.own);
      const documented = docs.get(`${route.method} ${route.url}`)?.query ?? [];
      const property = fc.asyncProperty(bodyFor(example), queryFor(query, documented), async (body, fuzzedQuery) => {
        const before = await eventCount(world);
        const response = await world.app.inject(injectOptions(route, session, body, fuzzedQuery));
        const after = await eventCount(world);
        requests += 1;
        const code = response.statusCode >= 400 ? response.json<{ error?: { code?: string } }>().error?.code : undefined;
        if (code === undefined || !DOOR.has(code)) handled.add(`${route.method} ${route.url}`);
        if (response.statusCode >= 500) throw new Error(`${response.statusCode}: ${response.body.slice(0, 300)}`);
        if (response.statusCode >= 400) {
          const error = response.json<{ error?: { code?: unknown; message?: unknown } }>().error;
          if (typeof error?.code !== 'string' || typeof error.message !== 'string' || error.message === '') throw new Error(`a ${response.statusCode} without a code and message: ${response.body.slice(0, 300)}`);
          if (after !== before) throw new Error(`a ${response.statusCode} ${error.code} appended ${after - before} event(s)`);
        }
      });
      const outcome = await fc.check(property, { numRuns: route.method === 'GET' ? 20 : 30, endOnFailure: true });
      // Counterexamples may hold megabyte strings: shown bounded.
      const shown = inspect(outcome.counterexample, { depth: 4, maxStringLength: 80, maxArrayLength: 8, breakLength: Infinity });
      if (outcome.failed) failures.push(`${route.method} ${route.url}: ${String(outcome.errorInstance).slice(0, 400)} — counterexample ${shown.slice(0, 600)} (seed ${outcome.seed})`);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(failures).toEqual([]);
    expect(requests).toBeGreaterThan(1500);
    // Not a fuzzing of the door: every route's own checks saw the input (the session may call each route).
    expect(ordered.map((route) => `${route.method} ${route.url}`).filter((name) => !handled.has(name))).toEqual([]);
  }, 900_000);

  it('leaves every projection live: no accepted input made an event the read models cannot apply', async () => {
    // A projection stopped on an event never catches up: wait for the others, then look for the failed one.
    const caughtUp = await world.settle().then(
      () => true,
      () => false,
    );
    const stopped = await world.database.pool.query<{ name: string; failed_event: unknown }>('SELECT name, failed_event FROM projection_generations WHERE failed_event IS NOT NULL');
    expect(stopped.rows).toEqual([]);
    expect(caughtUp).toBe(true);
  });

  it('leaves the server usable: a valid request still works after all that (the fuzzed logout ended the old session)', async () => {
    // The fuzzed login route used up this address's failed-login allowance: log in from another one.
    const login = await world.app.inject({ method: 'POST', url: '/api/v1/auth/login', remoteAddress: '10.42.0.1', payload: { login: `reseller@${world.a.tenant}`, password: PASSWORD } });
    expect(login.statusCode).toBe(200);
    const session: Session = { cookie: `ispbills_session=${login.cookies.find((cookie) => cookie.name === 'ispbills_session')!.value}`, csrf: login.json<{ csrf_token: string }>().csrf_token, role: 'reseller', login: 'reseller' };
    const response = await world.app.inject(as(session, { method: 'GET', url: '/api/v1/operators' }));
    expect(response.statusCode).toBe(200);
    const refund = await world.app.inject(
      as(session, { method: 'POST', url: `/api/v1/customers/${targets.own.customer_id}/refunds`, headers: { 'idempotency-key': 'after-fuzz-1' }, payload: { payment_id: 'nope', amount: '1.00', reason: 'check' } }),
    );
    // Without a passkey step-up, as the capability table says; the fuzzed routes changed nothing about that.
    expect([STEP_UP.has('payments.refund'), refund.statusCode, refund.json().error.code]).toEqual([true, 403, 'STEP_UP_REQUIRED']);
  });
});
