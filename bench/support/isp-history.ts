import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { assignCards, generateCardBatch } from '../../commands/payment-commands.js';
import { createPackage } from '../../commands/customer-commands.js';
import { addStaff, assignPackage, createOperator, loadOperator, registerIsp, setCommissionTerms, setRadiusPolicy, topUpWallet } from '../../commands/operator-commands.js';
import { PackageAggregate } from '../../commands/aggregates.js';
import type { CommandEnvelope, CommandResult, CommandRuntime } from '../../commands/command-runtime.js';
import { customerStream, operatorStream, packageStream } from '../../commands/streams.js';
import { decideIssueMonthlyBill } from '../../domain/billing/monthly-bill-run.js';
import type { BillingProfile, ConnectionType, CustomerEvent, CustomerState } from '../../domain/customers/customer.js';
import { balanceDue, evolveCustomer, initialCustomerState } from '../../domain/customers/customer-evolve.js';
import { reservationStream, type IdentifierKind } from '../../domain/customers/identifiers.js';
import { decideChangeDetails, decideDisable, decideLockForNonpayment, decideResume, decideSuspend } from '../../domain/customers/lifecycle.js';
import { decideRegisterCustomer, type RegisterCustomer } from '../../domain/customers/registration.js';
import { decideReserve } from '../../domain/customers/reservation.js';
import { evolveOperator, type OperatorEvent, type OperatorState } from '../../domain/operators/operator.js';
import type { PackageSpec, PackageState } from '../../domain/packages/package.js';
import { decideReceivePayment, type ReceivePayment } from '../../domain/payments/receive-payment.js';
import type { Actor, CommandContext } from '../../domain/shared/command-context.js';
import type { Decision, DomainEvent } from '../../domain/shared/decider.js';
import { MAX_STREAMS_PER_APPEND } from '../../eventstore/append-validation.js';
import type { EventStore, NewEvent, StreamAppend } from '../../eventstore/event-store.js';
import type { JsonObject } from '../../eventstore/json.js';

/**
 * A large ISP's history, made quickly but with the domain's own deciders: every event is what the command
 * layer would have appended for the same command (same types, same data, metadata with actor, tenant,
 * correlation, causation, command id and command name), only decided here in bulk and appended many streams
 * per transaction instead of one command at a time. Registration writes the customer stream and one
 * reservation stream per identifier (username, MAC, static IP), as `registerCustomer` does; payments append
 * to the customer and every wallet on its chain, as `receivePayment` does.
 *
 * Customer i is a pure function of i (a seeded generator per customer), so the activity phase decides again
 * from the same registration instead of holding a million states in memory.
 */

export const TENANT = 'isp-bench';
export const TIME_ZONE = 'Asia/Dhaka';
const CURRENCY = 'BDT';

/** Registrations run over these 21 months, in customer order; the activity after them, in October and November 2026. */
const REGISTRATION_FROM_MS = Date.parse('2025-01-01T04:00:00Z');
const REGISTRATION_UNTIL_MS = Date.parse('2026-09-30T12:00:00Z');
const ACTIVITY_FROM_MS = Date.parse('2026-10-01T03:00:00Z');
const ACTIVITY_UNTIL_MS = Date.parse('2026-11-25T15:00:00Z');
/** When the live phase of a benchmark starts: after everything generated here. */
export const LIVE_FROM = new Date('2026-11-26T05:00:00Z');

const PACKAGES: readonly (PackageSpec & { package_id: string; weight: number; wholesale: readonly [string, string] })[] = [
  { package_id: 'home-5m', name: 'Home 5M', down_kbps: 5_000, up_kbps: 1_000, burst: null, price: '300.00', validity_days: 30, ip_pool: 'pool-home', data_quota_mb: null, weight: 10, wholesale: ['150.00', '220.00'] },
  { package_id: 'home-10m', name: 'Home 10M', down_kbps: 10_000, up_kbps: 2_000, burst: null, price: '500.00', validity_days: 30, ip_pool: 'pool-home', data_quota_mb: null, weight: 30, wholesale: ['250.00', '380.00'] },
  { package_id: 'home-20m', name: 'Home 20M', down_kbps: 20_000, up_kbps: 5_000, burst: { down_kbps: 30_000, up_kbps: 8_000, threshold_down_kbps: 15_000, threshold_up_kbps: 4_000, time_seconds: 16 }, price: '800.00', validity_days: 30, ip_pool: 'pool-home', data_quota_mb: null, weight: 25, wholesale: ['400.00', '600.00'] },
  { package_id: 'home-40m', name: 'Home 40M', down_kbps: 40_000, up_kbps: 10_000, burst: null, price: '1200.00', validity_days: 30, ip_pool: 'pool-home', data_quota_mb: null, weight: 15, wholesale: ['600.00', '900.00'] },
  { package_id: 'night-owl', name: 'Night Owl 30M', down_kbps: 30_000, up_kbps: 5_000, burst: null, price: '600.00', validity_days: 30, ip_pool: 'pool-night', data_quota_mb: null, weight: 5, wholesale: ['300.00', '450.00'] },
  { package_id: 'student-8m', name: 'Student 8M', down_kbps: 8_000, up_kbps: 2_000, burst: null, price: '400.00', validity_days: 30, ip_pool: 'pool-home', data_quota_mb: 150_000, weight: 8, wholesale: ['200.00', '300.00'] },
  { package_id: 'biz-50m', name: 'Business 50M', down_kbps: 50_000, up_kbps: 50_000, burst: null, price: '3000.00', validity_days: 30, ip_pool: 'pool-biz', data_quota_mb: null, weight: 5, wholesale: ['1500.00', '2200.00'] },
  { package_id: 'weekly-10m', name: 'Weekly 10M', down_kbps: 10_000, up_kbps: 2_000, burst: null, price: '150.00', validity_days: 7, ip_pool: 'pool-home', data_quota_mb: null, weight: 2, wholesale: ['75.00', '110.00'] },
];

const FIRST_NAMES = [
  'Rahim', 'Karim', 'Abdul', 'Hasan', 'Hossain', 'Jamal', 'Kamal', 'Nasir', 'Rafiq', 'Shafiq', 'Tanvir', 'Imran', 'Sohel', 'Rubel', 'Masud',
  'Arif', 'Faruk', 'Habib', 'Jahid', 'Mizan', 'Monir', 'Nazmul', 'Rashed', 'Saiful', 'Shahin', 'Shamim', 'Sumon', 'Tareq', 'Zahid', 'Anwar',
  'Fatema', 'Ayesha', 'Nasrin', 'Shirin', 'Rokeya', 'Sultana', 'Farzana', 'Taslima', 'Shahnaz', 'Jesmin', 'Rumana', 'Sharmin', 'Nusrat',
  'Mahmuda', 'Rehana', 'Salma', 'Tahmina', 'Parvin', 'Laila', 'Rina', 'Mitu', 'Sadia', 'Tania', 'Mou', 'Priya', 'Ananya', 'Sourav', 'Pritom',
  'Dipu', 'Bappi',
] as const;
const MIDDLE_NAMES = ['', '', '', 'Md.', 'Mohammad', 'Abu', 'Nur', 'Al', 'Kumar', 'Rani'] as const;
const LAST_NAMES = [
  'Uddin', 'Ahmed', 'Hossain', 'Islam', 'Rahman', 'Khan', 'Chowdhury', 'Miah', 'Sarker', 'Talukder', 'Bhuiyan', 'Sheikh', 'Mondal', 'Akter',
  'Begum', 'Khatun', 'Sultana', 'Haque', 'Alam', 'Kabir', 'Karim', 'Siddique', 'Mahmud', 'Hasan', 'Biswas', 'Das', 'Saha', 'Roy', 'Paul',
  'Ghosh', 'Dey', 'Barua', 'Majumder', 'Patwary', 'Molla', 'Howlader', 'Munshi', 'Sikder', 'Khondoker', 'Matubbar',
] as const;
const ZONES = [
  'Mirpur', 'Uttara', 'Dhanmondi', 'Mohammadpur', 'Gulshan', 'Banani', 'Badda', 'Rampura', 'Khilgaon', 'Motijheel', 'Jatrabari', 'Demra',
  'Shyamoli', 'Agargaon', 'Kafrul', 'Pallabi', 'Tejgaon', 'Lalbagh', 'Keraniganj', 'Savar', 'Ashulia', 'Tongi', 'Gazipur', 'Narayanganj',
  'Bashundhara', 'Baridhara', 'Mohakhali', 'Farmgate', 'Malibagh', 'Wari',
] as const;

export type Owner = Readonly<{ operator_id: string; role: 'admin' | 'reseller' | 'sub_reseller'; weight: number }>;

/**
 * ISP → 10 resellers → 10 sub-resellers each, and how customers spread over them (percent): the ISP serves
 * 15 % itself; reseller 0 is big (40 % in its subtree: 5 % direct, 3.5 % under each of its sub-resellers); the
 * other nine hold 5 % each, of which their last sub-reseller only 0.04 % (a small subtree to search in).
 */
function owners(): Owner[] {
  const list: Owner[] = [{ operator_id: TENANT, role: 'admin', weight: 15 }];
  for (let r = 0; r < 10; r += 1) {
    list.push({ operator_id: `res-${r}`, role: 'reseller', weight: r === 0 ? 5 : 1 });
    for (let s = 0; s < 10; s += 1) list.push({ operator_id: `sub-${r}-${s}`, role: 'sub_reseller', weight: r === 0 ? 3.5 : s === 9 ? 0.04 : 0.44 });
  }
  return list;
}

export const OWNERS: readonly Owner[] = owners();
/** The reseller with the largest subtree, one of five percent, and the sub-reseller with the smallest. */
export const LARGE_SUBTREE = 'res-0';
export const MEDIUM_SUBTREE = 'res-5';
export const SMALL_SUBTREE = 'sub-9-9';
export const PACKAGE_IDS: readonly string[] = PACKAGES.map((pkg) => pkg.package_id);

export type BenchIsp = Readonly<{
  isp: OperatorState;
  operators: ReadonlyMap<string, OperatorState>;
  packages: ReadonlyMap<string, PackageState>;
}>;

const must = <T>(result: CommandResult<T>): T => {
  if (!result.ok) throw new Error(`setting up the ISP: ${result.rejection.code}: ${result.rejection.message}`);
  return result.value;
};

/**
 * The ISP, its packages, operators (commission terms, wholesale prices, wallets), a few staff and card batches,
 * through the real commands: a few hundred commands, so their cost does not matter here.
 */
export async function setUpIsp(runtime: CommandRuntime): Promise<BenchIsp> {
  const envelope: CommandEnvelope = { tenant: TENANT, actor: { id: `${TENANT}-admin`, role: 'admin' } };
  must(await registerIsp(runtime, envelope, { operator_id: TENANT, name: 'Bench Fiber Net', currency: CURRENCY, time_zone: TIME_ZONE, address: 'House 12, Road 5, Dhaka' }));
  must(await setRadiusPolicy(runtime, envelope, { operator_id: TENANT, blocked_access: 'suspended_pool', suspended_pool: 'pool-suspended', suspended_address_list: 'unpaid', interim_interval_seconds: 300 }));
  for (const { weight: _w, wholesale: _ws, ...spec } of PACKAGES) must(await createPackage(runtime, envelope, spec));
  for (let r = 0; r < 10; r += 1) {
    const reseller = `res-${r}`;
    must(await createOperator(runtime, envelope, { operator_id: reseller, parent_id: TENANT, role: 'reseller', name: `Reseller ${r} Networks`, billing_mode: 'prepaid', credit_limit: '0' }));
    must(await setCommissionTerms(runtime, envelope, { operator_id: reseller, effective_from: '2020-01-01', terms: { kind: 'share', percent: '60' } }));
    for (const pkg of PACKAGES) must(await assignPackage(runtime, envelope, { operator_id: reseller, package_id: pkg.package_id, wholesale_price: pkg.wholesale[0], effective_from: '2020-01-01' }));
    must(await topUpWallet(runtime, envelope, { operator_id: reseller, amount: '9000000000.00', method: 'bank', reference: `opening-${reseller}` }));
    for (let s = 0; s < 10; s += 1) {
      const sub = `sub-${r}-${s}`;
      must(await createOperator(runtime, envelope, { operator_id: sub, parent_id: reseller, role: 'sub_reseller', name: `Sub-reseller ${r}.${s}`, billing_mode: 'prepaid', credit_limit: '0' }));
      must(await setCommissionTerms(runtime, envelope, { operator_id: sub, effective_from: '2020-01-01', terms: { kind: 'share', percent: '50' } }));
      for (const pkg of PACKAGES) must(await assignPackage(runtime, envelope, { operator_id: sub, package_id: pkg.package_id, wholesale_price: pkg.wholesale[1], effective_from: '2020-01-01' }));
      must(await topUpWallet(runtime, envelope, { operator_id: sub, amount: '900000000.00', method: 'cash', reference: `opening-${sub}` }));
    }
  }
  for (const owner of OWNERS) {
    must(await addStaff(runtime, envelope, { staff_id: `${owner.operator_id}-cashier`, operator_id: owner.operator_id, role: 'manager', name: `Cashier of ${owner.operator_id}`, permissions: ['customers.read', 'payments.collect'] }));
  }
  let pin = 1_000_000_000_000_000n;
  for (let b = 0; b < 5; b += 1) {
    const batch_id = `cards-2026-${b}`;
    const batch = must(await generateCardBatch(runtime, envelope, { batch_id, count: 1_000, value: '500.00', package_id: 'home-10m', expires_on: '2027-12-31', first_serial: b * 1_000 + 1 }, () => (pin++).toString()));
    must(await assignCards(runtime, envelope, { batch_id, serials: batch.cards.map((card) => card.serial), to_operator_id: `sub-${b}-0`, to_staff_id: null }));
  }
  const operators = new Map<string, OperatorState>();
  for (const owner of OWNERS) operators.set(owner.operator_id, (await loadOperator(runtime, TENANT, owner.operator_id))!.state);
  const packages = new Map<string, PackageState>();
  for (const pkg of PACKAGES) packages.set(pkg.package_id, (await runtime.load(PackageAggregate, packageStream(pkg.package_id))).state);
  return { isp: operators.get(TENANT)!, operators, packages };
}

// ---------------------------------------------------------------------------------------------- customers

/** mulberry32: a small, fast, seeded generator; customer i always draws the same numbers. */
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
const seedOf = (i: number, purpose: number): number => Math.imul(i + 1, 0x9e3779b1) ^ Math.imul(purpose, 0x85ebca77);
const pickOf = <T>(values: readonly T[], random: () => number): T => values[Math.floor(random() * values.length)]!;

function cumulative(weights: readonly number[]): number[] {
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  let running = 0;
  return weights.map((weight) => (running += weight / total));
}
const OWNER_CUMULATIVE = cumulative(OWNERS.map((owner) => owner.weight));
const PACKAGE_CUMULATIVE = cumulative(PACKAGES.map((pkg) => pkg.weight));
const pickWeighted = (cumulativeWeights: readonly number[], roll: number): number => {
  const index = cumulativeWeights.findIndex((bound) => roll < bound);
  return index === -1 ? cumulativeWeights.length - 1 : index;
};

export const customerId = (i: number): string => `c${String(i).padStart(7, '0')}`;
const hex2 = (value: number): string => (value & 255).toString(16).toUpperCase().padStart(2, '0');
export const macOf = (i: number): string => `02:1A:${hex2(i >>> 24)}:${hex2(i >>> 16)}:${hex2(i >>> 8)}:${hex2(i)}`;

export type CustomerPlan = Readonly<{ command: RegisterCustomer; now: Date; owner: Owner; actor: Actor }>;

/** Customer i's registration: who owns it, how it connects, what it buys, when it signed up. */
export function customerPlan(i: number, customers: number): CustomerPlan {
  const random = seeded(seedOf(i, 1));
  const owner = OWNERS[pickWeighted(OWNER_CUMULATIVE, random())]!;
  const kindRoll = random();
  const connection_type: ConnectionType = kindRoll < 0.8 ? 'pppoe' : kindRoll < 0.95 ? 'hotspot' : 'static_ip';
  const profileRoll = random();
  const profile: BillingProfile =
    profileRoll < 0.85
      ? { kind: 'daily' }
      : profileRoll < 0.95
        ? { kind: 'monthly', due_day: 1, mode: 'postpaid', grace_days: 7 }
        : { kind: 'monthly', due_day: 1, mode: 'prepaid', grace_days: 5 };
  const pkg = PACKAGES[pickWeighted(PACKAGE_CUMULATIVE, random())]!;
  const first = pickOf(FIRST_NAMES, random);
  const middle = pickOf(MIDDLE_NAMES, random);
  const last = pickOf(LAST_NAMES, random);
  const name = [middle, first, last].filter((part) => part !== '').join(' ');
  const mobile = `01${3 + Math.floor(random() * 7)}${String(Math.floor(random() * 100_000_000)).padStart(8, '0')}`;
  const zone = pickOf(ZONES, random);
  const hotspotLogin = random() < 0.4;
  const login = `${first.toLowerCase()}.${i.toString(36)}`;
  const password = `pw${Math.floor(random() * 1e9).toString(36)}`;
  const credentials =
    connection_type === 'pppoe'
      ? { username: login, password, mac: null, static_ip: null }
      : connection_type === 'hotspot'
        ? { username: hotspotLogin ? login : null, password: hotspotLogin ? password : null, mac: macOf(i), static_ip: null }
        : { username: null, password: null, mac: null, static_ip: `10.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}` };
  const now = new Date(REGISTRATION_FROM_MS + Math.floor(((REGISTRATION_UNTIL_MS - REGISTRATION_FROM_MS) * i) / Math.max(1, customers)) + Math.floor(random() * 3_600_000));
  const self_registered = connection_type === 'hotspot' && random() < 0.5;
  const actor: Actor = self_registered ? { id: `customer:${customerId(i)}`, role: 'customer' } : staffActor(owner);
  return {
    command: { customer_id: customerId(i), operator_id: owner.operator_id, connection_type, name, mobile, zone, ...credentials, package_id: pkg.package_id, profile, special_price: null, self_registered },
    now,
    owner,
    actor,
  };
}

const staffActor = (owner: Owner): Actor => ({ id: `${owner.operator_id}-cashier`, role: 'manager' });

/** One command's worth of events for one stream, with the command's metadata. */
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

function accepted<Event>(decision: Decision<Event>, what: string): readonly Event[] {
  if (!decision.ok) throw new Error(`${what} refused: ${decision.rejection.code}: ${decision.rejection.message}`);
  return decision.events;
}

type Registration = Readonly<{ plan: CustomerPlan; events: readonly CustomerEvent[]; state: CustomerState }>;

function register(i: number, customers: number, isp: BenchIsp): Registration {
  const plan = customerPlan(i, customers);
  const context: CommandContext = { tenant: TENANT, actor: plan.actor, now: plan.now };
  const events = accepted(
    decideRegisterCustomer(initialCustomerState(), plan.command, isp.operators.get(plan.owner.operator_id)!, isp.isp, isp.packages.get(plan.command.package_id)!, context),
    `registration of ${plan.command.customer_id}`,
  );
  let state = initialCustomerState();
  for (const event of events) state = evolveCustomer(state, event);
  return { plan, events, state };
}

function identifiersOf(command: RegisterCustomer): { kind: IdentifierKind; value: string }[] {
  const identifiers: { kind: IdentifierKind; value: string }[] = [];
  if (command.username !== null) identifiers.push({ kind: 'username', value: command.username });
  if (command.mac !== null) identifiers.push({ kind: 'mac', value: command.mac });
  if (command.static_ip !== null) identifiers.push({ kind: 'static_ip', value: command.static_ip });
  return identifiers;
}

/** What `registerCustomer` appends: the customer stream and one new reservation stream per identifier. */
function registrationAppends(registration: Registration): StreamAppend[] {
  const { plan, events } = registration;
  const base = { now: plan.now, actor: plan.actor, command: 'register-customer', command_id: randomUUID() };
  const appends: StreamAppend[] = [{ stream_id: customerStream(plan.command.customer_id), stream_state: 'no_stream', events: toNew({ ...base, stream_id: '', events }) }];
  for (const identifier of identifiersOf(plan.command)) {
    const reserved = accepted(decideReserve({ holder: null }, identifier.kind, identifier.value, plan.command.customer_id), 'reservation');
    appends.push({ stream_id: reservationStream(TENANT, identifier.kind, identifier.value), stream_state: 'no_stream', events: toNew({ ...base, stream_id: '', events: reserved }) });
  }
  return appends;
}

export type ActivityShares = Readonly<{
  /** Daily customers who recharged once in the activity window. */
  daily_recharge: number;
  /** Monthly postpaid customers who paid October's bill; of the rest, a third were locked for it. */
  postpaid_paid: number;
  /** Monthly prepaid customers who paid their first bill. */
  prepaid_paid: number;
  details_changed: number;
  suspended: number;
  disabled: number;
}>;

export const DEFAULT_ACTIVITY: ActivityShares = { daily_recharge: 0.2, postpaid_paid: 0.7, prepaid_paid: 0.6, details_changed: 0.02, suspended: 0.015, disabled: 0.005 };

/** A mutable view of the chain's wallets: payments are decided against the balances the log implies. */
type Wallets = Map<string, OperatorState>;

/** Customer i's activity after registration, decided command by command against its evolving state. */
function activity(i: number, registration: Registration, isp: BenchIsp, wallets: Wallets, shares: ActivityShares): Emitted[] {
  const random = seeded(seedOf(i, 2));
  const { plan } = registration;
  let state = registration.state;
  const emitted: Emitted[] = [];
  const stream_id = customerStream(plan.command.customer_id);
  const at = (): Date => new Date(ACTIVITY_FROM_MS + Math.floor(random() * (ACTIVITY_UNTIL_MS - ACTIVITY_FROM_MS)));
  const customerCommand = (command: string, actor: Actor, now: Date, events: readonly CustomerEvent[]): void => {
    if (events.length === 0) return;
    emitted.push({ stream_id, events, now, actor, command, command_id: randomUUID() });
    for (const event of events) state = evolveCustomer(state, event);
  };
  const pay = (now: Date, amount: string, recharge_package_id: string | null): void => {
    const online = random() < 0.4;
    const owner = plan.owner.operator_id;
    const command: ReceivePayment = {
      payment_id: randomUUID(),
      method: online ? 'online' : 'cash',
      amount,
      collected_by: online ? 'gateway' : `${owner}-cashier`,
      collector_operator_id: online ? TENANT : owner,
      gateway: online ? pickOf(['bkash', 'nagad', 'sslcommerz'], random) : null,
      gateway_reference: online ? `gw-${randomUUID()}` : null,
      card: null,
      recharge_package_id,
    };
    const actor: Actor = online ? { id: 'payment-gateway', role: 'system' } : staffActor(plan.owner);
    const chain = state.chain.map((operator_id) => wallets.get(operator_id)!);
    const pkg = isp.packages.get(recharge_package_id ?? state.package_id)!;
    const decision = decideReceivePayment(state, chain, pkg, command, { tenant: TENANT, actor, now });
    if (!decision.ok) throw new Error(`payment of ${plan.command.customer_id} refused: ${decision.rejection.code}: ${decision.rejection.message}`);
    const command_id = randomUUID();
    emitted.push({ stream_id, events: decision.outcome.customer, now, actor, command: 'receive-payment', command_id });
    for (const event of decision.outcome.customer) state = evolveCustomer(state, event);
    for (const operator of decision.outcome.operators) {
      emitted.push({ stream_id: operatorStream(operator.operator_id), events: operator.events, now, actor, command: 'receive-payment', command_id });
      let wallet = wallets.get(operator.operator_id)!;
      for (const event of operator.events as readonly OperatorEvent[]) wallet = evolveOperator(wallet, event);
      wallets.set(operator.operator_id, wallet);
    }
  };

  const profile = state.profile;
  if (profile.kind === 'daily') {
    if (random() < shares.daily_recharge) {
      const price = isp.packages.get(state.package_id)!.spec!.price;
      pay(at(), price, state.package_id);
    }
  } else if (profile.mode === 'postpaid') {
    const billed = new Date('2026-09-30T18:30:00Z'); // 00:30 on 1 October in Dhaka
    const system: Actor = { id: 'bill-run', role: 'system' };
    customerCommand('issue-monthly-bill', system, billed, accepted(decideIssueMonthlyBill(state, isp.packages.get(state.package_id)!, '2026-10', { tenant: TENANT, actor: system, now: billed }), 'bill'));
    const due = balanceDue(state);
    const roll = random();
    if (due.isPositive() && roll < shares.postpaid_paid) {
      pay(new Date(billed.getTime() + Math.floor(random() * 9 * 86_400_000)), due.toString(), null);
    } else if (due.isPositive() && roll < shares.postpaid_paid + (1 - shares.postpaid_paid) / 3) {
      const sweep = new Date('2026-10-10T19:00:00Z');
      customerCommand('lock-for-nonpayment', system, sweep, accepted(decideLockForNonpayment(state, { tenant: TENANT, actor: system, now: sweep }), 'lock'));
    }
  } else {
    const due = balanceDue(state);
    if (due.isPositive() && random() < shares.prepaid_paid) pay(new Date(plan.now.getTime() + Math.floor(random() * 3 * 86_400_000)), due.toString(), null);
  }
  const staff = staffActor(plan.owner);
  if (random() < shares.details_changed) {
    const mobile = `01${3 + Math.floor(random() * 7)}${String(Math.floor(random() * 100_000_000)).padStart(8, '0')}`;
    customerCommand('change-customer-details', staff, at(), accepted(decideChangeDetails(state, { name: state.name, mobile, zone: pickOf(ZONES, random) }), 'details'));
  }
  if (random() < shares.suspended) {
    const now = at();
    customerCommand('suspend-customer', staff, now, accepted(decideSuspend(state, pickOf(['router stolen', 'customer request: travelling', 'abuse report', 'unpaid installation fee'], random), { tenant: TENANT, actor: staff, now }), 'suspend'));
    if (random() < 0.3) {
      const later = new Date(now.getTime() + 3 * 86_400_000);
      customerCommand('resume-customer', staff, later, accepted(decideResume(state, { tenant: TENANT, actor: staff, now: later }), 'resume'));
    }
  }
  if (random() < shares.disabled) {
    const now = at();
    customerCommand('disable-customer', staff, now, accepted(decideDisable(state, 'moved out of the area', { tenant: TENANT, actor: staff, now }), 'disable'));
  }
  return emitted;
}

export type HistoryReport = Readonly<{
  customers: number;
  events: number;
  by_type: ReadonlyMap<string, number>;
  registration_seconds: number;
  activity_seconds: number;
}>;

export type HistoryOptions = Readonly<{
  customers: number;
  shares?: ActivityShares;
  /** Customers decided together; their streams are appended MAX_STREAMS_PER_APPEND per appendToStreams call. */
  batch_customers?: number;
  writers?: number;
  log: (line: string) => void;
}>;

/**
 * Appends the whole history: first every registration (customer and reservation streams, `no_stream`), then
 * every customer's activity (customer stream at its exact revision; wallets with `any`, since several batches
 * are in flight and each wallet event is decided against the balance the earlier ones left).
 */
export async function appendHistory(store: EventStore, isp: BenchIsp, options: HistoryOptions): Promise<HistoryReport> {
  const shares = options.shares ?? DEFAULT_ACTIVITY;
  const batch_customers = options.batch_customers ?? 250;
  const writers = options.writers ?? 3;
  const by_type = new Map<string, number>();
  let events = 0;
  const count = (appends: readonly StreamAppend[]): void => {
    for (const append of appends) {
      for (const event of append.events) by_type.set(event.type, (by_type.get(event.type) ?? 0) + 1);
      events += append.events.length;
    }
  };

  /** Runs `writers` append loops over batches made on demand (making one overlaps with the others' appends). */
  const pump = async (label: string, makeBatch: (from: number, until: number) => StreamAppend[]): Promise<number> => {
    const started = performance.now();
    let next = 0;
    let done = 0;
    let reported = 0;
    const eventsBefore = events;
    await Promise.all(
      Array.from({ length: writers }, async () => {
        while (next < options.customers) {
          const from = next;
          const until = Math.min(options.customers, from + batch_customers);
          next = until;
          const batch = makeBatch(from, until);
          count(batch);
          // appendToStreams takes at most MAX_STREAMS_PER_APPEND streams: one transaction per slice.
          for (let slice = 0; slice < batch.length; slice += MAX_STREAMS_PER_APPEND) await store.appendToStreams(batch.slice(slice, slice + MAX_STREAMS_PER_APPEND));
          done += until - from;
          if (done - reported >= 100_000 || done === options.customers) {
            reported = done;
            const seconds = (performance.now() - started) / 1000;
            options.log(`${label}: ${done.toLocaleString('en-US')} / ${options.customers.toLocaleString('en-US')} customers, ${(events - eventsBefore).toLocaleString('en-US')} events (${Math.round((events - eventsBefore) / seconds).toLocaleString('en-US')} events/s)`);
          }
        }
      }),
    );
    return (performance.now() - started) / 1000;
  };

  const registration_seconds = await pump('registrations', (from, until) => {
    const batch: StreamAppend[] = [];
    for (let i = from; i < until; i += 1) batch.push(...registrationAppends(register(i, options.customers, isp)));
    return batch;
  });

  const wallets: Wallets = new Map(isp.operators);
  const activity_seconds = await pump('activity', (from, until) => {
    const customerAppends: StreamAppend[] = [];
    const walletEvents = new Map<string, NewEvent[]>();
    for (let i = from; i < until; i += 1) {
      const registration = register(i, options.customers, isp);
      const emitted = activity(i, registration, isp, wallets, shares);
      const own = emitted.filter((entry) => entry.stream_id === customerStream(registration.plan.command.customer_id));
      if (own.length > 0) customerAppends.push({ stream_id: own[0]!.stream_id, stream_state: BigInt(registration.events.length - 1), events: own.flatMap(toNew) });
      for (const entry of emitted) {
        if (entry.stream_id === own[0]?.stream_id) continue;
        let list = walletEvents.get(entry.stream_id);
        if (list === undefined) walletEvents.set(entry.stream_id, (list = []));
        list.push(...toNew(entry));
      }
    }
    return [...customerAppends, ...[...walletEvents].map(([stream_id, list]): StreamAppend => ({ stream_id, stream_state: 'any', events: list }))];
  });
  return { customers: options.customers, events, by_type, registration_seconds, activity_seconds };
}
