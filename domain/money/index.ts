export { KNOWN_CURRENCIES, isKnownCurrency, minorUnitsOf } from './currency.js';
export type { CurrencyCode } from './currency.js';
export { MONEY_MAX_INTEGER_DIGITS, MONEY_MAX_TEXT_LENGTH, Money } from './money.js';
export { ALLOCATION_MAX_PARTS, allocateByWeights, allocateMinorByIntegerWeights } from './allocation.js';
export { ROUNDING_MODES, divideRounded } from './rounding.js';
export type { RoundingMode } from './rounding.js';
export {
  CurrencyMismatchError,
  InvalidAllocationError,
  InvalidMoneyError,
  UnknownCurrencyError,
} from './money-errors.js';
