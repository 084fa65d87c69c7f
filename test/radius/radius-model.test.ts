import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { suspendCustomer } from '../../commands/customer-commands.js';
import { followRadiusModel, type ModelFollower } from '../../radius-bridge/model-follower.js';
import type { RadiusModel } from '../../radius-bridge/radius-model.js';
import { admin, ok } from '../support/demo-isp.js';
import { createLab, type Lab } from './support/radius-lab.js';
import { lastWritten } from '../projections/last-written.js';

/**
 * The in-memory RADIUS model is the projection's tables, row for row: loaded from the live generation in pages
 * (a page of two rows here, so every page boundary is crossed), or folded from the log when there is no
 * generation of this version; and it follows later events.
 */
let lab: Lab;
const followers: ModelFollower[] = [];

beforeAll(async () => {
  lab = await createLab();
}, 120_000);

afterAll(async () => {
  for (const follower of followers) await follower.stop();
  await lab?.stop();
});

const follow = async (page_size: number, from_log = false): Promise<ModelFollower> => {
  const follower = followRadiusModel(lab.database.pool, lab.store, { poll_interval_ms: 20, load_page_size: page_size, from_log });
  followers.push(follower);
  await follower.ready;
  return follower;
};

type Attribute = { attribute: string; op: string; value: string };

async function tablesSay(model: RadiusModel): Promise<void> {
  const counts = model.counts();
  for (const table of ['radcheck', 'radreply', 'radusergroup', 'radgroupcheck', 'radgroupreply', 'nas', 'radius_accounts']) {
    const rows = await lab.database.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
    expect(counts[table], table).toBe(rows.rows[0]!.n);
  }
  const users = await lab.database.pool.query<{ tenant: string; username: string }>('SELECT DISTINCT tenant, username FROM radcheck');
  for (const { tenant, username } of users.rows) {
    const check = await lab.database.pool.query<Attribute>('SELECT attribute, op, value FROM radcheck WHERE tenant = $1 AND username = $2 ORDER BY id', [tenant, username]);
    const groups = await lab.database.pool.query<{ groupname: string }>('SELECT groupname FROM radusergroup WHERE tenant = $1 AND username = $2 ORDER BY priority', [tenant, username]);
    const rows = model.user(tenant, username)!;
    // As sets: the projector writes a batch's rows once each, so a row removed and added again within one batch
    // keeps its id in PostgreSQL while it moves last in memory. No decision depends on that order here.
    const sorted = (list: readonly Attribute[]) => [...list].sort((a, b) => a.attribute.localeCompare(b.attribute));
    expect(sorted(rows.check), username).toEqual(sorted(check.rows));
    expect(rows.groups, username).toEqual(groups.rows.map((row) => row.groupname));
  }
}

describe('the RADIUS model in memory', () => {
  it('loaded from the live tables page by page equals them', async () => {
    const follower = await follow(2);
    expect(follower.loaded_from()).toBe('tables');
    await tablesSay(follower.model);
  });

  it('follows events: a suspension moves the user to the blocked group', async () => {
    const follower = await follow(1_000);
    const username = await lab.username(lab.scenario.static_ip);
    expect(follower.model.user(lab.scenario.tenant, username)!.groups).toEqual([`pkg-${lab.scenario.package_id}`, `isp-${lab.scenario.tenant}`]);
    ok(await suspendCustomer(lab.runtime, admin(lab.scenario.tenant), { customer_id: lab.scenario.static_ip, reason: 'test' }));
    // The newest event written, visible or not yet (headPosition only shows what every reader may see, and
    // other test files' open transactions can hold that back for a while).
    await follower.reached(await lastWritten(lab.database.pool), 5_000);
    expect(follower.model.user(lab.scenario.tenant, username)!.groups).toEqual([`blocked-${lab.scenario.tenant}`]);
    await lab.caughtUp();
    await tablesSay(follower.model);
  });

  it('folded from the whole log (as when the live generation is of another version), to the same rows', async () => {
    await lab.caughtUp();
    const follower = await follow(1_000, true);
    expect(follower.loaded_from()).toBe('log');
    await tablesSay(follower.model);
  });
});
