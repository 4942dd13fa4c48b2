import type { ObsRef, PhoneCommand } from '../../domain/commands.js';
import { readApk, type ApkInfo } from '../apk.js';
import { timeLimitReached, type DriverOutcome } from '../driver.js';
import { findObject } from '../obs.js';
import { commandOutcome, timedOutOutcome, objectMissing, type CommandResult } from '../outcome.js';
import { readTar } from '../tarball.js';
import type { SimPhone } from './android.js';
import { installApps } from './installApps.js';
import { runShell, ShellAborted } from './shell.js';

/** How much of each pushed file a simulated phone keeps (`cat` shows it; execute_msg holds 1024 bytes). */
export const KEPT_FILE_BYTES = 64 * 1024;
/** Entries one push may unpack on a simulated phone. */
export const MAX_PUSH_ENTRIES = 20_000;

export interface AdbOptions {
  obsDir: string;
  /** The job's signal: its time limit (the job fails with CPS.0904), or the node shutting down. */
  signal: AbortSignal;
}

const failed = (output: string): CommandResult => ({ exitCode: 1, output });

/** Run one of CPH's adb commands on a simulated phone. */
export async function runAdb(phone: SimPhone, cmd: PhoneCommand, o: AdbOptions): Promise<DriverOutcome> {
  switch (cmd.command) {
    case 'shell':
      return shell(phone, cmd.script, o);
    case 'install':
    case 'install-multiple':
      // Jobs written before install options existed have no allowDowngrade.
      return install(phone, cmd.apks, cmd.command === 'install-multiple', cmd.allowDowngrade === true, o.obsDir);
    case 'uninstall':
      return commandOutcome((await phone.uninstall(cmd.packageName)) ? { exitCode: 0, output: 'Success\n' } : failed('Failure [DELETE_FAILED_INTERNAL_ERROR]\n'));
    case 'push':
      return push(phone, cmd.tar, o.obsDir);
  }
}

async function shell(phone: SimPhone, script: string, o: AdbOptions): Promise<DriverOutcome> {
  try {
    return commandOutcome(await runShell(phone, script, o.signal));
  } catch (err) {
    const limit = timeLimitReached(o.signal);
    if (err instanceof ShellAborted && limit) return timedOutOutcome(limit.limitMs, err.output);
    throw err;
  }
}

/** `adb install` / `adb install-multiple`: the APKs are read for their package and version. */
async function install(phone: SimPhone, apks: readonly ObsRef[], multiple: boolean, allowDowngrade: boolean, obsDir: string): Promise<DriverOutcome> {
  const infos: ApkInfo[] = [];
  for (const ref of apks) {
    const file = await findObject(obsDir, ref);
    if (!file) return objectMissing(ref);
    try {
      infos.push(await readApk(file));
    } catch (err) {
      return commandOutcome(failed(`adb: failed to install ${ref.uri}: Failure [INSTALL_PARSE_FAILED_NOT_APK: Failed to parse ${ref.uri}: ${(err as Error).message}]\n`));
    }
  }
  const refused = await installApps(phone, infos, allowDowngrade);
  if (refused) return commandOutcome(failed(`adb: failed to install ${apks.map((a) => a.uri).join(' ')}: Failure [${refused}]\n`));
  return commandOutcome({ exitCode: 0, output: multiple ? 'Success\n' : 'Performing Streamed Install\nSuccess\n' });
}

/** CPH's push: the tar is unpacked into the phone's root. */
async function push(phone: SimPhone, ref: ObsRef, obsDir: string): Promise<DriverOutcome> {
  const file = await findObject(obsDir, ref);
  if (!file) return objectMissing(ref);
  let contents;
  try {
    contents = await readTar(file, { keepBytes: KEPT_FILE_BYTES, maxEntries: MAX_PUSH_ENTRIES });
  } catch (err) {
    return commandOutcome(failed(`push: ${ref.uri} is not a tar file that can be unpacked: ${(err as Error).message}\n`));
  }
  await phone.unpack(contents.entries);
  const files = contents.entries.filter((e) => e.kind === 'file').length;
  const dirs = contents.entries.length - files;
  const lines = [
    `${ref.uri}: ${files} file${files === 1 ? '' : 's'} and ${dirs} director${dirs === 1 ? 'y' : 'ies'} unpacked to /`,
    ...contents.skipped.map((s) => `skipped ${s}`),
    ...contents.entries.map((e) => e.path),
  ];
  return commandOutcome({ exitCode: 0, output: lines.join('\n') + '\n' });
}
