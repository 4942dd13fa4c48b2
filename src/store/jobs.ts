import { sql, type ExpressionBuilder, type RawBuilder, type Selectable } from 'kysely';
import { JobStatus } from '../domain/status.js';
import { directSqlite, preparedOnce, type Db, type ReadStore } from './db.js';
import { dialectOf, type DialectName } from './dialect.js';
import { hasUsableRules } from './rules.js';
import type { Database, JobTable } from './schema.js';

export type JobRow = Selectable<JobTable>;

/** A job as claimed: `has_rules` is 1 when its project had usable run-time rules at the claim. */
export type ClaimedJob = JobRow & { has_rules: number };

/**
 * Job states as they appear in conditions: written into the statement, not bound. The partial
 * indexes are defined by state, and SQLite compiles a statement again on every run when a bound
 * value could change whether such an index applies (as with a bound LIMIT).
 */
const DONE = sql.lit('done');
const RUNNING = sql.lit('running');
const PENDING = sql.lit('pending');

export interface NewJob {
  jobId: string;
  phoneId: string | null;
  serverId: string | null;
  /** Encode-server jobs only; phoneId and serverId are null then. */
  encodeServerId?: string | null;
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

/** Advisory lock key (PostgreSQL) that claims take turns on; start-up has its own (migrate.ts). */
export const CLAIM_LOCK = 0x0c9c1a1;

/**
 * The event writers' turn (the claim lock, decision 22), as a value of 1: PostgreSQL runs this
 * uncorrelated subquery once, when the expression holding it is first evaluated, so inside a CASE
 * branch it is taken only when that branch is.
 */
/** The event writers' turn (PostgreSQL's claim lock), as an expression a statement can take it in. */
export const EVENT_TURN = sql<number>`(select 1 from pg_advisory_xact_lock(${sql.lit(CLAIM_LOCK)}))`;

/**
 * Write one request and all its jobs; the caller wraps it in a transaction. The request's INSERT
 * also tells whether the project has usable refusing rules: only then is `refuse` called, between
 * the request and its jobs, to decide which jobs are written failed (decision 32). On PostgreSQL
 * that INSERT then also takes the event writers' turn, which the jobs' INSERT takes anyway: taken
 * after `refuse` has locked rules' rows, it could wait on a snapshot restore that holds the turn
 * and waits on those rows.
 */
export async function insertRequest(db: Db, r: NewRequest, refuse?: (db: Db) => Promise<void>): Promise<void> {
  const values = { request_id: r.requestId, project_id: r.projectId, operation: r.operation, created_at: r.now };
  if (refuse === undefined) await db.insertInto('requests').values(values).execute();
  else {
    const refusing = hasUsableRules(sql.val(r.projectId), true, dialectOf(db) === 'postgres' ? EVENT_TURN : undefined);
    const row = await db.insertInto('requests').values(values).returning(refusing.as('refusing')).executeTakeFirstOrThrow();
    if (Number(row.refusing) === 1) await refuse(db);
  }
  const rows = r.jobs.map((j) => ({
    job_id: j.jobId,
    project_id: r.projectId,
    request_id: r.requestId,
    operation: r.operation,
    phone_id: j.phoneId,
    server_id: j.serverId,
    encode_server_id: j.encodeServerId ?? null,
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
  // Keep each statement under SQLite's bound-parameter limit (18 columns × 50 rows).
  for (let i = 0; i < rows.length; i += 50) await db.insertInto('jobs').values(rows.slice(i, i + 50)).execute();
}

/** What ShowJob and sync commands show of a job; each column read is a value built per row. */
const JOB_COLUMNS = [
  'job_id',
  'phone_id',
  'server_id',
  'status',
  'error_code',
  'error_msg',
  'execute_msg',
  'begin_time',
  'end_time',
  'encode_server_id',
] as const;

export type JobView = Pick<JobRow, (typeof JOB_COLUMNS)[number]>;

/** The ListJobs query; `limit` as a literal (`sql.lit`) writes it into the statement text. */
function byRequests(db: Db, projectId: string, requestIds: readonly string[], offset: number, limit: number | RawBuilder<number>) {
  let q = db.selectFrom('jobs').select('list_json').where('project_id', '=', projectId);
  q = requestIds.length === 1 ? q.where('request_id', '=', requestIds[0]!) : q.where('request_id', 'in', requestIds);
  return q.orderBy('seq').limit(limit).offset(offset);
}

const byId = (db: Db, projectId: string, jobId: string) => db.selectFrom('jobs').select(JOB_COLUMNS).where('job_id', '=', jobId).where('project_id', '=', projectId);

/**
 * The ListJobs statement text for `n` request ids (1..20) and page size `limit` (1..100), compiled
 * once; its parameters are the project, the request ids, the offset. The limit is written into the
 * text: SQLite's planner takes a bound LIMIT into account, so a statement with `limit ?` is compiled
 * again every time it runs (a sixth of a ListJobs). At most 20 × 100 texts.
 */
const byRequestsSqlCache = new Map<string, string>();
function byRequestsSql(db: Db, n: number, limit: number): string {
  const key = `${n}:${limit}`;
  let text = byRequestsSqlCache.get(key);
  if (text === undefined) byRequestsSqlCache.set(key, (text = byRequests(db, '', new Array<string>(n).fill(''), 0, sql.lit(limit)).compile().sql));
  return text;
}
let byIdSql: string | undefined;

/** A raw row in JOB_COLUMNS order as a JobView; a literal builds faster than the driver's own row objects. */
const jobView = (r: unknown[]): JobView => ({
  job_id: r[0] as string,
  phone_id: r[1] as string | null,
  server_id: r[2] as string | null,
  status: r[3] as number,
  error_code: r[4] as string | null,
  error_msg: r[5] as string | null,
  execute_msg: r[6] as string | null,
  begin_time: r[7] as number,
  end_time: r[8] as number | null,
  encode_server_id: r[9] as string | null,
});

/**
 * ListJobs: the jobs of the given requests in submission order, each as its ListJobs item in JSON
 * text, as the database keeps it (jobItems.ts). Prepared on SQLite: see directSqlite.
 */
export async function listJobItems(store: ReadStore, projectId: string, requestIds: readonly string[], offset: number, limit: number): Promise<string[]> {
  const sqlite = directSqlite(store);
  if (sqlite) {
    if (!Number.isSafeInteger(limit) || limit < 0) throw new RangeError(`limit must be a whole number, not ${limit}`);
    return preparedOnce(sqlite, byRequestsSql(store.db, requestIds.length, limit), 'values').all(projectId, ...requestIds, offset) as string[];
  }
  return (await byRequests(store.db, projectId, requestIds, offset, limit).execute()).map((r) => r.list_json);
}

export async function getJob(store: ReadStore, projectId: string, jobId: string): Promise<JobView | undefined> {
  const sqlite = directSqlite(store);
  if (sqlite) {
    const row = preparedOnce(sqlite, (byIdSql ??= byId(store.db, '', '').compile().sql), 'arrays').get(jobId, projectId) as unknown[] | undefined;
    return row && jobView(row);
  }
  return byId(store.db, projectId, jobId).executeTakeFirst();
}

/** Jobs by id, in submission order (a sync call waits on its own jobs). */
export async function getJobsByIds(db: Db, projectId: string, jobIds: readonly string[]): Promise<JobView[]> {
  if (jobIds.length === 0) return [];
  return db.selectFrom('jobs').select(JOB_COLUMNS).where('project_id', '=', projectId).where('job_id', 'in', [...jobIds]).orderBy('seq').execute();
}

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
  /** Set for encode-server jobs (absent where a caller builds one without). */
  encodeServerId?: string | null;
}

/**
 * Take up to `max` runnable jobs and lease them to `owner`: read the unfinished jobs oldest first
 * (range scans of a partial index, whatever the planner thinks of the table), let `pick` choose
 * the runnable ones, and mark them running. Run inside a transaction. `pick` must decide from a
 * prefix alone (what it picks among the first n jobs does not depend on later ones) and stop at `max`.
 */
export async function claimJobs(
  db: Db,
  o: ClaimOptions,
  pick: (active: ActiveJob[], max: number, stuckAdbSlots: ReadonlyMap<string, number>) => number[],
): Promise<ClaimedJob[]> {
  if (o.max <= 0) return [];
  // Across nodes, claims take turns (a transaction-scoped advisory lock): "is anything older still
  // unfinished on this phone/server" then holds cluster-wide. A claim is a few milliseconds; the
  // jobs themselves run outside it.
  if (o.dialect === 'postgres') await sql`select pg_advisory_xact_lock(${CLAIM_LOCK})`.execute(db);
  // Read the unfinished set in growing chunks and stop once `pick` has all it may take: with a deep
  // queue the runnable jobs are nearly always among the first few hundred, and reading thousands of
  // rows per claim was most of a claim's cost. `pick` only ever looks at a prefix, so its choice on
  // the rows read so far is the choice it would make on the whole set.
  const scanLimit = o.scanLimit ?? 10_000;
  // Adb slots held by a fault (test-control extension): a table with a row per faulted server only.
  const stuck = new Map((await db.selectFrom('server_faults').select(['server_id', 'stuck_adb_slots']).execute()).map((r) => [r.server_id, r.stuck_adb_slots]));
  const active: ActiveJob[] = [];
  let seqs: number[] = [];
  for (let chunk = Math.min(256, scanLimit); ; chunk = Math.min(chunk * 4, scanLimit - active.length)) {
    const after = active.length > 0 ? active[active.length - 1]!.seq : 0;
    const rows = await db
      .selectFrom('jobs')
      .select(['seq', 'state', 'operation', 'phone_id as phoneId', 'server_id as serverId', 'encode_server_id as encodeServerId'])
      .where('state', '<>', DONE)
      .where('seq', '>', after)
      .orderBy('seq')
      // Written into the text, not bound: a bound LIMIT makes SQLite compile the statement anew each time.
      .limit(sql.lit(chunk))
      .execute();
    active.push(...rows);
    seqs = pick(active, o.max, stuck);
    if (seqs.length >= o.max || rows.length < chunk || active.length >= scanLimit) break;
  }
  if (seqs.length === 0) return [];
  return db
    .updateTable('jobs')
    .set((eb) => {
      const now = o.now();
      return { state: 'running', lease_owner: o.owner, lease_expires_at: now + o.leaseMs, start_time: now, attempts: eb('attempts', '+', 1) };
    })
    .where('seq', 'in', seqs)
    .where('state', '=', PENDING)
    .returningAll()
    // Whether the worker must read rules for this job, in the claim itself: nothing more to pay without rules.
    .returning(hasUsableRules(sql.ref('jobs.project_id'), false).as('has_rules'))
    .execute()
    .then((rows) => rows.sort((a, b) => a.seq - b.seq));
}

/**
 * Whether `owner` still holds the job at the attempt it runs (a restore may have replaced it). On
 * PostgreSQL the row is share-locked until the caller's transaction ends.
 */
export async function holdsJob(db: Db, dialect: DialectName, j: { seq: number; owner: string; attempt: number }): Promise<boolean> {
  const q = db.selectFrom('jobs').select('seq').where('seq', '=', j.seq).where('state', '=', RUNNING).where('lease_owner', '=', j.owner).where('attempts', '=', j.attempt);
  return (await (dialect === 'postgres' ? q.forShare() : q).executeTakeFirst()) !== undefined;
}

/** Extend this owner's leases; returns how many it still held. */
export async function renewLeases(db: Db, owner: string, seqs: readonly number[], until: number): Promise<number> {
  if (seqs.length === 0) return 0;
  const r = await db.updateTable('jobs').set({ lease_expires_at: until }).where('lease_owner', '=', owner).where('state', '=', RUNNING).where('seq', 'in', seqs).executeTakeFirst();
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
  return (await finishJobs(db, [r])).has(r.seq);
}

/** Rows per finishing statement: 8 parameters each stays far inside every bound-parameter limit. */
const FINISH_CHUNK = 500;

/**
 * Finish jobs, each only if its owner still holds it at the attempt that ran; returns the seqs that
 * were finished (the others were taken over). One statement per chunk rather than one per job:
 * a worker finishes everything that completed since its last flush at once.
 */
export async function finishJobs(db: Db, results: readonly JobResult[]): Promise<Set<number>> {
  const finished = new Set<number>();
  for (let i = 0; i < results.length; i += FINISH_CHUNK) {
    const values = results.slice(i, i + FINISH_CHUNK).map(
      (r) =>
        sql`(cast(${r.seq} as bigint), cast(${r.owner} as text), cast(${r.attempt} as integer), cast(${r.ok ? JobStatus.Success : JobStatus.Failure} as integer),
          cast(${r.errorCode ?? null} as text), cast(${r.errorMsg ?? null} as text), cast(${r.executeMsg ?? null} as text), cast(${r.endTime} as bigint))`,
    );
    const { rows } = await sql<{ seq: number }>`
      with v (seq, lease_owner, attempt, status, error_code, error_msg, execute_msg, end_time) as (values ${sql.join(values)})
      update jobs
      set state = 'done', status = v.status, error_code = v.error_code, error_msg = v.error_msg, execute_msg = v.execute_msg,
          end_time = v.end_time, lease_owner = null, lease_expires_at = null
      from v
      where jobs.seq = v.seq and jobs.state = 'running' and jobs.lease_owner = v.lease_owner and jobs.attempts = v.attempt
      returning jobs.seq`.execute(db);
    for (const row of rows) finished.add(Number(row.seq));
  }
  return finished;
}

/**
 * `state = 'running'`, for a query that has no seqs to go by. The unfinished-jobs partial indexes'
 * own predicate (`state <> 'done'`) is repeated beside it: SQLite uses a partial index only when
 * the query states its WHERE, and does not infer it from `= 'running'`; without it, finding the
 * few running jobs reads every job ever kept.
 */
const isRunning = (eb: ExpressionBuilder<Database, 'jobs'>) => eb.and([eb('state', '<>', DONE), eb('state', '=', RUNNING)]);

/** Running jobs whose lease ran out (their worker died or stalled), except `exclude` (the caller's own). */
export async function findExpired(db: Db, now: number, dialect: DialectName, exclude: readonly number[] = [], limit = 500): Promise<JobRow[]> {
  let q = db.selectFrom('jobs').selectAll().where(isRunning).where('lease_expires_at', '<', now).orderBy('seq').limit(limit);
  if (exclude.length > 0) q = q.where('seq', 'not in', [...exclude]);
  return (dialect === 'postgres' ? q.forUpdate().skipLocked() : q).execute();
}

export async function expireLeasesOf(db: Db, owner: string | null): Promise<number> {
  let q = db.updateTable('jobs').set({ lease_expires_at: 0 }).where(isRunning);
  if (owner !== null) q = q.where('lease_owner', '=', owner);
  const r = await q.executeTakeFirst();
  return Number(r.numUpdatedRows);
}

/** Which running jobs a requeue or fail may touch: those of one owner, or those whose lease ran out. */
export type LeaseGuard = { owner: string } | { expiredBefore: number };

/** Put running jobs back in the queue; they keep their place (seq) so per-phone order holds. */
export async function requeue(db: Db, seqs: readonly number[], guard: LeaseGuard): Promise<number> {
  if (seqs.length === 0) return 0;
  let q = db.updateTable('jobs').set({ state: 'pending', lease_owner: null, lease_expires_at: null }).where('state', '=', RUNNING).where('seq', 'in', seqs);
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
    .where('state', '=', RUNNING)
    .where('seq', 'in', seqs);
  q = 'owner' in guard ? q.where('lease_owner', '=', guard.owner) : q.where('lease_expires_at', '<', guard.expiredBefore);
  const r = await q.executeTakeFirst();
  return Number(r.numUpdatedRows);
}

/** Delete finished jobs that ended before `before`, and requests left with no job. */
export async function purgeFinished(db: Db, before: number, batch = 5000): Promise<number> {
  let total = 0;
  for (;;) {
    const old = await db.selectFrom('jobs').select('seq').where('state', '=', DONE).where('end_time', '<', before).limit(batch).execute();
    if (old.length === 0) break;
    await db.deleteFrom('jobs').where('seq', 'in', old.map((r) => r.seq)).execute();
    total += old.length;
  }
  await db
    .deleteFrom('requests')
    .where('created_at', '<', before)
    // The project too, so the check is a lookup in jobs_by_request (project_id, request_id, …).
    .where((eb) => eb.not(eb.exists(eb.selectFrom('jobs').select('seq').whereRef('jobs.project_id', '=', 'requests.project_id').whereRef('jobs.request_id', '=', 'requests.request_id'))))
    .execute();
  return total;
}

/**
 * How many jobs wait to start (all projects) and when the oldest of them was submitted (null when
 * none waits), in one statement: both read the unfinished-jobs index `jobs_active (state, seq)`,
 * the count within its 'pending' range, the oldest as that range's first entry (a job keeps its
 * submission order, seq, when it is put back in the queue). Read on each scrape of /metrics.
 */
export async function waitingJobs(db: Db): Promise<{ waiting: number; oldest: number | null }> {
  const { rows } = await sql<{ waiting: number | string; oldest: number | string | null }>`
    select (select count(*) from jobs where state <> ${DONE} and state = ${PENDING}) as waiting,
           (select begin_time from jobs where state <> ${DONE} and state = ${PENDING} order by state, seq limit 1) as oldest`.execute(db);
  const row = rows[0];
  return { waiting: Number(row?.waiting ?? 0), oldest: row?.oldest == null ? null : Number(row.oldest) };
}
