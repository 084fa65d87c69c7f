import type pg from 'pg';
import { CardBatchAggregate, CustomerAggregate, PackageAggregate } from '../commands/aggregates.js';
import type { CommandRuntime, Loaded } from '../commands/command-runtime.js';
import { cardBatchStream, customerStream, packageStream } from '../commands/streams.js';
import { decideIssueMonthlyBill } from '../domain/billing/monthly-bill-run.js';
import { billingPeriodFor } from '../domain/calendar/billing-period.js';
import { addDays, type LocalDate, startOfLocalDay } from '../domain/calendar/local-date.js';
import type { CardBatchState } from '../domain/cards/card-batch.js';
import type { CustomerState } from '../domain/customers/customer.js';
import { Money } from '../domain/money/money.js';
import type { PackageState } from '../domain/packages/package.js';
import type { CommandContext } from '../domain/shared/command-context.js';
import { PLAN_SAMPLE_SIZE, type Action, type JobKind, type PlanSummary } from '../domain/scheduler/scheduler-run.js';
import type { PlanItem } from './run-store.js';
import type { SchedulerSettings } from './settings.js';

/**
 * The dry runs: what each job would do for one ISP on one local day, read from the read models (which the
 * scheduler has waited to reach the log's head) and, for bills, decided by the bill decider itself on the
 * customer streams, so the preview shows the very bills and amounts the run would issue. Applying re-decides
 * every item on its stream: a customer who paid between plan and apply is not locked.
 */
export type Isp = Readonly<{ tenant: string; name: string; time_zone: string; currency: string }>;
export type JobPlan = Readonly<{ items: readonly PlanItem[]; summary: PlanSummary }>;

export type PlannerDeps = Readonly<{ pool: pg.Pool; runtime: CommandRuntime; settings: SchedulerSettings }>;

export const SCHEDULER_ACTOR = { id: 'scheduler', role: 'system' } as const;

/** Customers loaded per round trip while a bill run is planned. */
const PLAN_LOAD_CHUNK = 500;
/** Card batches considered per run: far more than an ISP prints in years. */
const MAX_CARD_BATCHES = 10_000;

export async function listIsps(pool: pg.Pool, tenant: string | null = null): Promise<Isp[]> {
  const result = await pool.query<Isp>(
    `SELECT operator_id AS tenant, name, time_zone, currency FROM operators WHERE role = 'admin' AND ($1::text IS NULL OR operator_id = $1) ORDER BY operator_id`,
    [tenant],
  );
  return result.rows;
}

export async function planJob(deps: PlannerDeps, isp: Isp, job: JobKind, local_date: LocalDate, now: Date): Promise<JobPlan> {
  const population = await countPopulation(deps.pool, isp.tenant);
  const items = await itemsOf(deps, isp, job, local_date, now);
  if (items.length > deps.settings.max_items_per_run) throw new Error(`${job} for ${isp.tenant} on ${local_date} planned ${items.length} items, more than the ${deps.settings.max_items_per_run} allowed`);
  return { items, summary: summarise(items, population, isp.currency) };
}

async function itemsOf(deps: PlannerDeps, isp: Isp, job: JobKind, local_date: LocalDate, now: Date): Promise<PlanItem[]> {
  const { pool } = deps;
  switch (job) {
    case 'bill-run':
      return planBills(deps, isp, local_date, now);
    case 'grace-locks': {
      const result = await pool.query<{ customer_id: string }>(
        `SELECT DISTINCT b.customer_id FROM bills b JOIN customers c ON c.customer_id = b.customer_id
          WHERE b.tenant = $1 AND b.status <> 'paid' AND b.due_on < $2::date AND c.billing_profile = 'monthly' AND NOT c.locked_for_unpaid
          ORDER BY b.customer_id`,
        [isp.tenant, local_date],
      );
      return result.rows.map((row) => ({ action: 'lock', subject_id: row.customer_id, detail: null }));
    }
    case 'expiry-sweep': {
      const result = await pool.query<{ customer_id: string }>(
        `SELECT customer_id FROM customers WHERE tenant = $1 AND billing_profile = 'daily' AND NOT expired AND expires_at <= $2 ORDER BY customer_id`,
        [isp.tenant, now.toISOString()],
      );
      return result.rows.map((row) => ({ action: 'expire', subject_id: row.customer_id, detail: null }));
    }
    case 'card-expiry':
      return planCardExpiry(deps, isp, local_date);
    case 'reminders':
      return planReminders(deps, isp, local_date, now);
  }
}

async function planBills(deps: PlannerDeps, isp: Isp, local_date: LocalDate, now: Date): Promise<PlanItem[]> {
  const ids = (
    await deps.pool.query<{ customer_id: string }>(`SELECT customer_id FROM customers WHERE tenant = $1 AND billing_profile = 'monthly' AND NOT disabled ORDER BY customer_id`, [isp.tenant])
  ).rows.map((row) => row.customer_id);
  const context: CommandContext = { tenant: isp.tenant, actor: SCHEDULER_ACTOR, now };
  const packages = new Map<string, PackageState>();
  const items: PlanItem[] = [];
  for (let start = 0; start < ids.length; start += PLAN_LOAD_CHUNK) {
    const loaded = (await deps.runtime.loadMany(ids.slice(start, start + PLAN_LOAD_CHUNK).map((id) => ({ type: CustomerAggregate, stream_id: customerStream(id) })))) as Loaded<CustomerState>[];
    for (const { state } of loaded) {
      if (!state.exists || state.tenant !== isp.tenant || state.profile.kind !== 'monthly') continue;
      let pkg = packages.get(state.package_id);
      if (pkg === undefined) packages.set(state.package_id, (pkg = (await deps.runtime.load(PackageAggregate, packageStream(state.package_id))).state));
      const period = billingPeriodFor(local_date, state.profile.due_day).period;
      const decision = decideIssueMonthlyBill(state, pkg, period, context);
      const bill = decision.ok ? decision.events.find((event) => event.type === 'bill-issued') : undefined;
      if (bill?.type === 'bill-issued') items.push({ action: 'bill', subject_id: state.customer_id, detail: { period, amount: bill.data.amount } });
    }
  }
  return items;
}

async function planCardExpiry(deps: PlannerDeps, isp: Isp, local_date: LocalDate): Promise<PlanItem[]> {
  const batches = await deps.pool.query<{ batch_id: string; unredeemed: number }>(
    `SELECT batch_id, (count(*) FILTER (WHERE status <> 'redeemed'))::int AS unredeemed FROM recharge_cards
      WHERE tenant = $1 AND expires_on < $2::date GROUP BY batch_id ORDER BY batch_id LIMIT ${MAX_CARD_BATCHES}`,
    [isp.tenant, local_date],
  );
  if (batches.rows.length === 0) return [];
  const loaded = (await deps.runtime.loadMany(batches.rows.map((row) => ({ type: CardBatchAggregate, stream_id: cardBatchStream(row.batch_id) })))) as Loaded<CardBatchState>[];
  return batches.rows
    .filter((_, index) => !loaded[index]!.state.expired)
    .map((row) => ({ action: 'expire-cards', subject_id: row.batch_id, detail: { today: local_date, unredeemed: row.unredeemed } }));
}

/**
 * Reminders: open bills due within `reminder_days_before_due` days (from today on), and daily customers whose
 * validity ends within `reminder_days_before_expiry` local days, that have not been reminded yet. A day without a
 * run (an outage) is caught up the next day: the window reaches back to today, and the outbox keeps each
 * reminder to one per bill or expiry.
 */
async function planReminders(deps: PlannerDeps, isp: Isp, local_date: LocalDate, now: Date): Promise<PlanItem[]> {
  const bills = await deps.pool.query<{ bill_id: string; customer_id: string; due_on: string; open: string; currency: string }>(
    `SELECT b.bill_id, b.customer_id, to_char(b.due_on, 'YYYY-MM-DD') AS due_on, b.open::text AS open, b.currency FROM bills b
      WHERE b.tenant = $1 AND b.status <> 'paid' AND b.due_on >= $2::date AND b.due_on <= $3::date
        AND NOT EXISTS (SELECT 1 FROM notification_outbox o WHERE o.customer_id = b.customer_id AND o.kind = 'bill-due-reminder' AND o.subject_ref = b.bill_id)
      ORDER BY b.customer_id, b.bill_id`,
    [isp.tenant, local_date, addDays(local_date, deps.settings.reminder_days_before_due)],
  );
  const until = startOfLocalDay(addDays(local_date, deps.settings.reminder_days_before_expiry), isp.time_zone);
  const expiring = await deps.pool.query<{ customer_id: string; expires_ms: string }>(
    `SELECT c.customer_id, floor(extract(epoch FROM c.expires_at) * 1000)::bigint::text AS expires_ms FROM customers c
      WHERE c.tenant = $1 AND c.billing_profile = 'daily' AND NOT c.expired AND NOT c.disabled AND c.expires_at > $2 AND c.expires_at <= $3
        AND NOT EXISTS (SELECT 1 FROM notification_outbox o WHERE o.customer_id = c.customer_id AND o.kind = 'expiry-reminder'
                          AND o.subject_ref = c.customer_id || '@' || floor(extract(epoch FROM c.expires_at) * 1000)::bigint::text)
      ORDER BY c.customer_id`,
    [isp.tenant, now.toISOString(), until.toISOString()],
  );
  return [
    ...bills.rows.map((row): PlanItem => ({ action: 'remind-bill-due', subject_id: row.customer_id, detail: { bill_id: row.bill_id, due_on: row.due_on, open: row.open } })),
    ...expiring.rows.map((row): PlanItem => ({ action: 'remind-expiry', subject_id: row.customer_id, detail: { expires_ms: row.expires_ms } })),
  ];
}

async function countPopulation(pool: pg.Pool, tenant: string): Promise<number> {
  const result = await pool.query<{ n: string }>(`SELECT count(*)::text AS n FROM customers WHERE tenant = $1 AND NOT disabled`, [tenant]);
  return Number(result.rows[0]?.n ?? 0);
}

function summarise(items: readonly PlanItem[], population: number, currency: string): PlanSummary {
  const counts: Partial<Record<Action, number>> = {};
  const samples: Partial<Record<Action, string[]>> = {};
  const totals = new Map<Action, Money>();
  for (const item of items) {
    counts[item.action] = (counts[item.action] ?? 0) + 1;
    const sample = (samples[item.action] ??= []);
    if (sample.length < PLAN_SAMPLE_SIZE) sample.push(item.subject_id);
    const amount = item.detail?.amount;
    if (typeof amount === 'string') totals.set(item.action, (totals.get(item.action) ?? Money.zero(currency)).plus(Money.parse(amount, currency)));
  }
  return { counts, samples, amounts: Object.fromEntries([...totals].map(([action, total]) => [action, total.toString()])), population };
}
