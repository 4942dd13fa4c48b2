import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import * as m001 from './migrations/001_init.js';
import * as m002 from './migrations/002_android.js';
import * as m003 from './migrations/003_identity.js';
import * as m004 from './migrations/004_cluster.js';
import * as m005 from './migrations/005_job_indexes.js';

/** Migrations are plain ordered modules, listed here so they ship inside the build. */
const migrations: Record<string, Migration> = {
  '001_init': m001,
  '002_android': m002,
  '003_identity': m003,
  '004_cluster': m004,
  '005_job_indexes': m005,
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider,
    migrationTableName: 'opencph_migrations',
    migrationLockTableName: 'opencph_migrations_lock',
    // Numbers are reserved per branch, so a database may have met a later one before an earlier existed.
    allowUnorderedMigrations: true,
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
