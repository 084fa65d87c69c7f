import { Migrator, type Kysely, type Migration, type MigrationProvider, type MigrationResultSet } from 'kysely';
import * as eventStore from './0001-event-store.js';
import * as streamSnapshots from './0002-stream-snapshots.js';
import * as appendFunction from './0003-append-function.js';
import * as projections from './0004-projections.js';
import * as radiusAccounting from './0005-radius-accounting.js';
import * as routerOutbox from './0006-router-outbox.js';
import * as apiAccess from './0007-api-access.js';
import * as notifications from './0008-notifications.js';
import * as gatewaySessions from './0009-gateway-sessions.js';
import * as hotspotPortal from './0010-hotspot-portal.js';

/** Every migration in order. Names sort by their numeric prefix; a new migration gets the next number. */
const migrations: Readonly<Record<string, Migration>> = {
  '0001-event-store': eventStore,
  '0002-stream-snapshots': streamSnapshots,
  '0003-append-function': appendFunction,
  '0004-projections': projections,
  '0005-radius-accounting': radiusAccounting,
  '0006-router-outbox': routerOutbox,
  '0007-api-access': apiAccess,
  '0008-notifications': notifications,
  '0009-gateway-sessions': gatewaySessions,
  '0010-hotspot-portal': hotspotPortal,
};

const provider: MigrationProvider = {
  getMigrations: async () => ({ ...migrations }),
};

export type MigrationReport = Readonly<{ applied: readonly string[] }>;

export class MigrationFailed extends Error {
  readonly code = 'MIGRATION_FAILED';
  constructor(readonly migration: string | null, readonly cause_error: unknown) {
    super(
      `migration ${migration ?? '(unknown)'} failed: ${cause_error instanceof Error ? cause_error.message : String(cause_error)}; ` +
        'nothing after it was applied — fix the cause and run `ispbills migrate` again',
    );
    this.name = 'MigrationFailed';
  }
}

export async function migrateToLatest(db: Kysely<unknown>): Promise<MigrationReport> {
  const migrator = new Migrator({ db, provider });
  const outcome: MigrationResultSet = await migrator.migrateToLatest();
  const failed = outcome.results?.find((result) => result.status === 'Error');
  if (outcome.error !== undefined) throw new MigrationFailed(failed?.migrationName ?? null, outcome.error);
  return { applied: (outcome.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName) };
}
