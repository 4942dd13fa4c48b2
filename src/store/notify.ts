import pg from 'pg';
import { sql } from 'kysely';
import type { Logger } from 'pino';
import type { Db } from './db.js';
import type { DialectName } from './dialect.js';

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
  let client: pg.Client | undefined;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;
  const connect = async () => {
    const c = new pg.Client({ connectionString: url });
    c.on('notification', onNotify);
    c.on('error', (err) => {
      log.warn({ err }, 'job notification connection lost; reconnecting');
      void c.end().catch(() => undefined);
      schedule();
    });
    try {
      await c.connect();
      await c.query(`listen ${CHANNEL}`);
      if (stopped) await c.end();
      else client = c;
    } catch (err) {
      log.warn({ err }, 'cannot listen for job notifications; relying on polling');
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
