import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, createDemoIsp, ManualClock, ok, runtimeOn } from '../test/support/demo-isp.js';
import { createTestDatabase, type TestDatabase } from '../test/support/test-database.js';
import { reservationStream } from '../domain/customers/identifiers.js';
import type { RegisterRouter } from '../domain/routers/router.js';
import type { CommandEnvelope, CommandRuntime } from './command-runtime.js';
import { loadOperator, setRadiusPolicy } from './operator-commands.js';
import { loadRouter, registerRouter, removeRouter, updateRouter } from './router-commands.js';
import { routerStream } from './streams.js';

let database: TestDatabase;
let runtime: CommandRuntime;
const clock = new ManualClock(new Date('2026-11-16T06:00:00Z'));

beforeAll(async () => {
  database = await createTestDatabase(10);
  runtime = runtimeOn(database.pool, clock);
});
afterAll(async () => database.close());

const router = (overrides: Partial<RegisterRouter> = {}): RegisterRouter => ({
  router_id: `rtr-${randomUUID().slice(0, 8)}`,
  name: 'Mirpur core',
  nas_ip: '10.0.0.1',
  secret: 'radius-secret-1',
  ...overrides,
});

const as = (tenant: string, role: CommandEnvelope['actor']['role']): CommandEnvelope => ({ tenant, actor: { id: `${tenant}-${role}`, role } });
const code = (result: Readonly<{ ok: boolean }> & Partial<Readonly<{ rejection: { code: string } }>>) => (result.ok ? 'ok' : result.rejection!.code);
const stored = async (stream_id: string) => (await runtime.store.readStream(stream_id)).map((event) => ({ type: event.type, data: event.data }));

describe('router commands on a real PostgreSQL event store', () => {
  it('registers a router with its defaults and holds its NAS IP, normalised, on a reservation stream', async () => {
    const demo = await createDemoIsp(runtime);
    const { router_id } = ok(await registerRouter(runtime, admin(demo.tenant), router({ nas_ip: '2001:0DB8::0001', description: ' rack 2 ' })));
    expect(await stored(routerStream(router_id))).toEqual([
      {
        type: 'router-registered',
        data: { router_id, tenant: demo.tenant, name: 'Mirpur core', nas_ip: '2001:db8::1', secret: 'radius-secret-1', coa_port: 3799, require_message_authenticator: true, description: 'rack 2' },
      },
    ]);
    expect(await stored(reservationStream(demo.tenant, 'nas_ip', '2001:db8::1'))).toEqual([
      { type: 'identifier-reserved', data: { kind: 'nas_ip', value: '2001:db8::1', router_id } },
    ]);
    // The same address spelled differently is the same NAS; another ISP may use it for its own router.
    expect(code(await registerRouter(runtime, admin(demo.tenant), router({ nas_ip: '2001:db8:0:0::1' })))).toBe('NAS_IP_TAKEN');
    const other = await createDemoIsp(runtime);
    expect(code(await registerRouter(runtime, admin(other.tenant), router({ nas_ip: '2001:db8::1' })))).toBe('ok');
  });

  it('the same NAS IP registered for several routers at once: exactly one router gets it', async () => {
    const demo = await createDemoIsp(runtime);
    const results = await Promise.all(Array.from({ length: 6 }, () => registerRouter(runtime, admin(demo.tenant), router({ nas_ip: '10.9.9.9' }))));
    expect(results.map(code).sort()).toEqual(['NAS_IP_TAKEN', 'NAS_IP_TAKEN', 'NAS_IP_TAKEN', 'NAS_IP_TAKEN', 'NAS_IP_TAKEN', 'ok']);
  });

  it('an update to a new NAS IP takes the new one and frees the old one in the same append', async () => {
    const demo = await createDemoIsp(runtime);
    const envelope = admin(demo.tenant);
    const first = ok(await registerRouter(runtime, envelope, router({ nas_ip: '10.0.0.1' }))).router_id;
    const second = ok(await registerRouter(runtime, envelope, router({ nas_ip: '10.0.0.2' }))).router_id;
    expect(code(await updateRouter(runtime, envelope, { router_id: first, nas_ip: '10.0.0.2' }))).toBe('NAS_IP_TAKEN');
    expect((await loadRouter(runtime, demo.tenant, first)).state.nas_ip).toBe('10.0.0.1');

    ok(await updateRouter(runtime, envelope, { router_id: first, nas_ip: '10.0.0.3', coa_port: 1700 }));
    expect((await loadRouter(runtime, demo.tenant, first)).state).toMatchObject({ nas_ip: '10.0.0.3', coa_port: 1700, secret: 'radius-secret-1' });
    ok(await updateRouter(runtime, envelope, { router_id: second, nas_ip: '10.0.0.1' }));
    expect(code(await registerRouter(runtime, envelope, router({ nas_ip: '10.0.0.3' })))).toBe('NAS_IP_TAKEN');

    // Changing anything but the NAS IP touches no reservation; changing nothing appends nothing.
    const reservation = reservationStream(demo.tenant, 'nas_ip', '10.0.0.3');
    const before = await runtime.store.streamRevision(reservation);
    ok(await updateRouter(runtime, envelope, { router_id: first, name: 'Mirpur edge', require_message_authenticator: false }));
    expect(await runtime.store.streamRevision(reservation)).toBe(before);
    const unchanged = await updateRouter(runtime, envelope, { router_id: first, name: 'Mirpur edge' });
    expect(unchanged.ok && unchanged.position).toBeNull();
    expect((await stored(routerStream(first))).map((event) => event.type)).toEqual(['router-registered', 'router-updated', 'router-updated']);
  });

  it('removing a router frees its NAS IP; a removed router can be neither changed nor removed again', async () => {
    const demo = await createDemoIsp(runtime);
    const envelope = admin(demo.tenant);
    const { router_id } = ok(await registerRouter(runtime, envelope, router({ nas_ip: '10.0.0.1' })));
    ok(await removeRouter(runtime, envelope, { router_id }));
    expect(await stored(routerStream(router_id))).toContainEqual({ type: 'router-removed', data: { router_id } });
    expect(code(await removeRouter(runtime, envelope, { router_id }))).toBe('ROUTER_REMOVED');
    expect(code(await updateRouter(runtime, envelope, { router_id, name: 'Back again' }))).toBe('ROUTER_REMOVED');
    expect(code(await registerRouter(runtime, envelope, router({ router_id })))).toBe('ROUTER_ALREADY_EXISTS');
    expect(code(await registerRouter(runtime, envelope, router({ nas_ip: '10.0.0.1' })))).toBe('ok');
  });

  it('lets only the ISP’s admins and managers manage its routers, and one ISP never sees another’s', async () => {
    const a = await createDemoIsp(runtime);
    const b = await createDemoIsp(runtime);
    expect(code(await registerRouter(runtime, as(a.tenant, 'reseller'), router()))).toBe('NOT_PERMITTED');
    expect(code(await registerRouter(runtime, as(a.tenant, 'accountant'), router()))).toBe('NOT_PERMITTED');
    const { router_id } = ok(await registerRouter(runtime, as(a.tenant, 'manager'), router()));
    expect(code(await updateRouter(runtime, as(a.tenant, 'auditor'), { router_id, name: 'Mine now' }))).toBe('NOT_PERMITTED');
    expect(code(await updateRouter(runtime, admin(b.tenant), { router_id, name: 'Mine now' }))).toBe('ROUTER_NOT_FOUND');
    expect(code(await removeRouter(runtime, admin(b.tenant), { router_id }))).toBe('ROUTER_NOT_FOUND');
    expect(code(await removeRouter(runtime, admin(a.tenant), { router_id: 'rtr-never' }))).toBe('ROUTER_NOT_FOUND');
    expect((await loadRouter(runtime, b.tenant, router_id)).state.exists).toBe(false);
    expect((await loadRouter(runtime, a.tenant, router_id)).state.name).toBe('Mirpur core');
    expect(code(await registerRouter(runtime, admin('isp-missing'), router()))).toBe('ISP_NOT_FOUND');
  });
});

describe('the ISP’s RADIUS policy on a real PostgreSQL event store', () => {
  it('is set on the ISP and read back from its operator stream; resellers and other ISPs cannot set it', async () => {
    const demo = await createDemoIsp(runtime);
    const policy = { blocked_access: 'suspended_pool', suspended_pool: 'pool-suspended', suspended_address_list: 'blocked', interim_interval_seconds: 600 } as const;
    ok(await setRadiusPolicy(runtime, admin(demo.tenant), { operator_id: demo.tenant, ...policy }));
    expect((await loadOperator(runtime, demo.tenant, demo.tenant))!.state.radius_policy).toEqual(policy);
    expect((await stored(`operator-${demo.tenant}`)).at(-1)).toEqual({ type: 'radius-policy-set', data: { operator_id: demo.tenant, ...policy } });
    expect(code(await setRadiusPolicy(runtime, admin(demo.tenant), { operator_id: demo.reseller, ...policy }))).toBe('NOT_PERMITTED');
    const other = await createDemoIsp(runtime);
    expect(code(await setRadiusPolicy(runtime, admin(other.tenant), { operator_id: demo.tenant, ...policy }))).toBe('OPERATOR_NOT_FOUND');
    expect(code(await setRadiusPolicy(runtime, admin(demo.tenant), { operator_id: demo.tenant, ...policy, suspended_pool: null }))).toBe('INVALID_INPUT');
  });
});

describe('router API connections and setup settings on a real PostgreSQL event store', () => {
  it('stores the API password only sealed, keeps it when the same password comes again, and refuses bad input without appending', async () => {
    const { AesGcmSecretBox } = await import('../router-agent/credentials.js');
    const { randomBytes } = await import('node:crypto');
    const { setRouterConnection, setRouterSetup } = await import('./router-commands.js');
    const sealer = new AesGcmSecretBox(randomBytes(32));
    const demo = await createDemoIsp(runtime);
    const envelope = admin(demo.tenant);
    const { router_id } = ok(await registerRouter(runtime, envelope, router()));
    const connection = { router_id, host: '192.0.2.1', transport: 'api-ssl' as const, username: 'ispbills', routeros_version: '7.18.2', tls_fingerprint_sha256: 'AB'.repeat(32) };
    ok(await setRouterConnection(runtime, envelope, { ...connection, password: 'correct horse battery' }, sealer));
    const events = await runtime.store.readStream(routerStream(router_id));
    expect(JSON.stringify(events.map((event) => [event.data, event.metadata]))).not.toContain('correct horse');
    const sealed = (events.at(-1)!.data as { password_sealed: string }).password_sealed;
    expect(sealer.open(router_id, sealed)).toBe('correct horse battery');
    expect(events.at(-1)!.data).toMatchObject({ port: 8729, host: '192.0.2.1' });

    const revision = await runtime.store.streamRevision(routerStream(router_id));
    const again = await setRouterConnection(runtime, envelope, { ...connection, password: 'correct horse battery' }, sealer);
    expect(again.ok && again.position).toBeNull();
    expect(code(await setRouterConnection(runtime, envelope, { ...connection, password: 'bell\u0007' }, sealer))).toBe('INVALID_INPUT');
    expect(code(await setRouterConnection(runtime, envelope, { ...connection, password: 'x', routeros_version: 'eight' }, sealer))).toBe('INVALID_INPUT');
    expect(code(await setRouterConnection(runtime, as(demo.tenant, 'reseller'), { ...connection, password: '\u0007' }, sealer))).toBe('NOT_PERMITTED');
    expect(code(await setRouterSetup(runtime, envelope, { router_id, radius_address: 'nowhere', radius_auth_port: 1812, radius_accounting_port: 1813, radius_timeout_ms: 3000, pppoe_servers: [], hotspot_profiles: [], portal_host: null, portal_address: null, suspended_pool_ranges: null, static_ip: { mode: 'none' }, static_ip_networks: [] }))).toBe('INVALID_INPUT');
    expect(await runtime.store.streamRevision(routerStream(router_id))).toBe(revision);

    ok(await setRouterConnection(runtime, envelope, { ...connection, password: null, routeros_version: '7.19' }, sealer));
    const kept = (await runtime.store.readStream(routerStream(router_id))).at(-1)!.data as { password_sealed: string; routeros_version: string };
    expect(kept).toMatchObject({ password_sealed: sealed, routeros_version: '7.19' });
  });
});
