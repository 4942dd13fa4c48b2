import { listJobs, type Job } from './api.js';
import { CliError, Exit } from './errors.js';
import { json, table, type OutputFormat } from './output.js';
import type { Session } from './session.js';

/**
 * Following requests until every job ends, by polling ListJobs (`request_ids=a,b,…`). On a terminal
 * one live line (done, failed and running per request, elapsed time) is redrawn with `\r`; elsewhere
 * one plain line is written per job as it ends. The exit status is 0 only if every job ended 2.
 */

export const POLL_MS = 500;

export interface WaitOptions {
  /** Give up after this long (the jobs go on); undefined waits until they end. */
  timeoutMs?: number;
  /** Where progress goes: stdout for tables, stderr when stdout carries JSON. */
  progress: NodeJS.WriteStream;
  /** Names of targets by id, to show beside ids. */
  names: ReadonlyMap<string, string>;
  /** The request of each job already known (a batch call's answer lists its jobs). */
  known?: ReadonlyMap<string, string>;
}

const ended = (j: Job) => j.status !== 1;

export function targetOf(j: Job, names: ReadonlyMap<string, string>): string {
  const id = j.phone_id ?? j.encode_server_id ?? j.server_id ?? '';
  const name = names.get(id);
  return name ? `${name} (${id})` : id;
}

function counts(jobs: readonly Job[]) {
  let done = 0;
  let failed = 0;
  let running = 0;
  for (const j of jobs) {
    if (j.status === 2) done++;
    else if (j.status === 1) running++;
    else failed++;
  }
  return { done, failed, running };
}

function progressLine(requestIds: readonly string[], jobs: readonly Job[], elapsedMs: number): string {
  const per = (jobs: readonly Job[]) => {
    const c = counts(jobs);
    return `${c.done} done, ${c.failed} failed, ${c.running} running`;
  };
  // A request by the tail of its id: ids begin with their time, so requests made together share a head.
  const parts =
    requestIds.length <= 3
      ? requestIds.map((r) => `…${r.slice(-8)}: ${per(jobs.filter((j) => j.request_id === r))}`)
      : [`${requestIds.length} requests: ${per(jobs)}`];
  return `${parts.join(' | ')} | ${Math.floor(elapsedMs / 1000)}s`;
}

export function jobLine(j: Job, names: ReadonlyMap<string, string>): string {
  const outcome = j.status === 2 ? 'succeeded' : j.status === 1 ? 'running' : `failed ${j.error_code ?? ''} ${j.error_msg ?? ''}`.trimEnd();
  return `job ${j.job_id} ${targetOf(j, names)}: ${outcome}`;
}

export async function waitForJobs(s: Session, requestIds: readonly string[], o: WaitOptions): Promise<{ jobs: Job[]; timedOut: boolean }> {
  const start = Date.now();
  const tty = o.progress.isTTY === true;
  const told = new Set<string>();
  // ListJobs items do not name their request: learn each request's jobs once (they are fixed when
  // it is made), then poll all the requests together.
  const requestOf = new Map(o.known ?? []);
  for (const r of requestIds) {
    if ([...requestOf.values()].includes(r)) continue;
    const jobs = await listJobs(s, [r]);
    if (jobs.length === 0) throw new CliError(`No jobs for request ${r}: is it a request id of this project?`);
    for (const j of jobs) requestOf.set(j.job_id, r);
  }
  for (;;) {
    const jobs = (await listJobs(s, [...requestIds])).map((j) => ({ ...j, request_id: requestOf.get(j.job_id) ?? j.request_id }));
    if (tty) o.progress.write(`\r${progressLine(requestIds, jobs, Date.now() - start)}\x1b[K`);
    else {
      for (const j of jobs) {
        if (ended(j) && !told.has(j.job_id)) {
          told.add(j.job_id);
          o.progress.write(jobLine(j, o.names) + '\n');
        }
      }
    }
    const finished = jobs.length > 0 && jobs.every(ended);
    const timedOut = !finished && o.timeoutMs !== undefined && Date.now() - start + POLL_MS > o.timeoutMs;
    if (finished || timedOut) {
      if (tty) o.progress.write('\n');
      return { jobs, timedOut };
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** The end of a wait: what failed (with its codes) or that all succeeded; the exit status. */
export function reportJobs(jobs: readonly Job[], requestIds: readonly string[], timedOut: boolean, format: OutputFormat, names: ReadonlyMap<string, string>, timeoutMs?: number): number {
  const c = counts(jobs);
  const failed = jobs.filter((j) => j.status !== 1 && j.status !== 2);
  if (format === 'json') {
    process.stdout.write(json({ request_ids: requestIds, ...c, timed_out: timedOut, jobs }));
  } else {
    const parts = [`${jobs.length} job${jobs.length === 1 ? '' : 's'}: ${c.done} succeeded, ${c.failed} failed`];
    if (c.running > 0) parts.push(`${c.running} still running`);
    process.stdout.write(parts.join(', ') + '\n');
    if (failed.length > 0) {
      process.stdout.write(
        table(failed, [
          { title: 'JOB_ID', value: (j) => j.job_id },
          { title: 'TARGET', value: (j) => targetOf(j, names) },
          { title: 'ERROR_CODE', value: (j) => j.error_code },
          { title: 'ERROR_MSG', value: (j) => j.error_msg },
        ]),
      );
    }
  }
  if (timedOut) {
    process.stderr.write(`opencph: timed out after ${Math.round((timeoutMs ?? 0) / 1000)} s with ${c.running} job(s) still running; \`opencph jobs wait ${requestIds.join(' ')}\` follows them again.\n`);
    return Exit.timeout;
  }
  return failed.length > 0 ? Exit.failed : Exit.ok;
}
