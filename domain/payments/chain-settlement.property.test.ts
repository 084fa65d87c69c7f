import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { CustomerEvent, WalletMovement } from '../customers/customer.js';
import { Money } from '../money/money.js';
import { evolveOperator, type OperatorEvent, type OperatorState } from '../operators/operator.js';
import { PACKAGE_ID, contextAt, customerRegistered, customerState, isp, operatorCreated, operatorState, packageAssigned, shareSet, tenMegabit, walletToppedUp } from '../shared/spec-fixtures.js';
import { decideReceivePayment, type ReceivePayment } from './receive-payment.js';
import { decideRefundPayment } from './refund-payment.js';

/**
 * Money conservation along random chains (chain-settlement.ts): for each link parent → child, what the child's
 * subtree ends up with — the cash it collected plus its wallet movement with the parent — equals what the split
 * passes down that link (what the child and everyone below it keep). And refunds that add up to a payment put
 * every wallet back exactly where it was before the payment.
 */
const NOW = contextAt('2026-11-16T06:00:00Z');
const bdt = (minor: bigint): Money => Money.fromMinor(minor, 'BDT');

const percentArb = fc.oneof(
  fc.integer({ min: 0, max: 100 }).map(String),
  fc.tuple(fc.integer({ min: 0, max: 99 }), fc.integer({ min: 1, max: 999_999 })).map(([whole, fraction]) => `${whole}.${String(fraction).padStart(6, '0')}`),
);

const scenarioArb = fc
  .record({
    percents: fc.array(percentArb, { minLength: 0, maxLength: 2 }),
    collector: fc.nat(),
    amount_minor: fc.oneof(fc.bigInt({ min: 1n, max: 300n }), fc.bigInt({ min: 1n, max: 10_000_000n })),
    recharge: fc.boolean(),
    opening_minor: fc.array(fc.bigInt({ min: -50_000n, max: 50_000n }), { minLength: 2, maxLength: 2 }),
    refund_cuts: fc.array(fc.integer({ min: 1, max: 1_000 }), { minLength: 0, maxLength: 4 }),
  })
  .map((s) => ({ ...s, levels: s.percents.length + 1, collector: s.collector % (s.percents.length + 1) }));

type Scenario = typeof scenarioArb extends fc.Arbitrary<infer Value> ? Value : never;

/** Postpaid wallets with a limit no payment reaches, so every debit fits and only the arithmetic is under test. */
function chainOf(s: Scenario): OperatorState[] {
  const ids = ['res-1', 'sub-1'];
  const chain: OperatorState[] = [isp()];
  s.percents.forEach((percent, index) => {
    const id = ids[index]!;
    const opening = bdt(s.opening_minor[index]!);
    const events: OperatorEvent[] = [
      operatorCreated(id, chain.map((operator) => operator.operator_id), { billing_mode: 'postpaid', credit_limit: '1000000000.00' }),
      shareSet(id, percent),
      packageAssigned(id, PACKAGE_ID, '0.00'),
    ];
    if (!opening.isZero()) {
      events.push(
        opening.isPositive()
          ? walletToppedUp(id, opening.toString())
          : { type: 'wallet-debited', data: { operator_id: id, amount: opening.negated().toString(), reason: 'adjustment', customer_id: null, payment_id: null } },
      );
    }
    chain.push(operatorState(...events));
  });
  return chain;
}

function applyTo(chain: readonly OperatorState[], operators: readonly Readonly<{ operator_id: string; events: readonly OperatorEvent[] }>[]): OperatorState[] {
  return chain.map((operator) => operators.filter((o) => o.operator_id === operator.operator_id).flatMap((o) => o.events).reduce(evolveOperator, operator));
}

const signed = (movement: WalletMovement | undefined): Money =>
  movement === undefined ? Money.zero('BDT') : movement.direction === 'credit' ? Money.parse(movement.amount, 'BDT') : Money.parse(movement.amount, 'BDT').negated();

/** Cuts `total_minor` into parts (each ≥ 1 minor unit) at the relative positions given. */
function partsOf(total_minor: bigint, cuts: readonly number[]): bigint[] {
  const points = [...new Set(cuts.map((cut) => (total_minor * BigInt(cut)) / 1001n).filter((point) => point > 0n && point < total_minor))].sort((a, b) => (a < b ? -1 : 1));
  const bounds = [0n, ...points, total_minor];
  return bounds.slice(1).map((bound, i) => bound - bounds[i]!);
}

function receive(s: Scenario, chain: readonly OperatorState[]) {
  const ids = chain.map((operator) => operator.operator_id);
  const customer = customerRegistered({ operator_id: ids[ids.length - 1]!, chain: ids });
  const amount = bdt(s.amount_minor);
  const recharge = s.recharge && amount.compare(Money.parse('500.00', 'BDT')) >= 0;
  const command: ReceivePayment = {
    payment_id: 'pay-1',
    method: s.collector === 0 ? 'online' : 'cash',
    amount: amount.toString(),
    collected_by: ids[s.collector]!,
    collector_operator_id: ids[s.collector]!,
    gateway: s.collector === 0 ? 'bkash' : null,
    gateway_reference: s.collector === 0 ? 'BK-1' : null,
    card: null,
    recharge_package_id: recharge ? PACKAGE_ID : null,
  };
  const decision = decideReceivePayment(customerState(customer), chain, tenMegabit(), command, NOW);
  if (!decision.ok) throw new Error(`payment refused: ${decision.rejection.code} ${decision.rejection.message}`);
  return { history: [customer, ...decision.outcome.customer], operators: decision.outcome.operators };
}

describe('settling payments along random chains', () => {
  it('splits the amount exactly, and each link’s subtree ends with exactly what passes down to it', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const chain = chainOf(s);
        const { history, operators } = receive(s, chain);
        const paid = history[1] as Extract<CustomerEvent, { type: 'payment-received' }>;
        const amount = bdt(s.amount_minor);
        const kept = paid.data.commission.map((share) => Money.parse(share.amount, 'BDT'));

        expect(paid.data.commission.map((share) => share.operator_id)).toEqual(chain.map((operator) => operator.operator_id));
        expect(kept.every((part) => !part.isNegative())).toBe(true);
        expect(Money.sum(kept, 'BDT').equals(amount)).toBe(true);

        for (let index = 1; index < chain.length; index += 1) {
          const child = chain[index]!;
          const movement = paid.data.wallet_movements.find((m) => m.operator_id === child.operator_id);
          const cashInSubtree = s.collector >= index ? amount : Money.zero('BDT');
          const subtreeKeeps = Money.sum(kept.slice(index), 'BDT');
          expect(cashInSubtree.plus(signed(movement)).equals(subtreeKeeps)).toBe(true);
          // Each operator on its own: the cash it took, what its parent settled with it, less what it settled
          // with its child, is what it keeps.
          const childMovement = paid.data.wallet_movements.find((m) => m.operator_id === chain[index + 1]?.operator_id);
          const ownCash = s.collector === index ? amount : Money.zero('BDT');
          expect(ownCash.plus(signed(movement)).minus(signed(childMovement)).equals(kept[index]!)).toBe(true);
        }
        const ispMovement = paid.data.wallet_movements.find((m) => m.operator_id === chain[1]?.operator_id);
        expect((s.collector === 0 ? amount : Money.zero('BDT')).minus(signed(ispMovement)).equals(kept[0]!)).toBe(true);

        // The wallet events say the same as the movements, with balances that follow from the ones before.
        const after = applyTo(chain, operators);
        for (const [index, operator] of chain.entries()) {
          const movement = paid.data.wallet_movements.find((m) => m.operator_id === operator.operator_id);
          expect(Money.parse(after[index]!.wallet_balance, 'BDT').equals(Money.parse(operator.wallet_balance, 'BDT').plus(signed(movement)))).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('puts every wallet and share back exactly after refunds that add up to the payment, one or several', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const before = chainOf(s);
        const { history, operators } = receive(s, before);
        let customer = history;
        let chain = applyTo(before, operators);
        const parts = partsOf(s.amount_minor, s.refund_cuts);
        for (const [index, part] of parts.entries()) {
          const decision = decideRefundPayment(customerState(...customer), chain, { refund_id: `ref-${index}`, payment_id: 'pay-1', amount: bdt(part).toString(), reason: 'test', by: 'acct-1' }, NOW);
          if (!decision.ok) throw new Error(`refund refused: ${decision.rejection.code} ${decision.rejection.message}`);
          customer = [...customer, ...decision.outcome.customer];
          chain = applyTo(chain, decision.outcome.operators);
          const clawback = (decision.outcome.customer[0] as Extract<CustomerEvent, { type: 'payment-refunded' }>).data.commission_clawback;
          expect(clawback.every((share) => !Money.parse(share.amount, 'BDT').isNegative())).toBe(true);
          expect(Money.sum(clawback.map((share) => Money.parse(share.amount, 'BDT')), 'BDT').equals(bdt(part))).toBe(true);
        }
        expect(chain.map((operator) => operator.wallet_balance)).toEqual(before.map((operator) => operator.wallet_balance));
        const payment = customerState(...customer).payments['pay-1']!;
        expect(payment.refunded).toBe(payment.amount);
        for (const share of payment.commission) {
          const clawed = payment.refunds.flatMap((r) => r.commission_clawback).filter((c) => c.operator_id === share.operator_id);
          expect(Money.sum(clawed.map((c) => Money.parse(c.amount, 'BDT')), 'BDT').toString()).toBe(share.amount);
        }
      }),
      { numRuns: 200 },
    );
  });
});

// Guards the generator: every chain length and collector position comes up.
it('covers chains of one to three levels with the collector anywhere on them', () => {
  const seen = new Set<string>();
  fc.assert(
    fc.property(scenarioArb, (s) => {
      seen.add(`${s.levels}:${s.collector}`);
    }),
    { numRuns: 200, seed: 7 },
  );
  expect([...seen].sort()).toEqual(['1:0', '2:0', '2:1', '3:0', '3:1', '3:2']);
});
