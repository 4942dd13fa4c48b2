import { sql, type Selectable } from 'kysely';
import { JobStatus } from '../domain/status.js';
import type { Db } from './db.js';
import type { DialectName } from './dialect.js';
import type { JobTable } from './schema.js';

export type JobRow = Selectable<JobTable>;

export interface NewJob {
  jobId: string;
  phoneId: string | null;
  serverId: string | null;
  params: unknown;
  /** Set when the target cannot run: the job is written already failed. */
  failed?: { code: string; message: string };
}

export interface NewRequest {
  requestId: string;
  projectId: string;
  operation: string;
  now: number;
  jobs: NewJob[];
}

/** Write one request and all its jobs; the caller wraps it in a transaction. */
export async function insertRequest(db: Db, r: NewRequest): Promise<void> {
  await db.insertInto('requests').values({ request_id: r.requestId, project_id: r.projectId, operation: r.operation, created_at: r.now }).execute();
  const rows = r.jobs.map((j) => ({
    job_id: j.jobId,
    project_id: r.projectId,
    request_id: r.requestId,
    operation: r.operation,
    phone_id: j.phoneId,
    server_id: j.serverId,
    params: JSON.stringify(j.params ?? {}),
    state: j.failed ? 'done' : 'pending',
    status: j.failed ? JobStatus.Failure : JobStatus.Running,
    error_code: j.failed?.code ?? null,
    error_msg: j.failed?.message ?? null,
    execute_msg: null,
    begin_time: r.now,
    end_time: j.failed ? r.now : null,
    lease_owner: null,
    lease_expires_at: null,
    attempts: 0,
  }));
  // Keep each statement under SQLite's bound-parameter limit (17 columns × 50 rows).
  for (let i = 0; i < rows.length; i += 50) await db.insertInto('jobs').values(rows.slice(i, i + 50)).execute();
}

const JOB_COLUMNS = [
  'seq',
  'job_id',
  'request_id',
  'operation',
  'phone_id',
  'server_id',
  'status',
  'error_code',
  'error_msg',
  'execute_msg',
  'begin_time',
  'end_time',
] as const;

export type JobView = Pick<JobRow, (typeof JOB_COLUMNS)[number]>;

/** Jobs of the given requests in submission order. */
export async function listJobsByRequests(db: Db, projectId: string, requestIds: readonly string[], offset: number, limit: number): Promise<JobView[]> {
  let q = db.selectFrom('jobs').select(JOB_COLUMNS).where('project_id', '=', projectId);
  q = requestIds.length === 1 ? q.where('request_id', '=', requestIds[0]!) : q.where('request_id', 'in', requestIds);
  return q.orderBy('seq').limit(limit).offset(offset).execute();
}

export async function getJob(db: Db, projectId: string, jobId: string): Promise<JobView | undefined> {
  return db.selectFrom('jobs').select(JOB_COLUMNS).where('job_id', '=', jobId).where('project_id', '=', projectId).executeTakeFirst();
}

/** Jobs by id, in submission order (a sync call waits on its own jobs). */
export async function getJobsByIds(db: Db, projectId: string, jobIds: readonly string[]): Promise<JobView[]> {
  if (jobIds.length === 0) return [];
  return db.selectFrom('jobs').select(JOB_COLUMNS).where('project_id', '=', projectId).where('job_id', 'in', [...jobIds]).orderBy('seq').execute();
}

export interface ClaimOptions {
  owner: string;
  max: number;
  now: number;
  leaseMs: number;
  dialect: DialectName;
  /** Operations that are adb work on the phone's server (install, push, shell, …). */
  adbOperations?: readonly string[];
  /** How many adb jobs may run at once on one server. */
  serverAdbConcurrency?: number;
}

/**
 * The server adb slot rule: an adb job may start only while fewer than `limit` earlier adb jobs on
 * its server are unfinished. Running jobs are always among the first `limit` unfinished ones (jobs
 * ahead of them only leave), so at most `limit` run per server, and they start in submission order.
 * The inner `limit` keeps the count bounded however long the server's queue is.
 */
function serverAdbSlot(adbOperations: readonly string[], limit: number) {
  if (adbOperations.length === 0) return sql`true`;
  const adb = sql.join(adbOperations.map((o) => sql`${o}`));
  return sql`(j.operation not in (${adb}) or (
      select count(*) from (
        select 1 from jobs k
        where k.server_id = j.server_id and k.state <> 'done' and k.seq < j.seq and k.operation in (${adb})
        limit ${limit}
      ) ahead
    ) < ${limit})`;
}

/**
 * Take up to `max` runnable jobs and lease them to `owner`. A job is runnable when it is pending and
 * nothing older blocks it: an unfinished earlier job on the same phone (per-phone FIFO), an
 * unfinished earlier server-level job on its server, or — for a server-level job — any unfinished
 * earlier job on that server; and for adb work, the server's adb slots (`serverAdbSlot`).
 * Run inside a transaction.
 */
export async function claimJobs(db: Db, o: ClaimOptions): Promise<JobRow[]> {
  if (o.max <= 0) return [];
  const lock = o.dialect === 'postgres' ? sql`for update of j skip locked` : sql``;
  const candidates = await sql<{ seq: number }>`
    select j.seq from jobs j
    where j.state = 'pending'
      and not exists (select 1 from jobs k where k.phone_id = j.phone_id and k.state <> 'done' and k.seq < j.seq)
      and not exists (select 1 from jobs k where k.server_id = j.server_id and k.phone_id is null and k.state <> 'done' and k.seq < j.seq)
      and (j.phone_id is not null or not exists (select 1 from jobs k where k.server_id = j.server_id and k.state <> 'done' and k.seq < j.seq))
      and ${serverAdbSlot(o.adbOperations ?? [], o.serverAdbConcurrency ?? 1)}
    order by j.seq
    limit ${o.max}
    ${lock}`.execute(db);
  const seqs = candidates.rows.map((r) => Number(r.seq));
  if (seqs.length === 0) return [];
  return db
    .updateTable('jobs')
    .set((eb) => ({ state: 'running', lease_owner: o.owner, lease_expires_at: o.now + o.leaseMs, attempts: eb('attempts', '+', 1) }))
    .where('seq', 'in', seqs)
    .returningAll()
    .execute()
    .then((rows) => rows.sort((a, b) => a.seq - b.seq));
}

export async function renewLeases(db: Db, owner: string, seqs: readonly number[], until: number): Promise<void> {
  if (seqs.length === 0) return;
  await db.updateTable('jobs').set({ lease_expires_at: until }).where('lease_owner', '=', owner).where('state', '=', 'running').where('seq', 'in', seqs).execute();
}

export interface JobResult {
  seq: number;
  owner: string;
  ok: boolean;
  errorCode?: string | null;
  errorMsg?: string | null;
  executeMsg?: string | null;
  endTime: number;
}

/** Finish a job, but only if this owner still holds it (a lost lease means another worker took it over). */
export async function finishJob(db: Db, r: JobResult): Promise<boolean> {
  const res = await db
    .updateTable('jobs')
    .set({
      state: 'done',
      status: r.ok ? JobStatus.Success : JobStatus.Failure,
      error_code: r.errorCode ?? null,
      error_msg: r.errorMsg ?? null,
      execute_msg: r.executeMsg ?? null,
      end_time: r.endTime,
      lease_owner: null,
      lease_expires_at: null,
    })
    .where('seq', '=', r.seq)
    .where('state', '=', 'running')
    .where('lease_owner', '=', r.owner)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) > 0;
}

/** Running jobs whose lease ran out (their worker died or stalled). */
export async function findExpired(db: Db, now: number, dialect: DialectName, limit = 500): Promise<JobRow[]> {
  const q = db.selectFrom('jobs').selectAll().where('state', '=', 'running').where('lease_expires_at', '<', now).orderBy('seq').limit(limit);
  return (dialect === 'postgres' ? q.forUpdate().skipLocked() : q).execute();
}

export async function expireLeasesOf(db: Db, owner: string | null): Promise<number> {
  let q = db.updateTable('jobs').set({ lease_expires_at: 0 }).where('state', '=', 'running');
  if (owner !== null) q = q.where('lease_owner', '=', owner);
  const r = await q.executeTakeFirst();
  return Number(r.numUpdatedRows);
}

/** Which running jobs a requeue or fail may touch: those of one owner, or those whose lease ran out. */
export type LeaseGuard = { owner: string } | { expiredBefore: number };

/** Put running jobs back in the queue; they keep their place (seq) so per-phone order holds. */
export async function requeue(db: Db, seqs: readonly number[], guard: LeaseGuard): Promise<number> {
  if (seqs.length === 0) return 0;
  let q = db.updateTable('jobs').set({ state: 'pending', lease_owner: null, lease_expires_at: null }).where('state', '=', 'running').where('seq', 'in', seqs);
  q = 'owner' in guard ? q.where('lease_owner', '=', guard.owner) : q.where('lease_expires_at', '<', guard.expiredBefore);
  const r = await q.executeTakeFirst();
  return Number(r.numUpdatedRows);
}

/** Fail running jobs that may not be re-run. */
export async function failRunning(db: Db, seqs: readonly number[], guard: LeaseGuard, code: string, message: string, now: number): Promise<number> {
  if (seqs.length === 0) return 0;
  let q = db
    .updateTable('jobs')
    .set({ state: 'done', status: JobStatus.Failure, error_code: code, error_msg: message, end_time: now, lease_owner: null, lease_expires_at: null })
    .where('state', '=', 'running')
    .where('seq', 'in', seqs);
  q = 'owner' in guard ? q.where('lease_owner', '=', guard.owner) : q.where('lease_expires_at', '<', guard.expiredBefore);
  const r = await q.executeTakeFirst();
  return Number(r.numUpdatedRows);
}

/** Delete finished jobs that ended before `before`, and requests left with no job. */
export async function purgeFinished(db: Db, before: number, batch = 5000): Promise<number> {
  let total = 0;
  for (;;) {
    const old = await db.selectFrom('jobs').select('seq').where('state', '=', 'done').where('end_time', '<', before).limit(batch).execute();
    if (old.length === 0) break;
    await db.deleteFrom('jobs').where('seq', 'in', old.map((r) => r.seq)).execute();
    total += old.length;
  }
  await db
    .deleteFrom('requests')
    .where('created_at', '<', before)
    .where((eb) => eb.not(eb.exists(eb.selectFrom('jobs').select('seq').whereRef('jobs.request_id', '=', 'requests.request_id'))))
    .execute();
  return total;
}

export async function countByState(db: Db): Promise<Record<string, number>> {
  const rows = await db.selectFrom('jobs').select(['state', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('state').execute();
  return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
}
