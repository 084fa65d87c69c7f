import type { FastifyRequest } from 'fastify';
import { ApiError } from '../errors.js';

/**
 * PostgreSQL stores neither a NUL character (in text or jsonb) nor an unpaired UTF-16 surrogate (in jsonb), and
 * JSON may carry both ("\u0000", "\ud800"). Left alone they reach a query or an event append and fail there as
 * a 500. One hook refuses them in the body, query and path of every request, before any schema or handler runs.
 */
const UNPAIRED_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/** JSON nests no deeper than this in a request of ours; deeper is refused rather than walked. */
const MAX_DEPTH = 64;

const unstorable = (text: string): boolean => text.includes('\u0000') || UNPAIRED_SURROGATE.test(text);

/** The path (like `body.lines.0.memo`) of the first string PostgreSQL could not store, or null. */
export function unstorableTextIn(value: unknown, where: string): string | null {
  const pending: { value: unknown; path: string; depth: number }[] = [{ value, path: where, depth: 0 }];
  while (pending.length > 0) {
    const { value: item, path, depth } = pending.pop()!;
    if (typeof item === 'string') {
      if (unstorable(item)) return path;
      continue;
    }
    if (item === null || typeof item !== 'object') continue;
    if (depth >= MAX_DEPTH) return `${path} (nested deeper than ${MAX_DEPTH})`;
    for (const [key, inner] of Object.entries(item)) {
      if (unstorable(key)) return `${path} (a key)`;
      pending.push({ value: inner, path: `${path}.${key}`, depth: depth + 1 });
    }
  }
  return null;
}

export async function rejectUnstorableText(request: FastifyRequest): Promise<void> {
  const found = unstorableTextIn(request.params, 'params') ?? unstorableTextIn(request.query, 'query') ?? unstorableTextIn(request.body, 'body');
  if (found !== null) throw new ApiError('INVALID_INPUT', `${found}: text may not contain NUL characters or unpaired UTF-16 surrogates`);
}
