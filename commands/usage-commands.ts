import type { CustomerState } from '../domain/customers/customer.js';
import { decideRecordUsage, evolveUsage, initialUsageState, type RecordUsage, type UsageEvent, type UsageState } from '../domain/usage/usage.js';
import { rejection } from '../domain/shared/rejection.js';
import { CustomerAggregate, PackageAggregate } from './aggregates.js';
import { CommandRuntime, refusePlan, type AggregateType, type CommandEnvelope, type CommandResult, type Loaded } from './command-runtime.js';
import { customerStream, packageStream } from './streams.js';
import type { PackageState } from '../domain/packages/package.js';

/** A usage stream takes one event per finished session: a busy hotspot customer's grows by dozens a week. */
export const UsageAggregate: AggregateType<UsageState, UsageEvent> = { snapshot_schema: 'usage@1', snapshot_every: 100, initial: initialUsageState, evolve: evolveUsage };
export const usageStream = (customer_id: string): string => `usage-${customer_id}`;

export type UsageReceipt = { recorded: boolean; period_octets: string; quota_reached: boolean };

/**
 * One finished RADIUS session (radius-bridge calls this at Accounting-Stop). Send the session's unique id as
 * the envelope's idempotency key too: a Stop the router sends again then answers with the first result. The
 * usage event and, when the quota is reached, the customer's `data-quota-reached` + `customer-expired` are one
 * atomic append over both streams.
 */
export function recordUsage(runtime: CommandRuntime, envelope: CommandEnvelope, command: RecordUsage): Promise<CommandResult<UsageReceipt>> {
  return runtime.execute(envelope, 'record-usage', command, async (context) => {
    const [customer, usage] = (await runtime.loadMany([
      { type: CustomerAggregate, stream_id: customerStream(command.customer_id) },
      { type: UsageAggregate, stream_id: usageStream(command.customer_id) },
    ])) as [Loaded<CustomerState>, Loaded<UsageState>];
    if (!customer.state.exists || customer.state.tenant !== context.tenant) return refusePlan(rejection('CUSTOMER_NOT_FOUND', 'no such customer in this ISP'));
    const pkg = (await runtime.load(PackageAggregate, packageStream(customer.state.package_id))) as Loaded<PackageState>;
    const decision = decideRecordUsage(usage.state, customer.state, pkg.state.tenant === context.tenant ? pkg.state : PackageAggregate.initial(), command, context);
    if (!decision.ok) return refusePlan(decision.rejection);
    const recorded = decision.usage[0];
    return {
      kind: 'append',
      writes: [
        { stream_id: usage.stream_id, expected: CommandRuntime.expected(usage), events: decision.usage },
        { stream_id: customer.stream_id, expected: CommandRuntime.expected(customer), events: decision.customer },
      ],
      value: { recorded: recorded !== undefined, period_octets: recorded?.data.period_octets ?? usage.state.period_octets, quota_reached: decision.customer.length > 0 },
    };
  });
}
