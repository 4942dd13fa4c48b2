import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import pg from 'pg';
import { PROJECT, round } from './common.mjs';

/**
 * The engine benchmark's baseline: the same durable work with nothing but SQL on the same schema.
 * Per batch of 100 jobs, three transactions: write the request and its jobs (pending), take them
 * (running, leased), finish them (done, status 2) with the phones' new status. No HTTP, no
 * scheduling, no driver: what the store alone allows on this machine.
 */

const id = () => randomBytes(16).toString('hex');
const COLUMNS = 'job_id, project_id, request_id, operation, phone_id, server_id, params, state, status, begin_time, attempts';

export function sqliteBaseline(file, { total, batch, sync }) {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${sync}`);
  const phones = db.prepare('select phone_id, server_id from phones order by phone_id limit ?').all(batch);
  const insertRequest = db.prepare('insert into requests (request_id, project_id, operation, created_at) values (?, ?, ?, ?)');
  const insertJob = db.prepare(`insert into jobs (${COLUMNS}) values (?, ?, ?, 'phone.restart', ?, ?, '{}', 'pending', 1, ?, 0)`);
  const take = db.prepare(`update jobs set state = 'running', lease_owner = 'baseline', lease_expires_at = ?, attempts = attempts + 1 where project_id = '${PROJECT}' and request_id = ? and state = 'pending'`);
  const finish = db.prepare(`update jobs set state = 'done', status = 2, end_time = ?, lease_owner = null, lease_expires_at = null where project_id = '${PROJECT}' and request_id = ? and state = 'running'`);
  const phoneDone = db.prepare('update phones set status = 2, update_time = ? where phone_id = ?');
  const submit = db.transaction((requestId, now) => {
    insertRequest.run(requestId, PROJECT, 'phone.restart', now);
    for (const p of phones) insertJob.run(id(), PROJECT, requestId, p.phone_id, p.server_id, now);
  });
  const claim = db.transaction((requestId, now) => take.run(now + 30_000, requestId));
  const done = db.transaction((requestId, now) => {
    finish.run(now, requestId);
    for (const p of phones) phoneDone.run(now, p.phone_id);
  });
  const t0 = performance.now();
  for (let n = 0; n < total; n += batch) {
    const requestId = id();
    submit(requestId, Date.now());
    claim(requestId, Date.now());
    done(requestId, Date.now());
  }
  const seconds = (performance.now() - t0) / 1000;
  db.close();
  return { jobs: total, seconds: round(seconds), jobsPerSecond: Math.round(total / seconds) };
}

export async function pgBaseline(url, { total, batch }) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const phones = (await c.query('select phone_id, server_id from phones order by phone_id limit $1', [batch])).rows;
    const tx = async (fn) => {
      await c.query('begin');
      await fn();
      await c.query('commit');
    };
    const t0 = performance.now();
    for (let n = 0; n < total; n += batch) {
      const requestId = id();
      const now = Date.now();
      await tx(async () => {
        await c.query('insert into requests (request_id, project_id, operation, created_at) values ($1, $2, $3, $4)', [requestId, PROJECT, 'phone.restart', now]);
        const values = phones.map((_, i) => `($${i * 4 + 1}, '${PROJECT}', $${i * 4 + 2}, 'phone.restart', $${i * 4 + 3}, $${i * 4 + 4}, '{}', 'pending', 1, ${now}, 0)`);
        await c.query(`insert into jobs (${COLUMNS}) values ${values.join(', ')}`, phones.flatMap((p) => [id(), requestId, p.phone_id, p.server_id]));
      });
      await tx(() => c.query(`update jobs set state = 'running', lease_owner = 'baseline', lease_expires_at = $1, attempts = attempts + 1 where project_id = '${PROJECT}' and request_id = $2 and state = 'pending'`, [now + 30_000, requestId]));
      await tx(async () => {
        await c.query(`update jobs set state = 'done', status = 2, end_time = $1, lease_owner = null, lease_expires_at = null where project_id = '${PROJECT}' and request_id = $2 and state = 'running'`, [Date.now(), requestId]);
        await c.query('update phones set status = 2, update_time = $1 where phone_id = any($2)', [Date.now(), phones.map((p) => p.phone_id)]);
      });
    }
    const seconds = (performance.now() - t0) / 1000;
    return { jobs: total, seconds: round(seconds), jobsPerSecond: Math.round(total / seconds) };
  } finally {
    await c.end();
  }
}
