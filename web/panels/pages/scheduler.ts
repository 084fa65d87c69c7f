import { ACTION_OF_JOB, type Action, type JobKind } from '../../../domain/scheduler/scheduler-run.js';
import { isFormRefusal } from '../api-client.js';
import type { FormState } from '../helpers.js';
import { field, formStateOf, recordActions, type PageContext, type Pages } from '../page-kit.js';

/**
 * The scheduler's runs (issue 11): what each job would do today — or on another local day — before it happens
 * (the API's dry run: who would be billed, locked, expired or reminded, and whether the safety stop would hold
 * it), the recent runs with what they planned and applied, and a run the safety stop held, which a person
 * confirms (the scheduler applies it at its next tick) or cancels (nothing of it is applied). The runs are the
 * ISP's own, so the page is for its admin and its managers with `bills.run`; the API refuses resellers.
 */
type Summary = { counts: Record<string, number>; samples: Record<string, string[]>; amounts: Record<string, string>; population: number };
type HoldReason = { rule: string; action: string | null; count: number; limit: number; message: string };
type Subject = { id: string; name: string; username: string | null };
type Preview = { run_id: string; job: string; local_date: string; recorded: { status: string; summary: Summary | null; hold_reasons: HoldReason[] } | null; plan: Summary; would_hold: HoldReason[]; subjects: Subject[] };
type Run = {
  run_id: string;
  job: string;
  local_date: string;
  status: string;
  counts: Record<string, number>;
  planned_at: string | null;
  started_by: string | null;
  hold_reasons: HoldReason[];
  decision: { kind: 'confirmed' | 'cancelled'; by: { id: string; name: string | null }; text: string; at: string } | null;
  outcome: { completed_at: string; actions: Record<string, { applied: number; unchanged: number; refused: number }>; refused_samples: { subject: string; code: string }[] } | null;
};
type RunDetail = Run & { time_zone: string; previous_local_date: string | null; plan: Summary; subjects: Subject[] };

const JOBS: Readonly<Record<JobKind, { label: string; what: string }>> = {
  'bill-run': { label: 'Monthly bill run', what: 'bills for every monthly customer whose billing day has come' },
  'grace-locks': { label: 'Grace locks', what: 'locks monthly customers with a bill still open after its due date' },
  'expiry-sweep': { label: 'Expiry sweep', what: 'expires daily customers whose validity has ended' },
  'card-expiry': { label: 'Card expiry', what: 'marks card batches past their expiry date expired' },
  reminders: { label: 'Reminders', what: 'reminds of bills falling due and validity ending soon' },
};

const ACTIONS: Readonly<Record<Action, { label: string; planned: string }>> = {
  bill: { label: 'Bills to issue', planned: 'billed' },
  lock: { label: 'Customers to lock', planned: 'locked' },
  expire: { label: 'Customers to expire', planned: 'expired' },
  'expire-cards': { label: 'Card batches to expire', planned: 'card batches expired' },
  'remind-bill-due': { label: 'Bill-due reminders', planned: 'reminded of a bill' },
  'remind-expiry': { label: 'Expiry reminders', planned: 'reminded of expiry' },
};

const jobOf = (job: string) => JOBS[job as JobKind] ?? { label: job, what: '' };
const actionLabel = (action: string): string => ACTIONS[action as Action]?.label ?? action;
/** Actions that cut customers off: the hold reasons and confirmations speak of them first. */
const CUTTING_OFF = new Set(['lock', 'expire']);

/** What a plan would do, action by action, with the people it names (a customer's name, a batch's id) linked. */
function actionsOf(job: string, plan: Summary, subjects: readonly Subject[], currency: string) {
  const named = new Map(subjects.map((subject) => [subject.id, subject]));
  const actions = ACTION_OF_JOB[job as JobKind] ?? (Object.keys(plan.counts) as Action[]);
  return actions.map((action) => {
    const count = plan.counts[action] ?? 0;
    const sample = plan.samples[action] ?? [];
    return {
      action,
      label: actionLabel(action),
      count,
      amount: plan.amounts[action] ?? null,
      currency,
      cuts_off: CUTTING_OFF.has(action),
      subjects: sample.map((id) => {
        if (action === 'expire-cards') return { href: `/cards/batches/${encodeURIComponent(id)}`, name: id, detail: null };
        const customer = named.get(id);
        return { href: `/customers/${encodeURIComponent(id)}`, name: customer?.name ?? id, detail: customer?.username ?? (customer === undefined ? null : id) };
      }),
      more: Math.max(0, count - sample.length),
    };
  });
}

/** "12 expired, 3 reminded of a bill" — the counts of a run in a few words. */
function countsText(counts: Readonly<Record<string, number>>): string {
  const parts = Object.entries(counts)
    .filter(([, count]) => count > 0)
    .map(([action, count]) => `${count} ${ACTIONS[action as Action]?.planned ?? action}`);
  return parts.length === 0 ? 'nothing to do' : parts.join(', ');
}

function startedBy(started_by: string | null): string {
  if (started_by === null) return '—';
  if (started_by === 'system:scheduler') return 'the scheduler';
  const [role, ...id] = started_by.split(':');
  return `${id.join(':')} (${role})`;
}

/** A run for the pages: its job's name, the counts in words, what applying did, and its decision forms. */
function runView(run: Run) {
  const applied = run.outcome === null ? null : Object.entries(run.outcome.actions).map(([action, outcome]) => ({ action, label: actionLabel(action), ...outcome }));
  const slug = run.run_id.replace(/[^A-Za-z0-9]+/g, '-');
  return {
    ...run,
    job_label: jobOf(run.job).label,
    planned: countsText(run.counts),
    cuts_off: Object.entries(run.counts).some(([action, count]) => CUTTING_OFF.has(action) && count > 0),
    applied,
    applied_text: applied === null ? null : applied.map((entry) => `${entry.applied} ${ACTIONS[entry.action as Action]?.planned ?? entry.action}${entry.unchanged > 0 ? `, ${entry.unchanged} unchanged` : ''}${entry.refused > 0 ? `, ${entry.refused} refused` : ''}`).join('; ') || 'nothing to apply',
    started: startedBy(run.started_by),
    href: `/scheduler/runs/${encodeURIComponent(run.run_id)}`,
    held: run.status === 'held',
    cancellable: run.status === 'held' || run.status === 'planned' || run.status === 'confirmed',
    forms: { confirm: { id: `confirm-${slug}`, values: {}, errors: {} } satisfies FormState, cancel: { id: `cancel-${slug}`, values: {}, errors: {} } satisfies FormState },
  };
}

const RECENT_RUNS = 30;

export function schedulerPages(pages: Pages): void {
  pages.get('/scheduler', 'bills.run', async (page) => {
    const query = page.request.query as Record<string, string | undefined>;
    const values = { local_date: query.local_date?.trim() || page.session.today };
    let form: FormState = { id: 'plan', values, errors: {} };
    let previews: Preview[] = [];
    try {
      previews = (await page.api.get<{ previews: Preview[] }>('/api/v1/scheduler/plan', { local_date: values.local_date })).previews;
    } catch (error) {
      if (!isFormRefusal(error) || error.status !== 400) throw error;
      form = formStateOf('plan', values, error.failure);
    }
    const [recent, open] = await Promise.all([
      page.api.get<{ runs: Run[] }>('/api/v1/scheduler/runs', { limit: RECENT_RUNS }),
      page.api.get<{ runs: Run[] }>('/api/v1/scheduler/runs', { open: 'true' }),
    ]);
    const held = open.runs.filter((run) => run.status === 'held').map(runView);
    return page.render('scheduler', {
      title: 'Scheduler',
      form,
      local_date: values.local_date,
      today: values.local_date === page.session.today,
      jobs: previews.map((preview) => ({
        ...preview,
        label: jobOf(preview.job).label,
        what: jobOf(preview.job).what,
        actions: actionsOf(preview.job, preview.plan, preview.subjects, page.session.currency),
        planned: countsText(preview.plan.counts),
        recorded: preview.recorded === null ? null : { ...preview.recorded, href: `/scheduler/runs/${encodeURIComponent(preview.run_id)}` },
      })),
      held,
      runs: recent.runs.map(runView),
    });
  });

  const showRun = async (page: PageContext, run_id: string, forms: Readonly<Record<string, FormState>> = {}) => {
    const run = await page.api.get<RunDetail>(`/api/v1/scheduler/runs/${encodeURIComponent(run_id)}`);
    const view = runView(run);
    const actions = actionsOf(run.job, run.plan, run.subjects, page.session.currency);
    return page.render('scheduler-run', {
      title: `${view.job_label} of ${run.local_date}`,
      run: {
        ...view,
        forms: { confirm: forms.confirm ?? { id: 'confirm', values: {}, errors: {} }, cancel: forms.cancel ?? { id: 'cancel', values: {}, errors: {} } },
        open: forms.confirm !== undefined ? 'confirm' : forms.cancel !== undefined ? 'cancel' : null,
      },
      what: jobOf(run.job).what,
      actions,
      nothing: actions.every((entry) => entry.count === 0),
      population: run.plan.population,
      refused: run.outcome?.refused_samples ?? [],
    });
  };

  pages.get('/scheduler/runs/:run_id', 'bills.run', async (page) => showRun(page, (page.request.params as { run_id: string }).run_id));

  const action = recordActions(pages, { path: '/scheduler/runs/:run_id', param: 'run_id', show: showRun });
  action(
    'confirm',
    'bills.run',
    'confirm',
    (values, id) => ({ url: `/api/v1/scheduler/runs/${encodeURIComponent(id)}/confirm`, body: { note: field(values, 'note') ?? '' } }),
    'Run confirmed: the scheduler applies it at its next tick.',
  );
  action(
    'cancel',
    'bills.run',
    'cancel',
    (values, id) => ({ url: `/api/v1/scheduler/runs/${encodeURIComponent(id)}/cancel`, body: { reason: field(values, 'reason') ?? '' } }),
    'Run cancelled: nothing of it is applied; the next day’s run plans afresh.',
  );
}
