import { describe, expect, it } from 'vitest';
import type { ActorRole } from '../shared/command-context.js';
import { given } from '../shared/decider-spec.js';
import { ROUTER_ID, TENANT, contextAt, routerRegistered } from '../shared/spec-fixtures.js';
import {
  decideRegisterRouter,
  decideRemoveRouter,
  decideSetRouterConnection,
  decideSetRouterSetup,
  decideUpdateRouter,
  evolveRouter,
  initialRouterState,
  type RegisterRouter,
  type RouterEvent,
  type SetRouterConnection,
} from './router.js';
import type { RouterSetup } from './router-setup.js';

const now = contextAt('2026-11-16T06:00:00Z');
const as = (role: ActorRole) => contextAt('2026-11-16T06:00:00Z', { actor: { id: `${role}-1`, role } });
const otherIsp = contextAt('2026-11-16T06:00:00Z', { tenant: 'isp-2' });

const register = (overrides: Partial<RegisterRouter> = {}): RegisterRouter => ({
  router_id: ROUTER_ID,
  name: 'Mirpur core',
  nas_ip: '10.0.0.1',
  secret: 'radius-secret-1',
  ...overrides,
});
const removed: RouterEvent = { type: 'router-removed', data: { router_id: ROUTER_ID } };

describe('registering a router', () => {
  it('records the router in the caller’s ISP, with CoA on port 3799 and Message-Authenticator required by default', () => {
    given(evolveRouter, initialRouterState)
      .when((state) => decideRegisterRouter(state, register(), now))
      .then([routerRegistered()]);
  });

  it('keeps the settings given, the name and description trimmed and the NAS IP normalised', () => {
    given(evolveRouter, initialRouterState)
      .when((state) =>
        decideRegisterRouter(
          state,
          register({ name: '  মিরপুর কোর  ', nas_ip: '2001:0DB8:0:0::1', coa_port: 1700, require_message_authenticator: false, description: ' rack 2\nbehind the OLT ' }),
          now,
        ),
      )
      .then([routerRegistered({ name: 'মিরপুর কোর', nas_ip: '2001:db8::1', coa_port: 1700, require_message_authenticator: false, description: 'rack 2\nbehind the OLT' })]);
  });

  it('lets only the ISP’s admins and managers register routers, before looking at anything else', () => {
    given(evolveRouter, initialRouterState)
      .when((state) => decideRegisterRouter(state, register({ router_id: 'bad id' }), as('manager')))
      .thenRejects('INVALID_INPUT');
    for (const role of ['reseller', 'sub_reseller', 'accountant', 'auditor', 'card_distributor', 'customer', 'system'] as const) {
      given(evolveRouter, initialRouterState, [routerRegistered()])
        .when((state) => decideRegisterRouter(state, register({ router_id: 'bad id' }), as(role)))
        .thenRejects('NOT_PERMITTED');
    }
  });

  it('refuses an id any router ever had, removed or not, before checking the settings', () => {
    given(evolveRouter, initialRouterState, [routerRegistered()])
      .when((state) => decideRegisterRouter(state, register({ nas_ip: 'nonsense' }), now))
      .thenRejects('ROUTER_ALREADY_EXISTS');
    given(evolveRouter, initialRouterState, [routerRegistered(), removed])
      .when((state) => decideRegisterRouter(state, register(), now))
      .thenRejects('ROUTER_ALREADY_EXISTS');
    // Registering the same router again is refused like a customer's second registration, not ignored.
    given(evolveRouter, initialRouterState, [routerRegistered()])
      .when((state) => decideRegisterRouter(state, register(), now))
      .thenRejects('ROUTER_ALREADY_EXISTS');
  });

  it('refuses ids that could blur stream names', () => {
    given(evolveRouter, initialRouterState)
      .when((state) => decideRegisterRouter(state, register({ router_id: 'a:b' }), now))
      .thenRejects('INVALID_INPUT');
  });

  it('checks, in order: the name, the NAS IP, the secret, the CoA port, the description', () => {
    const refusal = (overrides: Partial<RegisterRouter>) =>
      given(evolveRouter, initialRouterState)
        .when((state) => decideRegisterRouter(state, register(overrides), now))
        .thenRejects('INVALID_INPUT').message;
    for (const name of ['', '   ', 'x'.repeat(65), 'core\u0007']) expect(refusal({ name })).toContain('name');
    expect(refusal({ name: 'x'.repeat(64) + '\u0000', nas_ip: 'nonsense' })).toContain('name');
    for (const nas_ip of ['10.0.0.256', '10.0.0', '010.0.0.1', 'router.example.net', 'fe80::1%ether1', '2001:db8::1::2', '']) expect(refusal({ nas_ip })).toContain('NAS IP');
    expect(refusal({ nas_ip: 'nonsense', secret: 'short' })).toContain('NAS IP');
    for (const secret of ['short-7', 's'.repeat(129), 'geheimnis-ä', 'tab\tinside']) expect(refusal({ secret })).toContain('secret');
    expect(refusal({ secret: 'short', coa_port: 0 })).toContain('secret');
    for (const coa_port of [0, 65_536, 3799.5, -1]) expect(refusal({ coa_port })).toContain('CoA port');
    for (const description of ['d'.repeat(501), 'bell\u0007']) expect(refusal({ description })).toContain('description');
  });

  it('takes the widest valid values', () => {
    const settings = { name: 'n'.repeat(64), secret: '~'.repeat(128), coa_port: 65_535, description: 'd'.repeat(500) };
    given(evolveRouter, initialRouterState)
      .when((state) => decideRegisterRouter(state, register({ ...settings, secret: ' '.repeat(7) + '!' }), now))
      .then([routerRegistered({ ...settings, secret: ' '.repeat(7) + '!' })]);
    given(evolveRouter, initialRouterState)
      .when((state) => decideRegisterRouter(state, register({ ...settings, coa_port: 1, nas_ip: '::ffff:10.0.0.1' }), now))
      .then([routerRegistered({ ...settings, coa_port: 1, nas_ip: '10.0.0.1' })]);
  });
});

describe('updating a router', () => {
  it('records the new settings whole; what the update leaves out keeps its value', () => {
    given(evolveRouter, initialRouterState, [routerRegistered({ coa_port: 1700, description: 'rack 2' })])
      .when((state) => decideUpdateRouter(state, { router_id: ROUTER_ID, nas_ip: ' 10.0.0.2 ', require_message_authenticator: false }, now))
      .then([
        {
          type: 'router-updated',
          data: { router_id: ROUTER_ID, name: 'Mirpur core', nas_ip: '10.0.0.2', secret: 'radius-secret-1', coa_port: 1700, require_message_authenticator: false, description: 'rack 2' },
        },
      ]);
  });

  it('folds the update into the router’s state', () => {
    const state = given(evolveRouter, initialRouterState, [
      routerRegistered(),
      { type: 'router-updated', data: { router_id: ROUTER_ID, name: 'Core', nas_ip: '10.0.0.2', secret: 'new-secret', coa_port: 1700, require_message_authenticator: false, description: 'x' } },
    ]).state;
    expect(state).toEqual({
      exists: true,
      removed: false,
      router_id: ROUTER_ID,
      tenant: TENANT,
      name: 'Core',
      nas_ip: '10.0.0.2',
      secret: 'new-secret',
      coa_port: 1700,
      require_message_authenticator: false,
      description: 'x',
      connection: null,
      setup: null,
    });
  });

  it('appends nothing when nothing changes, however the same values are written', () => {
    given(evolveRouter, initialRouterState, [routerRegistered()])
      .when((state) => decideUpdateRouter(state, { router_id: ROUTER_ID, name: ' Mirpur core ', nas_ip: '10.0.0.1', coa_port: 3799 }, now))
      .thenNothingHappens();
  });

  it('checks, in order: the caller may manage routers, the router exists in this ISP, it is not removed, the settings', () => {
    given(evolveRouter, initialRouterState)
      .when((state) => decideUpdateRouter(state, { router_id: ROUTER_ID, coa_port: 0 }, as('auditor')))
      .thenRejects('NOT_PERMITTED');
    given(evolveRouter, initialRouterState)
      .when((state) => decideUpdateRouter(state, { router_id: ROUTER_ID, coa_port: 0 }, now))
      .thenRejects('ROUTER_NOT_FOUND');
    given(evolveRouter, initialRouterState, [routerRegistered(), removed])
      .when((state) => decideUpdateRouter(state, { router_id: ROUTER_ID, coa_port: 0 }, now))
      .thenRejects('ROUTER_REMOVED');
    given(evolveRouter, initialRouterState, [routerRegistered()])
      .when((state) => decideUpdateRouter(state, { router_id: ROUTER_ID, coa_port: 0 }, now))
      .thenRejects('INVALID_INPUT');
    given(evolveRouter, initialRouterState, [routerRegistered()])
      .when((state) => decideUpdateRouter(state, { router_id: ROUTER_ID, nas_ip: '10.0.0.999' }, now))
      .thenRejects('INVALID_INPUT');
  });

  it('knows no router of another ISP', () => {
    given(evolveRouter, initialRouterState, [routerRegistered()])
      .when((state) => decideUpdateRouter(state, { router_id: ROUTER_ID, name: 'Taken over' }, otherIsp))
      .thenRejects('ROUTER_NOT_FOUND');
  });
});

describe('removing a router', () => {
  it('removes a router of the ISP; managers may too', () => {
    given(evolveRouter, initialRouterState, [routerRegistered()])
      .when((state) => decideRemoveRouter(state, ROUTER_ID, as('manager')))
      .then([removed]);
    expect(given(evolveRouter, initialRouterState, [routerRegistered(), removed]).state).toMatchObject({ exists: true, removed: true, nas_ip: '10.0.0.1' });
  });

  it('checks, in order: the caller may manage routers, the router exists in this ISP, it is not removed already', () => {
    given(evolveRouter, initialRouterState)
      .when((state) => decideRemoveRouter(state, ROUTER_ID, as('reseller')))
      .thenRejects('NOT_PERMITTED');
    given(evolveRouter, initialRouterState)
      .when((state) => decideRemoveRouter(state, ROUTER_ID, now))
      .thenRejects('ROUTER_NOT_FOUND');
    given(evolveRouter, initialRouterState, [routerRegistered()])
      .when((state) => decideRemoveRouter(state, ROUTER_ID, otherIsp))
      .thenRejects('ROUTER_NOT_FOUND');
    given(evolveRouter, initialRouterState, [routerRegistered(), removed])
      .when((state) => decideRemoveRouter(state, ROUTER_ID, now))
      .thenRejects('ROUTER_REMOVED');
  });
});

/** A sealed password as the command handler makes it (the domain only checks the shape). */
const SEALED = 'v1.0a1b2c3d.AAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBB.CCCCCCCCCCCC';
const SEALED_2 = 'v1.0a1b2c3d.DDDDDDDDDDDDDDDD.EEEEEEEEEEEEEEEEEEEEEE.FFFFFFFFFFFF';
const FINGERPRINT = 'ab'.repeat(32);

const connect = (overrides: Partial<SetRouterConnection> = {}): SetRouterConnection => ({
  router_id: ROUTER_ID,
  host: '10.0.0.1',
  transport: 'api',
  username: 'ispbills',
  password_sealed: SEALED,
  routeros_version: '7.18.2',
  ...overrides,
});

const connectionSet = (overrides: Record<string, unknown> = {}): RouterEvent =>
  ({
    type: 'router-connection-set',
    data: { router_id: ROUTER_ID, host: '10.0.0.1', transport: 'api', port: 8728, username: 'ispbills', password_sealed: SEALED, routeros_version: '7.18.2', tls_fingerprint_sha256: null, ...overrides },
  }) as RouterEvent;

describe('setting how the agent reaches a router', () => {
  it('records the connection with the transport’s default port, the password only sealed', () => {
    given(evolveRouter, initialRouterState, [routerRegistered()])
      .when((state) => decideSetRouterConnection(state, connect(), now))
      .then([connectionSet()]);
    given(evolveRouter, initialRouterState, [routerRegistered()])
      .when((state) => decideSetRouterConnection(state, connect({ transport: 'api-ssl', host: 'Core-1.Example.NET', tls_fingerprint_sha256: FINGERPRINT }), now))
      .then([connectionSet({ transport: 'api-ssl', port: 8729, host: 'core-1.example.net', tls_fingerprint_sha256: 'AB:'.repeat(31) + 'AB' })]);
    given(evolveRouter, initialRouterState, [routerRegistered()])
      .when((state) => decideSetRouterConnection(state, connect({ transport: 'rest', port: 8443, routeros_version: '7.1' }), now))
      .then([connectionSet({ transport: 'rest', port: 8443, routeros_version: '7.1' })]);
  });

  it('keeps the sealed password when none is given, and appends nothing when nothing changes', () => {
    const state = given(evolveRouter, initialRouterState, [routerRegistered(), connectionSet()]).state;
    expect(state.connection).toMatchObject({ password_sealed: SEALED, port: 8728 });
    given(evolveRouter, initialRouterState, [routerRegistered(), connectionSet()])
      .when((current) => decideSetRouterConnection(current, connect({ password_sealed: null, routeros_version: '7.19' }), now))
      .then([connectionSet({ routeros_version: '7.19' })]);
    given(evolveRouter, initialRouterState, [routerRegistered(), connectionSet()])
      .when((current) => decideSetRouterConnection(current, connect({ password_sealed: null }), now))
      .thenNothingHappens();
    given(evolveRouter, initialRouterState, [routerRegistered(), connectionSet()])
      .when((current) => decideSetRouterConnection(current, connect({ password_sealed: SEALED_2 }), now))
      .then([connectionSet({ password_sealed: SEALED_2 })]);
  });

  it('checks, in order: the caller, the router, not removed, a password, then host, transport, port, user, sealing, version, fingerprint', () => {
    given(evolveRouter, initialRouterState, [routerRegistered()])
      .when((state) => decideSetRouterConnection(state, connect({ host: '' }), as('reseller')))
      .thenRejects('NOT_PERMITTED');
    given(evolveRouter, initialRouterState, [routerRegistered()])
      .when((state) => decideSetRouterConnection(state, connect(), otherIsp))
      .thenRejects('ROUTER_NOT_FOUND');
    given(evolveRouter, initialRouterState, [routerRegistered(), removed])
      .when((state) => decideSetRouterConnection(state, connect(), now))
      .thenRejects('ROUTER_REMOVED');
    const refusal = (overrides: Partial<SetRouterConnection>) =>
      given(evolveRouter, initialRouterState, [routerRegistered()])
        .when((state) => decideSetRouterConnection(state, connect(overrides), now))
        .thenRejects('INVALID_INPUT').message;
    expect(refusal({ password_sealed: null })).toContain('no API password');
    for (const host of ['', 'bad host', '-x.example', 'a..b', '999.1.1.1']) expect(refusal({ host })).toContain('host');
    expect(refusal({ transport: 'telnet' as never })).toContain('transport');
    for (const port of [0, 65_536, 80.5]) expect(refusal({ port })).toContain('port');
    for (const username of ['', 'a b', 'x'.repeat(65)]) expect(refusal({ username })).toContain('user name');
    // A password pasted in where the sealed one belongs never reaches an event.
    for (const password_sealed of ['hunter2-password', 'v1.short']) expect(refusal({ password_sealed })).toContain('sealed');
    for (const routeros_version of ['', 'seven', '5.26', '8.0', '7.x']) expect(refusal({ routeros_version })).toContain('version');
    expect(refusal({ transport: 'rest', routeros_version: '6.49.17' })).toContain('REST');
    expect(refusal({ tls_fingerprint_sha256: FINGERPRINT })).toContain('transport api has no TLS');
    expect(refusal({ transport: 'api-ssl', tls_fingerprint_sha256: 'abcd' })).toContain('fingerprint');
  });
});

const setup = (overrides: Partial<RouterSetup> = {}): RouterSetup => ({
  radius_address: '10.0.0.10',
  radius_auth_port: 1812,
  radius_accounting_port: 1813,
  radius_timeout_ms: 3_000,
  pppoe_servers: [{ service_name: 'isp-pppoe', interface: 'ether2', default_profile: 'ispbills' }],
  hotspot_profiles: ['hsprof1'],
  portal_host: 'portal.example.net',
  portal_address: '10.0.0.20',
  suspended_pool_ranges: '100.64.0.2-100.64.3.254',
  static_ip: { mode: 'queue' },
  static_ip_networks: ['10.20.0.0/16'],
  ...overrides,
});

describe('setting what one-click setup puts on a router', () => {
  it('records the setup normalised', () => {
    given(evolveRouter, initialRouterState, [routerRegistered()])
      .when((state) => decideSetRouterSetup(state, { router_id: ROUTER_ID, ...setup({ portal_host: 'Portal.Example.NET', static_ip_networks: ['2001:DB8::/32', '10.20.0.0/16'], suspended_pool_ranges: '100.64.0.0/22, 100.65.0.1' }) }, now))
      .then([
        {
          type: 'router-setup-set',
          data: { router_id: ROUTER_ID, ...setup({ portal_host: 'portal.example.net', static_ip_networks: ['2001:db8::/32', '10.20.0.0/16'], suspended_pool_ranges: '100.64.0.0/22,100.65.0.1' }) },
        },
      ]);
  });

  it('appends nothing when the same setup is set again, and folds it into the state', () => {
    const history: RouterEvent[] = [routerRegistered(), { type: 'router-setup-set', data: { router_id: ROUTER_ID, ...setup() } }];
    expect(given(evolveRouter, initialRouterState, history).state.setup).toEqual(setup());
    given(evolveRouter, initialRouterState, history)
      .when((state) => decideSetRouterSetup(state, { router_id: ROUTER_ID, ...setup() }, now))
      .thenNothingHappens();
  });

  it('checks the caller and the router first, then each value in order', () => {
    given(evolveRouter, initialRouterState, [routerRegistered()])
      .when((state) => decideSetRouterSetup(state, { router_id: ROUTER_ID, ...setup({ radius_address: 'x' }) }, as('accountant')))
      .thenRejects('NOT_PERMITTED');
    given(evolveRouter, initialRouterState, [routerRegistered(), removed])
      .when((state) => decideSetRouterSetup(state, { router_id: ROUTER_ID, ...setup() }, now))
      .thenRejects('ROUTER_REMOVED');
    const refusal = (overrides: Partial<RouterSetup>) =>
      given(evolveRouter, initialRouterState, [routerRegistered()])
        .when((state) => decideSetRouterSetup(state, { router_id: ROUTER_ID, ...setup(overrides) }, now))
        .thenRejects('INVALID_INPUT').message;
    expect(refusal({ radius_address: 'radius.local', radius_timeout_ms: 0 })).toContain('RADIUS address');
    for (const radius_auth_port of [0, 65_536]) expect(refusal({ radius_auth_port })).toContain('authentication port');
    expect(refusal({ radius_accounting_port: 1.5 })).toContain('accounting port');
    for (const radius_timeout_ms of [99, 60_001, 1.5]) expect(refusal({ radius_timeout_ms })).toContain('timeout');
    expect(refusal({ pppoe_servers: [{ service_name: 'a b', interface: 'ether1', default_profile: 'default' }] })).toContain('service name');
    expect(refusal({ pppoe_servers: [{ service_name: 'a', interface: 'ether1', default_profile: 'default' }, { service_name: 'a', interface: 'ether2', default_profile: 'default' }] })).toContain('twice');
    expect(refusal({ pppoe_servers: Array.from({ length: 17 }, (_, index) => ({ service_name: `s${index}`, interface: 'ether1', default_profile: 'default' })) })).toContain('at most');
    expect(refusal({ hotspot_profiles: ['ok', 'not ok'] })).toContain('hotspot profile');
    expect(refusal({ portal_host: 'https://portal' })).toContain('portal host');
    expect(refusal({ portal_address: 'portal' })).toContain('portal address');
    for (const suspended_pool_ranges of ['100.64.0.9-100.64.0.2', '2001:db8::1-2001:db8::9', 'all', '100.64.0.1/33']) expect(refusal({ suspended_pool_ranges })).toContain('pool ranges');
    expect(refusal({ static_ip: { mode: 'firewall' } as never })).toContain('static IP handling');
    expect(refusal({ static_ip: { mode: 'address-list', list: 'has space' } })).toContain('address list');
    for (const network of ['10.20.0.1/16', '10.20.0.0', '10.20.0.0/40']) expect(refusal({ static_ip_networks: [network] })).toContain('static IP network');
  });
});
