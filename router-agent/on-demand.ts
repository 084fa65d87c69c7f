import type pg from 'pg';
import { rejection, type Rejection } from '../domain/shared/rejection.js';
import { commandStatus, enqueueRouterWide, type CommandStatus } from './outbox.js';

/**
 * Setup and reconciliation asked for by a person (`ispbills router setup|reconcile <id>`): queued on the
 * router's outbox like any other command, so they never race the commands before them, and carried out by
 * the running router-agent, which records the outcome as an event.
 */
export type OnDemandKind = 'setup' | 'reconcile';

export async function requestRouterCommand(pool: pg.Pool, router_id: string, kind: OnDemandKind, requested_by: string): Promise<Readonly<{ ok: true; command_id: bigint }> | Readonly<{ ok: false; rejection: Rejection }>> {
  const router = (await pool.query<{ tenant: string; removed: boolean; configured: boolean; name: string }>(`SELECT tenant, removed, connection IS NOT NULL AS configured, name FROM router_agent_routers WHERE router_id = $1`, [router_id])).rows[0];
  if (router === undefined) return { ok: false, rejection: rejection('ROUTER_NOT_FOUND', `no router ${router_id} (or the router-agent has not seen it yet)`) };
  if (router.removed) return { ok: false, rejection: rejection('ROUTER_REMOVED', `router ${router.name} was removed`) };
  if (!router.configured) return { ok: false, rejection: rejection('ROUTER_NOT_CONFIGURED', `router ${router.name} has no API connection yet; set one first`) };
  const command_id = await enqueueRouterWide(pool, router_id, router.tenant, kind === 'setup' ? { kind: 'setup', requested_by } : { kind: 'reconcile', reason: 'on-demand' });
  return { ok: true, command_id };
}

/** Waits until the command finished, or `timeout_ms` passed (then the last status, still pending). */
export async function waitForCommand(pool: pg.Pool, command_id: bigint, timeout_ms: number, poll_ms = 100): Promise<CommandStatus | null> {
  const deadline = Date.now() + timeout_ms;
  for (;;) {
    const status = await commandStatus(pool, command_id);
    if (status === null || status.state !== 'pending' || Date.now() >= deadline) return status;
    await new Promise((resolve) => setTimeout(resolve, poll_ms));
  }
}
