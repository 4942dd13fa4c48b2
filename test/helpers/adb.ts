import { execFile } from 'node:child_process';
import type { CliRun } from './cli.js';

/**
 * Debian's adb against the adb server on `port()` (a port of the test file's own), with `home` for
 * its keys: `adb(['connect', serial])`, `adb(['-s', serial, 'shell', 'id'])`. `input` goes to its
 * stdin. Its exit status, or -1 when it was killed at `timeoutMs`.
 */
export function adbClient(port: () => number, home: string) {
  return (args: string[], timeoutMs = 20_000, input = ''): Promise<CliRun> =>
    new Promise((resolve) => {
      const child = execFile('adb', ['-P', String(port()), ...args], { timeout: timeoutMs, encoding: 'utf8', env: { ...process.env, ADB_VENDOR_KEYS: home, HOME: home } }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
        resolve({ code, stdout, stderr });
      });
      // adb may exit before it reads its input.
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(input);
    });
}
