import type { FormState } from '../helpers.js';
import { exportLinks, field, formStateOf, formValues, type PageContext, type Pages } from '../page-kit.js';
import { pageQuery, pagerFor } from '../paging.js';
import { isFormRefusal } from '../api-client.js';
import { operatorOptions } from './customers.js';

/**
 * Bills (filters, paging) and the monthly bill run: first a preview — what the run would issue now, decided by
 * the run's own rules with nothing written — then the run itself, which is safe to repeat.
 */
type Preview = {
  period: string;
  customers: number;
  to_issue: number;
  unchanged: number;
  totals: { currency: string; amount: string; credit_applied: string }[];
  bills: { customer_id: string; kind: string; covers_from: string; covers_until: string; amount: string; currency: string; due_on: string; credit_applied: string }[];
  refused: { customer_id: string; code: string; message: string }[];
};

const STATUSES = ['open', 'partially_paid', 'paid'];

export function billPages(pages: Pages): void {
  pages.get('/bills', 'customers.read', async (page) => {
    const query = page.request.query as Record<string, string | undefined>;
    const paging = pageQuery(query);
    const filters = {
      status: STATUSES.includes(query.status ?? '') ? query.status : undefined,
      period: /^\d{4}-\d{2}$/.test(query.period ?? '') ? query.period : undefined,
      customer_id: query.customer_id || undefined,
      operator_id: query.operator_id || undefined,
    };
    const [list, operators] = await Promise.all([page.api.get<{ bills: unknown[]; next: string | null }>('/api/v1/bills', { ...filters, limit: 50, after: paging.after }), operatorOptions(page)]);
    return page.render('bills', {
      title: 'Bills',
      bills: list.bills,
      pager: pagerFor('/bills', query, paging, list.next, list.bills.length),
      form: { id: 'filters', values: filters, errors: {} } satisfies FormState,
      statuses: STATUSES,
      operators: operators.length > 1 ? operators : null,
      exports: exportLinks('bills', { status: filters.status, period: filters.period, operator_id: filters.operator_id }),
    });
  });

  const runPage = async (page: PageContext, data: Readonly<{ form: FormState; preview?: Preview | null; report?: unknown }>) =>
    page.render('bill-runs', { title: 'Bill run', operators: await operatorOptions(page), preview: null, report: null, ...data });

  pages.get('/bill-runs', 'bills.run', async (page) => {
    const query = page.request.query as Record<string, string | undefined>;
    const values = { period: query.period ?? page.session.today.slice(0, 7), operator_id: query.operator_id ?? '' };
    if (query.period === undefined) return runPage(page, { form: { id: 'run', values, errors: {} } });
    try {
      const preview = await page.api.get<Preview>('/api/v1/bill-runs/preview', { period: values.period, operator_id: values.operator_id || undefined });
      return runPage(page, { form: { id: 'run', values, errors: {} }, preview });
    } catch (error) {
      if (!isFormRefusal(error)) throw error;
      return runPage(page, { form: formStateOf('run', values, error.failure) });
    }
  });

  pages.post('/bill-runs', 'bills.run', async (page) => {
    const values = formValues(page.request.body);
    const period = field(values, 'period') ?? '';
    const operator_id = field(values, 'operator_id');
    try {
      const report = await page.api.send<{ period: string; customers: number; issued: number; unchanged: number; refused: { customer_id: string; code: string; message: string }[] }>('POST', '/api/v1/bill-runs', { period, ...(operator_id === undefined ? {} : { operator_id }) });
      // The result is shown, not redirected to: a reload runs it again, which issues nothing new.
      return runPage(page, { form: { id: 'run', values, errors: {} }, report });
    } catch (error) {
      if (!isFormRefusal(error)) throw error;
      return runPage(page, { form: formStateOf('run', values, error.failure) });
    }
  });
}
