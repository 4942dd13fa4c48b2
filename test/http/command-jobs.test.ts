import { expect, test } from 'vitest';
import { Operations } from '../../src/engine/operations.js';
import { makeDataDir, nodesPerTest, PROJECT, waitFor, waitForRequest, type TestNode } from '../helpers/node.js';

const start = nodesPerTest({ servers: 1, phonesPerServer: 3 });

/**
 * How many runs of a batch `sleep` on every phone of the node's one server overlapped at most, as
 * the simulated fleet's journal recorded them.
 */
async function mostAtOnce(node: TestNode, seconds: number): Promise<number> {
  const server = (await node.get('/servers')).body.servers[0].server_id;
  const r = await node.post('/phones/commands', { command: 'shell', content: `sleep ${seconds}`, server_ids: [server] });
  const jobs = await waitForRequest(node, r.body.request_id);
  expect(jobs.map((j) => j.status)).toEqual([2, 2, 2]);
  const runs = await node.node.handle.db.selectFrom('sim_runs').select(['started_at', 'ended_at']).where('job_id', 'in', jobs.map((j) => j.job_id)).execute();
  expect(runs).toHaveLength(3);
  return Math.max(...runs.map((run) => runs.filter((other) => other.started_at < run.ended_at! && run.started_at < other.ended_at!).length));
}

test('batch adb work on one server runs one phone at a time', async () => {
  expect(await mostAtOnce(await start({ simJournal: true }), 0.3)).toBe(1);
});

test('--server-adb-concurrency lets more run at once', async () => {
  expect(await mostAtOnce(await start({ simJournal: true, serverAdbConcurrency: 3 }), 0.3)).toBe(3);
});

test('a sync command that could not start before its call ended fails instead of running late', async () => {
  const node = await start();
  const phone = (await node.get('/phones')).body.phones[0].phone_id;
  const params = { command: { command: 'shell', script: 'echo ran' }, notAfter: Date.now() - 1 };
  const submitted = await node.node.engine.submitPhones(node.node.engine.deps.ids(), PROJECT, Operations.shell, [{ phoneId: phone, params }]);
  const [job] = await waitForRequest(node, submitted.requestId);
  expect(job).toMatchObject({ status: -1, error_code: 'CPS.0904', error_msg: "The command timed out. The call's time ran out before the command could start.", execute_msg: '' });
});

test('a shell command cut off by a shutdown fails for good instead of running again', async () => {
  const dataDir = makeDataDir();
  const node = await start({ dataDir });
  const phone = (await node.get('/phones')).body.phones[0].phone_id;
  const r = await node.post('/phones/commands', { command: 'shell', content: 'echo once; sleep 30', phone_ids: [phone] });
  // Cut off once it runs: a job still queued at shutdown would simply run on the next start.
  await waitFor(async () => {
    const job = await node.node.handle.db.selectFrom('jobs').select(['state', 'attempts']).where('request_id', '=', r.body.request_id).executeTakeFirst();
    return job?.state === 'running' && job.attempts === 1 ? true : undefined;
  });
  await node.close(0);
  const again = await start({ dataDir });
  const [job] = await waitForRequest(again, r.body.request_id);
  expect(job).toMatchObject({ status: -1, error_code: 'CPS.0003' });
  expect(job.error_msg).toContain('it may already have had its effect on the phone');
});
