import { MANAGER_PERMISSIONS } from '../../../domain/staff/staff.js';
import type { FormState } from '../helpers.js';
import { field, formValues, listField, submitForm, type PageContext, type Pages } from '../page-kit.js';
import { pageQuery, pagerFor } from '../paging.js';
import { operatorOptions } from './customers.js';

/**
 * Staff of the operators in the caller's subtree: managers (with the permissions their operator chose),
 * accountants, auditors and card distributors; adding one, changing a manager's permissions, giving a login,
 * removing one.
 */
type Staff = { staff_id: string; operator_id: string; role: string; name: string; permissions: string[]; removed: boolean };
const ROLES = ['manager', 'accountant', 'auditor', 'card_distributor'];
const blank = (id: string, values: Record<string, unknown> = {}): FormState => ({ id, values, errors: {} });

export function staffPages(pages: Pages): void {
  pages.get('/staff', 'operators.read', async (page) => {
    const query = page.request.query as Record<string, string | undefined>;
    const paging = pageQuery(query);
    const filters = { role: ROLES.includes(query.role ?? '') ? query.role : undefined, operator_id: query.operator_id || undefined };
    const [list, operators] = await Promise.all([page.api.get<{ staff: Staff[]; next: string | null }>('/api/v1/staff', { ...filters, limit: 50, after: paging.after }), operatorOptions(page)]);
    const names = new Map(operators.map((operator) => [operator.operator_id, operator.name]));
    return page.render('staff', {
      title: 'Staff',
      staff: list.staff.map((member) => ({ ...member, operator_name: names.get(member.operator_id) ?? member.operator_id })),
      pager: pagerFor('/staff', query, paging, list.next, list.staff.length),
      form: blank('filters', filters),
      roles: ROLES,
      operators,
    });
  });

  const newStaffPage = async (page: PageContext, form: FormState) =>
    page.render('staff-new', { title: 'New staff member', form, roles: ROLES, permissions: MANAGER_PERMISSIONS, operators: await operatorOptions(page) });

  pages.get('/staff/new', 'staff.manage', async (page) => newStaffPage(page, blank('staff', { operator_id: page.session.operator_id, role: 'manager', permissions: ['customers.read', 'payments.collect'] })));

  pages.post('/staff', 'staff.manage', async (page) => {
    const values = formValues(page.request.body);
    const role = field(values, 'role');
    return submitForm(page, {
      id: 'staff',
      values: { ...values, permissions: listField(values, 'permissions') },
      run: () =>
        page.api.send<{ result: { staff_id: string } }>('POST', '/api/v1/staff', {
          operator_id: field(values, 'operator_id') ?? page.session.operator_id,
          role: role ?? '',
          name: field(values, 'name') ?? '',
          permissions: role === 'manager' ? listField(values, 'permissions') : [],
        }),
      done: { url: (result) => `/staff/${encodeURIComponent((result as { result: { staff_id: string } }).result.staff_id)}`, message: 'Staff member added. Give them a login to start.' },
      again: (forms) => newStaffPage(page, forms.staff!),
    });
  });

  const showStaff = async (page: PageContext, staff_id: string, forms: Readonly<Record<string, FormState>> = {}) => {
    const member = await page.api.get<Staff>(`/api/v1/staff/${encodeURIComponent(staff_id)}`);
    const defaults: Record<string, Record<string, unknown>> = { permissions: { permissions: member.permissions }, login: {} };
    return page.render(
      'staff-member',
      {
        title: member.name,
        member,
        permissions: MANAGER_PERMISSIONS,
        forms: Object.fromEntries(Object.entries(defaults).map(([name, values]) => [name, forms[name] ?? blank(name, values)])),
        open: Object.keys(forms)[0] ?? null,
      },
    );
  };

  pages.get('/staff/:staff_id', 'operators.read', async (page) => showStaff(page, (page.request.params as { staff_id: string }).staff_id));

  pages.post('/staff/:staff_id/permissions', 'staff.manage', async (page) => {
    const { staff_id } = page.request.params as { staff_id: string };
    const values = formValues(page.request.body);
    const permissions = listField(values, 'permissions');
    return submitForm(page, {
      id: 'permissions',
      values: { ...values, permissions },
      run: () => page.api.send('PUT', `/api/v1/staff/${encodeURIComponent(staff_id)}/permissions`, { permissions }),
      done: { url: `/staff/${encodeURIComponent(staff_id)}`, message: 'Permissions saved; they apply to the manager’s open sessions at once.' },
      again: (forms) => showStaff(page, staff_id, forms),
    });
  });

  pages.post('/staff/:staff_id/login', 'logins.manage', async (page) => {
    const { staff_id } = page.request.params as { staff_id: string };
    const values = formValues(page.request.body);
    return submitForm(page, {
      id: 'login',
      values,
      run: () => page.api.send('POST', '/api/v1/logins', { login: field(values, 'login') ?? '', password: field(values, 'password') ?? '', principal_kind: 'staff', principal_id: staff_id }),
      done: { url: `/staff/${encodeURIComponent(staff_id)}`, message: 'Login created.' },
      again: (forms) => showStaff(page, staff_id, forms),
    });
  });

  pages.post('/staff/:staff_id/remove', 'staff.manage', async (page) => {
    const { staff_id } = page.request.params as { staff_id: string };
    const result = await page.api.send('DELETE', `/api/v1/staff/${encodeURIComponent(staff_id)}`);
    return page.redirect('/staff', 'Staff member removed; their login stopped working.', result.position);
  });
}
