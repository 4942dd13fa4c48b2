import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readApk, type ApkInfo } from '../apk.js';
import type { CommandResult } from '../outcome.js';
import type { SimPhone } from '../sim/android.js';
import { installApps } from '../sim/installApps.js';

/**
 * What Android's package manager answers to `cmd package install` (the streamed install of
 * `adb install`) and `pm install PATH` (the push-then-install of older clients): the APK's manifest
 * says the package and version; a lower version than the installed one is refused unless `-d`.
 */

export async function readApkBytes(bytes: Buffer): Promise<ApkInfo> {
  const dir = await mkdtemp(join(tmpdir(), 'opencph-apk-'));
  try {
    const file = join(dir, 'base.apk');
    await writeFile(file, bytes);
    return await readApk(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function installApk(phone: SimPhone, bytes: Buffer, flags: ReadonlySet<string>): Promise<CommandResult> {
  let info: ApkInfo;
  try {
    info = await readApkBytes(bytes);
  } catch (err) {
    return { exitCode: 1, output: `Failure [INSTALL_PARSE_FAILED_NOT_APK: Failed to parse APK: ${(err as Error).message}]\n` };
  }
  const refused = await installApps(phone, [info], flags.has('-d'));
  return refused ? { exitCode: 1, output: `Failure [${refused}]\n` } : { exitCode: 0, output: 'Success\n' };
}

export interface InstallRequest {
  /** The APK's size when it comes on stdin (`-S SIZE`). */
  streamedBytes?: number;
  /** The APK's path on the phone (`pm install PATH`). */
  path?: string;
  flags: Set<string>;
}

/**
 * The install a command asks for — `cmd package install [-r|-d|-t|-g…] -S SIZE`, `pm install
 * [flags] -S SIZE` or `pm install [flags] PATH` — or undefined when the words are another command.
 */
export function installRequest(words: readonly string[]): InstallRequest | undefined {
  const rest = words[0] === 'cmd' && words[1] === 'package' ? words.slice(2) : words[0] === 'pm' ? words.slice(1) : undefined;
  if (!rest || rest[0] !== 'install') return undefined;
  const flags = new Set<string>();
  const req: InstallRequest = { flags };
  for (let i = 1; i < rest.length; i++) {
    const w = rest[i]!;
    if (w === '-S') req.streamedBytes = Number(rest[++i]);
    else if (w === '-i' || w === '--user' || w === '--install-location' || w === '-p' || w === '--abi') i++;
    else if (w.startsWith('-')) flags.add(w);
    else req.path = w;
  }
  if (req.streamedBytes !== undefined && !(Number.isSafeInteger(req.streamedBytes) && req.streamedBytes >= 0)) return { flags, streamedBytes: -1 };
  return req;
}
