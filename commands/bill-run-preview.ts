import type { YearMonth } from '../domain/calendar/billing-period.js';
import { decideIssueMonthlyBill } from '../domain/billing/monthly-bill-run.js';
import type { CustomerState } from '../domain/customers/customer.js';
import { Money } from '../domain/money/money.js';
import { CustomerAggregate } from './aggregates.js';
import type { CommandEnvelope, CommandRuntime, Loaded } from './command-runtime.js';
import { loadPackage } from './customer-commands.js';
import { BILL_RUN_BATCH, type PackageCache } from './payment-commands.js';
import { customerStream } from './streams.js';

/**
 * What a monthly bill run would issue, without issuing anything: each customer is loaded and decided by the same
 * decider the run uses (decideIssueMonthlyBill), and the events it would append are only read. So the preview
 * and the run cannot disagree on a rule; they can only see different moments (a payment between the two).
 */
export type PreviewBill = Readonly<{ customer_id: string; name: string; kind: string; covers_from: string; covers_until: string; package_id: string; amount: string; currency: string; due_on: string; credit_applied: string }>;

export type BillRunPreview = Readonly<{
  period: YearMonth;
  customers: number;
  to_issue: number;
  unchanged: number;
  totals: readonly Readonly<{ currency: string; amount: string; credit_applied: string }>[];
  bills: readonly PreviewBill[];
  refused: readonly Readonly<{ customer_id: string; code: string; message: string }>[];
}>;

/** The bills a preview lists one by one; the counts and totals always cover every customer. */
export const MAX_PREVIEW_BILLS = 500;

export async function previewMonthlyBills(runtime: CommandRuntime, envelope: CommandEnvelope, input: Readonly<{ period: YearMonth; customer_ids: readonly string[] }>): Promise<BillRunPreview> {
  const context = { tenant: envelope.tenant, actor: envelope.actor, now: runtime.clock.now() };
  const packages: PackageCache = new Map();
  const bills: PreviewBill[] = [];
  const refused: { customer_id: string; code: string; message: string }[] = [];
  const totals = new Map<string, { amount: Money; credit_applied: Money }>();
  let to_issue = 0;
  let unchanged = 0;
  for (let start = 0; start < input.customer_ids.length; start += BILL_RUN_BATCH) {
    const batch = input.customer_ids.slice(start, start + BILL_RUN_BATCH);
    const loaded = (await runtime.loadMany(batch.map((customer_id) => ({ type: CustomerAggregate, stream_id: customerStream(customer_id) })))) as Loaded<CustomerState>[];
    for (const [index, customer_id] of batch.entries()) {
      const state = loaded[index]!.state;
      if (!state.exists || state.tenant !== context.tenant) {
        refused.push({ customer_id, code: 'CUSTOMER_NOT_FOUND', message: 'no such customer in this ISP' });
        continue;
      }
      let pkg = packages.get(state.package_id);
      if (pkg === undefined) {
        pkg = (await loadPackage(runtime, context.tenant, state.package_id)).state;
        packages.set(state.package_id, pkg);
      }
      const decision = decideIssueMonthlyBill(state, pkg, input.period, context);
      if (!decision.ok) {
        refused.push({ customer_id, code: decision.rejection.code, message: decision.rejection.message });
        continue;
      }
      const issued = decision.events.find((event) => event.type === 'bill-issued');
      if (issued?.type !== 'bill-issued') {
        unchanged += 1;
        continue;
      }
      to_issue += 1;
      const credit = decision.events.find((event) => event.type === 'credit-applied');
      const credit_applied = credit?.type === 'credit-applied' ? credit.data.amount : Money.zero(issued.data.currency).toString();
      const total = totals.get(issued.data.currency) ?? { amount: Money.zero(issued.data.currency), credit_applied: Money.zero(issued.data.currency) };
      totals.set(issued.data.currency, {
        amount: total.amount.plus(Money.parse(issued.data.amount, issued.data.currency)),
        credit_applied: total.credit_applied.plus(Money.parse(credit_applied, issued.data.currency)),
      });
      if (bills.length < MAX_PREVIEW_BILLS) {
        const { customer_id: _id, kind, covers_from, covers_until, package_id, amount, currency, due_on } = issued.data;
        bills.push({ customer_id, name: state.name, kind, covers_from, covers_until, package_id, amount, currency, due_on, credit_applied });
      }
    }
  }
  return {
    period: input.period,
    customers: input.customer_ids.length,
    to_issue,
    unchanged,
    totals: [...totals].map(([currency, total]) => ({ currency, amount: total.amount.toString(), credit_applied: total.credit_applied.toString() })),
    bills,
    refused,
  };
}
