import type { Command } from 'commander';
import { DEFAULT_RADIUS_SETTINGS, startRadius, type RadiusSettings, type RunningRadius } from '../radius-bridge/radius-role.js';
import type { Config } from './config.js';
import { commandRuntime, type Connected } from './system.js';

/** The radius role's side of the `ispbills` command: its settings from the environment, and `ispbills radius`. */
export function radiusSettings(config: Config): RadiusSettings {
  return {
    ...DEFAULT_RADIUS_SETTINGS,
    host: config.RADIUS_HOST,
    auth_port: config.RADIUS_AUTH_PORT,
    acct_port: config.RADIUS_ACCT_PORT,
    receive_buffer_bytes: config.RADIUS_RECEIVE_BUFFER_BYTES,
    poll_interval_ms: config.SUBSCRIPTION_POLL_INTERVAL_MS,
    reply_cache_ms: config.RADIUS_REPLY_CACHE_MS,
    sessions_refresh_ms: config.RADIUS_SESSIONS_REFRESH_MS,
    stale_after_intervals: config.RADIUS_STALE_AFTER_INTERVALS,
    coa_timeout_ms: config.RADIUS_COA_TIMEOUT_MS,
    coa_attempts: config.RADIUS_COA_ATTEMPTS,
    usage_interval_ms: config.RADIUS_USAGE_INTERVAL_MS,
    accounting_batch: config.RADIUS_ACCOUNTING_BATCH,
    accounting_lanes: config.RADIUS_ACCOUNTING_LANES,
  };
}

/** Starts the radius role on a connected process: it answers once its copy of the RADIUS tables is current. */
export function startRadiusRole(config: Config, connected: Connected): Promise<RunningRadius> {
  return startRadius(connected.database.pool, connected.store, commandRuntime(connected), radiusSettings(config), connected.logger);
}

export function registerRadiusCommands(program: Command, onShutdownSignal: (stop: () => Promise<void>) => void, startRole: () => Promise<() => Promise<void>>): void {
  program
    .command('radius')
    .description('the RADIUS role: authentication and accounting for the routers (UDP), Disconnect/CoA and usage events (one leader); run several behind a UDP balancer')
    .action(async () => {
      const stop = await startRole();
      process.stdout.write('ispbills radius: answering the routers; Ctrl-C to stop\n');
      onShutdownSignal(stop);
    });
}
