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

/** Advisory lock keys (PostgreSQL): one for claims, one for start-up (migrate and seed). */
export const CLAIM_LOCK = 0x0c9c1a1;
export const STARTUP_LOCK = 0x0c9c1a2;

export interface ClaimOptions {
  owner: string;
  max: number;
  /** Read after the claim lock is held, so a wait for the lock does not shorten the lease. */
  now: () => number;
  leaseMs: number;
  dialect: DialectName;
  /** How many of the oldest unfinished jobs one claim looks at. */
  scanLimit?: number;
}

/** An unfinished job as the scheduler sees it. */
export interface ActiveJob {
  seq: number;
  state: string;
  operation: string;
  phoneId: string | null;
  serverId: string | null;
}

/**
 * Take up to `max` runnable jobs and lease them to `owner`: read the unfinished jobs oldest first
 * (one range scan of a partial index, whatever the planner thinks of the table), let `pick` choose
 * the runnable ones, and mark them running. Run inside a transaction.
 */
export async function claimJobs(db: Db, o: ClaimOptions, pick: (active: ActiveJob[], max: number) => number[]): Promise<JobRow[]> {
  if (o.max <= 0) return [];
  // Across nodes, claims take turns (a transaction-scoped advisory lock): "is anything older still
  // unfinished on this phone/server" then holds cluster-wide. A claim is a few milliseconds; the
  // jobs themselves run outside it.
  if (o.dialect === 'postgres') await sql`select pg_advisory_xact_lock(${CLAIM_LOCK})`.execute(db);
  const active = await db
    .selectFrom('jobs')
    .select(['seq', 'state', 'operation', 'phone_id as phoneId', 'server_id as serverId'])
    .where('state', '<>', 'done')
    .orderBy('seq')
    .limit(o.scanLimit ?? 10_000)
    .execute();
  const seqs = pick(active, o.max);
  if (seqs.length === 0) return [];
  return db
    .updateTable('jobs')
    .set((eb) => ({ state: 'running', lease_owner: o.owner, lease_expires_at: o.now() + o.leaseMs, attempts: eb('attempts', '+', 1) }))
    .where('seq', 'in', seqs)
    .where('state', '=', 'pending')
    .returningAll()
    .execute()
    .then((rows) => rows.sort((a, b) => a.seq - b.seq));
}

/** Extend this owner's leases; returns how many it still held. */
export async function renewLeases(db: Db, owner: string, seqs: readonly number[], until: number): Promise<number> {
  if (seqs.length === 0) return 0;
  const r = await db.updateTable('jobs').set({ lease_expires_at: until }).where('lease_owner', '=', owner).where('state', '=', 'running').where('seq', 'in', seqs).executeTakeFirst();
  return Number(r.numUpdatedRows);
}

export interface JobResult {
  seq: number;
  owner: string;
  /** The claim this result belongs to: a job re-claimed since then is not finished by a stale run. */
  attempt: number;
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
    .where('attempts', '=', r.attempt)
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
