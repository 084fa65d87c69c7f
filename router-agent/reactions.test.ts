import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../eventstore/event-store.js';
import type { PlannedCommand } from './commands.js';
import { applyEvent, emptyView, type AgentView } from './reactions.js';

/** The reactions as a pure fold: these events, in this order, give these commands. */
let position = 0n;
const event = (stream_id: string, type: string, data: Record<string, unknown>): RecordedEvent => {
  position += 1n;
  return {
    stream_id,
    stream_revision: 0n,
    global_position: position,
    position: { commit: position, prepare: position },
    event_id: `00000000-0000-4000-8000-${position.toString().padStart(12, '0')}`,
    type,
    schema_version: 1,
    data: data as never,
    metadata: { actor: { id: 'admin', role: 'admin' }, tenant: 'isp-1', correlation_id: 'c', causation_id: null, command_id: 'x' },
    occurred_at: new Date('2026-11-20T10:00:00Z'),
    recorded_at: new Date('2026-11-20T10:00:00Z'),
  };
};

const SETUP = { radius_address: '10.0.0.10', radius_auth_port: 1812, radius_accounting_port: 1813, radius_timeout_ms: 3000, pppoe_servers: [], hotspot_profiles: [], portal_host: null, portal_address: null, suspended_pool_ranges: null };
const CONNECTION = { host: '10.0.0.1', transport: 'api', port: 8728, username: 'ispbills', password_sealed: 'v1.x', routeros_version: '7.18', tls_fingerprint_sha256: null };

function world(): { view: AgentView; run: (events: readonly RecordedEvent[], live?: boolean) => PlannedCommand[] } {
  const view = emptyView();
  const run = (events: readonly RecordedEvent[], live = true) => events.flatMap((one) => applyEvent(view, one, { live, rate_check_delay_ms: 10_000 }));
  run([
    event('operator-isp-1', 'isp-registered', { operator_id: 'isp-1' }),
    event('package-p10', 'package-created', { package_id: 'p10', tenant: 'isp-1', down_kbps: 10_000, up_kbps: 2_000 }),
    event('package-p20', 'package-created', { package_id: 'p20', tenant: 'isp-1', down_kbps: 20_000, up_kbps: 5_000 }),
    event('router-a', 'router-registered', { router_id: 'a', tenant: 'isp-1', name: 'A', nas_ip: '10.0.0.1' }),
    event('router-a', 'router-setup-set', { router_id: 'a', ...SETUP, static_ip: { mode: 'queue' }, static_ip_networks: ['10.20.0.0/16'] }),
    event('router-a', 'router-connection-set', { router_id: 'a', ...CONNECTION }),
    event('router-b', 'router-registered', { router_id: 'b', tenant: 'isp-1', name: 'B', nas_ip: '10.0.0.2' }),
    event('router-b', 'router-setup-set', { router_id: 'b', ...SETUP, static_ip: { mode: 'queue' }, static_ip_networks: ['10.30.0.0/16'] }),
    event('router-b', 'router-connection-set', { router_id: 'b', ...CONNECTION }),
    // A router without a connection gets nothing: the agent cannot reach it.
    event('router-c', 'router-registered', { router_id: 'c', tenant: 'isp-1', name: 'C', nas_ip: '10.0.0.3' }),
  ], false);
  return { view, run };
}

const registered = (customer_id: string, extra: Record<string, unknown>) =>
  event(`customer-${customer_id}`, 'customer-registered', { customer_id, tenant: 'isp-1', operator_id: 'isp-1', connection_type: 'pppoe', username: customer_id, mac: null, static_ip: null, package_id: 'p10', profile: { kind: 'monthly' }, ...extra });

const summary = (commands: readonly PlannedCommand[]) => commands.map((planned) => `${planned.router_id}:${planned.command.kind}`);

describe('events → router commands', () => {
  it('builds state but plans nothing for history from before the agent ran', () => {
    const { view, run } = world();
    expect(run([registered('u1', {}), event('customer-u1', 'customer-suspended', { customer_id: 'u1' })], false)).toEqual([]);
    expect(view.customers.get('u1')).toMatchObject({ suspended: true });
  });

  it('kicks a suspended customer on every reachable router, with the event time as the cut-off', () => {
    const { run } = world();
    run([registered('u1', {})]);
    const commands = run([event('customer-u1', 'customer-suspended', { customer_id: 'u1' })]);
    expect(summary(commands)).toEqual(['a:kick', 'b:kick']);
    expect(commands[0]!.command).toEqual({ kind: 'kick', customer_id: 'u1', logins: ['u1'], before: '2026-11-20T10:00:00.000Z', reason: 'customer-suspended' });
    // Suspending twice changes nothing more.
    expect(run([event('customer-u1', 'customer-expired', { customer_id: 'u1' })])).toEqual([]);
  });

  it('sends a static IP’s entries only to the routers whose networks hold it, and a package change there too', () => {
    const { run } = world();
    expect(summary(run([registered('s1', { connection_type: 'static_ip', username: null, static_ip: '10.30.1.1' })]))).toEqual(['b:static']);
    const changed = run([event('customer-s1', 'package-changed', { customer_id: 's1', from_package_id: 'p10', to_package_id: 'p20' })]);
    expect(changed.map((planned) => planned.command)).toEqual([{ kind: 'static', customer_id: 's1', operator_id: 'isp-1', ip: '10.30.1.1', access: 'active', up_kbps: 5_000, down_kbps: 20_000 }]);
    expect(run([event('customer-s1', 'customer-disabled', { customer_id: 's1' })]).map((planned) => planned.command)).toEqual([expect.objectContaining({ kind: 'static', access: 'absent' })]);
  });

  it('checks the speed of a PPPoE session after a package change, a little later', () => {
    const { run } = world();
    run([registered('u2', {})]);
    const commands = run([event('customer-u2', 'package-changed', { customer_id: 'u2', from_package_id: 'p10', to_package_id: 'p20' })]);
    expect(summary(commands)).toEqual(['a:check-rate', 'b:check-rate']);
    expect(commands[0]!.not_before.toISOString()).toBe('2026-11-20T10:00:10.000Z');
  });

  it('turns a change for many customers (package speed, RADIUS policy, router setup) into one reconciliation per router', () => {
    const { run } = world();
    expect(summary(run([event('package-p10', 'package-updated', { package_id: 'p10', down_kbps: 15_000, up_kbps: 3_000 })]))).toEqual(['a:reconcile', 'b:reconcile']);
    expect(summary(run([event('operator-isp-1', 'radius-policy-set', { operator_id: 'isp-1', blocked_access: 'reject', suspended_pool: null, suspended_address_list: null, interim_interval_seconds: 300 })]))).toEqual([
      'a:reconcile',
      'b:reconcile',
    ]);
    expect(summary(run([event('router-c', 'router-connection-set', { router_id: 'c', ...CONNECTION })]))).toEqual(['c:reconcile']);
    expect(run([event('router-a', 'router-removed', { router_id: 'a' })])).toEqual([]);
    expect(summary(run([registered('u3', {}), event('customer-u3', 'customer-suspended', { customer_id: 'u3' })]))).toEqual(['b:kick', 'c:kick']);
  });
});
