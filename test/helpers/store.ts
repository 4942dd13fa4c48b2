import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { buildFleet, type SeedFleet } from '../../src/store/seed.js';
import { ensureCatalogue } from '../../src/store/catalogue.js';
import { openDb, type DbHandle } from '../../src/store/db.js';
import { insertEncodeServers } from '../../src/store/encodeServers.js';
import { insertPhones, insertServers } from '../../src/store/fleet.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { insertProject } from '../../src/store/projects.js';
import { makeDataDir, PROJECT, removeDataDir, storeOf } from './node.js';

export interface FleetStore {
  /** The open store (SQLite file or PostgreSQL database, as the suite's pass says). */
  h: DbHandle;
  /** Its URL, to open a second connection to it. */
  url: string;
  /** The default project's fleet: 2 servers of 3 phones. */
  fleet: SeedFleet;
}

/** Migrate an open store and give it the default project with a fleet of 2 servers of 3 phones. */
export async function seedFleetStore(h: DbHandle): Promise<SeedFleet> {
  await migrateToLatest(h.db);
  const fleet = buildFleet(PROJECT, 2, 3, Date.now());
  await insertProject(h.db, { project_id: PROJECT, name: 'p', created_at: 0 });
  await ensureCatalogue(h.db);
  await insertServers(h.db, fleet.servers);
  await insertPhones(h.db, fleet.phones);
  await insertEncodeServers(h.db, fleet.encodeServers);
  return fleet;
}

/** For each test of the calling file: a fresh migrated store with the default project and its fleet. */
export function useFleetStore(): FleetStore {
  const s = {} as FleetStore;
  let dir: string;
  beforeEach(async () => {
    dir = makeDataDir();
    s.url = (await storeOf(dir)) ?? join(dir, 'opencph.db');
    s.h = openDb({ url: s.url });
    s.fleet = await seedFleetStore(s.h);
  });
  afterEach(async () => {
    await s.h.close();
    await removeDataDir(dir);
  });
  return s;
}
