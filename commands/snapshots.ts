import type pg from 'pg';

export type Snapshot<State> = Readonly<{ revision: bigint; state: State }>;

export interface SnapshotStore {
  /** Several at once, one query: the snapshots found, by stream id. */
  loadMany(requests: readonly Readonly<{ stream_id: string; schema: string }>[]): Promise<ReadonlyMap<string, Snapshot<unknown>>>;
  save<State>(stream_id: string, schema: string, snapshot: Snapshot<State>): Promise<void>;
}

/** Snapshots in PostgreSQL beside the events; a newer snapshot never gives way to an older one. */
export class PostgresSnapshotStore implements SnapshotStore {
  constructor(private readonly pool: pg.Pool) {}

  async loadMany(requests: readonly Readonly<{ stream_id: string; schema: string }>[]): Promise<ReadonlyMap<string, Snapshot<unknown>>> {
    if (requests.length === 0) return new Map();
    const rows = (
      await this.pool.query<{ stream_id: string; revision: string; state: unknown }>({
        name: 'ispbills-load-snapshots',
        text: `SELECT s.stream_id, s.revision, s.state FROM unnest($1::text[], $2::text[]) AS wanted(stream_id, schema)
               JOIN stream_snapshots s ON s.stream_id = wanted.stream_id AND s.schema = wanted.schema`,
        values: [requests.map((r) => r.stream_id), requests.map((r) => r.schema)],
      })
    ).rows;
    return new Map(rows.map((row) => [row.stream_id, { revision: BigInt(row.revision), state: row.state }]));
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
  loadMany: async () => new Map(),
  save: async () => undefined,
};
