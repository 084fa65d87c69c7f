/**
 * Every way a command can be refused, with a stable code. When several rules fail, the first one in a
 * decider's documented order is reported, so the same input always gets the same answer.
 */
export const REJECTION_CODES = [
  'ISP_NOT_FOUND',
  'ISP_ALREADY_EXISTS',
  'OPERATOR_NOT_FOUND',
  'OPERATOR_ALREADY_EXISTS',
  'OPERATOR_SUSPENDED',
  'OPERATOR_NOT_IN_SUBTREE',
  'WRONG_TENANT',
  'CHILD_ROLE_NOT_ALLOWED',
  'INVALID_BILLING_MODE',
  'INVALID_COMMISSION_TERMS',
  'INSUFFICIENT_RESELLER_BALANCE',
  'CREDIT_LIMIT_EXCEEDED',
  'STAFF_NOT_FOUND',
  'STAFF_ALREADY_EXISTS',
  'PACKAGE_NOT_FOUND',
  'PACKAGE_ALREADY_EXISTS',
  'PACKAGE_RETIRED',
  'PACKAGE_NOT_ASSIGNED',
  'PRICE_BELOW_WHOLESALE',
  'INVALID_PACKAGE',
  'CUSTOMER_NOT_FOUND',
  'CUSTOMER_ALREADY_EXISTS',
  'CUSTOMER_DISABLED',
  'CUSTOMER_SUSPENDED',
  'CUSTOMER_NOT_SUSPENDED',
  'CUSTOMER_NOT_EXPIRED',
  'CUSTOMER_NOT_DUE',
  'USERNAME_TAKEN',
  'MAC_TAKEN',
  'STATIC_IP_TAKEN',
  'INVALID_CREDENTIALS',
  'WRONG_BILLING_PROFILE',
  'BILL_NOT_DUE_YET',
  'NOTHING_TO_BILL',
  'PAYMENT_NOT_FOUND',
  'PAYMENT_AMOUNT_TOO_SMALL',
  'REFUND_EXCEEDS_PAYMENT',
  'DUPLICATE_GATEWAY_REFERENCE',
  'INVALID_AMOUNT',
  'CURRENCY_MISMATCH',
  'CARD_BATCH_NOT_FOUND',
  'CARD_BATCH_ALREADY_EXISTS',
  'CARD_NOT_FOUND',
  'CARD_ALREADY_REDEEMED',
  'CARD_EXPIRED',
  'CARD_WRONG_PIN',
  'CARD_NOT_ASSIGNED_TO_YOU',
  'ROUTER_NOT_FOUND',
  'ROUTER_ALREADY_EXISTS',
  'ROUTER_REMOVED',
  'NAS_IP_TAKEN',
  'INVALID_INPUT',
  'NOT_PERMITTED',
  'IDEMPOTENCY_KEY_REUSED',
] as const;

export type RejectionCode = (typeof REJECTION_CODES)[number];

export type Rejection = Readonly<{
  code: RejectionCode;
  /** Says what was wrong and, where it helps, what to do instead. */
  message: string;
}>;

export const rejection = (code: RejectionCode, message: string): Rejection => ({ code, message });
