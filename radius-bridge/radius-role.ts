import type pg from 'pg';
import type { Logger } from 'pino';
import type { CommandRuntime } from '../commands/command-runtime.js';
import type { EventStore } from '../eventstore/event-store.js';
import { AccountingWriter } from './accounting-writer.js';
import { followRadiusModel, type ModelFollower } from './model-follower.js';
import { NasClient } from './nas-client.js';
import { OpenSessions } from './open-sessions.js';
import { PostAuthLog } from './postauth-log.js';
import { RadiusServer } from './radius-server.js';
import { SessionControl } from './session-control.js';
import { StaleSessionCloser } from './stale-sessions.js';
import { UsageWorker } from './usage-worker.js';

/**
 * The `radius` role: the RADIUS server and everything it needs in one process — the in-memory RADIUS model
 * and its subscription, the open-session index, batched radacct / radpostauth writers, the closer of sessions
 * whose interim updates stopped, and, in one leader across all radius instances, the Disconnect/CoA sender and
 * the usage recorder (finished sessions → usage events). It answers only once the model has caught up.
 */
export type RadiusSettings = Readonly<{
  host: string;
  auth_port: number;
  acct_port: number;
  receive_buffer_bytes: number;
  poll_interval_ms: number;
  reply_cache_ms: number;
  sessions_refresh_ms: number;
  /** A session without an interim update for this many interim intervals (plus a minute) is closed. */
  stale_after_intervals: number;
  stale_check_ms: number;
  coa_timeout_ms: number;
  coa_attempts: number;
  /** How often the leader turns finished sessions into usage events (0: never). */
  usage_interval_ms: number;
  accounting_batch: number;
  /** Accounting batches written in parallel (sessions keep their order within a lane). */
  accounting_lanes: number;
}>;

export const DEFAULT_RADIUS_SETTINGS: RadiusSettings = {
  host: '127.0.0.1',
  auth_port: 1812,
  acct_port: 1813,
  receive_buffer_bytes: 4 * 1024 * 1024,
  poll_interval_ms: 50,
  reply_cache_ms: 5_000,
  sessions_refresh_ms: 30_000,
  stale_after_intervals: 3,
  stale_check_ms: 60_000,
  coa_timeout_ms: 2_000,
  coa_attempts: 3,
  usage_interval_ms: 1_000,
  accounting_batch: 1_000,
  accounting_lanes: 2,
};

export type RunningRadius = Readonly<{
  auth_port: number;
  acct_port: number;
  server: RadiusServer;
  follower: ModelFollower;
  sessions: OpenSessions;
  accounting: AccountingWriter;
  control: SessionControl;
  usage: UsageWorker;
  stop: () => Promise<void>;
}>;

export async function startRadius(pool: pg.Pool, store: EventStore, runtime: CommandRuntime, settings: RadiusSettings, logger?: Logger): Promise<RunningRadius> {
  const log = logger?.child({ component: 'radius' });
  const follower = followRadiusModel(pool, store, { poll_interval_ms: settings.poll_interval_ms, logger: log });
  const sessions = new OpenSessions();
  const accounting = new AccountingWriter(pool, { max_batch: settings.accounting_batch, lanes: settings.accounting_lanes, logger: log });
  const postauth = new PostAuthLog(pool, { logger: log });
  const usage = new UsageWorker(pool, runtime, follower.model, { logger: log });
  const server = new RadiusServer(
    { model: follower.model, sessions, accounting, postauth },
    { host: settings.host, auth_port: settings.auth_port, acct_port: settings.acct_port, receive_buffer_bytes: settings.receive_buffer_bytes, reply_cache_ms: settings.reply_cache_ms, logger: log },
  );
  const nas_client = new NasClient({ timeout_ms: settings.coa_timeout_ms, attempts: settings.coa_attempts, logger: log });
  const control = new SessionControl(pool, store, follower, nas_client, { logger: log, poll_interval_ms: settings.poll_interval_ms });
  const closer = new StaleSessionCloser(pool, follower.model, sessions, { after_intervals: settings.stale_after_intervals, logger: log });
  let refresh_timer: NodeJS.Timeout | null = null;
  let stale_timer: NodeJS.Timeout | null = null;
  let usage_timer: NodeJS.Timeout | null = null;
  let stats_timer: NodeJS.Timeout | null = null;
  let usage_pass: Promise<unknown> = Promise.resolve();
  const stop = async (): Promise<void> => {
    if (refresh_timer !== null) clearInterval(refresh_timer);
    if (stale_timer !== null) clearInterval(stale_timer);
    if (usage_timer !== null) clearInterval(usage_timer);
    if (stats_timer !== null) clearInterval(stats_timer);
    await usage_pass;
    await server.stop();
    await control.stop();
    await nas_client.close();
    await follower.stop();
    await accounting.flush();
    await postauth.stop();
  };
  try {
    await follower.ready;
    await sessions.refresh(pool);
    const ports = await server.start();
    await nas_client.start();
    control.start();
    refresh_timer = setInterval(() => {
      sessions.refresh(pool).catch((error: unknown) => log?.warn({ err: error }, 'radius: open sessions not refreshed; using the last known'));
    }, settings.sessions_refresh_ms);
    stale_timer = setInterval(() => {
      closer.run().catch((error: unknown) => log?.warn({ err: error }, 'radius: stale sessions not closed this time'));
    }, settings.stale_check_ms);
    if (settings.usage_interval_ms > 0) {
      let running = false;
      usage_timer = setInterval(() => {
        if (running || !control.leading) return;
        running = true;
        usage_pass = usage
          .run()
          .catch((error: unknown) => log?.warn({ err: error }, 'radius usage: pass failed; will try again'))
          .finally(() => (running = false));
      }, settings.usage_interval_ms);
      usage_timer.unref();
    }
    // What was answered and what was dropped (by reason), once a minute while anything happens.
    let last_received = 0;
    stats_timer = setInterval(() => {
      if (server.stats.received === last_received) return;
      last_received = server.stats.received;
      log?.info({ stats: server.stats, open_sessions: sessions.size, accounting_queued: accounting.queued, model_position: follower.model.position.prepare.toString() }, 'radius: counters');
    }, 60_000);
    stats_timer.unref();
    refresh_timer.unref();
    stale_timer.unref();
    log?.info({ host: settings.host, ...ports, receive_buffer_bytes: server.receive_buffer_bytes, open_sessions: sessions.size }, 'radius: listening');
    return { ...ports, server, follower, sessions, accounting, control, usage, stop };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}
