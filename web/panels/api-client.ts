import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest, InjectOptions } from 'fastify';
import { CSRF_HEADER } from '../../api/access/caller.js';
import { IDEMPOTENCY_HEADER } from '../../api/routes/command-reply.js';
import { POSITION_HEADER } from '../../api/scope.js';

/**
 * The pages' way into the JSON API: every read and every command goes through the API's own route, in process
 * (`app.inject`), as the person at the browser — their session cookie, their CSRF token on writes, their
 * address (for the login throttle). So the capability, the subtree scope in SQL, the validation, the
 * idempotency and the error codes are the API's, once; a page only renders the answer or the refusal.
 */
export type ApiFailure = Readonly<{
  status: number;
  code: string;
  message: string;
  /** Zod's issues for INVALID_INPUT: `path` like `body/name`, `querystring/period`. */
  details?: readonly Readonly<{ path: string; message: string }>[];
}>;

/** Refusals at the door (no session, a forged form, a right the role lacks): a page of their own, not a form's error. */
const DOOR_CODES: ReadonlySet<string> = new Set(['UNAUTHENTICATED', 'SESSION_EXPIRED', 'TOKEN_REVOKED', 'CSRF_TOKEN_INVALID', 'FORBIDDEN']);

export class ApiRefusal extends Error {
  constructor(readonly failure: ApiFailure) {
    super(`${failure.code}: ${failure.message}`);
    this.name = 'ApiRefusal';
  }
  get status(): number {
    return this.failure.status;
  }
  get code(): string {
    return this.failure.code;
  }
}

/** A refusal a form or a filter can show beside its fields (anything but a refusal at the door). */
export const isFormRefusal = (error: unknown): error is ApiRefusal => error instanceof ApiRefusal && !DOOR_CODES.has(error.code) && error.status < 500;

export type CommandOptions = Readonly<{
  /** Commands that move money need one; forms carry it in a hidden field, so a double submit is one payment. */
  idempotency_key?: string;
}>;

export type ApiClient = Readonly<{
  get: <Reply>(url: string, query?: Readonly<Record<string, string | number | undefined | null>>) => Promise<Reply>;
  send: <Reply>(method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, body?: unknown, options?: CommandOptions) => Promise<Reply & { position?: string | null }>;
}>;

const queryOf = (query: Readonly<Record<string, string | number | undefined | null>> | undefined): Record<string, string> =>
  Object.fromEntries(Object.entries(query ?? {}).flatMap(([key, value]) => (value === undefined || value === null || value === '' ? [] : [[key, String(value)]])));

function failureOf(status: number, body: string): ApiFailure {
  try {
    const parsed = JSON.parse(body) as { error?: { code?: string; message?: string; details?: unknown } };
    if (parsed.error?.code !== undefined) {
      const details = Array.isArray(parsed.error.details) ? (parsed.error.details as { path: string; message: string }[]) : undefined;
      return { status, code: parsed.error.code, message: parsed.error.message ?? parsed.error.code, ...(details === undefined ? {} : { details }) };
    }
  } catch {
    // not JSON: fall through
  }
  return { status, code: status >= 500 ? 'INTERNAL_ERROR' : 'UNEXPECTED_REPLY', message: `the server answered ${status}` };
}

/**
 * A client acting as the request's caller. `csrf` is the token the form carried (writes only): the API compares
 * it with the session's, as it does for any cookie-authenticated write. `consistent_with` is the log position of
 * the caller's last write (from the flash after a redirect), so the page shows what was just done.
 */
export function apiClientFor(app: FastifyInstance, request: FastifyRequest, options: Readonly<{ csrf?: string | null; consistent_with?: string | null }> = {}): ApiClient {
  const headers = (write: boolean, extra: Record<string, string> = {}): Record<string, string> => {
    const out: Record<string, string> = { ...extra };
    if (request.headers.cookie !== undefined) out.cookie = request.headers.cookie;
    if (request.headers['user-agent'] !== undefined) out['user-agent'] = request.headers['user-agent'];
    if (write && options.csrf !== undefined && options.csrf !== null) out[CSRF_HEADER] = options.csrf;
    // Reads and commands alike wait until the read models hold the caller's last write (a customer just created).
    if (options.consistent_with !== undefined && options.consistent_with !== null) out[POSITION_HEADER] = options.consistent_with;
    return out;
  };
  const inject = async (injection: InjectOptions) => app.inject({ ...injection, remoteAddress: request.ip });
  return {
    get: async <Reply>(url: string, query?: Readonly<Record<string, string | number | undefined | null>>): Promise<Reply> => {
      const response = await inject({ method: 'GET', url, query: queryOf(query), headers: headers(false) });
      if (response.statusCode >= 400) throw new ApiRefusal(failureOf(response.statusCode, response.body));
      return response.json<Reply>();
    },
    send: async <Reply>(method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, body?: unknown, commandOptions: CommandOptions = {}): Promise<Reply & { position?: string | null }> => {
      const extra: Record<string, string> = {};
      if (commandOptions.idempotency_key !== undefined) extra[IDEMPOTENCY_HEADER] = commandOptions.idempotency_key;
      const response = await inject({
        method,
        url,
        headers: headers(true, extra),
        ...(body === undefined ? {} : { payload: body as InjectOptions['payload'] }),
      });
      if (response.statusCode >= 400) throw new ApiRefusal(failureOf(response.statusCode, response.body));
      return (response.body === '' || response.statusCode === 204 ? {} : response.json()) as Reply & { position?: string | null };
    },
  };
}

/** A fresh key for a form that moves money; the form sends it back, and a double submit repeats it. */
export const newIdempotencyKey = (): string => `web-${randomUUID()}`;
