import { expect, test } from 'vitest';
import { DEFAULT_TIME_LIMITS } from '../../src/domain/limits.js';
import type { Driver } from '../../src/fleet/driver.js';
import { nodesPerTest, startTestNode, waitForRequest } from '../helpers/node.js';

const start = nodesPerTest({ servers: 1, phonesPerServer: 2 });

async function phoneIds(node: Awaited<ReturnType<typeof start>>): Promise<string[]> {
  return (await node.get('/phones')).body.phones.map((p: any) => p.phone_id);
}

test('an async shell past its limit fails with CPS.0904 and its output, and frees its phone and its server', async () => {
  const node = await start({ timeLimits: { ...DEFAULT_TIME_LIMITS, shell: 500 } });
  const [a, b] = await phoneIds(node);
  // 2147484 s is past what one timer takes: the limit, not the sleep, ends it.
  const hung = await node.post('/phones/commands', { command: 'shell', content: 'echo started; sleep 2147484; echo never', phone_ids: [a] });
  const samePhone = await node.post('/phones/commands', { command: 'shell', content: 'echo next', phone_ids: [a] });
  // One adb job at a time per server: this one waits for the server's slot.
  const sameServer = await node.post('/phones/commands', { command: 'shell', content: 'echo beside', phone_ids: [b] });
  expect(await waitForRequest(node, hung.body.request_id)).toMatchObject([
    { status: -1, error_code: 'CPS.0904', error_msg: 'The command timed out. It ran longer than 0.5 s.', execute_msg: 'started\n' },
  ]);
  expect(await waitForRequest(node, samePhone.body.request_id)).toMatchObject([{ status: 2, execute_msg: 'next\n' }]);
  expect(await waitForRequest(node, sameServer.body.request_id)).toMatchObject([{ status: 2, execute_msg: 'beside\n' }]);
});

test("each kind has its own limit: an uninstall past its own fails, a push under its own is not cut by the shell's", async () => {
  const node = await start({ simDelayMs: 300, timeLimits: { ...DEFAULT_TIME_LIMITS, shell: 100, uninstall: 200 } });
  const [a] = await phoneIds(node);
  // The simulated uninstall takes one delay (300 ms), past its 200 ms limit.
  const uninstall = await node.post('/phones/commands', { command: 'uninstall', content: 'com.example.none', phone_ids: [a] });
  expect(await waitForRequest(node, uninstall.body.request_id)).toMatchObject([{ status: -1, error_code: 'CPS.0904', error_msg: 'The command timed out. It ran longer than 0.2 s.' }]);
  const push = await node.post('/phones/commands', { command: 'push', content: 'obs://bucket/none.tar', phone_ids: [a] });
  // Not the time limit: the missing object is what fails it.
  expect(await waitForRequest(node, push.body.request_id)).toMatchObject([{ status: -1, error_code: 'CPS.0903' }]);
});

test('a restart past its limit fails with CPS.0904 and leaves the phone "restart failed", from which it may stop', async () => {
  const node = await start({ simDelayMs: 200, timeLimits: { ...DEFAULT_TIME_LIMITS, operation: 500 } });
  const [a] = await phoneIds(node);
  // A restart takes three delays (600 ms), a stop two (400 ms).
  const r = await node.post('/phones/batch-restart', { phones: [{ phone_id: a }] });
  expect(await waitForRequest(node, r.body.request_id)).toMatchObject([{ status: -1, error_code: 'CPS.0904', error_msg: 'The command timed out. It ran longer than 0.5 s.' }]);
  expect((await node.get(`/phones/${a}`)).body.status).toBe(-6);
  const stop = await node.post('/phones/batch-stop', { phone_ids: [a] });
  expect(await waitForRequest(node, stop.body.request_id)).toMatchObject([{ status: 2 }]);
  expect((await node.get(`/phones/${a}`)).body.status).toBe(8);
});

test('a server restart past its limit leaves the server abnormal and its phones "restart failed"', async () => {
  const node = await start({ simDelayMs: 100, timeLimits: { ...DEFAULT_TIME_LIMITS, operation: 300 } });
  const server = (await node.get('/servers')).body.servers[0].server_id;
  // A server restart takes eight delays (800 ms).
  const r = await node.post('/servers/batch-restart', { server_ids: [server] });
  expect(await waitForRequest(node, r.body.request_id)).toMatchObject([{ status: -1, error_code: 'CPS.0904' }]);
  expect((await node.get('/servers')).body.servers[0].status).toBe(2);
  expect((await node.get('/phones')).body.phones.map((p: any) => p.status)).toEqual([-6, -6]);
});

test('a driver that ignores its limit is left behind a second later: the job fails and the phone takes its next job', async () => {
  // A backend whose device never answers, and which does not listen to its signal either.
  const unresponsive: Driver = { name: 'unresponsive', run: () => new Promise(() => undefined) };
  const node = await startTestNode({ servers: 1, phonesPerServer: 1, timeLimits: { ...DEFAULT_TIME_LIMITS, shell: 300 } }, { driver: unresponsive });
  try {
    const [a] = await phoneIds(node);
    const first = await node.post('/phones/commands', { command: 'shell', content: 'echo one', phone_ids: [a] });
    const second = await node.post('/phones/commands', { command: 'shell', content: 'echo two', phone_ids: [a] });
    for (const r of [first, second]) {
      expect(await waitForRequest(node, r.body.request_id)).toMatchObject([{ status: -1, error_code: 'CPS.0904', error_msg: 'The command timed out. It ran longer than 0.3 s.', execute_msg: '' }]);
    }
  } finally {
    await node.close();
  }
});
