import { expect, test } from 'vitest';
import { call, nodesPerTest, waitForRequest, type TestNode } from '../helpers/node.js';

const start = nodesPerTest({ servers: 1, phonesPerServer: 3 });

/** How long a batch `sleep` on every phone of the node's one server takes. */
async function batchSleep(node: TestNode, seconds: number): Promise<number> {
  const server = (await call('GET', `${node.base}/servers`)).body.servers[0].server_id;
  const began = Date.now();
  const r = await call('POST', `${node.base}/phones/commands`, { command: 'shell', content: `sleep ${seconds}`, server_ids: [server] });
  const jobs = await waitForRequest(node, r.body.request_id);
  expect(jobs.map((j) => j.status)).toEqual([2, 2, 2]);
  return Date.now() - began;
}

test('batch adb work on one server runs one phone at a time', async () => {
  expect(await batchSleep(await start(), 0.5)).toBeGreaterThanOrEqual(1500);
});

test('--server-adb-concurrency lets more run at once', async () => {
  expect(await batchSleep(await start({ serverAdbConcurrency: 3 }), 0.5)).toBeLessThan(1400);
});
