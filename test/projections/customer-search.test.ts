import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresEventStore } from '../../eventstore/postgres/postgres-event-store.js';
import { searchCustomers, type CustomerSearch } from '../../projections/queries/customer-search.js';
import { customersProjection } from '../../projections/read-models/customers.js';
import { Projector } from '../../projections/projector.js';
import { waitForProjections } from '../../projections/status.js';
import { ManualClock, runtimeOn } from '../support/demo-isp.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { lastWritten } from './last-written.js';
import { buildScenario, type Scenario } from './scenario.js';

let database: TestDatabase;
let projector: Projector;
let first: Scenario;
let second: Scenario;

beforeAll(async () => {
  database = await createTestDatabase(10);
  const clock = new ManualClock(new Date('2026-11-16T06:00:00Z'));
  first = await buildScenario(runtimeOn(database.pool, clock), clock);
  clock.set(new Date('2026-11-16T06:00:00Z'));
  second = await buildScenario(runtimeOn(database.pool, clock), clock);
  projector = new Projector(database.pool, new PostgresEventStore(database.pool, { poll_interval_ms: 20 }), [customersProjection], { poll_interval_ms: 20 });
  projector.start();
  await waitForProjections(database.pool, ['customers'], await lastWritten(database.pool), { timeout_ms: 20_000 });
}, 90_000);

afterAll(async () => {
  await projector?.stop();
  await database?.close();
});

const ids = async (search: CustomerSearch): Promise<string[]> => (await searchCustomers(database.pool, search)).customers.map((customer) => customer.customer_id);

describe('customer search', () => {
  it('finds by any part of a name, username or mobile, and by MAC (any format) or IP', async () => {
    expect(await ids({ tenant: first.tenant, text: 'suspend' })).toEqual([first.suspended]);
    expect(await ids({ tenant: first.tenant, text: 'aa:bb:cc:00:00:01' })).toEqual([first.pppoe]);
    // RouterOS and staff write MACs in several formats; each finds the same device.
    expect(await ids({ tenant: first.tenant, text: 'AABB.CC00.0001' })).toEqual([first.pppoe]);
    expect(await ids({ tenant: first.tenant, text: 'aa-bb-cc-00-00-01' })).toEqual([first.pppoe]);
    const [static_row] = (await searchCustomers(database.pool, { tenant: first.tenant, text: 'static' })).customers;
    expect(await ids({ tenant: first.tenant, text: static_row!.static_ip! })).toEqual([first.static_ip]);
    const mobile = static_row!.mobile.slice(-6);
    expect(await ids({ tenant: first.tenant, text: mobile })).toContain(first.static_ip);
  });

  it('never shows another ISP’s customers, even on a matching name', async () => {
    const found = await ids({ tenant: first.tenant, text: 'Customer' });
    expect(found).toHaveLength(7);
    expect(found).not.toContain(second.pppoe);
  });

  it("limits a reseller to its own subtree in the query itself", async () => {
    expect(await ids({ tenant: first.tenant, within_operator_id: first.reseller })).toHaveLength(7);
    expect(await ids({ tenant: first.tenant, within_operator_id: second.reseller })).toEqual([]);
  });

  it('filters by status, package and expiry', async () => {
    expect(await ids({ tenant: first.tenant, status: 'disabled' })).toEqual([first.disabled]);
    expect((await ids({ tenant: first.tenant, package_id: first.package_id })).length).toBe(7);
    const soon = await ids({ tenant: first.tenant, expires_before: '2030-01-01T00:00:00Z', expires_after: '2020-01-01T00:00:00Z' });
    expect(soon).toEqual(expect.arrayContaining([first.pppoe, first.hotspot, first.static_ip]));
    expect(soon).not.toContain(first.monthly);
  });

  it('pages with a cursor through every match exactly once, in name order', async () => {
    const seen: string[] = [];
    let after: string | undefined;
    for (let page = 0; page < 10; page += 1) {
      const result = await searchCustomers(database.pool, { tenant: first.tenant, limit: 2, ...(after === undefined ? {} : { after }) });
      seen.push(...result.customers.map((customer) => customer.name));
      if (result.next === null) break;
      after = result.next;
    }
    expect(seen).toHaveLength(7);
    expect([...seen].sort()).toEqual(seen);
    expect(new Set(seen).size).toBe(7);
  });

  it('refuses a forged cursor and bad input with codes', async () => {
    await expect(searchCustomers(database.pool, { tenant: first.tenant, after: 'bm90LWEtY3Vyc29y' })).rejects.toMatchObject({ code: 'INVALID_CURSOR' });
    await expect(searchCustomers(database.pool, { tenant: first.tenant, limit: 5_000 })).rejects.toThrow();
  });
});
