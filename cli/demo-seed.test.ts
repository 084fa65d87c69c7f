import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCustomer } from '../commands/customer-commands.js';
import { loadOperator } from '../commands/operator-commands.js';
import { ManualClock, runtimeOn } from '../test/support/demo-isp.js';
import { createTestDatabase, type TestDatabase } from '../test/support/test-database.js';
import { DEMO_ISP, seedDemoIsp } from './demo-seed.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase(5);
});
afterAll(async () => database.close());

describe('the demo ISP a fresh start loads', () => {
  it('is seeded once, with resellers on commission, customers of every kind and settled payments', async () => {
    const runtime = runtimeOn(database.pool, new ManualClock(new Date('2026-11-26T06:00:00Z')));
    expect(await seedDemoIsp(runtime)).toBe('seeded');
    expect(await seedDemoIsp(runtime)).toBe('already-there');
    const karim = (await loadCustomer(runtime, DEMO_ISP, 'karim'))!.state;
    expect(karim.chain).toEqual([DEMO_ISP, 'mirpur-link', 'pallabi-net']);
    expect(karim.expires_at).toBe('2026-12-26T18:00:00.000Z');
    // 800.00 online to the ISP: reseller keeps 60 % of it less the sub-reseller's 50 % of that.
    expect((await loadOperator(runtime, DEMO_ISP, 'mirpur-link'))?.state.wallet_balance).toBe('10480.00');
    expect((await loadOperator(runtime, DEMO_ISP, 'pallabi-net'))?.state.wallet_balance).toBe('240.00');
    expect((await loadCustomer(runtime, DEMO_ISP, 'nasrin'))?.state.credentials.mac).toBe('AA:BB:CC:00:00:03');
  });
});
