import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChild, type ChildNode } from '../helpers/child.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { waitFor } from '../helpers/node.js';

describe('durability', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'opencph-durability-'));
  const children: ChildNode[] = [];
  let store: TestDatabase;
  beforeAll(async () => {
    store = await createTestDatabase();
  });
  afterAll(async () => {
    for (const c of children) c.proc.kill('SIGKILL');
    await store.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('loses no job when the server is killed with SIGKILL mid-run', async () => {
    // SQLite recovers at once on restart (the data dir is ours); on PostgreSQL the dead node's leases must run out.
    const args = ['--data-dir', dataDir, '--sim-delay', '150', '--log-level', 'warn', '--servers', '2', '--phones-per-server', '4', '--lease', '1500'];
    if (store.url) args.push('--database', store.url);
    const a = await startChild(args);
    children.push(a);
    const phones: string[] = (await a.get('/phones')).body.phones.map((p: any) => p.phone_id);
    const servers: string[] = (await a.get('/servers')).body.servers.map((s: any) => s.server_id);
    const requests = [
      await a.post('/phones/batch-restart', { phones: phones.map((phone_id) => ({ phone_id })) }),
      await a.post('/phones/batch-reset', { phones: phones.map((phone_id) => ({ phone_id, property: '{"k":"v"}' })) }),
      await a.post('/phones/batch-stop', { phone_ids: phones }),
      await a.post('/servers/batch-restart', { server_ids: servers }),
    ];
    const submitted = requests.flatMap((r) => r.body.jobs.map((j: any) => j.job_id)).sort();
    expect(submitted).toHaveLength(3 * phones.length + servers.length);
    const ids = requests.map((r) => r.body.request_id).join(',');

    // Kill it while phones are mid-operation.
    await waitFor(async () => ((await a.get('/phones?status=4')).body.count > 0 ? true : undefined), 10_000, 5);
    expect((await a.get(`/jobs?request_ids=${ids}`)).body.jobs.some((j: any) => j.status === 1)).toBe(true);
    a.proc.kill('SIGKILL');
    expect(await a.exited).toBe('SIGKILL');

    const b = await startChild(args);
    children.push(b);
    const jobs = await waitFor(async () => {
      const list = (await b.get(`/jobs?request_ids=${ids}`)).body.jobs;
      return list.every((j: any) => j.status !== 1) ? list : undefined;
    }, 30_000, 50);
    expect(jobs.map((j: any) => j.job_id).sort()).toEqual(submitted);
    expect(jobs.filter((j: any) => j.status !== 2)).toEqual([]);
    // The last operation, the server restart, left every phone running with the reset's property.
    const after = (await b.get('/phones')).body.phones;
    expect(after.map((p: any) => p.status)).toEqual(phones.map(() => 2));
    expect(JSON.parse((await b.get(`/phones/${phones[0]}`)).body.property)).toEqual({ k: 'v' });
    expect(b.output()).toMatch(store.url ? /interrupted jobs settled/ : /recovering them/);

    b.proc.kill('SIGTERM');
    expect(await b.exited).toBe(0);
  });
});
