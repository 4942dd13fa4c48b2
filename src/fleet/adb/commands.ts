import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import type { DeviceClient } from '@devicefarmer/adbkit';
import { extract, type ReadEntry } from 'tar';
import type { ObsRef, PhoneCommand } from '../../domain/commands.js';
import type { DriverOutcome } from '../driver.js';
import { findObject } from '../obs.js';
import { commandOutcome, objectMissing, type CommandResult } from '../outcome.js';
import { runShell, shQuote } from './shell.js';

/** Where APKs wait on the device while the package manager installs them. */
const STAGING = '/data/local/tmp';

/** A push over the sync service, settled when the file is written (or the transfer fails). */
async function pushFile(device: DeviceClient, local: string, remote: string, mode: number): Promise<void> {
  const transfer = await device.push(local, remote, mode);
  await new Promise<void>((resolve, reject) => {
    transfer.once('end', resolve);
    transfer.once('error', reject);
  });
}

/** One of CPH's adb commands, run on a device. Throws DeviceLost / CommandCut (see shell.ts) or adbkit's errors. */
export async function runCommand(device: DeviceClient, cmd: PhoneCommand, o: { obsDir: string; jobId: string; signal: AbortSignal }): Promise<DriverOutcome> {
  switch (cmd.command) {
    case 'shell':
      return commandOutcome(await runShell(device, cmd.script, o.signal));
    case 'uninstall':
      return commandOutcome(await runShell(device, `pm uninstall ${shQuote(cmd.packageName)}`, o.signal));
    case 'install':
    case 'install-multiple':
      return install(device, cmd.apks, cmd.command === 'install-multiple', cmd.allowDowngrade === true, o);
    case 'push':
      return push(device, cmd.tar, o);
  }
}

/**
 * `adb install` / `adb install-multiple`, as adb does them: each APK is copied to /data/local/tmp,
 * then the package manager installs it (`pm install -r -t [-d] <file>`; several in one session:
 * `pm install-create`, `pm install-write` per APK, `pm install-commit`), and the copies go.
 */
async function install(device: DeviceClient, apks: readonly ObsRef[], multiple: boolean, allowDowngrade: boolean, o: { obsDir: string; jobId: string; signal: AbortSignal }): Promise<DriverOutcome> {
  const files: string[] = [];
  for (const ref of apks) {
    const file = await findObject(o.obsDir, ref);
    if (!file) return objectMissing(ref);
    files.push(file);
  }
  const flags = `-r -t${allowDowngrade ? ' -d' : ''}`;
  const staged = files.map((_, i) => `${STAGING}/opencph-${o.jobId}-${i}.apk`);
  try {
    for (let i = 0; i < files.length; i++) await pushFile(device, files[i]!, staged[i]!, 0o644);
    if (!multiple) return commandOutcome(await runShell(device, `pm install ${flags} ${staged[0]!}`, o.signal));
    const created = await runShell(device, `pm install-create ${flags}`, o.signal);
    const session = /\[(\d+)\]/.exec(created.output)?.[1];
    if (created.exitCode !== 0 || !session) return commandOutcome({ exitCode: created.exitCode || 1, output: created.output });
    let output = created.output;
    for (let i = 0; i < staged.length; i++) {
      const written = await runShell(device, `pm install-write ${session} ${i}.apk ${staged[i]!}`, o.signal);
      output += written.output;
      if (written.exitCode !== 0) {
        await runShell(device, `pm install-abandon ${session}`, o.signal).catch(() => undefined);
        return commandOutcome({ exitCode: written.exitCode, output });
      }
    }
    const committed = await runShell(device, `pm install-commit ${session}`, o.signal);
    return commandOutcome({ exitCode: committed.exitCode, output: output + committed.output });
  } finally {
    if (!o.signal.aborted) await runShell(device, `rm -f ${staged.join(' ')}`, o.signal).catch(() => undefined);
  }
}

/**
 * CPH's push: the tar is unpacked here, into a folder of its own (node-tar keeps every entry inside
 * it: no absolute paths, no `..`), then its directories are made on the device (`mkdir -p`) and its
 * regular files sent over adb's sync service to the same paths under the device's root, with
 * their modes. Links and devices in the tar are skipped.
 */
async function push(device: DeviceClient, ref: ObsRef, o: { obsDir: string; signal: AbortSignal }): Promise<DriverOutcome> {
  const file = await findObject(o.obsDir, ref);
  if (!file) return objectMissing(ref);
  const work = await mkdtemp(join(tmpdir(), 'opencph-push-'));
  try {
    const entries: { path: string; dir: boolean; mode: number }[] = [];
    const skipped: string[] = [];
    try {
      await extract({
        file,
        cwd: work,
        strict: true,
        filter: (path, entry) => {
          const type = (entry as ReadEntry).type;
          const dir = type === 'Directory';
          if (!dir && type !== 'File') {
            skipped.push(`${path} (${type})`);
            return false;
          }
          const at = posix.normalize('/' + path).replace(/\/+$/, '');
          if (at !== '' && at !== '/') entries.push({ path: at, dir, mode: ((entry as ReadEntry).mode ?? (dir ? 0o755 : 0o644)) & 0o7777 });
          return true;
        },
      });
    } catch (err) {
      return commandOutcome({ exitCode: 1, output: `push: ${ref.uri} is not a tar file that can be unpacked: ${(err as Error).message}\n` });
    }
    // adbd makes a pushed file's parent directories itself: only directories left empty need mkdir.
    const holders = new Set(entries.filter((e) => !e.dir).map((e) => posix.dirname(e.path)));
    const dirs = new Set(entries.filter((e) => e.dir && ![...holders].some((h) => h === e.path || h.startsWith(e.path + '/'))).map((e) => e.path));
    const made: CommandResult = dirs.size ? await runShell(device, `mkdir -p ${[...dirs].map(shQuote).join(' ')}`, o.signal) : { exitCode: 0, output: '' };
    if (made.exitCode !== 0) return commandOutcome(made);
    const files = entries.filter((e) => !e.dir);
    for (const e of files) {
      try {
        await pushFile(device, join(work, ...e.path.slice(1).split('/')), e.path, e.mode);
      } catch (err) {
        return commandOutcome({ exitCode: 1, output: `adb: error: failed to copy '${e.path}': ${(err as Error).message}\n` });
      }
    }
    const lines = [
      `${ref.uri}: ${files.length} file${files.length === 1 ? '' : 's'} and ${entries.length - files.length} director${entries.length - files.length === 1 ? 'y' : 'ies'} unpacked to /`,
      ...skipped.map((s) => `skipped ${s}`),
      ...entries.map((e) => e.path),
    ];
    return commandOutcome({ exitCode: 0, output: lines.join('\n') + '\n' });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
