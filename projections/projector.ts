import { EventEmitter } from 'node:events';
import pg from 'pg';
import type { Logger } from 'pino';
import type { EventStore, LogPosition, RecordedEvent, Subscription } from '../eventstore/event-store.js';
import { RowCache } from './apply-batch.js';
import { applyCheckpointed, GenerationMoved } from './checkpointed-apply.js';
import { createGeneration, liveGeneration, recordFailure, type Generation } from './generations.js';
import type { Projection } from './projection.js';
import { formatProgress, rebuildProjection } from './rebuild.js';

export type ProjectorOptions = Readonly<{
  batch_size?: number;
  poll_interval_ms?: number;
  /** How long a projection that failed on an event waits before it tries that event again. */
  retry_after_failure_ms?: number;
  /** How often a worker that is not the leader asks again. */
  leader_retry_ms?: number;
  /** Rows a rebuild started by a new projection version may hold in memory in this (serving) process. */
  rebuild_memory_rows?: number;
  logger?: Logger;
}>;

const LOCK_CLASS = 7302;
/** A rebuild inside a process that also serves keeps its heap modest (about 400 MB of rows). */
const SERVING_REBUILD_MEMORY_ROWS = 1_000_000;

/**
 * Runs projections: one worker each, and in the whole deployment one active worker per projection, chosen by a
 * session advisory lock held on a connection of its own (if the connection dies the lock goes with it and
 * another process takes over). A worker follows the live generation from its checkpoint; a projection whose
 * code version differs from the live generation is rebuilt into fresh tables first, the old ones serving
 * meanwhile. An event that makes the handler or the database fail stops the projection there: it is reported
 * in `projection_generations.failed_event` and retried, never skipped.
 */
export class Projector {
  readonly events = new EventEmitter();
  readonly #workers: ProjectionWorker[];
  /** The connection holding this process's leader locks; replaced by a new one after it breaks. */
  #lock_client: pg.Client | null = null;
  #lock_connected: Promise<void> | null = null;
  /** The leader connection runs one query at a time; workers ask for their locks in turn. */
  #lock_queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly pool: pg.Pool,
    readonly store: EventStore,
    projections: readonly Projection[],
    readonly options: ProjectorOptions = {},
  ) {
    this.events.setMaxListeners(0);
    this.#workers = projections.map((projection) => new ProjectionWorker(this, projection));
  }

  start(): void {
    for (const worker of this.#workers) worker.start();
  }

  async stop(): Promise<void> {
    await Promise.all(this.#workers.map((worker) => worker.stop()));
    await this.#lock_client?.end().catch(() => undefined);
  }

  /** The leader connection, opened on first use and again after a failure (its locks died with the old one). */
  #leaderConnection(): { client: pg.Client; connected: Promise<void> } {
    if (this.#lock_client === null || this.#lock_connected === null) {
      const client = new pg.Client({ ...(this.pool.options as pg.ClientConfig), application_name: 'ispbills-projector-leader' });
      client.on('error', (error) => {
        this.options.logger?.error({ err: error }, 'projector: leader connection lost; projections pause and ask for their locks again');
        if (this.#lock_client === client) {
          this.#lock_client = null;
          this.#lock_connected = null;
        }
        for (const worker of this.#workers) worker.lostLeadership();
      });
      this.#lock_client = client;
      this.#lock_connected = client.connect().then(() => undefined);
    }
    return { client: this.#lock_client, connected: this.#lock_connected! };
  }

  /** True when this process now leads the projection. */
  tryLead(name: string): Promise<boolean> {
    const attempt = this.#lock_queue.then(async () => {
      const { client, connected } = this.#leaderConnection();
      try {
        await connected;
      } catch (error) {
        this.#lock_client = null;
        this.#lock_connected = null;
        throw error;
      }
      const result = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, hashtext($2)) AS locked', [LOCK_CLASS, name]);
      return result.rows[0]!.locked;
    });
    this.#lock_queue = attempt.catch(() => undefined);
    return attempt;
  }
}

class ProjectionWorker {
  #stopping = false;
  #leading = false;
  #subscription: Subscription | null = null;
  #sleep: { timer: NodeJS.Timeout; resolve: () => void } | null = null;
  #running: Promise<void> | null = null;

  constructor(
    private readonly projector: Projector,
    private readonly projection: Projection,
  ) {}

  private get log(): Logger | undefined {
    return this.projector.options.logger?.child({ projection: this.projection.name });
  }

  start(): void {
    this.#running = this.run();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.wake();
    await this.#subscription?.stop();
    await this.#running;
  }

  lostLeadership(): void {
    this.#leading = false;
    void this.#subscription?.stop();
  }

  private async run(): Promise<void> {
    while (!this.#stopping) {
      try {
        if (!this.#leading) {
          this.#leading = await this.projector.tryLead(this.projection.name);
          if (!this.#leading) {
            await this.pause(this.projector.options.leader_retry_ms ?? 2_000);
            continue;
          }
          this.log?.info('projection: leading');
        }
        const live = await liveGeneration(this.projector.pool, this.projection.name);
        if (live === null) {
          await createGeneration(this.projector.pool, this.projection, { state: 'live' });
          continue;
        }
        if (live.version !== this.projection.version) {
          this.log?.info({ live_version: live.version, version: this.projection.version }, 'projection: new version, rebuilding while the old one serves');
          const report = await rebuildProjection(this.projector.pool, this.projector.store, this.projection, {
            memory_rows: this.projector.options.rebuild_memory_rows ?? SERVING_REBUILD_MEMORY_ROWS,
            on_progress: (progress) => this.log?.info({ progress: formatProgress(progress) }, 'projection: rebuilding'),
          });
          this.log?.info({ report }, 'projection: rebuilt and swapped');
          continue;
        }
        await this.follow(live);
      } catch (error) {
        if (this.#stopping) break;
        this.log?.error({ err: error }, 'projection: worker failed; retrying');
        await this.pause(this.projector.options.retry_after_failure_ms ?? 30_000);
      }
    }
  }

  /** Applies the log to the live generation until it stops being live, fails on an event, or the worker stops. */
  private async follow(generation: Generation): Promise<void> {
    // stop() may have run while this worker was asking for the lock or reading its generation: it found no
    // subscription to stop, so one started now would poll forever and stop() would never return. Nothing is
    // awaited between this check and `#subscription` being set, so a later stop() always finds it.
    if (this.#stopping) return;
    const cache = new RowCache();
    let position: LogPosition = generation.position;
    let failure: unknown = null;
    const subscription = this.projector.store.subscribeToAll(
      position,
      {
        handle: async (batch) => {
          await applyCheckpointed(this.projector.pool, this.projection, generation, batch, cache, { expected: position });
          position = batch[batch.length - 1]!.position;
          this.projector.events.emit('advanced', this.projection.name, position);
        },
      },
      { batch_size: this.projector.options.batch_size ?? 1_000, poll_interval_ms: this.projector.options.poll_interval_ms ?? 100 },
    );
    this.#subscription = subscription;
    await subscription.done.catch((error: unknown) => {
      failure = error;
    });
    this.#subscription = null;
    if (failure === null || this.#stopping || failure instanceof GenerationMoved) return;
    await this.isolateFailure(generation, position, failure);
  }

  /**
   * The batch failed: apply its events one at a time, so everything before the culprit is kept and the culprit
   * is named in the checkpoint row. Then wait and try again from there (a fix may have been deployed).
   */
  private async isolateFailure(generation: Generation, position: LogPosition, batch_error: unknown): Promise<void> {
    const events = await this.projector.store.readAll(position, { max_count: this.projector.options.batch_size ?? 1_000 });
    const cache = new RowCache();
    let culprit: RecordedEvent | null = null;
    let error: unknown = batch_error;
    let expected = position;
    for (const event of events) {
      try {
        await applyCheckpointed(this.projector.pool, this.projection, generation, [event], cache, { expected });
        expected = event.position;
        this.projector.events.emit('advanced', this.projection.name, expected);
      } catch (event_error) {
        if (event_error instanceof GenerationMoved) return;
        culprit = event;
        error = event_error;
        break;
      }
    }
    if (culprit === null) return; // It was transient: every event went through one by one.
    const message = error instanceof Error ? error.message : String(error);
    const failed = {
      global_position: culprit.global_position.toString(),
      event_id: culprit.event_id,
      type: culprit.type,
      stream_id: culprit.stream_id,
      error: message,
    };
    await recordFailure(this.projector.pool, generation, failed).catch(() => undefined);
    this.log?.error({ failed_event: failed }, 'projection: stopped at an event it cannot apply; fix the cause, it retries from this event');
    await this.pause(this.projector.options.retry_after_failure_ms ?? 30_000);
  }

  private pause(ms: number): Promise<void> {
    if (this.#stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#sleep = null;
        resolve();
      }, ms);
      this.#sleep = { timer, resolve };
    });
  }

  private wake(): void {
    if (this.#sleep === null) return;
    clearTimeout(this.#sleep.timer);
    this.#sleep.resolve();
    this.#sleep = null;
  }
}
