import { cardSerial } from '../../../domain/cards/card-batch.js';
import { ApiRefusal, isFormRefusal, newIdempotencyKey } from '../api-client.js';
import type { FormState } from '../helpers.js';
import { field, formStateOf, formValues, integerField, submitForm, type PageContext, type Pages } from '../page-kit.js';
import { pageQuery, pagerFor } from '../paging.js';
import { operatorOptions, packageOptions } from './customers.js';

/**
 * Recharge cards: batches with their counts, generating a batch (the ISP; a passkey step-up, since a batch is
 * money) and printing its sheet — the PINs exist only in the API's reply, so the sheet is shown once, right
 * then — and handing cards down to resellers and distributors.
 */
type Batch = { batch_id: string; value: string; currency: string; package_id: string | null; expires_on: string; cards: number; available: number; assigned: number; redeemed: number; expired: number };
const STATUSES = ['available', 'assigned', 'redeemed', 'expired'];
const MAX_SERIALS = 10_000;

/**
 * "1-20, 25" → the serials 00000001 … 00000020 and 00000025, written as the batch writes them; anything else is
 * passed on whole for the API to refuse beside the field.
 */
export function serialsOf(text: string): string[] {
  const serials: string[] = [];
  for (const part of text.split(/[\s,;]+/).filter((item) => item !== '')) {
    const range = /^(\d{1,12})(?:-(\d{1,12}))?$/.exec(part);
    const [from, to] = range === null ? [NaN, NaN] : [Number(range[1]), Number(range[2] ?? range[1])];
    if (range === null || to < from || to - from >= MAX_SERIALS) {
      serials.push(part);
      continue;
    }
    for (let serial = from; serial <= to; serial += 1) serials.push(cardSerial(serial));
  }
  return serials;
}


export function cardPages(pages: Pages): void {
  const listPage = async (page: PageContext, form: FormState | null) => {
    const [{ batches }, packages] = await Promise.all([page.api.get<{ batches: Batch[] }>('/api/v1/card-batches'), page.can('cards.manage') && page.session.isp_level ? packageOptions(page) : Promise.resolve([])]);
    const nextYear = `${Number(page.session.today.slice(0, 4)) + 1}${page.session.today.slice(4)}`;
    return page.render(
      'cards',
      { title: 'Recharge cards', batches, packages, form: form ?? { id: 'batch', values: { count: '50', value: '500.00', expires_on: nextYear, first_serial: '1' }, errors: {} }, open: form !== null, key: newIdempotencyKey() },
    );
  };

  pages.get('/cards', 'cards.read', async (page) => listPage(page, null));

  pages.post('/cards/batches', 'cards.manage', async (page) => {
    const values = formValues(page.request.body);
    const body = {
      count: integerField(values, 'count'),
      value: field(values, 'value') ?? '',
      package_id: field(values, 'package_id') ?? null,
      expires_on: field(values, 'expires_on') ?? '',
      first_serial: integerField(values, 'first_serial') ?? 1,
    };
    try {
      const key = (page.request.body as { _idempotency?: unknown } | undefined)?._idempotency;
      const created = await page.api.send<{ result: { batch_id: string; cards: { serial: string; pin: string }[] } }>('POST', '/api/v1/card-batches', body, typeof key === 'string' ? { idempotency_key: key } : {});
      // The sheet is the only time the PINs are shown: rendered now, not after a redirect.
      return page.render('card-sheet', { title: `Print sheet · ${created.result.batch_id}`, batch_id: created.result.batch_id, cards: created.result.cards, value: body.value, expires_on: body.expires_on, package_id: body.package_id, isp: page.session.isp_name, currency: page.session.currency });
    } catch (error) {
      if (!isFormRefusal(error)) throw error;
      return listPage(page, formStateOf('batch', values, error.failure));
    }
  });

  const showBatch = async (page: PageContext, batch_id: string, forms: Readonly<Record<string, FormState>> = {}) => {
    const query = page.request.query as Record<string, string | undefined>;
    const paging = pageQuery(query);
    const filter = STATUSES.includes(query.status ?? '') ? query.status : undefined;
    const [list, operators] = await Promise.all([
      page.api.get<{ cards: { serial: string; status: string; value: string; currency: string; expires_on: string; assigned_operator_id: string | null; assigned_staff_id: string | null; redeemed_by_customer_id: string | null; redeemed_at: string | null }[]; next: string | null }>(
        '/api/v1/cards',
        { batch_id, status: filter, limit: 100, after: paging.after },
      ),
      page.can('cards.manage') ? operatorOptions(page) : Promise.resolve([]),
    ]);
    if (list.cards.length === 0 && paging.after === undefined && filter === undefined) {
      throw new ApiRefusal({ status: 404, code: 'CARD_BATCH_NOT_FOUND', message: `no card batch ${batch_id} with cards you can see` });
    }
    return page.render(
      'card-batch',
      {
        title: `Batch ${batch_id}`,
        batch_id,
        cards: list.cards,
        pager: pagerFor(`/cards/batches/${encodeURIComponent(batch_id)}`, query, paging, list.next, list.cards.length),
        filter: { id: 'filter', values: { status: filter }, errors: {} },
        statuses: STATUSES,
        operators,
        forms: { assign: forms.assign ?? { id: 'assign', values: {}, errors: {} } },
        open: forms.assign !== undefined,
      },
    );
  };

  pages.get('/cards/batches/:batch_id', 'cards.read', async (page) => showBatch(page, (page.request.params as { batch_id: string }).batch_id));

  pages.post('/cards/batches/:batch_id/assign', 'cards.manage', async (page) => {
    const { batch_id } = page.request.params as { batch_id: string };
    const values = formValues(page.request.body);
    return submitForm(page, {
      id: 'assign',
      values,
      run: () =>
        page.api.send('POST', `/api/v1/card-batches/${encodeURIComponent(batch_id)}/assignments`, {
          serials: serialsOf(field(values, 'serials') ?? ''),
          to_operator_id: field(values, 'to_operator_id') ?? '',
          to_staff_id: field(values, 'to_staff_id') ?? null,
        }),
      done: { url: `/cards/batches/${encodeURIComponent(batch_id)}`, message: 'Cards assigned.' },
      again: (forms) => showBatch(page, batch_id, forms),
    });
  });
}
