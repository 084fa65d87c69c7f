import { allocateMinorByIntegerWeights } from '../money/allocation.js';
import { Money } from '../money/money.js';

/**
 * How one level below the ISP earns from a sale:
 * - `share`: it receives `percent` (a plain decimal string from "0" to "100", at most 6 decimals) of what
 *   its parent receives;
 * - `wholesale`: it buys from its parent at `price` and sells at the sale's list price, so it receives
 *   list price − price, and its parent keeps the difference between that and what the parent receives.
 * Both describe the same thing — what passes from the parent down to this level — so they can be mixed in
 * one chain.
 */
export type CommissionTerms =
  | { readonly kind: 'share'; readonly percent: string }
  | { readonly kind: 'wholesale'; readonly price: Money };

/** One operator in the chain. The ISP at level 0 has `terms: null`; every level below it has terms. */
export interface ChainLevel {
  readonly operator_id: string;
  readonly terms: CommissionTerms | null;
}

export interface CommissionSplitInput {
  /** The amount received for the sale (a payment, possibly partial). Must be ≥ 0; see `clawbackSplit`. */
  readonly total: Money;
  /**
   * The retail price of what was sold. Required when any level has wholesale terms; when given, `total` must
   * not exceed it, and a partial payment scales every part by total / list_price.
   */
  readonly list_price?: Money | null;
  /** From the ISP (level 0) down to the operator who owns the customer. */
  readonly chain: readonly ChainLevel[];
}

export interface KeptAmount {
  readonly operator_id: string;
  readonly amount: Money;
}

export interface PassedDown {
  readonly from_operator_id: string;
  readonly to_operator_id: string;
  readonly amount: Money;
}

/**
 * What each level keeps, index-aligned with the chain, and what passes down each link. `passed_down[i]` is the
 * link from chain[i] to chain[i + 1] and always equals the sum of what chain[i + 1] and everyone below keeps:
 * it is the parent's payable to (or receivable from, when the child collected the cash) that child.
 */
export interface CommissionSplit {
  readonly total: Money;
  readonly kept: readonly KeptAmount[];
  readonly passed_down: readonly PassedDown[];
}

/**
 * Why a chain cannot split a payment. The checks run in this order and the first failure is returned, so
 * the same input always gets the same reason: the chain's shape (EMPTY_CHAIN, CHAIN_TOO_LONG), the list price
 * (INVALID_LIST_PRICE), each level from the top down (INVALID_OPERATOR_ID, DUPLICATE_OPERATOR, ROOT_HAS_TERMS,
 * MISSING_TERMS, then INVALID_PERCENT for a share or MISSING_LIST_PRICE, CURRENCY_MISMATCH,
 * WHOLESALE_ABOVE_LIST_PRICE, WHOLESALE_BELOW_PARENT for a wholesale price), and last the total
 * (CURRENCY_MISMATCH, NEGATIVE_TOTAL, TOTAL_EXCEEDS_LIST_PRICE).
 */
export type CommissionRejectionReason =
  | 'EMPTY_CHAIN'
  | 'CHAIN_TOO_LONG'
  | 'INVALID_LIST_PRICE'
  | 'INVALID_OPERATOR_ID'
  | 'DUPLICATE_OPERATOR'
  | 'ROOT_HAS_TERMS'
  | 'MISSING_TERMS'
  | 'INVALID_PERCENT'
  | 'MISSING_LIST_PRICE'
  | 'CURRENCY_MISMATCH'
  | 'WHOLESALE_ABOVE_LIST_PRICE'
  | 'WHOLESALE_BELOW_PARENT'
  | 'NEGATIVE_TOTAL'
  | 'TOTAL_EXCEEDS_LIST_PRICE';

export interface CommissionRejection {
  readonly code: 'INVALID_COMMISSION_TERMS';
  readonly reason: CommissionRejectionReason;
  /** The chain index the problem is at, or null when it is about the chain as a whole, the total or price. */
  readonly level: number | null;
  readonly message: string;
}

export type CommissionSplitResult =
  | { readonly ok: true; readonly split: CommissionSplit }
  | { readonly ok: false; readonly rejection: CommissionRejection };

/** The ISP, resellers and sub-resellers: real trees are three or four deep; sixteen leaves ample room. */
export const COMMISSION_MAX_CHAIN_LEVELS = 16;
export const COMMISSION_PERCENT_MAX_DECIMALS = 6;

const PERCENT_PATTERN = new RegExp(`^(\\d{1,3})(?:\\.(\\d{1,${COMMISSION_PERCENT_MAX_DECIMALS}}))?$`);
/** A percent as an integer over this denominator: 100 % = 10^8 with six decimals. */
const PERCENT_DENOMINATOR = 100n * 10n ** BigInt(COMMISSION_PERCENT_MAX_DECIMALS);

/** An exact non-negative amount in minor units of the basis, as numerator / denominator. */
interface Fraction {
  readonly numerator: bigint;
  readonly denominator: bigint;
}

/**
 * Splits `total` down the chain. Each level's gross (what it receives before passing anything down) is
 * computed exactly, as a fraction of minor units, from the top: the ISP receives the whole sale; a `share`
 * level receives its percent of its parent's gross; a `wholesale` level receives list price − its wholesale
 * price. Each level keeps its gross minus its child's gross. For a partial payment everything scales by
 * total / list_price. Those exact kept amounts are then allocated to the minor unit with the largest
 * remainder method (ties go to the level nearer the ISP), so Σ kept = total exactly and no one is ever
 * negative; `passed_down` is derived from the rounded kept amounts, so each link equals what its subtree keeps.
 *
 * Bad terms (a wholesale price below what the parent pays or above the list price, a percent outside 0–100,
 * …) and a bad total come back as a rejection value, never as a negative share and never as an exception.
 */
export function splitCommission({ total, list_price = null, chain }: CommissionSplitInput): CommissionSplitResult {
  // With no list price every level is a share, and shares give the same proportions on any basis.
  const gross = grossAmounts(chain, list_price, list_price?.toMinor() ?? total.toMinor());
  if ('rejection' in gross) return { ok: false, rejection: gross.rejection };
  const total_problem = problemWithTotal(total, list_price);
  if (total_problem !== null) return { ok: false, rejection: total_problem };

  const kept_exact = gross.levels.map((level_gross, index) => subtract(level_gross, gross.levels[index + 1] ?? ZERO));
  const common_denominator = kept_exact.reduce((lcm, kept) => leastCommonMultiple(lcm, kept.denominator), 1n);
  const weights = kept_exact.map((kept) => kept.numerator * (common_denominator / kept.denominator));
  // Everything is zero only when the basis is zero, and then the total is zero too (it cannot exceed it).
  const kept_minor = weights.every((weight) => weight === 0n)
    ? weights.map(() => 0n)
    : allocateMinorByIntegerWeights(total.toMinor(), weights);
  return { ok: true, split: buildSplit(total, chain, kept_minor) };
}

/**
 * Checks a chain's terms on their own, for when they are configured, so a bad chain is refused then rather
 * than at payment time. Returns null when the chain can split any payment up to `list_price` (required when
 * a level has wholesale terms).
 */
export function checkCommissionChain(
  chain: readonly ChainLevel[],
  list_price: Money | null = null,
): CommissionRejection | null {
  // Share terms are proportions and hold for any basis, so a basis of one minor unit checks them.
  const gross = grossAmounts(chain, list_price, list_price?.toMinor() ?? 1n);
  return 'rejection' in gross ? gross.rejection : null;
}

/**
 * The split of a refund: every amount of `split` negated. Split the refunded amount (a positive amount) with
 * the terms that were in force for the original payment, then claw it back with this. A full refund
 * therefore reverses the original split exactly. Several partial refunds are each rounded on their own, so
 * their clawbacks can differ from the original split by a minor unit per level; a caller that must bring every
 * level back to exactly zero should split the cumulative refunded amount and claw back only the difference
 * from the earlier clawbacks.
 */
export function clawbackSplit(split: CommissionSplit): CommissionSplit {
  return Object.freeze({
    total: split.total.negated(),
    kept: Object.freeze(split.kept.map((kept) => Object.freeze({ ...kept, amount: kept.amount.negated() }))),
    passed_down: Object.freeze(
      split.passed_down.map((link) => Object.freeze({ ...link, amount: link.amount.negated() })),
    ),
  });
}

const ZERO: Fraction = { numerator: 0n, denominator: 1n };

/**
 * Validates the chain from the top down and computes every level's gross in minor units of `basis_minor`
 * (the list price, or the total when the chain has only share terms).
 */
function grossAmounts(
  chain: readonly ChainLevel[],
  list_price: Money | null,
  basis_minor: bigint,
): { readonly levels: readonly Fraction[] } | { readonly rejection: CommissionRejection } {
  if (chain.length === 0) {
    return reject('EMPTY_CHAIN', null, 'The commission chain is empty; it must start with the ISP.');
  }
  if (chain.length > COMMISSION_MAX_CHAIN_LEVELS) {
    return reject(
      'CHAIN_TOO_LONG',
      null,
      `The commission chain has ${chain.length} levels; at most ${COMMISSION_MAX_CHAIN_LEVELS} are supported.`,
    );
  }
  if (list_price !== null && list_price.isNegative()) {
    return reject(
      'INVALID_LIST_PRICE',
      null,
      `The list price ${list_price.toString()} is negative; a sale's list price must be zero or more.`,
    );
  }

  const levels: Fraction[] = [];
  const seen_operators = new Set<string>();
  for (const [level, { operator_id, terms }] of chain.entries()) {
    if (typeof operator_id !== 'string' || operator_id.length === 0) {
      return reject('INVALID_OPERATOR_ID', level, `Level ${level} of the commission chain has no operator id.`);
    }
    if (seen_operators.has(operator_id)) {
      return reject(
        'DUPLICATE_OPERATOR',
        level,
        `Operator ${operator_id} appears twice in the commission chain; a chain is one path down the operator tree.`,
      );
    }
    seen_operators.add(operator_id);

    const parent = levels[level - 1];
    if (parent === undefined) {
      if (terms !== null) {
        return reject(
          'ROOT_HAS_TERMS',
          level,
          `The ISP ${operator_id} at the top of the chain has no parent, so it cannot have commission terms.`,
        );
      }
      levels.push({ numerator: basis_minor, denominator: 1n });
      continue;
    }
    if (terms === null) {
      return reject(
        'MISSING_TERMS',
        level,
        `Operator ${operator_id} has no commission terms with its parent; set a share percent or a wholesale price.`,
      );
    }

    if (terms.kind === 'share') {
      const percent = parsePercent(terms.percent);
      if (percent === null) {
        return reject(
          'INVALID_PERCENT',
          level,
          `Operator ${operator_id}'s share ${JSON.stringify(terms.percent)} is not a percent from 0 to 100 with ` +
            `at most ${COMMISSION_PERCENT_MAX_DECIMALS} decimals, such as "60" or "12.5".`,
        );
      }
      levels.push(multiply(parent, percent));
      continue;
    }

    if (list_price === null) {
      return reject(
        'MISSING_LIST_PRICE',
        level,
        `Operator ${operator_id} buys at a wholesale price, so the sale's list price is needed to split it.`,
      );
    }
    if (terms.price.currency !== list_price.currency) {
      return reject(
        'CURRENCY_MISMATCH',
        level,
        `Operator ${operator_id}'s wholesale price is in ${terms.price.currency} but the list price is in ` +
          `${list_price.currency}; all prices of one ISP are in its currency.`,
      );
    }
    if (terms.price.compare(list_price) > 0) {
      return reject(
        'WHOLESALE_ABOVE_LIST_PRICE',
        level,
        `Operator ${operator_id}'s wholesale price ${terms.price.toString()} is above the list price ` +
          `${list_price.toString()}, so it would sell at a loss; lower the wholesale price or raise the list price.`,
      );
    }
    // What passes down to this level is list price − its wholesale price; it cannot exceed what the parent
    // itself receives, which is the same as saying the wholesale price cannot be below the parent's cost.
    const gross: Fraction = { numerator: list_price.toMinor() - terms.price.toMinor(), denominator: 1n };
    if (gross.numerator * parent.denominator > parent.numerator) {
      const parent_cost_minor = ceilingDivide(
        list_price.toMinor() * parent.denominator - parent.numerator,
        parent.denominator,
      );
      return reject(
        'WHOLESALE_BELOW_PARENT',
        level,
        `Operator ${operator_id}'s wholesale price ${terms.price.toString()} is below what its parent ` +
          `${chain[level - 1]!.operator_id} pays for the same sale ` +
          `(${Money.fromMinor(parent_cost_minor, list_price.currency).toString()}); an operator cannot sell to ` +
          `its child for less than it buys. Raise the wholesale price to at least that.`,
      );
    }
    levels.push(gross);
  }
  return { levels };
}

function problemWithTotal(total: Money, list_price: Money | null): CommissionRejection | null {
  if (list_price !== null && total.currency !== list_price.currency) {
    return rejection(
      'CURRENCY_MISMATCH',
      null,
      `The payment is in ${total.currency} but the list price is in ${list_price.currency}.`,
    );
  }
  if (total.isNegative()) {
    return rejection(
      'NEGATIVE_TOTAL',
      null,
      `Cannot split a negative amount (${total.toString()}); split the refunded amount as a positive total and ` +
        `negate the result with clawbackSplit.`,
    );
  }
  if (list_price !== null && total.compare(list_price) > 0) {
    return rejection(
      'TOTAL_EXCEEDS_LIST_PRICE',
      null,
      `The payment ${total.toString()} is more than the list price ${list_price.toString()}; split only the part ` +
        `applied to the sale and keep the excess as customer credit.`,
    );
  }
  return null;
}

function buildSplit(total: Money, chain: readonly ChainLevel[], kept_minor: readonly bigint[]): CommissionSplit {
  const kept = chain.map((level, index) =>
    Object.freeze({ operator_id: level.operator_id, amount: Money.fromMinor(kept_minor[index]!, total.currency) }),
  );
  const passed_down: PassedDown[] = [];
  let below_minor = 0n;
  for (let index = chain.length - 1; index > 0; index -= 1) {
    below_minor += kept_minor[index]!;
    passed_down.unshift(
      Object.freeze({
        from_operator_id: chain[index - 1]!.operator_id,
        to_operator_id: chain[index]!.operator_id,
        amount: Money.fromMinor(below_minor, total.currency),
      }),
    );
  }
  // The invariant every ledger posting relies on; the allocation guarantees it, and a break here is a bug.
  if (below_minor + kept_minor[0]! !== total.toMinor() || kept_minor.some((amount) => amount < 0n)) {
    throw new Error(`Commission split of ${total.toString()} does not add up; this is a bug.`);
  }
  return Object.freeze({ total, kept: Object.freeze(kept), passed_down: Object.freeze(passed_down) });
}

function reject(
  reason: CommissionRejectionReason,
  level: number | null,
  message: string,
): { readonly rejection: CommissionRejection } {
  return { rejection: rejection(reason, level, message) };
}

function rejection(reason: CommissionRejectionReason, level: number | null, message: string): CommissionRejection {
  return Object.freeze({ code: 'INVALID_COMMISSION_TERMS', reason, level, message });
}

function parsePercent(text: unknown): Fraction | null {
  const match = typeof text === 'string' ? PERCENT_PATTERN.exec(text) : null;
  if (match === null) return null;
  const numerator = BigInt(`${match[1] ?? ''}${(match[2] ?? '').padEnd(COMMISSION_PERCENT_MAX_DECIMALS, '0')}`);
  return numerator <= PERCENT_DENOMINATOR ? { numerator, denominator: PERCENT_DENOMINATOR } : null;
}

function multiply(a: Fraction, b: Fraction): Fraction {
  return { numerator: a.numerator * b.numerator, denominator: a.denominator * b.denominator };
}

function subtract(a: Fraction, b: Fraction): Fraction {
  return {
    numerator: a.numerator * b.denominator - b.numerator * a.denominator,
    denominator: a.denominator * b.denominator,
  };
}

function ceilingDivide(numerator: bigint, denominator: bigint): bigint {
  return numerator <= 0n ? -(-numerator / denominator) : (numerator + denominator - 1n) / denominator;
}

function leastCommonMultiple(a: bigint, b: bigint): bigint {
  return (a / greatestCommonDivisor(a, b)) * b;
}

function greatestCommonDivisor(a: bigint, b: bigint): bigint {
  let [x, y] = [a, b];
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
}
