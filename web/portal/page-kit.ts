import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import formbody from '@fastify/formbody';
import view from '@fastify/view';
import type { FastifyInstance, FastifyReply, FastifyRequest, LightMyRequestResponse } from 'fastify';
import Handlebars from 'handlebars';
import { CSRF_HEADER, identify, SESSION_COOKIE, type Caller } from '../../api/access/caller.js';
import type { ApiDependencies } from '../../api/dependencies.js';
import { ApiError } from '../../api/errors.js';
import { gatewaySettingsFrom } from '../../api/gateways/settings.js';
import { cardSerial } from '../../domain/cards/card-batch.js';
import type { ApiClient, ApiFailure } from '../panels/api-client.js';
import { registerHelpers, type FormState } from '../panels/helpers.js';
import { field, formStateOf } from '../panels/page-kit.js';

/**
 * What the customer portal (web/portal) and the hotspot portal (web/hotspot) share: their view engine (handlebars
 * with the panels' formatting and form helpers, so an amount or a field error looks the same everywhere), the
 * response headers of a page, a form token for forms sent before anyone is logged in, who the customer is, and
 * how an API refusal lands beside a form's field.
 *
 * Pages never decide a rule: they call the JSON API in process (web/panels/api-client.ts) as the person at the
 * browser and show its answer.
 */
const MONTH = new Intl.DateTimeFormat('en-GB', { month: 'short', year: 'numeric', timeZone: 'UTC' });

export type ViewSetup = Readonly<{ root: string; propertyName: string }>;

/** Registers the form-body parser and a view engine inside an encapsulated plugin (so the JSON API never takes forms). */
export async function installViews(app: FastifyInstance, setup: ViewSetup): Promise<void> {
  await app.register(formbody, { bodyLimit: 16_384 });
  const handlebars = Handlebars.create();
  registerHelpers(handlebars);
  // A billing period (YYYY-MM) as people name it: "Nov 2026".
  handlebars.registerHelper('month', (value: unknown) => {
    const match = /^(\d{4})-(\d{2})$/.exec(String(value ?? ''));
    return match === null ? String(value ?? '') : MONTH.format(new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, 1)));
  });
  const partialsDir = join(setup.root, 'partials');
  const partials = Object.fromEntries(
    readdirSync(partialsDir)
      .filter((file) => file.endsWith('.hbs'))
      .map((file) => [basename(file, '.hbs'), join('partials', file)]),
  );
  await app.register(view, {
    engine: { handlebars },
    root: setup.root,
    layout: 'layout.hbs',
    options: { partials },
    propertyName: setup.propertyName,
    production: process.env.NODE_ENV !== 'development',
  });
}

/** Origins a page's forms may be sent to besides its own: the payment gateway (its payment page follows a form). */
export function gatewayOrigins(): string[] {
  const settings = gatewaySettingsFrom(process.env).sslcommerz;
  if (settings === null) return [];
  try {
    return [new URL(settings.api_url).origin];
  } catch {
    return [];
  }
}

/** A page's headers: never cached or framed, scripts, styles and fonts from the app only; forms to `form_action` too. */
export function pageHeaders(reply: FastifyReply, form_action: readonly string[] = []): void {
  reply.header('cache-control', 'no-store');
  reply.header(
    'content-security-policy',
    `default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'${form_action.map((origin) => ` ${origin}`).join('')}; frame-ancestors 'none'`,
  );
  reply.header('x-content-type-options', 'nosniff');
  reply.header('referrer-policy', 'same-origin');
}

// --- forms sent before a session ---------------------------------------------------------------------------------

/**
 * Forms sent before anyone is logged in (the portal's login, the hotspot's sign-up) carry a token that must equal
 * a cookie of ours (SameSite=Lax, so another site's form cannot bring it): nobody can make a browser send them
 * from elsewhere. Forms sent with a session carry the session's CSRF token instead, which the API checks.
 */
export const FORM_COOKIE = 'ispbills_form';

export function formToken(request: FastifyRequest, reply: FastifyReply, secure: boolean): string {
  const existing = request.cookies?.[FORM_COOKIE];
  if (existing !== undefined && /^[A-Za-z0-9_-]{32}$/.test(existing)) return existing;
  const token = randomBytes(24).toString('base64url');
  void reply.setCookie(FORM_COOKIE, token, { path: '/', httpOnly: true, sameSite: 'lax', secure, maxAge: 86_400 });
  return token;
}

export function formTokenValid(request: FastifyRequest): boolean {
  const cookie = request.cookies?.[FORM_COOKIE];
  const sent = (request.body as Record<string, unknown> | undefined)?._form;
  if (typeof cookie !== 'string' || typeof sent !== 'string' || cookie.length !== sent.length) return false;
  return timingSafeEqual(Buffer.from(cookie), Buffer.from(sent));
}

// --- the customer ------------------------------------------------------------------------------------------------

/** A form whose CSRF token is not its session's (open too long, or in another session). */
export class FormExpired extends Error {
  constructor() {
    super('the form was not sent with this session’s token');
    this.name = 'FormExpired';
  }
}

/**
 * The customer the session cookie belongs to; null for nobody, a session that ended, or a staff login. A POST
 * must carry the session's CSRF token in its `_csrf` field (FormExpired otherwise), checked by the API's own
 * identify(), as the panels do.
 */
export async function customerOf(deps: Pick<ApiDependencies, 'pool' | 'clock'>, request: FastifyRequest): Promise<Caller | null> {
  const body = request.body as Record<string, unknown> | undefined;
  if (request.method === 'POST' && typeof body?._csrf === 'string') request.headers[CSRF_HEADER] = body._csrf;
  let caller: Caller | null;
  try {
    caller = await identify(deps.pool, deps.clock, request);
  } catch (error) {
    if (error instanceof ApiError && error.code === 'CSRF_TOKEN_INVALID') throw new FormExpired();
    if (error instanceof ApiError) return null;
    throw error;
  }
  return caller !== null && caller.principal_kind === 'customer' && caller.via === 'session' ? caller : null;
}

/**
 * A browser arriving from another site (back from the payment gateway, or from the router's login page) leaves our
 * SameSite=Strict session cookie behind. One reload started by our own page (a meta refresh) brings it. This is
 * where to reload to — the same URL, marked `resumed` so it happens once — or null when there is nothing to bring
 * (the cookie came, or this is the reload already).
 */
export function reloadForSession(request: FastifyRequest): string | null {
  if ((request.query as Record<string, unknown>).resumed !== undefined || request.cookies?.[SESSION_COOKIE] !== undefined) return null;
  return `${request.url}${request.url.includes('?') ? '&' : '?'}resumed=1`;
}

/** Passes on the cookies an in-process API call set (a new session) to the browser. */
export function forwardCookies(response: LightMyRequestResponse, reply: FastifyReply): void {
  const set = response.headers['set-cookie'];
  for (const cookie of Array.isArray(set) ? set : set === undefined ? [] : [set]) reply.header('set-cookie', cookie);
}

/** What an API answered, for calls the page makes itself (those that start a session). */
export function failureOf(response: LightMyRequestResponse): ApiFailure {
  try {
    const parsed = response.json<{ error?: { code?: string; message?: string; details?: unknown } }>();
    if (parsed.error?.code !== undefined) {
      const message = parsed.error.message ?? parsed.error.code;
      const field = (parsed.error.details as { field?: unknown } | undefined)?.field;
      // Zod's issues come as a list; the hotspot API names the one field a refusal is about.
      const details = Array.isArray(parsed.error.details) ? (parsed.error.details as { path: string; message: string }[]) : typeof field === 'string' ? [{ path: `body/${field}`, message }] : undefined;
      return { status: response.statusCode, code: parsed.error.code, message, ...(details === undefined ? {} : { details }) };
    }
  } catch {
    // not JSON
  }
  return { status: response.statusCode, code: 'INTERNAL_ERROR', message: `the server answered ${response.statusCode}` };
}

/**
 * A refusal as a form shows it (the panels' rules: validation issues and known domain codes beside their fields),
 * plus this form's own codes → fields, and messages said in the page's language where it has them.
 */
export function formState(
  id: string,
  values: Readonly<Record<string, unknown>>,
  failure: ApiFailure,
  fields: Readonly<Record<string, string>> = {},
  words: Readonly<Record<string, string>> = {},
): FormState {
  const shown = formStateOf(id, values, failure);
  const errors = Object.fromEntries(Object.entries(shown.errors).map(([name, text]) => [name, capitalise(text)]));
  const api_message = capitalise(failure.message);
  const message = words[failure.code] ?? api_message;
  const field = fields[failure.code];
  if (field !== undefined) return { id, values, errors: { ...errors, [field]: message }, error: null };
  // The API's words where it placed them, or this page's words for the code in the same place.
  const placed = Object.entries(errors).find(([, text]) => text === api_message);
  if (placed !== undefined) return { ...shown, errors: { ...errors, [placed[0]]: message } };
  return { ...shown, errors, error: shown.error === undefined || shown.error === null ? shown.error : words[failure.code] ?? capitalise(shown.error) };
}

/** The API's messages are clauses ("wrong login or password"); on a page they start a sentence. */
const capitalise = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);

/** A card's serial as a person types it ("1234", "0000 1234") in the form the batch wrote it; other text as typed. */
export function typedSerial(text: string): string {
  const digits = text.replace(/[\s-]+/g, '');
  return /^\d{1,8}$/.test(digits) ? cardSerial(Number(digits)) : digits;
}

/** The API's card refusals by the field of the card form (batch, serial, PIN) they concern. */
export const CARD_FIELDS: Readonly<Record<string, string>> = { CARD_BATCH_NOT_FOUND: 'batch_id', CARD_NOT_FOUND: 'serial', CARD_ALREADY_REDEEMED: 'serial', CARD_EXPIRED: 'serial', CARD_WRONG_PIN: 'pin' };

/**
 * Redeems the card typed into a card form for the logged-in customer (the portal's and the hotspot's forms are the
 * same form), under the form's idempotency key; the log position it wrote, for the page that follows.
 */
export async function redeemTypedCard(api: ApiClient, customer_id: string, values: Readonly<Record<string, unknown>>, idempotency_key: string): Promise<string | null> {
  const redeemed = await api.send<{ position: string | null }>(
    'POST',
    `/api/v1/customers/${encodeURIComponent(customer_id)}/card-redemptions`,
    { batch_id: field(values, 'batch_id') ?? '', serial: typedSerial(field(values, 'serial') ?? ''), pin: field(values, 'pin') ?? '' },
    { idempotency_key },
  );
  return redeemed.position ?? null;
}

/** Local paths only: a page never sends the browser off-site on a value it was given. */
export const isLocalPath = (url: unknown): url is string => typeof url === 'string' && /^\/(?!\/)[^\s\\]*$/.test(url) && url.length <= 2000;
