import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postManualEntry, reverseEntry } from '../../commands/book-commands.js';
import type { CommandRuntime } from '../../commands/command-runtime.js';
import { createPackage, loadCustomer, registerCustomer } from '../../commands/customer-commands.js';
import { assignPackage, createOperator, loadOperator, registerIsp, setCommissionTerms, topUpWallet } from '../../commands/operator-commands.js';
import { issueMonthlyBill, receivePayment, refundPayment } from '../../commands/payment-commands.js';
import { balanceDue } from '../../domain/customers/customer-evolve.js';
import { Money } from '../../domain/money/money.js';
import type { EventStore } from '../../eventstore/event-store.js';
import { PostgresEventStore } from '../../eventstore/postgres/postgres-event-store.js';
import { RowCache } from '../../projections/apply-batch.js';
import { applyCheckpointed } from '../../projections/checkpointed-apply.js';
import { createGeneration, liveGeneration, type Generation } from '../../projections/generations.js';
import { booksProjection } from '../../projections/read-models/books.js';
import { admin, ManualClock, ok, PACKAGE_10M, runtimeOn } from '../support/demo-isp.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/**
 * Model-based test of the books (fast-check `commands`): random operator trees, customers, payments by any
 * collector on the chain, bills, refunds, wallet top-ups, manual entries and reversals, each through the real
 * commands and the real books projection. After every step: every entry balances, every book's trial balance
 * is zero (from lines and from running totals), intercompany pairs mirror, and each book agrees with a naive
 * model kept beside it — the domain's own folds for wallets and customers, and running tallies of the money
 * the steps moved.
 */
let database: TestDatabase;
let store: EventStore;
let generation: Generation;
const cache = new RowCache();
let stepsRun = 0;

beforeAll(async () => {
  database = await createTestDatabase(10);
  store = new PostgresEventStore(database.pool);
  generation = (await liveGeneration(database.pool, 'books')) ?? (await createGeneration(database.pool, booksProjection, { state: 'live' }));
});
afterAll(async () => database?.close());

/** Applies everything appended so far to the books (what the projector would do, synchronously). */
async function project(): Promise<void> {
  for (let round = 0; round < 1_000; round += 1) {
    const current = (await liveGeneration(database.pool, 'books'))!;
    const events = await store.readAll(current.position, { max_count: 500 });
    if (events.length === 0) {
      // Events of transactions still in flight elsewhere on the server are not visible yet; wait for them.
      const pending = await database.pool.query<{ n: string }>(
        'SELECT count(*) AS n FROM events WHERE (tx_id, global_position) > ($1::text::xid8, $2::bigint)',
        [current.position.commit.toString(), current.position.prepare.toString()],
      );
      if (pending.rows[0]!.n === '0') return;
      await new Promise((resolve) => setTimeout(resolve, 5));
      continue;
    }
    await applyCheckpointed(database.pool, booksProjection, generation, events, cache, { expected: current.position });
  }
  throw new Error('the books did not catch up');
}

type Tally = Map<string, Money>;
const bump = (tally: Tally, key: string, amount: Money): void => {
  tally.set(key, (tally.get(key) ?? Money.zero('BDT')).plus(amount));
};

type World = {
  runtime: CommandRuntime;
  clock: ManualClock;
  tenant: string;
  operators: { id: string; chain: string[] }[];
  customers: { id: string; chain: string[]; monthly: boolean }[];
  payments: { id: string; customer: string; amount: Money; refunded: Money; collector: string; method: 'cash' | 'online' }[];
  manual: { book: string; entry_id: string }[];
  /** Money in each collector's money account: `${operator}:${account}`. */
  money: Tally;
  /** What each operator keeps (revenue or commission), from the events' shares. */
  kept: Tally;
};

const BDT = (minor: number): Money => Money.fromMinor(BigInt(minor), 'BDT');

async function freshWorld(tree: readonly { reseller_share: number; subs: readonly number[] }[]): Promise<World> {
  const clock = new ManualClock(new Date('2026-11-10T06:00:00Z'));
  const runtime = runtimeOn(database.pool, clock);
  const tenant = `isp-${randomUUID().slice(0, 8)}`;
  const envelope = admin(tenant);
  ok(await registerIsp(runtime, envelope, { operator_id: tenant, name: 'Model Net', currency: 'BDT', time_zone: 'Asia/Dhaka', address: 'Dhaka' }));
  const package_id = `pkg-${tenant}`;
  ok(await createPackage(runtime, envelope, { ...PACKAGE_10M, package_id }));
  const world: World = { runtime, clock, tenant, operators: [{ id: tenant, chain: [tenant] }], customers: [], payments: [], manual: [], money: new Map(), kept: new Map() };
  for (const [r, branch] of tree.entries()) {
    const reseller = `${tenant}-r${r}`;
    ok(await createOperator(runtime, envelope, { operator_id: reseller, parent_id: tenant, role: 'reseller', name: `R${r}`, billing_mode: 'postpaid', credit_limit: '10000000' }));
    ok(await setCommissionTerms(runtime, envelope, { operator_id: reseller, effective_from: '2020-01-01', terms: { kind: 'share', percent: String(branch.reseller_share) } }));
    ok(await assignPackage(runtime, envelope, { operator_id: reseller, package_id, wholesale_price: '200.00', effective_from: '2020-01-01' }));
    world.operators.push({ id: reseller, chain: [tenant, reseller] });
    for (const [s, share] of branch.subs.entries()) {
      const sub = `${reseller}-s${s}`;
      ok(await createOperator(runtime, envelope, { operator_id: sub, parent_id: reseller, role: 'sub_reseller', name: `S${r}.${s}`, billing_mode: 'postpaid', credit_limit: '10000000' }));
      ok(await setCommissionTerms(runtime, envelope, { operator_id: sub, effective_from: '2020-01-01', terms: { kind: 'share', percent: String(share) } }));
      ok(await assignPackage(runtime, envelope, { operator_id: sub, package_id, wholesale_price: '300.00', effective_from: '2020-01-01' }));
      world.operators.push({ id: sub, chain: [tenant, reseller, sub] });
    }
  }
  (world as World & { package_id: string }).package_id = package_id;
  return world;
}

const packageOf = (world: World): string => (world as World & { package_id: string }).package_id;

// --- commands ---------------------------------------------------------------------------------------------

/** Every step acts through the real commands, then checks every invariant. */
abstract class Step implements fc.AsyncCommand<object, World> {
  check(): boolean {
    return true;
  }
  async run(_model: object, world: World): Promise<void> {
    stepsRun += 1;
    await this.act(world);
    await checkBooks(world);
  }
  abstract act(world: World): Promise<void>;
}

class Register extends Step {
  constructor(readonly owner: number, readonly monthly: boolean) {
    super();
  }
  async act(world: World): Promise<void> {
    const owner = world.operators[this.owner % world.operators.length]!;
    const customer_id = `c-${randomUUID().slice(0, 8)}`;
    ok(
      await registerCustomer(world.runtime, admin(world.tenant), {
        customer_id,
        operator_id: owner.id,
        connection_type: 'pppoe',
        name: 'Model Customer',
        mobile: '+8801700000000',
        zone: 'Z',
        username: customer_id,
        password: 'pw-secret',
        mac: null,
        static_ip: null,
        package_id: packageOf(world),
        profile: this.monthly ? { kind: 'monthly', due_day: 1, mode: 'postpaid', grace_days: 5 } : { kind: 'daily' },
        special_price: null,
        self_registered: false,
      }),
    );
    world.customers.push({ id: customer_id, chain: owner.chain, monthly: this.monthly });
  }
  override toString = () => `Register(${this.owner}, ${this.monthly ? 'monthly' : 'daily'})`;
}

class Pay extends Step {
  constructor(readonly customer: number, readonly minor: number, readonly collector: number, readonly online: boolean) {
    super();
  }
  async act(world: World): Promise<void> {
    if (world.customers.length === 0) return;
    const customer = world.customers[this.customer % world.customers.length]!;
    const collector = this.online ? world.tenant : customer.chain[this.collector % customer.chain.length]!;
    const method = this.online ? 'online' : 'cash';
    const payment_id = randomUUID();
    const result = await receivePayment(world.runtime, admin(world.tenant), {
      customer_id: customer.id,
      payment_id,
      method,
      amount: BDT(this.minor).toString(),
      collected_by: `${collector}-desk`,
      collector_operator_id: collector,
      gateway: this.online ? 'sslcommerz' : null,
      gateway_reference: this.online ? `gw-${payment_id}` : null,
      card: null,
      recharge_package_id: customer.monthly ? null : packageOf(world),
    });
    if (!result.ok) return; // A refusal (a payment too small for a recharge) must leave the books as they were.
    world.payments.push({ id: payment_id, customer: customer.id, amount: BDT(this.minor), refunded: Money.zero('BDT'), collector, method });
    bump(world.money, `${collector}:${this.online ? '1020' : '1000'}`, BDT(this.minor));
    await tallyShares(world, payment_id, 'payment-received', 1);
  }
  override toString = () => `Pay(${this.customer}, ${this.minor}, ${this.online ? 'online' : `cash@${this.collector}`})`;
}

class Refund extends Step {
  constructor(readonly payment: number, readonly percent: number) {
    super();
  }
  async act(world: World): Promise<void> {
    if (world.payments.length === 0) return;
    const payment = world.payments[this.payment % world.payments.length]!;
    const left = payment.amount.minus(payment.refunded);
    const amount = Money.fromMinor((left.toMinor() * BigInt(this.percent)) / 100n, 'BDT');
    if (!amount.isPositive()) return;
    const refund_id = randomUUID();
    const result = await refundPayment(world.runtime, admin(world.tenant), { customer_id: payment.customer, refund_id, payment_id: payment.id, amount: amount.toString(), reason: 'model refund', by: 'admin' });
    if (!result.ok) return;
    payment.refunded = payment.refunded.plus(amount);
    bump(world.money, `${payment.collector}:${payment.method === 'online' ? '1020' : '1000'}`, amount.negated());
    await tallyShares(world, refund_id, 'payment-refunded', -1);
  }
  override toString = () => `Refund(${this.payment}, ${this.percent}%)`;
}

class Bill extends Step {
  constructor(readonly customer: number, readonly days: number) {
    super();
  }
  async act(world: World): Promise<void> {
    world.clock.set(new Date(world.clock.now().getTime() + this.days * 86_400_000));
    const monthly = world.customers.filter((customer) => customer.monthly);
    if (monthly.length === 0) return;
    const customer = monthly[this.customer % monthly.length]!;
    const now = world.clock.now();
    const period = `${now.getUTCFullYear()}-${String(now.getUTCMonth() + 1).padStart(2, '0')}`;
    await issueMonthlyBill(world.runtime, admin(world.tenant), { customer_id: customer.id, period });
  }
  override toString = () => `Bill(${this.customer}, +${this.days}d)`;
}

class TopUp extends Step {
  constructor(readonly operator: number, readonly minor: number) {
    super();
  }
  async act(world: World): Promise<void> {
    const operators = world.operators.slice(1);
    if (operators.length === 0) return;
    const operator = operators[this.operator % operators.length]!;
    ok(await topUpWallet(world.runtime, admin(world.tenant), { operator_id: operator.id, amount: BDT(this.minor).toString(), method: 'bank', reference: 'model' }));
    const parent = operator.chain[operator.chain.length - 2]!;
    bump(world.money, `${operator.id}:1010`, BDT(this.minor).negated());
    bump(world.money, `${parent}:1010`, BDT(this.minor));
  }
  override toString = () => `TopUp(${this.operator}, ${this.minor})`;
}

class Manual extends Step {
  constructor(readonly book: number, readonly minor: number, readonly reverse: boolean) {
    super();
  }
  async act(world: World): Promise<void> {
    if (this.reverse && world.manual.length > 0) {
      const target = world.manual.shift()!;
      ok(
        await reverseEntry(
          world.runtime,
          admin(world.tenant),
          { book_id: target.book, entry_id: target.entry_id, reversal_entry_id: randomUUID(), reason: 'model reversal' },
          async (book_id, entry_id) => {
            await project();
            const found = await database.pool.query<{ kind: 'manual' }>('SELECT kind FROM journal_entries WHERE book_id = $1 AND entry_id = $2', [book_id, entry_id]);
            return found.rows[0] === undefined ? null : { entry_id, kind: found.rows[0].kind };
          },
        ),
      );
      bump(world.money, `${target.book}:1010`, (target as unknown as { amount: Money }).amount);
      return;
    }
    const book = world.operators[this.book % world.operators.length]!.id;
    const entry_id = randomUUID();
    const amount = BDT(this.minor);
    ok(
      await postManualEntry(world.runtime, admin(world.tenant), {
        book_id: book,
        entry_id,
        date: '2026-11-10',
        memo: 'Office rent',
        lines: [
          { account_code: '5100', debit: amount.toString() },
          { account_code: '1010', credit: amount.toString() },
        ],
      }),
    );
    world.manual.push({ book, entry_id, amount } as never);
    bump(world.money, `${book}:1010`, amount.negated());
  }
  override toString = () => `Manual(${this.book}, ${this.minor}, ${this.reverse ? 'reverse' : 'post'})`;
}

/** What each operator keeps of a payment, or gives back on a refund, as the event says. */
async function tallyShares(world: World, id: string, type: string, sign: 1 | -1): Promise<void> {
  const field = type === 'payment-received' ? 'payment_id' : 'refund_id';
  const shares = type === 'payment-received' ? 'commission' : 'commission_clawback';
  const found = await database.pool.query<{ shares: { operator_id: string; amount: string }[] }>(`SELECT data->'${shares}' AS shares FROM events WHERE type = $1 AND data->>'${field}' = $2`, [type, id]);
  for (const share of found.rows[0]!.shares) bump(world.kept, share.operator_id, sign === 1 ? Money.parse(share.amount, 'BDT') : Money.parse(share.amount, 'BDT').negated());
}

// --- the invariants ------------------------------------------------------------------------------------------

async function checkBooks(world: World): Promise<void> {
  await project();
  const books = world.operators.map((operator) => operator.id);
  const unbalanced = await database.pool.query(
    `SELECT entry_id FROM journal_lines WHERE book_id = ANY($1) GROUP BY entry_id HAVING sum(debit) <> sum(credit) OR count(*) < 2 OR bool_or(debit < 0 OR credit < 0)`,
    [books],
  );
  expect(unbalanced.rows).toEqual([]);
  const trial = await database.pool.query<{ book_id: string; lines: string; totals: string }>(
    `SELECT b.book_id,
            coalesce((SELECT sum(debit - credit) FROM journal_lines l WHERE l.book_id = b.book_id), 0)::text AS lines,
            coalesce((SELECT sum(debit - credit) FROM account_day_totals t WHERE t.book_id = b.book_id), 0)::text AS totals
       FROM unnest($1::text[]) AS b(book_id)`,
    [books],
  );
  for (const row of trial.rows) expect([row.book_id, Money.parse(row.lines, 'BDT').isZero(), Money.parse(row.totals, 'BDT').isZero()]).toEqual([row.book_id, true, true]);

  const balance = async (book: string, account: string, party: string | null = null): Promise<Money> => {
    const result = await database.pool.query<{ net: string }>(
      `SELECT coalesce(sum(debit - credit), 0)::text AS net FROM journal_lines WHERE book_id = $1 AND account_code = $2 AND ($3::text IS NULL OR party = $3)`,
      [book, account, party],
    );
    return Money.parse(result.rows[0]!.net, 'BDT');
  };
  for (const operator of world.operators.slice(1)) {
    const parent = operator.chain[operator.chain.length - 2]!;
    const wallet = Money.parse((await loadOperator(world.runtime, world.tenant, operator.id))!.state.wallet_balance, 'BDT');
    const receivable = await balance(operator.id, '1200', parent);
    const payable = (await balance(parent, '2100', operator.id)).negated();
    expect({ operator: operator.id, receivable: receivable.toString(), payable: payable.toString() }).toEqual({ operator: operator.id, receivable: wallet.toString(), payable: wallet.toString() });
  }
  for (const operator of world.operators) {
    const revenue = (await balance(operator.id, operator.id === world.tenant ? '4000' : '4100')).negated();
    expect({ operator: operator.id, kept: revenue.toString() }).toEqual({ operator: operator.id, kept: (world.kept.get(operator.id) ?? Money.zero('BDT')).toString() });
    for (const account of ['1000', '1020', '1010']) {
      expect({ at: `${operator.id}:${account}`, balance: (await balance(operator.id, account)).toString() }).toEqual({
        at: `${operator.id}:${account}`,
        balance: (world.money.get(`${operator.id}:${account}`) ?? Money.zero('BDT')).toString(),
      });
    }
  }
  for (const customer of world.customers) {
    const state = (await loadCustomer(world.runtime, world.tenant, customer.id))!.state;
    const expected = balanceDue(state).minus(Money.parse(state.credit, 'BDT'));
    const owner = customer.chain[customer.chain.length - 1]!;
    expect({ customer: customer.id, balance: (await balance(owner, '1100', customer.id)).toString() }).toEqual({ customer: customer.id, balance: expected.toString() });
  }
}

const steps = fc.commands(
  [
    fc.tuple(fc.nat(), fc.boolean()).map(([owner, monthly]) => new Register(owner, monthly)),
    fc.tuple(fc.nat(), fc.integer({ min: 1, max: 200_000 }), fc.nat(), fc.boolean()).map(([c, minor, who, online]) => new Pay(c, minor, who, online)),
    fc.tuple(fc.nat(), fc.integer({ min: 1, max: 100 })).map(([p, percent]) => new Refund(p, percent)),
    fc.tuple(fc.nat(), fc.integer({ min: 0, max: 40 })).map(([c, days]) => new Bill(c, days)),
    fc.tuple(fc.nat(), fc.integer({ min: 1, max: 500_000 })).map(([o, minor]) => new TopUp(o, minor)),
    fc.tuple(fc.nat(), fc.integer({ min: 1, max: 100_000 }), fc.boolean()).map(([b, minor, reverse]) => new Manual(b, minor, reverse)),
  ],
  { maxCommands: 18 },
);

const trees = fc.array(fc.record({ reseller_share: fc.integer({ min: 1, max: 99 }), subs: fc.array(fc.integer({ min: 1, max: 99 }), { maxLength: 2 }) }), { minLength: 1, maxLength: 2 });

describe('the books under random histories (model-based)', () => {
  it('balance, mirror and agree with the naive model after every step', async () => {
    await fc.assert(
      fc.asyncProperty(trees, steps, async (tree, commands) => {
        const world = await freshWorld(tree);
        await checkBooks(world);
        await fc.asyncModelRun(() => ({ model: {}, real: world }), commands);
      }),
      { numRuns: 8, endOnFailure: true },
    );
    // The property must have exercised real histories, not empty ones.
    expect(stepsRun).toBeGreaterThan(20);
  }, 240_000);
});
