import type { Command } from 'commander';
import type { Logger } from 'pino';
import type { NotificationChannel } from '../domain/customers/customer.js';
import { JOB_KINDS, type JobKind } from '../domain/scheduler/scheduler-run.js';
import { HttpProvider, LogProvider, SmtpProvider, type NotificationProvider } from '../notifications/providers.js';
import { Templates } from '../notifications/templates.js';
import type { Notifier } from '../scheduler/notices.js';
import { cancelHeldRun, confirmHeldRun, listRuns, previewJobs } from '../scheduler/operations.js';
import { startSchedulerRole, type RunningScheduler } from '../scheduler/role.js';
import { DEFAULT_SCHEDULER_SETTINGS, type SchedulerSettings } from '../scheduler/settings.js';
import { tenantOfRun } from '../scheduler/scheduler.js';
import { loadConfig, type Config } from './config.js';
import { commandRuntime, connect, quietLogger, type Connected } from './system.js';

/** The scheduler's side of the `ispbills` command: settings and providers from the environment, the role, and the run commands. */
export function schedulerSettings(config: Config): SchedulerSettings {
  return {
    ...DEFAULT_SCHEDULER_SETTINGS,
    runs_at: { ...DEFAULT_SCHEDULER_SETTINGS.runs_at, reminders: config.SCHEDULER_REMINDERS_AT },
    reminder_days_before_due: config.SCHEDULER_REMINDER_DAYS_BEFORE_DUE,
    reminder_days_before_expiry: config.SCHEDULER_REMINDER_DAYS_BEFORE_EXPIRY,
    policy: {
      ...DEFAULT_SCHEDULER_SETTINGS.policy,
      min_count: config.SCHEDULER_HOLD_MIN_COUNT,
      ratio: config.SCHEDULER_HOLD_RATIO,
      max_share_percent: config.SCHEDULER_HOLD_MAX_SHARE_PERCENT,
      max_gap_days: config.SCHEDULER_HOLD_MAX_GAP_DAYS,
    },
    default_language: config.NOTIFY_DEFAULT_LANGUAGE,
    default_channels: config.NOTIFY_DEFAULT_CHANNELS === 'none' ? [] : (config.NOTIFY_DEFAULT_CHANNELS.split(',') as NotificationChannel[]),
  };
}

/** The SMS provider SMS_PROVIDER asks for (to the log, or an HTTP gateway), or null for `none`. */
export function smsProvider(config: Config, logger: Logger): NotificationProvider | null {
  if (config.SMS_PROVIDER === 'log') return new LogProvider('sms', logger.child({ component: 'notifications' }), config.SMS_RATE_PER_SECOND);
  if (config.SMS_PROVIDER === 'http' && config.SMS_HTTP_URL !== undefined) {
    return new HttpProvider({
      name: 'http-sms',
      channel: 'sms',
      url_template: config.SMS_HTTP_URL,
      body_template: config.SMS_HTTP_BODY ?? null,
      content_type: 'application/json',
      headers: config.SMS_HTTP_AUTHORIZATION === undefined ? {} : { authorization: config.SMS_HTTP_AUTHORIZATION },
      rate_per_second: config.SMS_RATE_PER_SECOND,
    });
  }
  return null;
}

/** One provider per channel that is configured: SMS by HTTP or to the log, email by SMTP, WhatsApp by HTTP. */
export function notificationProviders(config: Config, logger: Logger): NotificationProvider[] {
  const providers: NotificationProvider[] = [];
  const sms = smsProvider(config, logger);
  if (sms !== null) providers.push(sms);
  if (config.SMTP_URL !== undefined) providers.push(new SmtpProvider(config.SMTP_URL, config.SMTP_FROM, config.EMAIL_RATE_PER_SECOND));
  if (config.WHATSAPP_HTTP_URL !== undefined) {
    providers.push(
      new HttpProvider({
        name: 'http-whatsapp',
        channel: 'whatsapp',
        url_template: config.WHATSAPP_HTTP_URL,
        body_template: config.WHATSAPP_HTTP_BODY,
        content_type: 'application/json',
        headers: config.WHATSAPP_HTTP_AUTHORIZATION === undefined ? {} : { authorization: config.WHATSAPP_HTTP_AUTHORIZATION },
        rate_per_second: config.WHATSAPP_RATE_PER_SECOND,
      }),
    );
  }
  return providers;
}

export function notifierFor(config: Config, providers: readonly NotificationProvider[], logger: Logger): Notifier {
  const settings = schedulerSettings(config);
  return {
    templates: new Templates(config.NOTIFY_TEMPLATES_DIR ?? null),
    provider_of: Object.fromEntries(providers.map((provider) => [provider.channel, provider.name])),
    settings,
    logger,
  };
}

/** Starts the scheduler role on a connected process (it works only while it holds the scheduler lock). */
export function startScheduler(config: Config, connected: Connected): RunningScheduler {
  const logger = connected.logger.child({ component: 'scheduler' });
  const providers = notificationProviders(config, logger);
  return startSchedulerRole({
    pool: connected.database.pool,
    store: connected.store,
    runtime: commandRuntime(connected),
    settings: schedulerSettings(config),
    notifier: notifierFor(config, providers, logger),
    providers,
    logger,
    tick_ms: config.SCHEDULER_TICK_MS,
    max_attempts: config.NOTIFY_MAX_ATTEMPTS,
    retry_base_ms: config.NOTIFY_RETRY_BASE_MS,
  });
}

async function withConnection<T>(work: (connected: Connected) => Promise<T>): Promise<T> {
  const connected = await connect(loadConfig(), quietLogger());
  try {
    return await work(connected);
  } finally {
    await connected.close();
  }
}

const print = (value: unknown): void => {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
};

export function registerSchedulerCommands(program: Command, onShutdownSignal: (stop: () => Promise<void>) => void, startRole: () => Promise<() => Promise<void>>): void {
  const scheduler = program.command('scheduler').description('the scheduler: bill runs, expiry sweeps, grace locks, card expiry, reminders and notifications (one active instance)');
  scheduler
    .command('run', { isDefault: true })
    .description('run the scheduler role (the default): one instance is active, the others stand by')
    .action(async () => {
      const stop = await startRole();
      process.stdout.write('ispbills scheduler: running (active while it holds the scheduler lock); Ctrl-C to stop\n');
      onShutdownSignal(stop);
    });
  scheduler
    .command('plan')
    .description("dry run: what each job would do today (or on --date) for an ISP, whether the safety stop would hold it, and the runs recorded")
    .requiredOption('--isp <id>', 'the ISP (its root operator id)')
    .option('--job <job>', `one job: ${JOB_KINDS.join(', ')}`)
    .option('--date <yyyy-mm-dd>', "the ISP's local date (default: today there)")
    .action(async (options: { isp: string; job?: string; date?: string }) => {
      await withConnection(async (connected) => {
        const config = loadConfig();
        const previews = await previewJobs(
          { pool: connected.database.pool, runtime: commandRuntime(connected), settings: schedulerSettings(config) },
          { tenant: options.isp, ...(options.job === undefined ? {} : { job: options.job as JobKind }), ...(options.date === undefined ? {} : { local_date: options.date }) },
        );
        if ('code' in previews) return fail(previews.code, previews.message);
        print({ previews, open_runs: await listRuns(connected.database.pool, options.isp, { open_only: true }) });
      });
    });
  scheduler
    .command('runs')
    .description("an ISP's recent scheduler runs with their status and planned counts")
    .requiredOption('--isp <id>', 'the ISP')
    .option('--limit <n>', 'at most this many', '50')
    .action(async (options: { isp: string; limit: string }) => {
      await withConnection(async (connected) => print(await listRuns(connected.database.pool, options.isp, { limit: Math.max(1, Math.min(1000, Number(options.limit) || 50)) })));
    });
  scheduler
    .command('confirm')
    .description('confirm a run the safety stop held: the scheduler applies it at its next tick')
    .argument('<run-id>', 'e.g. demo-isp.expiry-sweep.2026-12-01')
    .requiredOption('--by <who>', 'who confirms (recorded on the run)')
    .option('--note <text>', 'why it is fine', '')
    .action(async (run_id: string, options: { by: string; note: string }) => {
      await withConnection(async (connected) => {
        const result = await confirmHeldRun(connected.database.pool, commandRuntime(connected), { tenant: tenantOfRun(run_id), actor: { id: options.by, role: 'admin' } }, { run_id, note: options.note });
        if (!result.ok) return fail(result.rejection.code, result.rejection.message);
        print(result.value);
      });
    });
  scheduler
    .command('cancel')
    .description('cancel a held (or not yet applied) run: nothing of it is applied; the next day plans afresh')
    .argument('<run-id>', 'e.g. demo-isp.expiry-sweep.2026-12-01')
    .requiredOption('--by <who>', 'who cancels (recorded on the run)')
    .requiredOption('--reason <text>', 'why')
    .action(async (run_id: string, options: { by: string; reason: string }) => {
      await withConnection(async (connected) => {
        const result = await cancelHeldRun(connected.database.pool, commandRuntime(connected), { tenant: tenantOfRun(run_id), actor: { id: options.by, role: 'admin' } }, { run_id, reason: options.reason });
        if (!result.ok) return fail(result.rejection.code, result.rejection.message);
        print(result.value);
      });
    });
}

function fail(code: string, message: string): void {
  process.stderr.write(`ispbills scheduler: ${message} [${code}]\n`);
  process.exitCode = 1;
}
