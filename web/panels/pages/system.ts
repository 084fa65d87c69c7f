import { isFormRefusal } from '../api-client.js';
import type { FormState } from '../helpers.js';
import { formStateOf, type Pages } from '../page-kit.js';
import { pageQuery, pagerFor } from '../paging.js';

/**
 * Who is online now (RADIUS sessions), how far each read model is behind the log, and the replay page that
 * shows a customer or an operator as the system knew it at a date, an instant or an event — for disputes.
 */
export function systemPages(pages: Pages): void {
  pages.get('/sessions', 'customers.read', async (page) => {
    const query = page.request.query as Record<string, string | undefined>;
    const paging = pageQuery(query);
    const filters = { text: query.text?.trim() || undefined, router_id: query.router_id || undefined };
    const [list, routers] = await Promise.all([
      page.api.get<{ sessions: unknown[]; next: string | null }>('/api/v1/sessions', { ...filters, limit: 50, after: paging.after }),
      page.can('routers.read') && query.fragment !== 'results' ? page.api.get<{ routers: { router_id: string; name: string }[] }>('/api/v1/routers') : Promise.resolve({ routers: [] }),
    ]);
    const data = { sessions: list.sessions, pager: pagerFor('/sessions', query, paging, list.next, list.sessions.length), filtered: filters.text !== undefined || filters.router_id !== undefined };
    if (query.fragment === 'results') return page.fragment('session-results', data);
    return page.render('sessions', { title: 'Online now', ...data, form: { id: 'filters', values: filters, errors: {} } satisfies FormState, routers: routers.routers.length > 0 ? routers.routers : null });
  });

  pages.get('/projections', 'projections.read', async (page) => {
    const { projections } = await page.api.get<{ projections: { name: string; state: string; lag_events: number; failed_event: unknown }[] }>('/api/v1/projections');
    return page.render('projections', { title: 'System status', projections, healthy: projections.every((projection) => projection.failed_event === null && projection.lag_events < 1000) });
  });

  pages.get('/replay', 'replay.read', async (page) => {
    const query = page.request.query as Record<string, string | undefined>;
    const values = { customer_id: query.customer_id ?? '', operator_id: query.operator_id ?? '', as_of: query.as_of ?? page.session.today };
    const subject = values.customer_id !== '' ? { kind: 'customer', url: `/api/v1/customers/${encodeURIComponent(values.customer_id)}/as-of` } : values.operator_id !== '' ? { kind: 'operator', url: `/api/v1/operators/${encodeURIComponent(values.operator_id)}/as-of` } : null;
    let result: Record<string, unknown> | null = null;
    let form: FormState = { id: 'replay', values, errors: {} };
    if (subject !== null) {
      try {
        result = await page.api.get<Record<string, unknown>>(subject.url, { as_of: values.as_of });
      } catch (error) {
        if (!isFormRefusal(error)) throw error;
        form = formStateOf('replay', values, error.failure, { customer_id: 'customer_id', operator_id: 'operator_id' });
        if (error.status === 404 && Object.keys(form.errors).length === 0) form = { ...form, errors: { [subject.kind === 'customer' ? 'customer_id' : 'operator_id']: error.message }, error: null };
      }
    }
    return page.render('replay', { title: 'Replay & disputes', form, kind: subject?.kind ?? null, result });
  });
}
