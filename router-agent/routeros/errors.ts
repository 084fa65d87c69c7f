/**
 * What can go wrong talking to a router, each with a stable code. `retryable_by_reconnecting` separates the
 * router being unreachable (wait and try again; the command is not at fault) from the router refusing a
 * command (count it against the command's attempts).
 */
export type RouterOsErrorCode =
  | 'ROUTEROS_UNREACHABLE'
  | 'ROUTEROS_TIMEOUT'
  | 'ROUTEROS_FATAL'
  | 'ROUTEROS_TLS_MISMATCH'
  | 'ROUTEROS_LOGIN_FAILED'
  | 'ROUTEROS_TRAP'
  | 'ROUTEROS_PROTOCOL_ERROR'
  | 'ROUTEROS_OVERLOADED';

export class RouterOsError extends Error {
  constructor(
    readonly code: RouterOsErrorCode,
    message: string,
    /** For traps: RouterOS's category (0 missing item or command, 1 argument value, 2 interrupted, … 5 API). */
    readonly category: number | null = null,
  ) {
    super(message);
    this.name = 'RouterOsError';
  }

  /** True when the connection, not the command, failed: reconnect later and send the command again. */
  get connection_failed(): boolean {
    return this.code === 'ROUTEROS_UNREACHABLE' || this.code === 'ROUTEROS_TIMEOUT' || this.code === 'ROUTEROS_FATAL' || this.code === 'ROUTEROS_PROTOCOL_ERROR' || this.code === 'ROUTEROS_OVERLOADED';
  }
}

/** Any error as a RouterOsError: socket errors (ECONNREFUSED, EPIPE, …) mean the router is unreachable. */
export function asRouterOsError(error: unknown): RouterOsError {
  if (error instanceof RouterOsError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof Error && error.name === 'RouterOsProtocolError') return new RouterOsError('ROUTEROS_PROTOCOL_ERROR', message);
  return new RouterOsError('ROUTEROS_UNREACHABLE', message);
}
