import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { bookStream, customerStream, operatorStream } from '../../commands/streams.js';
import { decideIssueMonthlyBill } from '../../domain/billing/monthly-bill-run.js';
import type { CustomerEvent, CustomerState, PaymentMethod } from '../../domain/customers/customer.js';
import { balanceDue, evolveCustomer, initialCustomerState } from '../../domain/customers/customer-evolve.js';
import { reservationStream } from '../../domain/customers/identifiers.js';
import { customerPrice, decideRegisterCustomer } from '../../domain/customers/registration.js';
import { decideReserve } from '../../domain/customers/reservation.js';
import { decideAddAccount, decidePostManualEntry, decideReverseEntry, evolveBook, initialBookState, type BookEvent, type BookState } from '../../domain/ledger/book.js';
import { BANK } from '../../domain/ledger/chart.js';
import { Money } from '../../domain/money/money.js';
import { decideTopUpWallet, evolveOperator, type OperatorEvent, type OperatorState } from '../../domain/operators/operator.js';
import { decideReceivePayment, type ReceivePayment } from '../../domain/payments/receive-payment.js';
import { decideRefundPayment } from '../../domain/payments/refund-payment.js';
import type { Actor, CommandContext } from '../../domain/shared/command-context.js';
import type { Decision, DomainEvent } from '../../domain/shared/decider.js';
import { MAX_STREAMS_PER_APPEND } from '../../eventstore/append-validation.js';
import type { EventStore, NewEvent, StreamAppend } from '../../eventstore/event-store.js';
import type { JsonObject } from '../../eventstore/json.js';
import { customerPlan, OWNERS, TENANT, type BenchIsp } from './isp-history.js';

/**
 * A history rich in money for the books benchmark: the ISP of support/isp-history.ts (its `setUpIsp` and its
 * customers, `customerPlan`), then month after month every customer pays — daily customers recharge, monthly
 * ones are billed on the 1st and pay their bill — to collectors all along the chain (online to the ISP, cash at
 * the owning operator's counter, cash at the parent's), a share of payments is refunded, every reseller and
 * sub-reseller tops its wallet up, and each book's accountant posts a manual entry (and reverses one now and
 * then). Every event is decided by the domain's own deciders against the state the earlier events left
 * (payments carry the commission split and wallet movements the posting rules check), with the metadata the
 * command layer writes; only the appending is done in bulk, many streams per transaction.
 *
 * isp-history.ts's own activity is one payment per customer and no refunds, top-ups or book entries, which is
 * too little money for a ledger benchmark; its ISP and customers are reused as they are.
 *
 * Months run one after the other (all of month m is appended before month m+1 is decided), so the log is in
 * time order month by month, and within a month in customer order: what a busy ISP's log looks like to the
 * projector, which posts whatever comes in log order.
 */
const CURRENCY = 'BDT';
/** Dhaka is UTC+6 all year: local midnight of a day is 18:00 UTC the day before. */
const DHAKA_OFFSET_MS = 6 * 3_600_000;
const DAY_MS = 86_400_000;
/** A custom expense account each book's accountant adds, for the manual entries (upstream bandwidth bills). */
const BANDWIDTH_ACCOUNT = '5300';

export type BooksHistoryOptions = Readonly<{
  customers: number;
  months: number;
  /** The first month of activity (YYYY-MM); customers register in the month before. */
  first_month?: string;
  /** Share of payments refunded (half of them in full, half in part) a few days later. */
  refund_share?: number;
  /** Customers decided together; their streams are appended MAX_STREAMS_PER_APPEND per appendToStreams call. */
  batch_customers?: number;
  writers?: number;
  log: (line: string) => void;
}>;

export type BooksHistoryReport = Readonly<{
  customers: number;
  months: number;
  first_month: string;
  events: number;
  by_type: ReadonlyMap<string, number>;
  payments_by_collector: ReadonlyMap<string, number>;
  seconds: number;
}>;

/** One command's events for one stream, with the command's metadata. */
type Emitted = Readonly<{ stream_id: string; events: readonly DomainEvent[]; now: Date; actor: Actor; command: string; command_id: string }>;

function toNew(emitted: Emitted): NewEvent[] {
  return emitted.events.map((event) => ({
    event_id: randomUUID(),
    type: event.type,
    data: event.data as JsonObject,
    occurred_at: emitted.now,
    metadata: { actor: { id: emitted.actor.id, role: emitted.actor.role }, tenant: TENANT, correlation_id: emitted.command_id, causation_id: null, command_id: emitted.command_id, command: emitted.command },
  }));
}

/** One append per stream (a stream may appear once per transaction), its commands' events in order. */
function byStream(emitted: readonly Emitted[]): StreamAppend[] {
  const streams = new Map<string, NewEvent[]>();
  for (const entry of emitted) {
    let list = streams.get(entry.stream_id);
    if (list === undefined) streams.set(entry.stream_id, (list = []));
    list.push(...toNew(entry));
  }
  return [...streams].map(([stream_id, events]) => ({ stream_id, stream_state: 'any', events }));
}

function accepted<Event>(decision: Decision<Event>, what: string): readonly Event[] {
  if (!decision.ok) throw new Error(`${what} refused: ${decision.rejection.code}: ${decision.rejection.message}`);
  return decision.events;
}

/** mulberry32, seeded per customer and month: the same sizes give the same history. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Local midnight in Dhaka of the first day of month `index` counted from `first` (YYYY-MM), in ms. */
function monthStartMs(first: string, index: number): number {
  const [year, month] = first.split('-').map(Number) as [number, number];
  return Date.UTC(year, month - 1 + index, 1) - DHAKA_OFFSET_MS;
}

const periodOf = (first: string, index: number): string => {
  const start = new Date(monthStartMs(first, index) + DHAKA_OFFSET_MS);
  return `${start.getUTCFullYear()}-${String(start.getUTCMonth() + 1).padStart(2, '0')}`;
};

const localDate = (ms: number): string => new Date(ms + DHAKA_OFFSET_MS).toISOString().slice(0, 10);

type Collector = Readonly<{ method: PaymentMethod; operator_id: string; label: string }>;

/**
 * Who takes the money: online through the ISP's gateway (40 %), cash at the owning operator's counter (45 %),
 * or cash at its parent's counter (15 %; the ISP's own customers pay the ISP's cashier).
 */
function collectorFor(state: CustomerState, roll: number): Collector {
  const owner = state.chain[state.chain.length - 1]!;
  if (roll < 0.4) return { method: 'online', operator_id: TENANT, label: 'online to the ISP' };
  if (roll < 0.85 || state.chain.length < 2) return { method: 'cash', operator_id: owner, label: 'cash at the owner' };
  return { method: 'cash', operator_id: state.chain[state.chain.length - 2]!, label: "cash at the owner's parent" };
}

export async function appendBooksHistory(store: EventStore, isp: BenchIsp, options: BooksHistoryOptions): Promise<BooksHistoryReport> {
  const first_month = options.first_month ?? '2024-01';
  const refund_share = options.refund_share ?? 0.03;
  const batch_customers = options.batch_customers ?? 250;
  const writers = options.writers ?? 3;
  const started = performance.now();
  const by_type = new Map<string, number>();
  const payments_by_collector = new Map<string, number>();
  let events = 0;

  const wallets = new Map<string, OperatorState>(isp.operators);
  const states: CustomerState[] = new Array(options.customers);
  const revisions: bigint[] = new Array(options.customers);

  const append = async (appends: readonly StreamAppend[]): Promise<void> => {
    for (const entry of appends) {
      for (const event of entry.events) by_type.set(event.type, (by_type.get(event.type) ?? 0) + 1);
      events += entry.events.length;
    }
    // appendToStreams takes at most MAX_STREAMS_PER_APPEND streams: one transaction per slice.
    for (let slice = 0; slice < appends.length; slice += MAX_STREAMS_PER_APPEND) await store.appendToStreams(appends.slice(slice, slice + MAX_STREAMS_PER_APPEND));
  };

  /** `writers` loops append batches of customers made on demand; resolves when every customer is done. */
  const pump = async (makeBatch: (from: number, until: number) => StreamAppend[]): Promise<void> => {
    let next = 0;
    await Promise.all(
      Array.from({ length: writers }, async () => {
        while (next < options.customers) {
          const from = next;
          const until = Math.min(options.customers, from + batch_customers);
          next = until;
          await append(makeBatch(from, until));
        }
      }),
    );
  };

  // ---- registrations, spread over the month before the first month of activity
  const registrationFrom = monthStartMs(first_month, -1);
  const registrationSpan = monthStartMs(first_month, 0) - registrationFrom - DAY_MS;
  await pump((from, until) => {
    const appends: StreamAppend[] = [];
    for (let i = from; i < until; i += 1) {
      const plan = customerPlan(i, options.customers);
      const now = new Date(registrationFrom + Math.floor((registrationSpan * i) / options.customers) + 9 * 3_600_000);
      const context: CommandContext = { tenant: TENANT, actor: plan.actor, now };
      const decided = accepted(
        decideRegisterCustomer(initialCustomerState(), plan.command, wallets.get(plan.owner.operator_id)!, isp.isp, isp.packages.get(plan.command.package_id)!, context),
        `registration of ${plan.command.customer_id}`,
      );
      let state = initialCustomerState();
      for (const event of decided) state = evolveCustomer(state, event);
      states[i] = state;
      revisions[i] = BigInt(decided.length - 1);
      const base = { now, actor: plan.actor, command: 'register-customer', command_id: randomUUID() };
      appends.push({ stream_id: customerStream(plan.command.customer_id), stream_state: 'no_stream', events: toNew({ ...base, stream_id: '', events: decided }) });
      const identifiers = [
        ['username', plan.command.username],
        ['mac', plan.command.mac],
        ['static_ip', plan.command.static_ip],
      ] as const;
      for (const [kind, value] of identifiers) {
        if (value === null) continue;
        const reserved = accepted(decideReserve({ holder: null }, kind, value, plan.command.customer_id), 'reservation');
        appends.push({ stream_id: reservationStream(TENANT, kind, value), stream_state: 'no_stream', events: toNew({ ...base, stream_id: '', events: reserved }) });
      }
    }
    return appends;
  });
  options.log(`books history: ${options.customers.toLocaleString('en-US')} customers registered (${events.toLocaleString('en-US')} events)`);

  // ---- the books' own accounts: every operator with children keeps an upstream-bandwidth expense account
  const bookkeeping = OWNERS.filter((owner) => owner.role !== 'sub_reseller').map((owner) => owner.operator_id);
  const books = new Map<string, BookState>(bookkeeping.map((book_id) => [book_id, initialBookState()]));
  const accountant: Actor = { id: `${TENANT}-accountant`, role: 'accountant' };
  const bookEmitted = (book_id: string, command: string, now: Date, decided: readonly BookEvent[]): Emitted => {
    books.set(book_id, decided.reduce(evolveBook, books.get(book_id)!));
    return { stream_id: bookStream(book_id), events: decided, now, actor: accountant, command, command_id: randomUUID() };
  };
  {
    const now = new Date(registrationFrom + 2 * 3_600_000);
    const emitted = bookkeeping.map((book_id) =>
      bookEmitted(book_id, 'add-account', now, accepted(decideAddAccount(books.get(book_id)!, wallets.get(book_id)!, { code: BANDWIDTH_ACCOUNT, name: 'Upstream bandwidth' }, { tenant: TENANT, actor: accountant, now }), 'add account')),
    );
    await append(byStream(emitted));
  }

  const price = (state: CustomerState): Money => customerPrice(state, isp.packages.get(state.package_id)!);
  let manualEntries: { book_id: string; entry_id: string }[] = [];

  for (let month = 0; month < options.months; month += 1) {
    const monthStart = monthStartMs(first_month, month);
    const period = periodOf(first_month, month);
    const eventsBefore = events;

    // Operators first: wallet top-ups on the 1st, the bandwidth bill on the 28th, one reversal of last month's.
    const operatorAppends: Emitted[] = [];
    for (const owner of OWNERS) {
      if (owner.role === 'admin') continue;
      const now = new Date(monthStart + 10 * 3_600_000);
      const parent = wallets.get(owner.operator_id)!.parent_id!;
      const amount = owner.role === 'reseller' ? '250000.00' : '40000.00';
      const decided = accepted(decideTopUpWallet(wallets.get(owner.operator_id)!, amount, owner.role === 'reseller' ? 'bank' : 'cash', `topup-${period}-${owner.operator_id}`), 'top-up');
      wallets.set(owner.operator_id, (decided as readonly OperatorEvent[]).reduce(evolveOperator, wallets.get(owner.operator_id)!));
      operatorAppends.push({ stream_id: operatorStream(owner.operator_id), events: decided, now, actor: { id: `${parent}-cashier`, role: 'manager' }, command: 'top-up-wallet', command_id: randomUUID() });
    }
    const billDay = new Date(monthStart + 27 * DAY_MS + 11 * 3_600_000);
    const context = { tenant: TENANT, actor: accountant, now: billDay };
    const posted: { book_id: string; entry_id: string }[] = [];
    for (const book_id of bookkeeping) {
      const entry_id = `bandwidth-${period}-${book_id}`;
      const amount = book_id === TENANT ? '1850000.00' : '95000.00';
      const lines = [
        { account_code: BANDWIDTH_ACCOUNT, debit: amount },
        { account_code: BANK, credit: amount },
      ];
      operatorAppends.push(
        bookEmitted(book_id, 'post-manual-entry', billDay, accepted(decidePostManualEntry(books.get(book_id)!, wallets.get(book_id)!, { entry_id, date: localDate(billDay.getTime()), memo: `Upstream bandwidth ${period}`, lines }, context), 'manual entry')),
      );
      posted.push({ book_id, entry_id });
    }
    const wrong = manualEntries[month % Math.max(1, manualEntries.length)];
    if (wrong !== undefined) {
      const command = { entry_id: wrong.entry_id, reversal_entry_id: `${wrong.entry_id}-reversed`, reason: 'billed twice by the upstream provider' };
      operatorAppends.push(
        bookEmitted(wrong.book_id, 'reverse-entry', billDay, accepted(decideReverseEntry(books.get(wrong.book_id)!, wallets.get(wrong.book_id)!, { entry_id: wrong.entry_id, kind: 'manual' }, command, context), 'reversal')),
      );
    }
    manualEntries = posted;
    await append(byStream(operatorAppends));

    // Then the customers, batch by batch.
    await pump((from, until) => {
      const customerAppends: StreamAppend[] = [];
      const walletEvents = new Map<string, NewEvent[]>();
      for (let i = from; i < until; i += 1) {
        const random = seeded(Math.imul(i + 1, 0x9e3779b1) ^ Math.imul(month + 7, 0x85ebca77));
        let state = states[i]!;
        const owner = state.chain[state.chain.length - 1]!;
        const staff: Actor = { id: `${owner}-cashier`, role: 'manager' };
        const emitted: Emitted[] = [];
        const onCustomer = (command: string, actor: Actor, now: Date, decided: readonly CustomerEvent[]): void => {
          if (decided.length === 0) return;
          emitted.push({ stream_id: customerStream(state.customer_id), events: decided, now, actor, command, command_id: randomUUID() });
          for (const event of decided) state = evolveCustomer(state, event);
        };
        const onOperators = (now: Date, actor: Actor, command: string, command_id: string, operators: readonly { operator_id: string; events: readonly OperatorEvent[] }[]): void => {
          for (const operator of operators) {
            emitted.push({ stream_id: operatorStream(operator.operator_id), events: operator.events, now, actor, command, command_id });
            wallets.set(operator.operator_id, operator.events.reduce(evolveOperator, wallets.get(operator.operator_id)!));
          }
        };
        const pay = (now: Date, amount: Money, recharge_package_id: string | null): void => {
          const collector = collectorFor(state, random());
          const command: ReceivePayment = {
            payment_id: randomUUID(),
            method: collector.method,
            amount: amount.toString(),
            collected_by: collector.method === 'online' ? 'gateway' : `${collector.operator_id}-cashier`,
            collector_operator_id: collector.operator_id,
            gateway: collector.method === 'online' ? (['bkash', 'nagad', 'sslcommerz'] as const)[Math.floor(random() * 3)]! : null,
            gateway_reference: collector.method === 'online' ? `gw-${randomUUID()}` : null,
            card: null,
            recharge_package_id,
          };
          const actor: Actor = collector.method === 'online' ? { id: 'payment-gateway', role: 'system' } : { id: `${collector.operator_id}-cashier`, role: 'manager' };
          const chain = state.chain.map((operator_id) => wallets.get(operator_id)!);
          const decision = decideReceivePayment(state, chain, isp.packages.get(recharge_package_id ?? state.package_id)!, command, { tenant: TENANT, actor, now });
          if (!decision.ok) throw new Error(`payment of ${state.customer_id} refused: ${decision.rejection.code}: ${decision.rejection.message}`);
          const command_id = randomUUID();
          onCustomer('receive-payment', actor, now, decision.outcome.customer);
          onOperators(now, actor, 'receive-payment', command_id, decision.outcome.operators);
          payments_by_collector.set(collector.label, (payments_by_collector.get(collector.label) ?? 0) + 1);
          if (random() >= refund_share) return;
          const later = new Date(now.getTime() + (1 + Math.floor(random() * 3)) * DAY_MS);
          const whole = random() < 0.5;
          const refund = whole ? amount : Money.fromMinor(amount.toMinor() / 2n, amount.currency);
          const refunded = decideRefundPayment(
            state,
            state.chain.map((operator_id) => wallets.get(operator_id)!),
            { refund_id: randomUUID(), payment_id: command.payment_id, amount: refund.toString(), reason: whole ? 'paid twice by mistake' : 'service outage: half the month back', by: staff.id },
            { tenant: TENANT, actor: staff, now: later },
          );
          if (!refunded.ok) throw new Error(`refund for ${state.customer_id} refused: ${refunded.rejection.code}: ${refunded.rejection.message}`);
          onCustomer('refund-payment', staff, later, refunded.outcome.customer);
          onOperators(later, staff, 'refund-payment', randomUUID(), refunded.outcome.operators);
        };

        if (state.profile.kind === 'daily') {
          // Once a month, on a day of its own; one in ten pays 100.00 more, kept as credit for the next recharge.
          const now = new Date(monthStart + Math.floor(random() * 27 * DAY_MS) + 8 * 3_600_000);
          const full = price(state);
          const credit = Money.parse(state.credit, CURRENCY);
          const due = Money.max(full.minus(credit), Money.zero(CURRENCY));
          const amount = random() < 0.1 || due.isZero() ? due.plus(Money.parse('100.00', CURRENCY)) : due;
          pay(now, amount, state.package_id);
        } else {
          const billed = new Date(monthStart + 30 * 60_000); // 00:30 on the 1st: the bill run
          const system: Actor = { id: 'bill-run', role: 'system' };
          onCustomer('issue-monthly-bill', system, billed, accepted(decideIssueMonthlyBill(state, isp.packages.get(state.package_id)!, period, { tenant: TENANT, actor: system, now: billed }), 'bill'));
          const due = balanceDue(state);
          if (due.isPositive() && random() < 0.92) pay(new Date(billed.getTime() + DAY_MS + Math.floor(random() * 9 * DAY_MS)), due, null);
        }

        states[i] = state;
        const own = emitted.filter((entry) => entry.stream_id === customerStream(state.customer_id));
        if (own.length > 0) {
          const newEvents = own.flatMap(toNew);
          customerAppends.push({ stream_id: own[0]!.stream_id, stream_state: revisions[i]!, events: newEvents });
          revisions[i] = revisions[i]! + BigInt(newEvents.length);
        }
        for (const entry of emitted) {
          if (entry.stream_id === own[0]?.stream_id) continue;
          let list = walletEvents.get(entry.stream_id);
          if (list === undefined) walletEvents.set(entry.stream_id, (list = []));
          list.push(...toNew(entry));
        }
      }
      return [...customerAppends, ...[...walletEvents].map(([stream_id, list]): StreamAppend => ({ stream_id, stream_state: 'any', events: list }))];
    });
    const seconds = (performance.now() - started) / 1000;
    options.log(
      `books history: month ${month + 1} / ${options.months} (${period}) appended, ${(events - eventsBefore).toLocaleString('en-US')} events; ` +
        `${events.toLocaleString('en-US')} in all (${Math.round(events / seconds).toLocaleString('en-US')} events/s)`,
    );
  }
  return { customers: options.customers, months: options.months, first_month, events, by_type, payments_by_collector, seconds: (performance.now() - started) / 1000 };
}
