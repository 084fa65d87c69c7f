import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setRadiusPolicy } from '../../commands/operator-commands.js';
import { registerRouter } from '../../commands/router-commands.js';
import { PostgresEventStore } from '../../eventstore/postgres/postgres-event-store.js';
import { radiusProjection } from '../../projections/read-models/radius.js';
import { Projector } from '../../projections/projector.js';
import { waitForProjections } from '../../projections/status.js';
import { admin, ManualClock, ok, runtimeOn } from '../support/demo-isp.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { lastWritten } from './last-written.js';
import { buildScenario, type Scenario } from './scenario.js';

/**
 * The FreeRADIUS tables a stock rlm_sql reads, row by row, for every kind of customer: what a router is told
 * about an active PPPoE user with a bound MAC, a hotspot MAC login, a static IP, and users who are suspended,
 * expired or disabled. The RADIUS issue later sends real packets against these same rows.
 */
let database: TestDatabase;
let projector: Projector;
let scenario: Scenario;
let runtime: ReturnType<typeof runtimeOn>;
const router_id = randomUUID();
const nas_ip = `192.0.2.${Math.floor(Math.random() * 200) + 10}`;

async function caughtUp(): Promise<void> {
  await waitForProjections(database.pool, ['radius'], await lastWritten(database.pool), { timeout_ms: 20_000 });
}

beforeAll(async () => {
  database = await createTestDatabase(20);
  const clock = new ManualClock(new Date('2026-11-16T06:00:00Z'));
  runtime = runtimeOn(database.pool, clock);
  scenario = await buildScenario(runtime, clock);
  ok(await registerRouter(runtime, admin(scenario.tenant), { router_id, name: 'core-1', nas_ip, secret: 'radius-secret-1', description: 'Mirpur POP' }));
  projector = new Projector(database.pool, new PostgresEventStore(database.pool, { poll_interval_ms: 20 }), [radiusProjection], { poll_interval_ms: 20 });
  projector.start();
  await caughtUp();
}, 60_000);

afterAll(async () => {
  await projector?.stop();
  await database?.close();
});

type Attribute = { username: string; attribute: string; op: string; value: string };
const usernameOf = async (customer_id: string): Promise<string> =>
  (await database.pool.query<{ username: string }>('SELECT username FROM radius_accounts WHERE customer_id = $1', [customer_id])).rows[0]!.username;
const check = async (username: string): Promise<Attribute[]> =>
  (await database.pool.query<Attribute>('SELECT username, attribute, op, value FROM radcheck WHERE username = $1 ORDER BY attribute', [username])).rows;
const reply = async (username: string): Promise<Attribute[]> =>
  (await database.pool.query<Attribute>('SELECT username, attribute, op, value FROM radreply WHERE username = $1 ORDER BY attribute', [username])).rows;
const groups = async (username: string): Promise<{ groupname: string; priority: number }[]> =>
  (await database.pool.query<{ groupname: string; priority: number }>('SELECT groupname, priority FROM radusergroup WHERE username = $1 ORDER BY priority', [username])).rows;
const expiration = async (customer_id: string): Promise<string> => {
  const expires = (await database.pool.query<{ expires_at: Date }>('SELECT expires_at FROM radius_accounts WHERE customer_id = $1', [customer_id])).rows[0];
  return String(Math.floor(expires!.expires_at.getTime() / 1000));
};

describe('FreeRADIUS tables (rlm_sql schema, lower-case columns)', () => {
  it('has the columns rlm_sql selects, with an integer id to order by', async () => {
    const columns = await database.pool.query<{ table_name: string; column_name: string }>(
      `SELECT table_name, column_name FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name IN ('radcheck', 'radreply', 'radusergroup', 'radgroupcheck', 'radgroupreply', 'nas')`,
    );
    const of = (table: string) => columns.rows.filter((row) => row.table_name === table).map((row) => row.column_name);
    for (const table of ['radcheck', 'radreply']) expect(of(table)).toEqual(expect.arrayContaining(['id', 'username', 'attribute', 'op', 'value']));
    for (const table of ['radgroupcheck', 'radgroupreply']) expect(of(table)).toEqual(expect.arrayContaining(['id', 'groupname', 'attribute', 'op', 'value']));
    expect(of('radusergroup')).toEqual(expect.arrayContaining(['id', 'username', 'groupname', 'priority']));
    expect(of('nas')).toEqual(expect.arrayContaining(['id', 'nasname', 'shortname', 'type', 'ports', 'secret', 'server', 'community', 'description']));
  });

  it('gives an active PPPoE user its password, MAC binding, one session, validity and package group', async () => {
    const username = await usernameOf(scenario.pppoe);
    expect(await check(username)).toEqual([
      { username, attribute: 'Calling-Station-Id', op: '==', value: 'AA:BB:CC:00:00:01' },
      { username, attribute: 'Cleartext-Password', op: ':=', value: 'pw-pppoe' },
      { username, attribute: 'Expiration', op: ':=', value: await expiration(scenario.pppoe) },
      { username, attribute: 'Simultaneous-Use', op: ':=', value: '1' },
    ]);
    expect(await reply(username)).toEqual([]);
    expect(await groups(username)).toEqual([
      { groupname: `pkg-${scenario.package_id}`, priority: 1 },
      { groupname: `isp-${scenario.tenant}`, priority: 2 },
    ]);
  });

  it("logs a hotspot customer in by its MAC as user name and password, from that device only", async () => {
    const mac = (await database.pool.query<{ mac: string }>('SELECT mac FROM radius_accounts WHERE customer_id = $1', [scenario.hotspot])).rows[0]!.mac;
    expect((await check(mac)).map((row) => [row.attribute, row.op, row.value])).toEqual([
      ['Calling-Station-Id', '==', mac],
      ['Cleartext-Password', ':=', mac],
      ['Expiration', ':=', await expiration(scenario.hotspot)],
      ['Simultaneous-Use', ':=', '1'],
    ]);
    expect((await groups(mac)).map((row) => row.groupname)).toEqual([`pkg-${scenario.package_id}`, `isp-${scenario.tenant}`]);
  });

  it('replies a static IP customer its Framed-IP-Address', async () => {
    const username = await usernameOf(scenario.static_ip);
    const ip = (await database.pool.query<{ static_ip: string }>('SELECT static_ip FROM radius_accounts WHERE customer_id = $1', [scenario.static_ip])).rows[0]!.static_ip;
    expect(await reply(username)).toEqual([{ username, attribute: 'Framed-IP-Address', op: ':=', value: ip }]);
  });

  it('moves suspended and expired users into the blocked group only, and rejects a disabled one outright', async () => {
    for (const customer_id of [scenario.suspended, scenario.expired]) {
      const username = await usernameOf(customer_id);
      expect(await groups(username)).toEqual([{ groupname: `blocked-${scenario.tenant}`, priority: 1 }]);
      expect((await check(username)).map((row) => row.attribute)).not.toContain('Auth-Type');
    }
    const disabled = await usernameOf(scenario.disabled);
    expect(await check(disabled)).toContainEqual({ username: disabled, attribute: 'Auth-Type', op: ':=', value: 'Reject' });
  });

  it('defines the package group (rate limit rx/tx as the router sees it, pool) and the ISP groups', async () => {
    const rows = await database.pool.query<{ groupname: string; attribute: string; op: string; value: string }>(
      'SELECT groupname, attribute, op, value FROM radgroupreply WHERE groupname = ANY($1) ORDER BY groupname, attribute',
      [[`pkg-${scenario.package_id}`, `isp-${scenario.tenant}`, `blocked-${scenario.tenant}`]],
    );
    expect(rows.rows).toEqual([
      { groupname: `blocked-${scenario.tenant}`, attribute: 'Reply-Message', op: ':=', value: 'Account suspended or expired' },
      { groupname: `isp-${scenario.tenant}`, attribute: 'Acct-Interim-Interval', op: ':=', value: '300' },
      { groupname: `pkg-${scenario.package_id}`, attribute: 'Fall-Through', op: ':=', value: 'Yes' },
      { groupname: `pkg-${scenario.package_id}`, attribute: 'Framed-Pool', op: ':=', value: 'pool-home' },
      { groupname: `pkg-${scenario.package_id}`, attribute: 'Mikrotik-Rate-Limit', op: ':=', value: '2000k/10000k' },
    ]);
    const blocked = await database.pool.query('SELECT attribute, op, value FROM radgroupcheck WHERE groupname = $1', [`blocked-${scenario.tenant}`]);
    expect(blocked.rows).toEqual([{ attribute: 'Auth-Type', op: ':=', value: 'Reject' }]);
  });

  it('lists the router as a RADIUS client', async () => {
    const nas = await database.pool.query('SELECT nasname, shortname, type, secret, coa_port, description, tenant FROM nas WHERE router_id = $1', [router_id]);
    expect(nas.rows).toEqual([{ nasname: nas_ip, shortname: 'core-1', type: 'other', secret: 'radius-secret-1', coa_port: 3799, description: 'Mirpur POP', tenant: scenario.tenant }]);
  });

  it('admits blocked users into the suspended pool once the ISP chooses that policy', async () => {
    ok(
      await setRadiusPolicy(runtime, admin(scenario.tenant), {
        operator_id: scenario.tenant,
        blocked_access: 'suspended_pool',
        suspended_pool: 'suspended',
        suspended_address_list: 'ispbills-suspended',
        interim_interval_seconds: 120,
      }),
    );
    await caughtUp();
    const rows = await database.pool.query('SELECT groupname, attribute, value FROM radgroupreply WHERE groupname = ANY($1) ORDER BY groupname, attribute', [
      [`isp-${scenario.tenant}`, `blocked-${scenario.tenant}`],
    ]);
    expect(rows.rows).toEqual([
      { groupname: `blocked-${scenario.tenant}`, attribute: 'Acct-Interim-Interval', value: '120' },
      { groupname: `blocked-${scenario.tenant}`, attribute: 'Framed-Pool', value: 'suspended' },
      { groupname: `blocked-${scenario.tenant}`, attribute: 'Mikrotik-Address-List', value: 'ispbills-suspended' },
      { groupname: `isp-${scenario.tenant}`, attribute: 'Acct-Interim-Interval', value: '120' },
    ]);
    expect((await database.pool.query('SELECT 1 FROM radgroupcheck WHERE groupname = $1', [`blocked-${scenario.tenant}`])).rowCount).toBe(0);
  });
});
