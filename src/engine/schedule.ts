import type { ActiveJob } from '../store/jobs.js';

/**
 * Which unfinished jobs may start now. Pure: given the unfinished jobs oldest first, a pending job is
 * runnable when nothing older blocks it —
 *  - a phone job waits for every older unfinished job on the same phone (per-phone FIFO) and for
 *    every older unfinished server-level job on its server;
 *  - a server-level job waits for every older unfinished job on its server, phone or server level;
 *  - an encode-server job waits for every older unfinished job on the same encode server (FIFO per
 *    encode server) and for nothing else: an encode server is not one of its server's phones;
 *  - adb work (install, push, shell…) also needs one of its server's adb slots: it starts only while
 *    fewer than `serverAdbConcurrency` older adb jobs on that server are unfinished (CPH documents that
 *    batch adb work on a server blocks the server's other adb tasks).
 * The store reads the unfinished set and applies the choice; keeping the rule here keeps it in one
 * place for every database.
 */
export interface SlotRules {
  adbOperations: ReadonlySet<string>;
  serverAdbConcurrency: number;
  /** Slots per server held by a fault from outside any job (test-control extension): they count as adb jobs ahead. */
  stuckAdbSlots?: ReadonlyMap<string, number>;
}

const NO_SLOTS: SlotRules = { adbOperations: new Set(), serverAdbConcurrency: Infinity };

export function pickRunnable(active: readonly ActiveJob[], max: number, slots: SlotRules = NO_SLOTS): number[] {
  const adb = slots.adbOperations;
  const adbAhead = new Map<string, number>();
  const busyPhones = new Set<string>();
  const serversWithJobs = new Set<string>();
  const serversWithServerJobs = new Set<string>();
  const busyEncodeServers = new Set<string>();
  const picked: number[] = [];
  for (const job of active) {
    if (picked.length >= max) break;
    const encodeServer = job.encodeServerId;
    if (encodeServer != null) {
      if (job.state === 'pending' && !busyEncodeServers.has(encodeServer)) picked.push(job.seq);
      busyEncodeServers.add(encodeServer);
      continue;
    }
    const server = job.serverId ?? '';
    const isServerJob = job.phoneId === null;
    const isAdb = adb.has(job.operation);
    const blocked = isServerJob
      ? serversWithJobs.has(server)
      : busyPhones.has(job.phoneId!) || serversWithServerJobs.has(server) || (isAdb && (adbAhead.get(server) ?? 0) + (slots.stuckAdbSlots?.get(server) ?? 0) >= slots.serverAdbConcurrency);
    if (job.state === 'pending' && !blocked) picked.push(job.seq);
    if (isAdb) adbAhead.set(server, (adbAhead.get(server) ?? 0) + 1);
    if (isServerJob) serversWithServerJobs.add(server);
    else busyPhones.add(job.phoneId!);
    serversWithJobs.add(server);
  }
  return picked;
}
