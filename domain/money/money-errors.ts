/**
 * The errors the money module throws. Each carries a stable `code` so the API layer can map it to a response
 * once, and a message that says what was wrong and what to do about it.
 *
 * These are thrown, not returned: by the time an amount reaches the domain it should already have been
 * validated at the edge (zod schemas, event decoding), so reaching one of these is a caller's bug or bad input
 * that slipped through.
 */

/** An amount string or value that is not a valid amount of money in its currency. */
export class InvalidMoneyError extends Error {
  override readonly name = 'InvalidMoneyError';
  readonly code = 'INVALID_AMOUNT' as const;
}

/** Two amounts in different currencies were combined or compared. */
export class CurrencyMismatchError extends Error {
  override readonly name = 'CurrencyMismatchError';
  readonly code = 'CURRENCY_MISMATCH' as const;
  readonly expected_currency: string;
  readonly actual_currency: string;

  constructor(expected_currency: string, actual_currency: string, operation: string) {
    super(
      `Cannot ${operation} amounts in ${expected_currency} and ${actual_currency}: money in different ` +
        `currencies never mixes. Convert explicitly first, or check which currency the ISP is configured with.`,
    );
    this.expected_currency = expected_currency;
    this.actual_currency = actual_currency;
  }
}

/** A currency code that is not in the ISO 4217 table this system knows. */
export class UnknownCurrencyError extends Error {
  override readonly name = 'UnknownCurrencyError';
  readonly code = 'UNKNOWN_CURRENCY' as const;
  readonly currency: string;

  constructor(currency: string) {
    super(
      `Unknown currency ${JSON.stringify(currency)}: use an upper-case ISO 4217 code such as "BDT" or "USD". ` +
        `If it is a real ISO 4217 currency, add it with its minor units to domain/money/currency.ts.`,
    );
    this.currency = currency;
  }
}

/** An allocation request that cannot be split fairly (negative total, negative or all-zero weights, …). */
export class InvalidAllocationError extends Error {
  override readonly name = 'InvalidAllocationError';
  readonly code = 'INVALID_ALLOCATION' as const;
}
