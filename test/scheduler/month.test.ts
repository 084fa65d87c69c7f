import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CustomerAggregate } from '../../commands/aggregates.js';
import { generateCardBatch } from '../../commands/payment-commands.js';
import { customerStream } from '../../commands/streams.js';
import { addDays, localDateOf } from '../../domain/calendar/local-date.js';
import { balanceDue } from '../../domain/customers/customer-evolve.js';
import { waitForProjections } from '../../projections/status.js';
import { lastCommitted } from '../../scheduler/scheduler.js';
import { instantAt } from '../../scheduler/settings.js';
import type { Scheduler } from '../../scheduler/scheduler.js';
import { admin, ok } from '../support/demo-isp.js';
import { addCustomer, createIsp, pay, startHarness, type Harness, type TestIsp } from './harness.js';

/**
 * A month and a bit (25 October to 2 December 2026) stepped tick by tick — 00:30 and 09:30 local time every day —
 * for two ISPs at once: one in Asia/Dhaka (no daylight saving) and one in America/New_York, whose clocks fall back
 * on 1 November, the very day its monthly bills are issued. Every bill, lock, expiry, card expiry and reminder
 * must happen exactly once, on the local day the rules give.
 */
let harness: Harness;
let scheduler: Scheduler;
const isps: Record<'dhaka' | 'newyork', TestIsp> = {} as never;
const customers: Record<'dhaka' | 'newyork', Record<string, string>> = { dhaka: {}, newyork: {} };
const batches: Record<'dhaka' | 'newyork', string> = { dhaka: '', newyork: '' };
const FIRST_DAY = '2026-10-25';
const LAST_DAY = '2026-12-02';

type Step = Readonly<{ at: Date; run: () => Promise<void> }>;

beforeAll(async () => {
  harness = await startHarness('2026-10-24T00:00:00Z');
  const { runtime, clock } = harness;
  scheduler = harness.newScheduler();
  isps.dhaka = await createIsp(runtime, 'Asia/Dhaka', 'BDT', 'dhaka');
  isps.newyork = await createIsp(runtime, 'America/New_York', 'USD', 'ny');

  const steps: Step[] = [];
  for (const key of ['dhaka', 'newyork'] as const) {
    const isp = isps[key];
    const at = (date: string, time: string) => instantAt(date, time, isp.time_zone);
    steps.push({
      at: at(FIRST_DAY, '12:00'),
      run: async () => {
        const c = customers[key];
        c.post1 = await addCustomer(runtime, isp, 'post1', { kind: 'monthly', due_day: 1, mode: 'postpaid', grace_days: 5 });
        c.post2 = await addCustomer(runtime, isp, 'post2', { kind: 'monthly', due_day: 1, mode: 'postpaid', grace_days: 5 });
        c.pre15 = await addCustomer(runtime, isp, 'pre15', { kind: 'monthly', due_day: 15, mode: 'prepaid', grace_days: 3 });
        await payBalance(isp, c.pre15);
        c.daily1 = await addCustomer(runtime, isp, 'daily1', { kind: 'daily' });
        await pay(runtime, isp, c.daily1, '150.00', isp.daily_package);
        c.daily2 = await addCustomer(runtime, isp, 'daily2', { kind: 'daily' }, { email: `daily2@${key}.test`, language: 'bn', channels: ['email'] });
        await pay(runtime, isp, c.daily2, '150.00', isp.daily_package);
        batches[key] = `${isp.tenant}-cards`;
        let pin = 4_000_000_000_000_000n;
        ok(await generateCardBatch(runtime, admin(isp.tenant), { batch_id: batches[key], count: 3, value: '100.00', package_id: null, expires_on: '2026-11-10', first_serial: 1 }, () => (pin++).toString()));
      },
    });
    // daily2 recharges early: its validity moves from 2 to 9 November, so its reminder and expiry move too.
    steps.push({ at: at('2026-10-30', '12:00'), run: () => pay(runtime, isp, customers[key].daily2!, '150.00', isp.daily_package) });
    // post2 pays its first bill before the due date: reminded, never locked.
    steps.push({ at: at('2026-11-04', '10:00'), run: () => payBalance(isp, customers[key].post2!) });
    for (let day = FIRST_DAY; day <= LAST_DAY; day = addDays(day, 1)) {
      for (const time of ['00:30', '09:30']) steps.push({ at: at(day, time), run: tick });
    }
  }
  steps.sort((a, b) => a.at.getTime() - b.at.getTime());
  for (const step of steps) {
    clock.set(step.at);
    await step.run();
  }
}, 600_000);

afterAll(async () => {
  await harness?.close();
});

async function payBalance(isp: TestIsp, customer_id: string): Promise<void> {
  const state = (await harness.runtime.load(CustomerAggregate, customerStream(customer_id))).state;
  await pay(harness.runtime, isp, customer_id, balanceDue(state).toString(), null);
}

async function tick(): Promise<void> {
  const report = await scheduler.runOnce();
  if (report === null) throw new Error('the only scheduler should lead');
  await harness.dispatcher.runOnce();
}

const rows = async <Row>(text: string, values: unknown[] = []): Promise<Row[]> => (await harness.database.pool.query(text, values)).rows as Row[];

/** Each customer's events of one type, as the local dates they happened on. */
async function eventDays(type: string, key: 'dhaka' | 'newyork'): Promise<Record<string, string[]>> {
  const found = await rows<{ stream_id: string; occurred_at: Date }>(`SELECT stream_id, occurred_at FROM events WHERE type = $1 AND metadata->>'tenant' = $2 ORDER BY global_position`, [type, isps[key].tenant]);
  const days: Record<string, string[]> = {};
  for (const row of found) {
    const name = row.stream_id.slice(`customer-${isps[key].tenant}-`.length);
    (days[name] ??= []).push(localDateOf(row.occurred_at, isps[key].time_zone));
  }
  return days;
}

describe.each(['dhaka', 'newyork'] as const)('a month of scheduler ticks in %s', (key) => {
  it('issues every monthly bill once, on its billing day', async () => {
    const bills = await rows<{ stream_id: string; issued_on: string; period: string }>(
      `SELECT stream_id, data->>'issued_on' AS issued_on, data->>'period' AS period FROM events WHERE type = 'bill-issued' AND metadata->>'tenant' = $1 ORDER BY global_position`,
      [isps[key].tenant],
    );
    const byCustomer: Record<string, string[]> = {};
    for (const bill of bills) (byCustomer[bill.stream_id.slice(`customer-${isps[key].tenant}-`.length)] ??= []).push(`${bill.issued_on} ${bill.period}`);
    expect(byCustomer).toEqual({
      post1: ['2026-11-01 2026-11', '2026-12-01 2026-12'],
      post2: ['2026-11-01 2026-11', '2026-12-01 2026-12'],
      // The first prepaid bill comes with the registration; the scheduler bills the next period on the 15th.
      pre15: ['2026-10-25 2026-10', '2026-11-15 2026-11'],
    });
    // The scheduler's bills were issued on those local days, not just dated so.
    expect((await eventDays('bill-issued', key)).post1).toEqual(['2026-11-01', '2026-12-01']);
  });

  it('locks unpaid customers once, the day after the due date; expires daily customers once, the day validity ends', async () => {
    expect(await eventDays('customer-locked', key)).toEqual({ post1: ['2026-11-07'], pre15: ['2026-11-19'] });
    const expired = await eventDays('customer-expired', key);
    expect({ daily1: expired.daily1, daily2: expired.daily2 }).toEqual({ daily1: ['2026-11-02'], daily2: ['2026-11-09'] });
  });

  it('expires the card batch once, the day after its expiry date', async () => {
    const expired = await rows<{ occurred_at: Date; data: { expired_on: string; unredeemed: number } }>(`SELECT occurred_at, data FROM events WHERE type = 'card-batch-expired' AND stream_id = $1`, [`card-batch-${batches[key]}`]);
    expect(expired.map((row) => [localDateOf(row.occurred_at, isps[key].time_zone), row.data.expired_on, row.data.unredeemed])).toEqual([['2026-11-11', '2026-11-11', 3]]);
  });

  it('queues each notice and reminder once, on the right local day, by the customer’s channel', async () => {
    const queued = await rows<{ customer_id: string; kind: string; channel: string; language: string; created_at: Date; state: string }>(
      `SELECT customer_id, kind, channel, language, created_at, state FROM notification_outbox WHERE tenant = $1 ORDER BY created_at, id`,
      [isps[key].tenant],
    );
    const seen = queued.map((row) => `${row.customer_id.slice(isps[key].tenant.length + 1)} ${row.kind} ${row.channel} ${localDateOf(row.created_at, isps[key].time_zone)}`).sort();
    expect(seen).toEqual(
      [
        'daily1 expiry-reminder sms 2026-10-31',
        'daily1 customer-expired sms 2026-11-02',
        'daily2 expiry-reminder email 2026-11-07',
        'daily2 customer-expired email 2026-11-09',
        'post1 bill-issued sms 2026-11-01',
        'post1 bill-due-reminder sms 2026-11-03',
        'post1 customer-locked sms 2026-11-07',
        'post1 bill-issued sms 2026-12-01',
        'post2 bill-issued sms 2026-11-01',
        'post2 bill-due-reminder sms 2026-11-03',
        'post2 bill-issued sms 2026-12-01',
        'pre15 bill-issued sms 2026-11-15',
        'pre15 bill-due-reminder sms 2026-11-15',
        'pre15 customer-locked sms 2026-11-19',
      ].sort(),
    );
    expect(queued.every((row) => row.state === 'sent')).toBe(true);
    expect(queued.filter((row) => row.channel === 'email').every((row) => row.language === 'bn')).toBe(true);
  });

  it('delivers every SMS to the HTTP endpoint and every email to the SMTP server exactly once', async () => {
    const sms = await rows<{ recipient: string; body: string }>(`SELECT recipient, body FROM notification_outbox WHERE tenant = $1 AND channel = 'sms'`, [isps[key].tenant]);
    const received = harness.sms.received.filter((message) => sms.some((row) => row.recipient === message.to));
    expect(received.map((message) => `${message.to}|${message.text}`).sort()).toEqual(sms.map((row) => `${row.recipient}|${row.body}`).sort());
    const mails = harness.smtp.messages.filter((message) => message.to.includes(`daily2@${key}.test`));
    expect(mails).toHaveLength(2);
    // Bengali, rendered from the bn templates, decoded from the wire.
    const isp_name = key === 'dhaka' ? 'DHAKA Net' : 'NY Net';
    expect(mails.map((mail) => mail.headers.subject).sort()).toEqual([`${isp_name}: প্যাকেজের মেয়াদ 2026-11-09 তারিখে শেষ`, `${isp_name}: প্যাকেজের মেয়াদ শেষ`].sort());
    expect(mails[0]!.text).toContain('প্রিয় Customer daily2');
  });

  it('records every run as planned and completed, one per job and local day, none held', async () => {
    const runs = await rows<{ job: string; local_date: string; status: string }>(
      `SELECT job, to_char(local_date, 'YYYY-MM-DD') AS local_date, status FROM scheduler_runs WHERE tenant = $1 ORDER BY job, local_date`,
      [isps[key].tenant],
    );
    expect(runs.filter((run) => run.status !== 'completed')).toEqual([]);
    // Every local day of the stepped range has each job's run (New York also had 24 October: its afternoon came
    // before Dhaka's first tick), and a run id names one job on one day, so none ran twice.
    for (const job of ['bill-run', 'card-expiry', 'expiry-sweep', 'grace-locks', 'reminders']) {
      const days = runs.filter((run) => run.job === job).map((run) => run.local_date);
      for (let day = FIRST_DAY; day <= LAST_DAY; day = addDays(day, 1)) expect(days).toContain(day);
      expect(new Set(days).size).toBe(days.length);
    }
    const events = await rows<{ type: string; n: string }>(`SELECT type, count(*)::text AS n FROM events WHERE stream_id LIKE $1 GROUP BY type ORDER BY type`, [`scheduler-run-${isps[key].tenant}.%`]);
    expect(events).toEqual([
      { type: 'scheduler-run-completed', n: String(runs.length) },
      { type: 'scheduler-run-planned', n: String(runs.length) },
    ]);
  });

  it("shows each delivery on the customer's timeline", async () => {
    await waitForProjections(harness.database.pool, ['customers'], await lastCommitted(harness.database.pool), { timeout_ms: 10_000 });
    const timeline = await rows<{ type: string; summary: string }>(`SELECT type, summary FROM customer_timeline WHERE customer_id = $1 ORDER BY global_position`, [customers[key].post1]);
    const sent = timeline.filter((line) => line.type === 'notification-sent');
    expect(sent.map((line) => line.summary.split(' ')[1])).toEqual(['bill-issued', 'bill-due-reminder', 'customer-locked', 'bill-issued']);
    expect(sent[0]!.summary).toMatch(/sent by sms to \+880\d+•+\d{3} via http-sms/);
    const locked = timeline.findIndex((line) => line.type === 'customer-locked');
    expect(timeline[locked + 1]?.type === 'notification-sent' || timeline.slice(locked).some((line) => line.summary.includes('customer-locked'))).toBe(true);
  });
});
