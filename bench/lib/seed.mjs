import Database from 'better-sqlite3';
// Ids as the server mints them (the time they were minted, then random bits), for the times the
// seeded work is dated: the store's indexes over them are laid out as a real store's are.
import { idAt } from '../../dist/domain/ids.js';
import { PROJECT } from './common.mjs';

/** A deterministic generator, so every run stores the same mix of jobs. */
function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SHELL_OUTPUT = 'package:com.android.settings\npackage:com.android.chrome\npackage:com.example.app\n';

/**
 * Store `requests` finished batch requests of `perRequest` jobs each in a database the server has
 * already created (schema, project, fleet), straight into SQLite: one transaction per chunk, with
 * the jobs table's secondary indexes dropped during the load and rebuilt afterwards (the same
 * definitions, read back from the schema). Returns every request id and a sample of job ids.
 */
export function seedJobs(file, { requests, perRequest = 10, now = Date.now(), jobSample = 100_000 }) {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -1000000');
  const phones = db.prepare('select phone_id, server_id from phones where project_id = ? order by phone_id').all(PROJECT);
  if (phones.length === 0) throw new Error('the database has no phones to give jobs to');
  const indexes = db.prepare("select name, sql from sqlite_master where type = 'index' and tbl_name = 'jobs' and sql is not null").all();
  for (const i of indexes) db.exec(`drop index ${i.name}`);

  const insertRequest = db.prepare('insert into requests (request_id, project_id, operation, created_at) values (?, ?, ?, ?)');
  const insertJob = db.prepare(
    `insert into jobs (job_id, project_id, request_id, operation, phone_id, server_id, params, state, status,
       error_code, error_msg, execute_msg, begin_time, end_time, lease_owner, lease_expires_at, attempts)
     values (?, ?, ?, ?, ?, ?, ?, 'done', ?, ?, ?, ?, ?, ?, null, null, 1)`,
  );
  const random = rng(6);
  const requestIds = new Array(requests);
  const jobIds = [];
  // Jobs of the last week, oldest first, so none is old enough for retention to purge.
  const span = 7 * 86_400_000;
  const chunk = db.transaction((from, to) => {
    for (let r = from; r < to; r++) {
      const begin = now - span + Math.floor((r / requests) * span);
      const requestId = idAt(begin);
      requestIds[r] = requestId;
      const kind = random();
      const operation = kind < 0.6 ? 'phone.restart' : kind < 0.9 ? 'phone.shell' : 'phone.stop';
      const params = operation === 'phone.shell' ? JSON.stringify({ command: { command: 'shell', content: 'pm list packages' } }) : '{}';
      insertRequest.run(requestId, PROJECT, operation, begin);
      const first = Math.floor(random() * phones.length);
      for (let j = 0; j < perRequest; j++) {
        const phone = phones[(first + j) % phones.length];
        const failed = random() < 0.05;
        const jobId = idAt(begin);
        if (jobIds.length < jobSample) jobIds.push(jobId);
        else if (random() < jobSample / (r * perRequest + j + 1)) jobIds[Math.floor(random() * jobSample)] = jobId;
        insertJob.run(
          jobId,
          PROJECT,
          requestId,
          operation,
          phone.phone_id,
          phone.server_id,
          params,
          failed ? -1 : 2,
          failed ? 'CPS.0022' : null,
          failed ? `The phone is not available. Phone ${phone.phone_id} is stopped (status 8).` : null,
          operation === 'phone.shell' && !failed ? SHELL_OUTPUT : null,
          begin,
          begin + 1000 + Math.floor(random() * 30_000),
        );
      }
    }
  });
  const step = 10_000;
  for (let r = 0; r < requests; r += step) chunk(r, Math.min(requests, r + step));
  for (const i of indexes) db.exec(i.sql);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return { requestIds, jobIds };
}
