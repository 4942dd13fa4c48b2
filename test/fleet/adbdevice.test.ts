import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Adb } from '@devicefarmer/adbkit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { clockAt, systemClock } from '../../src/domain/time.js';
import { androidState } from '../../src/engine/androidState.js';
import { phoneOf } from '../../src/engine/fleetView.js';
import { A_CLSE, A_CNXN, A_OPEN, A_VERSION, encode, MessageReader, type Message } from '../../src/fleet/adbdevice/messages.js';
import { startVirtualDevices, type VirtualDevices } from '../../src/fleet/adbdevice/server.js';
import { SimPhone } from '../../src/fleet/sim/android.js';
import { runShell } from '../../src/fleet/sim/shell.js';
import { getPhone } from '../../src/store/fleet.js';
import { freePort } from '../../src/runtime/net.js';
import { adbClient } from '../helpers/adb.js';
import { buildApk } from '../helpers/apk.js';
import { PROJECT, startTestNode, storeOf, waitForRequest, type TestNode } from '../helpers/node.js';

let t: TestNode;
/** How far the devices' clock is ahead of the system's (boot_completed follows it). */
let clockShift = 0;
let devices: VirtualDevices;
let adbPort = 0;
let phoneIds: string[];
const work = mkdtempSync(join(tmpdir(), 'opencph-adb-'));


/** Debian's adb, with a server of this file's own on a free port. */
const adb = adbClient(() => adbPort, work);

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
  adbPort = await freePort('127.0.0.1');
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

describe('the transport, byte by byte', () => {
  /** A raw TCP client of a device: send messages, take the ones that come back. */
  async function rawClient(port: number) {
    const socket: Socket = connect(port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    const reader = new MessageReader(() => 1 << 20);
    const got: Message[] = [];
    let closed = false;
    socket.on('data', (d: Buffer) => got.push(...reader.push(d)));
    socket.on('close', () => (closed = true));
    const next = async () => {
      expect(await eventually(async () => got.length > 0 || closed)).toBe(true);
      return got.shift();
    };
    return { socket, next, closed: () => closed };
  }

  test('CNXN is answered with the banner and no AUTH; an unknown service is refused; a bad magic ends the connection', async () => {
    const c = await rawClient(devices.devices[0]!.port);
    c.socket.write(encode({ command: A_CNXN, arg0: A_VERSION, arg1: 256 * 1024, data: Buffer.from('host::features=shell_v2\0') }));
    const cnxn = (await c.next())!;
    expect(cnxn).toMatchObject({ command: A_CNXN, arg0: A_VERSION, arg1: 1024 * 1024 });
    expect(cnxn.data.toString()).toMatch(/^device::ro\.product\.name=cph_rx1;ro\.product\.model=[^;]+;ro\.product\.device=cph_rx1;features=shell_v2,cmd,stat_v2,ls_v2,fixed_push_mkdir$/);
    c.socket.write(encode({ command: A_OPEN, arg0: 7, arg1: 0, data: Buffer.from('jdwp:1234\0') }));
    expect(await c.next()).toMatchObject({ command: A_CLSE, arg0: 0, arg1: 7 });
    const bad = encode({ command: A_OPEN, arg0: 8, arg1: 0, data: Buffer.from('shell:id\0') });
    bad.writeUInt32LE(0, 20);
    c.socket.write(bad);
    expect(await eventually(async () => c.closed())).toBe(true);
  });
});

describe('shell', () => {
  test('adb shell without a command runs each line of its input', async () => {
    const r = await adb(['-s', serial(), 'shell'], 20_000, 'getprop ro.product.device\necho two\nexit 4\necho never\n');
    expect(r).toMatchObject({ code: 4, stdout: 'cph_rx1\ntwo\n' });
  });


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
    // Without the shell protocol a client reads the status off the output, as adbkit does.
    expect(await on(serial(), 'shell', '-x', 'exit 3; echo :$?')).toMatchObject({ code: 0, stdout: '' });
    expect(await on(serial(), 'shell', '-x', 'false; echo :$?')).toMatchObject({ code: 0, stdout: ':1\n' });
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
    // adb ls lists through sync (LIS2): mode, size and mtime in hex, then the name.
    expect((await on(serial(), 'ls', '/data/local/tmp')).stdout).toMatch(/^000081a4 00000006 [0-9a-f]{8} a\.txt$/m);
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

  test('adb install-multiple: a base APK and its splits, streamed into one install session, installed as one app', async () => {
    const write = (file: string, spec: Parameters<typeof buildApk>[0]) => {
      writeFileSync(join(work, file), buildApk(spec));
      return join(work, file);
    };
    const base = write('base.apk', { packageName: 'com.example.multi', versionCode: 7, versionName: '7.0' });
    const abi = write('config.arm64_v8a.apk', { packageName: 'com.example.multi', versionCode: 7, versionName: '7.0', split: 'config.arm64_v8a' });
    const dpi = write('config.xxhdpi.apk', { packageName: 'com.example.multi', versionCode: 7, versionName: '7.0', split: 'config.xxhdpi' });
    const r = await on(serial(), 'install-multiple', base, abi, dpi);
    expect(r, r.stderr).toMatchObject({ code: 0, stdout: 'Success\n' });
    expect((await on(serial(), 'shell', 'pm path com.example.multi')).stdout).toMatch(/^package:(\S+\/)base\.apk\npackage:\1split_config\.arm64_v8a\.apk\npackage:\1split_config\.xxhdpi\.apk\n$/);
    expect(await (await simPhone(phoneIds[0]!)).installed('com.example.multi')).toMatchObject({ versionCode: 7, splits: ['config.arm64_v8a', 'config.xxhdpi'] });

    // Refused at the commit: a split alone, a split of another app, a downgrade without -d.
    const alone = await on(serial(), 'install-multiple', dpi);
    expect(alone.code).toBe(1);
    expect(alone.stderr).toBe('adb: failed to finalize session\nFailure [INSTALL_FAILED_INVALID_APK: Full install must include a base package]\n');
    const other = write('other.apk', { packageName: 'com.example.other', versionCode: 1, versionName: '1', split: 'config.xxhdpi' });
    expect((await on(serial(), 'install-multiple', base, other)).stderr).toContain('Split config.xxhdpi has inconsistent package name com.example.other');
    const old = write('old.apk', { packageName: 'com.example.multi', versionCode: 6, versionName: '6.0' });
    expect((await on(serial(), 'install-multiple', old)).stderr).toContain('INSTALL_FAILED_VERSION_DOWNGRADE');
    expect((await on(serial(), 'install-multiple', '-d', old)).code).toBe(0);
    expect(await (await simPhone(phoneIds[0]!)).installed('com.example.multi')).toMatchObject({ versionCode: 6, splits: [] });
    expect((await on(serial(), 'uninstall', 'com.example.multi')).stdout).toContain('Success');
  });

  test('install sessions through the shell: install-write from a pushed file, abandon, and an unknown session', async () => {
    writeFileSync(join(work, 'pushed.apk'), buildApk({ packageName: 'com.example.session', versionCode: 1, versionName: '1' }));
    expect((await on(serial(), 'push', join(work, 'pushed.apk'), '/data/local/tmp/pushed.apk')).code).toBe(0);
    const created = await on(serial(), 'shell', 'pm install-create -r -t');
    const id = /^Success: created install session \[(\d+)\]\n$/.exec(created.stdout)?.[1];
    expect(id, created.stdout).toBeDefined();
    expect(await on(serial(), 'shell', `pm install-write ${id} base.apk /data/local/tmp/pushed.apk`)).toMatchObject({ code: 0, stdout: expect.stringMatching(/^Success: streamed \d+ bytes\n$/) });
    // A size past what the device keeps is refused before any byte is read (nothing is sent here).
    expect(await on(serial(), 'shell', `pm install-write -S 999999999999 ${id} split.apk -`)).toMatchObject({ code: 1, stdout: expect.stringContaining('INSTALL_FAILED_INSUFFICIENT_STORAGE') });
    expect(await on(serial(), 'shell', `cmd package install-abandon ${id}`)).toMatchObject({ code: 0, stdout: 'Success\n' });
    const gone = await on(serial(), 'shell', `pm install-commit ${id}`);
    expect(gone).toMatchObject({ code: 1, stdout: expect.stringContaining(`Caller has no access to session ${id}`) });
    expect(await (await simPhone(phoneIds[0]!)).installed('com.example.session')).toBeUndefined();
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

describe('adbkit, the client library of the adb fleet backend', () => {
  test('reads properties, runs a v1 shell, pushes, stats, pulls, lists, installs', async () => {
    const client = Adb.createClient({ port: adbPort });
    const dev = client.getDevice(serial());
    expect((await dev.getProperties())['ro.product.model']).toBe('CPH-RX1');
    const sh = await dev.shell('false; echo MARK$?');
    expect((await Adb.util.readAll(sh)).toString()).toBe('MARK1\n');
    const transfer = await dev.push(Readable.from([Buffer.from('data!')]), '/data/local/tmp/kit.txt');
    await new Promise((resolve, reject) => {
      transfer.on('end', resolve);
      transfer.on('error', reject);
    });
    expect(await dev.stat('/data/local/tmp/kit.txt')).toMatchObject({ size: 5 });
    expect((await Adb.util.readAll(await dev.pull('/data/local/tmp/kit.txt'))).toString()).toBe('data!');
    expect((await dev.readdir('/data/local/tmp')).map((e: { name: string }) => e.name)).toContain('kit.txt');
    const apk = join(work, 'kit.apk');
    writeFileSync(apk, buildApk({ packageName: 'com.example.kit', versionCode: 2, versionName: '2' }));
    expect(await dev.install(apk)).toBe(true);
    expect(await dev.isInstalled('com.example.kit')).toBe(true);
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

  test('a device killed in the middle of a command: the command\'s end never comes', async () => {
    const d = devices.devices[1]!;
    const running = on(d.serial, 'shell', 'sleep 10; echo done');
    await new Promise((r) => setTimeout(r, 500));
    await devices.kill(d.phoneId);
    // Debian's adb ends without output and, having no exit packet, with status 0: a client must
    // treat a missing exit status as a lost device (adbkit's stream just ends).
    expect(await running).toEqual({ code: 0, stdout: '', stderr: '' });
    await devices.revive(d.phoneId);
    expect(await eventually(() => reconnected(d.serial))).toBe(true);
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

describe('opencph device', () => {
  const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

  test('exposes a phone of a store beside the node that serves it: adb install shows in the API; SIGTERM closes the port', async () => {
    const database = await storeOf(t.dataDir);
    const proc = spawn(process.execPath, [CLI, 'device', '--data-dir', t.dataDir, ...(database ? ['--database', database] : []), '--port', '0', '--phone', phoneIds[1]!], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    proc.stdout.on('data', (d) => (out += d));
    proc.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
    try {
      expect(await eventually(async () => /listening/.test(out))).toBe(true);
      const line = out.split('\n').find((l) => l.includes(phoneIds[1]!))!;
      const s = line.split(/\s+/)[0]!;
      expect(s).toMatch(/^127\.0\.0\.1:\d+$/);
      expect((await adb(['connect', s])).stdout).toContain(`connected to ${s}`);
      expect((await on(s, 'shell', 'getprop ro.serialno')).stdout).toBe(`${(await simPhone(phoneIds[1]!)).serial}\n`);
      const apk = join(work, 'cli.apk');
      writeFileSync(apk, buildApk({ packageName: 'com.example.cli', versionCode: 1, versionName: '1' }));
      expect((await on(s, 'install', apk)).code).toBe(0);
      const sync = await t.post('/phones/sync-commands', { command: 'shell', content: 'pm list packages cli', phone_ids: [phoneIds[1]] });
      expect(sync.body.jobs[0].execute_msg).toBe('package:com.example.cli\n');
      proc.kill('SIGTERM');
      expect(await exited).toBe(0);
      await adb(['disconnect', s]);
      expect((await adb(['connect', s])).stdout).not.toMatch(/^connected to/m);
    } finally {
      proc.kill('SIGKILL');
    }
  });

  test('refuses a phone that is not in the store', async () => {
    const database = await storeOf(t.dataDir);
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(process.execPath, [CLI, 'device', '--data-dir', t.dataDir, ...(database ? ['--database', database] : []), '--phone', 'nope'], { encoding: 'utf8' }, (err, _o, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stderr }),
      );
    });
    expect(r).toEqual({ code: 1, stderr: 'opencph: no such phone: nope\n' });
  });
});
