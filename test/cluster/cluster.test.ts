import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChild, type ChildNode } from '../helpers/child.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { waitFor, waitForRequest } from '../helpers/node.js';

/** Several nodes on one PostgreSQL: API nodes take requests, worker nodes run the jobs. */
describe('a cluster on one PostgreSQL', () => {
  let store: TestDatabase;
  let client: pg.Client;
  const children: ChildNode[] = [];
  const base = (extra: string[]) => ['--log-level', 'warn', '--database', store.url!, '--data-dir', '/tmp/opencph-cluster-unused', ...extra];
  const api = (extra: string[] = []) => startChild(base(['--role', 'api', '--servers', '5', '--phones-per-server', '20', ...extra]));
  const worker = (extra: string[] = []) => startChild(base(['--role', 'worker', '--sim-delay', '4', '--sim-journal', '--lease', '1500', '--concurrency', '24', '--poll', '100', ...extra]));

  beforeAll(async () => {
    store = await createTestDatabase();
    client = new pg.Client({ connectionString: store.url });
  });
  afterAll(async () => {
    for (const c of children) c.proc.kill('SIGKILL');
    await Promise.all(children.map((c) => c.exited));
    await client.end().catch(() => undefined);
    await store.drop();
  });

  it('runs 2,000 jobs from two API nodes on two workers, one killed midway: none lost, none run twice at once, per-phone order kept', { timeout: 180_000 }, async () => {
    // The first node migrates and seeds; the others start together and find it done.
    const api1 = await api();
    children.push(api1);
    const [api2, w1, w2] = await Promise.all([api(), worker(), worker()]);
    children.push(api2!, w1!, w2!);
    await client.connect();

    const phones: string[] = (await api1.get('/phones?limit=200')).body.phones.map((p: any) => p.phone_id);
    expect(phones).toHaveLength(100);
    // stop, restart, stop, restart…: a job run out of order on its phone would fail.
    const requestIds: string[] = [];
    let killedAt = 0;
    for (let i = 0; i < 20; i++) {
      const node = i % 2 === 0 ? api1 : api2!;
      const r = i % 2 === 0 ? await node.post('/phones/batch-stop', { phone_ids: phones }) : await node.post('/phones/batch-restart', { phones: phones.map((phone_id) => ({ phone_id })) });
      expect(r.status).toBe(200);
      expect(r.body.jobs.every((j: any) => !j.error_code)).toBe(true);
      requestIds.push(r.body.request_id);
      if (i === 9) {
        // Let w1 get busy, then kill it mid-run.
        await waitFor(async () => {
          const { rows } = await client.query(`select count(*)::int n from jobs where state = 'running' and lease_owner like $1`, [`${w1!.proc.pid}-%`]);
          return rows[0].n > 0 ? true : undefined;
        }, 20_000, 10);
        w1!.proc.kill('SIGKILL');
        expect(await w1!.exited).toBe('SIGKILL');
        killedAt = Date.now();
      }
    }

    const t0 = Date.now();
    await waitFor(async () => {
      const r = await client.query(`select count(*)::int n from jobs where status = 1`);
      if (process.env.DEBUG_CLUSTER) console.log(Date.now() - t0, JSON.stringify((await client.query(`select state, lease_owner, min(attempts) a0, max(attempts) a1, count(*)::int n from jobs where state <> 'done' group by 1, 2`)).rows));
      return r.rows[0].n === 0 ? r : undefined;
    }, 120_000, 200);

    // Every job, through either API node, ended and succeeded.
    const { rows: jobs } = await client.query(`select job_id, phone_id, seq, status, request_id from jobs order by seq`);
    expect(jobs).toHaveLength(2000);
    expect(jobs.filter((j) => j.status !== 2)).toEqual([]);
    const listed = await Promise.all(requestIds.slice(0, 2).map((id, i) => (i ? api2! : api1).get(`/jobs?request_id=${id}`)));
    expect(listed.every((l) => l.body.jobs.length === 100 && l.body.jobs.every((j: any) => j.status === 2))).toBe(true);

    // The simulated driver journaled every execution.
    const { rows: runs } = await client.query(`select job_id, worker, phone_id, started_at::float8 s, ended_at::float8 e from sim_runs order by run_id`);
    const byJob = new Map<string, any[]>();
    for (const r of runs) byJob.set(r.job_id, [...(byJob.get(r.job_id) ?? []), r]);
    expect(byJob.size).toBe(2000);
    const w1Prefix = `${w1!.proc.pid}-`;
    expect(runs.some((r) => r.worker.startsWith(w1Prefix))).toBe(true);
    expect(runs.some((r) => !r.worker.startsWith(w1Prefix))).toBe(true);
    for (const [jobId, list] of byJob) {
      // A run completed, and the surviving worker completed it at most once. (The killed worker may
      // have completed a run whose finish it never committed; the job then ran again elsewhere.)
      expect(list.some((r) => r.e !== null), jobId).toBe(true);
      expect(list.filter((r) => r.e !== null && !r.worker.startsWith(w1Prefix)).length, jobId).toBeLessThanOrEqual(1);
      const spans = list.map((r) => ({ s: r.s, e: r.e ?? killedAt })).sort((a, b) => a.s - b.s);
      for (let i = 1; i < spans.length; i++) expect(spans[i]!.s, `job ${jobId} ran twice at once`).toBeGreaterThanOrEqual(spans[i - 1]!.e);
    }
    // On each phone, completed runs happened in submission order and never overlapped.
    const seqOf = new Map(jobs.map((j) => [j.job_id, Number(j.seq)]));
    const byPhone = new Map<string, any[]>();
    for (const r of runs.filter((r) => r.e !== null)) byPhone.set(r.phone_id, [...(byPhone.get(r.phone_id) ?? []), r]);
    expect(byPhone.size).toBe(100);
    for (const [phone, list] of byPhone) {
      list.sort((a, b) => a.s - b.s);
      const seqs = list.map((r) => seqOf.get(r.job_id)!);
      expect(seqs, `phone ${phone}`).toEqual([...seqs].sort((a, b) => a - b));
      for (let i = 1; i < list.length; i++) expect(list[i].s, `phone ${phone}`).toBeGreaterThanOrEqual(list[i - 1].e);
    }
    expect((await api2!.get('/phones?status=2&limit=200')).body.count).toBe(100);
  });

  it('a worker stopped with SIGTERM leaves no job at status 1: it finishes or hands back its work', async () => {
    const apiNode = children[0]!;
    // Only the slow worker below may take the next jobs.
    const idle = children[3]!;
    idle.proc.kill('SIGTERM');
    expect(await idle.exited).toBe(0);
    const slow = await worker(['--sim-delay', '300', '--shutdown-grace', '200', '--concurrency', '50']);
    children.push(slow);
    const phones: string[] = (await apiNode.get('/phones?limit=200')).body.phones.map((p: any) => p.phone_id);
    const r = await apiNode.post('/phones/batch-reset', { phones: phones.slice(0, 60).map((phone_id) => ({ phone_id })) });
    const prefix = `${slow.proc.pid}-%`;
    await waitFor(async () => {
      const { rows } = await client.query(`select count(*)::int n from jobs where state = 'running' and lease_owner like $1`, [prefix]);
      return rows[0].n > 0 ? true : undefined;
    }, 20_000, 10);
    slow.proc.kill('SIGTERM');
    expect(await slow.exited).toBe(0);
    // Nothing is left leased to the stopped worker: its jobs were finished or put back in the queue.
    const { rows: held } = await client.query(`select count(*)::int n from jobs where lease_owner like $1`, [prefix]);
    expect(held[0].n).toBe(0);
    expect(slow.output()).toMatch(/interrupted jobs settled/);
    const { rows: pending } = await client.query(`select count(*)::int n from jobs where request_id = $1 and state = 'pending'`, [r.body.request_id]);
    expect(pending[0].n).toBeGreaterThan(0);
    // Another worker takes the handed-back jobs and finishes them.
    children.push(await worker());
    const jobs = await waitForRequest(apiNode, r.body.request_id, 60_000);
    expect(jobs.filter((j: any) => j.status !== 2)).toEqual([]);
  });
});
