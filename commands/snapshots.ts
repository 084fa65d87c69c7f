import type pg from 'pg';

export type Snapshot<State> = Readonly<{ revision: bigint; state: State }>;

export interface SnapshotStore {
  load<State>(stream_id: string, schema: string): Promise<Snapshot<State> | null>;
  save<State>(stream_id: string, schema: string, snapshot: Snapshot<State>): Promise<void>;
}

/** Snapshots in PostgreSQL beside the events; a newer snapshot never gives way to an older one. */
export class PostgresSnapshotStore implements SnapshotStore {
  constructor(private readonly pool: pg.Pool) {}

  async load<State>(stream_id: string, schema: string): Promise<Snapshot<State> | null> {
    const row = (
      await this.pool.query<{ revision: string; state: State }>({
        name: 'ispbills-load-snapshot',
        text: 'SELECT revision, state FROM stream_snapshots WHERE stream_id = $1 AND schema = $2',
        values: [stream_id, schema],
      })
    ).rows[0];
    return row === undefined ? null : { revision: BigInt(row.revision), state: row.state };
  }

  async save<State>(stream_id: string, schema: string, snapshot: Snapshot<State>): Promise<void> {
    await this.pool.query(
      `INSERT INTO stream_snapshots (stream_id, schema, revision, state) VALUES ($1, $2, $3, $4::jsonb)
       ON CONFLICT (stream_id) DO UPDATE SET schema = EXCLUDED.schema, revision = EXCLUDED.revision, state = EXCLUDED.state, taken_at = now()
       WHERE stream_snapshots.revision < EXCLUDED.revision OR stream_snapshots.schema <> EXCLUDED.schema`,
      [stream_id, schema, snapshot.revision.toString(), JSON.stringify(snapshot.state)],
    );
  }
}

/** No snapshots: every load folds the whole stream (KurrentDB deployments, and tests that want that). */
export const noSnapshots: SnapshotStore = {
  load: async () => null,
  save: async () => undefined,
};
