import pg from 'pg';
import type { Logger } from 'pino';
import type { EventStore } from '../eventstore/event-store.js';
import type { SecretBox } from './credentials.js';
import { Dispatcher, type DispatcherOptions } from './dispatcher.js';
import { pruneFinished } from './outbox.js';
import { publishOutcomes } from './publisher.js';
import { Reactor } from './reactor.js';

export type RouterAgentOptions = Readonly<{
  logger: Logger;
  secrets: SecretBox;
  /** Events per reactor transaction. */
  batch_size: number;
  poll_interval_ms: number;
  rate_check_delay_ms: number;
  max_pending_per_router: number;
  /** Every router is reconciled at least this often (0: only on demand and on changes). */
  reconcile_interval_ms: number;
  /** Finished, published outbox rows are kept this long, then pruned (the events stay). */
  outbox_retention_ms: number;
  /** How often a process that is not the leader asks again. */
  leader_retry_ms?: number;
  dispatcher: Omit<DispatcherOptions, 'logger' | 'poll_interval_ms'>;
}>;

const LOCK_CLASS = 7303;
const LOCK_ID = 1;
const MAINTENANCE_INTERVAL_MS = 30_000;
const PRUNE_BATCH = 10_000;

/**
 * The router-agent role: one leader in the whole deployment (a session advisory lock on a connection of its
 * own; if that connection dies the lock goes with it and another process takes over) runs the reactor (events
 * → outbox), the dispatcher (outbox → routers), the publisher (outcomes → events) and the reconciliation
 * schedule. Other processes wait as hot standbys.
 */
export class RouterAgent {
  #lock: pg.Client;
  #leading = false;
  #stopping = false;
  #reactor: Reactor | null = null;
  #dispatcher: Dispatcher | null = null;
  #maintenance: NodeJS.Timeout | null = null;
  #leader_timer: NodeJS.Timeout | null = null;
  #publishing: Promise<void> = Promise.resolve();
  #publish_again = false;
  #publish_running = false;

  constructor(
    readonly pool: pg.Pool,
    readonly store: EventStore,
    readonly options: RouterAgentOptions,
  ) {
    this.#lock = this.#lockClient();
  }

  /** The connection that holds (or asks for) leadership; losing it loses the lock, so the work stops and a new one asks again. */
  #lockClient(): pg.Client {
    const client = new pg.Client({ ...(this.pool.options as pg.ClientConfig), application_name: 'ispbills-router-agent-leader' });
    client.on('error', (error) => {
      this.options.logger.error({ err: error }, 'router-agent: leader connection lost; stopping, then asking to lead again');
      void this.#stepDown().then(() => this.#reconnect());
    });
    return client;
  }

  async #reconnect(): Promise<void> {
    if (this.#stopping) return;
    await this.#lock.end().catch(() => undefined);
    this.#lock = this.#lockClient();
    try {
      await this.#lock.connect();
      await this.#tryLead();
    } catch (error) {
      this.options.logger.error({ err: error }, 'router-agent: cannot reconnect for leadership; trying again');
      this.#leader_timer = setTimeout(() => void this.#reconnect(), this.options.leader_retry_ms ?? 5_000);
    }
  }

  get leading(): boolean {
    return this.#leading;
  }

  async start(): Promise<void> {
    await this.#lock.connect();
    await this.#tryLead();
  }

  async #tryLead(): Promise<void> {
    if (this.#stopping) return;
    let locked = false;
    try {
      locked = (await this.#lock.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS locked', [LOCK_CLASS, LOCK_ID])).rows[0]!.locked;
    } catch (error) {
      this.options.logger.error({ err: error }, 'router-agent: cannot ask for leadership');
    }
    if (!locked) {
      this.#leader_timer = setTimeout(() => void this.#tryLead(), this.options.leader_retry_ms ?? 5_000);
      return;
    }
    this.#leading = true;
    this.options.logger.info('router-agent: leading; driving the routers');
    const logger = this.options.logger;
    this.#dispatcher = new Dispatcher(this.pool, this.store, this.options.secrets, { ...this.options.dispatcher, logger, poll_interval_ms: this.options.poll_interval_ms }, () => this.#publishSoon());
    this.#reactor = new Reactor(this.pool, this.store, {
      batch_size: this.options.batch_size,
      poll_interval_ms: this.options.poll_interval_ms,
      rate_check_delay_ms: this.options.rate_check_delay_ms,
      max_pending_per_router: this.options.max_pending_per_router,
      logger,
      on_enqueued: () => this.#dispatcher?.wake(),
    });
    await this.#reactor.start();
    this.#reactor.done.catch((error: unknown) => {
      logger.error({ err: error }, 'router-agent: the event subscription stopped; restarting it');
      if (this.#leading && !this.#stopping) setTimeout(() => void this.#restartReactor(), this.options.poll_interval_ms * 20);
    });
    this.#dispatcher.start();
    this.#publishSoon();
    this.#maintenance = setInterval(() => void this.#maintain(), Math.min(MAINTENANCE_INTERVAL_MS, Math.max(1_000, this.options.reconcile_interval_ms || MAINTENANCE_INTERVAL_MS)));
  }

  async #restartReactor(): Promise<void> {
    if (!this.#leading || this.#stopping || this.#reactor === null) return;
    await this.#reactor.stop();
    await this.#reactor.start();
    this.#reactor.done.catch(() => {
      if (this.#leading && !this.#stopping) setTimeout(() => void this.#restartReactor(), this.options.poll_interval_ms * 20);
    });
  }

  /** Appends finished commands' outcomes; runs one at a time, and again if asked meanwhile. */
  #publishSoon(): void {
    if (this.#publish_running) {
      this.#publish_again = true;
      return;
    }
    this.#publish_running = true;
    this.#publishing = (async () => {
      try {
        do {
          this.#publish_again = false;
          await publishOutcomes(this.pool, this.store);
        } while (this.#publish_again && !this.#stopping);
      } catch (error) {
        this.options.logger.error({ err: error }, 'router-agent: publishing outcomes failed; retrying at the next look');
      } finally {
        this.#publish_running = false;
      }
    })();
  }

  /** The schedule: reconciliation when due, outcomes left unpublished, old rows pruned. */
  async #maintain(): Promise<void> {
    try {
      if (this.options.reconcile_interval_ms > 0) {
        const queued = await this.pool.query(
          `INSERT INTO router_outbox (router_id, tenant, kind, ordering_key, payload)
           SELECT r.router_id, r.tenant, 'reconcile', '*', '{"kind":"reconcile","reason":"schedule"}'::jsonb
             FROM router_agent_routers r
            WHERE NOT r.removed AND r.connection IS NOT NULL
              AND (r.last_reconciled_at IS NULL OR r.last_reconciled_at < now() - make_interval(secs => $1::double precision / 1000))
              AND NOT EXISTS (SELECT 1 FROM router_outbox o WHERE o.router_id = r.router_id AND o.state = 'pending' AND o.kind = 'reconcile')`,
          [this.options.reconcile_interval_ms],
        );
        if ((queued.rowCount ?? 0) > 0) this.#dispatcher?.wake();
      }
      this.#publishSoon();
      await pruneFinished(this.pool, this.options.outbox_retention_ms, PRUNE_BATCH);
    } catch (error) {
      this.options.logger.error({ err: error }, 'router-agent: scheduled work failed');
    }
  }

  async #stepDown(): Promise<void> {
    this.#leading = false;
    if (this.#maintenance !== null) clearInterval(this.#maintenance);
    await this.#reactor?.stop();
    await this.#dispatcher?.stop();
    this.#reactor = null;
    this.#dispatcher = null;
  }

  /** Wakes the dispatcher (after a command was enqueued by hand in this process). */
  wake(): void {
    this.#dispatcher?.wake();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#leader_timer !== null) clearTimeout(this.#leader_timer);
    await this.#stepDown();
    await this.#publishing;
    await publishOutcomes(this.pool, this.store).catch(() => undefined);
    await this.#lock.end().catch(() => undefined);
  }
}
