import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import type { DbHandle } from './db.js';
import * as m001 from './migrations/001_init.js';
import * as m002 from './migrations/002_android.js';
import * as m003 from './migrations/003_identity.js';
import * as m004 from './migrations/004_cluster.js';
import * as m005 from './migrations/005_job_indexes.js';
import * as m006 from './migrations/006_job_list_json.js';
import * as m007 from './migrations/007_job_items.js';
import * as m008 from './migrations/008_user_lockout.js';
import * as m009 from './migrations/009_catalogue.js';
import * as m010 from './migrations/010_server_lifecycle.js';
import * as m011 from './migrations/011_images.js';
import * as m012 from './migrations/012_encode_servers.js';
import * as m013 from './migrations/013_shared_storage.js';
import * as m014 from './migrations/014_tags.js';
import * as m015 from './migrations/015_server_faults.js';
import * as m016 from './migrations/016_rules.js';
import * as m017 from './migrations/017_clock.js';
import * as m018 from './migrations/018_snapshots.js';
import * as m019 from './migrations/019_events.js';
import * as m020 from './migrations/020_rule_counts_and_held_jobs.js';
import * as m021 from './migrations/021_devices.js';
import * as m022 from './migrations/022_requests_by_project.js';

/** Migrations are plain ordered modules, listed here so they ship inside the build. */
const migrations: Record<string, Migration> = {
  '001_init': m001,
  '002_android': m002,
  '003_identity': m003,
  '004_cluster': m004,
  '005_job_indexes': m005,
  '006_job_list_json': m006,
  '007_job_items': m007,
  '008_user_lockout': m008,
  '009_catalogue': m009,
  '010_server_lifecycle': m010,
  '011_images': m011,
  '012_encode_servers': m012,
  '013_shared_storage': m013,
  '014_tags': m014,
  '015_server_faults': m015,
  '016_rules': m016,
  '017_clock': m017,
  '018_snapshots': m018,
  '019_events': m019,
  '020_rule_counts_and_held_jobs': m020,
  '021_devices': m021,
  '022_requests_by_project': m022,
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  return migrate(db, (m) => m.migrateToLatest());
}

/** Up to and including `name`: how a test builds a store as an older release left it. */
export async function migrateUpTo(db: Kysely<any>, name: string): Promise<string[]> {
  return migrate(db, (m) => m.migrateTo(name));
}

async function migrate(db: Kysely<any>, run: (m: Migrator) => ReturnType<Migrator['migrateToLatest']>): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider,
    migrationTableName: 'opencph_migrations',
    migrationLockTableName: 'opencph_migrations_lock',
    // Numbers are reserved per branch, so a database may have met a later one before an earlier existed.
    allowUnorderedMigrations: true,
  });
  const { error, results } = await run(migrator);
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** Advisory lock key (PostgreSQL) for start-up: migrating and seeding. */
const STARTUP_LOCK = 0x0c9c1a2;

/** Nodes starting together on one PostgreSQL take turns to migrate and seed. */
export async function withStartupLock(handle: DbHandle, fn: () => Promise<void>): Promise<void> {
  if (handle.dialect !== 'postgres') return fn();
  await handle.db.connection().execute(async (conn) => {
    await sql`select pg_advisory_lock(${STARTUP_LOCK})`.execute(conn);
    try {
      await fn();
    } finally {
      await sql`select pg_advisory_unlock(${STARTUP_LOCK})`.execute(conn);
    }
  });
}
