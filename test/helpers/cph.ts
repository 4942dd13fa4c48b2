import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import type { Config } from '../../src/config.js';
import type { NodeOverrides, RunningNode } from '../../src/node.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { PROJECT, request, startTestNode as startNodeForTest, waitForRequest as waitForRequestAt } from './node.js';

/**
 * The node handle the command tests use: the running node itself plus its `cloud-phone` base URL,
 * built on `startTestNode` (so it runs on each store of the suite).
 */
export { PROJECT };

export interface TestNode extends RunningNode {
  dataDir: string;
  /** `/v1/{project}/cloud-phone` on this node. */
  base: string;
}

export function makeDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'opencph-test-'));
}

/** The store behind each data dir, so a node restarted on the same dir finds its database again. */
const stores = new Map<string, TestDatabase>();

export async function removeDataDir(dir: string): Promise<void> {
  rmSync(dir, { recursive: true, force: true });
  const store = stores.get(dir);
  stores.delete(dir);
  await store?.drop();
}

export async function startTestNode(config: Partial<Config> = {}, overrides: NodeOverrides = {}): Promise<TestNode> {
  const dataDir = config.dataDir ?? makeDataDir();
  let store = stores.get(dataDir);
  if (!store) {
    store = await createTestDatabase();
    stores.set(dataDir, store);
  }
  const t = await startNodeForTest({ servers: 2, phonesPerServer: 3, pollMs: 50, ...config, dataDir, database: store.url }, overrides);
  return { ...t.node, dataDir, base: t.cph };
}

/** Nodes started through the returned function are closed, and their data directories removed, after each test. */
export function nodesPerTest(defaults: Partial<Config> = {}): (config?: Partial<Config>) => Promise<TestNode> {
  const started: TestNode[] = [];
  afterEach(async () => {
    // Close every node before removing any store: a node restarted on the same data dir shares it.
    const nodes = started.splice(0);
    for (const n of nodes) await n.close();
    for (const dir of new Set(nodes.map((n) => n.dataDir))) await removeDataDir(dir);
  });
  return async (config = {}) => {
    const node = await startTestNode({ ...defaults, ...config });
    started.push(node);
    return node;
  };
}

export async function call<T = any>(method: string, url: string, body?: unknown) {
  return request<T>(url, method, { headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
}

export function waitForRequest(node: TestNode, requestId: string, timeoutMs = 15_000): Promise<any[]> {
  return waitForRequestAt({ get: (path) => request(`${node.base}${path}`, 'GET') }, requestId, timeoutMs);
}
