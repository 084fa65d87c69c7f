import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountingRecord } from '../../radius-bridge/accounting-record.js';
import { AccountingQueueFull, AccountingWriter } from '../../radius-bridge/accounting-writer.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/**
 * The batched radacct writer on a real PostgreSQL: many sessions at once end up batched and each exactly as
 * its own Start and Stop say; one bad record fails alone; Accounting-On closes what came before it and not a
 * Start that arrives after it; the queue has a limit.
 */
let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase(10);
});

afterAll(async () => {
  await database?.close();
});

const EPOCH = 1_790_000_000;
const record = (session: string, status: AccountingRecord['status'], overrides: Partial<AccountingRecord> = {}): AccountingRecord => ({
  status,
  acctsessionid: session,
  acctuniqueid: `unique-${session}`,
  username: `user-${session}`,
  realm: null,
  nasipaddress: '192.0.2.1',
  nasportid: '1',
  nasporttype: 'Ethernet',
  epoch: EPOCH,
  session_time: status === 'stop' ? 60 : null,
  acctauthentic: 'RADIUS',
  connectinfo: '',
  input_octets: status === 'stop' ? '1000' : '0',
  output_octets: status === 'stop' ? '2000' : '0',
  calledstationid: 'pppoe',
  callingstationid: 'AA:BB:CC:DD:EE:FF',
  terminatecause: status === 'stop' ? 'User-Request' : '',
  servicetype: 'Framed-User',
  framedprotocol: 'PPP',
  framedipaddress: '100.64.0.1',
  framedipv6address: null,
  framedipv6prefix: null,
  framedinterfaceid: null,
  delegatedipv6prefix: null,
  ...overrides,
});

describe('AccountingWriter', () => {
  it('writes 600 concurrent sessions in batches over two lanes, each Start before its Stop', async () => {
    const writer = new AccountingWriter(database.pool, { lanes: 2, max_batch: 100 });
    const sessions = Array.from({ length: 600 }, (_, i) => `s${i}`);
    const outcomes = await Promise.all(
      sessions.map(async (session) => {
        const start = writer.write(record(session, 'start'));
        // A Stop may arrive before the Start is acknowledged (a router retrying): the lane keeps the order.
        const stop = writer.write(record(session, 'stop', { epoch: EPOCH + 60 }));
        return [await start, await stop] as const;
      }),
    );
    for (const [start, stop] of outcomes) {
      expect(start).toEqual({ changed: 1, session_open: true });
      expect(stop).toEqual({ changed: 1, session_open: false });
    }
    expect(writer.batches).toBeLessThan(100);
    const rows = await database.pool.query<{ n: number; open: number; wrong: number }>(
      `SELECT count(*)::int AS n, count(*) FILTER (WHERE acctstoptime IS NULL)::int AS open,
              count(*) FILTER (WHERE acctsessiontime <> 60 OR acctinputoctets <> 1000 OR acctstarttime <> to_timestamp($1))::int AS wrong
         FROM radacct WHERE acctsessionid LIKE 's%'`,
      [EPOCH],
    );
    expect(rows.rows[0]).toEqual({ n: 600, open: 0, wrong: 0 });
  });

  it('fails a bad record alone; the rest of its batch is written', async () => {
    const writer = new AccountingWriter(database.pool, { lanes: 1 });
    const good = Array.from({ length: 20 }, (_, i) => writer.write(record(`ok${i}`, 'start')));
    const bad = writer.write(record('bad', 'start', { nasipaddress: 'not-an-address' }));
    await expect(bad).rejects.toThrow(/inet/);
    for (const outcome of await Promise.all(good)) expect(outcome.changed).toBe(1);
    expect(writer.failures).toBe(1);
  });

  it('Accounting-On closes the sessions written before it, not a Start that came after it', async () => {
    const writer = new AccountingWriter(database.pool, { lanes: 2 });
    const nas = { nasipaddress: '192.0.2.50' };
    await Promise.all([writer.write(record('old-1', 'start', nas)), writer.write(record('old-2', 'start', nas))]);
    const on = writer.write(record('', 'accounting-on', { ...nas, acctuniqueid: 'on', epoch: EPOCH + 100, terminatecause: 'NAS-Reboot' }));
    const fresh = writer.write(record('new-1', 'start', { ...nas, epoch: EPOCH + 100 }));
    expect(await on).toMatchObject({ changed: 2 });
    expect(await fresh).toEqual({ changed: 1, session_open: true });
    const rows = await database.pool.query<{ acctsessionid: string; acctterminatecause: string | null; open: boolean }>(
      `SELECT acctsessionid, acctterminatecause, acctstoptime IS NULL AS open FROM radacct WHERE nasipaddress = '192.0.2.50' ORDER BY acctsessionid`,
    );
    expect(rows.rows).toEqual([
      { acctsessionid: 'new-1', acctterminatecause: null, open: true },
      { acctsessionid: 'old-1', acctterminatecause: 'NAS-Reboot', open: false },
      { acctsessionid: 'old-2', acctterminatecause: 'NAS-Reboot', open: false },
    ]);
  });

  it('refuses records beyond its queue limit at once (the router retries)', async () => {
    const writer = new AccountingWriter(database.pool, { max_queued: 3 });
    const accepted = [1, 2, 3].map((i) => writer.write(record(`limit${i}`, 'start')));
    await expect(writer.write(record('limit4', 'start'))).rejects.toBeInstanceOf(AccountingQueueFull);
    await Promise.all(accepted);
    expect(writer.queued).toBe(0);
  });
});
