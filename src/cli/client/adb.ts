import { Limits } from '../../domain/limits.js';
import { Command } from 'commander';
import { listJobs, resolvePhones, runCommand, runSyncCommand, type Job } from './api.js';
import { follow, run, submitted, verb, withTargets, withWait } from './common.js';
import { CliError, Exit } from './errors.js';
import { json, print } from './output.js';
import { namesOf } from './phones.js';
import { targetOf } from './wait.js';

/** `opencph shell`, `install`, `uninstall`, `push`: CPH's adb commands, one job per phone. */

/** RunSyncCommand takes this many phones a call. */
const SYNC_PHONES = Limits.syncCommands.maxPhones;

/** The words after `--` on the command line (commander drops the `--` from the operands). */
function afterDashes(cmd: Command): string[] {
  let root: Command = cmd;
  while (root.parent) root = root.parent;
  const raw = (root as unknown as { rawArgs: string[] }).rawArgs ?? process.argv;
  const at = raw.indexOf('--');
  return at < 0 ? [] : raw.slice(at + 1);
}

function printOutputs(jobs: readonly Job[], names: ReadonlyMap<string, string>): void {
  for (const j of jobs) {
    const outcome = j.status === 2 ? '' : j.status === 1 ? ' (still running)' : ` (failed: ${j.error_code ?? ''} ${j.error_msg ?? ''})`.replace(/ \)$/, ')');
    print(`== ${targetOf(j, names)}${outcome}\n`);
    const out = j.execute_msg ?? '';
    if (out) print(out.endsWith('\n') ? out : out + '\n');
  }
}

export function shellCommand(): Command {
  return withWait(
    withTargets(
      verb(
        'shell',
        'run a shell command on phones and print each phone\'s output (RunSyncCommand: 2 s per phone; --async for longer commands)',
        "opencph shell phone-1 phone-2 -- getprop ro.product.model\nopencph shell --server server-1 --async --wait -- 'pm list packages -3'",
      ),
    ),
  )
    .argument('[phones...]', 'phone ids or names, then -- and the command')
    .option('--async', 'run it as a batch job (RunShellCommand) instead; with --wait, print the outputs when the jobs end')
    .action(
      run(async (s, [operands], o, cmd) => {
        const words = afterDashes(cmd);
        if (words.length === 0) throw new CliError('Give the command after --, e.g. `opencph shell phone-1 -- getprop ro.product.model`.');
        const names = (operands as string[]).slice(0, (operands as string[]).length - words.length);
        const command = words.join(' ');
        const phones = await resolvePhones(s, names, o.server);
        const ids = phones.map((p) => p.phone_id);
        const byName = namesOf(phones);
        if ((cmd.opts() as { async?: boolean }).async) {
          const answer = await runCommand(s, 'shell', command, ids);
          if (!o.wait) return submitted(s, answer, o, byName);
          const status = await follow(s, [answer.request_id], { ...o, output: o.output === 'json' ? 'json' : 'table' }, byName, new Map(answer.jobs.map((j) => [j.job_id, answer.request_id])));
          if (o.output !== 'json' && status !== Exit.timeout) printOutputs(await listJobs(s, [answer.request_id]), byName);
          return status;
        }
        const jobs: Job[] = [];
        const requestIds: string[] = [];
        for (let i = 0; i < ids.length; i += SYNC_PHONES) {
          const answer = await runSyncCommand(s, command, ids.slice(i, i + SYNC_PHONES));
          requestIds.push(answer.request_id);
          jobs.push(...answer.jobs);
        }
        if (o.output === 'json') print(json({ request_ids: requestIds, jobs }));
        else printOutputs(jobs, byName);
        return jobs.every((j) => j.status === 2) ? Exit.ok : Exit.failed;
      }),
    );
}

function adbVerb(name: 'install' | 'uninstall' | 'push', what: string, description: string, example: string): Command {
  return withWait(withTargets(verb(name, description, example)))
    .argument(what.includes('obs') ? '<obs-uri>' : '<package>', what)
    .argument('[phones...]', 'phone ids or names')
    .action(
      run(async (s, [content, names], o) => {
        const phones = await resolvePhones(s, names as string[], o.server);
        return submitted(s, await runCommand(s, name, content as string, phones.map((p) => p.phone_id)), o, namesOf(phones));
      }),
    );
}

export function adbCommands(): Command[] {
  return [
    shellCommand(),
    adbVerb('install', 'the APK, obs://bucket/path.apk', 'install an APK from OBS on phones (InstallApk)', 'opencph install obs://apps/shop.apk phone-1 phone-2 --wait'),
    adbVerb('uninstall', 'the package name', 'uninstall a package from phones (UninstallApk)', 'opencph uninstall com.example.shop --server server-1 --wait'),
    adbVerb('push', 'the tar, obs://bucket/path.tar', "push a tar from OBS and unpack it into phones' root, data/… landing in /data (PushFile)", 'opencph push obs://files/fixtures.tar phone-1 --wait'),
  ];
}
