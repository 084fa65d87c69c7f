import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Caller } from '../../api/access/caller.js';
import { CSRF_HEADER } from '../../api/access/caller.js';
import type { ApiDependencies } from '../../api/dependencies.js';
import { apiClientFor, ApiRefusal, newIdempotencyKey, type ApiClient } from '../panels/api-client.js';
import type { FormState } from '../panels/helpers.js';
import { field, formValues } from '../panels/page-kit.js';
import { accountView, type Account } from '../portal/account-view.js';
import { CARD_FIELDS, customerOf, failureOf, FormExpired, formState, formToken, formTokenValid, forwardCookies, gatewayOrigins, installViews, pageHeaders, redeemTypedCard, reloadForSession } from '../portal/page-kit.js';
import { paymentOutcome } from '../portal/payment-return.js';
import { routerLoginPage } from './login-html.js';
import { errorWords, messagesFor, say, type Messages } from './messages.js';
import { routerLoginForm } from './router-login.js';
import { cameFromRouter, checkedVisit, endHotspotVisit, languageOf, readHotspotVisit, writeHotspotVisit, type HotspotVisit, type Language } from './visit.js';

declare module 'fastify' {
  interface FastifyReply {
    hotspotViewAsync: (page: string, data?: object) => Promise<string>;
  }
}

const here = dirname(fileURLToPath(import.meta.url));

type SitePackage = Readonly<{ package_id: string; name: string; price: string; currency: string; validity_days: number; down_kbps: number; up_kbps: number; data_quota_mb: number | null }>;
type Site = Readonly<{
  router_id: string;
  name: string;
  isp: Readonly<{ operator_id: string; name: string; currency: string; time_zone: string }>;
  self_registration: boolean;
  online_payments: boolean;
  packages: readonly SitePackage[];
  code: Readonly<{ digits: number; ttl_seconds: number; resend_after_seconds: number; max_attempts: number }>;
}>;

type Mode = 'register' | 'sign-in';

/** Codes of the hotspot API that belong beside a field of the sign-up forms. */
const START_FIELDS = { MOBILE_TAKEN: 'mobile', MOBILE_NOT_REGISTERED: 'mobile', RATE_LIMITED: 'mobile', SMS_UNAVAILABLE: 'mobile', MAC_TAKEN: 'mobile' } as const;
const CODE_FIELDS = { OTP_WRONG: 'code', OTP_EXPIRED: 'code', RATE_LIMITED: 'code', SMS_UNAVAILABLE: 'code', MOBILE_TAKEN: 'code', MAC_TAKEN: 'code', MOBILE_NOT_REGISTERED: 'code' } as const;

/** Data quotas as people buy them (packages state MB of 2^20 bytes). */
const quotaText = (mb: number): string => (mb >= 1024 ? `${Number.isInteger(mb / 1024) ? mb / 1024 : (mb / 1024).toFixed(1)} GB` : `${mb} MB`);
const speedText = (kbps: number): string => (kbps >= 1000 ? `${Number.isInteger(kbps / 1000) ? kbps / 1000 : (kbps / 1000).toFixed(1)} Mbps` : `${kbps} kbps`);

/**
 * The hotspot portal (/hotspot/<router>): the page a MikroTik hotspot sends a device to (through the login.html
 * this serves for each router), to sign up with a mobile number and a code by SMS, buy a package online or
 * redeem a card, and log the device in at the router. Every step is a call to the hotspot API or the customer's
 * own API (api/routes/hotspot.ts, portal.ts, gateways.ts, cards.ts), in process; nothing here decides a rule.
 */
export const hotspotPlugin: FastifyPluginAsync<ApiDependencies> = async (app, deps) => {
  await installViews(app, { root: join(here, 'views'), propertyName: 'hotspotView' });
  const { settings } = deps;
  const payment_origins = gatewayOrigins();

  /** A form shown again with its errors is a page like any other (200): a 4xx document is an error in the browser's console. */
  const render = async (reply: FastifyReply, page: string, data: Record<string, unknown>, status = 200, form_action: readonly string[] = []): Promise<FastifyReply> => {
    pageHeaders(reply, form_action);
    const html = await reply.hotspotViewAsync(`pages/${page}.hbs`, data);
    return reply.code(status).type('text/html; charset=utf-8').send(html);
  };

  const preferredLanguage = (request: FastifyRequest): Language => (/^bn\b/i.test(String(request.headers['accept-language'] ?? '')) ? 'bn' : 'en');

  /** The hotspot as its API describes it; null when the router is not (any more) registered. */
  const siteOf = async (request: FastifyRequest, router_id: string): Promise<Site | null> => {
    const response = await app.inject({ method: 'GET', url: `/api/v1/hotspot/${encodeURIComponent(router_id)}`, remoteAddress: request.ip });
    if (response.statusCode === 404 || response.statusCode === 400) return null;
    if (response.statusCode !== 200) throw new ApiRefusal(failureOf(response));
    return response.json<Site>();
  };

  /**
   * This visit: the router's values when the router just sent the browser here (remembered in a cookie), else the
   * remembered visit to this hotspot, else an empty one (the page then says to come through the Wi-Fi login).
   */
  const visitOf = (request: FastifyRequest, reply: FastifyReply, router_id: string): HotspotVisit => {
    const query = request.query as Record<string, unknown>;
    const remembered = readHotspotVisit(request);
    const fallback_lang = remembered?.lang ?? preferredLanguage(request);
    let visit: HotspotVisit | null;
    if (cameFromRouter(query)) visit = checkedVisit(router_id, query, fallback_lang);
    else visit = remembered !== null && remembered.router_id === router_id ? remembered : checkedVisit(router_id, {}, fallback_lang);
    if (visit === null) visit = checkedVisit('unknown', {}, fallback_lang)!;
    const lang = languageOf(query.lang);
    if (lang !== null) visit = { ...visit, lang };
    if (cameFromRouter(query) || lang !== null || remembered?.router_id !== router_id) writeHotspotVisit(reply, visit, settings.secure_cookies);
    return visit;
  };

  const packagesView = (site: Site, lang: Language) =>
    site.packages.map((item) => ({
      ...item,
      validity: item.validity_days === 1 ? say(lang, 'day') : say(lang, 'days', { n: item.validity_days }),
      speed: `${speedText(item.down_kbps)} / ${speedText(item.up_kbps)}`,
      data: item.data_quota_mb === null ? say(lang, 'unlimited') : say(lang, 'data', { amount: quotaText(item.data_quota_mb) }),
    }));

  const baseOf = (site: Site, visit: HotspotVisit, t: Messages, path: string) => ({
    site,
    visit,
    t,
    lang: visit.lang,
    other_lang: visit.lang === 'bn' ? 'en' : 'bn',
    path,
    title: site.isp.name,
    session: { time_zone: site.isp.time_zone, csrf: '' },
  });

  const notFound = (reply: FastifyReply, lang: Language) =>
    render(reply, 'message', { t: messagesFor(lang, { isp: 'Wi-Fi' }), lang, other_lang: lang === 'bn' ? 'en' : 'bn', message_title: say(lang, 'not_found_title'), text: say(lang, 'not_found'), title: say(lang, 'not_found_title') }, 404);

  /** Arriving from another site without the session cookie: one reload from our page brings it (reloadForSession). */
  const bounce = (reply: FastifyReply, url: string, site: Site, visit: HotspotVisit) =>
    render(reply, 'bounce', { title: site.isp.name, url, refresh_url: url, site, t: messagesFor(visit.lang, { isp: site.isp.name, place: site.name }), lang: visit.lang, other_lang: visit.lang === 'bn' ? 'en' : 'bn', path: `/hotspot/${site.router_id}` });

  const routerParam = (request: FastifyRequest): string => String((request.params as { router_id: string }).router_id);

  // --- the start: sign up or sign in ---------------------------------------------------------------------------

  const startPage = async (request: FastifyRequest, reply: FastifyReply, site: Site, visit: HotspotVisit, mode: Mode, form: FormState) => {
    const t = messagesFor(visit.lang, { isp: site.isp.name, place: site.name });
    const query = request.query as Record<string, unknown>;
    const router_error = typeof query.error === 'string' && query.error.trim() !== '' ? say(visit.lang, 'router_error', { error: query.error.slice(0, 200) }) : null;
    return render(
      reply,
      'start',
      {
        ...baseOf(site, visit, t, `/hotspot/${site.router_id}`),
        heading: t.welcome,
        packages: packagesView(site, visit.lang),
        mode,
        registering: mode === 'register',
        form,
        form_token: formToken(request, reply, settings.secure_cookies),
        no_device: visit.mac === null,
        closed: mode === 'register' && !site.self_registration,
        router_error,
      },
    );
  };

  app.get('/hotspot/:router_id', async (request, reply) => {
    const router_id = routerParam(request);
    const site = await siteOf(request, router_id);
    // Someone who was here before (the visit cookie is SameSite=Lax, so it came along) may still be signed in.
    const returning = readHotspotVisit(request) !== null;
    const visit = visitOf(request, reply, router_id);
    if (site === null) return notFound(reply, visit.lang);
    const query = request.query as Record<string, unknown>;
    const reload = cameFromRouter(query) && returning ? reloadForSession(request) : null;
    if (reload !== null) return bounce(reply, reload, site, visit);
    // Someone already signed in here (back from the router, or reloading) goes on to their account.
    const caller = await customerOf(deps, request).catch(() => null);
    if (caller !== null && caller.tenant === site.isp.operator_id && query.mode === undefined) return reply.redirect(`/hotspot/${encodeURIComponent(router_id)}/account`, 303);
    const mode: Mode = query.mode === 'sign-in' || !site.self_registration ? 'sign-in' : 'register';
    return startPage(request, reply, site, visit, mode, { id: 'start', values: {}, errors: {} });
  });

  /** The step after the number: the code was sent, type it in (or send another). */
  const codePage = async (request: FastifyRequest, reply: FastifyReply, site: Site, visit: HotspotVisit, form: FormState, sent_to: string) => {
    const t = messagesFor(visit.lang, { isp: site.isp.name, place: site.name, to: sent_to, digits: site.code.digits, minutes: Math.round(site.code.ttl_seconds / 60) });
    return render(
      reply,
      'code',
      { ...baseOf(site, visit, t, `/hotspot/${site.router_id}`), form, sent_to, form_token: formToken(request, reply, settings.secure_cookies), registering: form.values.mode !== 'sign-in', code_digits: site.code.digits },
    );
  };

  const modeOf = (values: Readonly<Record<string, unknown>>): Mode => (values.mode === 'sign-in' ? 'sign-in' : 'register');

  app.post('/hotspot/:router_id/code', async (request, reply) => {
    const router_id = routerParam(request);
    const site = await siteOf(request, router_id);
    const visit = visitOf(request, reply, router_id);
    if (site === null) return notFound(reply, visit.lang);
    const values = formValues(request.body);
    const mode = modeOf(values);
    const shown = { mobile: field(values, 'mobile') ?? '', name: field(values, 'name') ?? '', mode };
    const resending = values.resend === '1';
    if (!formTokenValid(request)) return startPage(request, reply, site, visit, mode, { id: 'start', values: shown, errors: {}, error: say(visit.lang, 'expired_form') });
    if (shown.mobile === '') return startPage(request, reply, site, visit, mode, { id: 'start', values: shown, errors: { mobile: say(visit.lang, 'mobile_required') } });
    const response = await app.inject({
      method: 'POST',
      url: `/api/v1/hotspot/${encodeURIComponent(router_id)}/codes`,
      payload: { mobile: shown.mobile, mac: visit.mac ?? '-', purpose: mode === 'sign-in' ? 'sign_in' : 'register', language: visit.lang },
      remoteAddress: request.ip,
    });
    if (response.statusCode !== 202) {
      const failure = failureOf(response);
      if (resending) return codePage(request, reply, site, visit, formState('code', shown, failure, CODE_FIELDS, errorWords(visit.lang)), String(values.sent_to ?? shown.mobile));
      const state = formState('start', shown, failure, START_FIELDS, errorWords(visit.lang));
      // The device address is not a field anyone can fix: say how to come back through the Wi-Fi login instead.
      const placed = failure.code === 'INVALID_INPUT' && failure.details?.some((detail) => detail.path === 'body/mac') === true ? { ...state, errors: {}, error: say(visit.lang, 'no_device') } : state;
      return startPage(request, reply, site, visit, mode, placed);
    }
    const sent = response.json<{ sent_to: string }>();
    return codePage(request, reply, site, visit, { id: 'code', values: shown, errors: {} }, sent.sent_to);
  });

  app.post('/hotspot/:router_id/verify', async (request, reply) => {
    const router_id = routerParam(request);
    const site = await siteOf(request, router_id);
    const visit = visitOf(request, reply, router_id);
    if (site === null) return notFound(reply, visit.lang);
    const values = formValues(request.body);
    const mode = modeOf(values);
    const shown = { mobile: field(values, 'mobile') ?? '', name: field(values, 'name') ?? '', mode, code: field(values, 'code') ?? '' };
    const sent_to = String(values.sent_to ?? shown.mobile);
    if (!formTokenValid(request)) return codePage(request, reply, site, visit, { id: 'code', values: shown, errors: {}, error: say(visit.lang, 'expired_form') }, sent_to);
    const code = shown.code.replace(/\s+/g, '');
    const payload = mode === 'sign-in' ? { mobile: shown.mobile, mac: visit.mac ?? '-', code } : { mobile: shown.mobile, mac: visit.mac ?? '-', code, name: shown.name };
    const response = await app.inject({
      method: 'POST',
      url: `/api/v1/hotspot/${encodeURIComponent(router_id)}/${mode === 'sign-in' ? 'sign-ins' : 'registrations'}`,
      payload,
      remoteAddress: request.ip,
    });
    if (response.statusCode !== 200 && response.statusCode !== 201) {
      return codePage(request, reply, site, visit, formState('code', { ...shown, code: '' }, failureOf(response), CODE_FIELDS, errorWords(visit.lang)), sent_to);
    }
    forwardCookies(response, reply);
    const signed = response.json<{ position: string | null }>();
    return reply.redirect(`/hotspot/${encodeURIComponent(router_id)}/account${signed.position === null ? '' : `?at=${encodeURIComponent(signed.position)}`}`, 303);
  });

  // --- the account: buy, redeem, connect -------------------------------------------------------------------------

  type AccountContext = Readonly<{ site: Site; visit: HotspotVisit; caller: Caller; api: ApiClient; account: Account }>;

  /** The signed-in customer at this hotspot, or where to send the browser instead. */
  const accountContext = async (request: FastifyRequest, reply: FastifyReply): Promise<AccountContext | FastifyReply> => {
    const router_id = routerParam(request);
    const site = await siteOf(request, router_id);
    const visit = visitOf(request, reply, router_id);
    if (site === null) return notFound(reply, visit.lang);
    let caller: Caller | null;
    try {
      caller = await customerOf(deps, request);
    } catch (error) {
      if (!(error instanceof FormExpired)) throw error;
      return reply.redirect(`/hotspot/${encodeURIComponent(router_id)}/account`, 303);
    }
    const query = request.query as Record<string, unknown>;
    if (caller === null || caller.tenant !== site.isp.operator_id) {
      // Back from the gateway through a cross-site redirect, the SameSite=Strict session cookie stays behind: one
      // reload from our own page brings it.
      const reload = typeof query.payment === 'string' ? reloadForSession(request) : null;
      if (reload !== null) return bounce(reply, reload, site, visit);
      return reply.redirect(`/hotspot/${encodeURIComponent(router_id)}`, 303);
    }
    const at = typeof query.at === 'string' && /^\d{1,20}\.\d{1,20}$/.test(query.at) ? query.at : null;
    const csrf = request.method === 'POST' ? ((request.body as Record<string, unknown> | undefined)?._csrf as string | undefined) ?? null : null;
    const api = apiClientFor(app, request, { csrf, consistent_with: at });
    const account = await api.get<Account>('/api/v1/me');
    return { site, visit, caller, api, account };
  };
  const isContext = (value: AccountContext | FastifyReply): value is AccountContext => 'account' in value && 'site' in value;

  const accountPage = async (reply: FastifyReply, context: AccountContext, forms: Readonly<{ buy?: FormState; card?: FormState }>, notice: Readonly<{ tone: string; text: string }> | null, connect_now: boolean) => {
    const { site, visit, account, caller } = context;
    const view = accountView(account, deps.clock.now());
    const t = messagesFor(visit.lang, { isp: site.isp.name, place: site.name, package: account.package.name ?? account.package.package_id, until: view.until ?? '', mobile: account.mobile });
    // The account is this device's when the router named no device, or this one: another device's MAC login is not
    // posted from here (that device would be shut out); signing in with the number moves the account instead.
    const other_device = visit.mac !== null && account.mac !== null && visit.mac !== account.mac;
    const login = account.status === 'active' && account.mac !== null && !other_device ? routerLoginForm(visit, account.mac) : null;
    const status_text = account.status === 'active' ? null : view.new_customer ? t.status_new : account.status === 'expired' ? t.status_expired : account.status === 'suspended' ? t.status_suspended : t.status_disabled;
    return render(
      reply,
      'account',
      {
        ...baseOf(site, visit, t, `/hotspot/${site.router_id}/account`),
        session: { time_zone: site.isp.time_zone, csrf: caller.csrf_token ?? '' },
        account: view,
        active: account.status === 'active',
        can_buy: account.status === 'expired' || account.status === 'active',
        status_text,
        packages: packagesView(site, visit.lang),
        login,
        no_router: account.status === 'active' && login === null && !other_device,
        other_device,
        connect_now: connect_now && login !== null,
        forms: { buy: forms.buy ?? { id: 'buy', values: {}, errors: {} }, card: forms.card ?? { id: 'card', values: {}, errors: {} } },
        idempotency: forms.card?.values._idempotency ?? newIdempotencyKey(),
        notice,
      },
      200,
      [...payment_origins, ...(login === null ? [] : [login.origin])],
    );
  };

  app.get('/hotspot/:router_id/account', async (request, reply) => {
    const context = await accountContext(request, reply);
    if (!isContext(context)) return context;
    const query = request.query as Record<string, unknown>;
    const lang = context.visit.lang;
    const outcome = await paymentOutcome(context.api, query);
    const notices = {
      recorded: { tone: 'ok', text: say(lang, 'paid') },
      held: { tone: 'info', text: 'Your payment was received and is being checked by the ISP; you can connect once they confirm it.' },
      failed: { tone: 'error', text: 'The payment did not go through, and nothing was charged. You can try again.' },
      cancelled: { tone: 'info', text: 'You cancelled the payment; nothing was charged.' },
      pending: { tone: 'info', text: 'The payment is not confirmed yet; this page shows it once the gateway confirms it.' },
    } as const;
    const notice = outcome !== null ? notices[outcome] : query.done === 'card' ? { tone: 'ok', text: say(lang, 'card_done') } : null;
    // Just paid or redeemed: log the device in at once (the page shows a button too).
    const connect_now = outcome === 'recorded' || query.done === 'card';
    const reread = outcome === 'recorded' ? { ...context, account: await context.api.get<Account>('/api/v1/me') } : context;
    return accountPage(reply, reread, {}, notice, connect_now);
  });

  app.post('/hotspot/:router_id/buy', async (request, reply) => {
    const context = await accountContext(request, reply);
    if (!isContext(context)) return context;
    const values = formValues(request.body);
    const chosen = context.site.packages.find((item) => item.package_id === values.package_id);
    if (chosen === undefined) return accountPage(reply, context, { buy: { id: 'buy', values, errors: {}, error: 'Choose one of the packages.' } }, null, false);
    try {
      const started = await context.api.send<{ redirect_url: string }>('POST', '/api/v1/me/online-payments', { amount: chosen.price, recharge_package_id: chosen.package_id });
      pageHeaders(reply, payment_origins);
      return reply.redirect(started.redirect_url, 303);
    } catch (error) {
      if (!(error instanceof ApiRefusal) || error.status === 401) throw error;
      const words = { ...errorWords(context.visit.lang), ...(error.code === 'NOT_PERMITTED' ? { NOT_PERMITTED: 'Online payment is not available at this hotspot yet; use a recharge card.' } : {}) };
      return accountPage(reply, context, { buy: formState('buy', values, error.failure, {}, words) }, null, false);
    }
  });

  app.post('/hotspot/:router_id/redeem', async (request, reply) => {
    const context = await accountContext(request, reply);
    if (!isContext(context)) return context;
    const body = request.body as Record<string, unknown>;
    const values = formValues(body);
    const key = typeof body._idempotency === 'string' ? body._idempotency : newIdempotencyKey();
    const shown = { ...values, _idempotency: key };
    try {
      const position = await redeemTypedCard(context.api, context.caller.principal_id, values, key);
      const at = position === null ? '' : `&at=${encodeURIComponent(position)}`;
      return reply.redirect(`/hotspot/${encodeURIComponent(context.site.router_id)}/account?done=card${at}`, 303);
    } catch (error) {
      if (!(error instanceof ApiRefusal) || error.status === 401) throw error;
      return accountPage(reply, context, { card: formState('card', shown, error.failure, CARD_FIELDS, errorWords(context.visit.lang)) }, null, false);
    }
  });

  app.post('/hotspot/:router_id/sign-out', async (request, reply) => {
    const context = await accountContext(request, reply);
    if (!isContext(context)) return context;
    const response = await app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: { cookie: request.headers.cookie ?? '', [CSRF_HEADER]: context.caller.csrf_token ?? '' } });
    forwardCookies(response, reply);
    endHotspotVisit(reply);
    return reply.redirect(`/hotspot/${encodeURIComponent(context.site.router_id)}`, 303);
  });

  // --- the router's own login page --------------------------------------------------------------------------------

  app.get('/hotspot/:router_id/login.html', async (request, reply) => {
    const router_id = routerParam(request);
    const site = await siteOf(request, router_id);
    if (site === null) return reply.code(404).type('text/plain; charset=utf-8').send(`no router ${router_id} is registered\n`);
    return reply
      .header('cache-control', 'no-store')
      .header('content-disposition', 'attachment; filename="login.html"')
      .type('text/html; charset=utf-8')
      .send(routerLoginPage(settings.origin, site.router_id, site.isp.name));
  });
};
