import type pg from 'pg';
import type { Clock } from '../../commands/command-runtime.js';
import { ApiError } from '../errors.js';

/**
 * Login throttling, shared by every `serve` instance through the database: at most MAX_FAILURES_PER_ADDRESS
 * failed logins per source address per window, and a login locked for LOCK_MINUTES after
 * MAX_FAILURES_PER_LOGIN failures in a row (a success resets the count).
 */
export const WINDOW_MINUTES = 15;
export const MAX_FAILURES_PER_ADDRESS = 20;
export const MAX_FAILURES_PER_LOGIN = 5;
export const LOCK_MINUTES = 15;

const windowStart = (now: Date): Date => new Date(Math.floor(now.getTime() / (WINDOW_MINUTES * 60_000)) * WINDOW_MINUTES * 60_000);

export async function checkAddress(pool: pg.Pool, clock: Clock, address: string): Promise<void> {
  const now = clock.now();
  const found = await pool.query<{ failures: number }>('SELECT failures FROM login_throttle WHERE key = $1 AND window_start = $2', [`ip:${address}`, windowStart(now)]);
  if ((found.rows[0]?.failures ?? 0) >= MAX_FAILURES_PER_ADDRESS) {
    const retry = Math.ceil((windowStart(now).getTime() + WINDOW_MINUTES * 60_000 - now.getTime()) / 1000);
    throw new ApiError('RATE_LIMITED', `too many failed logins from this address; try again in ${retry} s`, { retry_after_seconds: retry });
  }
}

export async function recordFailure(pool: pg.Pool, clock: Clock, address: string, login_id: string | null): Promise<void> {
  const now = clock.now();
  await pool.query(
    `INSERT INTO login_throttle (key, window_start, failures) VALUES ($1, $2, 1)
     ON CONFLICT (key, window_start) DO UPDATE SET failures = login_throttle.failures + 1`,
    [`ip:${address}`, windowStart(now)],
  );
  if (login_id !== null) {
    await pool.query(
      `UPDATE logins SET failed_attempts = failed_attempts + 1,
              locked_until = CASE WHEN failed_attempts + 1 >= $2 THEN $3::timestamptz ELSE locked_until END
        WHERE login_id = $1`,
      [login_id, MAX_FAILURES_PER_LOGIN, new Date(now.getTime() + LOCK_MINUTES * 60_000)],
    );
  }
  // Old windows are of no use; keep the table small.
  await pool.query('DELETE FROM login_throttle WHERE window_start < $1', [new Date(now.getTime() - 24 * 3_600_000)]);
}

export async function recordSuccess(pool: pg.Pool, login_id: string): Promise<void> {
  await pool.query('UPDATE logins SET failed_attempts = 0, locked_until = NULL WHERE login_id = $1', [login_id]);
}
