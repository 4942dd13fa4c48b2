import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, test } from 'vitest';
import { nodesPerTest, PROJECT, type TestNode } from '../helpers/node.js';
import { serialOf } from '../../src/fleet/sim/android.js';

/** Each test gets its own node, so its own project-wide call count. */
const start = nodesPerTest();

async function phoneIds(node: TestNode): Promise<string[]> {
  return (await node.get('/phones?limit=100')).body.phones.map((p: any) => p.phone_id);
}

const sync = (node: TestNode, body: unknown) => node.post('/phones/sync-commands', body);

describe('sync commands', () => {
  test('answer each job inline, and record it for ListJobs and ShowJob', async () => {
    const node = await start();
    const ids = (await phoneIds(node)).slice(0, 3);
    const r = await sync(node, { command: 'shell', content: 'getprop ro.serialno && pm list packages -3', phone_ids: ids });
    expect(r.status).toBe(200);
    expect(r.headers['x-request-id']).toBe(r.body.request_id);
    expect(r.body.jobs).toHaveLength(3);
    for (const [i, job] of r.body.jobs.entries()) {
      expect(job).toEqual({ phone_id: ids[i], job_id: expect.any(String), status: 2, error_code: '', error_msg: '', execute_msg: `${serialOf(ids[i]!)}\n` });
    }
    const listed = await node.get(`/jobs?request_id=${r.body.request_id}`);
    expect(listed.body.jobs.map((j: any) => [j.job_id, j.status, j.execute_msg])).toEqual(r.body.jobs.map((j: any) => [j.job_id, 2, j.execute_msg]));
    const shown = await node.get(`/jobs/${r.body.jobs[0].job_id}`);
    expect(shown.body).toMatchObject({ status: 2, phone_id: ids[0] });
  });

  test('a failing command and a bad phone answer inline with their codes', async () => {
    const node = await start();
    const [id] = await phoneIds(node);
    const r = await sync(node, { command: 'shell', content: 'cat /nope', phone_ids: [id, 'f'.repeat(32)] });
    expect(r.body.jobs).toEqual([
      { phone_id: id, job_id: expect.any(String), status: -1, error_code: 'CPS.0902', error_msg: 'The command on the phone failed. It exited with status 1.', execute_msg: 'cat: /nope: No such file or directory\n' },
      { phone_id: 'f'.repeat(32), job_id: expect.any(String), status: -1, error_code: 'CPS.0005', error_msg: 'Phone is not found.', execute_msg: '' },
    ]);
  });

  test('shell only: another command answers 400 CPS.0117', async () => {
    const node = await start();
    const [id] = await phoneIds(node);
    for (const command of ['install', 'push', 'reboot']) {
      const r = await sync(node, { command, content: 'obs://apps/a.apk', phone_ids: [id] });
      expect(r.status).toBe(400);
      expect(r.body.error_code).toBe('CPS.0117');
    }
  });

  test('at most 15 phones per call, whether listed or reached through servers', async () => {
    const node = await start({ servers: 1, phonesPerServer: 16 });
    const ids = await phoneIds(node);
    const listed = await sync(node, { command: 'shell', content: 'id', phone_ids: ids });
    expect(listed.status).toBe(400);
    expect(listed.body).toMatchObject({ error_code: 'CPS.0034', error_msg: 'Parameter: phone_ids is invalid. At most 15 phones per call.' });
    const server = (await node.get('/servers')).body.servers[0].server_id;
    const viaServer = await sync(node, { command: 'shell', content: 'id', server_ids: [server] });
    expect(viaServer.status).toBe(400);
    expect(viaServer.body.error_msg).toBe('Parameter: server_ids is invalid. These servers have 16 phones; at most 15 per call.');
    const fifteen = await sync(node, { command: 'shell', content: 'id', phone_ids: ids.slice(0, 15) });
    expect(fifteen.status).toBe(200);
    expect(fifteen.body.jobs.every((j: any) => j.status === 2)).toBe(true);
  });

  test('a command still running after 2 s fails with CPS.0904 and what it printed', async () => {
    const node = await start();
    const [id] = await phoneIds(node);
    const began = Date.now();
    const r = await sync(node, { command: 'shell', content: 'echo started; sleep 10; echo never', phone_ids: [id] });
    const took = Date.now() - began;
    expect(r.body.jobs[0]).toMatchObject({ status: -1, error_code: 'CPS.0904', error_msg: 'The command timed out. It ran longer than 2 s.', execute_msg: 'started\n' });
    expect(took).toBeGreaterThanOrEqual(1900);
    expect(took).toBeLessThan(8000);
  });

  test('the 2 s limit holds when garbage collections run while the command does', async () => {
    // The same as starting node with --expose-gc: a full collection on demand.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const node = await start();
    const [id] = await phoneIds(node);
    const call = sync(node, { command: 'shell', content: 'echo started; sleep 600; echo never', phone_ids: [id] });
    let answered = false;
    void call.finally(() => (answered = true));
    while (!answered) {
      gc();
      await new Promise((r) => setTimeout(r, 50));
    }
    expect((await call).body.jobs[0]).toMatchObject({ status: -1, error_code: 'CPS.0904', error_msg: 'The command timed out. It ran longer than 2 s.', execute_msg: 'started\n' });
  });

  test('at most 6 calls per minute per project: the 7th answers 429 CPS.0901', async () => {
    const node = await start();
    const [id] = await phoneIds(node);
    for (let i = 0; i < 6; i++) expect((await sync(node, { command: 'shell', content: 'true', phone_ids: [id] })).status).toBe(200);
    const r = await sync(node, { command: 'shell', content: 'true', phone_ids: [id] });
    expect(r.status).toBe(429);
    expect(r.body).toEqual({ request_id: expect.any(String), error_code: 'CPS.0901', error_msg: expect.stringMatching(/^Too many sync commands\. At most 6 calls per minute per project; try again in \d+ s\.$/) });
    expect(Number(r.headers['retry-after'])).toBeGreaterThan(50);
    // Async commands are not limited.
    expect((await node.post('/phones/commands', { command: 'shell', content: 'true', phone_ids: [id] })).status).toBe(200);
  });

  test('the engine runs the flow: its calls count against the same limit as HTTP calls', async () => {
    const node = await start();
    const [id] = await phoneIds(node);
    const engine = node.node.engine;
    for (let i = 0; i < 6; i++) {
      const r = await engine.runSyncCommand(engine.deps.ids(), PROJECT, { command: 'shell', script: 'echo hi' }, { phoneIds: [id!] });
      expect(r).toMatchObject({ ok: true, jobs: [{ phone_id: id, status: 2, error_code: '', error_msg: '', execute_msg: 'hi\n' }] });
    }
    const refused = await engine.runSyncCommand(engine.deps.ids(), PROJECT, { command: 'shell', script: 'echo hi' }, { phoneIds: [id!] });
    expect(refused).toMatchObject({ ok: false, error: { code: 'CPS.0901' } });
    expect((await sync(node, { command: 'shell', content: 'true', phone_ids: [id] })).status).toBe(429);
  });
});
