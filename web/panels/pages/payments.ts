import { newIdempotencyKey } from '../api-client.js';
import type { FormState } from '../helpers.js';
import { exportLinks, field, formValues, submitForm, type PageContext, type Pages } from '../page-kit.js';
import { pageQuery, pagerFor } from '../paging.js';

/**
 * Payments as recorded (filters, paging) and one payment: the bills it settled, how it was split along the
 * chain, its refunds, and the refund form (a passkey step-up: refunds move money out).
 */
const METHODS = ['cash', 'online', 'card', 'reseller_wallet'];
type Payment = { payment_id: string; customer_id: string; amount: string; refunded: string; currency: string; method: string; allocations: unknown; commission: unknown; refunds: unknown[] };

export function paymentPages(pages: Pages): void {
  pages.get('/payments', 'customers.read', async (page) => {
    const query = page.request.query as Record<string, string | undefined>;
    const paging = pageQuery(query);
    const day = (value: string | undefined): string | undefined => (/^\d{4}-\d{2}-\d{2}$/.test(value ?? '') ? value : undefined);
    const filters = {
      method: METHODS.includes(query.method ?? '') ? query.method : undefined,
      from: day(query.from),
      to: day(query.to),
      customer_id: query.customer_id || undefined,
      collected_by: query.collected_by || undefined,
    };
    const list = await page.api.get<{ payments: unknown[]; next: string | null }>('/api/v1/payments', { ...filters, limit: 50, after: paging.after });
    return page.render('payments', {
      title: 'Payments',
      payments: list.payments,
      pager: pagerFor('/payments', query, paging, list.next, list.payments.length),
      form: { id: 'filters', values: filters, errors: {} } satisfies FormState,
      methods: METHODS,
      exports: exportLinks('payments', { method: filters.method, collected_by: filters.collected_by }),
    });
  });

  const showPayment = async (page: PageContext, payment_id: string, forms: Readonly<Record<string, FormState>> = {}) => {
    const payment = await page.api.get<Payment>(`/api/v1/payments/${encodeURIComponent(payment_id)}`);
    const allocations = Array.isArray(payment.allocations) ? payment.allocations : [];
    const commission = Array.isArray(payment.commission) ? payment.commission : [];
    return page.render(
      'payment',
      {
        title: `Payment ${payment.payment_id}`,
        payment,
        allocations,
        commission,
        forms: { refund: forms.refund ?? { id: 'refund', values: {}, errors: {} } },
        open: forms.refund !== undefined,
        key: newIdempotencyKey(),
      },
    );
  };

  pages.get('/payments/:payment_id', 'customers.read', async (page) => showPayment(page, (page.request.params as { payment_id: string }).payment_id));

  pages.post('/payments/:payment_id/refund', 'payments.refund', async (page) => {
    const { payment_id } = page.request.params as { payment_id: string };
    const values = formValues(page.request.body);
    const key = (page.request.body as { _idempotency?: unknown } | undefined)?._idempotency;
    const payment = await page.api.get<Payment>(`/api/v1/payments/${encodeURIComponent(payment_id)}`);
    return submitForm(page, {
      id: 'refund',
      values,
      run: () =>
        page.api.send('POST', `/api/v1/customers/${encodeURIComponent(payment.customer_id)}/refunds`, { payment_id, amount: field(values, 'amount') ?? '', reason: field(values, 'reason') ?? '' }, typeof key === 'string' ? { idempotency_key: key } : {}),
      done: { url: `/payments/${encodeURIComponent(payment_id)}`, message: 'Refund recorded; commission was clawed back along the chain.' },
      again: (forms) => showPayment(page, payment_id, forms),
    });
  });
}
