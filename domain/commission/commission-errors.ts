import type { CommissionRejection } from './commission-split.js';

/**
 * Thrown form of a commission rejection, for callers that have already validated the chain (when the terms
 * were configured) and so treat a rejection at payment time as a bug. `splitCommission` itself returns the
 * rejection as a value; it never throws for bad terms.
 */
export class InvalidCommissionTermsError extends Error {
  override readonly name = 'InvalidCommissionTermsError';
  readonly code = 'INVALID_COMMISSION_TERMS' as const;
  readonly rejection: CommissionRejection;

  constructor(rejection: CommissionRejection) {
    super(rejection.message);
    this.rejection = rejection;
  }
}
