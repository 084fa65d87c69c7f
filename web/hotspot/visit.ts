import type { FastifyReply, FastifyRequest } from 'fastify';
import { normaliseIpAddress, normaliseMac } from '../../domain/customers/identifiers.js';

/**
 * What the router told us about the device when it sent it to our page (the variables of RouterOS' login.html:
 * `$(mac)`, `$(ip)`, `$(link-login-only)`, `$(link-orig)`, `$(chap-id)`, `$(chap-challenge)`), kept for the visit
 * in a cookie so it survives the steps of signing up and the trip to the payment gateway and back.
 *
 * None of it is a secret or trusted: anyone can open the page with any values. The MAC only decides which device
 * a sign-up is for (and the code sent to the number is what proves the person); the login URL only decides where
 * the browser posts the device's MAC login, which is no secret either (routers see MACs in the clear). So each
 * value is only checked for its shape, on the way in and again on the way out of the cookie.
 */
export const HOTSPOT_COOKIE = 'ispbills_hotspot';
const VISIT_SECONDS = 2 * 3600;

export type Language = 'en' | 'bn';

export type HotspotVisit = Readonly<{
  router_id: string;
  mac: string | null;
  ip: string | null;
  /** Where the router takes logins (`$(link-login-only)`): an http(s) URL of the router. */
  link_login_only: string | null;
  /** Where the person was going (`$(link-orig)`): the router sends them there after the login. */
  link_orig: string | null;
  /** RouterOS' CHAP values as login.html writes them (octal escapes), for an http-chap login. */
  chap_id: string | null;
  chap_challenge: string | null;
  lang: Language;
}>;

const ROUTER_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** `\ooo` octal escapes and printable ASCII, as RouterOS writes CHAP values for JavaScript strings. */
const CHAP_TEXT = /^(?:\\[0-7]{3}|[\x20-\x5b\x5d-\x7e])+$/;

function httpUrl(raw: unknown, max_length: number): string | null {
  if (typeof raw !== 'string' || raw === '' || raw.length > max_length) return null;
  try {
    const url = new URL(raw);
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.username !== '' || url.password !== '') return null;
    return url.href;
  } catch {
    return null;
  }
}

const text = (raw: unknown): string | null => (typeof raw === 'string' ? raw : Array.isArray(raw) && typeof raw[0] === 'string' ? raw[0] : null);
const chap = (raw: unknown, max_length: number): string | null => {
  const value = text(raw);
  return value !== null && value.length <= max_length && CHAP_TEXT.test(value) ? value : null;
};
export const languageOf = (raw: unknown): Language | null => (raw === 'bn' || raw === 'en' ? raw : null);

/** The visit the values describe, each checked for its shape (what is not right is dropped). */
export function checkedVisit(router_id: string, values: Readonly<Record<string, unknown>>, fallback_lang: Language): HotspotVisit | null {
  if (!ROUTER_ID.test(router_id)) return null;
  const mac = text(values.mac);
  const ip = text(values.ip);
  return {
    router_id,
    mac: mac === null ? null : normaliseMac(mac),
    ip: ip === null ? null : normaliseIpAddress(ip),
    link_login_only: httpUrl(text(values['link-login-only'] ?? values.link_login_only), 500),
    link_orig: httpUrl(text(values['link-orig'] ?? values.link_orig), 1_000),
    chap_id: chap(values['chap-id'] ?? values.chap_id, 16),
    chap_challenge: chap(values['chap-challenge'] ?? values.chap_challenge, 256),
    lang: languageOf(text(values.lang)) ?? fallback_lang,
  };
}

/** True when the page was opened by the router's redirect (it names the device or the login URL). */
export const cameFromRouter = (query: Readonly<Record<string, unknown>>): boolean => query.mac !== undefined || query['link-login-only'] !== undefined;

export function readHotspotVisit(request: FastifyRequest): HotspotVisit | null {
  const raw = request.cookies?.[HOTSPOT_COOKIE];
  if (raw === undefined || raw === '' || raw.length > 4_000) return null;
  try {
    const parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Record<string, unknown>;
    return typeof parsed.router_id === 'string' ? checkedVisit(parsed.router_id, parsed, 'en') : null;
  } catch {
    return null;
  }
}

/** SameSite=Lax: it must come back with the browser from the payment gateway (a top-level navigation). */
export function writeHotspotVisit(reply: FastifyReply, visit: HotspotVisit, secure: boolean): void {
  void reply.setCookie(HOTSPOT_COOKIE, Buffer.from(JSON.stringify(visit)).toString('base64url'), { path: '/', httpOnly: true, sameSite: 'lax', secure, maxAge: VISIT_SECONDS });
}

export function endHotspotVisit(reply: FastifyReply): void {
  void reply.clearCookie(HOTSPOT_COOKIE, { path: '/' });
}
