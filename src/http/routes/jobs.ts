import type { FastifyInstance } from 'fastify';
import { CphError, Errors } from '../../domain/errors.js';
import { isMintedId } from '../../domain/ids.js';
import { Limits } from '../../domain/limits.js';
import type { ReadStore } from '../../store/db.js';
import { getJob, listJobItems } from '../../store/jobs.js';
import { errorResponses, projectParams } from '../schemas/common.js';
import { listJobsQuery, listJobsResponse, showJobParams, showJobResponse } from '../schemas/jobs.js';
import { listJobsBody, showJob } from '../wire.js';

/** What Fastify itself sends with a serialized body. */
const JSON_TYPE = 'application/json; charset=utf-8';

interface ListJobsQuery {
  request_id?: string;
  request_ids?: string;
  offset: number;
  limit: number;
}

/** `request_ids` wins over `request_id`; empty entries are ignored, repeats count once. */
function requestIdsOf(q: Pick<ListJobsQuery, 'request_id' | 'request_ids'>): string[] {
  const raw = q.request_ids !== undefined ? q.request_ids.split(',') : q.request_id !== undefined ? [q.request_id] : [];
  const ids = [...new Set(raw.map((s) => s.trim()).filter((s) => s.length > 0))];
  if (ids.length === 0) throw new CphError(Errors.invalidRequestId, 'Give request_id or request_ids.');
  if (ids.length > Limits.listJobs.maxRequestIds) throw new CphError(Errors.invalidRequestId, `At most ${Limits.listJobs.maxRequestIds} request ids.`);
  const bad = ids.find((id) => !isMintedId(id));
  if (bad !== undefined) throw new CphError(Errors.invalidRequestId, 'A request id is 32 lowercase hex characters.');
  return ids;
}

export async function jobRoutes(app: FastifyInstance, { store }: { store: ReadStore }): Promise<void> {
  const pageErrors = { errorCodes: { offset: Errors.pageParams, limit: Errors.pageParams, request_id: Errors.invalidRequestId, request_ids: Errors.invalidRequestId } };

  app.get<{ Params: { project_id: string }; Querystring: ListJobsQuery }>(
    '/jobs',
    {
      config: pageErrors,
      schema: {
        operationId: 'ListJobs',
        summary: 'Jobs of one or more batch requests',
        tags: ['jobs'],
        params: projectParams,
        querystring: listJobsQuery,
        response: { 200: listJobsResponse, ...errorResponses },
      },
    },
    // The body is built as text (see listJobsBody); the response schema above documents it.
    async (req, reply) => {
      const ids = requestIdsOf(req.query);
      const items = await listJobItems(store, req.params.project_id, ids, req.query.offset, req.query.limit);
      return reply.type(JSON_TYPE).send(listJobsBody(req.id, items));
    },
  );

  app.get<{ Params: { project_id: string; job_id: string } }>(
    '/jobs/:job_id',
    {
      config: { errorCodes: { job_id: Errors.jobNotFound } },
      schema: {
        operationId: 'ShowJob',
        summary: 'One job by id',
        tags: ['jobs'],
        params: showJobParams,
        response: { 200: showJobResponse, ...errorResponses },
      },
    },
    async (req) => {
      const job = isMintedId(req.params.job_id) ? await getJob(store, req.params.project_id, req.params.job_id) : undefined;
      if (!job) throw new CphError(Errors.jobNotFound);
      return showJob(job, req.id);
    },
  );
}
