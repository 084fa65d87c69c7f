import type { ApiClient } from '../panels/api-client.js';
import type { PaymentRow } from './account-view.js';

/**
 * A browser back from the payment gateway lands with `?payment=<tran_id>&outcome=…` (api/gateways). The outcome
 * was decided by the callback that recorded the payment (or did not); this only waits, bounded, until the read
 * models show a recorded payment, so the page that follows shows the account as it now is.
 */
export type PaymentOutcome = 'recorded' | 'held' | 'failed' | 'cancelled' | 'pending';

const OUTCOMES: Readonly<Record<string, PaymentOutcome>> = {
  recorded: 'recorded',
  already_recorded: 'recorded',
  held: 'held',
  failed: 'failed',
  cancelled: 'cancelled',
  pending: 'pending',
};

/** How long a page waits for a just-recorded payment to reach the read models. */
const WAIT_MS = 5_000;
const POLL_MS = 200;

export async function paymentOutcome(api: ApiClient, query: Readonly<Record<string, unknown>>): Promise<PaymentOutcome | null> {
  if (typeof query.payment !== 'string' || typeof query.outcome !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(query.payment)) return null;
  const outcome = OUTCOMES[query.outcome];
  if (outcome === undefined) return null;
  if (outcome === 'recorded') {
    const payment_id = `pay-${query.payment}`;
    for (let waited = 0; waited < WAIT_MS; waited += POLL_MS) {
      const recent = await api.get<{ payments: PaymentRow[] }>('/api/v1/me/payments', { limit: 10 });
      if (recent.payments.some((payment) => payment.payment_id === payment_id)) break;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }
  return outcome;
}
