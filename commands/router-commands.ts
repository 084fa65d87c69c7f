import {
  decideRegisterRouter,
  decideRemoveRouter,
  decideSetRouterConnection,
  decideSetRouterSetup,
  decideUpdateRouter,
  type RegisterRouter,
  type RouterEvent,
  type RouterState,
  type SetRouterConnection,
  type UpdateRouter,
} from '../domain/routers/router.js';
import { checkApiPassword } from '../domain/routers/router-connection.js';
import type { RouterSetup } from '../domain/routers/router-setup.js';
import type { Decision } from '../domain/shared/decider.js';
import { rejection } from '../domain/shared/rejection.js';
import { RouterAggregate } from './aggregates.js';
import { CommandRuntime, refusePlan, type CommandEnvelope, type CommandResult, type Loaded, type Plan } from './command-runtime.js';
import { loadOperator } from './operator-commands.js';
import { isPlan, reservationWrites, type Identifier, type Write } from './reservations.js';
import { routerStream } from './streams.js';

/**
 * Loads a router of the caller's ISP; one of another ISP reads as absent, so nothing leaks across ISPs. (The
 * deciders refuse such a router as ROUTER_NOT_FOUND too; this keeps its name and secret out of the handler.)
 */
export async function loadRouter(runtime: CommandRuntime, tenant: string, router_id: string): Promise<Loaded<RouterState>> {
  const loaded = await runtime.load(RouterAggregate, routerStream(router_id));
  return loaded.state.tenant === tenant || !loaded.state.exists ? loaded : { ...loaded, state: RouterAggregate.initial() };
}

function routerPlan<Value>(loaded: Loaded<RouterState>, decision: Decision<RouterEvent>, value: Value, reservations: readonly Write[]): Plan<Value> {
  if (!decision.ok) return refusePlan(decision.rejection);
  return { kind: 'append', writes: [{ stream_id: loaded.stream_id, expected: CommandRuntime.expected(loaded), events: decision.events }, ...reservations], value };
}

const nasIp = (value: string): Identifier => ({ kind: 'nas_ip', value });

/** Registers a router and reserves its NAS IP in the ISP, in one append. */
export function registerRouter(runtime: CommandRuntime, envelope: CommandEnvelope, command: RegisterRouter): Promise<CommandResult<{ router_id: string }>> {
  return runtime.execute(envelope, 'register-router', command, async (context) => {
    if ((await loadOperator(runtime, context.tenant, context.tenant)) === null) return refusePlan(rejection('ISP_NOT_FOUND', 'register the ISP first'));
    // The raw stream: an id another ISP's router has is taken here too, as for customers and packages.
    const router = await runtime.load(RouterAggregate, routerStream(command.router_id));
    const decision = decideRegisterRouter(router.state, command, context);
    if (!decision.ok) return refusePlan(decision.rejection);
    const registered = decision.events[0];
    if (registered?.type !== 'router-registered') throw new Error('bug: a router registration must append router-registered');
    const reservations = await reservationWrites(runtime, context, command.router_id, [nasIp(registered.data.nas_ip)]);
    if (isPlan(reservations)) return reservations;
    return routerPlan(router, decision, { router_id: command.router_id }, reservations);
  });
}

/** Changes a router's settings; a new NAS IP is reserved and the old one released in the same append. */
export function updateRouter(runtime: CommandRuntime, envelope: CommandEnvelope, command: UpdateRouter): Promise<CommandResult<null>> {
  return runtime.execute(envelope, 'update-router', command, async (context) => {
    const router = await loadRouter(runtime, context.tenant, command.router_id);
    const decision = decideUpdateRouter(router.state, command, context);
    if (!decision.ok) return refusePlan(decision.rejection);
    const updated = decision.events.find((event) => event.type === 'router-updated');
    const moved = updated?.type === 'router-updated' && updated.data.nas_ip !== router.state.nas_ip ? updated.data.nas_ip : null;
    const reservations = moved === null ? [] : await reservationWrites(runtime, context, command.router_id, [nasIp(moved)], [nasIp(router.state.nas_ip)]);
    if (isPlan(reservations)) return reservations;
    return routerPlan(router, decision, null, reservations);
  });
}

/** Removes a router and frees its NAS IP for another router of the ISP, in one append. */
export function removeRouter(runtime: CommandRuntime, envelope: CommandEnvelope, command: { router_id: string }): Promise<CommandResult<null>> {
  return runtime.execute(envelope, 'remove-router', command, async (context) => {
    const router = await loadRouter(runtime, context.tenant, command.router_id);
    const decision = decideRemoveRouter(router.state, command.router_id, context);
    if (!decision.ok) return refusePlan(decision.rejection);
    const reservations = await reservationWrites(runtime, context, command.router_id, [], [nasIp(router.state.nas_ip)]);
    if (isPlan(reservations)) return reservations;
    return routerPlan(router, decision, null, reservations);
  });
}

/**
 * Seals and opens router API passwords (router-agent/credentials.ts implements it with the deployment's key):
 * commands get it handed in, so this layer never holds a key of its own.
 */
export type PasswordSealer = Readonly<{ seal: (router_id: string, plaintext: string) => string; open: (router_id: string, sealed: string) => string }>;

/** What a caller sends: the password in clear (sealed here before anything is stored), or none to keep it. */
export type SetRouterConnectionRequest = Omit<SetRouterConnection, 'password_sealed'> & Readonly<{ password?: string | null }>;

/**
 * Sets how the agent reaches the router. The clear password is checked, then sealed; the same password as
 * before keeps its sealed value, so repeating a request appends nothing. The request hash of an idempotent
 * call never contains the password: only its presence.
 */
export function setRouterConnection(runtime: CommandRuntime, envelope: CommandEnvelope, request: SetRouterConnectionRequest, sealer: PasswordSealer): Promise<CommandResult<null>> {
  const { password, ...rest } = request;
  const logged = { ...rest, password_given: password !== undefined && password !== null };
  return runtime.execute(envelope, 'set-router-connection', logged, async (context) => {
    const router = await loadRouter(runtime, context.tenant, request.router_id);
    let password_sealed: string | null = null;
    if (password !== undefined && password !== null) {
      const problem = checkApiPassword(password);
      if (problem !== null) {
        // Who may not change the router hears that first, whatever the password.
        const gate = decideSetRouterConnection(router.state, { ...rest, password_sealed: null }, context);
        return refusePlan(!gate.ok && gate.rejection.code !== 'INVALID_INPUT' ? gate.rejection : rejection('INVALID_INPUT', problem));
      }
      const current = router.state.connection?.password_sealed;
      password_sealed = current !== undefined && openOrNull(sealer, request.router_id, current) === password ? current : sealer.seal(request.router_id, password);
    }
    return routerPlan(router, decideSetRouterConnection(router.state, { ...rest, password_sealed }, context), null, []);
  });
}

function openOrNull(sealer: PasswordSealer, router_id: string, sealed: string): string | null {
  try {
    return sealer.open(router_id, sealed);
  } catch {
    return null;
  }
}

/** Sets what one-click setup puts on the router and how static-IP customers are handled there. */
export function setRouterSetup(runtime: CommandRuntime, envelope: CommandEnvelope, command: Readonly<{ router_id: string } & RouterSetup>): Promise<CommandResult<null>> {
  return runtime.execute(envelope, 'set-router-setup', command as never, async (context) => {
    const router = await loadRouter(runtime, context.tenant, command.router_id);
    return routerPlan(router, decideSetRouterSetup(router.state, command, context), null, []);
  });
}
