import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_PROJECTIONS } from '../../projections/index.js';
import { ManualClock, runtimeOn } from '../support/demo-isp.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { buildRichHistory } from './histories.js';

/** `ispbills rebuild` as an operator runs it: all read models in one pass, then again (compared with the live ones), and a refused option. */
const run = promisify(execFile);
let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase(4);
  const clock = new ManualClock(new Date('2026-11-16T06:00:00Z'));
  await buildRichHistory(runtimeOn(database.pool, clock), clock);
}, 120_000);

afterAll(async () => database?.close());

async function ispbills(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  const env = { ...process.env, DATABASE_URL: database.url, LOG_LEVEL: 'warn', DATABASE_POOL_SIZE: '4' };
  try {
    const { stdout, stderr } = await run(process.execPath, ['bin/ispbills.js', ...args], { env, cwd: path.resolve(import.meta.dirname, '../..'), timeout: 120_000 });
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const failed = error as { stdout: string; stderr: string; code: number };
    return { stdout: failed.stdout, stderr: failed.stderr, code: failed.code };
  }
}

const generations = async (): Promise<{ name: string; generation: number; state: string }[]> =>
  (await database.pool.query<{ name: string; generation: number; state: string }>('SELECT name, generation, state FROM projection_generations ORDER BY name, generation')).rows;

describe('ispbills rebuild', () => {
  it('refuses a memory budget that is not a number of rows, and builds nothing', async () => {
    const before = await generations();
    const refused = await ispbills('rebuild', '--memory-rows', 'lots');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--memory-rows must be a whole number of rows');
    expect(await generations()).toEqual(before);
  });

  it('builds every read model in one pass, then again under a budget of no rows, identical to the live ones', async () => {
    const first = await ispbills('rebuild');
    expect(first.code, first.stderr).toBe(0);
    for (const projection of ALL_PROJECTIONS) expect(first.stdout).toMatch(new RegExp(`^${projection.name} v${projection.version}: generation 1 built from \\d+ events`, 'm'));
    expect(first.stderr).toMatch(/7 models\s+\[#+\]/);

    // A budget of 0 writes the folds out after the first page and goes on batch by batch: the same tables.
    const again = await ispbills('rebuild', '--memory-rows', '0');
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout.match(/identical to the live one/g)).toHaveLength(ALL_PROJECTIONS.length);
    expect(again.stdout).not.toContain('DIFFERENT');
    const live = (await generations()).filter((row) => row.state === 'live');
    expect(live.map((row) => [row.name, row.generation])).toEqual(ALL_PROJECTIONS.map((projection) => [projection.name, 2]).sort());
  });
});
