import { billingPeriodFor, type YearMonth } from '../domain/calendar/billing-period.js';
import { localDateOf } from '../domain/calendar/local-date.js';
import { decideIssueMonthlyBill } from '../domain/billing/monthly-bill-run.js';
import { cardCollector, decideAssignCards, decideGenerateBatch, decideRedeemCard } from '../domain/cards/card-batch.js';
import type { CustomerState } from '../domain/customers/customer.js';
import { balanceDue, evolveCustomer } from '../domain/customers/customer-evolve.js';
import type { OperatorState } from '../domain/operators/operator.js';
import type { PackageState } from '../domain/packages/package.js';
import { decideReceivePayment, type PaymentDecision, type ReceivePayment } from '../domain/payments/receive-payment.js';
import { decideRefundPayment, type RefundPayment } from '../domain/payments/refund-payment.js';
import { rejection, type Rejection } from '../domain/shared/rejection.js';
import { StreamStateConflict } from '../eventstore/errors.js';
import type { StreamState } from '../eventstore/event-store.js';
import { CardBatchAggregate, CustomerAggregate, OperatorAggregate, PackageAggregate, tenantOf } from './aggregates.js';
import { CommandRuntime, refusePlan, type CommandEnvelope, type CommandResult, type Loaded, type Plan } from './command-runtime.js';
import { loadCustomer, loadPackage } from './customer-commands.js';
import { loadOperator } from './operator-commands.js';
import { cardBatchStream, customerStream, operatorStream, packageStream } from './streams.js';
import type { CommandContext } from '../domain/shared/command-context.js';

export type PaymentReceipt = {
  payment_id: string;
  duplicate: boolean;
  expires_at: string | null;
  credit: string;
  balance_due: string;
};

/**
 * The wallets a customer's payment may debit: commands that move them queue on these keys in this process
 * rather than conflict and retry. Money received settles by crediting every operator below the one who collected
 * it and debiting the collector and those above it (chain-settlement.ts), so only the latter are locked; with
 * `collector_operator_id` null (a refund's clawback, a card whose holder is not known yet) every wallet on the
 * chain is.
 */
function walletLocks(runtime: CommandRuntime, customer_id: string, collector_operator_id: string | null) {
  return async (context: CommandContext): Promise<readonly string[]> => {
    const known = runtime.peek(CustomerAggregate, customerStream(customer_id));
    const chain = known?.chain ?? (await loadCustomer(runtime, context.tenant, customer_id))?.state.chain ?? [];
    const collector = collector_operator_id === null ? -1 : chain.indexOf(collector_operator_id);
    const debited = collector === -1 ? chain.slice(1) : chain.slice(1, collector + 1);
    return debited.map(operatorStream);
  };
}

/**
 * A wallet write made only of credits is appended at whatever revision the wallet has reached: credits commute,
 * and no rule about the balance can refuse one, so a busy reseller's wallet does not serialise every payment of
 * its customers (the ISP's cash desk and online payments credit it). A debit must fit the balance it was decided
 * on (prepaid: never below zero), so it keeps the revision it read, and a concurrent change makes it decide again.
 * The decision also read the operator's commission terms; a credit that commits after a concurrent terms change
 * is ordered, as a serial history, before that change, which is what its amounts say.
 */
const walletExpected = (loaded: Loaded<OperatorState>, events: readonly { type: string }[]): StreamState =>
  events.every((event) => event.type === 'wallet-credited') ? 'any' : CommandRuntime.expected(loaded);

type PaymentContext = Readonly<{ customer: Loaded<CustomerState>; chain: Loaded<OperatorState>[]; pkg: PackageState }>;

/**
 * Everything a payment decides on, read in one round trip in the usual case: the customer, its operator chain
 * and the package, guessed from what this process last knew of the customer. Whatever the guess missed (a
 * customer seen for the first time, moved, or on another package) is read in a second round trip.
 */
async function loadPaymentContext(runtime: CommandRuntime, tenant: string, customer_id: string, recharge_package_id: string | null): Promise<PaymentContext | Rejection> {
  const known = runtime.peek(CustomerAggregate, customerStream(customer_id));
  const wanted = (chain: readonly string[], package_id: string | null) => [
    ...chain.map((operator_id) => ({ type: OperatorAggregate, stream_id: operatorStream(operator_id) })),
    ...(package_id === null ? [] : [{ type: PackageAggregate, stream_id: packageStream(package_id) }]),
  ];
  const first = await runtime.loadMany([
    { type: CustomerAggregate, stream_id: customerStream(customer_id) },
    ...wanted(known?.chain ?? [], recharge_package_id ?? known?.package_id ?? null),
  ]);
  const customer = first[0] as Loaded<CustomerState>;
  if (!customer.state.exists || customer.state.tenant !== tenant) return rejection('CUSTOMER_NOT_FOUND', 'no such customer in this ISP');
  const byStream = new Map(first.map((loaded) => [loaded.stream_id, loaded]));
  const package_id = recharge_package_id ?? customer.state.package_id;
  const missing = wanted(customer.state.chain, package_id).filter((request) => !byStream.has(request.stream_id));
  if (missing.length > 0) for (const loaded of await runtime.loadMany(missing)) byStream.set(loaded.stream_id, loaded);
  const chain = customer.state.chain.map((operator_id) => byStream.get(operatorStream(operator_id)) as Loaded<OperatorState>);
  if (chain.some((operator) => tenantOf(operator.state) !== tenant)) return rejection('OPERATOR_NOT_FOUND', 'an operator on the customer’s chain is gone');
  const pkg = (byStream.get(packageStream(package_id)) as Loaded<PackageState>).state;
  return { customer, chain, pkg: pkg.tenant === tenant ? pkg : PackageAggregate.initial() };
}

/** The operators of a chain in one read; null when one is gone or belongs to another ISP. */
async function loadChain(runtime: CommandRuntime, tenant: string, chain: readonly string[]): Promise<Loaded<OperatorState>[] | null> {
  const loaded = (await runtime.loadMany(chain.map((operator_id) => ({ type: OperatorAggregate, stream_id: operatorStream(operator_id) })))) as Loaded<OperatorState>[];
  return loaded.every((operator) => tenantOf(operator.state) === tenant) ? loaded : null;
}

/** Turns a payment decision into one atomic append: the customer stream plus every wallet it moves. */
function paymentPlan<Value>(
  customer: Loaded<CustomerState>,
  chain: readonly Loaded<OperatorState>[],
  decision: PaymentDecision,
  value: (outcome: Extract<PaymentDecision, { ok: true }>['outcome']) => Value,
  extra: readonly Readonly<{ stream_id: string; expected: import('../eventstore/event-store.js').StreamState; events: readonly import('../domain/shared/decider.js').DomainEvent[] }>[] = [],
): Plan<Value> {
  if (!decision.ok) return refusePlan(decision.rejection);
  const writes = [
    { stream_id: customer.stream_id, expected: CommandRuntime.expected(customer), events: decision.outcome.customer },
    ...decision.outcome.operators.map((operator) => {
      const loaded = chain.find((link) => link.state.operator_id === operator.operator_id)!;
      return { stream_id: loaded.stream_id, expected: walletExpected(loaded, operator.events), events: operator.events };
    }),
    ...extra,
  ];
  return { kind: 'append', writes, value: value(decision.outcome) };
}

function receiptAfter(customer: CustomerState, payment_id: string, outcome: Extract<PaymentDecision, { ok: true }>['outcome']): PaymentReceipt {
  let state = customer;
  for (const event of outcome.customer) state = evolveCustomer(state, event);
  return {
    payment_id,
    duplicate: outcome.customer.length === 0,
    expires_at: state.expires_at,
    credit: state.credit,
    balance_due: balanceDue(state).toString(),
  };
}


/**
 * Money received for a customer: a recharge (daily) or a payment against bills, with the commission chain's
 * wallets settled in the same append. Carries an idempotency key from the caller; an online payment is also
 * idempotent by its gateway reference.
 */
export function receivePayment(
  runtime: CommandRuntime,
  envelope: CommandEnvelope,
  command: ReceivePayment & { customer_id: string },
): Promise<CommandResult<PaymentReceipt>> {
  return runtime.execute(envelope, 'receive-payment', command, async (context) => {
    const loaded = await loadPaymentContext(runtime, context.tenant, command.customer_id, command.recharge_package_id);
    if ('code' in loaded) return refusePlan(loaded);
    const { customer, chain, pkg } = loaded;
    if (command.gateway_reference !== null) {
      const seen = Object.values(customer.state.payments).find((p) => p.gateway_reference === command.gateway_reference);
      if (seen !== undefined) {
        return { kind: 'append', writes: [], value: { ...receiptAfter(customer.state, seen.payment_id, { customer: [], operators: [] }), payment_id: seen.payment_id } };
      }
    }
    const decision = decideReceivePayment(customer.state, chain.map((c) => c.state), pkg, command, context);
    return paymentPlan(customer, chain, decision, (outcome) => receiptAfter(customer.state, command.payment_id, outcome));
  }, { lock_keys: walletLocks(runtime, command.customer_id, command.collector_operator_id) });
}

export function refundPayment(runtime: CommandRuntime, envelope: CommandEnvelope, command: RefundPayment & { customer_id: string }): Promise<CommandResult<{ refund_id: string }>> {
  return runtime.execute(envelope, 'refund-payment', command, async (context) => {
    const customer = await loadCustomer(runtime, context.tenant, command.customer_id);
    if (customer === null) return refusePlan(rejection('CUSTOMER_NOT_FOUND', 'no such customer in this ISP'));
    const payment = customer.state.payments[command.payment_id];
    if (payment === undefined) return refusePlan(rejection('PAYMENT_NOT_FOUND', `payment ${command.payment_id} is not this customer's`));
    const chain = await loadChain(runtime, context.tenant, payment.chain);
    if (chain === null) return refusePlan(rejection('OPERATOR_NOT_FOUND', 'an operator on the payment’s chain is gone'));
    const decision = decideRefundPayment(customer.state, chain.map((c) => c.state), command, context);
    return paymentPlan(customer, chain, decision, () => ({ refund_id: command.refund_id }));
  }, { lock_keys: walletLocks(runtime, command.customer_id, null) });
}

/** One customer's monthly bill for a period; nothing happens when it exists already. */
export function issueMonthlyBill(
  runtime: CommandRuntime,
  envelope: CommandEnvelope,
  command: { customer_id: string; period: YearMonth },
  packages: PackageCache = new Map(),
): Promise<CommandResult<{ issued: boolean }>> {
  return runtime.execute(envelope, 'issue-monthly-bill', command, async (context) => {
    const customer = await loadCustomer(runtime, context.tenant, command.customer_id);
    if (customer === null) return refusePlan(rejection('CUSTOMER_NOT_FOUND', 'no such customer in this ISP'));
    let pkg = packages.get(customer.state.package_id);
    if (pkg === undefined) {
      pkg = (await loadPackage(runtime, context.tenant, customer.state.package_id)).state;
      packages.set(customer.state.package_id, pkg);
    }
    const decision = decideIssueMonthlyBill(customer.state, pkg, command.period, context);
    if (!decision.ok) return refusePlan(decision.rejection);
    return {
      kind: 'append',
      writes: [{ stream_id: customer.stream_id, expected: CommandRuntime.expected(customer), events: decision.events }],
      value: { issued: decision.events.some((event) => event.type === 'bill-issued') },
    };
  });
}

/**
 * Packages as a bill run found them when it started: thousands of customers share a handful of packages, so a
 * run reads each once. A price changed during the run applies from the next run.
 */
export type PackageCache = Map<string, PackageState>;

export type BillRunReport = Readonly<{ period: YearMonth; customers: number; issued: number; unchanged: number; refused: readonly Readonly<{ customer_id: string; code: string; message: string }>[] }>;

/** Customers billed per transaction: one commit (one WAL flush) per batch instead of per bill. */
export const BILL_RUN_BATCH = 100;

type BatchOutcome = { issued: number; unchanged: number; refused: { customer_id: string; code: string; message: string }[] };

/**
 * One transaction for a batch of customers: each customer is loaded and decided on its own, and all their bills
 * are appended together, each stream at the revision it was read at. If any of them changed meanwhile (a
 * payment arrived), the whole batch is decided again; nothing is half-written.
 */
function issueBillBatch(runtime: CommandRuntime, envelope: CommandEnvelope, period: YearMonth, customer_ids: readonly string[], packages: PackageCache) {
  return runtime.execute<BatchOutcome>(envelope, 'issue-monthly-bills', { period, customer_ids: [...customer_ids] }, async (context) => {
    const outcome: BatchOutcome = { issued: 0, unchanged: 0, refused: [] };
    const writes: { stream_id: string; expected: import('../eventstore/event-store.js').StreamState; events: readonly import('../domain/shared/decider.js').DomainEvent[] }[] = [];
    // The whole batch is read in one round trip.
    const loaded = (await runtime.loadMany(customer_ids.map((customer_id) => ({ type: CustomerAggregate, stream_id: customerStream(customer_id) })))) as Loaded<CustomerState>[];
    for (const [index, customer_id] of customer_ids.entries()) {
      const found = loaded[index]!;
      const customer = found.state.exists && found.state.tenant === context.tenant ? found : null;
      if (customer === null) {
        outcome.refused.push({ customer_id, code: 'CUSTOMER_NOT_FOUND', message: 'no such customer in this ISP' });
        continue;
      }
      let pkg = packages.get(customer.state.package_id);
      if (pkg === undefined) {
        pkg = (await loadPackage(runtime, context.tenant, customer.state.package_id)).state;
        packages.set(customer.state.package_id, pkg);
      }
      const decision = decideIssueMonthlyBill(customer.state, pkg, period, context);
      if (!decision.ok) {
        outcome.refused.push({ customer_id, code: decision.rejection.code, message: decision.rejection.message });
      } else if (decision.events.length === 0) {
        outcome.unchanged += 1;
      } else {
        outcome.issued += 1;
        writes.push({ stream_id: customer.stream_id, expected: CommandRuntime.expected(customer), events: decision.events });
      }
    }
    return { kind: 'append', writes, value: outcome };
  });
}

/**
 * The monthly bill run over a list of customers (the caller finds the monthly ones from the customers read
 * model), in batches of BILL_RUN_BATCH, `concurrency` batches at a time. A crash midway loses nothing that
 * was committed, and a re-run issues only what is missing: the customer stream knows its billed periods.
 */
export async function runMonthlyBills(
  runtime: CommandRuntime,
  envelope: CommandEnvelope,
  input: Readonly<{ period: YearMonth; customer_ids: readonly string[]; concurrency?: number; on_progress?: (done: number, total: number) => void }>,
): Promise<BillRunReport> {
  let next = 0;
  let done = 0;
  const report: BatchOutcome = { issued: 0, unchanged: 0, refused: [] };
  const packages: PackageCache = new Map();
  // A run is idempotent by the periods each customer stream records; a key shared by its batches would clash.
  const { idempotency_key: _key, ...batchEnvelope } = envelope;
  let failed: unknown = null;
  const worker = async (): Promise<void> => {
    while (next < input.customer_ids.length && failed === null) {
      const batch = input.customer_ids.slice(next, next + BILL_RUN_BATCH);
      next += batch.length;
      try {
        const result = await issueBillBatch(runtime, batchEnvelope, input.period, batch, packages);
        if (!result.ok) throw new Error(`bug: a bill batch cannot be refused as a whole (${result.rejection.code})`);
        report.issued += result.value.issued;
        report.unchanged += result.value.unchanged;
        report.refused.push(...result.value.refused);
      } catch (error) {
        if (!(error instanceof StreamStateConflict)) {
          failed = error;
          throw error;
        }
        // Payments keep landing on some of these customers: bill them one by one instead.
        for (const customer_id of batch) {
          const single = await issueMonthlyBill(runtime, batchEnvelope, { customer_id, period: input.period }, packages);
          if (!single.ok) report.refused.push({ customer_id, code: single.rejection.code, message: single.rejection.message });
          else if (single.value.issued) report.issued += 1;
          else report.unchanged += 1;
        }
      }
      done += batch.length;
      input.on_progress?.(done, input.customer_ids.length);
    }
  };
  // allSettled, so that when one worker fails the others finish their batch and stop before the run reports.
  const outcomes = await Promise.allSettled(Array.from({ length: Math.max(1, Math.min(input.concurrency ?? 4, 64)) }, worker));
  const rejected = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
  if (rejected !== undefined) throw rejected.reason;
  return { period: input.period, customers: input.customer_ids.length, ...report };
}

/** The period whose billing day is today for a due day, in the ISP's zone: what the scheduler bills. */
export function periodDueOn(now: Date, time_zone: string, due_day: number): YearMonth {
  return billingPeriodFor(localDateOf(now, time_zone), due_day).period;
}

// --- cards ------------------------------------------------------------------------------------------------------

/**
 * Generates a batch. PINs come from `random_pin` (a CSPRNG in production), are returned once for printing, and
 * only their salted hashes are stored.
 */
export function generateCardBatch(
  runtime: CommandRuntime,
  envelope: CommandEnvelope,
  command: { batch_id: string; count: number; value: string; package_id: string | null; expires_on: string; first_serial: number },
  random_pin: () => string,
): Promise<CommandResult<{ batch_id: string; cards: { serial: string; pin: string }[] }>> {
  const pins = Array.from({ length: Math.max(0, Math.min(command.count, 100_000)) }, random_pin);
  return runtime.execute(envelope, 'generate-card-batch', command, async (context) => {
    const isp = await loadOperator(runtime, context.tenant, context.tenant);
    if (isp === null) return refusePlan(rejection('ISP_NOT_FOUND', 'register the ISP first'));
    const batch = await runtime.load(CardBatchAggregate, cardBatchStream(command.batch_id));
    const decision = decideGenerateBatch(batch.state, { ...command, currency: isp.state.currency, pins }, context);
    if (!decision.ok) return refusePlan(decision.rejection);
    const generated = decision.events[0]!;
    const cards = generated.type === 'card-batch-generated' ? generated.data.cards.map((card, index) => ({ serial: card.serial, pin: pins[index]! })) : [];
    return { kind: 'append', writes: [{ stream_id: batch.stream_id, expected: CommandRuntime.expected(batch), events: decision.events }], value: { batch_id: command.batch_id, cards } };
  });
}

export function assignCards(
  runtime: CommandRuntime,
  envelope: CommandEnvelope,
  command: { batch_id: string; serials: readonly string[]; to_operator_id: string; to_staff_id: string | null },
): Promise<CommandResult<null>> {
  return runtime.execute(envelope, 'assign-cards', command, async (context) => {
    const batch = await runtime.load(CardBatchAggregate, cardBatchStream(command.batch_id));
    if (batch.state.exists && batch.state.tenant !== context.tenant) return refusePlan(rejection('CARD_BATCH_NOT_FOUND', 'no such card batch'));
    if ((await loadOperator(runtime, context.tenant, command.to_operator_id)) === null) return refusePlan(rejection('OPERATOR_NOT_FOUND', 'no such operator'));
    const decision = decideAssignCards(batch.state, command.serials, command.to_operator_id, command.to_staff_id);
    if (!decision.ok) return refusePlan(decision.rejection);
    return { kind: 'append', writes: [{ stream_id: batch.stream_id, expected: CommandRuntime.expected(batch), events: decision.events }], value: null };
  });
}

/**
 * A customer redeems a card: the card is marked used and its value is received as a payment (a recharge for a
 * daily customer), collected by whoever held the card, all in one append across the batch, the customer and
 * the chain's wallets.
 */
export function redeemCard(
  runtime: CommandRuntime,
  envelope: CommandEnvelope,
  command: { batch_id: string; serial: string; pin: string; customer_id: string; payment_id: string; recharge: boolean },
): Promise<CommandResult<PaymentReceipt>> {
  return runtime.execute(envelope, 'redeem-card', command, async (context) => {
    const customer = await loadCustomer(runtime, context.tenant, command.customer_id);
    if (customer === null) return refusePlan(rejection('CUSTOMER_NOT_FOUND', 'no such customer in this ISP'));
    // A payment id already on the customer would make the payment a no-op while the card is still spent.
    if (customer.state.payments[command.payment_id] !== undefined) {
      return refusePlan(rejection('INVALID_INPUT', `payment id ${command.payment_id} is already used for this customer; send a new one`));
    }
    const batch = await runtime.load(CardBatchAggregate, cardBatchStream(command.batch_id));
    const redeemed = decideRedeemCard(batch.state, { ...command, time_zone: customer.state.time_zone }, context);
    if (!redeemed.ok) return refusePlan(redeemed.rejection);
    const chain = await loadChain(runtime, context.tenant, customer.state.chain);
    if (chain === null) return refusePlan(rejection('OPERATOR_NOT_FOUND', 'an operator on the customer’s chain is gone'));
    const recharge_package_id = command.recharge ? (batch.state.package_id ?? customer.state.package_id) : null;
    const pkg = await loadPackage(runtime, context.tenant, recharge_package_id ?? customer.state.package_id);
    const payment: ReceivePayment = {
      payment_id: command.payment_id,
      method: 'card',
      amount: batch.state.value,
      collected_by: context.actor.id,
      collector_operator_id: cardCollector(batch.state, command.serial),
      gateway: null,
      gateway_reference: null,
      card: { batch_id: command.batch_id, serial: command.serial },
      recharge_package_id,
    };
    const decision = decideReceivePayment(customer.state, chain.map((c) => c.state), pkg.state, payment, context);
    return paymentPlan(customer, chain, decision, (outcome) => receiptAfter(customer.state, command.payment_id, outcome), [
      { stream_id: batch.stream_id, expected: CommandRuntime.expected(batch), events: redeemed.events },
    ]);
    // The card's collector (whoever the batch was assigned to) is known only once the batch is read: lock them all.
  }, { lock_keys: walletLocks(runtime, command.customer_id, null) });
}
