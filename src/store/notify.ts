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

/** What a node does when another tells it something: new jobs to claim, new events to stream. */
export interface Listeners {
  jobs?: () => void;
  events?: () => void;
}

/**
 * Listen for job notifications and for event notifications (raised by the event triggers at
 * commit, store/events.ts) on one dedicated connection per node, reconnecting when it drops.
 * Polling stays on as the safety net; this only makes other nodes' work and events reach this one
 * without waiting for the next poll.
 */
export function listenForNotifications(url: string, on: Listeners, log: Logger): () => Promise<void> {
  const handlers = new Map<string, () => void>();
  if (on.jobs) handlers.set(CHANNEL, on.jobs);
  if (on.events) handlers.set(EVENTS_CHANNEL, on.events);
  return listen(url, handlers, log);
}

function listen(url: string, handlers: ReadonlyMap<string, () => void>, log: Logger): () => Promise<void> {
  const channel = [...handlers.keys()].join(', ');
  let client: pg.Client | undefined;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;
  const connect = async () => {
    const c = new pg.Client({ connectionString: url });
    c.on('notification', (n) => handlers.get(n.channel)?.());
    c.on('error', (err) => {
      log.warn({ err, channel }, 'notification connection lost; reconnecting');
      void c.end().catch(() => undefined);
      schedule();
    });
    try {
      await c.connect();
      for (const name of handlers.keys()) await c.query(`listen ${name}`);
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
