import type { Rejection } from './rejection.js';

/** A fact, as the domain sees it: the event store adds ids, positions, metadata and times. */
export type DomainEvent<Type extends string = string, Data = unknown> = Readonly<{ type: Type; data: Data }>;

/** Either the events a command produces (possibly none: an idempotent repeat) or why it was refused. */
export type Decision<Event> = Readonly<{ ok: true; events: readonly Event[] }> | Readonly<{ ok: false; rejection: Rejection }>;

export const accept = <Event>(...events: readonly Event[]): Decision<Event> => ({ ok: true, events });
export const refuse = <Event>(rejection: Rejection): Decision<Event> => ({ ok: false, rejection });

/** The three pure functions of an aggregate (emmett's shape). */
export type Decider<State, Command, Event> = Readonly<{
  initialState: () => State;
  evolve: (state: State, event: Event) => State;
  decide: (command: Command, state: State) => Decision<Event>;
}>;

export function fold<State, Event>(decider: Pick<Decider<State, never, Event>, 'evolve' | 'initialState'>, events: readonly Event[]): State {
  let state = decider.initialState();
  for (const event of events) state = decider.evolve(state, event);
  return state;
}
