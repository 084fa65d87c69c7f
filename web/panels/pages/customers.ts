import { newIdempotencyKey } from '../api-client.js';
import type { FormState } from '../helpers.js';
import { exportLinks, field, formValues, integerField, nullable, recordActions, submitForm, type PageContext, type Pages } from '../page-kit.js';
import { pageQuery, pagerFor } from '../paging.js';

/**
 * Customers: the list (search as you type, filters, paging), a new customer, and one customer's page with its
 * state, the timeline that explains it, bills, payments, usage, and every action the caller's role allows —
 * each a form posted here and carried out by the API's own route.
 */
export type Customer = {
  customer_id: string;
  name: string;
  username: string | null;
  mobile: string;
  mac: string | null;
  static_ip: string | null;
  operator_id: string;
  zone: string;
  package_id: string;
  status: string;
  expires_at: string | null;
  balance_due: string;
  credit: string;
  chain?: string[];
  connection_type?: string;
  billing_profile?: string;
};
export type Package = { package_id: string; name: string; price: string; currency: string; validity_days: number; down_kbps: number; up_kbps: number; retired: boolean; wholesale_price: string | null };
export type Operator = { operator_id: string; name: string; role: string; parent_id: string | null; ancestry: string[]; status: string; wallet_balance: string; currency: string; billing_mode: string; credit_limit: string };
type TimelineLine = { event: string; type: string; at: string; actor: string; status_before: string | null; status_after: string; summary: string };

const PAGE_SIZE = 25;
/** The newest events shown on a customer's page; the rest are a click away. */
const TIMELINE_SHOWN = 15;
const STATUSES = ['active', 'expired', 'suspended', 'disabled'];
const CONNECTION_TYPES = ['pppoe', 'hotspot', 'static_ip'];

/** Packages the caller may sell, as a select's options with their price. */
export async function packageOptions(page: PageContext): Promise<(Package & { label: string })[]> {
  if (!page.can('packages.read')) return [];
  const { packages } = await page.api.get<{ packages: Package[] }>('/api/v1/packages', { limit: 500 });
  return packages.map((item) => ({ ...item, label: `${item.name} — ${item.currency} ${item.price} / ${item.validity_days} days` }));
}

/** The caller's operator and those below it, indented by depth, for "which operator" selects. */
export async function operatorOptions(page: PageContext): Promise<(Operator & { label: string })[]> {
  if (!page.can('operators.read')) return [];
  const { operators } = await page.api.get<{ operators: Operator[] }>('/api/v1/operators', { limit: 500 });
  const depth = (operator: Operator): number => operator.ancestry.length - (operators.find((item) => item.operator_id === page.session.operator_id)?.ancestry.length ?? 0);
  return operators.map((operator) => ({ ...operator, label: `${'— '.repeat(Math.max(0, depth(operator)))}${operator.name}` }));
}

const blankForm = (id: string, values: Record<string, unknown> = {}): FormState => ({ id, values, errors: {} });

export function customerPages(pages: Pages): void {
  pages.get('/customers', 'customers.read', async (page) => {
    const query = page.request.query as Record<string, string | undefined>;
    const paging = pageQuery(query);
    const filters = {
      text: query.text?.trim() || undefined,
      status: STATUSES.includes(query.status ?? '') ? query.status : undefined,
      package_id: query.package_id || undefined,
      operator_id: query.operator_id || undefined,
      zone: query.zone?.trim() || undefined,
    };
    const [list, packages, operators] = await Promise.all([
      page.api.get<{ customers: Customer[]; next: string | null }>('/api/v1/customers', { ...filters, limit: PAGE_SIZE, after: paging.after }),
      query.fragment === 'results' ? Promise.resolve(null) : packageOptions(page),
      query.fragment === 'results' ? Promise.resolve(null) : operatorOptions(page),
    ]);
    const names = new Map((packages ?? []).map((item) => [item.package_id, item.name]));
    const data = {
      customers: list.customers.map((customer) => ({ ...customer, package_name: names.get(customer.package_id) ?? customer.package_id })),
      pager: pagerFor('/customers', query, paging, list.next, list.customers.length),
      filters,
      filtered: Object.values(filters).some((value) => value !== undefined),
    };
    if (query.fragment === 'results') return page.fragment('customer-results', data);
    return page.render('customers', {
      title: 'Customers',
      ...data,
      form: blankForm('filters', filters),
      statuses: STATUSES,
      packages,
      operators: (operators ?? []).length > 1 ? operators : null,
      exports: exportLinks('customers', { status: filters.status, package_id: filters.package_id, operator_id: filters.operator_id, zone: filters.zone }),
    });
  });

  // --- a new customer --------------------------------------------------------------------------------------------------

  const newCustomerPage = async (page: PageContext, form: FormState) => {
    const [packages, operators] = await Promise.all([packageOptions(page), operatorOptions(page)]);
    return page.render(
      'customer-new',
      { title: 'New customer', form, packages, operators, connection_types: CONNECTION_TYPES, modes: ['prepaid', 'postpaid'], profiles: ['daily', 'monthly'] },
    );
  };

  pages.get('/customers/new', 'customers.write', async (page) =>
    newCustomerPage(page, blankForm('customer', { operator_id: page.session.operator_id, connection_type: 'pppoe', profile_kind: 'daily', due_day: '1', mode: 'prepaid', grace_days: '5' })),
  );

  pages.post('/customers', 'customers.write', async (page) => {
    const values = formValues(page.request.body);
    const profile =
      field(values, 'profile_kind') === 'monthly'
        ? { kind: 'monthly', due_day: integerField(values, 'due_day'), mode: field(values, 'mode'), grace_days: integerField(values, 'grace_days') }
        : { kind: field(values, 'profile_kind') ?? 'daily' };
    return submitForm(page, {
      id: 'customer',
      values,
      run: () =>
        page.api.send<{ result: { customer_id: string } }>('POST', '/api/v1/customers', {
          operator_id: field(values, 'operator_id') ?? page.session.operator_id,
          connection_type: field(values, 'connection_type'),
          name: field(values, 'name') ?? '',
          mobile: field(values, 'mobile') ?? '',
          zone: field(values, 'zone') ?? '',
          username: nullable(values, 'username'),
          password: nullable(values, 'password'),
          mac: nullable(values, 'mac'),
          static_ip: nullable(values, 'static_ip'),
          package_id: field(values, 'package_id') ?? '',
          profile,
          special_price: nullable(values, 'special_price'),
        }),
      done: { url: (result) => `/customers/${encodeURIComponent((result as { result: { customer_id: string } }).result.customer_id)}`, message: 'Customer registered.' },
      again: (forms) => newCustomerPage(page, forms.customer!),
      aliases: { 'profile.kind': 'profile_kind' },
    });
  });

  // --- one customer ----------------------------------------------------------------------------------------------------

  const showCustomer = async (page: PageContext, customer_id: string, forms: Readonly<Record<string, FormState>> = {}) => {
    const id = encodeURIComponent(customer_id);
    const customer = await page.api.get<Customer>(`/api/v1/customers/${id}`);
    const [timeline, bills, payments, usage, packages, wallet] = await Promise.all([
      page.api.get<{ timeline: TimelineLine[] }>(`/api/v1/customers/${id}/timeline`),
      page.api.get<{ bills: unknown[] }>('/api/v1/bills', { customer_id, limit: 10 }),
      page.api.get<{ payments: unknown[] }>('/api/v1/payments', { customer_id, limit: 10 }),
      page.api.get<{ online: boolean; totals: unknown; sessions: unknown[] }>(`/api/v1/customers/${id}/usage`, { limit: 10 }),
      packageOptions(page),
      // A reseller recharges from its wallet: the balance is shown beside the form (the API checks it).
      page.can('payments.collect') && !page.session.isp_level && page.can('operators.read') ? page.api.get<Operator>(`/api/v1/operators/${encodeURIComponent(page.session.operator_id)}`) : Promise.resolve(null),
    ]);
    const lines = [...timeline.timeline].reverse();
    const all = (page.request.query as { timeline?: string }).timeline === 'all';
    const cause = lines.find((line) => line.status_before !== line.status_after);
    const pkg = packages.find((item) => item.package_id === customer.package_id);
    const defaults: Record<string, Record<string, unknown>> = {
      details: { name: customer.name, mobile: customer.mobile, zone: customer.zone },
      payment: { amount: pkg?.price ?? '', method: page.session.isp_level ? 'cash' : 'reseller_wallet', recharge_package_id: customer.billing_profile === 'daily' ? customer.package_id : '' },
      package: { package_id: customer.package_id },
      mac: { mac: customer.mac ?? '' },
      suspend: {},
      expiry: { expires_on: customer.expires_at?.slice(0, 10) ?? '' },
      disable: {},
      card: {},
      login: { login: customer.username ?? '' },
    };
    const formState = Object.fromEntries(Object.entries(defaults).map(([name, values]) => [name, forms[name] ?? blankForm(name, values)]));
    return page.render(
      'customer',
      {
        title: customer.name,
        customer,
        package: pkg ?? null,
        packages,
        timeline: (all ? lines : lines.slice(0, TIMELINE_SHOWN)).map((line) => ({ ...line, change: line.status_before !== line.status_after })),
        timeline_more: all ? 0 : Math.max(0, lines.length - TIMELINE_SHOWN),
        cause: cause ?? null,
        bills: bills.bills,
        payments: payments.payments,
        usage,
        wallet,
        forms: formState,
        open: Object.keys(forms)[0] ?? null,
        key: newIdempotencyKey(),
        methods: page.session.isp_level ? ['cash'] : ['reseller_wallet', 'cash'],
        tone: { active: 'ok', expired: 'warn', suspended: 'bad', disabled: 'muted' }[customer.status] ?? 'muted',
      },
    );
  };

  pages.get('/customers/:customer_id', 'customers.read', async (page) => showCustomer(page, (page.request.params as { customer_id: string }).customer_id));

  const action = recordActions(pages, { path: '/customers/:customer_id', param: 'customer_id', show: (page, id, forms) => showCustomer(page, id, forms) });
  const on = (customer_id: string, what: string): string => `/api/v1/customers/${encodeURIComponent(customer_id)}/${what}`;

  action('details', 'customers.write', 'details', (values, id) => ({ url: on(id, 'details'), body: { name: field(values, 'name') ?? '', mobile: field(values, 'mobile') ?? '', zone: field(values, 'zone') ?? '' } }), 'Details saved.');
  action('suspend', 'customers.suspend', 'suspend', (values, id) => ({ url: on(id, 'suspend'), body: { reason: field(values, 'reason') ?? '' } }), 'Customer suspended: RADIUS and the routers cut the connection.');
  action('resume', 'customers.suspend', 'resume', (_values, id) => ({ url: on(id, 'resume'), body: {} }), 'Suspension lifted.');
  action('disable', 'customers.write', 'disable', (values, id) => ({ url: on(id, 'disable'), body: { reason: field(values, 'reason') ?? '' } }), 'Account disabled.');
  action('enable', 'customers.write', 'enable', (_values, id) => ({ url: on(id, 'enable'), body: {} }), 'Account enabled.');
  action('package', 'customers.write', 'package', (values, id) => ({ url: on(id, 'package'), body: { package_id: field(values, 'package_id') ?? '' } }), 'Package changed.');
  action('mac', 'customers.write', 'mac', (values, id) => ({ url: on(id, 'mac'), body: { mac: field(values, 'mac') ?? '' } }), 'MAC address bound.');
  action('expiry', 'customers.write', 'expiry', (values, id) => ({ url: on(id, 'expiry'), body: { expires_on: field(values, 'expires_on') ?? '', reason: field(values, 'reason') ?? '' } }), 'Expiry set.');
  action(
    'payments',
    'payments.collect',
    'payment',
    (values, id) => ({ url: on(id, 'payments'), money: true, body: { amount: field(values, 'amount') ?? '', method: field(values, 'method') ?? 'cash', recharge_package_id: nullable(values, 'recharge_package_id') } }),
    'Payment recorded.',
  );
  action(
    'card',
    'cards.redeem',
    'card',
    (values, id) => ({ url: on(id, 'card-redemptions'), money: true, body: { batch_id: field(values, 'batch_id') ?? '', serial: field(values, 'serial') ?? '', pin: field(values, 'pin') ?? '' } }),
    'Card redeemed.',
  );
  action(
    'login',
    'logins.manage',
    'login',
    (values, id) => ({ url: '/api/v1/logins', body: { login: field(values, 'login') ?? '', password: field(values, 'password') ?? '', principal_kind: 'customer', principal_id: id } }),
    'Portal login created: give the customer the login and password.',
  );
}
