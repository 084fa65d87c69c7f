import { randomUUID } from 'node:crypto';
import type { Clock, CommandEnvelope, CommandResult } from '../../commands/command-runtime.js';
import { CommandRuntime } from '../../commands/command-runtime.js';
import { createPackage } from '../../commands/customer-commands.js';
import { assignPackage, createOperator, registerIsp, setCommissionTerms, topUpWallet } from '../../commands/operator-commands.js';
import { PostgresSnapshotStore } from '../../commands/snapshots.js';
import type { PackageSpec } from '../../domain/packages/package.js';
import { PostgresEventStore } from '../../eventstore/postgres/postgres-event-store.js';
import type pg from 'pg';

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  constructor(private instant: Date) {}
  now = (): Date => new Date(this.instant);
  set(instant: Date | string): void {
    this.instant = new Date(instant);
  }
}

export function runtimeOn(pool: pg.Pool, clock: Clock): CommandRuntime {
  return new CommandRuntime({ store: new PostgresEventStore(pool), snapshots: new PostgresSnapshotStore(pool), clock });
}

export function ok<Value>(result: CommandResult<Value>): Value {
  if (!result.ok) throw new Error(`command refused: ${result.rejection.code}: ${result.rejection.message}`);
  return result.value;
}

export const admin = (tenant: string): CommandEnvelope => ({ tenant, actor: { id: `${tenant}-admin`, role: 'admin' } });

export const PACKAGE_10M: PackageSpec = {
  name: 'Home 10M',
  down_kbps: 10_000,
  up_kbps: 2_000,
  burst: null,
  price: '500.00',
  validity_days: 30,
  ip_pool: 'pool-home',
  data_quota_mb: null,
};

export type DemoIsp = Readonly<{ tenant: string; reseller: string; sub_reseller: string; package_id: string }>;

/**
 * ISP (BDT, Asia/Dhaka) → reseller (share 60 %) → sub-reseller (share 50 % of that), one 10 Mbit/s package
 * at 500.00 assigned down the chain: the worked example of the commission rules.
 */
export async function createDemoIsp(runtime: CommandRuntime, options: Readonly<{ wallet_top_up?: string }> = {}): Promise<DemoIsp> {
  const tenant = `isp-${randomUUID().slice(0, 8)}`;
  const envelope = admin(tenant);
  ok(await registerIsp(runtime, envelope, { operator_id: tenant, name: 'Demo Net', currency: 'BDT', time_zone: 'Asia/Dhaka', address: 'Dhaka' }));
  const package_id = `pkg-${randomUUID().slice(0, 8)}`;
  ok(await createPackage(runtime, envelope, { ...PACKAGE_10M, package_id }));
  const reseller = `res-${randomUUID().slice(0, 8)}`;
  const sub_reseller = `sub-${randomUUID().slice(0, 8)}`;
  ok(await createOperator(runtime, envelope, { operator_id: reseller, parent_id: tenant, role: 'reseller', name: 'Reseller R', billing_mode: 'prepaid', credit_limit: '0' }));
  ok(await createOperator(runtime, envelope, { operator_id: sub_reseller, parent_id: reseller, role: 'sub_reseller', name: 'Sub S', billing_mode: 'prepaid', credit_limit: '0' }));
  ok(await setCommissionTerms(runtime, envelope, { operator_id: reseller, effective_from: '2020-01-01', terms: { kind: 'share', percent: '60' } }));
  ok(await setCommissionTerms(runtime, envelope, { operator_id: sub_reseller, effective_from: '2020-01-01', terms: { kind: 'share', percent: '50' } }));
  ok(await assignPackage(runtime, envelope, { operator_id: reseller, package_id, wholesale_price: '200.00', effective_from: '2020-01-01' }));
  ok(await assignPackage(runtime, envelope, { operator_id: sub_reseller, package_id, wholesale_price: '350.00', effective_from: '2020-01-01' }));
  if (options.wallet_top_up !== undefined) {
    ok(await topUpWallet(runtime, envelope, { operator_id: reseller, amount: options.wallet_top_up, method: 'bank', reference: 'seed' }));
    ok(await topUpWallet(runtime, envelope, { operator_id: sub_reseller, amount: options.wallet_top_up, method: 'cash', reference: 'seed' }));
  }
  return { tenant, reseller, sub_reseller, package_id };
}
