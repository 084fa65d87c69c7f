import { randomUUID } from 'node:crypto';
import pino from 'pino';
import type { CommandRuntime } from '../../commands/command-runtime.js';
import { createPackage, registerCustomer, setContactPreferences } from '../../commands/customer-commands.js';
import { registerIsp } from '../../commands/operator-commands.js';
import { receivePayment } from '../../commands/payment-commands.js';
import type { BillingProfile, NotificationChannel, NotificationLanguage } from '../../domain/customers/customer.js';
import type { PackageSpec } from '../../domain/packages/package.js';
import { PostgresEventStore } from '../../eventstore/postgres/postgres-event-store.js';
import { NotificationDispatcher } from '../../notifications/dispatcher.js';
import { HttpProvider, SmtpProvider, type NotificationProvider } from '../../notifications/providers.js';
import { Templates } from '../../notifications/templates.js';
import { ALL_PROJECTIONS } from '../../projections/index.js';
import { Projector } from '../../projections/projector.js';
import type { Notifier } from '../../scheduler/notices.js';
import { Scheduler } from '../../scheduler/scheduler.js';
import { DEFAULT_SCHEDULER_SETTINGS, type SchedulerSettings } from '../../scheduler/settings.js';
import { admin, ManualClock, ok, runtimeOn } from '../support/demo-isp.js';
import { SmsTestEndpoint } from '../support/sms-test-endpoint.js';
import { SmtpTestServer } from '../support/smtp-test-server.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/**
 * A whole scheduler setup for tests: a test database, the projector (the scheduler plans from read models), a
 * manual clock shared by commands, scheduler and dispatcher, an HTTP SMS endpoint and an SMTP server.
 */
export type Harness = Readonly<{
  database: TestDatabase;
  clock: ManualClock;
  runtime: CommandRuntime;
  store: PostgresEventStore;
  projector: Projector;
  sms: SmsTestEndpoint;
  smtp: SmtpTestServer;
  providers: readonly NotificationProvider[];
  notifier: Notifier;
  settings: SchedulerSettings;
  newScheduler: (options?: Readonly<{ after_batch?: (run_id: string, batch: number) => void }>) => Scheduler;
  dispatcher: NotificationDispatcher;
  close: () => Promise<void>;
}>;

export const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

export async function startHarness(start: string, settings: Partial<SchedulerSettings> = {}): Promise<Harness> {
  const database = await createTestDatabase(30);
  const clock = new ManualClock(new Date(start));
  const runtime = runtimeOn(database.pool, clock);
  const store = new PostgresEventStore(database.pool, { poll_interval_ms: 10 });
  const projector = new Projector(database.pool, store, ALL_PROJECTIONS, { poll_interval_ms: 10, retry_after_failure_ms: 200, logger });
  projector.start();
  const sms = new SmsTestEndpoint();
  await sms.start();
  const smtp = new SmtpTestServer();
  await smtp.start();
  const providers: NotificationProvider[] = [
    new HttpProvider({ name: 'http-sms', channel: 'sms', url_template: sms.url_template, body_template: null, content_type: 'application/json', headers: {}, rate_per_second: 1_000 }),
    new SmtpProvider(`smtp://127.0.0.1:${smtp.port}`, 'Billing <billing@isp.test>', 1_000),
  ];
  const full: SchedulerSettings = { ...DEFAULT_SCHEDULER_SETTINGS, ...settings };
  const notifier: Notifier = { templates: new Templates(), provider_of: { sms: 'http-sms', email: 'smtp' }, settings: full, logger };
  const dispatcher = new NotificationDispatcher({ pool: database.pool, store, clock, providers, logger, retry_base_ms: 60_000 });
  const schedulers: Scheduler[] = [];
  return {
    database,
    clock,
    runtime,
    store,
    projector,
    sms,
    smtp,
    providers,
    notifier,
    settings: full,
    dispatcher,
    newScheduler: (options = {}) => {
      const scheduler = new Scheduler({ pool: database.pool, store, runtime: runtimeOn(database.pool, clock), settings: full, notifier, logger, ...(options.after_batch === undefined ? {} : { after_batch: options.after_batch }) });
      schedulers.push(scheduler);
      return scheduler;
    },
    close: async () => {
      for (const scheduler of schedulers) await scheduler.resign();
      await dispatcher.close();
      await projector.stop();
      await sms.stop();
      await smtp.stop();
      await database.close();
    },
  };
}

export const DAILY_7: PackageSpec = { name: 'Weekly 5M', down_kbps: 5_000, up_kbps: 1_000, burst: null, price: '150.00', validity_days: 7, ip_pool: 'pool-home', data_quota_mb: null };
export const MONTHLY_10: PackageSpec = { name: 'Home 10M', down_kbps: 10_000, up_kbps: 2_000, burst: null, price: '500.00', validity_days: 30, ip_pool: 'pool-home', data_quota_mb: null };

export type TestIsp = Readonly<{ tenant: string; time_zone: string; currency: string; daily_package: string; monthly_package: string }>;

export async function createIsp(runtime: CommandRuntime, time_zone: string, currency: string, prefix: string): Promise<TestIsp> {
  const tenant = `${prefix}-${randomUUID().slice(0, 6)}`;
  const envelope = admin(tenant);
  ok(await registerIsp(runtime, envelope, { operator_id: tenant, name: `${prefix.toUpperCase()} Net`, currency, time_zone, address: 'Somewhere 1' }));
  ok(await createPackage(runtime, envelope, { ...DAILY_7, package_id: `${tenant}-weekly` }));
  ok(await createPackage(runtime, envelope, { ...MONTHLY_10, package_id: `${tenant}-home` }));
  return { tenant, time_zone, currency, daily_package: `${tenant}-weekly`, monthly_package: `${tenant}-home` };
}

let mobile = 1_700_000_000;

export async function addCustomer(
  runtime: CommandRuntime,
  isp: TestIsp,
  name: string,
  profile: BillingProfile,
  contact: Readonly<{ email?: string; language?: NotificationLanguage; channels?: NotificationChannel[] }> = {},
): Promise<string> {
  const customer_id = `${isp.tenant}-${name}`;
  mobile += 1;
  ok(
    await registerCustomer(runtime, admin(isp.tenant), {
      customer_id,
      operator_id: isp.tenant,
      connection_type: 'pppoe',
      name: `Customer ${name}`,
      mobile: `+880${mobile}`,
      zone: 'Centre',
      username: customer_id,
      password: 'pw',
      mac: null,
      static_ip: null,
      package_id: profile.kind === 'daily' ? isp.daily_package : isp.monthly_package,
      profile,
      special_price: null,
      self_registered: false,
    }),
  );
  if (contact.email !== undefined || contact.language !== undefined || contact.channels !== undefined) {
    ok(await setContactPreferences(runtime, admin(isp.tenant), { customer_id, email: contact.email ?? null, language: contact.language ?? null, channels: contact.channels ?? null }));
  }
  return customer_id;
}

export async function pay(runtime: CommandRuntime, isp: TestIsp, customer_id: string, amount: string, recharge_package_id: string | null): Promise<void> {
  ok(
    await receivePayment(runtime, admin(isp.tenant), {
      customer_id,
      payment_id: randomUUID(),
      method: 'cash',
      amount,
      collected_by: `${isp.tenant}-cashier`,
      collector_operator_id: isp.tenant,
      gateway: null,
      gateway_reference: null,
      card: null,
      recharge_package_id,
    }),
  );
}
