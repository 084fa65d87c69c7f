import type { FastifyInstance, FastifyRequest } from 'fastify';
import type pg from 'pg';
import type { Clock } from '../../commands/command-runtime.js';
import { ApiError } from '../errors.js';
import type { Capability } from './capabilities.js';
import { identify, requireCapability, type Caller } from './caller.js';

/**
 * Every API route declares who may call it in `config.access`; one hook enforces it before anything else runs,
 * so a route cannot forget. A route under /api/v1 without a declaration is refused (fail closed), and the
 * authorisation matrix test enumerates routes by these declarations.
 */
export type RouteAccess = Readonly<{
  /** `public`: anyone (login, gateway callbacks); `authenticated`: any logged-in caller; else a capability. */
  capability: Capability | 'public' | 'authenticated';
  /** Requires a recent passkey confirmation even if the capability alone would not. */
  step_up?: boolean;
  /** What the route acts on, so the authorisation matrix (test/api) can aim it at own, sibling and foreign targets. */
  scope?: 'operator' | 'customer' | 'self' | 'tenant' | 'none';
  /** A valid request for the docs and the matrix test; path parameters are filled in by the test. */
  example?: Readonly<{ body?: unknown; query?: Readonly<Record<string, string>> }>;
}>;

export type RouteEntry = Readonly<{ method: string; url: string; access: RouteAccess | undefined }>;

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
  interface FastifyRequest {
    caller: Caller | null;
  }
  interface FastifyInstance {
    /** Every route with its access rule, as registered: what the authorisation matrix walks. */
    routeTable: readonly RouteEntry[];
  }
}

export function installAccessControl(app: FastifyInstance, pool: pg.Pool, clock: Clock): void {
  app.decorateRequest('caller', null);
  const table: RouteEntry[] = [];
  app.decorate('routeTable', table);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) if (method !== 'HEAD') table.push({ method, url: route.url, access: (route.config as { access?: RouteAccess } | undefined)?.access });
  });
  app.addHook('onRequest', async (request) => {
    const access = request.routeOptions.config.access;
    const url = request.routeOptions.url ?? '';
    if (access === undefined) {
      if (url.startsWith('/api/')) throw new ApiError('FORBIDDEN', 'this route declares no access rule, so nobody may call it');
      return;
    }
    if (access.capability === 'public') {
      request.caller = await identify(pool, clock, request).catch(() => null);
      return;
    }
    const caller = await identify(pool, clock, request);
    if (caller === null) throw new ApiError('UNAUTHENTICATED', 'log in first (POST /api/v1/auth/login) or send an API token');
    request.caller = access.capability === 'authenticated' ? caller : requireCapability(caller, access.capability, clock, access.step_up);
  });
}

/** The caller of a route that required one; a bug if called on a public route without a caller. */
export function callerOf(request: FastifyRequest): Caller {
  if (request.caller === null) throw new ApiError('UNAUTHENTICATED', 'log in first');
  return request.caller;
}
