import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DEFAULT_TIME_LIMITS } from '../../src/domain/limits.js';
import { newId } from '../../src/domain/ids.js';
import { androidState } from '../../src/engine/androidState.js';
import { phoneOf } from '../../src/engine/fleetView.js';
import { startVirtualDevices, type VirtualDevices } from '../../src/fleet/adbdevice/server.js';
import { freePort } from '../../src/runtime/net.js';
import { addDevice } from '../../src/store/devices.js';
import { getPhone } from '../../src/store/fleet.js';
import { adbClient } from '../helpers/adb.js';
import { startChild } from '../helpers/child.js';
import { captureLog } from '../helpers/log.js';
import { makeDataDir, PROJECT, removeDataDir, startTestNode, storeOf, waitFor, waitForRequest, type TestNode } from '../helpers/node.js';

/**
 * `serve --fleet adb` pointed at an adb server that does not answer: the node starts and says so,
 * jobs fail with CPS.0990 and the phone shows abnormal, and once an adb server listens on that port
 * the fleet works again without a restart. OpenCPH starts no adb server itself.
 */
let t: TestNode;
let adbPort = 0;
let phoneId = '';
let devices: VirtualDevices | undefined;
const work = mkdtempSync(join(tmpdir(), 'opencph-adbdown-'));
const log = captureLog('info');
const adb = adbClient(() => adbPort, work);

const statusOf = async () => (await t.get(`/phones/${phoneId}`)).body.status as number;
async function shell(content: string): Promise<any> {
  const r = await t.post('/phones/commands', { command: 'shell', content, phone_ids: [phoneId] });
  expect(r.status, r.text).toBe(200);
  return (await waitForRequest(t, r.body.request_id, 20_000))[0];
}
/** Whether anything takes connections on the adb server's port. */
const listening = () =>
  new Promise<boolean>((resolve) => {
    const s = connect(adbPort, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

beforeAll(async () => {
  adbPort = await freePort('127.0.0.1');
  t = await startTestNode(
    { fleet: 'adb', adbServers: [`127.0.0.1:${adbPort}`], timeLimits: { ...DEFAULT_TIME_LIMITS, shell: 3000, operation: 20_000 } },
    { logger: log.logger },
  );
  const r = await addDevice(t.node.handle.db, { projectId: PROJECT, serverName: 'rack-1', serial: `127.0.0.1:${await freePort('127.0.0.1')}`, adbServer: `127.0.0.1:${adbPort}`, now: Date.now(), ids: newId });
  if (!r.ok) throw new Error(r.reason);
  phoneId = r.device.phone_id;
});

afterAll(async () => {
  await t?.close();
  await devices?.stop();
  await adb(['kill-server']);
  rmSync(work, { recursive: true, force: true });
});

describe('the adb server does not answer', () => {
  test('nothing listens on its port: the node serves, its log says what is wrong and what to do, and nothing starts an adb server', async () => {
    expect((await t.get('/phones')).status).toBe(200);
    const said = await waitFor(async () => log.lines.find((l) => l.includes('does not answer')), 10_000, 50);
    const line = JSON.parse(said);
    expect(line).toMatchObject({ level: 40, adbServer: `127.0.0.1:${adbPort}`, reason: `connect ECONNREFUSED 127.0.0.1:${adbPort}` });
    expect(line.msg).toContain(`adb -P ${adbPort} start-server`);
    expect(line.msg).toContain('CPS.0990');
    // Said once, not at every look.
    await new Promise((r) => setTimeout(r, 1500));
    expect(log.lines.filter((l) => l.includes('does not answer'))).toHaveLength(1);
    // adbkit would run `adb start-server` on a refused connection; OpenCPH leaves that to the user.
    expect(await listening()).toBe(false);
  });

  test('opencph serve --fleet adb, the built CLI, starts all the same and logs it', async () => {
    const dataDir = makeDataDir();
    const database = await storeOf(dataDir);
    const child = await startChild(['--fleet', 'adb', '--adb-server', `127.0.0.1:${adbPort}`, '--data-dir', dataDir, ...(database ? ['--database', database] : [])]);
    try {
      expect((await child.get('/phones')).status).toBe(200);
      expect(await waitFor(async () => (child.output().includes(`the adb server 127.0.0.1:${adbPort} does not answer (connect ECONNREFUSED`) ? true : undefined), 10_000, 50)).toBe(true);
      expect(await listening()).toBe(false);
    } finally {
      child.proc.kill('SIGTERM');
      await child.exited;
      await removeDataDir(dataDir);
    }
  });

  test('a job fails at once with CPS.0990 saying which adb server and how to start it; the phone shows abnormal', async () => {
    const j = await shell('echo hi');
    expect(j).toMatchObject({ status: -1, error_code: 'CPS.0990' });
    expect(j.error_msg).toBe(`The adb server of the device does not answer. 127.0.0.1:${adbPort}: connect ECONNREFUSED 127.0.0.1:${adbPort}. Start it on that host (adb -P ${adbPort} start-server).`);
    await waitFor(async () => ((await statusOf()) === -7 ? true : undefined), 10_000, 100);
    // Abnormal, the phone still says why its jobs cannot run.
    expect(await shell('echo again')).toMatchObject({ status: -1, error_code: 'CPS.0990' });
    expect(await listening()).toBe(false);
  });

  test('something on the port that closes every connection: CPS.0990, it closed the connection', async () => {
    const closer: Server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => closer.listen(adbPort, '127.0.0.1', resolve));
    try {
      const j = await shell('echo hi');
      expect(j).toMatchObject({ status: -1, error_code: 'CPS.0990' });
      expect(j.error_msg).toContain(`127.0.0.1:${adbPort}: it closed the connection.`);
    } finally {
      await new Promise((resolve) => closer.close(resolve));
    }
  });

  test('something on the port that takes connections and never answers: a job ends at its time limit; the watcher gives up on each question after 5 s and says so', async () => {
    const held: Socket[] = [];
    const silent: Server = createServer((socket) => void held.push(socket));
    await new Promise<void>((resolve) => silent.listen(adbPort, '127.0.0.1', resolve));
    try {
      // A job does not wait past its time limit (3 s here) for the adb server's 5 s.
      expect(await shell('echo hi')).toMatchObject({ status: -1, error_code: 'CPS.0904' });
      await waitFor(async () => (log.lines.some((l) => l.includes(`does not answer (no answer within 5 s)`)) ? true : undefined), 20_000, 100);
    } finally {
      for (const socket of held) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  test('an adb server comes up on that port: without a restart the device is connected, the phone runs and takes jobs', async () => {
    const db = t.node.handle.db;
    const row = (await getPhone(db, PROJECT, phoneId))!;
    const serial = (await db.selectFrom('devices').select('serial').where('phone_id', '=', phoneId).executeTakeFirstOrThrow()).serial;
    expect((await adb(['start-server'])).code).toBe(0);
    await waitFor(async () => (log.lines.some((l) => l.includes(`the adb server 127.0.0.1:${adbPort} answers again`)) ? true : undefined), 10_000, 100);
    // The server answers, the device is not there yet: the abnormal phone says so.
    const early = await shell('echo early');
    expect(early).toMatchObject({ status: -1, error_code: 'CPS.0986' });
    expect(early.error_msg).toContain(`Device ${serial} is not listed on 127.0.0.1:${adbPort}; phone ${phoneId} is abnormal (status -7) until it is back.`);
    devices = await startVirtualDevices({ state: androidState(db), phones: [phoneOf(row)], basePort: Number(serial.split(':')[1]), rebootMs: 300, bootMs: 300 });
    await waitFor(async () => ((await statusOf()) === 2 ? true : undefined), 20_000, 100);
    // The watcher connected the device: nobody else did.
    expect((await adb(['devices'])).stdout).toMatch(new RegExp(`^${serial.replace(/\./g, '\\.')}\\s+device$`, 'm'));
    expect(await shell('echo back')).toMatchObject({ status: 2, execute_msg: 'back\n' });
  });
});
