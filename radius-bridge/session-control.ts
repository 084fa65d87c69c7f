import pg from 'pg';
import type { Logger } from 'pino';
import type { EventStore, LogPosition, NewEvent, RecordedEvent, Subscription } from '../eventstore/event-store.js';
import { encodeAttributes, type ReplyAttribute } from './attribute-codec.js';
import type { ModelFollower } from './model-follower.js';
import type { NasClient, NasRequestKind, NasRequestOutcome } from './nas-client.js';
import type { Account, Nas } from './radius-model.js';
import { RADIUS_ACTOR, stableUuid } from './system-actor.js';

/**
 * Tells routers when a customer's online session no longer matches the account (DESIGN §7):
 * - suspended, expired, locked or disabled: Disconnect-Request (RouterOS cannot move a session to another pool
 *   by CoA, so the customer reconnects and gets the ISP's policy: refused, or the suspended pool);
 * - resumed, reactivated or enabled while the ISP admits blocked users to the suspended pool: Disconnect, so
 *   the customer leaves the walled garden;
 * - a package change (the customer's, or the package's own rate): CoA-Request with the new
 *   Mikrotik-Rate-Limit; a NAK falls back to Disconnect.
 * Each answer (ACK, NAK, timeout) is recorded as a `nas-request-completed` event in `nas-requests-<router_id>`:
 * whether and when a customer was cut off is what a dispute asks about.
 *
 * One process in the deployment sends (a session advisory lock on a connection of its own); it reads the log
 * from its checkpoint in `radius_checkpoints`, starting at the head the first time (history is not replayed
 * into disconnects). It acts on the account as the RADIUS model shows it once the model has reached the event,
 * so a suspension already undone by a later resume disconnects nobody.
 */
export const NAS_REQUEST_EVENT = 'nas-request-completed';
export const NAS_REQUESTS_STREAM_PREFIX = 'nas-requests-';
const CHECKPOINT = 'session-control';
const LOCK_CLASS = 7303;

const CUT_OFF = new Set(['customer-suspended', 'customer-expired', 'customer-locked', 'customer-disabled']);
const RESTORED = new Set(['customer-resumed', 'customer-reactivated', 'customer-enabled']);

export type SessionControlOptions = Readonly<{
  logger?: Logger;
  poll_interval_ms: number;
  leader_retry_ms?: number;
  /** Requests in flight at once across all routers. */
  concurrency?: number;
  /** How long an event waits for the RADIUS model to reach it. */
  model_wait_ms?: number;
}>;

type OpenSessionRow = { acctuniqueid: string; acctsessionid: string; username: string; nas_address: string; framed_ip: string | null };

type Action = Readonly<{ kind: NasRequestKind; account: Account; session: OpenSessionRow; nas: Nas; attributes: readonly ReplyAttribute[]; cause: RecordedEvent }>;

export class SessionControl {
  readonly #lock_client: pg.Client;
  #lock_connected = false;
  #leading = false;
  #stopping = false;
  #subscription: Subscription | null = null;
  #running: Promise<void> | null = null;
  #sleep: { timer: NodeJS.Timeout; resolve: () => void } | null = null;
  sent = 0;

  constructor(
    private readonly pool: pg.Pool,
    private readonly store: EventStore,
    private readonly follower: ModelFollower,
    private readonly client: NasClient,
    private readonly options: SessionControlOptions,
  ) {
    this.#lock_client = new pg.Client({ ...(pool.options as pg.ClientConfig), application_name: 'ispbills-radius-session-control' });
    this.#lock_client.on('error', (error) => {
      options.logger?.error({ err: error }, 'radius session control: leader connection lost');
      this.#leading = false;
      void this.#subscription?.stop();
    });
  }

  get leading(): boolean {
    return this.#leading;
  }

  start(): void {
    this.#running = this.#run();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#sleep !== null) {
      clearTimeout(this.#sleep.timer);
      this.#sleep.resolve();
    }
    await this.#subscription?.stop();
    await this.#running;
    await this.#lock_client.end().catch(() => undefined);
  }

  async #run(): Promise<void> {
    while (!this.#stopping) {
      try {
        if (!this.#leading) {
          if (!this.#lock_connected) {
            await this.#lock_client.connect();
            this.#lock_connected = true;
          }
          const locked = await this.#lock_client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, hashtext($2)) AS locked', [LOCK_CLASS, CHECKPOINT]);
          this.#leading = locked.rows[0]!.locked;
          if (!this.#leading) {
            await this.#pause(this.options.leader_retry_ms ?? 2_000);
            continue;
          }
          this.options.logger?.info('radius session control: leading (sends Disconnect/CoA)');
        }
        const from = await this.#checkpoint();
        const subscription = this.store.subscribeToAll(from, { handle: (batch) => this.#handle(batch) }, { batch_size: 500, poll_interval_ms: this.options.poll_interval_ms });
        this.#subscription = subscription;
        await subscription.done;
        this.#subscription = null;
      } catch (error) {
        if (this.#stopping) break;
        this.options.logger?.error({ err: error }, 'radius session control: failed; retrying');
        await this.#pause(this.options.leader_retry_ms ?? 2_000);
      }
    }
  }

  #pause(ms: number): Promise<void> {
    if (this.#stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#sleep = null;
        resolve();
      }, ms);
      this.#sleep = { timer, resolve };
    });
  }

  async #checkpoint(): Promise<LogPosition> {
    const found = await this.pool.query<{ position_commit: string; position_prepare: string }>('SELECT position_commit, position_prepare FROM radius_checkpoints WHERE name = $1', [CHECKPOINT]);
    if (found.rows[0] !== undefined) return { commit: BigInt(found.rows[0].position_commit), prepare: BigInt(found.rows[0].position_prepare) };
    const head = await this.store.headPosition();
    await this.#save(head);
    return head;
  }

  async #save(position: LogPosition): Promise<void> {
    await this.pool.query(
      `INSERT INTO radius_checkpoints (name, position_commit, position_prepare, updated_at) VALUES ($1, $2, $3, now())
       ON CONFLICT (name) DO UPDATE SET position_commit = EXCLUDED.position_commit, position_prepare = EXCLUDED.position_prepare, updated_at = now()`,
      [CHECKPOINT, position.commit.toString(), position.prepare.toString()],
    );
  }

  async #handle(batch: readonly RecordedEvent[]): Promise<void> {
    const actions: Action[] = [];
    for (const event of batch) {
      if (!isTrigger(event)) continue;
      await this.follower.reached(event.position, this.options.model_wait_ms ?? 10_000);
      actions.push(...(await this.#actionsFor(event)));
    }
    if (actions.length > 0) await this.#perform(actions);
    await this.#save(batch[batch.length - 1]!.position);
  }

  async #actionsFor(event: RecordedEvent): Promise<Action[]> {
    const model = this.follower.model;
    const data = event.data as { customer_id?: string; package_id?: string };
    let accounts: readonly Account[];
    let kind: NasRequestKind;
    if (event.stream_id.startsWith('package-')) {
      kind = 'coa';
      accounts = model.accountsOnPackage(data.package_id!).filter((account) => account.status === 'active');
    } else {
      const account = model.account(data.customer_id!);
      if (account === null) return [];
      if (CUT_OFF.has(event.type)) {
        if (account.status === 'active') return [];
        kind = 'disconnect';
      } else if (RESTORED.has(event.type)) {
        if (account.status !== 'active' || model.policy(account.tenant)?.blocked_access !== 'suspended_pool') return [];
        kind = 'disconnect';
      } else {
        if (account.status !== 'active') return [];
        kind = 'coa';
      }
      accounts = [account];
    }
    const actions: Action[] = [];
    for (const account of accounts) {
      const attributes: ReplyAttribute[] = [];
      if (kind === 'coa') {
        const rate = model.group(`pkg-${account.package_id}`).reply.find((item) => item.attribute === 'Mikrotik-Rate-Limit');
        if (rate === undefined) continue;
        attributes.push({ name: 'Mikrotik-Rate-Limit', value: rate.value });
      }
      for (const session of await this.#openSessions(account)) {
        const nas = model.nasOfTenant(account.tenant).find((candidate) => candidate.nasname === session.nas_address);
        if (nas === undefined) continue;
        actions.push({ kind, account, session, nas, attributes, cause: event });
      }
    }
    return actions;
  }

  async #openSessions(account: Account): Promise<OpenSessionRow[]> {
    const names = [account.username, account.mac].filter((name): name is string => name !== null);
    if (names.length === 0) return [];
    const result = await this.pool.query<OpenSessionRow>(
      `SELECT acctuniqueid, acctsessionid, username, host(nasipaddress) AS nas_address, host(framedipaddress) AS framed_ip
         FROM radacct WHERE acctstoptime IS NULL AND username = ANY($1) LIMIT 100`,
      [names],
    );
    return result.rows;
  }

  /** Sends every request (bounded concurrency), then records each answer as one event. */
  async #perform(actions: readonly Action[]): Promise<void> {
    const events: { stream_id: string; event: NewEvent }[] = [];
    const limit = this.options.concurrency ?? 64;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < actions.length) {
        const action = actions[next++]!;
        const sent_at = new Date();
        let outcome = await this.#send(action.kind, action);
        events.push(this.#outcomeEvent(action.kind, action, outcome, sent_at));
        if (action.kind === 'coa' && outcome.outcome === 'nak') {
          // The router would not change the session in place: end it, and the reconnect gets the new package.
          const retried_at = new Date();
          outcome = await this.#send('disconnect', action);
          events.push(this.#outcomeEvent('disconnect', action, outcome, retried_at));
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(limit, actions.length) }, worker));
    const by_stream = new Map<string, NewEvent[]>();
    for (const { stream_id, event } of events) by_stream.set(stream_id, [...(by_stream.get(stream_id) ?? []), event]);
    try {
      await this.store.appendToStreams([...by_stream].map(([stream_id, list]) => ({ stream_id, events: list, stream_state: 'any' as const })));
    } catch {
      // Some were recorded before (the batch is being retried after a crash): record each alone, repeats are replays.
      for (const { stream_id, event } of events) await this.store.appendToStream(stream_id, [event], { stream_state: 'any' });
    }
  }

  async #send(kind: NasRequestKind, action: Action): Promise<NasRequestOutcome> {
    const request: ReplyAttribute[] = [
      { name: 'User-Name', value: action.session.username },
      { name: 'Acct-Session-Id', value: action.session.acctsessionid },
      ...(action.nas.nasname.includes(':') ? [] : [{ name: 'NAS-IP-Address', value: action.nas.nasname }]),
      ...(action.session.framed_ip === null ? [] : [{ name: 'Framed-IP-Address', value: action.session.framed_ip }]),
      ...(kind === 'coa' ? action.attributes : []),
    ];
    this.sent += 1;
    const outcome = await this.client.send(kind, { address: action.nas.nasname, port: action.nas.coa_port, secret: action.nas.secret }, encodeAttributes(request));
    const level = outcome.outcome === 'ack' ? 'info' : 'warn';
    this.options.logger?.[level](
      { kind, router_id: action.nas.router_id, customer_id: action.account.customer_id, username: action.session.username, reason: action.cause.type, ...outcome },
      `radius: ${kind === 'coa' ? 'CoA' : 'Disconnect'} ${outcome.outcome}`,
    );
    return outcome;
  }

  #outcomeEvent(kind: NasRequestKind, action: Action, outcome: NasRequestOutcome, sent_at: Date): { stream_id: string; event: NewEvent } {
    const event_id = stableUuid(`${NAS_REQUEST_EVENT}|${action.cause.event_id}|${action.session.acctuniqueid}|${kind}`);
    const answered_at = new Date();
    return {
      stream_id: `${NAS_REQUESTS_STREAM_PREFIX}${action.nas.router_id}`,
      event: {
        event_id,
        type: NAS_REQUEST_EVENT,
        data: {
          router_id: action.nas.router_id,
          customer_id: action.account.customer_id,
          kind,
          reason: action.cause.type,
          cause_event_id: action.cause.event_id,
          username: action.session.username,
          acct_session_id: action.session.acctsessionid,
          acctuniqueid: action.session.acctuniqueid,
          nas_ip: action.nas.nasname,
          coa_port: action.nas.coa_port,
          rate_limit: kind === 'coa' ? (action.attributes.find((item) => item.name === 'Mikrotik-Rate-Limit')?.value ?? null) : null,
          outcome: outcome.outcome,
          error_cause: outcome.error_cause,
          attempts: outcome.attempts,
          sent_at: sent_at.toISOString(),
          answered_at: answered_at.toISOString(),
        },
        metadata: {
          actor: RADIUS_ACTOR,
          tenant: action.account.tenant,
          correlation_id: action.cause.metadata.correlation_id,
          causation_id: action.cause.event_id,
          command_id: event_id,
        },
        occurred_at: answered_at,
      },
    };
  }
}

function isTrigger(event: RecordedEvent): boolean {
  if (event.stream_id.startsWith('customer-')) return CUT_OFF.has(event.type) || RESTORED.has(event.type) || event.type === 'package-changed';
  return event.stream_id.startsWith('package-') && event.type === 'package-updated';
}
