import { constants, monitorEventLoopDelay, PerformanceObserver, type IntervalHistogram } from 'node:perf_hooks';

/**
 * How long the event loop could not answer, and why: the event-loop delay (how late a timer every
 * RESOLUTION_MS fires) and the garbage collector's pauses by kind. Every Access-Request is answered on the one
 * event loop, so a request's latency is its own few hundred microseconds plus whatever held the loop when it
 * arrived; these say which (issue 7: the p99 was scavenges made long by a native Hash object per digest).
 * Cumulative since start; read through RadiusServer.stats (`loop`), which the role logs once a minute.
 */
export type GcPauses = Readonly<{ count: number; total_ms: number; max_ms: number }>;

export type LoopHealthSnapshot = Readonly<{
  /** How late a timer due every RESOLUTION_MS fired, ms: percentiles and worst (0 before the first sample). */
  delay_p50_ms: number;
  delay_p99_ms: number;
  delay_max_ms: number;
  /** Young-generation collections (scavenges): frequent, each should be about a millisecond. */
  gc_minor: GcPauses;
  /** Full mark-compact collections' final pauses. */
  gc_major: GcPauses;
  /** Incremental marking steps run on the event loop. */
  gc_incremental: GcPauses;
  /** Pauses of any kind longer than LONG_PAUSE_MS: each one delays every request that arrives meanwhile. */
  gc_pauses_over_5_ms: number;
}>;

const RESOLUTION_MS = 5;
const LONG_PAUSE_MS = 5;

type Counter = { count: number; total_ms: number; max_ms: number };
const counter = (): Counter => ({ count: 0, total_ms: 0, max_ms: 0 });
const rounded = (ms: number): number => Math.round(ms * 100) / 100;

export class LoopHealth {
  #delay: IntervalHistogram | null = null;
  #observer: PerformanceObserver | null = null;
  readonly #minor = counter();
  readonly #major = counter();
  readonly #incremental = counter();
  #long_pauses = 0;

  start(): void {
    if (this.#delay !== null) return;
    this.#delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    this.#delay.enable();
    this.#observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) this.#record((entry as { detail?: { kind?: number } }).detail?.kind ?? -1, entry.duration);
    });
    this.#observer.observe({ entryTypes: ['gc'] });
  }

  stop(): void {
    this.#delay?.disable();
    this.#observer?.disconnect();
    this.#observer = null;
  }

  #record(kind: number, duration_ms: number): void {
    const into =
      kind === constants.NODE_PERFORMANCE_GC_MINOR ? this.#minor : kind === constants.NODE_PERFORMANCE_GC_MAJOR ? this.#major : kind === constants.NODE_PERFORMANCE_GC_INCREMENTAL ? this.#incremental : null;
    if (duration_ms > LONG_PAUSE_MS) this.#long_pauses += 1;
    if (into === null) return;
    into.count += 1;
    into.total_ms += duration_ms;
    if (duration_ms > into.max_ms) into.max_ms = duration_ms;
  }

  snapshot(): LoopHealthSnapshot {
    const delay = this.#delay;
    // The histogram holds each interval between the timer's runs, in nanoseconds: the lateness is what exceeds
    // the resolution. With no sample yet its min/max are sentinels, so report 0.
    const sampled = delay !== null && delay.count > 0;
    const ms = (nanoseconds: number): number => (sampled ? rounded(Math.max(0, nanoseconds / 1e6 - RESOLUTION_MS)) : 0);
    const pauses = (c: Counter): GcPauses => ({ count: c.count, total_ms: rounded(c.total_ms), max_ms: rounded(c.max_ms) });
    return {
      delay_p50_ms: ms(delay?.percentile(50) ?? 0),
      delay_p99_ms: ms(delay?.percentile(99) ?? 0),
      delay_max_ms: ms(delay?.max ?? 0),
      gc_minor: pauses(this.#minor),
      gc_major: pauses(this.#major),
      gc_incremental: pauses(this.#incremental),
      gc_pauses_over_5_ms: this.#long_pauses,
    };
  }
}
