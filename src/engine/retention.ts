import { purgeEvents } from '../store/events.js';
import { purgeFinished } from '../store/jobs.js';
import type { EngineDeps } from './deps.js';

/**
 * Delete finished jobs older than the retention period, and the events as old (a stream or a
 * webhook resumes within the jobs' own lifetime), now and then every `intervalMs`.
 */
export function startRetention(deps: EngineDeps, retentionMs: number, intervalMs = 3_600_000): () => void {
  const run = async () => {
    try {
      const before = deps.clock.now() - retentionMs;
      const purged = await purgeFinished(deps.db, before);
      await purgeEvents(deps.db, before);
      if (purged) deps.log.info({ purged, retentionDays: retentionMs / 86_400_000 }, 'finished jobs purged');
    } catch (err) {
      deps.log.error({ err }, 'purging finished jobs failed');
    }
  };
  void run();
  // On the clock: a virtual clock runs it once per advance that passes an hour mark.
  return deps.clock.every(run, intervalMs);
}
