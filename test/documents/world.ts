import { randomUUID } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import * as zlib from 'node:zlib';
import { registerCustomer } from '../../commands/customer-commands.js';
import type { CommandRuntime } from '../../commands/command-runtime.js';
import { setIspProfile } from '../../commands/operator-commands.js';
import { issueMonthlyBill, receivePayment } from '../../commands/payment-commands.js';
import { PostgresEventStore } from '../../eventstore/postgres/postgres-event-store.js';
import { extendChain } from '../../eventstore/postgres/hash-chain.js';
import { ALL_PROJECTIONS } from '../../projections/index.js';
import { Projector } from '../../projections/projector.js';
import { waitForProjections } from '../../projections/status.js';
import { lastWritten } from '../projections/last-written.js';
import { buildScenario, type Scenario } from '../projections/scenario.js';
import { admin, ManualClock, ok, runtimeOn } from '../support/demo-isp.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/**
 * The documents' world: the projections' scenario month (test/projections/scenario.ts: every kind of customer,
 * each payment method, a refund, a card batch) with every read model projected, the ISP's profile set (a
 * Bengali address, a logo, a payment note), and a bill run for January 2027 over five monthly customers — one
 * of them with a Bengali name — paid in full, in part, online and not at all.
 */
export type DocumentsWorld = Readonly<{
  database: TestDatabase;
  runtime: CommandRuntime;
  clock: ManualClock;
  scenario: Scenario;
  projector: Projector;
  tenant: string;
  /** The January 2027 bill run's customers, by what happened to their bill. */
  run: Readonly<{ paid: string; partly: string; online: string; unpaid: string; bengali: string }>;
  bengali_name: string;
  logo_png: Buffer;
  settle: () => Promise<void>;
  close: () => Promise<void>;
}>;

export const BENGALI_NAME = 'রহিম উদ্দিন';
export const ISP_ADDRESS = 'House 12, Road 5, Dhanmondi, ঢাকা ১২০৫';

export async function buildDocumentsWorld(): Promise<DocumentsWorld> {
  const database = await createTestDatabase(10);
  const clock = new ManualClock(new Date('2026-11-16T06:00:00Z'));
  const runtime = runtimeOn(database.pool, clock);
  const scenario = await buildScenario(runtime, clock);
  const projector = new Projector(database.pool, new PostgresEventStore(database.pool, { poll_interval_ms: 20 }), ALL_PROJECTIONS, { poll_interval_ms: 20, retry_after_failure_ms: 100 });
  projector.start();
  const settle = async (): Promise<void> => {
    await waitForProjections(
      database.pool,
      ALL_PROJECTIONS.map((projection) => projection.name),
      await lastWritten(database.pool),
      { timeout_ms: 30_000 },
    );
    while ((await extendChain(database.pool)) > 0);
  };
  const envelope = admin(scenario.tenant);
  const logo_png = testLogo();
  ok(
    await setIspProfile(runtime, envelope, {
      operator_id: scenario.tenant,
      address: ISP_ADDRESS,
      phone: '+880 9612 000111',
      email: 'billing@demo-net.example',
      locale: null,
      logo: { media_type: 'image/png', data_base64: logo_png.toString('base64') },
      payment_note: 'bKash merchant 01700-000111 · Dutch-Bangla Bank A/C 123.456.789',
    }),
  );

  // Five monthly customers registered on 6 December (first-period bills), then January's bill run.
  const suffix = randomUUID().slice(0, 6);
  const monthly = async (name: string, key: string): Promise<string> =>
    ok(
      await registerCustomer(runtime, envelope, {
        customer_id: `cus-${key}-${suffix}`,
        operator_id: scenario.sub_reseller,
        connection_type: 'pppoe',
        name,
        mobile: '+8801711000099',
        zone: key === 'bengali' ? 'মিরপুর' : 'Mirpur',
        username: `${key}-${suffix}`,
        password: 'pw-monthly',
        mac: null,
        static_ip: null,
        package_id: scenario.package_id,
        profile: { kind: 'monthly', due_day: 1, mode: 'postpaid', grace_days: 5 },
        special_price: null,
        self_registered: false,
      }),
    ).customer_id;
  const run = {
    paid: await monthly('Abdul Karim', 'paid'),
    partly: await monthly('Fatema Begum', 'partly'),
    online: await monthly('Nusrat Jahan', 'online'),
    unpaid: await monthly('Sumon Ahmed', 'unpaid'),
    bengali: await monthly(BENGALI_NAME, 'bengali'),
  };
  clock.set('2027-01-02T04:00:00Z');
  for (const customer_id of [...Object.values(run), scenario.monthly]) ok(await issueMonthlyBill(runtime, envelope, { customer_id, period: '2027-01' as never }));
  const pay = async (customer_id: string, amount: string, method: 'cash' | 'online'): Promise<void> => {
    ok(
      await receivePayment(runtime, envelope, {
        customer_id,
        payment_id: `pay-${randomUUID().slice(0, 12)}`,
        method,
        amount,
        collected_by: method === 'cash' ? `${scenario.sub_reseller}-cashier` : 'gateway',
        collector_operator_id: method === 'cash' ? scenario.sub_reseller : scenario.tenant,
        gateway: method === 'cash' ? null : 'sslcommerz',
        gateway_reference: method === 'cash' ? null : `SSL-${randomUUID().slice(0, 8)}`,
        card: null,
        recharge_package_id: null,
      }),
    );
  };
  clock.set('2027-01-05T08:30:00Z');
  await pay(run.paid, '1000.00', 'cash');
  await pay(run.partly, '300.00', 'cash');
  await pay(run.online, '1000.00', 'online');
  await pay(run.bengali, '250.50', 'cash');
  await settle();
  return {
    database,
    runtime,
    clock,
    scenario,
    projector,
    tenant: scenario.tenant,
    run,
    bengali_name: BENGALI_NAME,
    logo_png,
    settle,
    close: async () => {
      await projector.stop();
      await database.close();
    },
  };
}

/** A 96×96 PNG: a blue disc with a white band, drawn pixel by pixel (no image library). */
export function testLogo(): Buffer {
  const size = 96;
  const raw = Buffer.alloc((size * 3 + 1) * size);
  for (let y = 0; y < size; y += 1) {
    raw[y * (size * 3 + 1)] = 0;
    for (let x = 0; x < size; x += 1) {
      const inside = (x - 47.5) ** 2 + (y - 47.5) ** 2 < 46 ** 2;
      const band = Math.abs(y - 48) < 9;
      const [r, g, b] = !inside ? [255, 255, 255] : band ? [255, 255, 255] : [11, 92, 173];
      const at = y * (size * 3 + 1) + 1 + x * 3;
      raw[at] = r;
      raw[at + 1] = g;
      raw[at + 2] = b;
    }
  }
  const chunk = (type: string, data: Buffer): Buffer => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(body) >>> 0);
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // truecolour
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}
