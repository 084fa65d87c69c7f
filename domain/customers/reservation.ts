import { accept, refuse, type Decision, type DomainEvent } from '../shared/decider.js';
import { rejection, type RejectionCode } from '../shared/rejection.js';
import type { IdentifierKind } from './identifiers.js';

/**
 * A reservation stream per identifier makes uniqueness a property of the event store: two registrations of
 * the same username race on one stream, and the optimistic-concurrency check lets exactly one win. A read
 * model lookup could not promise that.
 */
export type ReservationEvent =
  | DomainEvent<'identifier-reserved', { kind: IdentifierKind; value: string; customer_id: string }>
  | DomainEvent<'identifier-released', { kind: IdentifierKind; value: string; customer_id: string }>;

export type ReservationState = Readonly<{ holder: string | null }>;

export const initialReservationState = (): ReservationState => ({ holder: null });

export function evolveReservation(_state: ReservationState, event: ReservationEvent): ReservationState {
  switch (event.type) {
    case 'identifier-reserved':
      return { holder: event.data.customer_id };
    case 'identifier-released':
      return { holder: null };
  }
}

const TAKEN: Record<IdentifierKind, RejectionCode> = { username: 'USERNAME_TAKEN', mac: 'MAC_TAKEN', static_ip: 'STATIC_IP_TAKEN' };

export function decideReserve(state: ReservationState, kind: IdentifierKind, value: string, customer_id: string): Decision<ReservationEvent> {
  if (state.holder === customer_id) return accept();
  if (state.holder !== null) return refuse(rejection(TAKEN[kind], `${kind.replace('_', ' ')} ${value} is already used by another customer of this ISP`));
  return accept({ type: 'identifier-reserved', data: { kind, value, customer_id } });
}

export function decideRelease(state: ReservationState, kind: IdentifierKind, value: string, customer_id: string): Decision<ReservationEvent> {
  if (state.holder !== customer_id) return accept();
  return accept({ type: 'identifier-released', data: { kind, value, customer_id } });
}
