import type pg from 'pg';
import type { Logger } from 'pino';
import type { OpenSessions } from './open-sessions.js';
import type { RadiusModel } from './radius-model.js';

/**
 * Closes sessions whose router stopped sending interim updates (it lost power, the Stop got lost): a session
 * with no update for `after_intervals` of its ISP's Acct-Interim-Interval plus a minute ends at the last time
 * it was heard of, with AcctTerminateCause `Stale-Session` (not an RFC 2866 cause, on purpose: it says the
 * server, not the router, ended it). Otherwise a customer whose Stop was lost could not log in again while
 * Simultaneous-Use counts the ghost. Safe to run in several processes at once.
 */
export const STALE_TERMINATE_CAUSE = 'Stale-Session';
const MAX_PER_RUN = 10_000;

export class StaleSessionCloser {
  constructor(
    private readonly pool: pg.Pool,
    private readonly model: RadiusModel,
    private readonly sessions: OpenSessions,
    private readonly options: Readonly<{ after_intervals: number; logger?: Logger }>,
  ) {}

  /** One pass over every ISP's routers; returns the sessions closed. */
  async run(): Promise<number> {
    const by_tenant = new Map<string, string[]>();
    for (const nas of this.model.allNas()) by_tenant.set(nas.tenant, [...(by_tenant.get(nas.tenant) ?? []), nas.nasname]);
    let closed = 0;
    for (const [tenant, addresses] of by_tenant) {
      const interval = this.model.policy(tenant)?.interim_interval_seconds ?? 300;
      const threshold_seconds = interval * this.options.after_intervals + 60;
      const result = await this.pool.query<{ acctuniqueid: string }>(
        `UPDATE radacct SET
             acctstoptime = COALESCE(acctupdatetime, acctstarttime),
             acctsessiontime = COALESCE(acctsessiontime, EXTRACT(EPOCH FROM (COALESCE(acctupdatetime, acctstarttime) - acctstarttime))::bigint),
             acctterminatecause = $3
          WHERE radacctid IN (
            SELECT radacctid FROM radacct
             WHERE acctstoptime IS NULL AND nasipaddress = ANY($1::inet[])
               AND COALESCE(acctupdatetime, acctstarttime) < now() - make_interval(secs => $2)
             LIMIT ${MAX_PER_RUN})
          RETURNING acctuniqueid`,
        [addresses, threshold_seconds, STALE_TERMINATE_CAUSE],
      );
      for (const row of result.rows) this.sessions.close(row.acctuniqueid);
      closed += result.rows.length;
    }
    if (closed > 0) this.options.logger?.info({ closed }, 'radius: closed sessions without interim updates');
    return closed;
  }
}
