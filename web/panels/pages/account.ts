import type { Pages } from '../page-kit.js';

/**
 * My account: who I am, what my role may do, and my passkeys — registering one here (the browser's WebAuthn
 * against the API's passkey routes) lets me sign in without a password and confirm risky actions.
 */
export function accountPages(pages: Pages): void {
  pages.get('/account', null, async (page) => {
    const { passkeys } = await page.api.get<{ passkeys: { credential_id: string; name: string; created_at: string; last_used_at: string | null }[] }>('/api/v1/auth/passkeys');
    const registered = (page.request.query as { registered?: string }).registered === '1';
    return page.render('account', {
      title: 'My account',
      passkeys,
      registered,
      capabilities: [...page.session.capabilities].sort(),
    });
  });
}
