import { accept, refuse, type Decision, type DomainEvent } from '../shared/decider.js';
import { rejection, type RejectionCode } from '../shared/rejection.js';
import type { CustomerIdentifierKind, IdentifierKind } from './identifiers.js';

/**
 * A reservation stream per identifier makes uniqueness a property of the event store: two registrations of
 * the same username race on one stream, and the optimistic-concurrency check lets exactly one win. A read
 * model lookup could not promise that.
 *
 * The event names its holder by what it is: a customer holds usernames, MACs and static IPs; a router holds
 * its NAS IP.
 */
export type Reservation =
  | Readonly<{ kind: CustomerIdentifierKind; value: string; customer_id: string }>
  | Readonly<{ kind: 'nas_ip'; value: string; router_id: string }>;

export type ReservationEvent = DomainEvent<'identifier-reserved', Reservation> | DomainEvent<'identifier-released', Reservation>;

export type ReservationState = Readonly<{ holder: string | null }>;

export const initialReservationState = (): ReservationState => ({ holder: null });

const holderOf = (reservation: Reservation): string => (reservation.kind === 'nas_ip' ? reservation.router_id : reservation.customer_id);

function reservationOf(kind: IdentifierKind, value: string, holder_id: string): Reservation {
  return kind === 'nas_ip' ? { kind, value, router_id: holder_id } : { kind, value, customer_id: holder_id };
}

export function evolveReservation(_state: ReservationState, event: ReservationEvent): ReservationState {
  switch (event.type) {
    case 'identifier-reserved':
      return { holder: holderOf(event.data) };
    case 'identifier-released':
      return { holder: null };
  }
}

const TAKEN: Record<IdentifierKind, Readonly<{ code: RejectionCode; what: string; holder: string }>> = {
  username: { code: 'USERNAME_TAKEN', what: 'username', holder: 'customer' },
  mac: { code: 'MAC_TAKEN', what: 'MAC', holder: 'customer' },
  static_ip: { code: 'STATIC_IP_TAKEN', what: 'static IP', holder: 'customer' },
  nas_ip: { code: 'NAS_IP_TAKEN', what: 'NAS IP', holder: 'router' },
};

/** `holder_id` is the customer (or, for a NAS IP, the router) that wants the identifier. */
export function decideReserve(state: ReservationState, kind: IdentifierKind, value: string, holder_id: string): Decision<ReservationEvent> {
  if (state.holder === holder_id) return accept();
  const taken = TAKEN[kind];
  if (state.holder !== null) return refuse(rejection(taken.code, `${taken.what} ${value} is already used by another ${taken.holder} of this ISP`));
  return accept({ type: 'identifier-reserved', data: reservationOf(kind, value, holder_id) });
}

export function decideRelease(state: ReservationState, kind: IdentifierKind, value: string, holder_id: string): Decision<ReservationEvent> {
  if (state.holder !== holder_id) return accept();
  return accept({ type: 'identifier-released', data: reservationOf(kind, value, holder_id) });
}
