import { sql } from 'kysely';
import { JobStatus } from '../domain/status.js';
import { readRows, type ReadStore } from './db.js';

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
  // The page of requests first (through requests_by_project_age), then only its jobs are counted.
  let requests = store.db
    .selectFrom('requests as q')
    .select(['q.request_id', 'q.project_id', 'q.operation', 'q.created_at'])
    .where('q.project_id', '=', projectId)
    .orderBy('q.created_at', 'desc')
    .orderBy('q.request_id', 'desc')
    .limit(page.limit)
    .offset(page.offset);
  if (phoneId !== undefined) {
    const recent = store.db
      .selectFrom('requests')
      .select('request_id')
      .where('project_id', '=', projectId)
      .orderBy('created_at', 'desc')
      .orderBy('request_id', 'desc')
      .limit(PHONE_REQUEST_WINDOW);
    requests = requests.where('q.request_id', 'in', recent).where((eb) =>
      eb.exists(
        eb
          .selectFrom('jobs as p')
          .select(sql.lit(1).as('one'))
          .whereRef('p.project_id', '=', 'q.project_id')
          .whereRef('p.request_id', '=', 'q.request_id')
          .where('p.phone_id', '=', phoneId),
      ),
    );
  }
  const q = store.db
    .selectFrom(requests.as('r'))
    .leftJoin('jobs as j', (join) => join.onRef('j.project_id', '=', 'r.project_id').onRef('j.request_id', '=', 'r.request_id'))
    .select([
      'r.request_id',
      'r.operation',
      'r.created_at',
      sql<number>`count(j.job_id)`.as('jobs'),
      count(JobStatus.Running).as('running'),
      count(JobStatus.Success).as('succeeded'),
      count(JobStatus.Failure).as('failed'),
      // With a phone, its job in each request, as ListJobs shows it (one job per phone and request).
      sql<string | null>`max(case when j.phone_id = ${phoneId ?? null} then j.list_json end)`.as('phone_job'),
    ])
    .groupBy(['r.request_id', 'r.operation', 'r.created_at'])
    .orderBy('r.created_at', 'desc')
    .orderBy('r.request_id', 'desc');
  const rows = await readRows(store, q);
  return rows.map((r) => ({ ...summary(r), ...(phoneId !== undefined && r.phone_job !== null ? { phoneJob: r.phone_job } : {}) }));
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
