import { setTimeout as sleep } from 'node:timers/promises';
import { JobStatus } from '../domain/status.js';
import { getJobsByIds, type JobView } from '../store/jobs.js';
import type { EngineDeps } from './deps.js';

/**
 * Wait until every given job has finished or `deadline` (the clock's ms: under a virtual clock, an
 * advance past it ends the wait) passes, then return them as they are. Reads the database, so it
 * sees jobs run by any node; the pause between two reads is this process's own (real) time.
 */
export async function waitForJobs(deps: EngineDeps, projectId: string, jobIds: readonly string[], deadline: number, pollMs = 25): Promise<JobView[]> {
  for (;;) {
    const jobs = await getJobsByIds(deps.db, projectId, jobIds);
    const left = deadline - deps.clock.now();
    if (left <= 0 || jobs.every((j) => j.status !== JobStatus.Running)) return jobs;
    await sleep(Math.min(pollMs, left));
  }
}
