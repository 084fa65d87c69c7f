import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { createLogin } from '../../api/access/logins.js';
import { buildApp } from '../../api/app.js';
import { settingsFor } from '../../api/dependencies.js';
import type { Clock, CommandEnvelope, CommandRuntime } from '../../commands/command-runtime.js';
import { createPackage, disableCustomer, expireCustomer, registerCustomer, suspendCustomer } from '../../commands/customer-commands.js';
import { addStaff, assignPackage, createOperator, registerIsp, setCommissionTerms, topUpWallet } from '../../commands/operator-commands.js';
import { assignCards, generateCardBatch, receivePayment, refundPayment } from '../../commands/payment-commands.js';
import { registerRouter } from '../../commands/router-commands.js';
import type { RegisterCustomer } from '../../domain/customers/registration.js';
import type { PackageSpec } from '../../domain/packages/package.js';
import { PostgresEventStore } from '../../eventstore/postgres/postgres-event-store.js';
import { ALL_PROJECTIONS } from '../../projections/index.js';
import { Projector } from '../../projections/projector.js';
import { waitForProjections } from '../../projections/status.js';
import { RouterAgent } from '../../router-agent/agent.js';
import { AesGcmSecretBox } from '../../router-agent/credentials.js';
import { lastWritten } from '../projections/last-written.js';
import { agentOptions } from '../routeros/agent-harness.js';
import { RouterOsTestServer } from '../routeros/routeros-test-server.js';
import { ok, runtimeOn } from '../support/demo-isp.js';
import { freePort } from '../support/free-port.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/**
 * A running IspBills for the panels' browser tests, on a port of its own (passkeys are bound to the origin
 * http://localhost:<port>), with a history that looks like a small ISP's last year: Dhaka Fiber Net with a
 * reseller (Mirpur Link), its sub-reseller (Pallabi Net) and a sibling reseller (Uttara Connect); daily PPPoE,
 * hotspot, static-IP and monthly customers registered over the last weeks; recharges and payments every day
 * (some customers paying for ten months, so the monthly chart has a year), a refund, suspensions, a card batch,
 * a router with customers online (RADIUS accounting rows), and a second ISP whose data must never show.
 *
 * Everything is written by the real commands; time moves by a clock that runs at the wall's pace with an offset,
 * so history lands on past days and the pages' "today" is today. A router-agent runs against a RouterOS API test
 * server, so the one-click setup and reconciliation the pages start are carried out for real.
 */
export const PASSWORD = 'panel test password 2026';
export const ISP = 'dhaka-fiber';
export const RESELLER = 'mirpur-link';
export const SUB_RESELLER = 'pallabi-net';
export const SIBLING = 'uttara-connect';
export const OTHER_ISP = 'ctg-net';

export const LOGINS = {
  admin: 'admin@dhaka-fiber',
  reseller: 'owner@mirpur-link',
  sub_reseller: 'owner@pallabi-net',
  sibling: 'owner@uttara-connect',
  manager: 'desk@mirpur-link',
  accountant: 'books@dhaka-fiber',
  auditor: 'audit@dhaka-fiber',
  card_distributor: 'cards@mirpur-link',
  other_admin: 'admin@ctg-net',
} as const;
export type Role = keyof typeof LOGINS;

/** A clock at the wall's pace, moved back to write history on past days. */
export class TravelClock implements Clock {
  offset_ms = 0;
  now = (): Date => new Date(Date.now() + this.offset_ms);
  daysAgo(days: number, hour = 11): void {
    const target = new Date();
    target.setUTCDate(target.getUTCDate() - days);
    target.setUTCHours(hour - 6, 0, 0, 0); // hours of Dhaka (UTC+6)
    this.offset_ms = target.getTime() - Date.now();
  }
  present(): void {
    this.offset_ms = 0;
  }
}

export type PanelWorld = Readonly<{
  baseURL: string;
  app: FastifyInstance;
  database: TestDatabase;
  runtime: CommandRuntime;
  clock: TravelClock;
  routeros: RouterOsTestServer;
  /** Names that must never appear to someone outside their subtree. */
  names: Readonly<{ sibling_customer: string; sub_customer: string; foreign_customer: string; isp_customer: string; reseller_customer: string }>;
  /** Cards of the world's batch held by Mirpur Link's card distributor, with the PINs printed on them. */
  cards: readonly Readonly<{ batch_id: string; serial: string; pin: string }>[];
  ids: Readonly<{ sub_customer: string; sibling_customer: string; isp_customer: string; reseller_customer: string; monthly_customer: string; monthlies: readonly string[]; batch: string; router: string; paid_customer_payment: string }>;
  settle: () => Promise<void>;
  eventCount: () => Promise<number>;
  close: () => Promise<void>;
}>;

const PACKAGES: readonly (PackageSpec & { package_id: string })[] = [
  { package_id: 'home-10m', name: 'Home 10 Mbps', down_kbps: 10_000, up_kbps: 2_000, burst: null, price: '500.00', validity_days: 30, ip_pool: 'pool-home', data_quota_mb: null },
  { package_id: 'home-20m', name: 'Home 20 Mbps', down_kbps: 20_000, up_kbps: 5_000, burst: null, price: '800.00', validity_days: 30, ip_pool: 'pool-home', data_quota_mb: null },
  { package_id: 'office-50m', name: 'Office 50 Mbps', down_kbps: 50_000, up_kbps: 20_000, burst: null, price: '2500.00', validity_days: 30, ip_pool: 'pool-office', data_quota_mb: null },
  { package_id: 'hotspot-day', name: 'Hotspot 1 day', down_kbps: 5_000, up_kbps: 1_000, burst: null, price: '30.00', validity_days: 1, ip_pool: 'pool-hotspot', data_quota_mb: 2_048 },
];

const NAMES = [
  'Rahim Uddin', 'Karim Hossain', 'Nasrin Akter', 'Fatema Begum', 'Jamal Ahmed', 'Shirin Sultana', 'Abdul Kader', 'Rokeya Khatun', 'Mizanur Rahman', 'Taslima Nasreen',
  'Habibur Rahman', 'Sharmin Jahan', 'Anwar Hossain', 'Nusrat Jahan', 'Kamal Uddin', 'Moushumi Das', 'Tanvir Islam', 'Farzana Haque', 'Rafiqul Islam', 'Sabina Yasmin',
  'Arif Chowdhury', 'Lipi Akter', 'Shafiqul Alam', 'Ruma Khan', 'Jahangir Alam', 'Parvin Sultana', 'Masud Rana', 'Shamima Nasrin', 'Imran Hossain', 'Dilruba Yasmin',
  'Sohel Rana', 'Ayesha Siddiqua', 'Nazmul Huda', 'Rehana Parvin', 'Faruk Ahmed', 'Mahmuda Khatun',
];

type Seat = Readonly<{ operator_id: string; zone: string; collector: string; method: 'cash' | 'reseller_wallet' }>;
const SEATS: Readonly<Record<string, Seat>> = {
  [ISP]: { operator_id: ISP, zone: 'Dhanmondi', collector: `${ISP}-cashier`, method: 'cash' },
  [RESELLER]: { operator_id: RESELLER, zone: 'Mirpur', collector: RESELLER, method: 'reseller_wallet' },
  [SUB_RESELLER]: { operator_id: SUB_RESELLER, zone: 'Pallabi', collector: SUB_RESELLER, method: 'reseller_wallet' },
  [SIBLING]: { operator_id: SIBLING, zone: 'Uttara', collector: SIBLING, method: 'reseller_wallet' },
};

export async function startPanelWorld(): Promise<PanelWorld> {
  const database = await createTestDatabase(20);
  const clock = new TravelClock();
  const runtime = runtimeOn(database.pool, clock);
  const store = new PostgresEventStore(database.pool, { poll_interval_ms: 10 });
  const projector = new Projector(database.pool, store, ALL_PROJECTIONS, { poll_interval_ms: 10, retry_after_failure_ms: 200 });
  projector.start();
  const secrets = new AesGcmSecretBox(randomBytes(32));
  const agent = new RouterAgent(database.pool, store, agentOptions(secrets));
  await agent.start();
  const routeros = await new RouterOsTestServer({ interfaces: ['ether1', 'ether2', 'ether3'], identity: 'core-dhanmondi' }).start();
  const settle = async (): Promise<void> => {
    await waitForProjections(database.pool, ALL_PROJECTIONS.map((projection) => projection.name), await lastWritten(database.pool), { timeout_ms: 30_000 });
  };

  const as = (tenant: string, id: string, role: CommandEnvelope['actor']['role'] = 'admin'): CommandEnvelope => ({ tenant, actor: { id, role } });
  const admin = as(ISP, `${ISP}-admin`);

  // --- the ISP and its partners, a year ago ---------------------------------------------------------------------
  clock.daysAgo(330);
  ok(await registerIsp(runtime, admin, { operator_id: ISP, name: 'Dhaka Fiber Net', currency: 'BDT', time_zone: 'Asia/Dhaka', address: 'House 12, Road 5, Dhanmondi, Dhaka' }));
  for (const spec of PACKAGES) ok(await createPackage(runtime, admin, spec));
  ok(await createOperator(runtime, admin, { operator_id: RESELLER, parent_id: ISP, role: 'reseller', name: 'Mirpur Link', billing_mode: 'prepaid', credit_limit: '0' }));
  ok(await createOperator(runtime, admin, { operator_id: SUB_RESELLER, parent_id: RESELLER, role: 'sub_reseller', name: 'Pallabi Net', billing_mode: 'postpaid', credit_limit: '5000' }));
  ok(await createOperator(runtime, admin, { operator_id: SIBLING, parent_id: ISP, role: 'reseller', name: 'Uttara Connect', billing_mode: 'prepaid', credit_limit: '0' }));
  for (const [operator_id, percent] of [[RESELLER, '60'], [SUB_RESELLER, '50'], [SIBLING, '55']] as const) {
    ok(await setCommissionTerms(runtime, admin, { operator_id, effective_from: '2020-01-01', terms: { kind: 'share', percent } }));
  }
  for (const [operator_id, prices] of [
    [RESELLER, { 'home-10m': '300.00', 'home-20m': '480.00', 'hotspot-day': '18.00' }],
    [SUB_RESELLER, { 'home-10m': '400.00', 'home-20m': '640.00' }],
    [SIBLING, { 'home-10m': '320.00', 'home-20m': '500.00' }],
  ] as const) {
    for (const [package_id, wholesale_price] of Object.entries(prices)) ok(await assignPackage(runtime, admin, { operator_id, package_id, wholesale_price, effective_from: '2020-01-01' }));
  }
  for (const operator_id of [RESELLER, SIBLING]) ok(await topUpWallet(runtime, admin, { operator_id, amount: '60000.00', method: 'bank', reference: `opening ${operator_id}` }));
  ok(await topUpWallet(runtime, as(ISP, RESELLER, 'reseller'), { operator_id: SUB_RESELLER, amount: '20000.00', method: 'cash', reference: 'opening' }));

  // --- another ISP on the same deployment ------------------------------------------------------------------------
  const otherAdmin = as(OTHER_ISP, `${OTHER_ISP}-admin`);
  ok(await registerIsp(runtime, otherAdmin, { operator_id: OTHER_ISP, name: 'Chattogram Net', currency: 'BDT', time_zone: 'Asia/Dhaka', address: 'Agrabad, Chattogram' }));
  ok(await createPackage(runtime, otherAdmin, { ...PACKAGES[0]!, package_id: 'ctg-home' }));

  let serial = 0;
  const register = async (seat: Seat, name: string, overrides: Partial<RegisterCustomer> = {}, tenant = ISP): Promise<string> => {
    serial += 1;
    const customer_id = `${name.toLowerCase().replace(/[^a-z]+/g, '-')}-${serial}`;
    ok(
      await registerCustomer(runtime, as(tenant, `${tenant}-admin`), {
        customer_id,
        operator_id: seat.operator_id,
        connection_type: 'pppoe',
        name,
        mobile: `+88017${String(11_000_000 + serial * 7919).padStart(8, '0')}`,
        zone: seat.zone,
        username: customer_id,
        password: 'pppoe-secret',
        mac: null,
        static_ip: null,
        package_id: 'home-10m',
        profile: { kind: 'daily' },
        special_price: null,
        self_registered: false,
        ...overrides,
      }),
    );
    return customer_id;
  };
  let payments = 0;
  const pay = async (seat: Seat, customer_id: string, package_id: string, amount: string, tenant = ISP): Promise<string> => {
    payments += 1;
    const payment_id = `pay-${payments}`;
    ok(
      await receivePayment(runtime, as(tenant, seat.collector, seat.operator_id === tenant ? 'admin' : 'reseller'), {
        customer_id,
        payment_id,
        method: seat.method,
        amount,
        collected_by: seat.collector,
        collector_operator_id: seat.operator_id,
        gateway: null,
        gateway_reference: null,
        card: null,
        recharge_package_id: package_id,
      }),
    );
    return payment_id;
  };

  // Long-standing customers of the ISP, paying every month: a year of revenue for the monthly chart.
  const regulars: string[] = [];
  for (const name of NAMES.slice(30, 36)) regulars.push(await register(SEATS[ISP]!, name, { package_id: 'home-20m', zone: 'Dhanmondi' }));
  for (let month = 10; month >= 1; month -= 1) {
    clock.daysAgo(month * 30 + 5);
    for (const [index, customer_id] of regulars.entries()) if ((index + month) % 4 !== 0) await pay(SEATS[ISP]!, customer_id, 'home-20m', '800.00');
  }
  // Monthly customers of last month: this month's bill run has their bills to issue.
  clock.daysAgo(40);
  const monthlies: string[] = [];
  for (const [name, mode] of [['Green Valley School', 'prepaid'], ['Rupali Traders', 'prepaid'], ['Padma Pharmacy', 'postpaid']] as const) {
    monthlies.push(await register(SEATS[ISP]!, name, { package_id: 'office-50m', zone: 'Gulshan', profile: { kind: 'monthly', due_day: 1, mode, grace_days: 7 } }));
  }
  await register({ operator_id: OTHER_ISP, zone: 'Agrabad', collector: `${OTHER_ISP}-admin`, method: 'cash' }, 'Faruk Chowdhury', { package_id: 'ctg-home' }, OTHER_ISP);

  // New customers over the last four weeks, each recharged on the day it joined, and more recharges every day.
  const seats = [SEATS[ISP]!, SEATS[RESELLER]!, SEATS[SUB_RESELLER]!, SEATS[SIBLING]!];
  const daily: { customer_id: string; seat: Seat; package_id: string; price: string }[] = [];
  for (const [index, name] of NAMES.slice(0, 28).entries()) {
    clock.daysAgo(28 - index, 10 + (index % 8));
    const seat = seats[index % 4]!;
    const fast = index % 3 === 0 && seat.operator_id !== SIBLING;
    const package_id = fast ? 'home-20m' : 'home-10m';
    const price = fast ? '800.00' : '500.00';
    const customer_id = await register(seat, name, { package_id });
    daily.push({ customer_id, seat, package_id, price });
    await pay(seat, customer_id, package_id, price);
  }
  for (let day = 24; day >= 0; day -= 1) {
    clock.daysAgo(day, 13);
    for (const [index, customer] of daily.entries()) if ((index * 7 + day) % 11 === 0 && index < 28 - day) await pay(customer.seat, customer.customer_id, customer.package_id, customer.price);
  }

  // Hotspot devices, a static-IP office and monthly customers of the ISP.
  clock.daysAgo(6);
  const hotspot = await register(SEATS[RESELLER]!, NAMES[28]!, { connection_type: 'hotspot', username: null, password: null, mac: 'AA:BB:CC:00:10:01', package_id: 'hotspot-day' });
  await pay(SEATS[RESELLER]!, hotspot, 'hotspot-day', '30.00');
  await register(SEATS[ISP]!, 'Acme Trading Ltd', { connection_type: 'static_ip', username: null, password: null, static_ip: '203.0.113.10', package_id: 'office-50m', zone: 'Motijheel', profile: { kind: 'monthly', due_day: 1, mode: 'postpaid', grace_days: 7 } });
  const monthly = await register(SEATS[ISP]!, NAMES[29]!, { package_id: 'home-20m', profile: { kind: 'monthly', due_day: 1, mode: 'prepaid', grace_days: 5 } });

  // What goes wrong in a month: two suspensions, an account closed, expiries, a refund.
  clock.daysAgo(3, 15);
  ok(await suspendCustomer(runtime, admin, { customer_id: daily[4]!.customer_id, reason: 'unpaid since last month' }));
  ok(await suspendCustomer(runtime, as(ISP, RESELLER, 'reseller'), { customer_id: daily[9]!.customer_id, reason: 'abuse report from upstream' }));
  ok(await disableCustomer(runtime, admin, { customer_id: regulars[5]!, reason: 'moved to Chattogram' }));
  const refundable = await pay(SEATS[ISP]!, regulars[0]!, 'home-20m', '800.00');
  ok(await refundPayment(runtime, admin, { customer_id: regulars[0]!, refund_id: 'ref-1', payment_id: refundable, amount: '800.00', reason: 'charged twice at the counter', by: `${ISP}-admin` }));
  // The scheduler's expiry sweep, as it would have run: whoever's validity ended is expired.
  clock.present();
  for (const customer_id of [...regulars, ...daily.map((customer) => customer.customer_id)]) {
    const result = await expireCustomer(runtime, admin, { customer_id });
    if (!result.ok && result.rejection.code !== 'CUSTOMER_NOT_EXPIRED') throw new Error(`expire ${customer_id}: ${result.rejection.code}`);
  }

  // Staff, cards and a router with people online.
  for (const [staff_id, operator_id, role, name, permissions] of [
    ['desk-mirpur', RESELLER, 'manager', 'Sadia Rahman', ['customers.read', 'customers.write', 'customers.recharge', 'payments.collect', 'packages.read']],
    ['books-isp', ISP, 'accountant', 'Mahbub Alam', []],
    ['audit-isp', ISP, 'auditor', 'Nilufar Yasmin', []],
    ['cards-mirpur', RESELLER, 'card_distributor', 'Babul Mia', []],
  ] as const) {
    ok(await addStaff(runtime, admin, { staff_id, operator_id, role, name, permissions: [...permissions] } as never));
  }
  const pins = Array.from({ length: 40 }, (_, index) => `${String(48_213_007 + index * 104_729).padStart(8, '0')}${String(71_000_003 + index * 7_919).padStart(8, '0')}`);
  const batch = ok(await generateCardBatch(runtime, admin, { batch_id: 'batch-2026-11', count: 40, value: '500.00', package_id: 'home-10m', expires_on: '2027-12-31', first_serial: 1001 }, () => pins.shift()!));
  ok(await assignCards(runtime, admin, { batch_id: batch.batch_id, serials: batch.cards.slice(0, 10).map((card) => card.serial), to_operator_id: RESELLER, to_staff_id: 'cards-mirpur' }));
  ok(await registerRouter(runtime, admin, { router_id: 'core-dhanmondi', name: 'Core Dhanmondi', nas_ip: '10.20.0.1', secret: 'a-long-radius-secret', description: 'Rack 1, Dhanmondi POP' }));
  await settle();
  for (const [index, customer] of daily.slice(0, 14).entries()) {
    if (index === 4 || index === 9) continue;
    await database.pool.query(
      `INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, acctstarttime, acctupdatetime, framedipaddress, callingstationid, acctinputoctets, acctoutputoctets, nasporttype)
       VALUES ($1, md5($1), $2, '10.20.0.1', now() - make_interval(mins => $3), now(), $4, $5, $6, $7, 'Virtual')`,
      [`81f0000${index}`, customer.customer_id, 15 + index * 37, `100.64.1.${10 + index}`, `AA:BB:CC:11:22:${String(10 + index)}`, 40_000_000 + index * 9_000_000, 900_000_000 + index * 310_000_000],
    );
  }
  await database.pool.query(
    `INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, acctstarttime, acctupdatetime, acctstoptime, acctsessiontime, framedipaddress, acctinputoctets, acctoutputoctets, acctterminatecause)
     VALUES ('81e00001', md5('81e00001'), $1, '10.20.0.1', now() - interval '2 days', now() - interval '1 day', now() - interval '1 day', 86400, '100.64.1.9', 120000000, 5400000000, 'User-Request')`,
    [daily[0]!.customer_id],
  );

  // Logins for every role.
  const principals: Record<Role, { tenant: string; kind: 'operator' | 'staff'; id: string }> = {
    admin: { tenant: ISP, kind: 'operator', id: ISP },
    reseller: { tenant: ISP, kind: 'operator', id: RESELLER },
    sub_reseller: { tenant: ISP, kind: 'operator', id: SUB_RESELLER },
    sibling: { tenant: ISP, kind: 'operator', id: SIBLING },
    manager: { tenant: ISP, kind: 'staff', id: 'desk-mirpur' },
    accountant: { tenant: ISP, kind: 'staff', id: 'books-isp' },
    auditor: { tenant: ISP, kind: 'staff', id: 'audit-isp' },
    card_distributor: { tenant: ISP, kind: 'staff', id: 'cards-mirpur' },
    other_admin: { tenant: OTHER_ISP, kind: 'operator', id: OTHER_ISP },
  };
  for (const [role, principal] of Object.entries(principals) as [Role, (typeof principals)[Role]][]) {
    await createLogin(database.pool, clock, { tenant: principal.tenant, login: LOGINS[role], password: PASSWORD, principal_kind: principal.kind, principal_id: principal.id });
  }

  const port = await freePort();
  const baseURL = `http://localhost:${port}`;
  const app = await buildApp({ pool: database.pool, store, logger: pino({ level: 'silent' }), clock, runtime, settings: settingsFor(baseURL), router_secrets: secrets });
  await app.listen({ host: 'localhost', port });

  const sub = daily.find((customer) => customer.seat.operator_id === SUB_RESELLER)!;
  const sibling = daily.find((customer) => customer.seat.operator_id === SIBLING)!;
  const direct = daily.find((customer) => customer.seat.operator_id === ISP)!;
  const reseller = daily.find((customer) => customer.seat.operator_id === RESELLER)!;
  const nameOf = (customer_id: string): string => NAMES.find((name) => customer_id.startsWith(name.toLowerCase().replace(/[^a-z]+/g, '-')))!;
  return {
    baseURL,
    app,
    database,
    runtime,
    clock,
    routeros,
    cards: batch.cards.slice(0, 10).map((card) => ({ batch_id: batch.batch_id, serial: card.serial, pin: card.pin })),
    names: { sibling_customer: nameOf(sibling.customer_id), sub_customer: nameOf(sub.customer_id), foreign_customer: 'Faruk Chowdhury', isp_customer: nameOf(direct.customer_id), reseller_customer: nameOf(reseller.customer_id) },
    ids: { sub_customer: sub.customer_id, sibling_customer: sibling.customer_id, isp_customer: direct.customer_id, reseller_customer: reseller.customer_id, monthly_customer: monthly, monthlies, batch: batch.batch_id, router: 'core-dhanmondi', paid_customer_payment: refundable },
    settle,
    eventCount: async () => Number((await database.pool.query<{ n: string }>('SELECT count(*) AS n FROM events')).rows[0]!.n),
    close: async () => {
      await app.close();
      await agent.stop();
      await routeros.stop();
      await projector.stop();
      await database.close();
    },
  };
}
