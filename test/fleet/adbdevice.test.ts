import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { clockAt, systemClock } from '../../src/domain/time.js';
import { androidState } from '../../src/engine/androidState.js';
import { phoneOf } from '../../src/engine/fleetView.js';
import { startVirtualDevices, type VirtualDevices } from '../../src/fleet/adbdevice/server.js';
import { SimPhone } from '../../src/fleet/sim/android.js';
import { runShell } from '../../src/fleet/sim/shell.js';
import { getPhone } from '../../src/store/fleet.js';
import { buildApk } from '../helpers/apk.js';
import { PROJECT, startTestNode, waitForRequest, type TestNode } from '../helpers/node.js';

/** Debian's adb, with a server of this file's own on a free port. */
interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let t: TestNode;
/** How far the devices' clock is ahead of the system's (boot_completed follows it). */
let clockShift = 0;
let devices: VirtualDevices;
let adbPort = 0;
let phoneIds: string[];
const work = mkdtempSync(join(tmpdir(), 'opencph-adb-'));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

function adb(args: string[], timeoutMs = 20_000): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile('adb', ['-P', String(adbPort), ...args], { timeout: timeoutMs, encoding: 'utf8', env: { ...process.env, ADB_VENDOR_KEYS: work, HOME: work } }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : -1) : 0;
      resolve({ code, stdout, stderr });
    });
    child.stdin?.end();
  });
}

/** adb on one device. */
const on = (serial: string, ...args: string[]) => adb(['-s', serial, ...args]);

async function simPhone(phoneId: string): Promise<SimPhone> {
  const row = (await getPhone(t.node.handle.db, PROJECT, phoneId))!;
  const state = androidState(t.node.handle.db);
  return new SimPhone(state, phoneOf(row), await state.image(row.image_id), systemClock);
}

/** Poll (each try at most a second apart) until `check` holds or 15 s pass. */
async function eventually(check: () => Promise<boolean>): Promise<boolean> {
  for (let i = 0; i < 60; i++) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

/** Drop adb's stale transport to a device and connect again; true once it is a `device`. */
async function reconnected(serial: string): Promise<boolean> {
  await adb(['disconnect', serial]);
  return (await adb(['connect', serial])).stdout.startsWith('connected to') && (await stateOf(serial)) === 'device';
}

const stateOf = async (serial: string) => (await on(serial, 'get-state')).stdout.trim();

beforeAll(async () => {
  t = await startTestNode();
  const db = t.node.handle.db;
  const rows = await db.selectFrom('phones').selectAll().orderBy('phone_id').limit(2).execute();
  phoneIds = rows.map((r) => r.phone_id);
  devices = await startVirtualDevices({
    state: androidState(db),
    phones: rows.map(phoneOf),
    lookup: async (id) => {
      const row = await getPhone(db, PROJECT, id);
      return row && phoneOf(row);
    },
    clock: clockAt(() => Date.now() + clockShift),
    rebootMs: 300,
    bootMs: 60_000,
  });
  adbPort = await freePort();
  expect((await adb(['start-server'])).code).toBe(0);
  for (const d of devices.devices) expect((await adb(['connect', d.serial])).stdout).toContain(`connected to ${d.serial}`);
}, 60_000);

afterAll(async () => {
  await adb(['kill-server']);
  await devices?.stop();
  await t?.close();
  rmSync(work, { recursive: true, force: true });
});

const serial = () => devices.devices[0]!.serial;

describe('connecting', () => {
  test('adb devices lists every virtual device as a device, with its model', async () => {
    const r = await adb(['devices', '-l']);
    for (const d of devices.devices) expect(r.stdout).toMatch(new RegExp(`^${d.serial.replace(/\./g, '\\.')}\\s+device .*model:CPH_RX1`, 'm'));
    expect(devices.devices.map((d) => d.phoneId)).toEqual(phoneIds);
  });
});

describe('shell', () => {
  test('getprop answers the phone\'s properties', async () => {
    expect((await on(serial(), 'shell', 'getprop', 'ro.product.model')).stdout).toBe('CPH-RX1\n');
    const serialno = (await simPhone(phoneIds[0]!)).serial;
    expect((await on(serial(), 'shell', 'getprop ro.serialno')).stdout).toBe(`${serialno}\n`);
  });

  test('the shell protocol carries the exit status', async () => {
    expect(await on(serial(), 'shell', 'echo', 'hi')).toMatchObject({ code: 0, stdout: 'hi\n' });
    expect((await on(serial(), 'shell', 'exit 3')).code).toBe(3);
    expect(await on(serial(), 'shell', 'frobnicate')).toMatchObject({ code: 127, stdout: '/system/bin/sh: frobnicate: not found\n' });
  });

  test('shell v1 (-x) and exec-out are raw streams', async () => {
    expect(await on(serial(), 'shell', '-x', 'echo', 'v1')).toMatchObject({ code: 0, stdout: 'v1\n' });
    expect(await on(serial(), 'exec-out', 'getprop', 'ro.product.device')).toMatchObject({ code: 0, stdout: 'cph_rx1\n' });
  });
});

describe('files', () => {
  test('adb push writes a file the simulated phone shows, adb pull reads it back whole', async () => {
    const big = Buffer.alloc(200 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
    const local = join(work, 'big.bin');
    writeFileSync(local, big);
    const push = await on(serial(), 'push', local, '/sdcard/Download/new/big.bin');
    expect(push.code, push.stderr).toBe(0);
    const node = await (await simPhone(phoneIds[0]!)).stat('/sdcard/Download/new/big.bin');
    expect(node).toMatchObject({ kind: 'file', size: big.length });
    expect(node!.content!.equals(big)).toBe(true);
    const back = join(work, 'back.bin');
    const pull = await on(serial(), 'pull', '/sdcard/Download/new/big.bin', back);
    expect(pull.code, pull.stderr).toBe(0);
    expect(readFileSync(back).equals(big)).toBe(true);
  });

  test('ls through the shell and adb pull of a missing file', async () => {
    writeFileSync(join(work, 'a.txt'), 'hello\n');
    expect((await on(serial(), 'push', join(work, 'a.txt'), '/data/local/tmp/')).code).toBe(0);
    expect((await on(serial(), 'shell', 'cat /data/local/tmp/a.txt')).stdout).toBe('hello\n');
    expect((await on(serial(), 'shell', 'ls /data/local/tmp')).stdout).toContain('a.txt\n');
    const missing = await on(serial(), 'pull', '/data/nope.txt', join(work, 'nope.txt'));
    expect(missing.code).not.toBe(0);
    expect(missing.stderr + missing.stdout).toMatch(/nope\.txt.*No such file or directory/);
  });
});

describe('packages', () => {
  test('adb install shows in pm list packages, through adb and on the simulated phone', async () => {
    const apk = join(work, 'app.apk');
    writeFileSync(apk, buildApk({ packageName: 'com.example.adbdevice', versionCode: 3, versionName: '1.2' }));
    const r = await on(serial(), 'install', apk);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Success');
    expect((await on(serial(), 'shell', 'pm list packages -3')).stdout).toContain('package:com.example.adbdevice\n');
    const phone = await simPhone(phoneIds[0]!);
    expect((await runShell(phone, 'pm list packages example')).output).toBe('package:com.example.adbdevice\n');
    expect(await phone.installed('com.example.adbdevice')).toMatchObject({ versionCode: 3, versionName: '1.2', system: false });
    // The second device's phone is another phone.
    expect((await on(devices.devices[1]!.serial, 'shell', 'pm list packages example')).stdout).toBe('');
  });

  test('a downgrade is refused unless -d, and a file that is not an APK fails', async () => {
    const old = join(work, 'old.apk');
    writeFileSync(old, buildApk({ packageName: 'com.example.adbdevice', versionCode: 1, versionName: '1.0' }));
    const refused = await on(serial(), 'install', old);
    expect(refused.code).not.toBe(0);
    expect(refused.stdout + refused.stderr).toContain('INSTALL_FAILED_VERSION_DOWNGRADE');
    expect((await on(serial(), 'install', '-r', '-d', old)).code).toBe(0);
    const bad = join(work, 'bad.apk');
    writeFileSync(bad, 'not a zip');
    const r = await on(serial(), 'install', bad);
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toContain('INSTALL_PARSE_FAILED_NOT_APK');
  });

  test('adb uninstall', async () => {
    expect((await on(serial(), 'uninstall', 'com.example.adbdevice')).stdout).toContain('Success');
    expect(await (await simPhone(phoneIds[0]!)).installed('com.example.adbdevice')).toBeUndefined();
  });
});

describe('one phone, seen through the CPH API and through adb', () => {
  test('an install through adb shows in a sync shell of the API; a property set through the API shows in adb shell', async () => {
    const apk = join(work, 'both.apk');
    writeFileSync(apk, buildApk({ packageName: 'com.example.both', versionCode: 1, versionName: '1' }));
    expect((await on(serial(), 'install', apk)).code).toBe(0);
    const sync = await t.post('/phones/sync-commands', { command: 'shell', content: 'pm list packages both', phone_ids: [phoneIds[0]] });
    expect(sync.status, sync.text).toBe(200);
    expect(sync.body.jobs[0].execute_msg).toBe('package:com.example.both\n');
    const r = await t.post('/phones/batch-update-property', { phones: [{ phone_id: phoneIds[0], property: JSON.stringify({ 'ro.product.model': 'Mate 60' }) }] });
    expect(r.status, r.text).toBe(200);
    await waitForRequest(t, r.body.request_id);
    expect((await on(serial(), 'shell', 'getprop ro.product.model')).stdout).toBe('Mate 60\n');
    const back = await t.post('/phones/batch-update-property', { phones: [{ phone_id: phoneIds[0], property: JSON.stringify({ 'ro.product.model': 'CPH-RX1' }) }] });
    await waitForRequest(t, back.body.request_id);
  });
});

describe('going away and coming back', () => {
  test('a slow device answers every stream late, but answers', async () => {
    const d = devices.devices[1]!;
    devices.slow(d.phoneId, 200);
    try {
      expect(await on(d.serial, 'shell', 'echo', 'late')).toMatchObject({ code: 0, stdout: 'late\n' });
    } finally {
      devices.slow(d.phoneId, 0);
    }
  });

  test('adb reboot: the device disconnects, comes back, and sys.boot_completed follows', async () => {
    const s = devices.devices[1]!.serial;
    expect((await on(s, 'reboot')).code).toBe(0);
    expect(await eventually(async () => (await stateOf(s)) !== 'device')).toBe(true);
    // adb reconnects to a TCP device by itself, but only some 10 s later: connect again at once.
    expect(await eventually(() => reconnected(s))).toBe(true);
    // Booting: sys.boot_completed is not set until bootMs have passed on the device's clock.
    expect((await on(s, 'shell', 'getprop sys.boot_completed')).stdout).toBe('\n');
    clockShift += 60_000;
    expect((await on(s, 'shell', 'getprop sys.boot_completed')).stdout).toBe('1\n');
  });

  test('kill drops the device and refuses it; revive brings it back', async () => {
    const d = devices.devices[1]!;
    await devices.kill(d.phoneId);
    expect(await eventually(async () => (await stateOf(d.serial)) !== 'device')).toBe(true);
    expect((await adb(['connect', d.serial])).stdout).not.toMatch(/^connected to/m);
    await devices.revive(d.phoneId);
    expect(await eventually(() => reconnected(d.serial))).toBe(true);
    expect((await on(d.serial, 'shell', 'echo back')).stdout).toBe('back\n');
  });
});
