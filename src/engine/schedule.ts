import type { ActiveJob } from '../store/jobs.js';

/**
 * Which unfinished jobs may start now. Pure: given the unfinished jobs oldest first, a pending job is
 * runnable when nothing older blocks it —
 *  - a phone job waits for every older unfinished job on the same phone (per-phone FIFO) and for
 *    every older unfinished server-level job on its server;
 *  - a server-level job waits for every older unfinished job on its server, phone or server level.
 * The store reads the unfinished set and applies the choice; keeping the rule here keeps it in one
 * place for every database.
 */
export function pickRunnable(active: readonly ActiveJob[], max: number): number[] {
  const busyPhones = new Set<string>();
  const serversWithJobs = new Set<string>();
  const serversWithServerJobs = new Set<string>();
  const picked: number[] = [];
  for (const job of active) {
    if (picked.length >= max) break;
    const server = job.serverId ?? '';
    const isServerJob = job.phoneId === null;
    const blocked = isServerJob
      ? serversWithJobs.has(server)
      : busyPhones.has(job.phoneId!) || serversWithServerJobs.has(server);
    if (job.state === 'pending' && !blocked) picked.push(job.seq);
    if (isServerJob) serversWithServerJobs.add(server);
    else busyPhones.add(job.phoneId!);
    serversWithJobs.add(server);
  }
  return picked;
}
