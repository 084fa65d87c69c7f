import type pg from 'pg';
import type { Logger } from 'pino';
import { CustomerAggregate, PackageAggregate } from '../commands/aggregates.js';
import { CommandRuntime, type CommandEnvelope, type Loaded } from '../commands/command-runtime.js';
import { expireCardBatch } from '../commands/scheduler-commands.js';
import { customerStream, packageStream } from '../commands/streams.js';
import { decideIssueMonthlyBill } from '../domain/billing/monthly-bill-run.js';
import { localDateOf, type LocalDate } from '../domain/calendar/local-date.js';
import type { CustomerEvent, CustomerState } from '../domain/customers/customer.js';
import { balanceDue, evolveCustomer } from '../domain/customers/customer-evolve.js';
import { decideExpire, decideLockForNonpayment } from '../domain/customers/lifecycle.js';
import type { PackageState } from '../domain/packages/package.js';
import { Money } from '../domain/money/money.js';
import type { CommandContext } from '../domain/shared/command-context.js';
import type { Decision, DomainEvent } from '../domain/shared/decider.js';
import type { Action } from '../domain/scheduler/scheduler-run.js';
import type { StreamState } from '../eventstore/event-store.js';
import { enqueueNotifications, type QueuedNotification } from '../notifications/outbox.js';
import { noticesFor, type Notice, type Notifier } from './notices.js';
import type { Isp } from './planners.js';
import { pendingItems, settleItems, type SettledItem, type StoredItem } from './run-store.js';
import type { SchedulerSettings } from './settings.js';

/**
 * Applies a run's items, batch by batch. Batch k is always the items with seq in [k·size, (k+1)·size), so its
 * idempotency key `<run>:<action>:<k>` names the same request after a restart: a batch whose commit survived a
 * crash answers with its first result and appends nothing. Each customer in a batch is decided again on its stream
 * (a customer who paid since the plan is not locked); all the batch's appends are one transaction.
 *
 * Items are read a window at a time and applied `concurrency` batches at once. What the batches decided — each
 * item's state and the notices to queue — is written for the whole window in one transaction once its batches are
 * done, while the next window is applied. Until then a crash leaves the window's items pending: the next instance
 * applies those batches again, their keys replay the first results (notices are rebuilt from the customers' streams)
 * and the outbox's dedupe keys queue each message once. Per batch that leaves the stream reads and the append;
 * settling and queueing each batch on its own cost two more commits per hundred customers.
 */
export type ApplyDeps = Readonly<{
  pool: pg.Pool;
  runtime: CommandRuntime;
  settings: SchedulerSettings;
  notifier: Notifier | null;
  logger: Logger;
  /** Tests only: called after each batch is applied (a throw here is a crash between two batches, before the window is settled). */
  after_batch?: (run_id: string, batch: number) => Promise<void> | void;
}>;

type BatchResult = { applied: string[]; unchanged: string[]; refused: { subject: string; code: string }[] };
/** What a batch leaves to be written when its window is settled. */
type BatchOutcome = Readonly<{ settled: SettledItem[]; notices: QueuedNotification[] }>;

/** Batches per worker in a window: the window is settled in one transaction, so this is also that transaction's size. */
export const WINDOW_BATCHES_PER_WORKER = 8;

/** A window being applied: what its batches decided so far, and how many are still to finish. */
type Window = { remaining: number; settled: SettledItem[]; notices: QueuedNotification[] };
type QueuedBatch = Readonly<{ batch: number; items: StoredItem[]; window: Window }>;

/**
 * Applies every pending item of the run; returns when none is left and every item is settled. The workers never
 * wait for each other: the next window is read while the last batches of the current one are still queued, and a
 * window is settled as soon as its last batch is done, while the workers go on with the next.
 */
export async function applyRun(deps: ApplyDeps, isp: Isp, run_id: string): Promise<void> {
  const size = deps.settings.batch_size;
  const concurrency = Math.max(1, deps.settings.concurrency);
  const limit = size * concurrency * WINDOW_BATCHES_PER_WORKER;
  const packages = new Map<string, PackageState>();
  const queue: QueuedBatch[] = [];
  const settling: Promise<void>[] = [];
  let after_seq = -1;
  let exhausted = false;
  let reading: Promise<void> | null = null;
  // The first failure (a batch, a read, a settle) stops the workers from taking more batches, and is reported.
  let failure: { error: unknown } | null = null;
  const fail = (error: unknown): void => {
    failure ??= { error };
  };

  const readWindow = async (): Promise<void> => {
    const window = await pendingItems(deps.pool, run_id, after_seq, limit);
    if (window.length === 0) {
      exhausted = true;
      return;
    }
    // A full window may end inside a batch: leave that batch whole to the next window, or its key would be used
    // for two different requests.
    const last_seq = window[window.length - 1]!.seq;
    const last_batch = Math.floor(last_seq / size);
    if (window.length === limit && last_seq % size !== size - 1 && Math.floor(window[0]!.seq / size) !== last_batch) {
      while (Math.floor(window[window.length - 1]!.seq / size) === last_batch) window.pop();
    }
    after_seq = window[window.length - 1]!.seq;
    const batches = new Map<number, StoredItem[]>();
    for (const item of window) {
      const batch = Math.floor(item.seq / size);
      let items = batches.get(batch);
      if (items === undefined) batches.set(batch, (items = []));
      items.push(item);
    }
    const shared: Window = { remaining: batches.size, settled: [], notices: [] };
    for (const [batch, items] of batches) queue.push({ batch, items, window: shared });
  };
  // One read at a time; it never rejects (a failure is recorded), so nobody has to wait for it to be safe.
  const readAhead = (): Promise<void> =>
    (reading ??= readWindow()
      .catch(fail)
      .finally(() => {
        reading = null;
      }));

  const worker = async (): Promise<void> => {
    while (failure === null) {
      if (queue.length <= concurrency && !exhausted) {
        const read = readAhead();
        if (queue.length === 0) await read;
      }
      const next = queue.shift();
      if (next === undefined) {
        if (exhausted || failure !== null) return;
        continue;
      }
      try {
        const outcome = await applyBatch(deps, isp, run_id, next.batch, next.items, packages);
        next.window.settled.push(...outcome.settled);
        next.window.notices.push(...outcome.notices);
        await deps.after_batch?.(run_id, next.batch);
      } catch (error) {
        fail(error);
        return;
      }
      next.window.remaining -= 1;
      if (next.window.remaining === 0) settling.push(settleWindow(deps, run_id, next.window.settled, next.window.notices).catch(fail));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  await reading;
  await Promise.all(settling);
  if (failure !== null) throw (failure as { error: unknown }).error;
}

/** A window's notices and item states, in one transaction: the outbox holds a message iff its item is settled. */
async function settleWindow(deps: ApplyDeps, run_id: string, settled: readonly SettledItem[], notices: readonly QueuedNotification[]): Promise<void> {
  const client = await deps.pool.connect();
  try {
    await client.query('BEGIN');
    if (notices.length > 0) await enqueueNotifications(client, notices, deps.runtime.clock.now());
    await settleItems(client, run_id, settled);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

async function applyBatch(deps: ApplyDeps, isp: Isp, run_id: string, batch: number, items: readonly StoredItem[], packages: Map<string, PackageState>): Promise<BatchOutcome> {
  const action = items[0]!.action;
  if (items.some((item) => item.action !== action)) {
    // Items are planned grouped by action, but a batch may straddle two groups: split it, each its own key.
    const groups = new Map<Action, StoredItem[]>();
    for (const item of items) {
      let group = groups.get(item.action);
      if (group === undefined) groups.set(item.action, (group = []));
      group.push(item);
    }
    const outcome: BatchOutcome = { settled: [], notices: [] };
    for (const group of groups.values()) {
      const part = await applyBatch(deps, isp, run_id, batch, group, packages);
      outcome.settled.push(...part.settled);
      outcome.notices.push(...part.notices);
    }
    return outcome;
  }
  const envelope: CommandEnvelope = { tenant: isp.tenant, actor: { id: 'scheduler', role: 'system' }, correlation_id: run_id, idempotency_key: `${run_id}:${action}:${batch}` };
  let result: BatchResult;
  let notices: QueuedNotification[] = [];
  const now = deps.runtime.clock.now();
  switch (action) {
    case 'bill':
    case 'lock':
    case 'expire': {
      const after = new Map<string, CustomerState>();
      result = await customerBatch(deps.runtime, envelope, action, items, packages, after);
      notices = await noticesAfter(deps, isp, action, items, result.applied, run_id, now, after);
      break;
    }
    case 'expire-cards': {
      result = { applied: [], unchanged: [], refused: [] };
      for (const item of items) {
        const outcome = await expireCardBatch(deps.runtime, { ...envelope, idempotency_key: `${run_id}:${item.subject_id}` }, { batch_id: item.subject_id, today: String(item.detail?.today) });
        if (!outcome.ok) result.refused.push({ subject: item.subject_id, code: outcome.rejection.code });
        else (outcome.value.expired || outcome.replayed ? result.applied : result.unchanged).push(item.subject_id);
      }
      break;
    }
    case 'remind-bill-due':
    case 'remind-expiry': {
      ({ result, notices } = await reminders(deps, isp, action, items, now));
      break;
    }
  }
  const refused = new Map(result.refused.map((entry) => [entry.subject, entry.code]));
  const applied = new Set(result.applied);
  const settled = items.map((item): SettledItem => {
    const subject = item.action === 'remind-bill-due' ? String(item.detail?.bill_id) : item.subject_id;
    const code = refused.get(subject);
    if (code !== undefined) return { seq: item.seq, state: 'refused', code };
    return { seq: item.seq, state: applied.has(subject) ? 'applied' : 'unchanged', code: null };
  });
  return { settled, notices };
}

/** One transaction for a batch of customers: each decided on its own stream, all appended together. */
async function customerBatch(
  runtime: CommandRuntime,
  envelope: CommandEnvelope,
  action: 'bill' | 'lock' | 'expire',
  items: readonly StoredItem[],
  packages: Map<string, PackageState>,
  /** Filled with each applied customer's state after its events (the last attempt's): the notices are built from it. */
  after: Map<string, CustomerState>,
): Promise<BatchResult> {
  const subjects = items.map((item) => item.subject_id);
  const outcome = await runtime.execute<BatchResult>(envelope, `scheduler-${action}`, { action, subjects, details: items.map((item) => item.detail) }, async (context) => {
    const result: BatchResult = { applied: [], unchanged: [], refused: [] };
    after.clear();
    const writes: { stream_id: string; expected: StreamState; events: readonly DomainEvent[] }[] = [];
    const loaded = (await runtime.loadMany(subjects.map((id) => ({ type: CustomerAggregate, stream_id: customerStream(id) })))) as Loaded<CustomerState>[];
    for (const [index, item] of items.entries()) {
      const customer = loaded[index]!;
      if (!customer.state.exists || customer.state.tenant !== context.tenant) {
        result.refused.push({ subject: item.subject_id, code: 'CUSTOMER_NOT_FOUND' });
        continue;
      }
      const decision = await decide(runtime, action, customer.state, item, context, packages);
      if (!decision.ok) result.refused.push({ subject: item.subject_id, code: decision.rejection.code });
      else if (decision.events.length === 0) result.unchanged.push(item.subject_id);
      else {
        result.applied.push(item.subject_id);
        writes.push({ stream_id: customer.stream_id, expected: CommandRuntime.expected(customer), events: decision.events });
        after.set(item.subject_id, decision.events.reduce(evolveCustomer, customer.state));
      }
    }
    return { kind: 'append', writes, value: result };
  });
  if (!outcome.ok) throw new Error(`bug: a scheduler batch cannot be refused as a whole (${outcome.rejection.code}: ${outcome.rejection.message})`);
  return outcome.value;
}

async function decide(runtime: CommandRuntime, action: 'bill' | 'lock' | 'expire', state: CustomerState, item: StoredItem, context: CommandContext, packages: Map<string, PackageState>): Promise<Decision<CustomerEvent>> {
  switch (action) {
    case 'lock':
      return decideLockForNonpayment(state, context);
    case 'expire':
      return decideExpire(state, context);
    case 'bill': {
      let pkg = packages.get(state.package_id);
      if (pkg === undefined) packages.set(state.package_id, (pkg = (await runtime.load(PackageAggregate, packageStream(state.package_id))).state));
      return decideIssueMonthlyBill(state, pkg, String(item.detail?.period), context);
    }
  }
}

/** What customers whose bill, lock or expiry was just applied are told. */
async function noticesAfter(
  deps: ApplyDeps,
  isp: Isp,
  action: 'bill' | 'lock' | 'expire',
  items: readonly StoredItem[],
  applied: readonly string[],
  run_id: string,
  now: Date,
  after: ReadonlyMap<string, CustomerState>,
): Promise<QueuedNotification[]> {
  if (deps.notifier === null || applied.length === 0) return [];
  const notifier = deps.notifier;
  // A replayed batch (its commit survived a crash) decided nothing in this process: read its customers.
  const missing = applied.filter((id) => !after.has(id));
  const loaded = missing.length === 0 ? [] : ((await deps.runtime.loadMany(missing.map((id) => ({ type: CustomerAggregate, stream_id: customerStream(id) })))) as Loaded<CustomerState>[]);
  const states = [...applied.flatMap((id) => after.get(id) ?? []), ...loaded.map((entry) => entry.state)];
  const bySubject = new Map(items.map((item) => [item.subject_id, item]));
  const queued: QueuedNotification[] = [];
  for (const state of states) {
    const item = bySubject.get(state.customer_id);
    const notice = noticeOf(action, state, item, run_id);
    if (notice !== null) queued.push(...noticesFor(notifier, isp.name, state, notice, now));
  }
  return queued;
}

function noticeOf(action: 'bill' | 'lock' | 'expire', state: CustomerState, item: StoredItem | undefined, run_id: string): Notice | null {
  switch (action) {
    case 'bill': {
      const period = String(item?.detail?.period);
      const bill = [...state.bills].reverse().find((candidate) => candidate.period === period && candidate.kind !== 'proration');
      if (bill === undefined) return null;
      return { kind: 'bill-issued', subject_ref: bill.bill_id, values: { amount: bill.amount, currency: state.currency, period: bill.period, due_on: bill.due_on } };
    }
    case 'lock':
      return { kind: 'customer-locked', subject_ref: `${state.customer_id}@${run_id}`, values: { amount: balanceDue(state).toString(), currency: state.currency } };
    case 'expire': {
      if (state.expires_at === null) return null;
      const expires_at = new Date(state.expires_at);
      return { kind: 'customer-expired', subject_ref: `${state.customer_id}@${expires_at.getTime()}`, values: { expires_on: expiryDateOf(expires_at, state.time_zone) } };
    }
  }
}

/**
 * The local date of an expiry, remembered: validity ends at a local midnight, so a sweep's thousands of customers
 * share a few dozen instants, and the calendar conversion (the Temporal polyfill, ~20 µs) was a tenth of the
 * sweep's Node time.
 */
const expiryDates = new Map<string, LocalDate>();
const EXPIRY_DATES_KEPT = 10_000;

function expiryDateOf(expires_at: Date, time_zone: string): LocalDate {
  const key = `${time_zone} ${expires_at.getTime()}`;
  let date = expiryDates.get(key);
  if (date === undefined) {
    if (expiryDates.size >= EXPIRY_DATES_KEPT) expiryDates.clear();
    expiryDates.set(key, (date = localDateOf(expires_at, time_zone)));
  }
  return date;
}

/** Reminders change no stream: applying one queues its messages (once: the outbox dedupes). */
async function reminders(deps: ApplyDeps, isp: Isp, action: 'remind-bill-due' | 'remind-expiry', items: readonly StoredItem[], now: Date): Promise<{ result: BatchResult; notices: QueuedNotification[] }> {
  const result: BatchResult = { applied: [], unchanged: [], refused: [] };
  const notices: QueuedNotification[] = [];
  const loaded = (await deps.runtime.loadMany(items.map((item) => ({ type: CustomerAggregate, stream_id: customerStream(item.subject_id) })))) as Loaded<CustomerState>[];
  for (const [index, item] of items.entries()) {
    const state = loaded[index]!.state;
    const subject = action === 'remind-bill-due' ? String(item.detail?.bill_id) : item.subject_id;
    const notice: Notice | null = !state.exists
      ? null
      : action === 'remind-bill-due'
        ? reminderForBill(state, String(item.detail?.bill_id))
        : reminderForExpiry(state, String(item.detail?.expires_ms));
    const queued = notice === null || deps.notifier === null ? [] : noticesFor(deps.notifier, isp.name, state, notice, now);
    (queued.length > 0 ? result.applied : result.unchanged).push(subject);
    notices.push(...queued);
  }
  return { result, notices };
}

function reminderForBill(state: CustomerState, bill_id: string): Notice | null {
  const bill = state.bills.find((candidate) => candidate.bill_id === bill_id);
  // Paid since the plan: nothing to remind of.
  if (bill === undefined || !Money.parse(bill.open, state.currency).isPositive()) return null;
  return { kind: 'bill-due-reminder', subject_ref: bill.bill_id, values: { amount: bill.open, currency: state.currency, due_on: bill.due_on, period: bill.period } };
}

function reminderForExpiry(state: CustomerState, expires_ms: string): Notice | null {
  // Recharged since the plan (a later expiry) or expired already: this reminder is moot.
  if (state.expires_at === null || state.expired || String(new Date(state.expires_at).getTime()) !== expires_ms) return null;
  return { kind: 'expiry-reminder', subject_ref: `${state.customer_id}@${expires_ms}`, values: { expires_on: localDateOf(new Date(state.expires_at), state.time_zone) } };
}
