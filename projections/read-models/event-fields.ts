import type { RecordedEvent } from '../../eventstore/event-store.js';
import { Money } from '../../domain/money/money.js';

/**
 * Small readers shared by the read models. Amounts are added with Money (never a JS number); times are the
 * event's business time as ISO text, so a rebuild writes exactly what the live run wrote.
 */
export const tenantOf = (event: RecordedEvent): string => event.metadata.tenant;
export const occurredAt = (event: RecordedEvent): string => event.occurred_at.toISOString();
export const actorOf = (event: RecordedEvent): string => `${event.metadata.actor.role}:${event.metadata.actor.id}`;

export const plus = (a: string, b: string, currency: string): string => Money.parse(a, currency).plus(Money.parse(b, currency)).toString();
export const minus = (a: string, b: string, currency: string): string => Money.parse(a, currency).minus(Money.parse(b, currency)).toString();
export const sumOf = (amounts: readonly string[], currency: string): string =>
  Money.sum(
    amounts.map((amount) => Money.parse(amount, currency)),
    currency,
  ).toString();
export const zero = (currency: string): string => Money.zero(currency).toString();

/** The data of an event whose type the caller has already matched. */
export const dataOf = <Data>(event: RecordedEvent): Data => event.data as unknown as Data;

/** The event as the domain's union type, so a read model's `switch` is checked against the domain's shapes. */
export const asDomain = <Event extends { type: string; data: unknown }>(event: RecordedEvent): Event => ({ type: event.type, data: event.data }) as unknown as Event;
