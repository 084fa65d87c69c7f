import type pg from 'pg';
import type { Logger } from 'pino';
import type { CommandRuntime } from '../commands/command-runtime.js';
import { recordUsage } from '../commands/usage-commands.js';
import { canonicalMac } from './mac-address.js';
import type { RadiusModel } from './radius-model.js';
import { RADIUS_ACTOR } from './system-actor.js';

/**
 * Every finished session becomes one usage event (the `record-usage` command: `usage-recorded` in
 * `usage-<customer_id>`, and the customer cut off when the package's data quota is reached). radacct is the
 * outbox: a session is stopped there first (the router's Stop, Accounting-On/Off, or the stale-session closer;
 * by radius-bridge or a FreeRADIUS beside it), and this worker records the sessions stopped and not yet marked
 * `usage_recorded_at`. So the Stop is acknowledged as soon as radacct has it, and no usage is lost when the
 * event store is slow or down. Interim updates never become events.
 *
 * Run by one process (the radius leader). A session the command refuses (no such customer any more, a router
 * clock far in the future) is marked too, with a warning: it would be refused again.
 */
export class UsageWorker {
  recorded = 0;
  refused = 0;

  constructor(
    private readonly pool: pg.Pool,
    private readonly runtime: CommandRuntime,
    private readonly model: RadiusModel,
    private readonly options: Readonly<{ batch?: number; concurrency?: number; logger?: Logger }> = {},
  ) {}

  /** One pass: records up to `batch` finished sessions; returns how many were marked. */
  async run(): Promise<number> {
    const pending = await this.pool.query<{ radacctid: string; acctuniqueid: string; username: string | null; nas_address: string; acctstarttime: Date | null; acctstoptime: Date; acctinputoctets: string | null; acctoutputoctets: string | null }>(
      `SELECT radacctid, acctuniqueid, username, host(nasipaddress) AS nas_address, acctstarttime, acctstoptime,
              acctinputoctets::text AS acctinputoctets, acctoutputoctets::text AS acctoutputoctets
         FROM radacct WHERE acctstoptime IS NOT NULL AND usage_recorded_at IS NULL
        ORDER BY acctstoptime LIMIT $1`,
      [this.options.batch ?? 500],
    );
    const done: string[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < pending.rows.length) {
        const row = pending.rows[next++]!;
        try {
          await this.#record(row);
          done.push(row.radacctid);
        } catch (error) {
          this.options.logger?.warn({ err: error, acctuniqueid: row.acctuniqueid }, 'radius usage: not recorded; will try again');
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.options.concurrency ?? 8, pending.rows.length) }, worker));
    if (done.length > 0) await this.pool.query('UPDATE radacct SET usage_recorded_at = now() WHERE radacctid = ANY($1::bigint[])', [done]);
    return done.length;
  }

  async #record(row: { acctuniqueid: string; username: string | null; nas_address: string; acctstarttime: Date | null; acctstoptime: Date; acctinputoctets: string | null; acctoutputoctets: string | null }): Promise<void> {
    const username = row.username ?? '';
    const mac = canonicalMac(username);
    for (const nas of this.model.nasByAddress(row.nas_address)) {
      const account = this.model.accountByLogin(nas.tenant, username) ?? (mac === null ? null : this.model.accountByLogin(nas.tenant, mac));
      if (account === null) continue;
      const stopped_at = row.acctstoptime.toISOString();
      const result = await recordUsage(
        this.runtime,
        { tenant: account.tenant, actor: RADIUS_ACTOR, correlation_id: row.acctuniqueid, idempotency_key: `${row.acctuniqueid}@${stopped_at}` },
        {
          customer_id: account.customer_id,
          session_id: row.acctuniqueid,
          input_octets: row.acctinputoctets ?? '0',
          output_octets: row.acctoutputoctets ?? '0',
          started_at: (row.acctstarttime ?? row.acctstoptime).toISOString(),
          stopped_at,
        },
      );
      if (result.ok) this.recorded += 1;
      else {
        this.refused += 1;
        this.options.logger?.warn({ acctuniqueid: row.acctuniqueid, customer_id: account.customer_id, rejection: result.rejection }, 'radius usage: refused');
      }
      return;
    }
  }
}
