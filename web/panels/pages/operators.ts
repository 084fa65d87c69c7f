import { newIdempotencyKey } from '../api-client.js';
import type { FormState } from '../helpers.js';
import { field, formValues, recordActions, submitForm, type PageContext, type Pages } from '../page-kit.js';
import { pageQuery, pagerFor } from '../paging.js';
import { operatorOptions, packageOptions, type Operator } from './customers.js';

/**
 * The operator tree below the caller: resellers and sub-resellers, each with its wallet, commission terms and
 * the packages it may sell; what a parent does to a child (create, top up its wallet, set its terms, prices and
 * billing mode, suspend it); and every operator's wallet history and commission statement, a reseller's own
 * included ("My wallet").
 */
type OperatorDetail = Operator & {
  time_zone: string;
  created_at: string;
  commission_terms: { kind: string; percent?: string; effective_from: string } | null;
  packages: { package_id: string; name: string | null; wholesale_price: string; effective_from: string }[];
  children: number;
};

const blank = (id: string, values: Record<string, unknown> = {}): FormState => ({ id, values, errors: {} });

export function operatorPages(pages: Pages): void {
  pages.get('/operators', 'operators.read', async (page) => {
    const query = page.request.query as Record<string, string | undefined>;
    const paging = pageQuery(query);
    const filters = { role: ['reseller', 'sub_reseller'].includes(query.role ?? '') ? query.role : undefined, status: ['active', 'suspended'].includes(query.status ?? '') ? query.status : undefined };
    const list = await page.api.get<{ operators: OperatorDetail[]; next: string | null }>('/api/v1/operators', { ...filters, limit: 50, after: paging.after });
    const names = new Map(list.operators.map((operator) => [operator.operator_id, operator.name]));
    const below = list.operators.filter((operator) => operator.operator_id !== page.session.operator_id);
    return page.render('operators', {
      title: page.session.isp_level ? 'Resellers' : 'Sub-resellers',
      operators: below.map((operator) => ({ ...operator, parent_name: names.get(operator.parent_id ?? '') ?? operator.parent_id })),
      pager: pagerFor('/operators', query, paging, list.next, below.length),
      form: blank('filters', filters),
      roles: ['reseller', 'sub_reseller'],
      statuses: ['active', 'suspended'],
    });
  });

  const newOperatorPage = async (page: PageContext, form: FormState) =>
    page.render('operator-new', { title: 'New operator', form, parents: await operatorOptions(page), modes: ['prepaid', 'postpaid'] });

  pages.get('/operators/new', 'operators.write', async (page) => newOperatorPage(page, blank('operator', { parent_id: page.session.operator_id, billing_mode: 'prepaid', credit_limit: '0' })));

  pages.post('/operators', 'operators.write', async (page) => {
    const values = formValues(page.request.body);
    return submitForm(page, {
      id: 'operator',
      values,
      run: () =>
        page.api.send<{ result: { operator_id: string } }>('POST', '/api/v1/operators', {
          parent_id: field(values, 'parent_id') ?? page.session.operator_id,
          name: field(values, 'name') ?? '',
          billing_mode: field(values, 'billing_mode') ?? 'prepaid',
          credit_limit: field(values, 'credit_limit') ?? '0',
        }),
      done: { url: (result) => `/operators/${encodeURIComponent((result as { result: { operator_id: string } }).result.operator_id)}`, message: 'Operator created. Set its commission terms and the packages it may sell.' },
      again: (forms) => newOperatorPage(page, forms.operator!),
    });
  });

  const showOperator = async (page: PageContext, operator_id: string, forms: Readonly<Record<string, FormState>> = {}) => {
    const id = encodeURIComponent(operator_id);
    const [operator, children, staff, packages] = await Promise.all([
      page.api.get<OperatorDetail>(`/api/v1/operators/${id}`),
      page.api.get<{ operators: Operator[] }>('/api/v1/operators', { parent_id: operator_id, limit: 100 }),
      page.api.get<{ staff: { staff_id: string; name: string; role: string; permissions: string[] }[] }>('/api/v1/staff', { operator_id, limit: 100 }),
      page.can('operators.write') ? packageOptions(page) : Promise.resolve([]),
    ]);
    const own = operator_id === page.session.operator_id;
    const child = operator.parent_id === page.session.operator_id;
    const defaults: Record<string, Record<string, unknown>> = {
      topup: { method: 'cash' },
      mode: { billing_mode: operator.billing_mode, credit_limit: operator.credit_limit },
      terms: { kind: operator.commission_terms?.kind ?? 'share', percent: operator.commission_terms?.percent ?? '', effective_from: page.session.today },
      assign: { effective_from: page.session.today },
      suspend: {},
      login: {},
    };
    return page.render(
      'operator',
      {
        title: operator.name,
        operator,
        own,
        child,
        below: !own,
        children: children.operators,
        staff: staff.staff,
        packages,
        forms: Object.fromEntries(Object.entries(defaults).map(([name, values]) => [name, forms[name] ?? blank(name, values)])),
        open: Object.keys(forms)[0] ?? null,
        key: newIdempotencyKey(),
        methods: ['cash', 'bank', 'mobile_money', 'other'],
        modes: ['prepaid', 'postpaid'],
        kinds: ['share', 'wholesale'],
      },
    );
  };

  pages.get('/operators/:operator_id', 'operators.read', async (page) => showOperator(page, (page.request.params as { operator_id: string }).operator_id));

  const act = recordActions(pages, { path: '/operators/:operator_id', param: 'operator_id', show: (page, id, forms) => showOperator(page, id, forms) });
  const action = (path: string, form: string, build: Parameters<typeof act>[3], message: string, capability: Parameters<typeof act>[1] = 'operators.write') => act(path, capability, form, build, message);
  const on = (operator_id: string, what: string): string => `/api/v1/operators/${encodeURIComponent(operator_id)}/${what}`;

  action('top-up', 'topup', (values, id) => ({ url: on(id, 'wallet/top-ups'), money: true, body: { amount: field(values, 'amount') ?? '', method: field(values, 'method') ?? 'cash', ...(field(values, 'reference') === undefined ? {} : { reference: field(values, 'reference') }) } }), 'Wallet credited.');
  action('billing-mode', 'mode', (values, id) => ({ method: 'PUT', url: on(id, 'billing-mode'), body: { billing_mode: field(values, 'billing_mode') ?? '', credit_limit: field(values, 'credit_limit') ?? '0' } }), 'Billing mode set.');
  action(
    'terms',
    'terms',
    (values, id) => ({
      method: 'PUT',
      url: on(id, 'commission-terms'),
      body: { effective_from: field(values, 'effective_from') ?? '', terms: field(values, 'kind') === 'wholesale' ? { kind: 'wholesale' } : { kind: 'share', percent: field(values, 'percent') ?? '' } },
    }),
    'Commission terms set.',
  );
  action('packages', 'assign', (values, id) => ({ url: on(id, 'packages'), body: { package_id: field(values, 'package_id') ?? '', wholesale_price: field(values, 'wholesale_price') ?? '', effective_from: field(values, 'effective_from') ?? '' } }), 'Package assigned.');
  action('suspend', 'suspend', (values, id) => ({ url: on(id, 'suspend'), body: { reason: field(values, 'reason') ?? '' } }), 'Operator suspended: its customers keep working, it can no longer sell.');
  action('reinstate', 'reinstate', (_values, id) => ({ url: on(id, 'reinstate'), body: {} }), 'Operator reinstated.');
  action(
    'login',
    'login',
    (values, id) => ({ url: '/api/v1/logins', body: { login: field(values, 'login') ?? '', password: field(values, 'password') ?? '', principal_kind: 'operator', principal_id: id } }),
    'Login created.',
    'logins.manage',
  );

  // --- wallet history and commission statement ------------------------------------------------------------------------

  pages.get('/operators/:operator_id/wallet', 'operators.read', async (page) => {
    const { operator_id } = page.request.params as { operator_id: string };
    const query = page.request.query as Record<string, string | undefined>;
    const paging = pageQuery(query);
    const [operator, wallet] = await Promise.all([
      page.api.get<OperatorDetail>(`/api/v1/operators/${encodeURIComponent(operator_id)}`),
      page.api.get<{ currency: string; balance: string; entries: unknown[]; next: string | null }>(`/api/v1/operators/${encodeURIComponent(operator_id)}/wallet`, { limit: 50, after: paging.after }),
    ]);
    return page.render('operator-wallet', {
      title: operator_id === page.session.operator_id ? 'My wallet' : `Wallet of ${operator.name}`,
      operator,
      wallet,
      own: operator_id === page.session.operator_id,
      pager: pagerFor(`/operators/${encodeURIComponent(operator_id)}/wallet`, query, paging, wallet.next, wallet.entries.length),
    });
  });

  pages.get('/operators/:operator_id/commission', 'operators.read', async (page) => {
    const { operator_id } = page.request.params as { operator_id: string };
    const query = page.request.query as Record<string, string | undefined>;
    const now = page.session.today;
    const from = query.from || `${now.slice(0, 7)}-01`;
    const to = query.to || now;
    const [operator, statement] = await Promise.all([
      page.api.get<OperatorDetail>(`/api/v1/operators/${encodeURIComponent(operator_id)}`),
      page.api.get<{ currency: string; totals: { commission: string; clawback: string; net: string }; lines: unknown[]; next: string | null }>(`/api/v1/operators/${encodeURIComponent(operator_id)}/commission`, { from, to, limit: 500 }),
    ]);
    return page.render('operator-commission', {
      title: 'Commission statement',
      operator,
      statement,
      own: operator_id === page.session.operator_id,
      form: blank('period', { from, to }),
      from,
      to,
    });
  });
}
