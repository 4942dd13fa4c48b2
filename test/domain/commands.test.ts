import { describe, expect, test } from 'vitest';
import { isCommandName, parseCommand, parseObsRef } from '../../src/domain/commands.js';

describe('parseCommand', () => {
  test('knows the five commands', () => {
    expect(['install', 'install-multiple', 'uninstall', 'push', 'shell'].every(isCommandName)).toBe(true);
    expect(isCommandName('reboot')).toBe(false);
  });

  test('install takes one obs:// APK, or several of which the first counts', () => {
    expect(parseCommand('install', 'obs://my-bucket/apps/a.apk')).toEqual({
      ok: true,
      value: { command: 'install', apks: [{ bucket: 'my-bucket', key: 'apps/a.apk', uri: 'obs://my-bucket/apps/a.apk' }], allowDowngrade: false },
    });
    const two = parseCommand('install', 'obs://b1b/a.apk obs://b1b/b.apk');
    expect(two.ok && two.value.command === 'install' && two.value.apks.map((a) => a.key)).toEqual(['a.apk']);
  });

  test("install options come first, as in CPH's own example; -d allows a downgrade", () => {
    const apk = { bucket: 'b1b', key: 'a.apk', uri: 'obs://b1b/a.apk' };
    expect(parseCommand('install', '-t -r obs://b1b/a.apk')).toEqual({ ok: true, value: { command: 'install', apks: [apk], allowDowngrade: false } });
    expect(parseCommand('install', '-r -d -g obs://b1b/a.apk')).toEqual({ ok: true, value: { command: 'install', apks: [apk], allowDowngrade: true } });
    expect(parseCommand('install-multiple', '-d obs://b1b/a.apk obs://b1b/a.apk')).toEqual({ ok: true, value: { command: 'install-multiple', apks: [apk, apk], allowDowngrade: true } });
    expect(parseCommand('install', '-x obs://b1b/a.apk')).toEqual({ ok: false, reason: '"-x" is not an install option; use -r, -t, -d, -g.' });
    expect(parseCommand('install', '-t -r')).toEqual({ ok: false, reason: 'Give an obs:// APK after the options.' });
    // Options go before the APKs, as adb takes them.
    for (const command of ['install', 'install-multiple'] as const) {
      expect(parseCommand(command, 'obs://b1b/a.apk -r')).toEqual({ ok: false, reason: '"-r" is not of the form obs://bucket/path.' });
    }
  });

  test('install-multiple: up to 50 APKs in 8100 bytes', () => {
    const apks = (n: number, len = 10) => Array.from({ length: n }, (_, i) => `obs://bkt/${'p'.repeat(len)}${i}.apk`).join(' ');
    expect(parseCommand('install-multiple', apks(50)).ok).toBe(true);
    expect(parseCommand('install-multiple', apks(51))).toEqual({ ok: false, reason: 'At most 50 APKs, separated by spaces.' });
    expect(parseCommand('install-multiple', apks(50, 150))).toMatchObject({ ok: false, reason: expect.stringMatching(/bytes; at most 8100\.$/) });
    expect(parseCommand('install', apks(1, 1020)).ok).toBe(false);
  });

  test('obs:// references: bucket name rules and no climbing out of the bucket', () => {
    expect(parseObsRef('obs://ab/x').ok).toBe(false);
    expect(parseObsRef('obs://UPPER/x').ok).toBe(false);
    expect(parseObsRef('obs://bucket/').ok).toBe(false);
    expect(parseObsRef('obs://bucket/a/../b').ok).toBe(false);
    expect(parseObsRef('obs://bucket/./b').ok).toBe(false);
    expect(parseObsRef('s3://bucket/b').ok).toBe(false);
    expect(parseObsRef('obs://bucket.v2-x/dir/file.tar').ok).toBe(true);
  });

  test('uninstall and push use the documented charset', () => {
    expect(parseCommand('uninstall', 'com.example.app')).toEqual({ ok: true, value: { command: 'uninstall', packageName: 'com.example.app' } });
    expect(parseCommand('uninstall', 'com.example app').ok).toBe(false);
    expect(parseCommand('push', 'obs://bucket/data.tar').ok).toBe(true);
    expect(parseCommand('push', 'obs://bucket/da ta.tar').ok).toBe(false);
  });

  test('shell takes printable ASCII up to 1024 bytes', () => {
    expect(parseCommand('shell', `ls -l /system && echo "a;b" | x`)).toEqual({ ok: true, value: { command: 'shell', script: 'ls -l /system && echo "a;b" | x' } });
    expect(parseCommand('shell', 'x'.repeat(1024)).ok).toBe(true);
    expect(parseCommand('shell', 'x'.repeat(1025)).ok).toBe(false);
    for (const bad of ['ls\n', 'ls\t-l', 'echo ü', '', '  ']) expect(parseCommand('shell', bad).ok, JSON.stringify(bad)).toBe(false);
  });
});
