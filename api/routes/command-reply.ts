import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { CommandResult } from '../../commands/command-runtime.js';
import { ApiError, fromRejection } from '../errors.js';
import { formatPosition } from '../scope.js';

/**
 * What every command route answers: its value, the log position it wrote (send it back as X-Consistent-With
 * to read your own write) and whether it was an idempotent replay. A refusal becomes the catalogue's error.
 */
export const commandReply = <Value extends z.ZodType>(value: Value) =>
  z.object({ result: value, position: z.string().nullable(), replayed: z.boolean() });

export function replyOf<Value>(result: CommandResult<Value>): { result: Value; position: string | null; replayed: boolean } {
  if (!result.ok) throw fromRejection(result.rejection);
  return { result: result.value, position: formatPosition(result.position), replayed: result.replayed };
}

export const IDEMPOTENCY_HEADER = 'idempotency-key';

/** Commands that move money require an Idempotency-Key: the same key and body return the first answer. */
export function requiredIdempotencyKey(request: FastifyRequest): string {
  const key = request.headers[IDEMPOTENCY_HEADER];
  if (typeof key !== 'string' || !/^[A-Za-z0-9_.:-]{8,128}$/.test(key)) {
    throw new ApiError('INVALID_INPUT', 'send an Idempotency-Key header (8–128 letters, digits, _ . : -), a new one per payment, the same one when you retry');
  }
  return key;
}

export const optionalIdempotencyKey = (request: FastifyRequest): string | undefined => {
  const key = request.headers[IDEMPOTENCY_HEADER];
  return typeof key === 'string' ? requiredIdempotencyKey(request) : undefined;
};

/** An id in a path or body: what domain/shared/ids.ts accepts. */
export const ID = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'an id: 1–64 letters, digits, _ . -');
