import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, afterEach } from 'vitest';
import { makeConfig, type Config } from '../../src/config.js';
import { DEFAULT_PROJECT_ID, startNode, type NodeOverrides, type RunningNode } from '../../src/runtime/node.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { request, type Reply } from './http.js';

export const PROJECT = DEFAULT_PROJECT_ID;

export interface TestNode {
  node: RunningNode;
  url: string;
  /** `${url}/v1/<default project>/cloud-phone` */
  cph: string;
  dataDir: string;
  get<T = any>(path: string, headers?: Record<string, string>): Promise<Reply<T>>;
  post<T = any>(path: string, body: unknown, headers?: Record<string, string>): Promise<Reply<T>>;
  put<T = any>(path: string, body: unknown, headers?: Record<string, string>): Promise<Reply<T>>;
  send<T = any>(method: string, path: string, init?: { body?: string | Buffer; headers?: Record<string, string> }): Promise<Reply<T>>;
  /** Stop the node (jobs get `graceMs`, by default the config's grace); a data dir made for it is removed. */
  close(graceMs?: number): Promise<void>;
}

export function makeDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'opencph-test-'));
}

/** The store behind each data dir, so a node started again on the same dir finds its database again. */
const stores = new Map<string, TestDatabase>();

/** The suite's store for a data dir (a SQLite file in it, or a PostgreSQL database in that pass); made on first use. */
export async function storeOf(dataDir: string): Promise<string | undefined> {
  let store = stores.get(dataDir);
  if (!store) stores.set(dataDir, (store = await createTestDatabase()));
  return store.url;
}

/** Remove a data dir and drop its store. */
export async function removeDataDir(dir: string): Promise<void> {
  rmSync(dir, { recursive: true, force: true });
  const store = stores.get(dir);
  stores.delete(dir);
  await store?.drop();
}

/** Whatever a file left: every dir is tried, and the first failure is reported after. */
afterAll(async () => {
  const failures: unknown[] = [];
  for (const dir of [...stores.keys()]) await removeDataDir(dir).catch((err: unknown) => failures.push(err));
  if (failures.length > 0) throw failures[0];
});

/**
 * A real node on a loopback port with a fresh store (a SQLite file, or a new PostgreSQL database in
 * the PostgreSQL pass); paths are relative to the default project's `cloud-phone`. Give `dataDir`
 * (see makeDataDir) to start a node again on an earlier one's store: that dir is the caller's to
 * remove (removeDataDir, or at the end of the file). A node's close removes a data dir made for it,
 * with its store: close any node started on it (by `dataDir` or `database`) first. Authentication
 * is off unless `config.auth` asks for it.
 */
export async function startTestNode(config: Partial<Config> = {}, overrides: NodeOverrides = {}): Promise<TestNode> {
  const dataDir = config.dataDir ?? makeDataDir();
  const database = config.database ?? (await storeOf(dataDir));
  const node = await startNode(
    makeConfig({ host: '127.0.0.1', port: 0, simDelayMs: 0, logLevel: 'silent', sqliteSync: 'NORMAL', shutdownGraceMs: 2000, auth: 'off', ...config, dataDir, database }),
    { logger: pino({ level: config.logLevel ?? 'silent' }), ...overrides },
  );
  const cph = `${node.url}/v1/${PROJECT}/cloud-phone`;
  // '/phones…' is relative to the default project's cloud-phone; '/v1/…', '/docs' and others to the root.
  const CPH_RELATIVE = /^\/(phones|servers|jobs)\b/;
  const abs = (path: string) => (path.startsWith('http') ? path : CPH_RELATIVE.test(path) ? cph + path : node.url + path);
  const json = { 'content-type': 'application/json' };
  return {
    node,
    url: node.url,
    cph,
    dataDir,
    get: (path, headers) => request(abs(path), 'GET', { headers }),
    post: (path, body, headers) => request(abs(path), 'POST', { body: JSON.stringify(body), headers: { ...json, ...headers } }),
    put: (path, body, headers) => request(abs(path), 'PUT', { body: JSON.stringify(body), headers: { ...json, ...headers } }),
    send: (method, path, init) => request(abs(path), method, init),
    async close(graceMs) {
      await node.close(graceMs);
      if (!config.dataDir) await removeDataDir(dataDir);
    },
  };
}

/**
 * Nodes started through the returned function are closed after each test, last started first (a
 * node started on an earlier one's data dir is closed before that dir goes with the earlier one).
 */
export function nodesPerTest(defaults: Partial<Config> = {}): (config?: Partial<Config>) => Promise<TestNode> {
  const started: TestNode[] = [];
  afterEach(async () => {
    for (const t of started.splice(0).reverse()) await t.close();
  });
  return async (config = {}) => {
    const t = await startTestNode({ ...defaults, ...config });
    started.push(t);
    return t;
  };
}

/** Poll until `check` returns a value that is not undefined, or fail after `timeoutMs`. */
export async function waitFor<T>(check: () => Promise<T | undefined>, timeoutMs = 10_000, everyMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Wait until every job of the request has finished; returns the jobs. A request has at least one job: none is not "all finished". */
export async function waitForRequest(t: Pick<TestNode, 'get'>, requestId: string, timeoutMs = 15_000): Promise<any[]> {
  return waitFor(async () => {
    const r = await t.get(`/jobs?request_id=${requestId}`);
    if (r.status !== 200) throw new Error(`ListJobs answered ${r.status}: ${r.text}`);
    return r.body.jobs.length > 0 && r.body.jobs.every((j: any) => j.status !== 1) ? r.body.jobs : undefined;
  }, timeoutMs);
}

export async function phoneIds(t: Pick<TestNode, 'get'>): Promise<string[]> {
  const r = await t.get('/phones?limit=200');
  return r.body.phones.map((p: any) => p.phone_id).sort();
}

export async function servers(t: Pick<TestNode, 'get'>): Promise<any[]> {
  return (await t.get('/servers')).body.servers;
}
