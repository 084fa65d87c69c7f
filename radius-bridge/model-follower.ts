import type pg from 'pg';
import type { Logger } from 'pino';
import { comparePositions, START, type EventStore, type LogPosition, type RecordedEvent, type Subscription } from '../eventstore/event-store.js';
import type { Row, TableSpec } from '../projections/projection.js';
import { qualified, selectList } from '../projections/table-sql.js';
import { RadiusModel } from './radius-model.js';

/**
 * Keeps a RadiusModel current. It starts from the projection's live tables when their version is the code's
 * (rows and checkpoint read in one REPEATABLE READ snapshot, so they agree: the projector writes both in one
 * transaction), otherwise from the start of the log; then a subscription applies every later event with the
 * projection's own handler. An append in this process wakes the subscription at once; another process's is
 * seen within SUBSCRIPTION_POLL_INTERVAL_MS.
 */
export type ModelFollowerOptions = Readonly<{
  poll_interval_ms: number;
  batch_size?: number;
  logger?: Logger;
  /** Rows read per query while loading (bounded memory per round trip). */
  load_page_size?: number;
  /** Fold the whole log even when the tables could be loaded (to check one against the other). */
  from_log?: boolean;
}>;

export type ModelFollower = Readonly<{
  model: RadiusModel;
  /** Resolves when the model has caught up with the log once; the server answers only after it. */
  ready: Promise<void>;
  /** Resolves once the model has applied `position` (or rejects after timeout_ms). */
  reached: (position: LogPosition, timeout_ms: number) => Promise<void>;
  stop: () => Promise<void>;
  /** Where it came from: the projection's tables or the log. */
  loaded_from: () => 'tables' | 'log';
}>;

export function followRadiusModel(pool: pg.Pool, store: EventStore, options: ModelFollowerOptions): ModelFollower {
  const model = new RadiusModel();
  let subscription: Subscription | null = null;
  let retry: NodeJS.Timeout | null = null;
  let stopping = false;
  let source: 'tables' | 'log' = 'log';
  const waiters = new Set<{ position: LogPosition; resolve: () => void }>();
  const settle = (): void => {
    for (const waiter of waiters) {
      if (comparePositions(model.position, waiter.position) >= 0) {
        waiters.delete(waiter);
        waiter.resolve();
      }
    }
  };

  const ready = (async (): Promise<void> => {
    const loaded = options.from_log === true ? false : await loadFromTables(pool, model, options.load_page_size ?? 20_000);
    source = loaded ? 'tables' : 'log';
    options.logger?.info({ source, position: model.position.prepare.toString(), rows: model.counts() }, 'radius model: loaded');
    if (stopping) return;
    let caught_up!: () => void;
    let failed_first!: (error: unknown) => void;
    const first_catch_up = new Promise<void>((resolve, reject) => {
      caught_up = resolve;
      failed_first = reject;
    });
    let ever_caught_up = false;
    const follow = (): void => {
      subscription = store.subscribeToAll(
        model.position,
        {
          handle: async (batch: readonly RecordedEvent[]) => {
            model.apply(batch);
            settle();
          },
          on_caught_up: () => {
            ever_caught_up = true;
            caught_up();
            settle();
          },
        },
        { batch_size: options.batch_size ?? 1_000, poll_interval_ms: options.poll_interval_ms },
      );
      subscription.done.catch((error: unknown) => {
        if (stopping) return;
        if (!ever_caught_up) return failed_first(error);
        // Like the projector: stop at the event that failed, say which, and try it again (a fix may be deployed).
        options.logger?.error({ err: error, position: model.position.prepare.toString() }, 'radius model: following the log failed; answering from the last known state, retrying in 5 s');
        retry = setTimeout(follow, 5_000);
      });
    };
    follow();
    await first_catch_up;
    options.logger?.info({ position: model.position.prepare.toString(), events_applied: model.events_applied }, 'radius model: caught up');
  })();

  return {
    model,
    ready,
    loaded_from: () => source,
    reached: (position, timeout_ms) =>
      new Promise<void>((resolve, reject) => {
        if (comparePositions(model.position, position) >= 0) return resolve();
        const waiter = {
          position,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`the RADIUS model did not reach position ${position.prepare} within ${timeout_ms} ms`));
        }, timeout_ms);
        waiters.add(waiter);
      }),
    stop: async () => {
      stopping = true;
      if (retry !== null) clearTimeout(retry);
      await ready.catch(() => undefined);
      await subscription?.stop();
    },
  };
}

/** The live generation's rows and checkpoint, when its version is this code's; false otherwise. */
async function loadFromTables(pool: pg.Pool, model: RadiusModel, page_size: number): Promise<boolean> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const live = await client.query<{ schema_name: string; version: number; position_commit: string; position_prepare: string }>(
      `SELECT schema_name, version, position_commit, position_prepare FROM projection_generations WHERE name = $1 AND state = 'live'`,
      [model.projection.name],
    );
    const generation = live.rows[0];
    if (generation === undefined || generation.version !== model.projection.version) {
      await client.query('ROLLBACK');
      model.setPosition(START);
      return false;
    }
    for (const spec of model.projection.tables) await loadTable(client, generation.schema_name, spec, model, page_size);
    model.setPosition({ commit: BigInt(generation.position_commit), prepare: BigInt(generation.position_prepare) });
    await client.query('COMMIT');
    return true;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/**
 * Pages through a table in its rlm_sql order (serial id) or by key, so memory per round trip stays bounded.
 * The keyset columns are read back under aliases of their own (`page_0`, …) in their own type, so the ORDER BY
 * and the `>` of the next page compare the same values (the row itself is read as the handler sees it).
 */
async function loadTable(client: pg.PoolClient, schema: string, spec: TableSpec, model: RadiusModel, page_size: number): Promise<void> {
  const order = spec.serial_id !== undefined ? [spec.serial_id] : [...spec.key];
  const table = qualified(schema, spec.name);
  const keys = order.map((column, i) => `${table}.${column} AS page_${i}`).join(', ');
  const ordered = order.map((column) => `${table}.${column}`).join(', ');
  let after: readonly unknown[] | null = null;
  for (;;) {
    const where: string = after === null ? '' : `WHERE (${ordered}) > (${order.map((_, i) => `$${i + 1}`).join(', ')})`;
    const page: pg.QueryResult<Record<string, Row[string]>> = await client.query(
      `SELECT ${selectList(spec)}, ${keys} FROM ${table} ${where} ORDER BY ${ordered} LIMIT ${page_size}`,
      after === null ? [] : [...after],
    );
    for (const row of page.rows) {
      const copy: Record<string, Row[string]> = {};
      for (const column of Object.keys(spec.columns)) copy[column] = row[column] ?? null;
      model.load(spec.name, copy);
    }
    if (page.rows.length < page_size) return;
    const last = page.rows[page.rows.length - 1]!;
    after = order.map((_, i) => last[`page_${i}`]);
  }
}
