import type pg from 'pg';
import type { Logger } from 'pino';
import type { RadiusPolicy } from '../domain/operators/operator.js';
import { DEFAULT_RADIUS_POLICY } from '../domain/operators/operator.js';
import { evolveRouter, initialRouterState, type RouterEvent, type RouterState } from '../domain/routers/router.js';
import type { EventStore } from '../eventstore/event-store.js';
import { ROUTER_WIDE, type RouterCommand } from './commands.js';
import type { SecretBox } from './credentials.js';
import { applyStatic, checkRate, kick, type Change } from './operations.js';
import { enqueueRouterWide, loadPending, markFinished, markRetry, routersWithDueCommands, type Finished, type OutboxRow } from './outbox.js';
import type { AgentCustomer, AgentPackage, AgentRouter } from './reactions.js';
import { reconcile } from './reconciler.js';
import { asRouterOsError, RouterOsError } from './routeros/errors.js';
import { openSession, type RouterEndpoint, type RouterOsSession, type SessionTimeouts } from './routeros/session.js';
import { runSetup } from './setup.js';

export type DispatcherOptions = Readonly<{
  /** Commands about different customers in flight on one router at once (same customer: strictly in order). */
  concurrency_per_router: number;
  /** Routers worked on at once. */
  max_routers: number;
  /** Pending commands read per router per query. */
  batch_size: number;
  /** Attempts a command the router refuses gets before it is recorded as failed. */
  max_attempts: number;
  retry_base_ms: number;
  retry_max_ms: number;
  /** Backoff for an unreachable router (connection failures never use up a command's attempts). */
  reconnect_base_ms: number;
  reconnect_max_ms: number;
  poll_interval_ms: number;
  timeouts: SessionTimeouts;
  logger: Logger;
  /** Test and lab routers: REST over plain HTTP. */
  rest_plain_http?: boolean;
  now?: () => number;
}>;

type RouterRow = AgentRouter & Readonly<{ overflowed: boolean; failures: number }>;

/** A command's result: what it changed, or the refusal (setup) that ends it at once. */
type Result = Readonly<{ kind: 'done'; outcome: Record<string, unknown> }> | Readonly<{ kind: 'refused'; outcome: Record<string, unknown> }>;

/**
 * Carries out the outbox: one worker per router with due commands, each keeping a connection to its router.
 * Per router, commands with the same ordering key (the customer) run strictly in order and router-wide ones
 * (setup, reconcile) alone; up to `concurrency_per_router` others share the connection. A command the router
 * refuses is retried with exponential backoff and recorded as failed after `max_attempts`; a router that
 * cannot be reached keeps its commands, untouched, and is tried again with backoff until it answers.
 */
export class Dispatcher {
  readonly #busy = new Map<string, Promise<void>>();
  readonly #sessions = new Map<string, RouterOsSession>();
  #timer: NodeJS.Timeout | null = null;
  #stopping = false;
  #ticking = false;
  #again = false;
  readonly #now: () => number;

  constructor(
    readonly pool: pg.Pool,
    readonly store: EventStore,
    readonly secrets: SecretBox,
    readonly options: DispatcherOptions,
    /** Told when commands finished, so their outcomes get published soon. */
    readonly on_finished: () => void = () => undefined,
  ) {
    this.#now = options.now ?? Date.now;
  }

  start(): void {
    this.#stopping = false;
    this.wake();
  }

  /** Look for due commands now (new commands were enqueued, or a worker finished). */
  wake(): void {
    if (this.#stopping) return;
    if (this.#ticking) {
      this.#again = true;
      return;
    }
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#tick(), 0);
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    await Promise.allSettled([...this.#busy.values()]);
    for (const session of this.#sessions.values()) session.close();
    this.#sessions.clear();
  }

  /** Routers being worked on now. */
  get busy(): readonly string[] {
    return [...this.#busy.keys()];
  }

  async #tick(): Promise<void> {
    this.#timer = null;
    this.#ticking = true;
    try {
      const free = this.options.max_routers - this.#busy.size;
      if (free > 0) {
        const due = await routersWithDueCommands(this.pool, [...this.#busy.keys()], free);
        for (const router_id of due) {
          const work = this.#work(router_id)
            .catch((error: unknown) => this.options.logger.error({ err: error, router_id }, 'router-agent: worker failed; it starts again'))
            .finally(() => {
              this.#busy.delete(router_id);
              this.wake();
            });
          this.#busy.set(router_id, work);
        }
      }
    } catch (error) {
      this.options.logger.error({ err: error }, 'router-agent: looking for due commands failed');
    } finally {
      this.#ticking = false;
      if (!this.#stopping) {
        const delay = this.#again ? 0 : this.options.poll_interval_ms;
        this.#again = false;
        this.#timer = setTimeout(() => void this.#tick(), delay);
      }
    }
  }

  async #loadRouter(router_id: string): Promise<RouterRow | null> {
    const result = await this.pool.query<RouterRow>(`SELECT router_id, tenant, name, nas_ip, removed, connection, setup, overflowed, failures FROM router_agent_routers WHERE router_id = $1`, [router_id]);
    return result.rows[0] ?? null;
  }

  async #policy(tenant: string): Promise<RadiusPolicy> {
    const result = await this.pool.query<{ policy: RadiusPolicy }>(`SELECT policy FROM router_agent_policies WHERE tenant = $1`, [tenant]);
    return result.rows[0]?.policy ?? DEFAULT_RADIUS_POLICY;
  }

  async #session(router: RouterRow): Promise<RouterOsSession> {
    const cached = this.#sessions.get(router.router_id);
    if (cached !== undefined && !cached.closed) return cached;
    const connection = router.connection!;
    const endpoint: RouterEndpoint = {
      host: connection.host,
      port: connection.port,
      transport: connection.transport,
      username: connection.username,
      password: this.secrets.open(router.router_id, connection.password_sealed),
      tls_fingerprint_sha256: connection.tls_fingerprint_sha256,
      ...(this.options.rest_plain_http === true ? { rest_plain_http: true } : {}),
    };
    const session = await openSession(endpoint, { ...this.options.timeouts, max_in_flight: Math.max(this.options.concurrency_per_router * 4, 16) });
    this.#sessions.set(router.router_id, session);
    return session;
  }

  async #markUp(router_id: string): Promise<void> {
    await this.pool.query(`UPDATE router_agent_routers SET status = 'up', failures = 0, retry_at = NULL, last_error = NULL, last_contact_at = now(), updated_at = now() WHERE router_id = $1 AND (status <> 'up' OR last_contact_at < now() - interval '10 seconds' OR last_contact_at IS NULL)`, [
      router_id,
    ]);
  }

  async #markDown(router: RouterRow, error: RouterOsError | Error): Promise<void> {
    const failures = router.failures + 1;
    const delay = Math.min(this.options.reconnect_max_ms, this.options.reconnect_base_ms * 2 ** Math.min(failures - 1, 20));
    const jittered = Math.round(delay * (0.75 + Math.random() * 0.5));
    const code = error instanceof RouterOsError ? error.code : 'CREDENTIALS';
    const status = code === 'ROUTEROS_LOGIN_FAILED' || code === 'ROUTEROS_TLS_MISMATCH' || code === 'CREDENTIALS' ? 'refused' : 'down';
    await this.pool.query(
      `UPDATE router_agent_routers SET status = $2, failures = $3, retry_at = now() + make_interval(secs => $4::double precision / 1000), last_error = $5, updated_at = now() WHERE router_id = $1`,
      [router.router_id, status, failures, jittered, `${code}: ${error.message}`],
    );
    this.options.logger.warn({ router_id: router.router_id, code, retry_in_ms: jittered, failures }, `router-agent: router ${router.name} unreachable: ${error.message}`);
  }

  /** Works one router's due commands until none is left that can run now. */
  async #work(router_id: string): Promise<void> {
    const router = await this.#loadRouter(router_id);
    if (router === null) return;
    if (router.removed) {
      const rows = await loadPending(this.pool, router_id, 10_000);
      await markFinished(
        this.pool,
        rows.map((row) => ({ id: row.id, state: 'failed', attempts: row.attempts, outcome: { error: { code: 'ROUTER_REMOVED', message: `router ${router.name} was removed` } }, error: 'router removed' })),
      );
      if (rows.length > 0) this.on_finished();
      return;
    }
    if (router.connection === null) {
      // Nothing to connect with: wait until the ISP sets the connection (that event clears retry_at).
      await this.pool.query(`UPDATE router_agent_routers SET retry_at = now() + interval '1 hour', last_error = 'no API connection configured' WHERE router_id = $1`, [router_id]);
      return;
    }
    let session: RouterOsSession;
    try {
      session = await this.#session(router);
    } catch (error) {
      await this.#markDown(router, error instanceof Error ? error : new Error(String(error)));
      return;
    }
    await this.#markUp(router_id);
    const policy = await this.#policy(router.tenant);

    for (;;) {
      if (this.#stopping) return;
      const rows = await loadPending(this.pool, router_id, this.options.batch_size);
      if (rows.length === 0) {
        const cleared = await this.pool.query(`UPDATE router_agent_routers SET overflowed = false WHERE router_id = $1 AND overflowed RETURNING tenant`, [router_id]);
        if (cleared.rowCount === 0) return;
        await enqueueRouterWide(this.pool, router_id, router.tenant, { kind: 'reconcile', reason: 'queue-overflow' });
        continue;
      }
      const outcome = await this.#runRows(router, session, policy, rows);
      if (outcome === 'connection-lost') {
        this.#sessions.delete(router_id);
        session.close();
        return;
      }
      if (outcome === 'nothing-runnable') return;
    }
  }

  /**
   * Runs the loaded rows in waves: a wave takes, in id order, the first waiting command of each key that is
   * due (a command not yet due holds back its key; a router-wide one runs alone and holds back all after it).
   */
  async #runRows(router: RouterRow, session: RouterOsSession, policy: RadiusPolicy, rows: readonly OutboxRow[]): Promise<'ok' | 'connection-lost' | 'nothing-runnable'> {
    let remaining = [...rows];
    let ranAny = false;
    const held = new Set<string>();
    for (;;) {
      const now = this.#now();
      const wave: OutboxRow[] = [];
      const seen = new Set<string>(held);
      for (const row of remaining) {
        const wide = row.ordering_key === ROUTER_WIDE;
        const due = row.not_before.getTime() <= now;
        if (wide) {
          if (wave.length === 0 && due && seen.size === 0) wave.push(row);
          break;
        }
        if (seen.has(row.ordering_key)) continue;
        seen.add(row.ordering_key);
        if (due) wave.push(row);
      }
      if (wave.length === 0) return ranAny ? 'ok' : 'nothing-runnable';
      ranAny = true;
      const finished: Finished[] = [];
      let lost: RouterOsError | null = null;
      await runLimited(wave, this.options.concurrency_per_router, async (row) => {
        if (lost !== null) return;
        try {
          const result = await this.#execute(router, session, policy, row);
          finished.push({ id: row.id, state: result.kind === 'done' ? 'done' : 'failed', attempts: row.attempts + 1, outcome: result.outcome, error: result.kind === 'done' ? null : String(result.outcome.message ?? '') });
        } catch (caught) {
          const error = asCommandError(caught);
          if (error instanceof RouterOsError && error.connection_failed) {
            lost ??= error;
            return;
          }
          const attempts = row.attempts + 1;
          const description = { code: error instanceof RouterOsError ? error.code : 'AGENT_ERROR', message: error.message };
          if (attempts >= this.options.max_attempts) {
            finished.push({ id: row.id, state: 'failed', attempts, outcome: { error: description }, error: `${description.code}: ${description.message}` });
            this.options.logger.error({ router_id: router.router_id, command_id: row.id.toString(), kind: row.command.kind, attempts, err: error }, 'router-agent: command failed for good');
          } else {
            const delay = Math.min(this.options.retry_max_ms, this.options.retry_base_ms * 2 ** (attempts - 1));
            held.add(row.ordering_key);
            await markRetry(this.pool, row.id, attempts, delay, `${description.code}: ${description.message}`);
            this.options.logger.warn({ router_id: router.router_id, command_id: row.id.toString(), kind: row.command.kind, attempts, retry_in_ms: delay, err: error }, 'router-agent: command refused; will retry');
          }
        }
      });
      await markFinished(this.pool, finished);
      if (finished.length > 0) this.on_finished();
      const done = new Set([...finished.map((entry) => entry.id), ...wave.filter((row) => held.has(row.ordering_key)).map((row) => row.id)]);
      remaining = remaining.filter((row) => !done.has(row.id));
      if (lost !== null) {
        await this.#markDown(router, lost);
        return 'connection-lost';
      }
      // Retried rows hold their key back for the rest of this batch.
      remaining = remaining.filter((row) => !held.has(row.ordering_key) || row.ordering_key === ROUTER_WIDE);
      if (remaining.length === 0) return 'ok';
    }
  }

  async #execute(router: RouterRow, session: RouterOsSession, policy: RadiusPolicy, row: OutboxRow): Promise<Result> {
    const command: RouterCommand = row.command;
    const now = this.#now();
    const done = (changes: readonly Change[]): Result => ({ kind: 'done', outcome: { changes } });
    switch (command.kind) {
      case 'kick':
        return done(await kick(session, command, now));
      case 'check-rate':
        return done(await checkRate(session, command, now));
      case 'static': {
        if (router.setup === null) return done([]);
        return done(await applyStatic(session, command, router.setup, policy));
      }
      case 'setup': {
        const state = await this.#routerState(router.router_id);
        const report = await runSetup(session, state, policy);
        if (!report.ok) return { kind: 'refused', outcome: { code: report.code, message: report.message } };
        return { kind: 'done', outcome: { changes: report.changes, unchanged: report.unchanged, notes: report.notes } };
      }
      case 'reconcile': {
        const [customers, packages] = await Promise.all([
          this.pool.query<AgentCustomer>(`SELECT * FROM router_agent_customers WHERE tenant = $1`, [router.tenant]),
          this.pool.query<AgentPackage>(`SELECT package_id, tenant, down_kbps, up_kbps FROM router_agent_packages WHERE tenant = $1`, [router.tenant]),
        ]);
        const report = await reconcile(session, { router, policy, customers: customers.rows, packages: new Map(packages.rows.map((entry) => [entry.package_id, entry])) }, this.#now);
        await this.pool.query(`UPDATE router_agent_routers SET last_reconciled_at = now() WHERE router_id = $1`, [router.router_id]);
        return { kind: 'done', outcome: report as unknown as Record<string, unknown> };
      }
    }
  }

  /** The router as its stream says now (setup needs the RADIUS secret, which the agent's rows do not keep). */
  async #routerState(router_id: string): Promise<RouterState> {
    let state = initialRouterState();
    for (const event of await this.store.readStream(`router-${router_id}`)) state = evolveRouter(state, { type: event.type, data: event.data } as unknown as RouterEvent);
    return state;
  }
}

function asCommandError(caught: unknown): Error {
  if (caught instanceof RouterOsError) return caught;
  if (caught instanceof Error && (caught as { code?: unknown }).code === undefined && /ECONN|EPIPE|socket/i.test(caught.message)) return asRouterOsError(caught);
  return caught instanceof Error ? caught : new Error(String(caught));
}

/** Runs `task` over `items` with at most `limit` at a time. */
async function runLimited<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await task(item);
    }
  });
  await Promise.all(lanes);
}
