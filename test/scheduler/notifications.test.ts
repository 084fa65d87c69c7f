import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CustomerAggregate } from '../../commands/aggregates.js';
import { recordUsage } from '../../commands/usage-commands.js';
import { customerStream } from '../../commands/streams.js';
import { createPackage } from '../../commands/customer-commands.js';
import { NotificationDispatcher } from '../../notifications/dispatcher.js';
import { enqueueNotifications, type QueuedNotification } from '../../notifications/outbox.js';
import { HttpProvider } from '../../notifications/providers.js';
import { waitForProjections } from '../../projections/status.js';
import { lastCommitted } from '../../scheduler/scheduler.js';
import { admin, ok } from '../support/demo-isp.js';
import { addCustomer, createIsp, DAILY_7, logger, pay, startHarness, type Harness, type TestIsp } from './harness.js';

/**
 * Delivery: retries with backoff until the gateway takes the message, a refusal that is final, an SMTP server
 * that rejects the mailbox, the per-provider throttle, the dedupe key, and each outcome on the timeline. And the
 * data quota: usage from RADIUS session stops locks a hotspot customer when it reaches the package's quota.
 */
let harness: Harness;
let isp: TestIsp;
let customer: string;

beforeAll(async () => {
  harness = await startHarness('2026-05-01T06:00:00Z');
  isp = await createIsp(harness.runtime, 'Asia/Dhaka', 'BDT', 'notify');
  customer = await addCustomer(harness.runtime, isp, 'c1', { kind: 'daily' });
}, 120_000);

afterAll(async () => {
  await harness?.close();
});

let sequence = 0;
const message = (overrides: Partial<QueuedNotification> = {}): QueuedNotification => {
  sequence += 1;
  return {
    dedupe_key: `expiry-reminder:${customer}@${sequence}:sms`,
    tenant: isp.tenant,
    customer_id: customer,
    kind: 'expiry-reminder',
    subject_ref: `${customer}@${sequence}`,
    channel: 'sms',
    language: 'en',
    provider: 'http-sms',
    recipient: '+8801700000001',
    subject: null,
    body: `message ${sequence}`,
    not_before: harness.clock.now(),
    ...overrides,
  };
};
const advance = (ms: number): void => harness.clock.set(new Date(harness.clock.now().getTime() + ms));
const rows = async <Row>(text: string, values: unknown[] = []): Promise<Row[]> => (await harness.database.pool.query(text, values)).rows as Row[];

describe('notification delivery', () => {
  it('retries a failing gateway with growing delays and delivers once', async () => {
    const queued = message();
    expect(await enqueueNotifications(harness.database.pool, [queued, { ...queued }], harness.clock.now())).toBe(1);
    harness.sms.fail_next.push(500, 503);
    expect(await harness.dispatcher.runOnce()).toMatchObject({ sent: 0, retried: 1 });
    // Not due again before the first delay (60 s in the harness) has passed.
    advance(59_000);
    expect(await harness.dispatcher.runOnce()).toMatchObject({ sent: 0, retried: 0 });
    advance(2_000);
    expect(await harness.dispatcher.runOnce()).toMatchObject({ sent: 0, retried: 1 });
    advance(119_000);
    expect(await harness.dispatcher.runOnce()).toMatchObject({ sent: 0, retried: 0 });
    advance(2_000);
    expect(await harness.dispatcher.runOnce()).toMatchObject({ sent: 1 });
    expect(harness.sms.received.filter((sms) => sms.text === queued.body)).toHaveLength(1);
    const [row] = await rows<{ state: string; attempts: number; provider_message_id: string }>(`SELECT state, attempts, provider_message_id FROM notification_outbox WHERE dedupe_key = $1`, [queued.dedupe_key]);
    expect(row).toMatchObject({ state: 'sent', attempts: 3 });
    expect(row!.provider_message_id).toMatch(/^sms-\d+$/);
  });

  it('gives up at once on a refusal, and says so on the timeline', async () => {
    const queued = message({ recipient: '+88000' });
    await enqueueNotifications(harness.database.pool, [queued], harness.clock.now());
    harness.sms.fail_next.push(400);
    expect(await harness.dispatcher.runOnce()).toMatchObject({ failed: 1, retried: 0 });
    advance(3_600_000);
    expect(await harness.dispatcher.runOnce()).toMatchObject({ sent: 0, failed: 0 });
    await waitForProjections(harness.database.pool, ['customers'], await lastCommitted(harness.database.pool), { timeout_ms: 10_000 });
    const timeline = await rows<{ type: string; summary: string }>(`SELECT type, summary FROM customer_timeline WHERE customer_id = $1 AND type LIKE 'notification-%' ORDER BY global_position`, [customer]);
    expect(timeline.map((line) => line.type)).toEqual(['notification-sent', 'notification-failed']);
    expect(timeline[1]!.summary).toContain('failed after 1 attempts: http-sms: HTTP 400');
  });

  it('treats an SMTP 550 as final and delivers the next email', async () => {
    harness.smtp.reject_next = 1;
    const bad = message({ channel: 'email', provider: 'smtp', recipient: 'nobody@isp.test', subject: 'Hello', dedupe_key: `expiry-reminder:${customer}@mail1:email` });
    const good = message({ channel: 'email', provider: 'smtp', recipient: 'c1@isp.test', subject: 'Hello again', dedupe_key: `expiry-reminder:${customer}@mail2:email` });
    await enqueueNotifications(harness.database.pool, [bad], harness.clock.now());
    expect(await harness.dispatcher.runOnce()).toMatchObject({ failed: 1 });
    await enqueueNotifications(harness.database.pool, [good], harness.clock.now());
    expect(await harness.dispatcher.runOnce()).toMatchObject({ sent: 1 });
    expect(harness.smtp.messages.map((mail) => [mail.to, mail.headers.subject])).toEqual([[['c1@isp.test'], 'Hello again']]);
  });

  it('throttles each provider to its rate', async () => {
    const slow = new HttpProvider({ name: 'slow-sms', channel: 'sms', url_template: harness.sms.url_template, body_template: null, content_type: 'application/json', headers: {}, rate_per_second: 2 });
    const dispatcher = new NotificationDispatcher({ pool: harness.database.pool, store: harness.store, clock: harness.clock, providers: [slow], logger });
    await enqueueNotifications(harness.database.pool, Array.from({ length: 5 }, () => message({ provider: 'slow-sms' })), harness.clock.now());
    expect((await dispatcher.runOnce()).sent).toBe(2);
    expect((await dispatcher.runOnce()).sent).toBe(0);
    advance(500);
    expect((await dispatcher.runOnce()).sent).toBe(1);
    advance(1_000);
    expect((await dispatcher.runOnce()).sent).toBe(2);
  });

  it('sends a message again only when its sender died holding it (the lease ran out)', async () => {
    const queued = message();
    await enqueueNotifications(harness.database.pool, [queued], harness.clock.now());
    // A dispatcher claimed it and died: the row stays 'sending' under a lease.
    await harness.database.pool.query(`UPDATE notification_outbox SET state = 'sending', attempts = 1, lease_until = $2 WHERE dedupe_key = $1`, [queued.dedupe_key, new Date(harness.clock.now().getTime() + 120_000)]);
    expect((await harness.dispatcher.runOnce()).sent).toBe(0);
    advance(121_000);
    expect((await harness.dispatcher.runOnce()).sent).toBe(1);
    expect(harness.sms.received.filter((sms) => sms.text === queued.body)).toHaveLength(1);
  });
});

describe('hotspot data quota', () => {
  it('locks the customer when a session brings usage to the quota, once, and a recharge gives a fresh quota', async () => {
    const quota_package = `${isp.tenant}-hotspot`;
    ok(await createPackage(harness.runtime, admin(isp.tenant), { ...DAILY_7, name: 'Hotspot 1 GB', package_id: quota_package, data_quota_mb: 1_024 }));
    const hotspot = await addCustomer(harness.runtime, isp, 'hotspot', { kind: 'daily' });
    await pay(harness.runtime, isp, hotspot, '150.00', quota_package);
    const envelope = (session: string) => ({ tenant: isp.tenant, actor: { id: 'radius-bridge', role: 'system' as const }, idempotency_key: session });
    const session = (id: string, octets: string) => ({ customer_id: hotspot, session_id: id, input_octets: '0', output_octets: octets, started_at: '2026-05-01T06:00:00Z', stopped_at: harness.clock.now().toISOString() });
    advance(3_600_000);
    const first = ok(await recordUsage(harness.runtime, envelope('s1'), session('s1', String(600 * 1_048_576))));
    expect(first).toEqual({ recorded: true, period_octets: String(600 * 1_048_576), quota_reached: false });
    // The router resends the Stop: the same answer, nothing new.
    const repeat = await recordUsage(harness.runtime, envelope('s1'), session('s1', String(600 * 1_048_576)));
    expect(repeat.ok && repeat.replayed).toBe(true);
    const second = ok(await recordUsage(harness.runtime, envelope('s2'), session('s2', String(424 * 1_048_576))));
    expect(second.quota_reached).toBe(true);
    const third = ok(await recordUsage(harness.runtime, envelope('s3'), session('s3', '1000')));
    expect(third.quota_reached).toBe(false);
    const state = (await harness.runtime.load(CustomerAggregate, customerStream(hotspot))).state;
    expect(state.expired).toBe(true);
    const events = await rows<{ type: string }>(`SELECT type FROM events WHERE stream_id = $1 AND type IN ('data-quota-reached', 'customer-expired') ORDER BY global_position`, [customerStream(hotspot)]);
    expect(events.map((event) => event.type)).toEqual(['data-quota-reached', 'customer-expired']);
    // Bad input: a clear code, nothing appended.
    const before = (await rows<{ n: string }>(`SELECT count(*)::text AS n FROM events WHERE stream_id = $1`, [`usage-${hotspot}`]))[0]!.n;
    const bad = await recordUsage(harness.runtime, envelope('s4'), { ...session('s4', '-5') });
    expect(bad.ok ? null : bad.rejection.code).toBe('INVALID_INPUT');
    expect((await rows<{ n: string }>(`SELECT count(*)::text AS n FROM events WHERE stream_id = $1`, [`usage-${hotspot}`]))[0]!.n).toBe(before);
    // A recharge reactivates and starts a new usage period.
    await pay(harness.runtime, isp, hotspot, '150.00', quota_package);
    const fresh = ok(await recordUsage(harness.runtime, envelope('s5'), session('s5', '2048')));
    expect(fresh).toEqual({ recorded: true, period_octets: '2048', quota_reached: false });
    await waitForProjections(harness.database.pool, ['customers'], await lastCommitted(harness.database.pool), { timeout_ms: 10_000 });
    const timeline = await rows<{ summary: string }>(`SELECT summary FROM customer_timeline WHERE customer_id = $1 AND type = 'data-quota-reached'`, [hotspot]);
    expect(timeline[0]!.summary).toContain('Data quota of 1024 MB');
  });
});
