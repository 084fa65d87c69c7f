import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { followRadiusModel, type ModelFollower } from '../../radius-bridge/model-follower.js';
import { OpenSessions } from '../../radius-bridge/open-sessions.js';
import { STALE_TERMINATE_CAUSE, StaleSessionCloser } from '../../radius-bridge/stale-sessions.js';
import { createLab, type Lab } from './support/radius-lab.js';

/**
 * A router that stops sending interim updates (it lost power; the Stop got lost) leaves sessions open that
 * would block Simultaneous-Use forever: after three interim intervals plus a minute of silence they are closed
 * at the last time they were heard of. Sessions still reporting, and sessions on other routers, stay open.
 */
let lab: Lab;
let follower: ModelFollower;

beforeAll(async () => {
  lab = await createLab();
  follower = followRadiusModel(lab.database.pool, lab.store, { poll_interval_ms: 20 });
  await follower.ready;
}, 120_000);

afterAll(async () => {
  await follower?.stop();
  await lab?.stop();
});

async function session(id: string, nas: string, last_heard_seconds_ago: number): Promise<void> {
  await lab.database.pool.query(
    `INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, acctstarttime, acctupdatetime, acctsessiontime)
     VALUES ($1, $1, 'someone', $2, now() - make_interval(secs => $3 + 600), now() - make_interval(secs => $3), 600)`,
    [id, nas, last_heard_seconds_ago],
  );
}

describe('closing stale sessions', () => {
  it('closes sessions silent for 3 interim intervals (300 s) plus a minute, and only those', async () => {
    await session('silent', '127.0.0.1', 3 * 300 + 61);
    await session('recent', '127.0.0.1', 3 * 300 + 30);
    await session('elsewhere', '198.51.100.7', 10_000);
    const sessions = new OpenSessions();
    await sessions.refresh(lab.database.pool);
    expect(sessions.size).toBe(3);
    const closer = new StaleSessionCloser(lab.database.pool, follower.model, sessions, { after_intervals: 3 });
    expect(await closer.run()).toBe(1);
    const rows = await lab.database.pool.query<{ acctsessionid: string; closed_at_last_update: boolean | null; acctterminatecause: string | null; acctsessiontime: string }>(
      `SELECT acctsessionid, acctstoptime = acctupdatetime AS closed_at_last_update, acctterminatecause, acctsessiontime FROM radacct ORDER BY acctsessionid`,
    );
    expect(rows.rows).toEqual([
      { acctsessionid: 'elsewhere', closed_at_last_update: null, acctterminatecause: null, acctsessiontime: '600' },
      { acctsessionid: 'recent', closed_at_last_update: null, acctterminatecause: null, acctsessiontime: '600' },
      { acctsessionid: 'silent', closed_at_last_update: true, acctterminatecause: STALE_TERMINATE_CAUSE, acctsessiontime: '600' },
    ]);
    // The open-session index (Simultaneous-Use) forgets it at once, not at the next refresh.
    expect(sessions.size).toBe(2);
    expect(await closer.run()).toBe(0);
  });
});
