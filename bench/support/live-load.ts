import { performance } from 'node:perf_hooks';
import { comparePositions, type LogPosition } from '../../eventstore/event-store.js';
import { LatencyRecorder } from './measure.js';

/**
 * Projection lag, measured per command: from the moment the command's append returned (its result carries the
 * log position it wrote) until every projection's checkpoint reached that position. The projector announces
 * each committed checkpoint ('advanced', name, position) right after its transaction commits, so a reader
 * polling `projection_generations` would see the same instant; this saves the benchmark from polling the
 * database hundreds of times a second while it measures.
 */
export class LagTracker {
  readonly #names: readonly string[];
  readonly #reached: LogPosition[];
  #pending: { position: LogPosition; t0: number; reached_at: number[]; missing: number; window: boolean }[] = [];
  readonly overall = new LatencyRecorder();
  readonly per_projection: readonly LatencyRecorder[];
  /** [seconds since `origin`, lag ms] of every sample in the window, to see whether lag grows during a run. */
  readonly timeline: [number, number][] = [];
  advances: number[];
  #origin = 0;

  constructor(names: readonly string[], start: ReadonlyMap<string, LogPosition>) {
    this.#names = names;
    this.#reached = names.map((name) => start.get(name)!);
    this.per_projection = names.map(() => new LatencyRecorder());
    this.advances = names.map(() => 0);
  }

  /** Samples added from now on count from `origin` (performance.now()) in the timeline. */
  setOrigin(origin: number): void {
    this.#origin = origin;
  }

  get pending(): number {
    return this.#pending.length;
  }

  /** A command returned `position` at `t0`; `window` false for warm-up samples that are tracked but not recorded. */
  add(position: LogPosition, t0: number, window: boolean): void {
    const reached_at = this.#names.map((_, index) => (comparePositions(this.#reached[index]!, position) >= 0 ? t0 : Number.NaN));
    const missing = reached_at.filter((value) => Number.isNaN(value)).length;
    const sample = { position, t0, reached_at, missing, window };
    if (missing === 0) this.#finish(sample);
    else this.#pending.push(sample);
  }

  /** `at`: when the checkpoint committed (performance.now() of this process); now when not given. */
  advanced(name: string, position: LogPosition, at = performance.now()): void {
    const now = at;
    const index = this.#names.indexOf(name);
    if (index === -1) return;
    this.advances[index]! += 1;
    if (comparePositions(position, this.#reached[index]!) > 0) this.#reached[index] = position;
    let kept = 0;
    for (const sample of this.#pending) {
      if (Number.isNaN(sample.reached_at[index]!) && comparePositions(position, sample.position) >= 0) {
        sample.reached_at[index] = now;
        sample.missing -= 1;
      }
      if (sample.missing === 0) this.#finish(sample);
      else this.#pending[kept++] = sample;
    }
    this.#pending.length = kept;
  }

  #finish(sample: { t0: number; reached_at: number[]; window: boolean }): void {
    if (!sample.window) return;
    let latest = sample.t0;
    // A checkpoint reported from another process can carry a time just before the command's result arrived here.
    sample.reached_at.forEach((at, index) => {
      this.per_projection[index]!.record(Math.max(0, at - sample.t0));
      if (at > latest) latest = at;
    });
    this.overall.record(latest - sample.t0);
    this.timeline.push([(sample.t0 - this.#origin) / 1000, latest - sample.t0]);
  }

  /** Drops what never arrived (after a bounded wait), returning how many window samples that was. */
  abandon(): number {
    const lost = this.#pending.filter((sample) => sample.window).length;
    this.#pending = [];
    return lost;
  }
}

export type OpenLoopResult = Readonly<{
  offered_rate: number;
  /** Commands that started inside the window and completed (accepted or refused), per second of window. */
  completed_in_window_per_second: number;
  /** Commands completed during the window (whenever intended), per second: what the system actually sustained. */
  throughput: number;
  accepted: number;
  refused: ReadonlyMap<string, number>;
  failed: ReadonlyMap<string, number>;
  /** From the intended start (open loop: includes waiting for a free slot) to completion. */
  response: LatencyRecorder;
  /** From the actual start to completion. */
  service: LatencyRecorder;
  /** How late commands started against their schedule (the in-flight cap was hit, or the event loop was busy). */
  start_delay: LatencyRecorder;
  max_in_flight_reached: number;
  /** Commands due in the window that had not started when it ended (the system fell behind): never sent. */
  not_started: number;
  seconds: number;
}>;

export type Issued = Readonly<{ ok: true; position: LogPosition | null } | { ok: false; code: string }>;

/**
 * An open-loop driver: command k is due at start + k / rate, whether or not earlier ones finished (a closed
 * loop would slow down with the system and hide the backlog). At most `max_in_flight` run at once; a command
 * that finds no free slot starts late, and the lateness is reported. Only commands that started inside
 * [warmup, warmup + seconds) count. When the window ends, commands still waiting to start are dropped and
 * counted, so an overloaded run ends on time instead of working off its backlog.
 */
export async function openLoop(
  input: Readonly<{
    rate: number;
    warmup_seconds: number;
    seconds: number;
    max_in_flight: number;
    issue: (index: number) => Promise<Issued>;
    on_written: (position: LogPosition, returned_at: number, in_window: boolean) => void;
  }>,
): Promise<OpenLoopResult> {
  const total = Math.floor(input.rate * (input.warmup_seconds + input.seconds));
  const started = performance.now();
  const window_from = started + input.warmup_seconds * 1000;
  const window_until = window_from + input.seconds * 1000;
  const response = new LatencyRecorder();
  const service = new LatencyRecorder();
  const start_delay = new LatencyRecorder();
  const refused = new Map<string, number>();
  const failed = new Map<string, number>();
  let accepted = 0;
  let in_window_completed = 0;
  let completed_during_window = 0;
  let launched = 0;
  let in_flight = 0;
  let max_in_flight_reached = 0;
  let not_started = 0;

  await new Promise<void>((resolve) => {
    const launch = (index: number, intended: number): void => {
      const actual = performance.now();
      // A command belongs to the window when it started in it: behind schedule, those are commands due earlier.
      const in_window = actual >= window_from && actual < window_until;
      if (in_window) start_delay.record(actual - intended);
      in_flight += 1;
      max_in_flight_reached = Math.max(max_in_flight_reached, in_flight);
      input
        .issue(index)
        .then(
          (outcome) => {
            const done = performance.now();
            if (outcome.ok) {
              if (outcome.position !== null) input.on_written(outcome.position, done, in_window);
              if (in_window) accepted += 1;
            } else if (in_window) {
              refused.set(outcome.code, (refused.get(outcome.code) ?? 0) + 1);
            }
            if (in_window) {
              response.record(done - intended);
              service.record(done - actual);
              in_window_completed += 1;
            }
          },
          (error: unknown) => {
            const name = error instanceof Error ? `${error.name}: ${error.message.slice(0, 80)}` : String(error);
            if (in_window) failed.set(name, (failed.get(name) ?? 0) + 1);
          },
        )
        .finally(() => {
          const done = performance.now();
          if (done >= window_from && done < window_until) completed_during_window += 1;
          in_flight -= 1;
          if (launched === total && in_flight === 0) resolve();
        });
    };
    const tick = (): void => {
      const now = performance.now();
      if (now >= window_until && launched < total) {
        not_started = total - launched;
        launched = total;
        if (in_flight === 0) resolve();
        return;
      }
      const due = Math.min(total, Math.floor(((now - started) / 1000) * input.rate) + 1);
      while (launched < due && in_flight < input.max_in_flight) {
        const index = launched;
        launched += 1;
        launch(index, started + (index / input.rate) * 1000);
      }
      if (launched < total) setTimeout(tick, 1);
      else if (in_flight === 0) resolve();
    };
    tick();
  });
  return {
    offered_rate: input.rate,
    completed_in_window_per_second: in_window_completed / input.seconds,
    throughput: completed_during_window / input.seconds,
    accepted,
    refused,
    failed,
    response,
    service,
    start_delay,
    max_in_flight_reached,
    not_started,
    seconds: input.seconds,
  };
}

/**
 * When the events a command wrote become visible to readers at all: the store's readAll only returns events
 * of transactions older than every transaction still running (`tx_id < pg_snapshot_xmin(...)`), so any open
 * transaction that began earlier (another command's append, a projection's batch) holds them back. One
 * dedicated connection asks for the horizon every `interval_ms`; the resolution is that interval.
 */
export class VisibilityProbe {
  readonly recorder = new LatencyRecorder();
  #pending: { commit: bigint; t0: number; window: boolean }[] = [];
  #timer: NodeJS.Timeout | null = null;
  #busy = false;

  constructor(
    private readonly client: Readonly<{ query: (text: string) => Promise<{ rows: { xmin: string }[] }> }>,
    private readonly interval_ms = 5,
  ) {}

  start(): void {
    this.#timer = setInterval(() => void this.#poll(), this.interval_ms);
  }

  add(position: LogPosition, t0: number, window: boolean): void {
    this.#pending.push({ commit: position.commit, t0, window });
  }

  get pending(): number {
    return this.#pending.length;
  }

  async #poll(): Promise<void> {
    if (this.#busy || this.#pending.length === 0) return;
    this.#busy = true;
    try {
      const xmin = BigInt((await this.client.query('SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin')).rows[0]!.xmin);
      const now = performance.now();
      this.#pending = this.#pending.filter((sample) => {
        if (sample.commit >= xmin) return true;
        if (sample.window) this.recorder.record(Math.max(0, now - sample.t0));
        return false;
      });
    } finally {
      this.#busy = false;
    }
  }

  stop(): number {
    if (this.#timer !== null) clearInterval(this.#timer);
    const lost = this.#pending.filter((sample) => sample.window).length;
    this.#pending = [];
    return lost;
  }
}
