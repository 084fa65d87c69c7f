import { expect } from 'vitest';
import type { Rejection, RejectionCode } from './rejection.js';

/**
 * The one shape every decider spec has (test code only):
 *
 *   given(evolveCustomer, initialCustomerState, [registered, billIssued])
 *     .when((customer) => decideLockForNonpayment(customer, contextAt('2026-12-10T06:00:00Z')))
 *     .then([{ type: 'customer-locked', data: { … } }]);
 *
 * `given` folds the events into the state of the stream the command is decided on; `when` receives that
 * state and returns the decision, passing any other state a multi-stream decider needs (the parent operator,
 * the package, the chain) itself. The outcome is one of `then(expected)` (accepted with exactly these events,
 * or for a payment exactly this outcome), `thenRejects(code)` or `thenNothingHappens()` (an idempotent repeat).
 *
 * The result of `when` has a `then` method, so never return it from a test or `await` it: a test body in
 * braces, each spec a statement.
 */
type Refused = Readonly<{ ok: false; rejection: Rejection }>;
type Verdict = Readonly<{ ok: true }> | Refused;

/** What an accepted decision produced: a `Decision`'s events, or a `PaymentDecision`'s outcome. */
export type Produced<D> = D extends { readonly ok: true; readonly events: infer Events }
  ? Events
  : D extends { readonly ok: true; readonly outcome: infer Outcome }
    ? Outcome
    : never;

export type Then<D> = Readonly<{
  decision: D;
  /** Accepted with exactly these events (or this outcome); returns them for a spec that goes on. */
  then: (expected: Produced<D>) => Produced<D>;
  /** Refused with this code and a message that says something; returns the rejection. */
  thenRejects: (code: RejectionCode) => Rejection;
  /** Accepted with no events at all: the command was already done. */
  thenNothingHappens: () => void;
}>;

export type Given<State> = Readonly<{
  state: State;
  when: <D extends Verdict>(decide: (state: State) => D) => Then<D>;
}>;

export function given<State, Event>(evolve: (state: State, event: Event) => State, initialState: () => State, events: readonly Event[] = []): Given<State> {
  let state = initialState();
  for (const event of events) state = evolve(state, event);
  return { state, when: (decide) => outcomeOf(decide(state)) };
}

function outcomeOf<D extends Verdict>(decision: D): Then<D> {
  const verdict: Verdict = decision;
  const producedBy = (accepted: object): unknown => ('events' in accepted ? accepted.events : 'outcome' in accepted ? accepted.outcome : undefined);
  const accepted = (): Produced<D> => {
    if (!verdict.ok) expect.fail(`expected the command to be accepted, but it was refused with ${verdict.rejection.code}: ${verdict.rejection.message}`);
    return producedBy(verdict) as Produced<D>;
  };
  return {
    decision,
    then: (expected) => {
      // Guards the one way to misuse this object: `await`ing it (or returning it from a test) calls `then`
      // with the promise's resolve function.
      if (typeof expected === 'function') throw new Error('a decider spec is not a promise: do not return or await it');
      const produced = accepted();
      expect(produced).toEqual(expected);
      return produced;
    },
    thenRejects: (code) => {
      if (verdict.ok) expect.fail(`expected a rejection with ${code}, but the command was accepted with ${JSON.stringify(producedBy(verdict))}`);
      expect(verdict.rejection.code).toBe(code);
      expect(verdict.rejection.message.trim()).not.toBe('');
      return verdict.rejection;
    },
    thenNothingHappens: () => {
      const produced: unknown = accepted();
      // A payment's outcome is an object of event lists (customer, operators); "nothing" is every list empty.
      const nothing = Array.isArray(produced) ? [] : Object.fromEntries(Object.keys(produced as object).map((key) => [key, []]));
      expect(produced).toEqual(nothing);
    },
  };
}
