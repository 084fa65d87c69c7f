import { randomInt, randomUUID } from 'node:crypto';
import type { EventMetadata, NewEvent } from '../../eventstore/event-store.js';
import type { JsonObject } from '../../eventstore/json.js';

const TENANTS = ['isp-dhaka-north', 'isp-chattogram', 'isp-sylhet-fiber'] as const;
const ROLES = ['cashier', 'operator', 'reseller', 'system'] as const;
const PACKAGES = ['home-20mbps', 'home-50mbps', 'business-100mbps', 'night-owl-30mbps'] as const;
const METHODS = ['cash', 'bkash', 'nagad', 'bank-transfer', 'card'] as const;

function pick<T>(values: readonly T[]): T {
  return values[randomInt(values.length)]!;
}

function amount(): string {
  return `${randomInt(300, 5_000)}.${String(randomInt(100)).padStart(2, '0')}`;
}

function reference(): string {
  return randomUUID().replaceAll('-', '').slice(0, 16).toUpperCase();
}

/** Event data shaped like the billing domain's, about 300 bytes of JSON each. */
const SHAPES: readonly (() => Readonly<{ type: string; data: JsonObject }>)[] = [
  () => ({
    type: 'PaymentReceived',
    data: {
      payment_id: randomUUID(),
      subscriber_id: randomUUID(),
      invoice_id: randomUUID(),
      amount: { value: amount(), currency: 'BDT' },
      method: pick(METHODS),
      gateway_reference: reference(),
      received_by: `counter-${randomInt(1, 40)}`,
      note: 'paid at the branch',
    },
  }),
  () => ({
    type: 'InvoiceIssued',
    data: {
      invoice_id: randomUUID(),
      subscriber_id: randomUUID(),
      period: '2026-11',
      lines: [
        { package: pick(PACKAGES), quantity: 1, unit_price: amount() },
        { package: 'static-ip', quantity: 1, unit_price: '200.00' },
      ],
      total: { value: amount(), currency: 'BDT' },
      due_on: '2026-12-10',
    },
  }),
  () => ({
    type: 'SessionAccounted',
    data: {
      subscriber_id: randomUUID(),
      username: `user${randomInt(100_000, 999_999)}@pppoe`,
      nas_ip: `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`,
      acct_session_id: reference(),
      framed_ip: `100.64.${randomInt(256)}.${randomInt(1, 255)}`,
      input_octets: String(randomInt(1, 2 ** 40)),
      output_octets: String(randomInt(1, 2 ** 40)),
      session_time_s: randomInt(1, 86_400),
      terminate_cause: 'User-Request',
    },
  }),
];

export function benchMetadata(): EventMetadata {
  return {
    actor: { id: `operator:${randomUUID()}`, role: pick(ROLES) },
    tenant: pick(TENANTS),
    correlation_id: randomUUID(),
    causation_id: randomUUID(),
    command_id: randomUUID(),
  };
}

function freshEvent(): NewEvent {
  const { type, data } = pick(SHAPES)();
  return { event_id: randomUUID(), type, data, metadata: benchMetadata(), occurred_at: new Date() };
}

/**
 * Building an event from scratch costs several microseconds (a handful of uuids and random numbers), which on
 * two cores would be charged to whatever is being measured. So events are stamped from a pool of prepared
 * ones: only the event id (unique, as the store requires) and occurred_at are new.
 */
const TEMPLATE_COUNT = 4_096;
let templates: NewEvent[] | null = null;
let nextTemplate = 0;

/** One realistic event: uuid id, ~300 bytes of data, metadata with actor, tenant, correlation and command ids. */
export function benchEvent(): NewEvent {
  templates ??= Array.from({ length: TEMPLATE_COUNT }, () => freshEvent());
  const template = templates[nextTemplate]!;
  nextTemplate = (nextTemplate + 1) % TEMPLATE_COUNT;
  return { ...template, event_id: randomUUID(), occurred_at: new Date() };
}

export function benchEvents(count: number): NewEvent[] {
  return Array.from({ length: count }, () => benchEvent());
}

/** The baseline's row: the same bytes as an event, as one jsonb document. */
export function baselinePayload(stream_id: string, event: NewEvent): string {
  return JSON.stringify({
    event_id: event.event_id,
    stream_id,
    type: event.type,
    data: event.data,
    metadata: event.metadata,
    occurred_at: event.occurred_at.toISOString(),
  });
}
