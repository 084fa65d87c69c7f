import { describe, expect, it } from 'vitest';
import { accept, refuse, type Decision, type DomainEvent } from './decider.js';
import { given } from './decider-spec.js';
import { rejection } from './rejection.js';

/** A counter that refuses to go above three: the smallest decider that has every outcome. */
type Counted = DomainEvent<'counted', { to: number }>;
const evolve = (_state: number, event: Counted): number => event.data.to;
const initial = (): number => 0;
const decideCountTo = (state: number, to: number): Decision<Counted> => {
  if (to > 3) return refuse(rejection('INVALID_INPUT', 'at most three'));
  if (state === to) return accept();
  return accept({ type: 'counted', data: { to } });
};
const counted = (to: number): Counted => ({ type: 'counted', data: { to } });

describe('the given / when / then helper', () => {
  it('folds the given events and hands the state to the decision', () => {
    expect(given(evolve, initial, [counted(1), counted(2)]).state).toBe(2);
    given(evolve, initial, [counted(1)])
      .when((state) => decideCountTo(state, state + 1))
      .then([counted(2)]);
  });

  it('fails when the events differ, when a rejection was expected, or when the command was refused', () => {
    expect(() => given(evolve, initial).when((state) => decideCountTo(state, 1)).then([counted(2)])).toThrow();
    expect(() => given(evolve, initial).when((state) => decideCountTo(state, 1)).thenRejects('INVALID_INPUT')).toThrow(/accepted/);
    expect(() => given(evolve, initial).when((state) => decideCountTo(state, 4)).then([])).toThrow(/INVALID_INPUT/);
    expect(() => given(evolve, initial).when((state) => decideCountTo(state, 4)).thenRejects('NOT_PERMITTED')).toThrow();
  });

  it('tells an idempotent repeat (no events) from a decision that does something', () => {
    given(evolve, initial, [counted(2)])
      .when((state) => decideCountTo(state, 2))
      .thenNothingHappens();
    expect(() => given(evolve, initial).when((state) => decideCountTo(state, 2)).thenNothingHappens()).toThrow();
    expect(() => given(evolve, initial).when((state) => decideCountTo(state, 9)).thenNothingHappens()).toThrow();
  });

  it('reads a payment’s outcome (events for several streams) the same way', () => {
    type Outcome = Readonly<{ customer: readonly Counted[]; operators: readonly Counted[] }>;
    const pay = (state: number): Readonly<{ ok: true; outcome: Outcome }> | Readonly<{ ok: false; rejection: ReturnType<typeof rejection> }> =>
      state > 0 ? { ok: true, outcome: { customer: [], operators: [] } } : { ok: true, outcome: { customer: [counted(1)], operators: [counted(9)] } };
    given(evolve, initial).when(pay).then({ customer: [counted(1)], operators: [counted(9)] });
    given(evolve, initial, [counted(1)]).when(pay).thenNothingHappens();
    expect(() => given(evolve, initial).when(pay).thenNothingHappens()).toThrow();
  });

  it('refuses to be awaited, which would call `then` with a function', () => {
    const spec = given(evolve, initial).when((state) => decideCountTo(state, 1));
    expect(() => (spec.then as unknown as (resolve: () => void) => void)(() => undefined)).toThrow(/not a promise/);
  });
});
