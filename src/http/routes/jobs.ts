import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { CphError, Errors } from '../../domain/errors.js';
import { isMintedId, newId } from '../../domain/ids.js';
import { Limits } from '../../domain/limits.js';
import { tenthsOfMs, type AccessLog } from '../../runtime/log.js';
import type { ReadStore } from '../../store/db.js';
import { getJob, listJobItems } from '../../store/jobs.js';
import type { AnswerBatch } from '../batch.js';
import { headerIn, type Authenticator, type ProjectCheck } from '../../auth/authenticator.js';
import { errorAnswer, renderThrown } from '../plugins/errors.js';
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

export interface ListJobsLaneDeps {
  store: ReadStore;
  authenticator: Authenticator;
  checkProject: ProjectCheck;
  accessLog: AccessLog;
  logger: Logger;
  /** Where the answers wait for the rest of their turn's (see batch.ts). */
  answers: AnswerBatch;
  /** True once the app has begun to close: calls then go to Fastify, which refuses them. */
  closing: () => boolean;
}

/** The one form of ListJobs the lane takes: a project and a single minted request id, nothing else. */
const POLL_TARGET = /^\/v1\/([0-9a-f]{32})\/cloud-phone\/jobs\?request_id=([0-9a-f]{32})$/;

/**
 * ListJobs as clients poll it, `GET /v1/{project}/cloud-phone/jobs?request_id={id}` with no body,
 * answered straight on node:http: the call clients repeat hardest, and Fastify's request cycle
 * (routing, hooks, validation, reply) was a sixth of its CPU. It takes only targets whose every
 * part is already valid, so nothing is left to validate: the same authenticator and project check
 * as the routes, the same read and body, the same error answers and request line; the answers are
 * written together at the end of the event loop's turn (batch.ts). Anything else
 * (other parameters, a body, HEAD, a trailing slash, a closing app) answers false, untouched, and
 * goes to Fastify. test/http/jobs-lane.test.ts holds the two to the same answers.
 */
export function listJobsLane(d: ListJobsLaneDeps): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    if (req.method !== 'GET' || req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined || d.closing()) return false;
    const target = POLL_TARGET.exec(req.url!);
    if (target === null) return false;
    const started = performance.now();
    const id = newId();
    let ms = 0;
    const send = (status: number, body: string) =>
      d.answers.add(
        () => {
          const headers: Record<string, string | number> = { 'x-request-id': id, 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(body) };
          // As the app's onSend hook does for calls in flight when it begins to close.
          if (d.closing()) headers['connection'] = 'close';
          ms = tenthsOfMs(performance.now() - started);
          try {
            res.writeHead(status, headers);
            res.end(body);
          } catch (err) {
            // Only a socket gone wrong fails here: end the connection.
            d.logger.error({ reqId: id, err }, 'request failed');
            res.destroy();
          }
        },
        // The request line once every answer of the batch is out: a log written line by line
        // (to a pipe) would otherwise come between them.
        () => d.accessLog.write({ reqId: id, method: 'GET', path: req.url!, status, ms }),
      );
    const projectId = target[1]!;
    // Started in a promise, so that an authenticator that throws at once still answers 500.
    Promise.resolve()
      .then(() => d.authenticator.authenticate({ method: 'GET', url: req.url!, header: headerIn(req.headers), body: undefined, pathProjectId: projectId }))
      .then((caller) => d.checkProject(caller, projectId))
      .then(() => listJobItems(d.store, projectId, [target[2]!], 0, Limits.listJobs.limitDefault))
      .then(
        (items) => send(200, listJobsBody(id, items)),
        (err: unknown) => {
          const e = renderThrown(err);
          if (!(err instanceof CphError)) d.logger.error({ reqId: id, err }, 'request failed');
          send(e.status, JSON.stringify(errorAnswer(id, e)));
        },
      )
      // Nothing past the read is expected to fail; should building an answer throw, the
      // connection ends rather than hangs.
      .catch((err: unknown) => {
        d.logger.error({ reqId: id, err }, 'request failed');
        res.destroy();
      });
    return true;
  };
}
