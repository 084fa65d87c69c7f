import type pg from 'pg';

/**
 * The open sessions in `radacct` (no stop time, started after their router's last reload in `nasreload`), in
 * memory, for Simultaneous-Use without a query on the authentication path. This process updates it from the
 * rows its own accounting writes change; a periodic refresh reads the table again, so sessions written by
 * another radius-bridge or a FreeRADIUS beside it, and stale sessions closed elsewhere, show up within
 * RADIUS_SESSIONS_REFRESH_MS. Changes made while a refresh reads are replayed on top of what it read (they are
 * set operations, so replaying one the refresh already saw changes nothing).
 */
export type OpenSession = Readonly<{ acctuniqueid: string; username: string; nas_address: string; started_epoch: number }>;

type Change = Readonly<{ kind: 'open'; session: OpenSession }> | Readonly<{ kind: 'close'; acctuniqueid: string }> | Readonly<{ kind: 'close-nas'; nas_address: string; until_epoch: number }>;

/** Beyond this many open sessions the refresh stops reading and says so: a limit, like everything else. */
export const MAX_OPEN_SESSIONS = 2_000_000;
/** Sessions put into the refreshed maps between two turns of the event loop. */
const REFRESH_SLICE = 2_000;

export class OpenSessions {
  #sessions = new Map<string, OpenSession>();
  #by_user = new Map<string, Set<string>>();
  #journal: Change[] | null = null;

  get size(): number {
    return this.#sessions.size;
  }

  open(session: OpenSession): void {
    this.#journal?.push({ kind: 'open', session });
    this.#open(session);
  }

  close(acctuniqueid: string): void {
    this.#journal?.push({ kind: 'close', acctuniqueid });
    this.#close(acctuniqueid);
  }

  /** Accounting-On/Off: the router restarted; its sessions that started by then are over. */
  closeNas(nas_address: string, until_epoch: number): void {
    this.#journal?.push({ kind: 'close-nas', nas_address, until_epoch });
    this.#closeNas(nas_address, until_epoch);
  }

  /** Open sessions under any of these user names on any of these routers (one ISP's NAS addresses). */
  count(usernames: readonly string[], nas_addresses: ReadonlySet<string>): number {
    let count = 0;
    for (const username of new Set(usernames)) {
      for (const id of this.#by_user.get(username) ?? []) {
        const session = this.#sessions.get(id);
        if (session !== undefined && nas_addresses.has(session.nas_address)) count += 1;
      }
    }
    return count;
  }

  sessionsOf(username: string): readonly OpenSession[] {
    return [...(this.#by_user.get(username) ?? [])].map((id) => this.#sessions.get(id)!).filter((session) => session !== undefined);
  }

  /** Reads the open sessions again (FreeRADIUS' simul_count_query without the user filter). */
  async refresh(pool: pg.Pool): Promise<number> {
    this.#journal = [];
    try {
      const result = await pool.query<{ acctuniqueid: string; username: string | null; nas_address: string; started_epoch: string | null }>(
        `SELECT a.acctuniqueid, a.username, host(a.nasipaddress) AS nas_address, EXTRACT(EPOCH FROM a.acctstarttime)::bigint AS started_epoch
           FROM radacct a LEFT OUTER JOIN nasreload n USING (nasipaddress)
          WHERE a.acctstoptime IS NULL AND (a.acctstarttime > n.reloadtime OR n.reloadtime IS NULL)
          LIMIT ${MAX_OPEN_SESSIONS}`,
      );
      // Built aside a slice at a time, yielding between slices, then swapped in: at tens of thousands of open
      // sessions one synchronous rebuild stalled Access-Requests for tens of milliseconds every refresh, and
      // the old maps answer Simultaneous-Use correctly meanwhile (changes go to them and to the journal).
      const fresh = new OpenSessions();
      for (const [index, row] of result.rows.entries()) {
        fresh.#open({ acctuniqueid: row.acctuniqueid, username: row.username ?? '', nas_address: row.nas_address, started_epoch: Number(row.started_epoch ?? 0) });
        if (index % REFRESH_SLICE === REFRESH_SLICE - 1) await new Promise<void>((resolve) => setImmediate(resolve));
      }
      this.#sessions = fresh.#sessions;
      this.#by_user = fresh.#by_user;
      for (const change of this.#journal) {
        if (change.kind === 'open') this.#open(change.session);
        else if (change.kind === 'close') this.#close(change.acctuniqueid);
        else this.#closeNas(change.nas_address, change.until_epoch);
      }
      return result.rows.length;
    } finally {
      this.#journal = null;
    }
  }

  #open(session: OpenSession): void {
    this.#close(session.acctuniqueid);
    this.#sessions.set(session.acctuniqueid, session);
    let ids = this.#by_user.get(session.username);
    if (ids === undefined) this.#by_user.set(session.username, (ids = new Set()));
    ids.add(session.acctuniqueid);
  }

  #close(acctuniqueid: string): void {
    const session = this.#sessions.get(acctuniqueid);
    if (session === undefined) return;
    this.#sessions.delete(acctuniqueid);
    const ids = this.#by_user.get(session.username);
    ids?.delete(acctuniqueid);
    if (ids?.size === 0) this.#by_user.delete(session.username);
  }

  #closeNas(nas_address: string, until_epoch: number): void {
    for (const session of [...this.#sessions.values()]) {
      if (session.nas_address === nas_address && session.started_epoch <= until_epoch) this.#close(session.acctuniqueid);
    }
  }
}
