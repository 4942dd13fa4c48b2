import { Errors } from '../domain/errors.js';
import { takeEventTurn } from '../store/events.js';
import { failRunning, findExpired, requeue, type LeaseGuard } from '../store/jobs.js';
import type { JobRow } from '../store/jobs.js';
import type { EngineDeps } from './deps.js';
import { MAX_ATTEMPTS, operationByName } from './operations.js';

/** Why an interrupted job fails instead of running again; undefined means it may run again. */
export function whyNotRerun(job: Pick<JobRow, 'operation' | 'attempts'>): string | undefined {
  const op = operationByName(job.operation);
  if (!op) return `its operation ${job.operation} is unknown to this node`;
  if (!op.retryable) return 'it may already have had its effect on the phone';
  if (job.attempts >= MAX_ATTEMPTS) return `it was already started ${job.attempts} times`;
  return undefined;
}

/**
 * Hand interrupted jobs back: those that may run again go back to the queue in their place, the
 * others fail with a message that says why. Every job ends at 2 or -1; none stays at 1.
 */
export async function settleInterrupted(deps: EngineDeps, jobs: readonly JobRow[], guard: LeaseGuard, cause: string): Promise<{ requeued: number; failed: number }> {
  const rerun: number[] = [];
  const failures = new Map<string, number[]>();
  for (const job of jobs) {
    const reason = whyNotRerun(job);
    if (reason === undefined) rerun.push(job.seq);
    else failures.set(reason, [...(failures.get(reason) ?? []), job.seq]);
  }
  const now = deps.clock.now();
  let failed = 0;
  const requeued = await requeue(deps.db, rerun, guard);
  for (const [reason, seqs] of failures) {
    failed += await failRunning(deps.db, seqs, guard, Errors.internal.code, `${Errors.internal.message} The job was interrupted (${cause}) and was not run again: ${reason}.`, now);
  }
  if (requeued || failed) deps.log.warn({ requeued, failed, cause }, 'interrupted jobs settled');
  return { requeued, failed };
}

/**
 * Settle every running job whose lease has run out: its worker died or lost the database. Jobs in
 * `ownRunning` are still being run by the caller (its renewal was merely late) and are left alone.
 */
export async function recoverExpired(deps: EngineDeps, ownRunning: ReadonlySet<number> = new Set()): Promise<{ requeued: number; failed: number }> {
  const now = deps.clock.now();
  const settled = await deps.db.transaction().execute(async (trx) => {
    // Before the rows are locked: settling them writes events (decision 22).
    await takeEventTurn(trx, deps.dialect);
    const expired = await findExpired(trx, now, deps.dialect, [...ownRunning]);
    if (expired.length === 0) return { requeued: 0, failed: 0 };
    return settleInterrupted({ ...deps, db: trx }, expired, { expiredBefore: now }, 'its lease ran out: the node running it stopped');
  });
  // Counted once committed: a transaction that failed settled nothing.
  if (settled.requeued || settled.failed) deps.metrics?.recovered(settled.requeued, settled.failed);
  return settled;
}
