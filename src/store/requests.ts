import { sql, type ExpressionBuilder } from 'kysely';
import { JobStatus } from '../domain/status.js';
import { readRows, type ReadStore } from './db.js';
import type { Database, RequestTable } from './schema.js';

/** A request as the console lists it: its operation, when, and how its jobs stand. */
export interface RequestSummary {
  requestId: string;
  operation: string;
  createdAt: number;
  jobs: number;
  running: number;
  succeeded: number;
  failed: number;
  /** With a phone: its job in the request, as ListJobs shows it (JSON text, store/jobItems.ts). */
  phoneJob?: string;
}

/** How far back a phone's requests are looked for: the project's newest this many. */
export const PHONE_REQUEST_WINDOW = 500;

const count = (status: number) => sql<number>`sum(case when j.status = ${sql.lit(status)} then 1 else 0 end)`;

/**
 * A project's requests, newest first, with their jobs counted by status. With a phone, only the
 * requests among the newest PHONE_REQUEST_WINDOW that have a job on it: jobs are indexed by
 * request, not by phone, and an index per phone would cost every submission.
 */
export async function listRequests(
  store: ReadStore,
  projectId: string,
  page: { offset: number; limit: number },
  phoneId?: string,
): Promise<RequestSummary[]> {
  let q = store.db
    .selectFrom('requests as r')
    .leftJoin('jobs as j', (join) => join.onRef('j.project_id', '=', 'r.project_id').onRef('j.request_id', '=', 'r.request_id'))
    .select([
      'r.request_id',
      'r.operation',
      'r.created_at',
      sql<number>`count(j.job_id)`.as('jobs'),
      count(JobStatus.Running).as('running'),
      count(JobStatus.Success).as('succeeded'),
      count(JobStatus.Failure).as('failed'),
    ])
    .where('r.project_id', '=', projectId)
    .groupBy(['r.request_id', 'r.operation', 'r.created_at'])
    .orderBy('r.created_at', 'desc')
    .orderBy('r.request_id', 'desc')
    .limit(page.limit)
    .offset(page.offset);
  if (phoneId !== undefined) {
    const recent = store.db
      .selectFrom('requests')
      .select('request_id')
      .where('project_id', '=', projectId)
      .orderBy('created_at', 'desc')
      .limit(PHONE_REQUEST_WINDOW);
    const phoneJob = (eb: ExpressionBuilder<Database & { r: RequestTable }, 'r'>) =>
      eb
        .selectFrom('jobs as p')
        .select('p.list_json')
        .whereRef('p.project_id', '=', 'r.project_id')
        .whereRef('p.request_id', '=', 'r.request_id')
        .where('p.phone_id', '=', phoneId)
        .orderBy('p.seq')
        .limit(1);
    const rows = await readRows(store, q.select((eb) => phoneJob(eb).as('phone_job')).where('r.request_id', 'in', recent).where((eb) => eb.exists(phoneJob(eb))));
    return rows.map((r) => ({ ...summary(r), phoneJob: r.phone_job ?? undefined }));
  }
  return (await readRows(store, q)).map(summary);
}

function summary(r: { request_id: string; operation: string; created_at: number; jobs: number; running: number; succeeded: number; failed: number }): RequestSummary {
  return {
    requestId: r.request_id,
    operation: r.operation,
    createdAt: Number(r.created_at),
    jobs: Number(r.jobs),
    running: Number(r.running),
    succeeded: Number(r.succeeded),
    failed: Number(r.failed),
  };
}
