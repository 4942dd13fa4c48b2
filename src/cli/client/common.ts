import { Command, Option } from 'commander';
import type { Job, Submitted } from './api.js';
import { CliError, Exit } from './errors.js';
import { defaultOutput, json, parseOutput, print, table, type OutputFormat } from './output.js';
import { Session } from './session.js';
import { reportJobs, targetOf, waitForJobs } from './wait.js';

/** What every client verb takes, and how a verb runs: its session opened, failures explained, its exit status set. */

export interface CommonOptions {
  profile?: string;
  output: OutputFormat;
  wait?: boolean;
  timeout?: number;
  server: string[];
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new CliError(`--timeout takes a number of seconds above 0, not "${value}".`);
  return n;
}

/** A client verb: --profile and --output, an example in its help. */
export function verb(name: string, description: string, example: string): Command {
  return new Command(name)
    .description(description[0]!.toUpperCase() + description.slice(1))
    .option('--profile <name>', 'the profile to use (default: $OPENCPH_PROFILE, else "default")')
    .addOption(new Option('-o, --output <format>', 'table or json').argParser(parseOutput).default(defaultOutput(), defaultOutput()))
    .addHelpText('after', `\nExample:\n${example.replace(/^/gm, '  $ ')}\n`);
}

/** Phones named by id or name, or every phone of a server. */
export function withTargets(cmd: Command): Command {
  return cmd.option('--server <id|name>', 'every phone of this server (repeatable)', collect, []);
}

/** A batch verb: --wait and --timeout. */
export function withWait(cmd: Command): Command {
  return cmd
    .option('-w, --wait', 'wait until every job has ended; exit status 0 only if all succeeded')
    .option('--timeout <seconds>', 'with --wait: give up after this long (exit status 124; the jobs go on)', seconds);
}

/** The verb's action: `run` gets a session, its positional arguments and options, and returns an exit status. */
export function run(fn: (s: Session, args: any[], o: CommonOptions, cmd: Command) => Promise<number | void>) {
  return async (...all: unknown[]): Promise<void> => {
    const cmd = all[all.length - 1] as Command;
    const o = cmd.opts() as CommonOptions;
    const args = all.slice(0, -2);
    const session = Session.open(o.profile);
    const status = await fn(session, args, o, cmd);
    if (status) process.exitCode = status;
  };
}

/** Print what a batch call answered, and with --wait follow its jobs to their end. */
export async function submitted(s: Session, answer: Submitted, o: CommonOptions, names: ReadonlyMap<string, string>): Promise<number> {
  const refused = answer.jobs.filter((j) => j.error_code);
  if (!o.wait) {
    if (o.output === 'json') print(json(answer));
    else {
      print(`request ${answer.request_id}\n`);
      print(jobsTable(answer.jobs, names, refused.length > 0));
    }
    return refused.length > 0 ? Exit.failed : Exit.ok;
  }
  return follow(s, [answer.request_id], o, names, new Map(answer.jobs.map((j) => [j.job_id, answer.request_id])));
}

/** --wait: progress while the jobs run, then what failed. */
export async function follow(s: Session, requestIds: string[], o: CommonOptions, names: ReadonlyMap<string, string>, known?: ReadonlyMap<string, string>): Promise<number> {
  const progress = o.output === 'json' ? process.stderr : process.stdout;
  if (o.output !== 'json') print(`waiting for request${requestIds.length > 1 ? 's' : ''} ${requestIds.join(' ')}\n`);
  const timeoutMs = o.timeout === undefined ? undefined : o.timeout * 1000;
  const { jobs, timedOut } = await waitForJobs(s, requestIds, { timeoutMs, progress, names, known });
  return reportJobs(jobs, requestIds, timedOut, o.output, names, timeoutMs);
}

export function jobsTable(jobs: readonly Job[], names: ReadonlyMap<string, string>, withErrors = true): string {
  return table(jobs, [
    { title: 'JOB_ID', value: (j) => j.job_id },
    { title: 'TARGET', value: (j) => targetOf(j, names) },
    ...(withErrors
      ? [
          { title: 'ERROR_CODE', value: (j: Job) => j.error_code },
          { title: 'ERROR_MSG', value: (j: Job) => j.error_msg },
        ]
      : []),
  ]);
}

