import type pg from 'pg';
import type { Logger } from 'pino';
import type { CommandEnvelope, CommandRuntime } from '../commands/command-runtime.js';
import { loadRun, planRun, completeRun } from '../commands/scheduler-commands.js';
import { localDateOf, type LocalDate } from '../domain/calendar/local-date.js';
import { assessPlan } from '../domain/scheduler/safety-stop.js';
import { JOB_KINDS, mayApply, runIdOf, type JobKind, type SchedulerRunState } from '../domain/scheduler/scheduler-run.js';
import { START, type EventStore, type LogPosition } from '../eventstore/event-store.js';
import { waitForProjections } from '../projections/status.js';
import { applyRun } from './apply.js';
import type { Notifier } from './notices.js';
import { listIsps, planJob, SCHEDULER_ACTOR, type Isp, type JobPlan } from './planners.js';
import { earlierRuns, itemOutcome, latestRun, openRuns, purgeOldItems, setRunIndexStatus, upsertRunIndex, writeItems } from './run-store.js';
import { instantAt, type SchedulerSettings } from './settings.js';

/**
 * The scheduler role. Each tick, for every ISP, every job whose local start time has come today: find the run
 * for (ISP, job, local date) — its id is derived from them, so a restart finds it — and take it one step
 * further: plan it (dry run + safety stop), apply it if it may be applied, record the outcome. Runs confirmed
 * by an operator after a hold are applied on the next tick, whatever day they were planned for.
 *
 * A job is state-based ("every validity ended by now", "every bill overdue as of today", "every billing day
 * reached"), so a day without a tick (an outage) is not skipped: the next day's run does that day's work too,
 * and the safety stop flags the gap. A clock that went back (today before the job's latest run) plans nothing.
 *
 * One scheduler is active at a time: the one holding a PostgreSQL advisory lock on a connection of its own. If
 * that process dies, its connection ends, the lock is released, and another instance takes over at its next
 * tick, resuming the run where the first left it (runs and their items are in the database).
 */
export type SchedulerDeps = Readonly<{
  pool: pg.Pool;
  store: EventStore;
  runtime: CommandRuntime;
  settings: SchedulerSettings;
  notifier: Notifier | null;
  logger: Logger;
  /** The read models plans are made from; the scheduler waits for them to reach the log's head. */
  read_models?: readonly string[];
  after_batch?: (run_id: string, batch: number) => Promise<void> | void;
}>;

export const SCHEDULER_READ_MODELS = ['customers', 'billing', 'cards', 'operators'] as const;
/** The advisory lock key (two int4): "ISPB" and "SCHD" in ASCII. */
const LOCK_KEY = [0x49535042, 0x53434844] as const;

/** A finished run's items are kept this long (for looking into who was locked or billed), then deleted. */
const ITEM_RETENTION_MS = 31 * 86_400_000;

export type TickReport = { isps: number; planned: string[]; held: string[]; completed: string[]; skipped: string[] };

export class Scheduler {
  /** A pool connection kept out of the pool while this instance leads: the advisory lock lives on it. */
  #leader: pg.PoolClient | null = null;

  constructor(readonly deps: SchedulerDeps) {}

  get clock() {
    return this.deps.runtime.clock;
  }

  /** Tries to become the active scheduler; true while this instance holds the lock. */
  async lead(): Promise<boolean> {
    if (this.#leader !== null) {
      try {
        await this.#leader.query('SELECT 1');
        return true;
      } catch {
        await this.#dropLeader();
      }
    }
    const client = await this.deps.pool.connect();
    let locked = false;
    try {
      locked = (await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS locked', [LOCK_KEY[0], LOCK_KEY[1]])).rows[0]?.locked === true;
    } finally {
      if (!locked) client.release();
    }
    if (!locked) return false;
    // A connection kept out of the pool has no pool error handler: without this, PostgreSQL going away (a restart,
    // a shutdown racing ours) would be an unhandled 'error' event and kill the process. The next lead() notices.
    client.on('error', (error) => {
      this.deps.logger.warn({ err: error }, 'scheduler: lost the connection holding the scheduler lock; standing by until it is taken again');
      if (this.#leader !== client) return;
      this.#leader = null;
      // Give the dead connection back (destroyed), or the pool would be one connection short for good.
      client.release(true);
    });
    this.#leader = client;
    this.deps.logger.info('scheduler: this instance is the active scheduler');
    return true;
  }

  /** Gives the lock back (ending its connection releases it). */
  async resign(): Promise<void> {
    await this.#dropLeader();
  }

  async #dropLeader(): Promise<void> {
    const client = this.#leader;
    this.#leader = null;
    // Unlock first: a destroyed connection's backend lets go of its locks only once the server notices the close,
    // so a standby asking right after would still find the lock taken. Destroying it covers a broken connection.
    await client?.query('SELECT pg_advisory_unlock($1, $2)', [LOCK_KEY[0], LOCK_KEY[1]]).catch(() => undefined);
    client?.release(true);
  }

  /** One tick, only when this instance leads: null when another instance is the active scheduler. */
  async runOnce(): Promise<TickReport | null> {
    if (!(await this.lead())) return null;
    return this.tick();
  }

  /** Every ISP, every job due today, one step further. Callers make sure this instance leads. */
  async tick(): Promise<TickReport> {
    const report: TickReport = { isps: 0, planned: [], held: [], completed: [], skipped: [] };
    // The ISPs themselves come from a read model: nothing is done before the read models have caught up.
    if (!(await this.#readModelsCaughtUp(this.deps.logger))) return report;
    const isps = await listIsps(this.deps.pool);
    report.isps = isps.length;
    for (const isp of isps) {
      const log = this.deps.logger.child({ tenant: isp.tenant });
      try {
        await this.#tickIsp(isp, report, log);
      } catch (error) {
        // One ISP's failure (a bug, a lost connection) must not stop the others; the run resumes next tick.
        log.error({ err: error }, 'scheduler: tick failed for this ISP; it is retried at the next tick');
        if (this.deps.after_batch !== undefined) throw error;
      }
    }
    // Keep the item tables small: runs finished a month ago keep their events, not their items.
    await purgeOldItems(this.deps.pool, new Date(this.clock.now().getTime() - ITEM_RETENTION_MS), 50);
    return report;
  }

  async #tickIsp(isp: Isp, report: TickReport, log: Logger): Promise<void> {
    // Runs planned on earlier days and not finished (confirmed after a hold, or interrupted) come first.
    for (const open of await openRuns(this.deps.pool, isp.tenant)) {
      await this.#advance(isp, open.run_id, report, log);
    }
    const now = this.clock.now();
    const today = localDateOf(now, isp.time_zone);
    for (const job of JOB_KINDS.filter((kind) => this.deps.settings.jobs.includes(kind))) {
      if (now.getTime() < instantAt(today, this.deps.settings.runs_at[job], isp.time_zone).getTime()) continue;
      const run_id = runIdOf(isp.tenant, job, today);
      const run = await loadRun(this.deps.runtime, run_id);
      if (run.state.status === 'none') {
        const planned = await this.#plan(isp, job, today, log);
        if (planned === null) {
          report.skipped.push(run_id);
          continue;
        }
        report.planned.push(run_id);
      }
      await this.#advance(isp, run_id, report, log);
    }
  }

  /** Plans one run: waits for the read models, computes the plan, stores its items, records the plan event. */
  async #plan(isp: Isp, job: JobKind, today: LocalDate, log: Logger): Promise<SchedulerRunState | null> {
    const latest = await latestRun(this.deps.pool, isp.tenant, job);
    if (latest !== null && latest.local_date > today) {
      log.warn({ job, today, latest: latest.local_date }, 'scheduler: the clock is behind the latest run of this job; nothing is planned until it catches up');
      return null;
    }
    if (!(await this.#readModelsCaughtUp(log))) return null;
    const run_id = runIdOf(isp.tenant, job, today);
    const now = this.clock.now();
    const plan: JobPlan = await planJob({ pool: this.deps.pool, runtime: this.deps.runtime, settings: this.deps.settings }, isp, job, today, now);
    const history = await earlierRuns(this.deps.pool, isp.tenant, job, today, this.deps.settings.policy.history_runs);
    const hold_reasons = assessPlan(
      {
        counts: plan.summary.counts,
        population: plan.summary.population,
        local_date: today,
        previous_local_date: history[0]?.local_date ?? null,
        history: history.filter((run) => run.status === 'completed').map((run) => run.counts),
      },
      this.deps.settings.policy,
    );
    // Items first, then the event: a crash in between leaves items without a plan, which the next tick replaces.
    await writeItems(this.deps.pool, run_id, plan.items);
    const result = await planRun(this.deps.runtime, this.#envelope(run_id), {
      run_id,
      job,
      local_date: today,
      time_zone: isp.time_zone,
      previous_local_date: history[0]?.local_date ?? null,
      summary: plan.summary,
      hold_reasons,
    });
    if (!result.ok) throw new Error(`scheduler: planning ${run_id} was refused: ${result.rejection.code}: ${result.rejection.message}`);
    const state = (await loadRun(this.deps.runtime, run_id)).state;
    await upsertRunIndex(this.deps.pool, { run_id, tenant: isp.tenant, job, local_date: today, status: state.status as 'planned', counts: plan.summary.counts }, state.planned_at ?? now.toISOString(), now);
    log.info({ run_id, counts: plan.summary.counts, amounts: plan.summary.amounts, held: hold_reasons.length > 0 }, 'scheduler: run planned');
    if (hold_reasons.length > 0) log.warn({ run_id, reasons: hold_reasons.map((reason) => reason.message) }, 'scheduler: run held by the safety stop; confirm or cancel it (ispbills scheduler confirm|cancel)');
    return state;
  }

  /** Applies a run that may be applied and records its outcome; brings the run index up to the stream's status. */
  async #advance(isp: Isp, run_id: string, report: TickReport, log: Logger): Promise<void> {
    const run = (await loadRun(this.deps.runtime, run_id)).state;
    if (run.status === 'none') return;
    const now = this.clock.now();
    if (!mayApply(run)) {
      await setRunIndexStatus(this.deps.pool, run_id, run.status, now);
      if (run.status === 'held' && !report.held.includes(run_id)) report.held.push(run_id);
      return;
    }
    await applyRun({ pool: this.deps.pool, runtime: this.deps.runtime, settings: this.deps.settings, notifier: this.deps.notifier, logger: log, ...(this.deps.after_batch === undefined ? {} : { after_batch: this.deps.after_batch }) }, isp, run_id);
    const { outcome, refused_samples, pending } = await itemOutcome(this.deps.pool, run_id);
    if (pending > 0) return;
    const completed = await completeRun(this.deps.runtime, this.#envelope(run_id), { run_id, outcome, refused_samples });
    if (!completed.ok) throw new Error(`scheduler: completing ${run_id} was refused: ${completed.rejection.code}: ${completed.rejection.message}`);
    await setRunIndexStatus(this.deps.pool, run_id, 'completed', this.clock.now());
    report.completed.push(run_id);
    log.info({ run_id, outcome }, 'scheduler: run completed');
  }

  /** Waits (bounded) until the read models plans are made from have applied everything in the log now. */
  async #readModelsCaughtUp(log: Logger): Promise<boolean> {
    // The newest committed event, not the store's head: the head stops before any transaction still open, and a
    // payment committed a moment ago behind a slow writer must be in the plan too.
    const head = await lastCommitted(this.deps.pool);
    try {
      await waitForProjections(this.deps.pool, this.deps.read_models ?? SCHEDULER_READ_MODELS, head, { timeout_ms: this.deps.settings.read_model_wait_ms });
      return true;
    } catch (error) {
      log.warn({ err: error }, 'scheduler: read models are behind the log; planning waits for the next tick');
      return false;
    }
  }

  #envelope(run_id: string): CommandEnvelope {
    return { tenant: tenantOfRun(run_id), actor: SCHEDULER_ACTOR, correlation_id: run_id };
  }
}

/** Tenant ids may contain dots; a run id ends with `.<job>.<yyyy-mm-dd>`, so the tenant is what precedes that. */
export function tenantOfRun(run_id: string): string {
  const match = /^(.+)\.([a-z-]+)\.(\d{4}-\d{2}-\d{2})$/.exec(run_id);
  return match === null ? run_id : match[1]!;
}

/** The position of the newest committed event (START for an empty log). */
export async function lastCommitted(pool: pg.Pool): Promise<LogPosition> {
  // The text column must not be called tx_id: ORDER BY would sort by that output column, as text ('999' > '2105').
  const row = (await pool.query<{ commit: string; prepare: string }>('SELECT tx_id::text AS commit, global_position::text AS prepare FROM events ORDER BY events.tx_id DESC, events.global_position DESC LIMIT 1')).rows[0];
  return row === undefined ? START : { commit: BigInt(row.commit), prepare: BigInt(row.prepare) };
}
