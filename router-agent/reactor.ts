import type pg from 'pg';
import type { Logger } from 'pino';
import type { RadiusPolicy } from '../domain/operators/operator.js';
import { comparePositions, type EventStore, type LogPosition, type RecordedEvent, type Subscription } from '../eventstore/event-store.js';
import type { PlannedCommand } from './commands.js';
import { insertCommands, pendingCounts } from './outbox.js';
import { applyEvent, emptyView, needs, type AgentCustomer, type AgentPackage, type AgentRouter, type AgentView } from './reactions.js';

const CHECKPOINT = 'router-agent';

export type ReactorOptions = Readonly<{
  batch_size: number;
  poll_interval_ms: number;
  rate_check_delay_ms: number;
  /** A router with this many commands waiting takes no more: it is marked for a full reconciliation instead. */
  max_pending_per_router: number;
  logger: Logger;
  /** Told after each batch that enqueued commands, so the dispatcher need not wait for its next look. */
  on_enqueued: () => void;
}>;

/**
 * The agent's catch-up subscription. Each batch is one transaction: lock the checkpoint, skip what it already
 * covers, fold the events into the agent's rows, insert the commands they imply, move the checkpoint. A crash
 * at any point leaves all of it as it was, so every event becomes its commands exactly once.
 */
export class Reactor {
  #subscription: Subscription | null = null;

  constructor(
    readonly pool: pg.Pool,
    readonly store: EventStore,
    readonly options: ReactorOptions,
  ) {}

  async start(): Promise<void> {
    await this.pool.query(`INSERT INTO router_agent_checkpoint (name) VALUES ($1) ON CONFLICT DO NOTHING`, [CHECKPOINT]);
    const row = (await this.pool.query<{ position_commit: string; position_prepare: string }>(`SELECT position_commit, position_prepare FROM router_agent_checkpoint WHERE name = $1`, [CHECKPOINT])).rows[0]!;
    const from: LogPosition = { commit: BigInt(row.position_commit), prepare: BigInt(row.position_prepare) };
    this.#subscription = this.store.subscribeToAll(from, { handle: (batch) => this.handle(batch) }, { batch_size: this.options.batch_size, poll_interval_ms: this.options.poll_interval_ms });
  }

  /** Resolves when the subscription stops; rejects with the error that stopped it. */
  get done(): Promise<void> {
    return this.#subscription?.done ?? Promise.resolve();
  }

  async stop(): Promise<void> {
    await this.#subscription?.stop();
    this.#subscription = null;
  }

  async handle(batch: readonly RecordedEvent[]): Promise<void> {
    const client = await this.pool.connect();
    let enqueued = 0;
    try {
      await client.query('BEGIN');
      const checkpoint = (
        await client.query<{ position_commit: string; position_prepare: string; live_from: Date }>(
          `SELECT position_commit, position_prepare, live_from FROM router_agent_checkpoint WHERE name = $1 FOR UPDATE`,
          [CHECKPOINT],
        )
      ).rows[0]!;
      const position: LogPosition = { commit: BigInt(checkpoint.position_commit), prepare: BigInt(checkpoint.position_prepare) };
      const fresh = batch.filter((event) => comparePositions(event.position, position) > 0);
      if (fresh.length > 0) {
        const view = await loadView(client, fresh);
        const planned: PlannedCommand[] = [];
        for (const event of fresh) {
          planned.push(...applyEvent(view, event, { live: event.recorded_at >= checkpoint.live_from, rate_check_delay_ms: this.options.rate_check_delay_ms }));
        }
        await saveView(client, view);
        enqueued = await this.#enqueue(client, planned);
        const last = fresh[fresh.length - 1]!.position;
        await client.query(`UPDATE router_agent_checkpoint SET position_commit = $2, position_prepare = $3, updated_at = now() WHERE name = $1`, [CHECKPOINT, last.commit.toString(), last.prepare.toString()]);
      }
      await client.query('COMMIT');
      client.release();
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release(true);
      this.options.logger.error({ err: error, first_event: batch[0]?.global_position.toString() }, 'router-agent: a batch of events failed; it is retried');
      throw error;
    }
    if (enqueued > 0) this.options.on_enqueued();
  }

  /**
   * Inserts the commands, except for routers whose queue is full: those are marked `overflowed` and get one
   * reconciliation when they drain, which brings them to the state all the dropped commands would have.
   */
  async #enqueue(client: pg.PoolClient, planned: readonly PlannedCommand[]): Promise<number> {
    if (planned.length === 0) return 0;
    const perRouter = new Map<string, number>();
    for (const command of planned) perRouter.set(command.router_id, (perRouter.get(command.router_id) ?? 0) + 1);
    const pending = await pendingCounts(client, [...perRouter.keys()]);
    const full = new Set([...perRouter].filter(([router_id, count]) => (pending.get(router_id) ?? 0) + count > this.options.max_pending_per_router).map(([router_id]) => router_id));
    if (full.size > 0) {
      await client.query(`UPDATE router_agent_routers SET overflowed = true, updated_at = now() WHERE router_id = ANY($1::text[])`, [[...full]]);
      this.options.logger.warn({ routers: [...full], limit: this.options.max_pending_per_router }, 'router-agent: command queue full; the router will be reconciled instead');
    }
    return insertCommands(client, full.size === 0 ? planned : planned.filter((command) => !full.has(command.router_id)));
  }
}

/** Loads the rows a batch needs: its customers and their packages, its packages, and each ISP's routers and policy. */
async function loadView(client: pg.PoolClient, events: readonly RecordedEvent[]): Promise<AgentView> {
  const view = emptyView();
  const customer_ids = new Set<string>();
  const package_ids = new Set<string>();
  const tenants = new Set<string>();
  for (const event of events) {
    const need = needs(event);
    tenants.add(need.tenant);
    if (need.customer_id !== undefined) customer_ids.add(need.customer_id);
    if (need.package_id !== undefined) package_ids.add(need.package_id);
  }
  const customers = await client.query<AgentCustomer>(`SELECT * FROM router_agent_customers WHERE customer_id = ANY($1::text[])`, [[...customer_ids]]);
  for (const row of customers.rows) {
    view.customers.set(row.customer_id, row);
    package_ids.add(row.package_id);
  }
  // One client runs one query at a time: these go one after another.
  const packages = await client.query<AgentPackage>(`SELECT package_id, tenant, down_kbps, up_kbps FROM router_agent_packages WHERE package_id = ANY($1::text[])`, [[...package_ids]]);
  const routers = await client.query<AgentRouter>(`SELECT router_id, tenant, name, nas_ip, removed, connection, setup FROM router_agent_routers WHERE tenant = ANY($1::text[])`, [[...tenants]]);
  const policies = await client.query<{ tenant: string; policy: RadiusPolicy }>(`SELECT tenant, policy FROM router_agent_policies WHERE tenant = ANY($1::text[])`, [[...tenants]]);
  for (const row of packages.rows) view.packages.set(row.package_id, row);
  for (const row of routers.rows) view.routers.set(row.router_id, row);
  for (const row of policies.rows) view.policies.set(row.tenant, row.policy);
  return view;
}

async function saveView(client: pg.PoolClient, view: AgentView): Promise<void> {
  const rows = <T>(ids: Set<string>, map: Map<string, T>): T[] => [...ids].map((id) => map.get(id)!);
  if (view.changed.customers.size > 0) {
    await client.query(
      `INSERT INTO router_agent_customers SELECT * FROM jsonb_populate_recordset(NULL::router_agent_customers, $1::jsonb)
       ON CONFLICT (customer_id) DO UPDATE SET tenant = EXCLUDED.tenant, operator_id = EXCLUDED.operator_id, connection_type = EXCLUDED.connection_type,
         username = EXCLUDED.username, mac = EXCLUDED.mac, static_ip = EXCLUDED.static_ip, package_id = EXCLUDED.package_id,
         suspended = EXCLUDED.suspended, expired = EXCLUDED.expired, disabled = EXCLUDED.disabled`,
      [JSON.stringify(rows(view.changed.customers, view.customers))],
    );
  }
  if (view.changed.packages.size > 0) {
    await client.query(
      `INSERT INTO router_agent_packages SELECT * FROM jsonb_populate_recordset(NULL::router_agent_packages, $1::jsonb)
       ON CONFLICT (package_id) DO UPDATE SET tenant = EXCLUDED.tenant, down_kbps = EXCLUDED.down_kbps, up_kbps = EXCLUDED.up_kbps`,
      [JSON.stringify(rows(view.changed.packages, view.packages))],
    );
  }
  if (view.changed.routers.size > 0) {
    await client.query(
      `INSERT INTO router_agent_routers (router_id, tenant, name, nas_ip, removed, connection, setup)
       SELECT router_id, tenant, name, nas_ip, removed, connection, setup
         FROM jsonb_to_recordset($1::jsonb) AS r(router_id text, tenant text, name text, nas_ip text, removed boolean, connection jsonb, setup jsonb)
       ON CONFLICT (router_id) DO UPDATE SET tenant = EXCLUDED.tenant, name = EXCLUDED.name, nas_ip = EXCLUDED.nas_ip, removed = EXCLUDED.removed,
         connection = EXCLUDED.connection, setup = EXCLUDED.setup,
         -- New connection settings deserve a fresh try at once.
         status = CASE WHEN router_agent_routers.connection IS DISTINCT FROM EXCLUDED.connection THEN 'unknown' ELSE router_agent_routers.status END,
         retry_at = CASE WHEN router_agent_routers.connection IS DISTINCT FROM EXCLUDED.connection THEN NULL ELSE router_agent_routers.retry_at END,
         updated_at = now()`,
      [JSON.stringify(rows(view.changed.routers, view.routers))],
    );
  }
  if (view.changed.policies.size > 0) {
    await client.query(
      `INSERT INTO router_agent_policies (tenant, policy) SELECT key, value FROM jsonb_each($1::jsonb)
       ON CONFLICT (tenant) DO UPDATE SET policy = EXCLUDED.policy`,
      [JSON.stringify(Object.fromEntries([...view.changed.policies].map((tenant) => [tenant, view.policies.get(tenant)])))],
    );
  }
}
