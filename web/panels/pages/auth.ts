import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { identify, SESSION_COOKIE } from '../../../api/access/caller.js';
import type { ApiDependencies } from '../../../api/dependencies.js';
import { isLocalPath, type Pages } from '../page-kit.js';

/**
 * Logging in and out of the panels. The password goes to the API's login route (its throttling, lock-out and
 * session cookie); a passkey login runs in the browser against the API's passkey routes (web/assets/panel.js)
 * and lands on the same session. A customer who logs in here is sent to the customer portal.
 */
type LoginBody = { login?: unknown; password?: unknown; next?: unknown };

export function authPages(app: FastifyInstance, { pool, clock }: ApiDependencies, pages: Pages): void {
  const loginPage = async (reply: FastifyReply, data: Record<string, unknown>, status = 200): Promise<FastifyReply> => {
    const html = await reply.panelViewAsync('pages/login.hbs', { title: 'Log in', bare: true, ...data }, { layout: 'layout.hbs' });
    return reply.code(status).type('text/html; charset=utf-8').send(html);
  };
  const destination = (next: unknown): string => (isLocalPath(next) && !next.startsWith('/login') ? next : '/');

  app.get('/login', async (request: FastifyRequest<{ Querystring: { next?: string } }>, reply) => {
    const caller = await identify(pool, clock, request).catch(() => null);
    if (caller !== null) return reply.redirect(caller.principal_kind === 'customer' ? '/portal' : destination(request.query.next), 303);
    return loginPage(reply, { next: destination(request.query.next), values: {} });
  });

  app.post('/login', async (request: FastifyRequest<{ Body: LoginBody }>, reply) => {
    const login = typeof request.body?.login === 'string' ? request.body.login.trim() : '';
    const password = typeof request.body?.password === 'string' ? request.body.password : '';
    const next = destination(request.body?.next);
    const errors: Record<string, string> = {};
    if (login === '') errors.login = 'Enter your login';
    if (password === '') errors.password = 'Enter your password';
    if (Object.keys(errors).length > 0) return loginPage(reply, { next, values: { login }, errors }, 400);
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { login, password },
      remoteAddress: request.ip,
      headers: request.headers['user-agent'] === undefined ? {} : { 'user-agent': request.headers['user-agent'] },
    });
    if (response.statusCode !== 200) {
      const failure = (() => {
        try {
          return (response.json() as { error?: { code?: string; message?: string } }).error;
        } catch {
          return undefined;
        }
      })();
      const message = failure?.code === 'INVALID_LOGIN' ? 'Wrong login or password.' : (failure?.message ?? 'Logging in did not work; try again.');
      return loginPage(reply, { next, values: { login }, error: message }, response.statusCode);
    }
    const cookie = response.headers['set-cookie'];
    if (cookie !== undefined) reply.header('set-cookie', cookie);
    const who = response.json<{ principal_kind: string }>();
    return reply.redirect(who.principal_kind === 'customer' ? '/portal' : next, 303);
  });

  pages.post('/logout', null, async (page) => {
    await page.api.send('POST', '/api/v1/auth/logout');
    void page.reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return page.reply.redirect('/login', 303);
  });
}
