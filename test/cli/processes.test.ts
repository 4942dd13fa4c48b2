import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb } from '../../src/store/db.js';
import { startChild, type ChildNode } from '../helpers/child.js';
import { createTestDatabase, STORE, type TestDatabase } from '../helpers/database.js';
import { request } from '../helpers/http.js';
import { openStream } from '../helpers/sse.js';
import { waitFor, waitForRequest } from '../helpers/node.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** A GET on a connection of its own (new connections are what node:cluster hands out in turn). */
function getOnNewConnection(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { agent: false, headers: { connection: 'close' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The pids of the processes that logged a request line. */
const requestPids = (output: string) =>
  new Set(
    output
      .split('\n')
      .filter((l) => l.includes('"msg":"request"'))
      .map((l) => JSON.parse(l).pid as number),
  );

describe('serve --api-processes', () => {
  let store: TestDatabase;
  let dataDir: string;
  let group: ChildNode;
  const storeArgs = () => ['--data-dir', dataDir, ...(store.url ? ['--database', store.url] : [])];

  beforeAll(async () => {
    store = await createTestDatabase();
    dataDir = mkdtempSync(join(tmpdir(), 'opencph-processes-'));
    // An idle worker would look for jobs only once a minute: jobs that run at once were announced.
    group = await startChild([...storeArgs(), '--api-processes', '2', '--sim-delay', '0', '--poll', '60000', '--sqlite-sync', 'NORMAL']);
  });
  afterAll(async () => {
    if (group.proc.exitCode === null) group.proc.kill('SIGKILL');
    await group.exited;
    await store.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const apiPids = () => {
    const m = /processes: +2 API processes \(pids (\d+), (\d+)\); jobs run in this one \(pid (\d+)\)/.exec(group.output());
    expect(m, group.output()).not.toBeNull();
    return { api: [Number(m![1]), Number(m![2])], parent: Number(m![3]) };
  };

  it('answers on one port from two processes, and says which in the banner', async () => {
    const { api, parent } = apiPids();
    expect(parent).toBe(group.proc.pid);
    for (let i = 0; i < 20; i++) expect(await getOnNewConnection(`${group.url}/v1/0123456789abcdef0123456789abcdef/cloud-phone/phones`)).toBe(200);
    const pids = await waitFor(async () => {
      const seen = requestPids(group.output());
      return seen.size === 2 ? seen : undefined;
    }, 5_000);
    expect([...pids].sort()).toEqual([...api].sort());
  });

  // On SQLite nothing but the API process telling its parent wakes the worker within the test.
  it('runs the jobs an API process takes, at once (the parent is told, not polling)', async () => {
    const phones: string[] = (await group.get('/phones')).body.phones.map((p: any) => p.phone_id);
    const r = await group.post('/phones/batch-restart', { phones: phones.map((phone_id) => ({ phone_id })) });
    expect(r.status).toBe(200);
    const jobs = await waitForRequest(group, r.body.request_id, 10_000);
    expect(jobs.map((j) => j.status)).toEqual(phones.map(() => 2));
  });

  // Each API process has streams of its own; the events are written by the parent's worker.
  it('streams held by the API processes carry the events of the jobs their parent runs', async () => {
    const target = `${group.url}/_opencph/v1/0123456789abcdef0123456789abcdef/events?types=job.finished`;
    // New connections go to the API processes in turn: four reach both.
    const streams = await Promise.all([0, 1, 2, 3].map(() => openStream(target, { connection: 'close' })));
    try {
      expect(streams.map((s) => s.status)).toEqual([200, 200, 200, 200]);
      const phones: string[] = (await group.get('/phones')).body.phones.map((p: any) => p.phone_id);
      const r = await group.post('/phones/batch-restart', { phones: phones.map((phone_id) => ({ phone_id })) });
      expect(r.status).toBe(200);
      const jobIds = new Set(r.body.jobs.map((j: any) => j.job_id));
      for (const s of streams) {
        const finished = await s.waitFor(phones.length, (e) => jobIds.has(e.data.job_id));
        expect(finished.map((e) => e.data.status)).toEqual(phones.map(() => 2));
      }
    } finally {
      for (const s of streams) s.close();
    }
  });

  it('answers a sync command, whose jobs run in the parent', async () => {
    const phones: string[] = (await group.get('/phones')).body.phones.map((p: any) => p.phone_id);
    const r = await group.post('/phones/sync-commands', { command: 'shell', content: 'echo hello', phone_ids: phones.slice(0, 2) });
    expect(r.status, r.text).toBe(200);
    expect(r.body.jobs.map((j: any) => [j.status, j.execute_msg])).toEqual([
      [2, 'hello\n'],
      [2, 'hello\n'],
    ]);
  });

  // Nothing caches rules in a process: each submission and claim reads them in its own statements.
  it('a rule added or deleted through one API process applies to the next batch of every process', async () => {
    const project = '0123456789abcdef0123456789abcdef';
    const phones: string[] = (await group.get('/phones')).body.phones.map((p: any) => p.phone_id);
    // New connections go to the API processes in turn: two calls in a row reach both.
    const onNewConnection = (method: string, path: string, body?: unknown) =>
      request(`${group.url}${path}`, method, { body: body === undefined ? undefined : JSON.stringify(body), headers: { 'content-type': 'application/json', connection: 'close' } });
    const rules = `/_opencph/v1/${project}/rules`;
    const restart = async () => {
      const r = await onNewConnection('POST', `/v1/${project}/cloud-phone/phones/batch-restart`, { phones: [{ phone_id: phones[0] }] });
      expect(r.status, r.text).toBe(200);
      return r.body;
    };
    const refusing = await onNewConnection('POST', rules, { match: { operation: 'phone.restart' }, outcome: { refuse: { error_code: 'CPS.0022' } } });
    expect(refusing.status, refusing.text).toBe(200);
    for (let i = 0; i < 2; i++) expect((await restart()).jobs[0].error_code).toBe('CPS.0022');
    expect((await onNewConnection('DELETE', `${rules}/${refusing.body.rule.rule_id}`)).status).toBe(200);
    for (let i = 0; i < 2; i++) expect((await restart()).jobs[0].error_code).toBeUndefined();

    // The parent claims what the API processes took, and meets the rule one of them wrote.
    const failing = await onNewConnection('POST', rules, { match: { operation: 'phone.restart' }, outcome: { fail: { error_code: 'CPS.0023' } } });
    expect(failing.status, failing.text).toBe(200);
    for (let i = 0; i < 2; i++) expect((await waitForRequest(group, (await restart()).request_id, 10_000))[0]).toMatchObject({ status: -1, error_code: 'CPS.0023' });
    expect((await onNewConnection('DELETE', rules)).status).toBe(200);
    for (let i = 0; i < 2; i++) expect((await waitForRequest(group, (await restart()).request_id, 10_000))[0]).toMatchObject({ status: 2, error_code: '' });
  });

  it('replaces an API process that dies', async () => {
    const { api } = apiPids();
    process.kill(api[0]!, 'SIGKILL');
    await waitFor(async () => (/an API process exited; starting another/.test(group.output()) ? true : undefined), 10_000);
    const started = await waitFor(async () => {
      const lines = group.output().split('\n').filter((l) => l.includes('"role":"api"') && l.includes('"msg":"node started"'));
      return lines.length === 3 ? lines : undefined;
    }, 10_000);
    expect(JSON.parse(started[2]!).pid).not.toBe(api[0]);
    for (let i = 0; i < 6; i++) expect(await getOnNewConnection(`${group.url}/v1/0123456789abcdef0123456789abcdef/cloud-phone/phones`)).toBe(200);
  });

  it('keeps its port when every API process dies at once (the port was chosen with --port 0)', async () => {
    const apiStarted = () => group.output().split('\n').filter((l) => l.includes('"role":"api"') && l.includes('"msg":"node started"'));
    const live = apiStarted()
      .map((l) => JSON.parse(l).pid as number)
      .filter(isAlive);
    expect(live).toHaveLength(2);
    const before = apiStarted().length;
    for (const pid of live) process.kill(pid, 'SIGKILL');
    await waitFor(async () => (apiStarted().length === before + 2 ? true : undefined), 10_000);
    for (let i = 0; i < 6; i++) expect(await getOnNewConnection(`${group.url}/v1/0123456789abcdef0123456789abcdef/cloud-phone/phones`)).toBe(200);
  });

  it('on SIGTERM answers the call in flight, stops every process and leaves the store to the next start', async () => {
    const phones: string[] = (await group.get('/phones')).body.phones.map((p: any) => p.phone_id);
    const before = phones.length;
    const apiStarted = () => group.output().split('\n').filter((l) => l.includes('"role":"api"') && l.includes('"msg":"node started"')).map((l) => JSON.parse(l).pid as number);
    const live = apiStarted().filter(isAlive);
    expect(live).toHaveLength(2);
    const inFlight = group.post('/phones/sync-commands', { command: 'shell', content: 'sleep 1; echo done', phone_ids: [phones[0]] });
    // The call is taken (its job runs for a second) before the node is told to stop.
    const watcher = openDb({ url: store.url ?? join(dataDir, 'opencph.db') });
    try {
      await waitFor(async () => ((await watcher.db.selectFrom('jobs').select('seq').where('phone_id', '=', phones[0]!).where('state', '=', 'running').executeTakeFirst()) ? true : undefined), 10_000);
    } finally {
      await watcher.close();
    }
    group.proc.kill('SIGTERM');
    const answer = await inFlight;
    expect(answer.status, answer.text).toBe(200);
    expect(answer.body.jobs.map((j: any) => [j.status, j.execute_msg])).toEqual([[2, 'done\n']]);
    // The client is told the connection ends with this answer.
    expect(answer.headers['connection']).toBe('close');
    expect(await group.exited).toBe(0);
    for (const pid of live) expect(isAlive(pid)).toBe(false);
    // Each API process closed its node (it logs "stopped"), rather than being killed.
    const stopped = group.output().split('\n').filter((l) => l.includes('"msg":"stopped"')).map((l) => JSON.parse(l).pid as number);
    expect(stopped.sort(), group.output()).toEqual([...live, group.proc.pid!].sort());
    const next = await startChild([...storeArgs(), '--log-level', 'warn']);
    try {
      expect((await next.get('/phones')).body.phones).toHaveLength(before);
    } finally {
      next.proc.kill('SIGTERM');
      expect(await next.exited).toBe(0);
    }
  });
});

describe('serve --api-processes after its parent is killed', () => {
  it('the API processes stop on their own, and the next start takes over the store', async () => {
    const store = await createTestDatabase();
    const dataDir = mkdtempSync(join(tmpdir(), 'opencph-processes-'));
    const args = ['--data-dir', dataDir, ...(store.url ? ['--database', store.url] : [])];
    try {
      const group = await startChild([...args, '--api-processes', '2']);
      const m = /API processes \(pids (\d+), (\d+)\)/.exec(group.output());
      const api = [Number(m![1]), Number(m![2])];
      group.proc.kill('SIGKILL');
      await group.exited;
      await waitFor(async () => (api.every((pid) => !isAlive(pid)) ? true : undefined), 10_000);
      const next = await startChild([...args, '--log-level', 'warn']);
      next.proc.kill('SIGTERM');
      expect(await next.exited).toBe(0);
    } finally {
      await store.drop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('serve --api-processes when API processes keep dying', () => {
  it('gives up after more than five exits within a minute, with exit status 1', async () => {
    const store = await createTestDatabase();
    const dataDir = mkdtempSync(join(tmpdir(), 'opencph-processes-'));
    try {
      const group = await startChild(['--data-dir', dataDir, ...(store.url ? ['--database', store.url] : []), '--api-processes', '2']);
      const killed = new Set<number>();
      const started = () =>
        group
          .output()
          .split('\n')
          .filter((l) => l.includes('"role":"api"') && l.includes('"msg":"node started"'))
          .map((l) => JSON.parse(l).pid as number);
      for (let i = 0; i < 6; i++) {
        const pid = await waitFor(async () => started().find((p) => !killed.has(p)), 10_000);
        killed.add(pid);
        process.kill(pid, 'SIGKILL');
      }
      expect(await group.exited).toBe(1);
      expect(group.output()).toContain('API processes keep exiting; giving up');
      expect(group.output().match(/an API process exited; starting another/g)).toHaveLength(5);
      for (const pid of started()) expect(isAlive(pid)).toBe(false);
    } finally {
      await store.drop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('serve under another cluster primary (pm2 and the like)', () => {
  /** `opencph serve …args` forked by a plain node:cluster primary, as `pm2 -i` starts it. */
  function underAnotherPrimary(dataDir: string, args: string[]) {
    const script = `
      const cluster = require('node:cluster');
      cluster.setupPrimary({ execArgv: [], exec: ${JSON.stringify(CLI)}, args: ${JSON.stringify(['serve', '--host', '127.0.0.1', '--port', '0', '--auth', 'off', '--sim-delay', '0', '--data-dir', dataDir, ...args])} });
      const worker = cluster.fork();
      process.on('SIGTERM', () => worker.process.kill('SIGTERM'));
      worker.on('exit', (code) => process.exit(code));`;
    const proc = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout.on('data', (d) => (out += d));
    proc.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => proc.on('exit', resolve));
    return { proc, exited, output: () => out };
  }

  it('is a whole node of its own, not an API process', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'opencph-processes-'));
    const child = underAnotherPrimary(dataDir, []);
    try {
      const url = await waitFor(async () => /listening on (http:\/\/\S+)/.exec(child.output())?.[1], 20_000);
      expect(child.output()).not.toContain('processes:');
      const cph = `${url}/v1/0123456789abcdef0123456789abcdef/cloud-phone`;
      const phones = (await request(`${cph}/phones`, 'GET')).body.phones.map((p: any) => ({ phone_id: p.phone_id }));
      expect(phones.length).toBeGreaterThan(0);
      const r = await request(`${cph}/phones/batch-restart`, 'POST', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ phones }) });
      // It runs its own jobs (an API process would leave them to a parent that is not there).
      const jobs = await waitForRequest({ get: (path) => request(`${cph}${path}`, 'GET') }, r.body.request_id, 10_000);
      expect(jobs.map((j) => [j.phone_id, j.status])).toEqual(phones.map((p: any) => [p.phone_id, 2]));
    } finally {
      child.proc.kill('SIGTERM');
      expect(await child.exited).toBe(0);
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('refuses --api-processes there: the other primary starts the processes', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'opencph-processes-'));
    try {
      const child = underAnotherPrimary(dataDir, ['--api-processes', '2']);
      expect(await child.exited).toBe(1);
      expect(child.output()).toContain('--api-processes cannot start processes from a process that another cluster primary');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe.runIf(STORE === 'postgres')('serve --role api --api-processes on PostgreSQL', () => {
  it('runs plain API nodes under a parent that runs no jobs', async () => {
    const store = await createTestDatabase();
    try {
      const group = await startChild(['--data-dir', '/tmp/opencph-processes-unused', '--database', store.url!, '--role', 'api', '--api-processes', '2']);
      expect(group.output()).toMatch(/processes: +2 API processes \(pids \d+, \d+\)\n/);
      expect((await group.get('/phones')).status).toBe(200);
      group.proc.kill('SIGTERM');
      expect(await group.exited).toBe(0);
    } finally {
      await store.drop();
    }
  });
});

describe('serve --api-processes refuses what it cannot run', () => {
  const refused = async (args: string[]) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'opencph-processes-'));
    try {
      const child = startChild(['--data-dir', dataDir, '--api-processes', '2', ...args]);
      await expect(child).rejects.toThrow(/exited before listening/);
      return (await child.catch((err: Error) => err.message)) as string;
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  };

  it('with --role worker (nothing would answer HTTP)', async () => {
    expect(await refused(['--role', 'worker'])).toContain('--api-processes needs a role that answers HTTP');
  });

  it.runIf(STORE === 'sqlite')('with --role api on SQLite (nothing would run the jobs)', async () => {
    expect(await refused(['--role', 'api'])).toContain('with SQLite, --api-processes needs --role all');
  });

  it('a count that is not a whole number, or "auto"', async () => {
    expect(await refused(['--api-processes', 'two'])).toContain('--api-processes must be a whole number ≥ 1');
  });
});
