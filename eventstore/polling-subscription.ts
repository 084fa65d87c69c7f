import type { EventEmitter } from 'node:events';
import type { LogPosition, RecordedEvent, Subscription, SubscriptionHandler } from './event-store.js';

type PollingSubscriptionInput = Readonly<{
  from: LogPosition;
  handler: SubscriptionHandler;
  batch_size: number;
  poll_interval_ms: number;
  read: (from: LogPosition, max_count: number) => Promise<readonly RecordedEvent[]>;
  /** Emits 'appended' when this process appends, so local subscribers do not wait for the next poll. */
  wake: EventEmitter;
}>;

/**
 * A catch-up subscription over a reader that only returns safe events: read a page after the cursor, hand it
 * to the caller, move the cursor, and when a page comes back short the subscription is live and waits for a
 * wake-up or the poll interval. The cursor is only ever moved after the handler resolved, so a caller that
 * stores its checkpoint inside `handle` and restarts from it sees every event exactly once.
 */
export function startPollingSubscription(input: PollingSubscriptionInput): Subscription {
  let stopping = false;
  let wakeUp: (() => void) | null = null;
  const onAppended = (): void => wakeUp?.();
  input.wake.on('appended', onAppended);

  const idle = (): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(finish, input.poll_interval_ms);
      function finish(): void {
        clearTimeout(timer);
        wakeUp = null;
        resolve();
      }
      wakeUp = finish;
    });

  const run = async (): Promise<void> => {
    let cursor = input.from;
    try {
      while (!stopping) {
        const page = await input.read(cursor, input.batch_size);
        if (stopping) break;
        if (page.length > 0) {
          await input.handler.handle(page);
          cursor = page[page.length - 1]!.position;
        }
        if (page.length < input.batch_size) {
          input.handler.on_caught_up?.(cursor);
          if (!stopping) await idle();
        }
      }
    } finally {
      input.wake.off('appended', onAppended);
    }
  };

  const done = run();
  // A rejected `done` nobody awaits would crash the process; the owner observes it through `done`.
  done.catch(() => undefined);
  return {
    done,
    async stop() {
      stopping = true;
      wakeUp?.();
      await done.catch(() => undefined);
    },
  };
}
