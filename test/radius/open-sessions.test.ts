import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenSessions } from '../../radius-bridge/open-sessions.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/**
 * The open-session refresh reads radacct again and builds its maps aside, a slice at a time, so Access-Requests
 * are not held up; meanwhile the old maps answer, and accounting that arrives during the refresh is not lost.
 */
let database: TestDatabase;
const NAS = '10.9.0.1';
const SESSIONS = 9_000;

beforeAll(async () => {
  database = await createTestDatabase(2);
  await database.pool.query(
    `INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, acctstarttime)
     SELECT 's' || n, 'u' || n, 'user' || n, $1::inet, now() - interval '1 hour' FROM generate_series(1, $2::int) AS n`,
    [NAS, SESSIONS],
  );
});

afterAll(async () => database?.close());

describe('OpenSessions.refresh', () => {
  it('answers from the old sessions while it rebuilds, then holds what radacct holds plus what arrived meanwhile', async () => {
    const sessions = new OpenSessions();
    sessions.open({ acctuniqueid: 'before', username: 'early-bird', nas_address: NAS, started_epoch: 1 });
    const nas = new Set([NAS]);
    // The pool as the refresh sees it, telling us when radacct has answered.
    let answered = false;
    const pool = {
      query: async (text: string) => {
        const result = await database.pool.query(text);
        answered = true;
        return result;
      },
    } as unknown as typeof database.pool;
    const refreshing = sessions.refresh(pool);
    // While the refresh runs (its query, then its slices): the old maps answer, and accounting keeps arriving.
    let turns = 0;
    let seen_old = 0;
    let turns_after_answer = 0;
    let done = false;
    void refreshing.then(() => (done = true));
    while (!done && turns < 10_000) {
      if (sessions.count(['early-bird'], nas) === 1) seen_old += 1;
      if (answered) turns_after_answer += 1;
      if (turns === 3) {
        sessions.close(`u${SESSIONS}`); // in the last slice: closed before the refresh puts it in
        sessions.open({ acctuniqueid: 'during', username: 'late-comer', nas_address: NAS, started_epoch: 2 });
      }
      turns += 1;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    expect(await refreshing).toBe(SESSIONS);
    // Several turns of the event loop passed during the refresh, and the old session answered in every one.
    expect(turns).toBeGreaterThan(3);
    expect(seen_old).toBe(turns);
    // And some of them after radacct answered: the rebuild of 9,000 sessions yielded between its slices.
    expect(turns_after_answer).toBeGreaterThanOrEqual(3);
    // radacct's sessions, less the one closed during the refresh, plus the one opened then; 'before' was never in radacct.
    expect(sessions.size).toBe(SESSIONS - 1 + 1);
    expect(sessions.count(['early-bird'], nas)).toBe(0);
    expect(sessions.count(['late-comer'], nas)).toBe(1);
    expect(sessions.count([`user${SESSIONS}`], nas)).toBe(0);
    expect(sessions.count(['user1', 'user2'], nas)).toBe(2);
  });
});
