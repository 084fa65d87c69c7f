export {
  COMMISSION_MAX_CHAIN_LEVELS,
  COMMISSION_PERCENT_MAX_DECIMALS,
  checkCommissionChain,
  clawbackSplit,
  splitCommission,
} from './commission-split.js';
export type {
  ChainLevel,
  CommissionRejection,
  CommissionRejectionReason,
  CommissionSplit,
  CommissionSplitInput,
  CommissionSplitResult,
  CommissionTerms,
  KeptAmount,
  PassedDown,
} from './commission-split.js';
export { InvalidCommissionTermsError } from './commission-errors.js';
