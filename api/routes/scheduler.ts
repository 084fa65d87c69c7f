import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HoldReason } from '../../domain/scheduler/safety-stop.js';
import { JOB_KINDS, type PlanSummary } from '../../domain/scheduler/scheduler-run.js';
import { loadRun } from '../../commands/scheduler-commands.js';
import { cancelHeldRun, confirmHeldRun, listRuns, previewJobs } from '../../scheduler/operations.js';
import { actorsNamed, customersNamed, readRunRecords, type RunRecord } from '../../scheduler/run-record.js';
import { envelopeOf, type Caller } from '../access/caller.js';
import { callerOf } from '../access/route-access.js';
import type { ApiDependencies } from '../dependencies.js';
import { ApiError, errorReplies, fromRejection } from '../errors.js';
import { commandReply, replyOf } from './command-reply.js';
import { atIspLevel, localDay, text } from './route-kit.js';

/**
 * The scheduler's runs, seen and steered from the API (and the panel): a dry run of what each job would do
 * today, the recent runs, and confirming or cancelling a run the safety stop held. Runs are the ISP's own
 * (one bill run, one expiry sweep for the whole ISP), so only its own staff steer them; resellers, who hold
 * `bills.run` for their own subtree's bill runs, are told so.
 */
const tags = ['scheduler'];

const counts = z.record(z.string(), z.number().int());
const summary = z.object({ counts, samples: z.record(z.string(), z.array(z.string())), amounts: z.record(z.string(), z.string()), population: z.number().int() });
const holdReason = z.object({ rule: z.string(), action: z.string().nullable(), count: z.number(), limit: z.number(), message: z.string() });
const runStatus = z.object({ run_id: z.string(), status: z.string() });
/** Customers named in a plan's samples (the samples hold ids; card batches are named by their own ids). */
const subjects = z.array(z.object({ id: z.string(), name: z.string(), username: z.string().nullable() }));
const person = z.object({ id: z.string(), name: z.string().nullable() });
const outcome = z.object({
  completed_at: z.string(),
  actions: z.record(z.string(), z.object({ applied: z.number().int(), unchanged: z.number().int(), refused: z.number().int() })),
  refused_samples: z.array(z.object({ subject: z.string(), code: z.string() })),
});
/** A run as its stream records it: who started it, why it was held, who confirmed or cancelled it, what applying did. */
const runFields = {
  run_id: z.string(),
  job: z.string(),
  local_date: z.string(),
  status: z.string(),
  counts,
  planned_at: z.string().nullable(),
  started_by: z.string().nullable().describe('`<role>:<id>` of whoever planned the run: `system:scheduler` for the scheduler itself'),
  hold_reasons: z.array(holdReason),
  decision: z.object({ kind: z.enum(['confirmed', 'cancelled']), by: person, text: z.string().describe('the note of a confirmation, the reason of a cancellation'), at: z.string() }).nullable(),
  outcome: outcome.nullable(),
};
const RUN_ID = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,200}$/, 'a run id as GET /api/v1/scheduler/runs lists it');

const summaryOf = (plan: PlanSummary) => ({
  counts: { ...plan.counts } as Record<string, number>,
  samples: Object.fromEntries(Object.entries(plan.samples).map(([action, ids]) => [action, [...(ids ?? [])]])),
  amounts: { ...plan.amounts } as Record<string, string>,
  population: plan.population,
});
const reasonOf = (reason: HoldReason) => ({ ...reason });

/** Every customer id in these summaries' samples, for naming them in one query. */
const sampledIds = (summaries: readonly (PlanSummary | null)[]): string[] =>
  summaries.flatMap((plan) => (plan === null ? [] : Object.values(plan.samples).flatMap((ids) => [...(ids ?? [])])));

/** A run's fields for the list and the detail: the index row's, then the stream's where it has the run. */
function runFieldsOf(row: Readonly<{ run_id: string; job: string; local_date: string; status: string; counts: Readonly<Record<string, number | undefined>> }>, record: RunRecord | undefined, names: ReadonlyMap<string, string>) {
  return {
    run_id: row.run_id,
    job: row.job,
    local_date: row.local_date,
    status: record?.status ?? row.status,
    counts: { ...(record?.summary.counts ?? row.counts) } as Record<string, number>,
    planned_at: record?.planned_at ?? null,
    started_by: record?.started_by ?? null,
    hold_reasons: (record?.hold_reasons ?? []).map(reasonOf),
    decision: record?.decision == null ? null : { ...record.decision, by: { id: record.decision.by, name: names.get(record.decision.by) ?? null } },
    outcome: record?.outcome == null ? null : { completed_at: record.outcome.completed_at, actions: { ...record.outcome.actions } as Record<string, { applied: number; unchanged: number; refused: number }>, refused_samples: record.outcome.refused_samples.map((sample) => ({ ...sample })) },
  };
}

/** A run of the caller's ISP, or SCHEDULER_RUN_NOT_FOUND: another ISP's runs do not exist for this caller. */
async function ownRun(runtime: ApiDependencies['runtime'], caller: Caller, run_id: string): Promise<void> {
  const run = (await loadRun(runtime, run_id)).state;
  if (run.status === 'none' || run.tenant !== caller.tenant) throw new ApiError('SCHEDULER_RUN_NOT_FOUND', `no scheduler run ${run_id} in this ISP; GET /api/v1/scheduler/runs lists them`);
}

function ispStaff(caller: Caller): void {
  if (!atIspLevel(caller)) throw new ApiError('NOT_PERMITTED', "scheduler runs are the ISP's (one bill run and one expiry sweep for the whole ISP); its admin or a manager steers them");
}

export const schedulerRoutes: FastifyPluginAsync<ApiDependencies> = async (plugin, { pool, runtime, scheduler }) => {
  const app = plugin.withTypeProvider<ZodTypeProvider>();

  app.get(
    '/api/v1/scheduler/plan',
    {
      config: { access: { capability: 'bills.run', scope: 'tenant', example: { query: { job: 'expiry-sweep' } } } },
      schema: {
        tags,
        summary: "Dry run: what each scheduler job (or one) would do today (or on `local_date`) in the ISP's time zone, whether the safety stop would hold it, and the run as recorded if it was planned already. Nothing is written.",
        querystring: z.object({ job: z.enum(JOB_KINDS).optional(), local_date: localDay.optional() }).strict(),
        response: {
          200: z.object({
            previews: z.array(
              z.object({
                run_id: z.string(),
                job: z.string(),
                local_date: z.string(),
                recorded: z.object({ status: z.string(), summary: summary.nullable(), hold_reasons: z.array(holdReason) }).nullable(),
                plan: summary,
                would_hold: z.array(holdReason),
                subjects,
              }),
            ),
          }),
          ...errorReplies,
        },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      ispStaff(caller);
      const previews = await previewJobs({ pool, runtime, settings: scheduler }, { tenant: caller.tenant, ...request.query });
      if ('code' in previews) throw fromRejection(previews);
      const named = await customersNamed(pool, caller.tenant, sampledIds(previews.flatMap((preview) => [preview.plan, preview.recorded?.summary ?? null])));
      return {
        previews: previews.map((preview) => ({
          run_id: preview.run_id,
          job: preview.job,
          local_date: preview.local_date,
          recorded: preview.recorded === null ? null : { status: preview.recorded.status, summary: preview.recorded.summary === null ? null : summaryOf(preview.recorded.summary), hold_reasons: preview.recorded.hold_reasons.map(reasonOf) },
          plan: summaryOf(preview.plan),
          would_hold: preview.would_hold.map(reasonOf),
          subjects: named.filter((customer) => sampledIds([preview.plan, preview.recorded?.summary ?? null]).includes(customer.id)),
        })),
      };
    },
  );

  app.get(
    '/api/v1/scheduler/runs',
    {
      config: { access: { capability: 'bills.run', scope: 'tenant' } },
      schema: {
        tags,
        summary: "The ISP's recent scheduler runs, newest first, with their status, planned counts, who started them, why a held one was held, who confirmed or cancelled it and what applying did (`open=true`: only runs not finished, held ones among them)",
        querystring: z.object({ open: z.enum(['true', 'false']).default('false'), limit: z.coerce.number().int().min(1).max(200).default(50) }).strict(),
        response: {
          200: z.object({ runs: z.array(z.object(runFields)) }),
          ...errorReplies,
        },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      ispStaff(caller);
      const runs = await listRuns(pool, caller.tenant, { open_only: request.query.open === 'true', limit: request.query.limit });
      const records = await readRunRecords(runtime.store, runs.map((run) => run.run_id));
      const names = await actorsNamed(pool, caller.tenant, [...records.values()].flatMap((record) => (record.decision === null ? [] : [record.decision.by])));
      return { runs: runs.map((run) => runFieldsOf(run, records.get(run.run_id), names)) };
    },
  );

  app.get(
    '/api/v1/scheduler/runs/:run_id',
    {
      config: { access: { capability: 'bills.run', scope: 'tenant' } },
      schema: {
        tags,
        summary: 'One scheduler run: its plan (counts, amounts, the customers sampled by name), who started it, why the safety stop held it, who confirmed or cancelled it and what applying it did',
        params: z.object({ run_id: RUN_ID }).strict(),
        response: {
          200: z.object({ ...runFields, time_zone: z.string(), previous_local_date: z.string().nullable(), plan: summary, subjects }),
          ...errorReplies,
        },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      await ownRun(runtime, caller, request.params.run_id);
      ispStaff(caller);
      const record = (await readRunRecords(runtime.store, [request.params.run_id])).get(request.params.run_id);
      if (record === undefined) throw new ApiError('SCHEDULER_RUN_NOT_FOUND', `no scheduler run ${request.params.run_id} in this ISP; GET /api/v1/scheduler/runs lists them`);
      const names = await actorsNamed(pool, caller.tenant, record.decision === null ? [] : [record.decision.by]);
      return {
        ...runFieldsOf({ ...record, counts: record.summary.counts }, record, names),
        time_zone: record.time_zone,
        previous_local_date: record.previous_local_date,
        plan: summaryOf(record.summary),
        subjects: await customersNamed(pool, caller.tenant, sampledIds([record.summary])),
      };
    },
  );

  app.post(
    '/api/v1/scheduler/runs/:run_id/confirm',
    {
      config: { access: { capability: 'bills.run', scope: 'tenant', example: { body: { note: 'checked the list: the import was right' } } } },
      schema: {
        tags,
        summary: 'Confirm a run the safety stop held; the scheduler applies it at its next tick. Confirming again changes nothing.',
        params: z.object({ run_id: RUN_ID }).strict(),
        body: z.object({ note: text(500) }).strict(),
        response: { 200: commandReply(runStatus), ...errorReplies },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      await ownRun(runtime, caller, request.params.run_id);
      ispStaff(caller);
      return replyOf(await confirmHeldRun(pool, runtime, envelopeOf(caller), { run_id: request.params.run_id, note: request.body.note }));
    },
  );

  app.post(
    '/api/v1/scheduler/runs/:run_id/cancel',
    {
      config: { access: { capability: 'bills.run', scope: 'tenant', example: { body: { reason: 'a clock jump: these customers are not expired' } } } },
      schema: {
        tags,
        summary: "Cancel a held (or not yet applied) run: nothing of it is applied, and the next day's run plans afresh",
        params: z.object({ run_id: RUN_ID }).strict(),
        body: z.object({ reason: text(500) }).strict(),
        response: { 200: commandReply(runStatus), ...errorReplies },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      await ownRun(runtime, caller, request.params.run_id);
      ispStaff(caller);
      return replyOf(await cancelHeldRun(pool, runtime, envelopeOf(caller), { run_id: request.params.run_id, reason: request.body.reason }));
    },
  );
};
