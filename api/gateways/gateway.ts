/**
 * What IspBills needs from an online payment gateway, whichever it is. A payment goes:
 *
 * 1. `start`: we open a session at the gateway for an amount we fixed (and remember in gateway_sessions under
 *    our transaction id); the customer's browser is sent to the URL it returns.
 * 2. The gateway tells us the outcome twice, in any order and possibly more than once: a server-to-server
 *    notification (IPN, webhook) and the customer's browser coming back. Both go through `authenticate`,
 *    which refuses anything not signed with our store's secret, and says what the callback claims.
 * 3. `confirm`: before money is recorded we ask the gateway itself, over our own connection, whether the
 *    payment is real and what it was for; nothing in the callback is trusted for the amount or the currency.
 *
 * Recording (api/gateways/online-payments.ts) is the same for every gateway: compare the confirmation with
 * the session, then `receivePayment` with method `online`, the gateway's name and our transaction id as its
 * reference, so a second callback finds the payment already there.
 */
export type StartPayment = Readonly<{
  tran_id: string;
  /** A decimal string with the currency's minor units ("500.00"); never a JS number. */
  amount: string;
  currency: string;
  description: string;
  customer: Readonly<{ customer_id: string; name: string; mobile: string; email: string; city: string }>;
  urls: Readonly<{ ipn: string; success: string; fail: string; cancel: string }>;
}>;

export type StartedPayment = Readonly<{ redirect_url: string; gateway_session_key: string | null }>;

/** What a signed callback claims. `paid` still has to be confirmed with the gateway before it counts. */
export type GatewayNotice = Readonly<{
  tran_id: string;
  outcome: 'paid' | 'failed' | 'cancelled' | 'pending';
  /** The gateway's id to confirm the payment with (SSLCommerz val_id); null when it did not succeed. */
  validation_id: string | null;
  /** The gateway's words for the outcome, for the session's record. */
  status_text: string;
}>;

/** What the gateway says about a payment when asked directly. */
export type GatewayConfirmation = Readonly<{
  tran_id: string;
  /** In the currency the payment was started in, as the gateway reports it (a decimal string). */
  amount: string;
  currency: string;
  /** The gateway's own transaction id (SSLCommerz bank_tran_id), for reconciliation. */
  gateway_transaction_id: string | null;
  /** The gateway asks us to hold the payment and check the customer before giving service. */
  risky: boolean;
  detail: string;
}>;

export interface PaymentGateway {
  /** Stored as the payment's `gateway`, and the path segment of its callbacks. */
  readonly name: string;
  /** The smallest and largest amount the gateway takes in this currency; null where it sets no limit. */
  limits(currency: string): Readonly<{ min: string; max: string }> | null;
  start(request: StartPayment): Promise<StartedPayment>;
  /** Throws GATEWAY_SIGNATURE_INVALID (400) unless the callback is signed with our secret. */
  authenticate(fields: Readonly<Record<string, string>>): GatewayNotice;
  /** Throws GATEWAY_VALIDATION_FAILED (502) when the gateway cannot be asked or does not confirm a payment. */
  confirm(notice: GatewayNotice): Promise<GatewayConfirmation>;
}
