import type { FastifyError, FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Rejection, RejectionCode } from '../domain/shared/rejection.js';

/**
 * Every error the API returns, once: a stable code, its HTTP status, and a message that says what was wrong
 * and what to do. Handlers throw `ApiError` or return a domain rejection; nothing invents a status inline.
 * A 4xx never leaves anything behind: commands are refused before they append.
 */
export const API_ERROR_CODES = {
  UNAUTHENTICATED: 401,
  SESSION_EXPIRED: 401,
  INVALID_LOGIN: 401,
  LOGIN_TAKEN: 409,
  LOGIN_LOCKED: 423,
  RATE_LIMITED: 429,
  CSRF_TOKEN_INVALID: 403,
  STEP_UP_REQUIRED: 403,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  ROUTE_NOT_FOUND: 404,
  INVALID_INPUT: 400,
  INVALID_CURSOR: 400,
  INVALID_AS_OF: 400,
  IDEMPOTENCY_KEY_REUSED: 409,
  PASSKEY_REJECTED: 400,
  TOKEN_REVOKED: 401,
  PROJECTION_WAIT_TIMEOUT: 503,
  GATEWAY_SIGNATURE_INVALID: 400,
  GATEWAY_VALIDATION_FAILED: 502,
  /** The hotspot's one-time codes (api/routes/hotspot.ts). */
  OTP_WRONG: 422,
  OTP_EXPIRED: 422,
  MOBILE_TAKEN: 409,
  MOBILE_NOT_REGISTERED: 404,
  SELF_REGISTRATION_CLOSED: 403,
  SMS_UNAVAILABLE: 503,
  INTERNAL_ERROR: 500,
} as const;

export type ApiErrorCode = keyof typeof API_ERROR_CODES | RejectionCode;

export class ApiError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  get status(): number {
    return statusOf(this.code);
  }
}

/** Domain rejections keep their codes; the status follows from what kind of "no" it is. */
export function statusOf(code: ApiErrorCode): number {
  if (code in API_ERROR_CODES) return API_ERROR_CODES[code as keyof typeof API_ERROR_CODES];
  if (code.endsWith('_NOT_FOUND')) return 404;
  if (code === 'NOT_PERMITTED' || code === 'OPERATOR_NOT_IN_SUBTREE' || code === 'WRONG_TENANT' || code === 'CARD_NOT_ASSIGNED_TO_YOU') return 403;
  if (code.endsWith('_EXISTS') || code.endsWith('_TAKEN') || code.startsWith('DUPLICATE_') || code.endsWith('_ALREADY_EXISTS') || code.endsWith('_ALREADY_REVERSED') || code === 'CARD_ALREADY_REDEEMED') return 409;
  if (code === 'INVALID_INPUT' || code === 'INVALID_AMOUNT' || code === 'INVALID_CREDENTIALS') return 400;
  return 422;
}

export const fromRejection = (rejection: Rejection): ApiError => new ApiError(rejection.code, rejection.message);

export const errorSchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.unknown().optional(),
  }),
});

/** Shared reply schemas for the statuses any route may answer with. */
export const errorReplies = {
  400: errorSchema,
  401: errorSchema,
  403: errorSchema,
  404: errorSchema,
  409: errorSchema,
  422: errorSchema,
  423: errorSchema,
  429: errorSchema,
  503: errorSchema,
} as const;

export function installErrorHandler(app: FastifyInstance): void {
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({ error: { code: 'ROUTE_NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}; see /docs` } });
  });
  app.setErrorHandler((error: FastifyError | ApiError | Error, request, reply) => {
    if (error instanceof ApiError) {
      return reply.code(error.status).send({ error: { code: error.code, message: error.message, ...(error.details === undefined ? {} : { details: error.details }) } });
    }
    if (hasZodFastifySchemaValidationErrors(error)) {
      const issues = error.validation.map((issue) => ({ path: `${error.validationContext ?? 'body'}${issue.instancePath}`, message: issue.message }));
      return reply.code(400).send({
        error: { code: 'INVALID_INPUT', message: `the request is not valid: ${issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}`, details: issues },
      });
    }
    const fastifyError = error as FastifyError;
    if (typeof fastifyError.statusCode === 'number' && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
      // fastify's own refusals: malformed JSON, a body too large, a wrong content type.
      return reply.code(400).send({ error: { code: 'INVALID_INPUT', message: fastifyError.message } });
    }
    if (typeof (error as { code?: unknown }).code === 'string' && /^[A-Z_]+$/.test((error as { code: string }).code) && (error as { code: string }).code in API_ERROR_CODES) {
      const code = (error as { code: keyof typeof API_ERROR_CODES }).code;
      return reply.code(API_ERROR_CODES[code]).send({ error: { code, message: error.message } });
    }
    if (isResponseSerializationError(error)) request.log.error({ err: error, cause: error.cause }, 'a reply did not match its schema');
    else request.log.error({ err: error }, 'unexpected error');
    return reply.code(500).send({ error: { code: 'INTERNAL_ERROR', message: 'something went wrong on our side; it is logged with the request id ' + request.id } });
  });
}
