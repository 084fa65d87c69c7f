import { rejection, type Rejection } from './rejection.js';

/**
 * Ids of ISPs, operators, customers, packages, staff and card batches: letters, digits, '.', '_' and '-',
 * 1–64 long, starting with a letter or digit. They become parts of stream names and keys joined with '-' and
 * ':', so they must never contain ':' or spaces.
 */
const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function isValidId(value: string): boolean {
  return ID.test(value);
}

/** null when the id is usable, else the rejection that names it. */
export function checkId(what: string, value: string): Rejection | null {
  return isValidId(value) ? null : rejection('INVALID_INPUT', `${what} ${JSON.stringify(value)} must be 1–64 letters, digits, '.', '_' or '-', starting with a letter or digit`);
}
