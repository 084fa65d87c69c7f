import { reservationStream, type IdentifierKind } from '../domain/customers/identifiers.js';
import { decideRelease, decideReserve } from '../domain/customers/reservation.js';
import type { CommandContext } from '../domain/shared/command-context.js';
import type { DomainEvent } from '../domain/shared/decider.js';
import type { StreamState } from '../eventstore/event-store.js';
import { ReservationAggregate } from './aggregates.js';
import { CommandRuntime, refusePlan, type Plan } from './command-runtime.js';

export type Write = Readonly<{ stream_id: string; expected: StreamState; events: readonly DomainEvent[] }>;

export type Identifier = Readonly<{ kind: IdentifierKind; value: string }>;

/**
 * Reserves (or releases) identifiers for their holder, a customer or a router: one reservation stream each,
 * appended with the holder's own events, so the holder and its identifiers change together or not at all.
 */
export async function reservationWrites(
  runtime: CommandRuntime,
  context: CommandContext,
  holder_id: string,
  reserve: readonly Identifier[],
  release: readonly Identifier[] = [],
): Promise<readonly Write[] | Plan<never>> {
  const writes: Write[] = [];
  for (const [identifiers, decide] of [
    [reserve, decideReserve],
    [release, decideRelease],
  ] as const) {
    for (const identifier of identifiers) {
      const loaded = await runtime.load(ReservationAggregate, reservationStream(context.tenant, identifier.kind, identifier.value));
      const decision = decide(loaded.state, identifier.kind, identifier.value, holder_id);
      if (!decision.ok) return refusePlan(decision.rejection);
      writes.push({ stream_id: loaded.stream_id, expected: CommandRuntime.expected(loaded), events: decision.events });
    }
  }
  return writes;
}

export const isPlan = (value: unknown): value is Plan<never> => typeof value === 'object' && value !== null && 'kind' in value;
