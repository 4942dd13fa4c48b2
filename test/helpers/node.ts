import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { makeConfig, type Config } from '../../src/config.js';
import { DEFAULT_PROJECT_ID, startNode, type NodeOverrides, type RunningNode } from '../../src/node.js';
import { createTestDatabase, type TestDatabase } from './database.js';

export const PROJECT = DEFAULT_PROJECT_ID;

export interface Reply<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

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
  close(): Promise<void>;
}

export async function request<T = any>(url: string, method: string, init: { body?: string | Buffer; headers?: Record<string, string> } = {}): Promise<Reply<T>> {
  const res = await fetch(url, { method, body: init.body as BodyInit | undefined, headers: init.headers });
  const text = await res.text();
  let body: any = undefined;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  return { status: res.status, headers: res.headers, body, text };
}

/**
 * A real node on a loopback port with a fresh store (a SQLite file, or a new PostgreSQL database in
 * the PostgreSQL pass); paths are relative to the default project's `cloud-phone`. Pass `database`
 * to reopen the store of an earlier node. Authentication is off unless `config.auth` asks for it.
 */
export async function startTestNode(config: Partial<Config> = {}, overrides: NodeOverrides = {}): Promise<TestNode> {
  const dataDir = config.dataDir ?? mkdtempSync(join(tmpdir(), 'opencph-test-'));
  const db: TestDatabase = config.database || config.dataDir ? { url: config.database, drop: async () => undefined } : await createTestDatabase();
  const node = await startNode(
    makeConfig({ host: '127.0.0.1', port: 0, simDelayMs: 0, logLevel: 'silent', sqliteSync: 'NORMAL', shutdownGraceMs: 2000, auth: 'off', ...config, dataDir, database: db.url }),
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
    async close() {
      await node.close();
      await db.drop();
      if (!config.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
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

/** Wait until every job of the request has finished; returns the jobs. */
export async function waitForRequest(t: Pick<TestNode, 'get'>, requestId: string, timeoutMs = 10_000): Promise<any[]> {
  return waitFor(async () => {
    const r = await t.get(`/jobs?request_id=${requestId}`);
    return r.body.jobs.every((j: any) => j.status !== 1) ? r.body.jobs : undefined;
  }, timeoutMs);
}

export async function phoneIds(t: Pick<TestNode, 'get'>): Promise<string[]> {
  const r = await t.get('/phones?limit=200');
  return r.body.phones.map((p: any) => p.phone_id).sort();
}

export async function servers(t: Pick<TestNode, 'get'>): Promise<any[]> {
  return (await t.get('/servers')).body.servers;
}
