import type { FastifyInstance } from 'fastify';
import { CphError, Errors } from '../../domain/errors.js';
import { encodeServerStatusesFor } from '../../domain/status.js';
import { Operations } from '../../engine/operations.js';
import { listEncodeServers } from '../../store/encodeServers.js';
import { batchResponse, errorResponses, projectParams } from '../schemas/common.js';
import { listEncodeServersQuery, listEncodeServersResponse, restartEncodeServersBody } from '../schemas/encodeServers.js';
import type { RouteDeps } from '../types.js';
import * as wire from '../wire.js';

type ProjectParams = { project_id: string };
interface ListEncodeServersQuery {
  offset: number;
  limit: number;
  type?: number;
  status?: number;
  server_id?: string;
}

export async function encodeServerRoutes(app: FastifyInstance, { store, engine }: RouteDeps): Promise<void> {
  const tags = ['encode-servers'];

  app.get<{ Params: ProjectParams; Querystring: ListEncodeServersQuery }>(
    '/encode-servers',
    {
      config: { errorCodes: { offset: Errors.pageParams, limit: Errors.pageParams, status: Errors.invalidStatus, server_id: Errors.invalidServerId } },
      schema: { operationId: 'ListEncodeServers', summary: 'List encode servers, newest first', tags, params: projectParams, querystring: listEncodeServersQuery, response: { 200: listEncodeServersResponse, ...errorResponses } },
    },
    async (req) => {
      const q = req.query;
      // The query's status values are not the model's (cph-api.md §9 item 8): map one to the other.
      const statuses = q.status === undefined ? undefined : encodeServerStatusesFor(q.status);
      if (q.status !== undefined && statuses === undefined) throw new CphError(Errors.invalidStatus);
      const rows = await listEncodeServers(store, req.params.project_id, { type: q.type, statuses, serverId: q.server_id }, { offset: q.offset, limit: q.limit });
      return { request_id: req.id, encode_servers: rows.map(wire.encodeServer) };
    },
  );

  app.post<{ Params: ProjectParams; Body: { encode_server_ids: string[] } }>(
    '/encode-servers/batch-restart',
    {
      config: { errorCodes: { 'encode_server_ids[]': Errors.batchInvalidEncodeServerId } },
      schema: {
        operationId: 'RestartEncodeServer',
        summary: 'Restart encode servers',
        tags,
        params: projectParams,
        body: restartEncodeServersBody,
        response: { 200: batchResponse('encode_server_id'), ...errorResponses },
      },
    },
    async (req) => {
      const r = await engine.submitEncodeServers(req.id, req.params.project_id, Operations.restartEncodeServer, req.body.encode_server_ids);
      return { request_id: r.requestId, jobs: r.jobs };
    },
  );
}
