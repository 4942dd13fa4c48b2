import { afterAll } from 'vitest';
import { startOpenCph, type OpenCph, type OpenCphOptions } from '../../src/index.js';
import { CphClient } from './cphClient.js';
import { createTestDatabase, STORE, type TestDatabase } from './database.js';

/** What the official SDK's CphClient needs, from a started server: its endpoint, key and project. */
export const sdkClient = (s: OpenCph): CphClient => new CphClient(s.endpoint, s.ak, s.sk, s.projectId);

/** The default project's phone ids, sorted, through the official SDK core. */
export async function phonesOf(s: OpenCph): Promise<string[]> {
  return (await sdkClient(s).listCloudPhones()).phones.map((p) => p.phone_id).sort();
}

const databases: TestDatabase[] = [];
afterAll(async () => {
  for (const d of databases.splice(0)) await d.drop();
});

/**
 * `startOpenCph` on the suite's store: in the PostgreSQL pass, on a fresh database of its own
 * (dropped at the end of the file); on SQLite, with the options' own `database` (default 'memory').
 */
export async function startOnSuiteStore(options: OpenCphOptions = {}): Promise<OpenCph> {
  if (STORE !== 'postgres' || options.database !== undefined) return startOpenCph(options);
  const d = await createTestDatabase();
  databases.push(d);
  return startOpenCph({ ...options, database: d.url });
}
