import pg from 'pg';
import { sql } from 'kysely';
import type { Logger } from 'pino';
import type { Db } from './db.js';
import type { DialectName } from './dialect.js';
import { EVENTS_CHANNEL } from './events.js';

/** PostgreSQL channel on which nodes tell each other that new jobs are waiting. */
const CHANNEL = 'opencph_jobs';

/** Wake the workers of every node (PostgreSQL); a no-op on SQLite, where there is only one node. */
export async function notifyJobs(db: Db, dialect: DialectName): Promise<void> {
  if (dialect === 'postgres') await sql`select pg_notify(${CHANNEL}, '')`.execute(db);
}

/**
 * Listen for job notifications on a dedicated connection, reconnecting when it drops. Polling stays
 * on as the safety net; this only makes other nodes' work start without waiting for the next poll.
 */
export function listenJobs(url: string, onNotify: () => void, log: Logger): () => Promise<void> {
  return listen(url, CHANNEL, onNotify, log);
}

/**
 * Listen for event notifications (raised by the event triggers at commit, store/events.ts), as
 * listenJobs does for jobs: every node's streams and webhook delivery wake at once.
 */
export function listenEvents(url: string, onNotify: () => void, log: Logger): () => Promise<void> {
  return listen(url, EVENTS_CHANNEL, onNotify, log);
}

function listen(url: string, channel: string, onNotify: () => void, log: Logger): () => Promise<void> {
  let client: pg.Client | undefined;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;
  const connect = async () => {
    const c = new pg.Client({ connectionString: url });
    c.on('notification', onNotify);
    c.on('error', (err) => {
      log.warn({ err, channel }, 'notification connection lost; reconnecting');
      void c.end().catch(() => undefined);
      schedule();
    });
    try {
      await c.connect();
      await c.query(`listen ${channel}`);
      if (stopped) await c.end();
      else client = c;
    } catch (err) {
      log.warn({ err, channel }, 'cannot listen for notifications; relying on polling');
      void c.end().catch(() => undefined);
      schedule();
    }
  };
  const schedule = () => {
    if (stopped) return;
    client = undefined;
    retry = setTimeout(() => void connect(), 1000);
    retry.unref();
  };
  void connect();
  return async () => {
    stopped = true;
    if (retry) clearTimeout(retry);
    await client?.end().catch(() => undefined);
  };
}
