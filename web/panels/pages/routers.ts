import type { FormState } from '../helpers.js';
import { field, formValues, integerField, nullable, recordActions, submitForm, type PageContext, type Pages } from '../page-kit.js';

/**
 * Routers (RADIUS NASes and the MikroTik boxes the router-agent drives): register one, tell the agent how to
 * reach its API and what one-click setup puts on it, run the setup or a reconciliation, and watch what came
 * of it — reachable or not, commands waiting or failed, and the drift the last reconciliation found.
 */
type Router = { router_id: string; name: string; nas_ip: string; coa_port: number; require_message_authenticator: boolean; description: string | null };
type Outcome = { at: string; type: string; kind: string | null; customer_id: string | null; detail: Record<string, unknown> };
type Status = {
  agent: { status: string; last_contact_at: string | null; last_error: string | null; retry_at: string | null; last_reconciled_at: string | null; pending: number; failed: number } | null;
  connection: { host: string; transport: string; port: number; username: string; routeros_version: string } | null;
  setup: Record<string, unknown> | null;
  last_setup: Outcome | null;
  last_reconciliation: Outcome | null;
  recent: Outcome[];
};

const blank = (id: string, values: Record<string, unknown> = {}): FormState => ({ id, values, errors: {} });
const lines = (text: string | undefined): string[] => (text ?? '').split(/[\n,]+/).map((line) => line.trim()).filter((line) => line !== '');
const checked = (values: Readonly<Record<string, unknown>>, name: string): boolean => field(values, name) !== undefined;

export function routerPages(pages: Pages): void {
  pages.get('/routers', 'routers.read', async (page) => {
    const { routers } = await page.api.get<{ routers: Router[] }>('/api/v1/routers');
    // An ISP runs tens of routers: the status of each is worth the round trips.
    const statuses = await Promise.all(routers.slice(0, 100).map((router) => page.api.get<Status>(`/api/v1/routers/${encodeURIComponent(router.router_id)}/status`).catch(() => null)));
    return page.render('routers', { title: 'Routers', routers: routers.map((router, index) => ({ ...router, status: statuses[index] ?? null })) });
  });

  const newRouterPage = async (page: PageContext, form: FormState) => page.render('router-new', { title: 'Register a router', form });
  pages.get('/routers/new', 'routers.write', async (page) => newRouterPage(page, blank('router', { coa_port: '3799', require_message_authenticator: 'on' })));
  pages.post('/routers', 'routers.write', async (page) => {
    const values = formValues(page.request.body);
    return submitForm(page, {
      id: 'router',
      values,
      run: () =>
        page.api.send<{ result: { router_id: string } }>('POST', '/api/v1/routers', {
          name: field(values, 'name') ?? '',
          nas_ip: field(values, 'nas_ip') ?? '',
          secret: field(values, 'secret') ?? '',
          coa_port: integerField(values, 'coa_port') ?? 3799,
          require_message_authenticator: checked(values, 'require_message_authenticator'),
          description: field(values, 'description') ?? '',
        }),
      done: { url: (result) => `/routers/${encodeURIComponent((result as { result: { router_id: string } }).result.router_id)}`, message: 'Router registered: RADIUS answers it from now on. Next: its API connection and setup.' },
      again: (forms) => newRouterPage(page, forms.router!),
    });
  });

  const showRouter = async (page: PageContext, router_id: string, forms: Readonly<Record<string, FormState>> = {}) => {
    const id = encodeURIComponent(router_id);
    const [router, state] = await Promise.all([page.api.get<Router>(`/api/v1/routers/${id}`), page.api.get<Status>(`/api/v1/routers/${id}/status`)]);
    const setup = state.setup as
      | { radius_address: string; radius_auth_port: number; radius_accounting_port: number; radius_timeout_ms: number; pppoe_servers: { service_name: string; interface: string; default_profile: string }[]; hotspot_profiles: string[]; portal_host: string | null; portal_address: string | null; suspended_pool_ranges: string | null; static_ip: { mode: string; list?: string }; static_ip_networks: string[] }
      | null;
    const defaults: Record<string, Record<string, unknown>> = {
      settings: { name: router.name, nas_ip: router.nas_ip, coa_port: String(router.coa_port), require_message_authenticator: router.require_message_authenticator ? 'on' : undefined, description: router.description ?? '' },
      connection: state.connection === null ? { transport: 'api', port: '', routeros_version: '7.18' } : { ...state.connection, port: String(state.connection.port) },
      setup:
        setup === null
          ? { radius_auth_port: '1812', radius_accounting_port: '1813', radius_timeout_ms: '3000', static_ip_mode: 'none' }
          : {
              radius_address: setup.radius_address,
              radius_auth_port: String(setup.radius_auth_port),
              radius_accounting_port: String(setup.radius_accounting_port),
              radius_timeout_ms: String(setup.radius_timeout_ms),
              pppoe_servers: setup.pppoe_servers.map((server) => `${server.service_name} ${server.interface} ${server.default_profile}`).join('\n'),
              hotspot_profiles: setup.hotspot_profiles.join(', '),
              portal_host: setup.portal_host ?? '',
              portal_address: setup.portal_address ?? '',
              suspended_pool_ranges: setup.suspended_pool_ranges ?? '',
              static_ip_mode: setup.static_ip.mode,
              static_ip_list: setup.static_ip.list ?? '',
              static_ip_networks: setup.static_ip_networks.join(', '),
            },
    };
    const drift = (state.last_reconciliation?.detail.drift as { kind: string; subject: string; detail: string }[] | undefined) ?? [];
    return page.render(
      'router',
      {
        title: router.name,
        router,
        state,
        drift,
        counts: Object.entries((state.last_reconciliation?.detail.counts as Record<string, number> | undefined) ?? {}).map(([kind, count]) => ({ kind, count })),
        forms: Object.fromEntries(Object.entries(defaults).map(([name, values]) => [name, forms[name] ?? blank(name, values)])),
        open: Object.keys(forms)[0] ?? null,
        transports: ['api', 'api-ssl', 'rest'],
        static_modes: ['none', 'address-list', 'queue'],
      },
    );
  };

  pages.get('/routers/:router_id', 'routers.read', async (page) => showRouter(page, (page.request.params as { router_id: string }).router_id));

  const act = recordActions(pages, { path: '/routers/:router_id', param: 'router_id', show: (page, id, forms) => showRouter(page, id, forms) });
  const action = (path: string, form: string, build: Parameters<typeof act>[3], message: string, done?: string) => act(path, 'routers.write', form, build, message, done === undefined ? undefined : () => done);
  const on = (router_id: string, what = ''): string => `/api/v1/routers/${encodeURIComponent(router_id)}${what === '' ? '' : `/${what}`}`;

  action(
    'settings',
    'settings',
    (values, id) => ({
      method: 'PATCH',
      url: on(id),
      body: {
        name: field(values, 'name') ?? '',
        nas_ip: field(values, 'nas_ip') ?? '',
        coa_port: integerField(values, 'coa_port'),
        require_message_authenticator: checked(values, 'require_message_authenticator'),
        description: field(values, 'description') ?? '',
        ...(field(values, 'secret') === undefined ? {} : { secret: field(values, 'secret') }),
      },
    }),
    'Router settings saved.',
  );
  action(
    'connection',
    'connection',
    (values, id) => ({
      method: 'PUT',
      url: on(id, 'connection'),
      body: {
        host: field(values, 'host') ?? '',
        transport: field(values, 'transport') ?? 'api',
        ...(integerField(values, 'port') === undefined ? {} : { port: integerField(values, 'port') }),
        username: field(values, 'username') ?? '',
        ...(field(values, 'password') === undefined ? {} : { password: field(values, 'password') }),
        routeros_version: field(values, 'routeros_version') ?? '',
        tls_fingerprint_sha256: nullable(values, 'tls_fingerprint_sha256'),
      },
    }),
    'API connection saved; the password is sealed.',
  );
  action(
    'setup',
    'setup',
    (values, id) => {
      const mode = field(values, 'static_ip_mode') ?? 'none';
      return {
        method: 'PUT',
        url: on(id, 'setup'),
        body: {
          radius_address: field(values, 'radius_address') ?? '',
          radius_auth_port: integerField(values, 'radius_auth_port') ?? 1812,
          radius_accounting_port: integerField(values, 'radius_accounting_port') ?? 1813,
          radius_timeout_ms: integerField(values, 'radius_timeout_ms') ?? 3000,
          pppoe_servers: lines(field(values, 'pppoe_servers')).map((line) => {
            const [service_name = '', iface = '', default_profile = 'default'] = line.split(/\s+/);
            return { service_name, interface: iface, default_profile };
          }),
          hotspot_profiles: lines(field(values, 'hotspot_profiles')),
          portal_host: nullable(values, 'portal_host'),
          portal_address: nullable(values, 'portal_address'),
          suspended_pool_ranges: nullable(values, 'suspended_pool_ranges'),
          static_ip: mode === 'address-list' ? { mode, list: field(values, 'static_ip_list') ?? '' } : { mode },
          static_ip_networks: lines(field(values, 'static_ip_networks')),
        },
      };
    },
    'Setup settings saved. Run the one-click setup to put them on the router.',
  );
  action('setup-run', 'run', (_values, id) => ({ method: 'POST', url: on(id, 'setup-runs'), body: {} }), 'One-click setup queued: the router-agent checks the API user’s rights, then configures the router. Its outcome shows below.');
  action('reconcile', 'run', (_values, id) => ({ method: 'POST', url: on(id, 'reconciliations'), body: {} }), 'Reconciliation queued: the drift it finds and heals shows below.');
  action('remove', 'remove', (_values, id) => ({ method: 'DELETE', url: on(id) }), 'Router removed: RADIUS no longer answers it.', '/routers');
}
