import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CSRF_HEADER, identify, SESSION_COOKIE, type Caller } from '../../api/access/caller.js';
import type { Capability } from '../../api/access/capabilities.js';
import type { ApiDependencies } from '../../api/dependencies.js';
import { ApiError } from '../../api/errors.js';
import { localDateOf } from '../../domain/calendar/local-date.js';
import { apiClientFor, ApiRefusal, isFormRefusal, type ApiClient, type ApiFailure } from './api-client.js';
import type { FormState } from './helpers.js';
import { navigationSections } from './menu.js';

/**
 * What every panel page shares: who is asking (the session cookie, resolved by the API's own caller.ts; the
 * login page when there is none), the API client acting as that person, the layout's data (the menu the
 * capabilities allow, the ISP's name and time zone, the CSRF token for forms), flash messages after a redirect,
 * and one way to turn an API refusal into a page: a form re-rendered with the typed values and each error
 * beside its field, a "not allowed" or "not found" page, or the login page when the session ended.
 */
export type Session = Readonly<{
  login: string;
  role: string;
  name: string;
  operator_id: string;
  operator_name: string;
  tenant: string;
  isp_name: string;
  time_zone: string;
  currency: string;
  /** The caller works for the ISP itself (its admin or the ISP's staff), not for a reseller. */
  isp_level: boolean;
  capabilities: readonly string[];
  csrf: string;
  /** Today in the ISP's calendar, by the server's clock: what date fields default to. */
  today: string;
}>;

export type Flash = Readonly<{ message: string; tone: 'ok' | 'error'; position: string | null }>;

export type PageContext = Readonly<{
  request: FastifyRequest;
  reply: FastifyReply;
  caller: Caller;
  session: Session;
  api: ApiClient;
  flash: Flash | null;
  can: (capability: Capability) => boolean;
  /** Renders a page in the layout; `forms` holds the state of forms being re-shown after a refusal. */
  render: (view: string, data: Record<string, unknown>, status?: number) => Promise<FastifyReply>;
  /** A part of a page without the layout (the results a live search swaps in). */
  fragment: (view: string, data: Record<string, unknown>) => Promise<FastifyReply>;
  /** Post/redirect/get: the next page shows the message and reads the write it names. */
  redirect: (url: string, message?: string, position?: string | null) => FastifyReply;
}>;

export type PageHandler = (page: PageContext) => Promise<unknown>;

const FLASH_COOKIE = 'ispbills_flash';
const LAYOUT = { layout: 'layout.hbs' } as const;
/** The only place a page sends the browser after a successful form; nothing else may redirect off-site. */
const LOCAL_PATH = /^\/(?!\/)[^\s\\]*$/;
export const isLocalPath = (url: unknown): url is string => typeof url === 'string' && LOCAL_PATH.test(url) && url.length <= 2000;

const ROLE_LABELS: Readonly<Record<string, string>> = {
  admin: 'ISP admin',
  reseller: 'Reseller',
  sub_reseller: 'Sub-reseller',
  manager: 'Manager',
  accountant: 'Accountant',
  auditor: 'Auditor',
  card_distributor: 'Card distributor',
};

type SessionRow = { operator_name: string; isp_name: string; time_zone: string; currency: string; staff_name: string | null };

function readFlash(request: FastifyRequest): Flash | null {
  const raw = request.cookies?.[FLASH_COOKIE];
  if (raw === undefined || raw === '') return null;
  try {
    const parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as { m?: unknown; t?: unknown; p?: unknown };
    const position = typeof parsed.p === 'string' && /^\d{1,20}\.\d{1,20}$/.test(parsed.p) ? parsed.p : null;
    return { message: typeof parsed.m === 'string' ? parsed.m.slice(0, 500) : '', tone: parsed.t === 'error' ? 'error' : 'ok', position };
  } catch {
    return null;
  }
}

export type Pages = Readonly<{
  get: (url: string, capability: Capability | null, handler: PageHandler) => void;
  post: (url: string, capability: Capability | null, handler: PageHandler) => void;
}>;

export function definePages(app: FastifyInstance, deps: ApiDependencies): Pages {
  const { pool, clock, settings } = deps;

  const sessionOf = async (caller: Caller): Promise<Session> => {
    const found = await pool.query<SessionRow>(
      `SELECT o.name AS operator_name, t.name AS isp_name, t.time_zone, t.currency,
              (SELECT s.name FROM staff s WHERE s.staff_id = $3) AS staff_name
         FROM operators o JOIN operators t ON t.operator_id = $2 WHERE o.operator_id = $1`,
      [caller.operator_id, caller.tenant, caller.principal_kind === 'staff' ? caller.principal_id : null],
    );
    const row = found.rows[0] ?? { operator_name: caller.operator_id, isp_name: caller.tenant, time_zone: 'UTC', currency: '', staff_name: null };
    return {
      login: caller.login,
      role: ROLE_LABELS[caller.role] ?? caller.role,
      name: row.staff_name ?? row.operator_name,
      operator_id: caller.operator_id,
      operator_name: row.operator_name,
      tenant: caller.tenant,
      isp_name: row.isp_name,
      time_zone: row.time_zone,
      currency: row.currency,
      isp_level: caller.operator_id === caller.tenant,
      capabilities: [...caller.capabilities],
      csrf: caller.csrf_token ?? '',
      today: localDateOf(clock.now(), row.time_zone),
    };
  };

  const loginRedirect = (request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const next = request.method === 'GET' && isLocalPath(request.url) && request.url !== '/' ? `?next=${encodeURIComponent(request.url)}` : '';
    return reply.redirect(`/login${next}`, 303);
  };

  const errorPage = async (reply: FastifyReply, session: Session | null, status: number, title: string, message: string): Promise<FastifyReply> => {
    const html = await reply.panelViewAsync('pages/error.hbs', { title, message, status, session, nav: session === null ? [] : navigationSections(session, ''), bare: session === null }, LAYOUT);
    return reply.code(status).type('text/html; charset=utf-8').send(html);
  };

  const handle = (method: 'GET' | 'POST', url: string, capability: Capability | null, handler: PageHandler): void => {
    app.route({
      method,
      url,
      handler: async (request, reply) => {
        const body = request.body as Record<string, unknown> | undefined;
        // A form carries the CSRF token in a field; the API's own check (identify) reads it from the header.
        if (method === 'POST' && typeof body?._csrf === 'string') request.headers[CSRF_HEADER] = body._csrf;
        let caller: Caller | null;
        try {
          caller = await identify(pool, clock, request);
        } catch (error) {
          if (error instanceof ApiError && error.code === 'CSRF_TOKEN_INVALID') {
            return errorPage(reply, null, 403, 'This form has expired', 'The page was open in another session or for too long. Go back, reload it and try again.');
          }
          if (error instanceof ApiError) {
            void reply.clearCookie(SESSION_COOKIE, { path: '/' });
            return loginRedirect(request, reply);
          }
          throw error;
        }
        if (caller === null) return loginRedirect(request, reply);
        // Customers have their own portal.
        if (caller.principal_kind === 'customer') return reply.redirect('/portal', 303);
        const session = await sessionOf(caller);
        if (capability !== null && !caller.capabilities.has(capability)) {
          return errorPage(reply, session, 403, 'Not allowed', `Your role (${session.role}) may not open this page.`);
        }
        const flash = readFlash(request);
        if (flash !== null) void reply.clearCookie(FLASH_COOKIE, { path: '/' });
        const api = apiClientFor(app, request, { csrf: method === 'POST' ? (body?._csrf as string | undefined) ?? null : null, consistent_with: flash?.position ?? null });
        const context: PageContext = {
          request,
          reply,
          caller,
          session,
          api,
          flash,
          can: (wanted) => caller.capabilities.has(wanted),
          render: async (view, data, status = 200) => {
            const path = request.url.split('?')[0] ?? '/';
            const html = await reply.panelViewAsync(`pages/${view}.hbs`, { ...data, session, flash, nav: navigationSections(session, path), path }, LAYOUT);
            return reply.code(status).type('text/html; charset=utf-8').send(html);
          },
          fragment: async (view, data) => {
            const html = await reply.panelViewAsync(`partials/${view}.hbs`, { ...data, session });
            return reply.type('text/html; charset=utf-8').send(html);
          },
          redirect: (target, message, position) => {
            if (message !== undefined) {
              const value = Buffer.from(JSON.stringify({ m: message, t: 'ok', p: position ?? null })).toString('base64url');
              void reply.setCookie(FLASH_COOKIE, value, { path: '/', httpOnly: true, sameSite: 'strict', secure: settings.secure_cookies, maxAge: 60 });
            }
            return reply.redirect(isLocalPath(target) ? target : '/', 303);
          },
        };
        try {
          return await handler(context);
        } catch (error) {
          if (!(error instanceof ApiRefusal)) throw error;
          return refusalPage(context, error.failure);
        }
      },
    });
  };

  /** A refusal no form can show: the session ended, a thing outside the caller's part of the network, a right it lacks. */
  const refusalPage = async (page: PageContext, failure: ApiFailure): Promise<FastifyReply> => {
    if (failure.status === 401) return loginRedirect(page.request, page.reply);
    if (failure.status === 404) return errorPage(page.reply, page.session, 404, 'Not found', failure.message);
    if (failure.status === 403) return errorPage(page.reply, page.session, 403, 'Not allowed', failure.message);
    if (failure.status >= 500) return errorPage(page.reply, page.session, failure.status, 'Something went wrong', failure.message);
    return errorPage(page.reply, page.session, failure.status, 'That did not work', failure.message);
  };

  return {
    get: (url, capability, handler) => handle('GET', url, capability, handler),
    post: (url, capability, handler) => handle('POST', url, capability, handler),
  };
}

// --- forms ---------------------------------------------------------------------------------------------------------

/** A form's fields as typed, without the hidden ones (which every render makes afresh). */
export function formValues(body: unknown): Record<string, unknown> {
  if (body === null || typeof body !== 'object') return {};
  return Object.fromEntries(Object.entries(body as Record<string, unknown>).filter(([key]) => !key.startsWith('_')));
}

/** A text field: trimmed; empty is absent. */
export function field(values: Readonly<Record<string, unknown>>, name: string): string | undefined {
  const value = values[name];
  const text = Array.isArray(value) ? value[0] : value;
  if (typeof text !== 'string') return undefined;
  const trimmed = text.trim();
  return trimmed === '' ? undefined : trimmed;
}

/** An optional text field for the API: null when left empty. */
export const nullable = (values: Readonly<Record<string, unknown>>, name: string): string | null => field(values, name) ?? null;

/**
 * A whole number typed into a field, as the API should see it: a number when it is one, else the text itself, so
 * the API's schema refuses it with its own words beside the field (never a silent NaN or 0).
 */
export function integerField(values: Readonly<Record<string, unknown>>, name: string): number | string | undefined {
  const text = field(values, name);
  if (text === undefined) return undefined;
  return /^-?\d{1,15}$/.test(text) ? Number(text) : text;
}

/** Checkboxes (repeated names) as a list. */
export function listField(values: Readonly<Record<string, unknown>>, name: string): string[] {
  const value = values[name];
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === 'string');
  return typeof value === 'string' && value !== '' ? [value] : [];
}

/** Domain refusals that are about one field, by the field's usual name in our forms. */
const FIELD_OF_CODE: Readonly<Record<string, readonly string[]>> = {
  USERNAME_TAKEN: ['username'],
  MAC_TAKEN: ['mac'],
  STATIC_IP_TAKEN: ['static_ip'],
  NAS_IP_TAKEN: ['nas_ip'],
  LOGIN_TAKEN: ['login'],
  INSUFFICIENT_RESELLER_BALANCE: ['amount'],
  CREDIT_LIMIT_EXCEEDED: ['amount'],
  REFUND_EXCEEDS_PAYMENT: ['amount'],
  PAYMENT_AMOUNT_TOO_SMALL: ['amount'],
  INVALID_AMOUNT: ['amount', 'value', 'price'],
  PRICE_BELOW_WHOLESALE: ['wholesale_price', 'price', 'special_price'],
  CARD_WRONG_PIN: ['pin'],
  CARD_NOT_FOUND: ['serial', 'serials'],
  CARD_ALREADY_REDEEMED: ['serial'],
  CARD_EXPIRED: ['serial'],
  CARD_NOT_ASSIGNED_TO_YOU: ['serials', 'serial'],
  CARD_BATCH_NOT_FOUND: ['batch_id'],
  PACKAGE_NOT_FOUND: ['package_id'],
  PACKAGE_NOT_ASSIGNED: ['package_id'],
  PACKAGE_RETIRED: ['package_id'],
  OPERATOR_NOT_FOUND: ['operator_id', 'parent_id', 'to_operator_id'],
  OPERATOR_SUSPENDED: ['operator_id'],
  STAFF_NOT_FOUND: ['to_staff_id', 'staff_id'],
  ACCOUNT_NOT_FOUND: ['account'],
  ACCOUNT_EXISTS: ['code'],
  PERIOD_NOT_ENDED: ['through'],
  PERIOD_CLOSED: ['through', 'date'],
  BILL_NOT_DUE_YET: ['period'],
  INVALID_AS_OF: ['as_of'],
  INVALID_CREDENTIALS: ['password', 'username'],
};

/** Zod's words, said plainly. */
export function plainMessage(message: string): string {
  if (/expected string to have >=1 characters|Required|received undefined|expected nonoptional/i.test(message)) return 'Required';
  const longest = /expected string to have <=(\d+) characters/.exec(message);
  if (longest !== null) return `At most ${longest[1]} characters`;
  const shortest = /expected string to have >=(\d+) characters/.exec(message);
  if (shortest !== null) return `At least ${shortest[1]} characters`;
  if (/expected number, received (string|NaN)/.test(message)) return 'A whole number';
  const small = /Too small: expected number to be >=(\S+)/.exec(message);
  if (small !== null) return `At least ${small[1]}`;
  const big = /Too big: expected number to be <=(\S+)/.exec(message);
  if (big !== null) return `At most ${big[1]}`;
  const option = /expected one of (.+)$/.exec(message);
  if (option !== null) return `Choose one of ${option[1]!.replaceAll('"', '').replaceAll('|', ', ')}`;
  const trimmed = message.replace(/^Invalid (input|string): /, '');
  return trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
}

/**
 * The refusal as the form shows it: each of the API's field errors beside its field (the last named segment of
 * the path, or `aliases` when the form names it otherwise), a domain refusal about one field beside that field,
 * anything else above the form; a missing passkey confirmation as the step-up prompt.
 */
export function formStateOf(id: string, values: Readonly<Record<string, unknown>>, failure: ApiFailure, aliases: Readonly<Record<string, string>> = {}): FormState {
  const errors: Record<string, string> = {};
  const unplaced: string[] = [];
  for (const detail of failure.details ?? []) {
    const segments = detail.path.split('/').filter((segment) => segment !== '' && !/^\d+$/.test(segment));
    const named = segments.slice(1);
    const key = named.join('.');
    const name = aliases[key] ?? aliases[named[named.length - 1] ?? ''] ?? named[named.length - 1];
    if (name !== undefined && name in values) errors[name] ??= plainMessage(detail.message);
    else unplaced.push(`${named.join(' ') || 'input'}: ${plainMessage(detail.message)}`);
  }
  let error: string | null = null;
  if (failure.code === 'STEP_UP_REQUIRED') return { id, values, errors, error: null, step_up: true };
  if (failure.details === undefined || failure.details.length === 0) {
    const candidates = FIELD_OF_CODE[failure.code] ?? [];
    const target = candidates.find((name) => name in values);
    if (target !== undefined) errors[target] = failure.message;
    else error = failure.message;
  } else if (unplaced.length > 0) {
    error = unplaced.join('; ');
  }
  return { id, values, errors, error };
}

/**
 * Runs a form's command. On success: redirect with the message (and the log position, so the next page shows
 * the change). On a refusal the form can show: `again` renders the page once more with the form's state.
 */
export async function submitForm(
  page: PageContext,
  form: Readonly<{
    id: string;
    values: Readonly<Record<string, unknown>>;
    run: () => Promise<{ position?: string | null } | unknown>;
    done: Readonly<{ url: string | ((result: unknown) => string); message: string | ((result: unknown) => string) }>;
    again: (forms: Readonly<Record<string, FormState>>) => Promise<unknown>;
    aliases?: Readonly<Record<string, string>>;
  }>,
): Promise<unknown> {
  try {
    const result = await form.run();
    const position = (result as { position?: string | null } | null)?.position ?? null;
    const url = typeof form.done.url === 'function' ? form.done.url(result) : form.done.url;
    const message = typeof form.done.message === 'function' ? form.done.message(result) : form.done.message;
    return page.redirect(url, message, position);
  } catch (error) {
    if (!isFormRefusal(error)) throw error;
    // The page answers 200: it is a good page (the form, the input and the errors); a 4xx document would be
    // reported by the browser as a failed load. What was refused is in the form and nothing was written.
    return form.again({ [form.id]: formStateOf(form.id, form.values, error.failure, form.aliases) });
  }
}

/** Links to the API's XLSX and CSV export of a list, with the filters the export understands. */
export function exportLinks(table: string, filters: Readonly<Record<string, string | undefined>>): Readonly<{ xlsx: string; csv: string }> {
  const link = (format: string): string => {
    const params = new URLSearchParams({ format });
    for (const [key, value] of Object.entries(filters)) if (value !== undefined && value !== '') params.set(key, value);
    return `/api/v1/exports/${table}?${params.toString()}`;
  };
  return { xlsx: link('xlsx'), csv: link('csv') };
}

/** What an action's form asks of the API. */
export type ActionRequest = Readonly<{ method?: 'POST' | 'PUT' | 'PATCH' | 'DELETE'; url: string; body?: unknown; money?: boolean }>;

/**
 * The actions on one kind of record (a customer, an operator, a router): each a form posted to
 * `<record>/<path>`, sent to the API as `build` says (with the form's idempotency key when it moves money), then
 * back to the record's page with a message; a refusal shows the record's page again with the form's state.
 */
export function recordActions(
  pages: Pages,
  record: Readonly<{ path: string; param: string; show: (page: PageContext, id: string, forms: Readonly<Record<string, FormState>>) => Promise<unknown> }>,
) {
  return (
    path: string,
    capability: Capability,
    form: string,
    build: (values: Record<string, unknown>, id: string) => ActionRequest,
    message: string,
    done?: (id: string) => string,
  ): void => {
    pages.post(`${record.path}/${path}`, capability, async (page) => {
      const id = (page.request.params as Record<string, string>)[record.param]!;
      const values = formValues(page.request.body);
      const request = build(values, id);
      const key = (page.request.body as { _idempotency?: unknown } | undefined)?._idempotency;
      return submitForm(page, {
        id: form,
        values,
        run: () => page.api.send(request.method ?? 'POST', request.url, request.body, request.money === true && typeof key === 'string' ? { idempotency_key: key } : {}),
        done: { url: done?.(id) ?? `${record.path.replace(`:${record.param}`, encodeURIComponent(id))}`, message },
        again: (forms) => record.show(page, id, forms),
      });
    });
  };
}
