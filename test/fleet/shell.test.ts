import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { androidState } from '../../src/engine/androidState.js';
import { phoneOf } from '../../src/engine/fleetView.js';
import { serialOf, SimPhone } from '../../src/fleet/sim/android.js';
import { parseScript, runShell, ShellAborted } from '../../src/fleet/sim/shell.js';
import { getPhone } from '../../src/store/fleet.js';
import { PROJECT, startTestNode, type TestNode } from '../helpers/node.js';
import { clockAt } from '../../src/domain/time.js';

const NOW = Date.UTC(2024, 0, 2, 3, 4, 5);

let t: TestNode;
let phone: SimPhone;
let phoneIds: string[];

/** A simulated phone of the test node, with the clock stopped at NOW. */
async function simPhone(phoneId: string): Promise<SimPhone> {
  const row = (await getPhone(t.node.handle.db, PROJECT, phoneId))!;
  const state = androidState(t.node.handle.db);
  return new SimPhone(state, phoneOf(row), await state.image(row.image_id), clockAt(() => NOW));
}

const sh = (script: string, signal?: AbortSignal) => runShell(phone, script, signal);

beforeAll(async () => {
  t = await startTestNode();
  phoneIds = (await t.node.handle.db.selectFrom('phones').select('phone_id').orderBy('phone_id').execute()).map((r) => r.phone_id);
});
afterAll(async () => {
  await t.close();
});
beforeEach(async () => {
  phone = await simPhone(phoneIds[0]!);
  await phone.wipe();
});

describe('parsing', () => {
  test('splits words with quotes and escapes, and commands on ; && ||', () => {
    expect(parseScript(`echo 'a  b' "c \\"d\\"" e\\ f; ls && id || whoami`)).toEqual([
      { op: ';', words: ['echo', 'a  b', 'c "d"', 'e f'] },
      { op: ';', words: ['ls'] },
      { op: '&&', words: ['id'] },
      { op: '||', words: ['whoami'] },
    ]);
  });

  test('pipes, redirections and substitutions are refused with exit status 2', async () => {
    for (const script of ['ls | grep x', 'echo a > /data/x', 'echo $HOME', 'echo `id`', 'sleep 1 &']) {
      const r = await sh(script);
      expect(r.exitCode, script).toBe(2);
      expect(r.output).toMatch(/^\/system\/bin\/sh: .*not supported by the simulated shell\n$/);
    }
    expect(await sh(`echo 'open`)).toEqual({ exitCode: 2, output: '/system/bin/sh: syntax error: unterminated quoted string\n' });
    expect((await sh('&& id')).exitCode).toBe(2);
  });
});

describe('$?', () => {
  test('is the status of the command run before, unquoted or in double quotes; single quotes keep it literal', async () => {
    expect(await sh('false; echo status=$?')).toEqual({ exitCode: 0, output: 'status=1\n' });
    expect((await sh('frobnicate; echo "[$?]"')).output).toBe('/system/bin/sh: frobnicate: not found\n[127]\n');
    expect((await sh('echo $?; false || echo $?')).output).toBe('0\n1\n');
    expect((await sh("echo '$?'")).output).toBe('$?\n');
    expect((await sh('echo $HOME')).exitCode).toBe(2);
  });
});

describe('redirections to /dev/null', () => {
  test('2>/dev/null drops error messages, >/dev/null the output; 2>&1 is taken; a file is refused', async () => {
    expect(await sh('ls /nope 2>/dev/null; echo $?')).toEqual({ exitCode: 0, output: '1\n' });
    expect(await sh('frobnicate 2> /dev/null || echo failed')).toEqual({ exitCode: 0, output: 'failed\n' });
    expect(await sh('echo hidden >/dev/null && echo shown')).toEqual({ exitCode: 0, output: 'shown\n' });
    expect(await sh('cat /nope 2>&1')).toEqual({ exitCode: 1, output: 'cat: /nope: No such file or directory\n' });
    expect(await sh('getprop ro.product.model 2>/dev/null')).toEqual({ exitCode: 0, output: 'CPH-RX1\n' });
    expect((await sh('echo a 2>/data/x')).exitCode).toBe(2);
  });
});

describe('commands', () => {
  test('an unknown command answers as Android does, exit 127', async () => {
    expect(await sh('frobnicate --now')).toEqual({ exitCode: 127, output: '/system/bin/sh: frobnicate: not found\n' });
  });

  test('getprop: one property, a default for a missing one, or all of them', async () => {
    expect(await sh('getprop ro.product.model')).toEqual({ exitCode: 0, output: 'CPH-RX1\n' });
    expect((await sh('getprop ro.build.version.release')).output).toBe('11\n');
    expect((await sh('getprop ro.serialno')).output).toBe(`${serialOf(phoneIds[0]!)}\n`);
    expect(await sh('getprop no.such.prop')).toEqual({ exitCode: 0, output: '\n' });
    expect((await sh('getprop no.such.prop fallback')).output).toBe('fallback\n');
    const all = (await sh('getprop')).output.split('\n').filter(Boolean);
    expect(all).toContain('[ro.product.model]: [CPH-RX1]');
    expect(all).toEqual([...all].sort());
  });

  test('getprop shows the phone\'s custom properties over the image\'s', async () => {
    const row = (await getPhone(t.node.handle.db, PROJECT, phoneIds[0]!))!;
    const custom = new SimPhone(androidState(t.node.handle.db), phoneOf({ ...row, property: '{"ro.product.model":"Pixel 9","sys.prop.writeimsi":"460021624617113"}' }), undefined, clockAt(() => NOW));
    expect((await runShell(custom, 'getprop ro.product.model; getprop sys.prop.writeimsi')).output).toBe('Pixel 9\n460021624617113\n');
  });

  test('pm: list packages (all, -3, -s, -f, filter), path, uninstall', async () => {
    const all = (await sh('pm list packages')).output;
    expect(all).toContain('package:com.android.settings\n');
    expect(await sh('pm list packages -3')).toEqual({ exitCode: 0, output: '' });
    await phone.install({ packageName: 'com.example.hello', versionCode: 7, versionName: '1.7', splits: [] });
    expect((await sh('pm list packages -3')).output).toBe('package:com.example.hello\n');
    expect((await sh('pm list packages -s')).output).not.toContain('com.example.hello');
    expect((await sh('pm list packages example')).output).toBe('package:com.example.hello\n');
    expect((await sh('pm list packages -3 --show-versioncode')).output).toBe('package:com.example.hello versionCode:7\n');
    expect((await sh('pm list packages -3 -f')).output).toMatch(/^package:\/data\/app\/~~.+\/com\.example\.hello-.+\/base\.apk=com\.example\.hello\n$/);
    expect((await sh('pm path com.android.settings')).output).toBe('package:/system/priv-app/Settings/Settings.apk\n');
    expect(await sh('pm path com.nope')).toEqual({ exitCode: 1, output: '' });
    expect((await sh('dumpsys package com.example.hello')).output).toContain('versionName=1.7');
    expect(await sh('pm uninstall com.example.hello')).toEqual({ exitCode: 0, output: 'Success\n' });
    expect(await sh('pm uninstall com.example.hello')).toEqual({ exitCode: 1, output: 'Failure [DELETE_FAILED_INTERNAL_ERROR]\n' });
    expect((await sh('pm uninstall com.android.settings')).exitCode).toBe(1);
  });

  test('an unquoted * matches names in its directory; rm removes what was written, not the image', async () => {
    const file = (path: string, text: string) => ({ path, kind: 'file' as const, mode: 0o644, size: text.length, mtime: NOW, content: Buffer.from(text) });
    await phone.unpack([file('/sdcard/Download/a.txt', 'a\n'), file('/sdcard/Download/b.log', 'b\n'), file('/sdcard/note.txt', 'n\n')]);
    expect((await sh('echo /sdcard/Download/*')).output).toBe('/sdcard/Download/a.txt /sdcard/Download/b.log\n');
    expect((await sh('cd /sdcard/Download && echo *.txt')).output).toBe('a.txt\n');
    expect((await sh("echo '/sdcard/*' /sdcard/nothing*")).output).toBe('/sdcard/* /sdcard/nothing*\n');
    expect(await sh('rm /sdcard/Download')).toEqual({ exitCode: 1, output: 'rm: /sdcard/Download: Is a directory\n' });
    expect(await sh('rm /sdcard/gone.txt')).toEqual({ exitCode: 1, output: 'rm: /sdcard/gone.txt: No such file or directory\n' });
    expect(await sh('rm -f /sdcard/gone.txt')).toEqual({ exitCode: 0, output: '' });
    expect(await sh('rm /system/build.prop')).toEqual({ exitCode: 1, output: 'rm: /system/build.prop: Read-only file system\n' });
    expect(await sh('rm /sdcard/note.txt && ls /sdcard/note.txt')).toEqual({ exitCode: 1, output: 'ls: /sdcard/note.txt: No such file or directory\n' });
    expect(await sh('rm -rf /sdcard/*')).toEqual({ exitCode: 0, output: '' });
    expect((await sh('ls /sdcard/Download')).output).toBe('');
  });

  test('ls and cat over the image tree and pushed files', async () => {
    expect((await sh('ls /')).output).toBe('data\nproc\nsdcard\nsystem\nvendor\n');
    expect(await sh('ls /nope')).toEqual({ exitCode: 1, output: 'ls: /nope: No such file or directory\n' });
    await phone.unpack([{ path: '/data/local/tmp/hello.txt', kind: 'file', mode: 0o644, size: 6, mtime: NOW, content: Buffer.from('hello\n') }]);
    expect((await sh('ls /data/local/tmp')).output).toBe('hello.txt\n');
    expect((await sh('ls -l /data/local/tmp/hello.txt')).output).toBe('-rw-r--r-- 1 root root 6 2024-01-02 03:04 /data/local/tmp/hello.txt\n');
    expect((await sh('ls -la /data/local')).output).toMatch(/^total 8\ndrwxrwx--x 2 shell shell 4096 \d{4}-\d\d-\d\d \d\d:\d\d tmp\n$/);
    expect(await sh('cat /data/local/tmp/hello.txt')).toEqual({ exitCode: 0, output: 'hello\n' });
    expect((await sh('cat /system/build.prop')).output).toContain('ro.product.model=CPH-RX1\n');
    expect(await sh('cat /data')).toEqual({ exitCode: 1, output: 'cat: /data: Is a directory\n' });
    expect(await sh('cat /data/nope')).toEqual({ exitCode: 1, output: 'cat: /data/nope: No such file or directory\n' });
    expect(await sh('cd /data/local/tmp && cat hello.txt && pwd')).toEqual({ exitCode: 0, output: 'hello\n/data/local/tmp\n' });
  });

  test('echo, id, whoami, uname, date', async () => {
    expect((await sh('echo hello   world')).output).toBe('hello world\n');
    expect((await sh('echo -n x')).output).toBe('x');
    expect((await sh('id')).output).toMatch(/^uid=0\(root\) gid=0\(root\) groups=0\(root\),.* context=u:r:su:s0\n$/);
    expect((await sh('whoami')).output).toBe('root\n');
    expect((await sh('uname')).output).toBe('Linux\n');
    expect((await sh('uname -a')).output).toBe('Linux localhost 5.4.86-android11-opencph #1 SMP PREEMPT aarch64 Toybox\n');
    expect((await sh('uname -r')).output).toBe('5.4.86-android11-opencph\n');
    expect((await sh('date')).output).toBe('Tue Jan  2 03:04:05 UTC 2024\n');
    expect((await sh('date +%s')).output).toBe(`${NOW / 1000}\n`);
    expect((await sh('date +%Y-%m-%dT%H:%M:%S')).output).toBe('2024-01-02T03:04:05\n');
  });

  test('wm size and density, with overrides that reset', async () => {
    expect(await sh('wm size')).toEqual({ exitCode: 0, output: 'Physical size: 720x1280\n' });
    expect(await sh('wm density')).toEqual({ exitCode: 0, output: 'Physical density: 320\n' });
    expect((await sh('wm size 1080x1920 && wm density 480')).exitCode).toBe(0);
    expect((await sh('wm size; wm density')).output).toBe('Physical size: 720x1280\nOverride size: 1080x1920\nPhysical density: 320\nOverride density: 480\n');
    expect((await sh('settings get global display_size_forced')).output).toBe('1080,1920\n');
    expect((await sh('wm size reset; wm size')).output).toBe('Physical size: 720x1280\n');
    expect((await sh('wm size big')).exitCode).toBe(255);
  });

  test('settings get, put, list, delete', async () => {
    expect(await sh('settings get secure android_id')).toEqual({ exitCode: 0, output: 'null\n' });
    expect(await sh('settings put system screen_brightness 200')).toEqual({ exitCode: 0, output: '' });
    expect((await sh('settings get system screen_brightness')).output).toBe('200\n');
    expect((await sh('settings list system')).output).toBe('screen_brightness=200\n');
    expect((await sh('settings delete system screen_brightness')).output).toBe('Deleted 1 rows\n');
    expect((await sh('settings get nowhere x')).exitCode).toBe(255);
  });

  test('chaining: ; always runs, && on success, || on failure; the last status is the script\'s', async () => {
    expect(await sh('false && echo no; echo yes')).toEqual({ exitCode: 0, output: 'yes\n' });
    expect(await sh('false || echo alt')).toEqual({ exitCode: 0, output: 'alt\n' });
    expect(await sh('true && ls /nope')).toEqual({ exitCode: 1, output: 'ls: /nope: No such file or directory\n' });
    expect(await sh('nope; echo after')).toEqual({ exitCode: 0, output: '/system/bin/sh: nope: not found\nafter\n' });
    expect(await sh('echo a; exit 3; echo b')).toEqual({ exitCode: 3, output: 'a\n' });
  });

  test('an aborted script throws with what it printed so far', async () => {
    const started = Date.now();
    const err = await sh('echo started; sleep 10; echo never', AbortSignal.timeout(100)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ShellAborted);
    expect((err as ShellAborted).output).toBe('started\n');
    expect(Date.now() - started).toBeLessThan(2000);
  });

  test('numbers are read strictly: exit takes a decimal integer, or says "bad number" and exits 1', async () => {
    for (const n of ['99999999999999999999', '0x10', 'Infinity', '1e3', '1.5', 'NaN', '3x', '--1']) {
      expect(await sh(`echo a; exit ${n}; echo b`), n).toEqual({ exitCode: 1, output: `a\n/system/bin/sh: exit: ${n}: bad number\n` });
    }
    expect((await sh('exit 256')).exitCode).toBe(0);
    expect((await sh('exit -1')).exitCode).toBe(255);
    expect((await sh('exit 007')).exitCode).toBe(7);
    expect((await sh('exit')).exitCode).toBe(0);
  });

  test('numbers are read strictly: sleep takes a decimal fraction with s, m, h or d, nothing else', async () => {
    for (const n of ['0x10', 'Infinity', 'inf', '1e3', '-1', '', '1.2.3', '5x']) {
      expect(await sh(`sleep '${n}'`), n).toEqual({ exitCode: 1, output: `sleep: invalid number '${n}'\n` });
    }
    expect(await sh('sleep 0.01 && sleep .01s && sleep 0m && echo slept')).toEqual({ exitCode: 0, output: 'slept\n' });
  });

  test('numbers are read strictly: wm takes whole numbers from 1', async () => {
    for (const v of ['density 0x10', 'density 99999999999999999999', 'density 0', 'size 1e3x10', 'size 10x', 'size 10x10x10', 'density +5']) {
      expect((await sh(`wm ${v}`)).exitCode, v).toBe(255);
    }
    expect((await sh('wm density')).output).toBe('Physical density: 320\n');
  });

  test('a sleep longer than a timer can take still waits, until the signal stops it', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      // 2147484 s and 30 days are past 2^31 ms, which a single timer would fire at once.
      for (const script of ['echo started; sleep 2147484; echo never', 'echo started; sleep 30d; echo never']) {
        const stop = new AbortController();
        setTimeout(() => stop.abort(), 300);
        const err = await sh(script, stop.signal).catch((e: unknown) => e);
        expect(err, script).toBeInstanceOf(ShellAborted);
        expect((err as ShellAborted).output).toBe('started\n');
      }
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).not.toContain('TimeoutOverflowWarning');
  });
});
