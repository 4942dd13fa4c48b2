import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DEFAULT_TIME_LIMITS } from '../../src/domain/limits.js';
import { androidState } from '../../src/engine/androidState.js';
import { phoneOf } from '../../src/engine/fleetView.js';
import { startVirtualDevices, type VirtualDevices } from '../../src/fleet/adbdevice/server.js';
import { addDevice, listDevices, removeDevice } from '../../src/store/devices.js';
import { lastEventSeq, readEvents } from '../../src/store/events.js';
import { getPhone } from '../../src/store/fleet.js';
import { newId } from '../../src/domain/ids.js';
import { freePort } from '../../src/runtime/net.js';
import { adbClient } from '../helpers/adb.js';
import { buildApk } from '../helpers/apk.js';
import { PROJECT, startTestNode, waitFor, waitForRequest, type TestNode } from '../helpers/node.js';
import { buildTar, putObject } from '../helpers/obs.js';

/** The adb fleet against virtual devices, through Debian's adb server on a port of this file's own. */
let t: TestNode;
let devices: VirtualDevices;
let adbPort = 0;
const work = mkdtempSync(join(tmpdir(), 'opencph-adbfleet-'));
/** Phones mapped to virtual devices: three on rack-1, one on rack-2. */
let phones: string[] = [];
let rack1 = '';


/** `count` consecutive ports free now, from a random base. */
async function freeRange(count: number): Promise<number> {
  for (;;) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    const servers: ReturnType<typeof createServer>[] = [];
    let ok = true;
    for (let i = 0; i < count && ok; i++) {
      const s = createServer();
      ok = await new Promise<boolean>((resolve) => {
        s.once('error', () => resolve(false));
        s.listen(base + i, '127.0.0.1', () => resolve(true));
      });
      if (ok) servers.push(s);
    }
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    if (ok) return base;
  }
}

const adb = adbClient(() => adbPort, work);

const statusOf = async (phoneId: string) => (await t.get(`/phones/${phoneId}`)).body.status as number;
const becomes = (phoneId: string, status: number) => waitFor(async () => ((await statusOf(phoneId)) === status ? true : undefined), 20_000, 100);

/** Run a batch and wait for its one job. */
async function job(path: string, body: unknown): Promise<any> {
  const r = await t.post(path, body);
  expect(r.status, r.text).toBe(200);
  const [j] = await waitForRequest(t, r.body.request_id, 30_000);
  return j;
}
const shell = (phoneId: string, content: string) => job('/phones/commands', { command: 'shell', content, phone_ids: [phoneId] });

beforeAll(async () => {
  adbPort = await freePort('127.0.0.1');
  expect((await adb(['start-server'])).code).toBe(0);
  t = await startTestNode({
    fleet: 'adb',
    adbServers: [`127.0.0.1:${adbPort}`],
    timeLimits: { ...DEFAULT_TIME_LIMITS, shell: 1500, operation: 20_000 },
  });
  const db = t.node.handle.db;
  const base = await freeRange(4);
  for (let i = 0; i < 4; i++) {
    const r = await addDevice(db, { projectId: PROJECT, serverName: i < 3 ? 'rack-1' : 'rack-2', serial: `127.0.0.1:${base + i}`, adbServer: `127.0.0.1:${adbPort}`, now: Date.now(), ids: newId });
    if (!r.ok) throw new Error(r.reason);
    phones.push(r.device.phone_id);
    rack1 ||= r.device.server_id;
  }
  const rows = await Promise.all(phones.map((id) => getPhone(db, PROJECT, id)));
  devices = await startVirtualDevices({
    state: androidState(db),
    phones: rows.map((r) => phoneOf(r!)),
    lookup: async (id) => {
      const row = await getPhone(db, PROJECT, id);
      return row && phoneOf(row);
    },
    basePort: base,
    rebootMs: 300,
    bootMs: 300,
  });
  for (const d of devices.devices) expect((await adb(['connect', d.serial])).stdout).toContain(`connected to ${d.serial}`);
  // Mapped before their devices listened, the phones may have turned abnormal; the watcher brings them back.
  for (const p of phones) await becomes(p, 2);
}, 60_000);

afterAll(async () => {
  await t?.close();
  await devices?.stop();
  await adb(['kill-server']);
  rmSync(work, { recursive: true, force: true });
});

describe('the fleet is declared', () => {
  test('serve --fleet adb seeds no simulated phone: the project holds the mapped devices, grouped into their servers', async () => {
    const listed = await t.get('/phones?limit=100');
    expect(listed.body.count).toBe(4);
    expect(listed.body.phones.map((p: any) => p.phone_name).sort()).toEqual(devices.devices.map((d) => d.serial.replace(/[.:]/g, '-')).sort());
    const servers = (await t.get('/servers')).body.servers.map((s: any) => [s.server_name, s.status]);
    expect(servers.sort()).toEqual([
      ['rack-1', 5],
      ['rack-2', 5],
    ]);
    const mapped = await listDevices(t.node.handle.db, PROJECT);
    expect(mapped.map((d) => d.serial)).toEqual(devices.devices.map((d) => d.serial));
  });

  test('a device already mapped is refused; an unmapped phone fails its jobs with CPS.0985', async () => {
    const db = t.node.handle.db;
    const again = await addDevice(db, { projectId: PROJECT, serverName: 'rack-1', serial: devices.devices[0]!.serial, adbServer: `127.0.0.1:${adbPort}`, now: Date.now(), ids: newId });
    expect(again).toMatchObject({ ok: false });
    const extra = await addDevice(db, { projectId: PROJECT, serverName: 'rack-2', serial: 'R58M123ABC', adbServer: `127.0.0.1:${adbPort}`, phoneName: 'usb-phone', now: Date.now(), ids: newId });
    if (!extra.ok) throw new Error(extra.reason);
    expect(await removeDevice(db, PROJECT, `127.0.0.1:${adbPort}`, 'R58M123ABC')).toBe(extra.device.phone_id);
    const j = await shell(extra.device.phone_id, 'echo hi');
    expect(j).toMatchObject({ status: -1, error_code: 'CPS.0985' });
  });
});

describe('every phone job runs on its device', () => {
  test('shell and sync shell: exit status and output', async () => {
    expect(await shell(phones[0]!, 'getprop ro.product.model')).toMatchObject({ status: 2, execute_msg: 'CPH-RX1\n' });
    const failed = await shell(phones[0]!, 'echo out; exit 3');
    expect(failed).toMatchObject({ status: -1, error_code: 'CPS.0902', execute_msg: 'out\n' });
    expect(failed.error_msg).toContain('status 3');
    const sync = await t.post('/phones/sync-commands', { command: 'shell', content: 'echo synced', phone_ids: [phones[1]] });
    expect(sync.status, sync.text).toBe(200);
    expect(sync.body.jobs[0]).toMatchObject({ status: 2, execute_msg: 'synced\n' });
  });

  test('install from OBS, then uninstall', async () => {
    const apk = putObject(t.node.config.obsDir, 'apps', 'demo.apk', buildApk({ packageName: 'com.example.fleet', versionCode: 2, versionName: '2.0' }));
    const installed = await job('/phones/commands', { command: 'install', content: `-t -r ${apk}`, phone_ids: [phones[0]] });
    expect(installed, JSON.stringify(installed)).toMatchObject({ status: 2 });
    expect(installed.execute_msg).toContain('Success');
    expect((await shell(phones[0]!, 'pm list packages -3')).execute_msg).toContain('package:com.example.fleet\n');
    const older = putObject(t.node.config.obsDir, 'apps', 'old.apk', buildApk({ packageName: 'com.example.fleet', versionCode: 1, versionName: '1.0' }));
    const refused = await job('/phones/commands', { command: 'install', content: older, phone_ids: [phones[0]] });
    expect(refused).toMatchObject({ status: -1, error_code: 'CPS.0902' });
    expect(refused.execute_msg).toContain('INSTALL_FAILED_VERSION_DOWNGRADE');
    const removed = await job('/phones/commands', { command: 'uninstall', content: 'com.example.fleet', phone_ids: [phones[0]] });
    expect(removed).toMatchObject({ status: 2 });
    expect((await shell(phones[0]!, 'pm list packages -3')).execute_msg).not.toContain('com.example.fleet');
  });

  test('install-multiple: a base APK and its splits in one install session, as one app; a split of another app is refused', async () => {
    const apk = (name: string, split?: string) =>
      putObject(t.node.config.obsDir, 'apps', `${name}${split ? `-${split}` : ''}.apk`, buildApk({ packageName: name, versionCode: 4, versionName: '4.0', ...(split ? { split } : {}) }));
    const parts = [apk('com.example.splits'), apk('com.example.splits', 'config.arm64_v8a'), apk('com.example.splits', 'config.xxhdpi')];
    const installed = await job('/phones/commands', { command: 'install-multiple', content: `-r ${parts.join(' ')}`, phone_ids: [phones[1]] });
    expect(installed, JSON.stringify(installed)).toMatchObject({ status: 2 });
    expect(installed.execute_msg).toMatch(/^Success: created install session \[\d+\]\n(Success: streamed \d+ bytes\n){3}Success\n$/);
    expect((await shell(phones[1]!, 'pm path com.example.splits')).execute_msg).toMatch(/^package:(\S+\/)base\.apk\npackage:\1split_config\.arm64_v8a\.apk\npackage:\1split_config\.xxhdpi\.apk\n$/);
    const refused = await job('/phones/commands', { command: 'install-multiple', content: `${parts[0]} ${apk('com.example.other', 'config.xxhdpi')}`, phone_ids: [phones[1]] });
    expect(refused).toMatchObject({ status: -1, error_code: 'CPS.0902' });
    expect(refused.execute_msg).toContain('Failure [INSTALL_FAILED_INVALID_APK: Split config.xxhdpi has inconsistent package name com.example.other]');
    // The copies staged for the package manager are gone either way.
    expect((await shell(phones[1]!, 'ls /data/local/tmp')).execute_msg ?? '').not.toContain('opencph-');
  });

  test('push: the tar is unpacked under the device root, file by file', async () => {
    const tar = putObject(t.node.config.obsDir, 'files', 'data.tar', await buildTar({ 'sdcard/Download/notes/': '', 'sdcard/Download/notes/a.txt': 'alpha\n', 'data/local/tmp/b.txt': 'beta\n' }));
    const pushed = await job('/phones/commands', { command: 'push', content: tar, phone_ids: [phones[1]] });
    expect(pushed, JSON.stringify(pushed)).toMatchObject({ status: 2 });
    expect(pushed.execute_msg).toMatch(/files? and \d+ director(y|ies) unpacked to \//);
    expect(await shell(phones[1]!, 'cat /sdcard/Download/notes/a.txt /data/local/tmp/b.txt')).toMatchObject({ status: 2, execute_msg: 'alpha\nbeta\n' });
  });

  test('property updates: only persist.* and debug.* reach a device, through setprop', async () => {
    const refused = await job('/phones/batch-update-property', { phones: [{ phone_id: phones[2], property: JSON.stringify({ 'ro.product.model': 'X' }) }] });
    expect(refused).toMatchObject({ status: -1, error_code: 'CPS.0988' });
    expect(refused.error_msg).toContain('ro.product.model');
    // The virtual device's shell has no setprop: that the command ran there shows in its answer.
    const ran = await job('/phones/batch-update-property', { phones: [{ phone_id: phones[2], property: JSON.stringify({ 'persist.sys.demo': '1' }) }] });
    expect(ran).toMatchObject({ status: -1, error_code: 'CPS.0902' });
    expect(ran.execute_msg).toContain('setprop');
  });

  test('stop: the phone is stopped (8) and refuses commands until a restart', async () => {
    expect(await job('/phones/batch-stop', { phone_ids: [phones[3]] })).toMatchObject({ status: 2 });
    expect(await statusOf(phones[3]!)).toBe(8);
    const refused = await shell(phones[3]!, 'echo hi');
    expect(refused).toMatchObject({ status: -1, error_code: 'CPS.0022' });
    expect(await job('/phones/batch-restart', { phones: [{ phone_id: phones[3] }] })).toMatchObject({ status: 2 });
    expect(await shell(phones[3]!, 'echo back')).toMatchObject({ status: 2, execute_msg: 'back\n' });
  });

  test('restart: the device reboots and the job ends once it has booted; the phone is running again', async () => {
    const j = await job('/phones/batch-restart', { phones: [{ phone_id: phones[2] }] });
    expect(j, JSON.stringify(j)).toMatchObject({ status: 2 });
    expect(await statusOf(phones[2]!)).toBe(2);
    expect(await shell(phones[2]!, 'getprop sys.boot_completed')).toMatchObject({ status: 2, execute_msg: '1\n' });
  });

  test('reset: the user-installed apps are removed and /sdcard wiped, then the device reboots; the job says what it did', async () => {
    const apk = putObject(t.node.config.obsDir, 'apps', 'resetme.apk', buildApk({ packageName: 'com.example.resetme', versionCode: 1, versionName: '1.0' }));
    expect(await job('/phones/commands', { command: 'install', content: `-r ${apk}`, phone_ids: [phones[2]] })).toMatchObject({ status: 2 });
    expect((await shell(phones[2]!, 'pm list packages -3')).execute_msg).toContain('package:com.example.resetme\n');
    const tar = putObject(t.node.config.obsDir, 'files', 'note.tar', await buildTar({ 'sdcard/note.txt': 'kept\n' }));
    expect(await job('/phones/commands', { command: 'push', content: tar, phone_ids: [phones[2]] })).toMatchObject({ status: 2 });
    expect((await shell(phones[2]!, 'ls /sdcard')).execute_msg).toContain('note.txt');
    const j = await job('/phones/batch-reset', { phones: [{ phone_id: phones[2] }] });
    expect(j, JSON.stringify(j)).toMatchObject({ status: 2 });
    expect(j.execute_msg).toContain('uninstall com.example.resetme: Success');
    expect(await statusOf(phones[2]!)).toBe(2);
    expect((await shell(phones[2]!, 'pm list packages -3')).execute_msg ?? '').not.toContain('com.example.resetme');
    expect((await shell(phones[2]!, 'ls /sdcard')).execute_msg ?? '').not.toContain('note.txt');
    expect(await shell(phones[2]!, 'getprop sys.boot_completed')).toMatchObject({ status: 2, execute_msg: '1\n' });
  });

  test('a server restart reboots each of its devices', async () => {
    const j = await job('/servers/batch-restart', { server_ids: [rack1] });
    expect(j, JSON.stringify(j)).toMatchObject({ status: 2 });
    const server = (await t.get('/servers')).body.servers.find((s: any) => s.server_id === rack1);
    expect(server.status).toBe(5);
    for (const p of phones.slice(0, 3)) expect(await statusOf(p)).toBe(2);
  });
});

describe('devices that misbehave', () => {
  test('a slow device past its time limit fails with CPS.0904', async () => {
    devices.slow(phones[1]!, 3000);
    try {
      expect(await shell(phones[1]!, 'echo late')).toMatchObject({ status: -1, error_code: 'CPS.0904' });
    } finally {
      devices.slow(phones[1]!, 0);
    }
  });

  test('a device killed mid-job: the job fails with CPS.0986 and the phone turns abnormal, then running when it is back', async () => {
    const r = await t.post('/phones/commands', { command: 'shell', content: 'echo started; sleep 1', phone_ids: [phones[0]] });
    expect(r.status).toBe(200);
    await waitFor(async () => ((await t.get(`/jobs?request_id=${r.body.request_id}`)).body.jobs[0]?.status === 1 ? true : undefined), 5000);
    await new Promise((res) => setTimeout(res, 300));
    await devices.kill(phones[0]!);
    const [j] = await waitForRequest(t, r.body.request_id, 20_000);
    expect(j, JSON.stringify(j)).toMatchObject({ status: -1, error_code: 'CPS.0986' });
    await becomes(phones[0]!, -7);
    await devices.revive(phones[0]!);
    await becomes(phones[0]!, 2);
    expect(await shell(phones[0]!, 'echo alive')).toMatchObject({ status: 2, execute_msg: 'alive\n' });
  });
});

describe('a device that goes away by itself, outside any job', () => {
  /**
   * The phone turns abnormal while its device is away, running once it is back and booted (read
   * from its status events: exactly these two, no flapping), and takes jobs again.
   */
  async function awayAndBack(phoneId: string, goAway: () => Promise<unknown>) {
    const db = t.node.handle.db;
    expect(await statusOf(phoneId)).toBe(2);
    const from = await lastEventSeq(db);
    await goAway();
    const trail = await waitFor(async () => {
      const events = await readEvents(db, { projectId: PROJECT, after: from, upTo: await lastEventSeq(db), types: ['phone.status'], limit: 100 });
      const statuses = events.filter((e) => e.phone_id === phoneId).map((e) => e.status);
      return statuses.at(-1) === 2 ? statuses : undefined;
    }, 20_000, 100);
    expect(trail).toEqual([-7, 2]);
    expect(await shell(phoneId, 'getprop sys.boot_completed')).toMatchObject({ status: 2, execute_msg: '1\n' });
  }
  const serialOf = (phoneId: string) => devices.devices.find((d) => d.phoneId === phoneId)!.serial;

  test('adb reboot run directly: abnormal while away, running when back (adb, which lists it offline, is made to connect again)', async () => {
    await awayAndBack(phones[3]!, () => adb(['-s', serialOf(phones[3]!), 'reboot']));
  });

  test('the device rebooting itself, briefly', async () => {
    await awayAndBack(phones[3]!, () => devices.reboot(phones[3]!));
  });

  test('adb drops a network device and would never connect it again: the watcher does', async () => {
    await awayAndBack(phones[3]!, () => adb(['disconnect', serialOf(phones[3]!)]));
  });
});
