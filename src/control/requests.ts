import type { FastifyInstance } from 'fastify';
import { Errors } from '../domain/errors.js';
import { formatUtc } from '../domain/time.js';
import { pageQuery } from '../http/schemas/common.js';
import { listJobsItem } from '../http/schemas/jobs.js';
import type { RouteDeps } from '../http/types.js';
import { listRequests, PHONE_REQUEST_WINDOW } from '../store/requests.js';
import { answerWith, controlSchema, type ProjectParams } from './schema.js';

/**
 * A project's recent requests with their jobs counted by status: what a console shows as "recent
 * work" and CPH has no call for (ListJobs needs the request ids). The jobs themselves are read with
 * ListJobs.
 */

const int = { type: 'integer' } as const;
const requestsQuery = {
  type: 'object',
  properties: {
    ...pageQuery(100, 20),
    phone_id: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$', description: `Only requests with a job on this phone, among the project's newest ${PHONE_REQUEST_WINDOW}` },
  },
} as const;

const requestsAnswer = answerWith('requests', {
  type: 'array',
  items: {
    type: 'object',
    required: ['request_id', 'operation', 'create_time', 'jobs', 'running', 'succeeded', 'failed'],
    properties: {
      request_id: { type: 'string' },
      operation: { type: 'string' },
      create_time: { type: 'string', description: 'UTC, as CPH writes times' },
      jobs: int,
      running: { ...int, description: 'jobs at status 1 (waiting or running)' },
      succeeded: { ...int, description: 'jobs at status 2' },
      failed: { ...int, description: 'jobs at status -1' },
      job: { ...listJobsItem.oneOf[0], description: "With phone_id: the phone's job in the request, as ListJobs shows it" },
    },
  },
});

export async function requestRoutes(app: FastifyInstance, { store }: RouteDeps): Promise<void> {
  app.get<{ Params: ProjectParams; Querystring: { offset: number; limit: number; phone_id?: string } }>(
    '/requests',
    {
      config: { errorCodes: { phone_id: Errors.invalidPhoneId } },
      schema: controlSchema({
        operationId: 'OpenCphListRequests',
        summary: "The project's requests, newest first, with their jobs counted by status",
        querystring: requestsQuery,
        ok: requestsAnswer,
      }),
    },
    async (req) => {
      const q = req.query;
      const rows = await listRequests(store, req.params.project_id, { offset: q.offset, limit: q.limit }, q.phone_id);
      return {
        request_id: req.id,
        requests: rows.map((r) => ({
          request_id: r.requestId,
          operation: r.operation,
          create_time: formatUtc(r.createdAt),
          jobs: r.jobs,
          running: r.running,
          succeeded: r.succeeded,
          failed: r.failed,
          ...(r.phoneJob !== undefined ? { job: JSON.parse(r.phoneJob) as unknown } : {}),
        })),
      };
    },
  );
}
