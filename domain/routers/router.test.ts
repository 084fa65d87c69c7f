import { describe, expect, it } from 'vitest';
import type { ActorRole } from '../shared/command-context.js';
import { given } from '../shared/decider-spec.js';
import { ROUTER_ID, TENANT, contextAt, routerRegistered } from '../shared/spec-fixtures.js';
import { decideRegisterRouter, decideRemoveRouter, decideUpdateRouter, evolveRouter, initialRouterState, type RegisterRouter, type RouterEvent } from './router.js';

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
    expect(state).toEqual({ exists: true, removed: false, router_id: ROUTER_ID, tenant: TENANT, name: 'Core', nas_ip: '10.0.0.2', secret: 'new-secret', coa_port: 1700, require_message_authenticator: false, description: 'x' });
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
