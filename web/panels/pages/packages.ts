import type { FormState } from '../helpers.js';
import { field, formValues, integerField, submitForm, type PageContext, type Pages } from '../page-kit.js';
import type { Package } from './customers.js';

/**
 * The package catalogue: the ISP's packages (a reseller sees those assigned to it, with what it pays), and for
 * the ISP creating, changing and retiring them. Speeds are typed in Mbit/s and sent in kbit/s, as the API and
 * RADIUS count them.
 */
type FullPackage = Package & { ip_pool: string; data_quota_mb: number | null; burst: unknown };

/** "20" or "2.5" Mbit/s → kbit/s; anything else is passed on for the API to refuse beside the field. */
function kbpsOf(values: Readonly<Record<string, unknown>>, name: string): number | string | undefined {
  const text = field(values, name);
  if (text === undefined) return undefined;
  return /^\d{1,6}(\.\d{1,3})?$/.test(text) ? Math.round(Number(text) * 1000) : text;
}

const specOf = (values: Readonly<Record<string, unknown>>, burst: unknown) => ({
  name: field(values, 'name') ?? '',
  down_kbps: kbpsOf(values, 'down_mbps'),
  up_kbps: kbpsOf(values, 'up_mbps'),
  burst: burst ?? null,
  price: field(values, 'price') ?? '',
  validity_days: integerField(values, 'validity_days'),
  ip_pool: field(values, 'ip_pool') ?? '',
  data_quota_mb: integerField(values, 'data_quota_mb') ?? null,
});

/** The API's names for the fields people type in other units. */
const ALIASES = { down_kbps: 'down_mbps', up_kbps: 'up_mbps' };
const mbps = (kbps: number): string => String(kbps / 1000);

export function packagePages(pages: Pages): void {
  pages.get('/packages', 'packages.read', async (page) => {
    const query = page.request.query as { retired?: string };
    const { packages } = await page.api.get<{ packages: FullPackage[] }>('/api/v1/packages', { include_retired: query.retired === '1' ? 'true' : 'false', limit: 500 });
    return page.render('packages', { title: 'Packages', packages, retired: query.retired === '1' });
  });

  const editor = async (page: PageContext, data: Readonly<{ form: FormState; package_id: string | null }>) =>
    page.render('package-form', { title: data.package_id === null ? 'New package' : 'Change package', ...data });

  pages.get('/packages/new', 'packages.write', async (page) => editor(page, { form: { id: 'package', values: { validity_days: '30', ip_pool: 'pool-home' }, errors: {} }, package_id: null }));

  pages.post('/packages', 'packages.write', async (page) => {
    const values = formValues(page.request.body);
    return submitForm(page, {
      id: 'package',
      values,
      aliases: ALIASES,
      run: () => page.api.send('POST', '/api/v1/packages', specOf(values, null)),
      done: { url: '/packages', message: `Package “${field(values, 'name') ?? ''}” created.` },
      again: (forms) => editor(page, { form: forms.package!, package_id: null }),
    });
  });

  const current = (page: PageContext, package_id: string) => page.api.get<FullPackage>(`/api/v1/packages/${encodeURIComponent(package_id)}`);

  pages.get('/packages/:package_id', 'packages.write', async (page) => {
    const { package_id } = page.request.params as { package_id: string };
    const item = await current(page, package_id);
    const values = { name: item.name, down_mbps: mbps(item.down_kbps), up_mbps: mbps(item.up_kbps), price: item.price, validity_days: String(item.validity_days), ip_pool: item.ip_pool, data_quota_mb: item.data_quota_mb === null ? '' : String(item.data_quota_mb) };
    return editor(page, { form: { id: 'package', values, errors: {} }, package_id });
  });

  pages.post('/packages/:package_id', 'packages.write', async (page) => {
    const { package_id } = page.request.params as { package_id: string };
    const values = formValues(page.request.body);
    // The API changes a package as a whole: the burst settings, which this form does not show, stay as they are.
    const item = await current(page, package_id);
    return submitForm(page, {
      id: 'package',
      values,
      aliases: ALIASES,
      run: () => page.api.send('PUT', `/api/v1/packages/${encodeURIComponent(package_id)}`, specOf(values, item.burst)),
      done: { url: '/packages', message: 'Package changed; RADIUS and the routers follow.' },
      again: (forms) => editor(page, { form: forms.package!, package_id }),
    });
  });

  pages.post('/packages/:package_id/retire', 'packages.write', async (page) => {
    const { package_id } = page.request.params as { package_id: string };
    const result = await page.api.send('POST', `/api/v1/packages/${encodeURIComponent(package_id)}/retire`, {});
    return page.redirect('/packages', 'Package retired: nobody new gets it; its customers keep it.', result.position);
  });
}
