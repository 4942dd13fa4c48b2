import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach } from 'vitest';
import { makeConfig, type Config } from '../../src/config.js';
import { DEFAULT_PROJECT_ID, startNode, type NodeOverrides, type RunningNode } from '../../src/node.js';

export const PROJECT = DEFAULT_PROJECT_ID;

export interface TestNode extends RunningNode {
  dataDir: string;
  /** `/v1/{project}/cloud-phone` on this node. */
  base: string;
}

/** A fresh data directory, removed by `removeDataDir`. */
export function makeDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'opencph-test-'));
}

export function removeDataDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** A real node on a loopback port with a SQLite file in `dataDir` (a new temp dir by default). */
export async function startTestNode(config: Partial<Config> = {}, overrides: NodeOverrides = {}): Promise<TestNode> {
  const dataDir = config.dataDir ?? makeDataDir();
  const node = await startNode(
    makeConfig({ port: 0, servers: 2, phonesPerServer: 3, simDelayMs: 0, pollMs: 50, logLevel: 'silent', ...config, dataDir }),
    { logger: pino({ level: 'silent' }), ...overrides },
  );
  return { ...node, dataDir, base: `${node.url}/v1/${PROJECT}/cloud-phone` };
}

/**
 * Start nodes per test: each one started through the returned function is closed, and its data
 * directory removed, after the test.
 */
export function nodesPerTest(defaults: Partial<Config> = {}): (config?: Partial<Config>) => Promise<TestNode> {
  const started: TestNode[] = [];
  afterEach(async () => {
    for (const n of started.splice(0)) {
      await n.close();
      removeDataDir(n.dataDir);
    }
  });
  return async (config = {}) => {
    const node = await startTestNode({ ...defaults, ...config });
    started.push(node);
    return node;
  };
}

export interface Answer<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export async function call<T = any>(method: string, url: string, body?: unknown): Promise<Answer<T>> {
  const res = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

/** Poll ListJobs until every job of the request has finished; returns them. */
export async function waitForRequest(node: TestNode, requestId: string, timeoutMs = 15_000): Promise<any[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await call('GET', `${node.base}/jobs?request_id=${requestId}`);
    if (r.status !== 200) throw new Error(`ListJobs answered ${r.status}: ${JSON.stringify(r.body)}`);
    if (r.body.jobs.every((j: { status: number }) => j.status !== 1)) return r.body.jobs;
    if (Date.now() > deadline) throw new Error(`request ${requestId} did not finish: ${JSON.stringify(r.body.jobs)}`);
    await new Promise((res) => setTimeout(res, 20));
  }
}
