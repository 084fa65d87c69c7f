import { readdirSync, readFileSync } from 'node:fs';
import { performance, PerformanceObserver } from 'node:perf_hooks';
import type pg from 'pg';

/** Latencies in milliseconds, kept compactly: a 10 s run of single appends records a few hundred thousand. */
export class LatencyRecorder {
  #values = new Float64Array(1 << 16);
  #count = 0;

  record(ms: number): void {
    if (this.#count === this.#values.length) {
      const bigger = new Float64Array(this.#values.length * 2);
      bigger.set(this.#values);
      this.#values = bigger;
    }
    this.#values[this.#count++] = ms;
  }

  get count(): number {
    return this.#count;
  }

  percentile(p: number): number {
    if (this.#count === 0) return Number.NaN;
    const sorted = this.#values.slice(0, this.#count).sort();
    const index = Math.min(this.#count - 1, Math.max(0, Math.ceil((p / 100) * this.#count) - 1));
    return sorted[index]!;
  }
}

export type TimedRun = Readonly<{
  operations: number;
  /** Events or rows written or read. */
  items: number;
  seconds: number;
  latency: LatencyRecorder;
}>;

/**
 * `workers` loops call `operation` back to back until `seconds` have passed; each call returns how many items
 * it wrote. An operation started before the deadline is allowed to finish and is counted.
 */
export async function runFor(
  seconds: number,
  workers: number,
  operation: (worker: number) => Promise<number>,
): Promise<TimedRun> {
  const latency = new LatencyRecorder();
  let operations = 0;
  let items = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: workers }, async (_, worker) => {
      while (performance.now() < deadline) {
        const before = performance.now();
        // Not `items += await …`: that reads `items` before awaiting, and concurrent workers would lose counts.
        const written = await operation(worker);
        latency.record(performance.now() - before);
        items += written;
        operations += 1;
      }
    }),
  );
  return { operations, items, seconds: (performance.now() - started) / 1000, latency };
}

type ProcessTicks = Readonly<{ pid: number; ppid: number; name: string; ticks: number }>;

/** utime + stime of every process, from /proc/<pid>/stat. */
function processTicks(): ProcessTicks[] {
  const result: ProcessTicks[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // pid (comm) state ppid … utime(14) stime(15); comm may hold spaces, so split after the last ')'.
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    result.push({ pid: Number(entry), ppid: Number(fields[1]), name, ticks: Number(fields[11]) + Number(fields[12]) });
  }
  return result;
}

/** USER_HZ: 100 on every Linux this runs on. */
const CLOCK_TICKS_PER_SECOND = 100;

type CpuSample = Readonly<{ at: number; busy: number; iowait: number; total: number; self_us: number; processes: readonly ProcessTicks[] }>;

function sampleCpu(): CpuSample {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  // cpu user nice system idle iowait irq softirq steal guest guest_nice (in USER_HZ ticks)
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number) as number[];
  const busy = user! + nice! + system! + irq! + softirq! + steal!;
  const usage = process.cpuUsage();
  return {
    at: performance.now(),
    busy,
    iowait: iowait!,
    total: busy + idle! + iowait!,
    self_us: usage.user + usage.system,
    processes: processTicks(),
  };
}

export type CpuUse = Readonly<{
  /** This Node process (the benchmark client: node-postgres, JSON, the adapter), in cores. */
  node_cores: number;
  /** The PostgreSQL server's processes, in cores; null when the server is not local (BENCH_DATABASE_URL). */
  postgres_cores: number | null;
  /** Everything else that kept the CPUs busy (kernel threads, interrupts, other programs), in cores. */
  other_cores: number;
  /** Share of all CPU time spent idle waiting for I/O. */
  iowait_share: number;
  /** The busiest process that is neither this one nor the PostgreSQL server: who else was using the CPUs. */
  busiest_other: Readonly<{ name: string; cores: number }> | null;
}>;

/**
 * Starts measuring; the returned function ends the measurement. `postgres_pid` is the postmaster's pid;
 * `child_pids` are processes this benchmark started (a projector of its own), counted with Node.
 */
export function startCpuMeter(postgres_pid: number | null = null, child_pids: readonly number[] = []): () => CpuUse {
  const start = sampleCpu();
  return () => {
    const end = sampleCpu();
    const ticks = end.total - start.total;
    const seconds = (end.at - start.at) / 1000;
    const busy_cores = ticks === 0 ? 0 : ((end.busy - start.busy) / ticks) * cpuCount();
    let node_cores = (end.self_us - start.self_us) / 1e6 / seconds;
    const before = new Map(start.processes.map((entry) => [entry.pid, entry.ticks]));
    let postgres_ticks = 0;
    let busiest_other: { name: string; cores: number } | null = null;
    for (const entry of end.processes) {
      // A process that started during the measurement counts from zero.
      const used = (entry.ticks - (before.get(entry.pid) ?? 0)) / CLOCK_TICKS_PER_SECOND / seconds;
      if (postgres_pid !== null && (entry.pid === postgres_pid || entry.ppid === postgres_pid)) postgres_ticks += used;
      else if (child_pids.includes(entry.pid)) node_cores += used;
      else if (entry.pid !== process.pid && used > (busiest_other?.cores ?? 0)) busiest_other = { name: entry.name, cores: used };
    }
    const postgres_cores = postgres_pid === null ? null : postgres_ticks;
    return {
      node_cores,
      postgres_cores,
      other_cores: Math.max(0, busy_cores - node_cores - (postgres_cores ?? 0)),
      iowait_share: ticks === 0 ? 0 : (end.iowait - start.iowait) / ticks,
      busiest_other,
    };
  };
}

let cpus: number | null = null;
function cpuCount(): number {
  cpus ??= readFileSync('/proc/stat', 'utf8').split('\n').filter((line) => /^cpu\d+ /.test(line)).length;
  return cpus;
}

export type WalUse = Readonly<{ wal_bytes: number; wal_fsyncs: number; commits: number }>;

/**
 * WAL written (from the insert LSN, exact), WAL fsyncs (pg_stat_io) and commits (pg_stat_database). Backends
 * publish their statistics lazily, so every pooled connection is asked to flush them first.
 */
export async function walCounters(pool: pg.Pool, connections: number): Promise<WalUse> {
  const clients = await Promise.all(Array.from({ length: connections }, () => pool.connect()));
  try {
    await Promise.all(clients.map((client) => client.query('SELECT pg_stat_force_next_flush()')));
  } finally {
    for (const client of clients) client.release();
  }
  const row = (
    await pool.query<{ wal_bytes: string; wal_fsyncs: string; commits: string }>(
      `SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::text AS wal_bytes,
              (SELECT coalesce(sum(fsyncs), 0) FROM pg_stat_io WHERE object = 'wal')::text AS wal_fsyncs,
              (SELECT xact_commit FROM pg_stat_database WHERE datname = current_database())::text AS commits`,
    )
  ).rows[0]!;
  return { wal_bytes: Number(row.wal_bytes), wal_fsyncs: Number(row.wal_fsyncs), commits: Number(row.commits) };
}

export function walDelta(before: WalUse, after: WalUse): WalUse {
  return {
    wal_bytes: after.wal_bytes - before.wal_bytes,
    wal_fsyncs: after.wal_fsyncs - before.wal_fsyncs,
    commits: after.commits - before.commits,
  };
}

export const integer = (value: number): string => Math.round(value).toLocaleString('en-US');
export const ms = (value: number): string => (value < 10 ? value.toFixed(2) : value.toFixed(1));
export const ratio = (value: number): string => value.toFixed(2);

let gcMilliseconds = 0;
let gcObserver: PerformanceObserver | null = null;

/**
 * Time this process spent in garbage collection (V8's gc performance entries, pauses on the main thread)
 * while the meter ran. Entries arrive asynchronously, so the end function yields once before reading.
 */
export function startGcMeter(): () => Promise<number> {
  if (gcObserver === null) {
    gcObserver = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) gcMilliseconds += entry.duration;
    });
    gcObserver.observe({ entryTypes: ['gc'] });
  }
  const start = gcMilliseconds;
  return async () => {
    await new Promise((resolve) => setImmediate(resolve));
    return gcMilliseconds - start;
  };
}

/** A benchmark setting from the environment: a positive whole number, or the default when unset. */
export function positiveInteger(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive whole number, got ${raw}`);
  return value;
}
