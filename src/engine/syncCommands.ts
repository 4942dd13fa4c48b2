import type { ShellCommand } from '../domain/commands.js';
import { CphError, Errors, invalidParameter } from '../domain/errors.js';
import { Limits } from '../domain/limits.js';
import { JobStatus } from '../domain/status.js';
import type { JobView } from '../store/jobs.js';
import { takeCallSlot } from '../store/rateLimits.js';
import type { EngineDeps } from './deps.js';
import type { SubmittedJob, Submitted } from './submit.js';
import { waitForJobs } from './wait.js';

/** Which phones a command runs on: the listed phones, else every phone of the listed servers. */
export interface CommandTargets {
  phoneIds?: readonly string[];
  serverIds?: readonly string[];
}

/** One phone's answer to a sync command (CPH's RunSyncCommandJob). */
export interface SyncCommandJob extends SubmittedJob {
  status: number;
  error_code: string;
  error_msg: string;
  execute_msg: string;
}

export type SyncCommandAnswer =
  | { ok: true; requestId: string; jobs: SyncCommandJob[] }
  /** The project has made its calls for this minute: nothing was submitted. */
  | { ok: false; error: CphError; retryAfterSeconds: number };

/** Submits a command's jobs (the engine's submit, with the phone count a call may reach). */
export type SubmitCommand = (params: Record<string, unknown>, maxPhones: number) => Promise<Submitted>;

const sync = Limits.syncCommands;

/**
 * The entry of a sync answer: the batch entry with the job's status and output as the call ends
 * (status 1 if it has not finished); absent strings are "", as in ListJobs.
 */
function answerOf(entry: SubmittedJob, j: JobView | undefined): SyncCommandJob {
  return {
    ...entry,
    status: j?.status ?? JobStatus.Running,
    error_code: j?.error_code ?? entry.error_code ?? '',
    error_msg: j?.error_msg ?? entry.error_msg ?? '',
    execute_msg: j?.execute_msg ?? '',
  };
}

/**
 * RunSyncCommand: at most 15 phones and 6 calls a minute per project (counted in the database, so
 * on every node); each command gets 2 s, and the call waits for them at most 30 s.
 */
export async function runSyncCommand(
  deps: EngineDeps,
  projectId: string,
  command: ShellCommand,
  targets: CommandTargets,
  submit: SubmitCommand,
): Promise<SyncCommandAnswer> {
  if (targets.phoneIds && targets.phoneIds.length > sync.maxPhones) throw new CphError(invalidParameter('phone_ids'), `At most ${sync.maxPhones} phones per call.`);
  const now = deps.clock.now();
  const slot = await takeCallSlot(deps.db, deps.dialect, { projectId, name: 'sync-commands', now, windowMs: sync.windowMs, max: sync.callsPerWindow });
  if (!slot.ok) {
    const seconds = Math.ceil(slot.retryAfterMs / 1000);
    return { ok: false, retryAfterSeconds: seconds, error: new CphError(Errors.tooManySyncCommands, `At most ${sync.callsPerWindow} calls per minute per project; try again in ${seconds} s.`) };
  }
  // A command that could not start before the call ends is failed, not run after the caller left.
  const r = await submit({ command, timeoutMs: sync.perPhoneMs, notAfter: now + sync.perCallMs }, sync.maxPhones);
  const views = await waitForJobs(deps, projectId, r.jobs.map((j) => j.job_id), now + sync.perCallMs);
  const done = new Map(views.map((j) => [j.job_id, j]));
  return { ok: true, requestId: r.requestId, jobs: r.jobs.map((j) => answerOf(j, done.get(j.job_id))) };
}
