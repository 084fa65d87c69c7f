import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Caller } from '../../api/access/caller.js';
import { CSRF_HEADER } from '../../api/access/caller.js';
import type { ApiDependencies } from '../../api/dependencies.js';
import { apiClientFor, ApiRefusal, newIdempotencyKey, type ApiClient } from '../panels/api-client.js';
import type { FormState } from '../panels/helpers.js';
import { field, formValues } from '../panels/page-kit.js';
import { readHotspotVisit } from '../hotspot/visit.js';
import { CARD_FIELDS, customerOf, failureOf, FormExpired, formState, formToken, formTokenValid, forwardCookies, gatewayOrigins, installViews, isLocalPath, pageHeaders, redeemTypedCard, reloadForSession } from './page-kit.js';
import { paymentOutcome, type PaymentOutcome } from './payment-return.js';
import { accountView, type Account, type BillRow, type OnlinePaymentRow, type PaymentRow, type Usage, usageView } from './account-view.js';

declare module 'fastify' {
  interface FastifyReply {
    portalViewAsync: (page: string, data?: object) => Promise<string>;
  }
}

const here = dirname(fileURLToPath(import.meta.url));

/** What a payment that came back says, for the banner on the page it lands on. */
const OUTCOME_BANNERS: Readonly<Record<PaymentOutcome, Readonly<{ tone: 'ok' | 'error' | 'info'; text: string }>>> = {
  recorded: { tone: 'ok', text: 'Payment received — thank you. Your account is up to date.' },
  held: { tone: 'info', text: 'Your payment was received and is being checked by the ISP. It will show here once they confirm it.' },
  failed: { tone: 'error', text: 'The payment did not go through, and nothing was charged. You can try again.' },
  cancelled: { tone: 'info', text: 'You cancelled the payment; nothing was charged.' },
  pending: { tone: 'info', text: 'The payment is not confirmed yet. It will show here once the gateway confirms it.' },
};

/** Messages after a form did its work (post/redirect/get: `?done=…&at=<position>`). */
const DONE: Readonly<Record<string, string>> = {
  card: 'Card redeemed — your account is updated.',
};

const LOGIN_FIELDS = { INVALID_LOGIN: 'password' } as const;
const PAY_FIELDS = { INVALID_AMOUNT: 'amount', PAYMENT_AMOUNT_TOO_SMALL: 'amount', PACKAGE_NOT_FOUND: 'purpose', PACKAGE_RETIRED: 'purpose', WRONG_BILLING_PROFILE: 'purpose' } as const;

/**
 * The customer portal (/portal): log in, see the package, its expiry, bills, payments and data use, pay online
 * and redeem a card. Every page reads the customer's own API (/api/v1/me…) and every form runs an API command, in
 * process, as the logged-in customer; nothing here decides a rule.
 */
export const portalPlugin: FastifyPluginAsync<ApiDependencies> = async (app, deps) => {
  await installViews(app, { root: join(here, 'views'), propertyName: 'portalView' });
  const { pool, settings } = deps;
  const payment_origins = gatewayOrigins();

  /** A form shown again with its errors is a page like any other (200): a 4xx document is an error in the browser's console. */
  const render = async (reply: FastifyReply, page: string, data: Record<string, unknown>, status = 200, form_action: readonly string[] = []): Promise<FastifyReply> => {
    pageHeaders(reply, form_action);
    const html = await reply.portalViewAsync(`pages/${page}.hbs`, data);
    return reply.code(status).type('text/html; charset=utf-8').send(html);
  };

  /** The ISP a page is about before anyone logs in: `?isp=<id>`, or the only ISP this server runs. */
  const brandOf = async (request: FastifyRequest): Promise<{ isp_name: string; isp_known: boolean }> => {
    const wanted = (request.query as Record<string, unknown>).isp;
    const named = typeof wanted === 'string' && /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(wanted);
    const found = await pool.query<{ name: string }>(
      named ? "SELECT name FROM operators WHERE operator_id = $1 AND role = 'admin'" : "SELECT name FROM operators WHERE role = 'admin' LIMIT 2",
      named ? [wanted] : [],
    );
    return found.rows.length === 1 ? { isp_name: found.rows[0]!.name, isp_known: true } : { isp_name: 'Customer portal', isp_known: false };
  };

  /** Back from the payment gateway without the session cookie: one reload from our page brings it (reloadForSession). */
  const bounce = (reply: FastifyReply, url: string): Promise<FastifyReply> => render(reply, 'bounce', { title: 'One moment…', url, refresh_url: url, bare: true });

  const loginRedirect = (request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const next = request.method === 'GET' && isLocalPath(request.url) && request.url !== '/portal' ? `?next=${encodeURIComponent(request.url)}` : '';
    return reply.redirect(`/portal/login${next}`, 303);
  };

  type Page = Readonly<{ caller: Caller; api: ApiClient; account: Account; base: Record<string, unknown> }>;

  /** The logged-in customer's page context, or the login page (or the one bounce after paying). */
  const customerPage = async (request: FastifyRequest, reply: FastifyReply, active: string): Promise<Page | FastifyReply> => {
    let caller: Caller | null;
    try {
      caller = await customerOf(deps, request);
    } catch (error) {
      if (!(error instanceof FormExpired)) throw error;
      return render(reply, 'error', { title: 'This form has expired', message: 'The page was open for too long or in another session. Go back, reload it and try again.', bare: true }, 403);
    }
    if (caller === null) {
      const reload = typeof (request.query as Record<string, unknown>).payment === 'string' ? reloadForSession(request) : null;
      return reload === null ? loginRedirect(request, reply) : bounce(reply, reload);
    }
    const query = request.query as Record<string, unknown>;
    const at = typeof query.at === 'string' && /^\d{1,20}\.\d{1,20}$/.test(query.at) ? query.at : null;
    const csrf = request.method === 'POST' ? ((request.body as Record<string, unknown> | undefined)?._csrf as string | undefined) ?? null : null;
    const api = apiClientFor(app, request, { csrf, consistent_with: at });
    const account = await api.get<Account>('/api/v1/me');
    const time_zone = account.isp.time_zone ?? 'UTC';
    const nav = [
      { href: '/portal', label: 'Overview', icon: 'dashboard' },
      { href: '/portal/bills', label: 'Bills', icon: 'file' },
      { href: '/portal/payments', label: 'Payments', icon: 'cash' },
      { href: '/portal/usage', label: 'Usage', icon: 'pulse' },
    ].map((item) => ({ ...item, active: item.href === active }));
    return {
      caller,
      api,
      account,
      base: {
        brand: { isp_name: account.isp.name ?? account.operator.name ?? 'Customer portal' },
        customer: { name: account.name },
        session: { time_zone, csrf: caller.csrf_token ?? '' },
        nav,
      },
    };
  };
  const isPage = (value: Page | FastifyReply): value is Page => 'account' in value && 'caller' in value;

  /** Runs a page; an API refusal no form can show becomes a page saying so (the login page when the session ended). */
  const page = (handler: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>) => async (request: FastifyRequest, reply: FastifyReply) => {
    try {
      return await handler(request, reply);
    } catch (error) {
      if (!(error instanceof ApiRefusal)) throw error;
      if (error.status === 401) return loginRedirect(request, reply);
      return render(reply, 'error', { title: error.status === 404 ? 'Not found' : 'That did not work', message: error.failure.message, bare: true }, error.status >= 400 && error.status < 600 ? error.status : 500);
    }
  };

  // --- logging in and out --------------------------------------------------------------------------------------

  const loginPage = async (request: FastifyRequest, reply: FastifyReply, form: FormState, notice: string | null = null) =>
    render(reply, 'login', { title: 'Sign in', ...(await brandOf(request)), form, form_token: formToken(request, reply, settings.secure_cookies), next: form.values.next ?? '', notice, bare: true });

  app.get('/portal/login', page(async (request, reply) => {
    if ((await customerOf(deps, request).catch(() => null)) !== null) return reply.redirect('/portal', 303);
    const query = request.query as Record<string, unknown>;
    const next = isLocalPath(query.next) ? query.next : '';
    return loginPage(request, reply, { id: 'login', values: { next }, errors: {} }, query.ended === '1' ? 'You have signed out.' : null);
  }));

  app.post('/portal/login', page(async (request, reply) => {
    const values = formValues(request.body);
    if (!formTokenValid(request)) return loginPage(request, reply, { id: 'login', values, errors: {}, error: 'This form had expired; please sign in again.' });
    const login = field(values, 'login') ?? '';
    const password = typeof values.password === 'string' ? values.password : '';
    const shown = { login, next: values.next };
    if (login === '' || password === '') {
      const errors: Record<string, string> = {};
      if (login === '') errors.login = 'Enter your login';
      if (password === '') errors.password = 'Enter your password';
      return loginPage(request, reply, { id: 'login', values: shown, errors });
    }
    const response = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { login, password }, remoteAddress: request.ip, headers: { 'user-agent': request.headers['user-agent'] ?? '' } });
    if (response.statusCode !== 200) return loginPage(request, reply, formState('login', shown, failureOf(response), LOGIN_FIELDS));
    const who = response.json<{ role: string; csrf_token: string }>();
    if (who.role !== 'customer') {
      // Staff have the panels; the session just made is ended again, so this page never logs staff in.
      const cookie = response.cookies.find((candidate) => candidate.name === 'ispbills_session');
      await app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: { cookie: `ispbills_session=${cookie?.value ?? ''}`, [CSRF_HEADER]: who.csrf_token } });
      return loginPage(request, reply, { id: 'login', values: shown, errors: {}, error: 'This is the customer portal. ISP staff and resellers sign in at /login.' });
    }
    forwardCookies(response, reply);
    return reply.redirect(isLocalPath(values.next) && String(values.next).startsWith('/portal') ? String(values.next) : '/portal', 303);
  }));

  app.post('/portal/logout', page(async (request, reply) => {
    const context = await customerPage(request, reply, '');
    if (!isPage(context)) return context;
    const response = await app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: { cookie: request.headers.cookie ?? '', [CSRF_HEADER]: context.caller.csrf_token ?? '' } });
    forwardCookies(response, reply);
    return reply.redirect('/portal/login?ended=1', 303);
  }));

  // --- the account ----------------------------------------------------------------------------------------------

  app.get('/portal', page(async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    // Paid from a hotspot's page: back to that hotspot, which logs the device in.
    const visit = readHotspotVisit(request);
    if (typeof query.payment === 'string' && visit !== null) {
      const outcome = typeof query.outcome === 'string' ? query.outcome : '';
      return reply.redirect(`/hotspot/${encodeURIComponent(visit.router_id)}/account?payment=${encodeURIComponent(query.payment)}&outcome=${encodeURIComponent(outcome)}`, 303);
    }
    const context = await customerPage(request, reply, '/portal');
    if (!isPage(context)) return context;
    const { api, account } = context;
    const outcome = await paymentOutcome(api, query);
    const banner = outcome === null ? null : OUTCOME_BANNERS[outcome];
    const [bills, payments, usage] = await Promise.all([
      api.get<{ bills: BillRow[] }>('/api/v1/me/bills', { limit: 5 }),
      api.get<{ payments: PaymentRow[] }>('/api/v1/me/payments', { limit: 5 }),
      api.get<Usage>('/api/v1/me/usage', { limit: 1 }),
    ]);
    const done = typeof query.done === 'string' ? DONE[query.done] : undefined;
    return render(reply, 'overview', {
      ...context.base,
      title: 'My account',
      account: accountView(account, deps.clock.now()),
      usage: usageView(usage, account),
      bills: bills.bills,
      payments: payments.payments,
      banner: banner ?? (done === undefined ? null : { tone: 'ok', text: done }),
    });
  }));

  app.get('/portal/bills', page(async (request, reply) => {
    const context = await customerPage(request, reply, '/portal/bills');
    if (!isPage(context)) return context;
    const after = (request.query as Record<string, unknown>).after;
    const list = await context.api.get<{ bills: BillRow[]; next: string | null }>('/api/v1/me/bills', { limit: 20, after: typeof after === 'string' ? after : undefined });
    return render(reply, 'bills', { ...context.base, title: 'Bills', account: accountView(context.account, deps.clock.now()), bills: list.bills, next: list.next });
  }));

  app.get('/portal/payments', page(async (request, reply) => {
    const context = await customerPage(request, reply, '/portal/payments');
    if (!isPage(context)) return context;
    const after = (request.query as Record<string, unknown>).after;
    const [list, online] = await Promise.all([
      context.api.get<{ payments: PaymentRow[]; next: string | null }>('/api/v1/me/payments', { limit: 20, after: typeof after === 'string' ? after : undefined }),
      context.api.get<{ online_payments: OnlinePaymentRow[] }>('/api/v1/me/online-payments'),
    ]);
    const attempts = online.online_payments.filter((attempt) => attempt.status !== 'paid').slice(0, 10);
    return render(reply, 'payments', { ...context.base, title: 'Payments', account: accountView(context.account, deps.clock.now()), payments: list.payments, next: list.next, attempts });
  }));

  app.get('/portal/usage', page(async (request, reply) => {
    const context = await customerPage(request, reply, '/portal/usage');
    if (!isPage(context)) return context;
    const usage = await context.api.get<Usage>('/api/v1/me/usage', { limit: 30 });
    return render(reply, 'usage', { ...context.base, title: 'Usage', account: accountView(context.account, deps.clock.now()), usage: usageView(usage, context.account) });
  }));

  // --- paying online --------------------------------------------------------------------------------------------

  /** What the customer may pay: a recharge of their package (daily), what they owe, or an amount of their choice. */
  const payChoices = (account: Account) => {
    const choices: { value: string; label: string; amount: string | null }[] = [];
    if (account.billing_profile === 'daily' && account.package.price !== null) {
      choices.push({ value: 'recharge', label: `Recharge ${account.package.name ?? account.package.package_id}${account.package.validity_days === null ? '' : ` for ${account.package.validity_days} day${account.package.validity_days === 1 ? '' : 's'}`}`, amount: account.package.price });
    }
    if (/[1-9]/.test(account.balance_due)) choices.push({ value: 'due', label: 'Pay what I owe', amount: account.balance_due });
    choices.push({ value: 'other', label: account.billing_profile === 'daily' ? 'Another amount, kept as credit' : 'Another amount', amount: null });
    return choices;
  };

  const payPage = async (reply: FastifyReply, context: Page, form: FormState) => {
    const choices = payChoices(context.account);
    const chosen = String(form.values.purpose ?? choices[0]!.value);
    return render(
      reply,
      'pay',
      { ...context.base, title: 'Pay online', account: accountView(context.account, deps.clock.now()), choices: choices.map((choice) => ({ ...choice, checked: choice.value === chosen })), form, currency: context.account.currency, online: payment_origins.length > 0 },
      200,
      payment_origins,
    );
  };

  app.get('/portal/pay', page(async (request, reply) => {
    const context = await customerPage(request, reply, '/portal');
    if (!isPage(context)) return context;
    return payPage(reply, context, { id: 'pay', values: {}, errors: {} });
  }));

  app.post('/portal/pay', page(async (request, reply) => {
    const context = await customerPage(request, reply, '/portal');
    if (!isPage(context)) return context;
    const values = formValues(request.body);
    const choice = payChoices(context.account).find((candidate) => candidate.value === values.purpose);
    if (choice === undefined) return payPage(reply, context, { id: 'pay', values, errors: { purpose: 'Choose what to pay for' } });
    const amount = choice.amount ?? field(values, 'amount');
    if (amount === undefined) return payPage(reply, context, { id: 'pay', values, errors: { amount: 'Enter the amount to pay' } });
    try {
      const started = await context.api.send<{ redirect_url: string }>('POST', '/api/v1/me/online-payments', {
        amount,
        recharge_package_id: choice.value === 'recharge' ? context.account.package.package_id : null,
      });
      pageHeaders(reply, payment_origins);
      return reply.redirect(started.redirect_url, 303);
    } catch (error) {
      if (!(error instanceof ApiRefusal) || error.status === 401) throw error;
      const words: Record<string, string> = error.code === 'NOT_PERMITTED' ? { NOT_PERMITTED: 'Online payment is not available here yet. Pay your ISP in cash, or redeem a card.' } : {};
      return payPage(reply, context, formState('pay', values, error.failure, PAY_FIELDS, words));
    }
  }));

  // --- recharge cards -------------------------------------------------------------------------------------------

  const redeemPage = async (reply: FastifyReply, context: Page, form: FormState) =>
    render(reply, 'redeem', { ...context.base, title: 'Redeem a card', account: accountView(context.account, deps.clock.now()), form, idempotency: form.values._idempotency ?? newIdempotencyKey() });

  app.get('/portal/redeem', page(async (request, reply) => {
    const context = await customerPage(request, reply, '/portal');
    if (!isPage(context)) return context;
    return redeemPage(reply, context, { id: 'redeem', values: {}, errors: {} });
  }));

  app.post('/portal/redeem', page(async (request, reply) => {
    const context = await customerPage(request, reply, '/portal');
    if (!isPage(context)) return context;
    const body = request.body as Record<string, unknown>;
    const values = formValues(body);
    const key = typeof body._idempotency === 'string' ? body._idempotency : newIdempotencyKey();
    const shown = { ...values, _idempotency: key };
    try {
      const position = await redeemTypedCard(context.api, context.caller.principal_id, values, key);
      return reply.redirect(`/portal?done=card${position === null ? '' : `&at=${encodeURIComponent(position)}`}`, 303);
    } catch (error) {
      if (!(error instanceof ApiRefusal) || error.status === 401) throw error;
      return redeemPage(reply, context, formState('redeem', shown, error.failure, CARD_FIELDS));
    }
  }));
};
