import type pg from 'pg';
import type { Logger } from 'pino';
import type { CommandRuntime } from '../commands/command-runtime.js';
import type { EventStore } from '../eventstore/event-store.js';
import { NotificationDispatcher } from '../notifications/dispatcher.js';
import type { NotificationProvider } from '../notifications/providers.js';
import type { Notifier } from './notices.js';
import { Scheduler } from './scheduler.js';
import type { SchedulerSettings } from './settings.js';

/**
 * The running role: a tick loop (every `tick_ms`) and a delivery loop (every `dispatch_ms`), both doing work only
 * while this instance holds the scheduler lock; a standby instance just keeps asking for it. Errors are logged
 * and the loops go on: the next tick resumes whatever the failed one left.
 */
export type SchedulerRoleOptions = Readonly<{
  pool: pg.Pool;
  store: EventStore;
  runtime: CommandRuntime;
  settings: SchedulerSettings;
  notifier: Notifier | null;
  providers: readonly NotificationProvider[];
  logger: Logger;
  tick_ms: number;
  dispatch_ms?: number;
  max_attempts: number;
  retry_base_ms: number;
}>;

export type RunningScheduler = Readonly<{ scheduler: Scheduler; dispatcher: NotificationDispatcher; stop: () => Promise<void> }>;

export function startSchedulerRole(options: SchedulerRoleOptions): RunningScheduler {
  const scheduler = new Scheduler({ pool: options.pool, store: options.store, runtime: options.runtime, settings: options.settings, notifier: options.notifier, logger: options.logger });
  const dispatcher = new NotificationDispatcher({
    pool: options.pool,
    store: options.store,
    clock: options.runtime.clock,
    providers: options.providers,
    logger: options.logger.child({ component: 'notifications' }),
    max_attempts: options.max_attempts,
    retry_base_ms: options.retry_base_ms,
  });
  let stopping = false;
  const loops: Promise<void>[] = [];
  // Sleeps in progress, so that stop() ends them at once instead of waiting out a 30-second tick interval.
  const sleepers = new Set<() => void>();
  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        sleepers.delete(done);
        resolve();
      }
      sleepers.add(done);
    });
  const loop = (name: string, every_ms: number, step: () => Promise<unknown>): Promise<void> =>
    (async () => {
      while (!stopping) {
        try {
          if (await scheduler.lead()) await step();
        } catch (error) {
          options.logger.error({ err: error, loop: name }, 'scheduler: step failed; trying again at the next interval');
        }
        if (!stopping) await sleep(every_ms);
      }
    })();
  loops.push(loop('tick', options.tick_ms, () => scheduler.tick()));
  loops.push(loop('deliveries', options.dispatch_ms ?? 1_000, () => dispatcher.runOnce()));
  return {
    scheduler,
    dispatcher,
    stop: async () => {
      stopping = true;
      for (const wake of [...sleepers]) wake();
      await Promise.all(loops);
      await scheduler.resign();
      await dispatcher.close();
    },
  };
}
