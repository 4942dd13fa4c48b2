import type { FastifyInstance } from 'fastify';
import { CphError, Errors, invalidParameter } from '../../domain/errors.js';
import { SERVER_STATUSES } from '../../domain/status.js';
import { isValidName } from '../../domain/text.js';
import type { RouteDeps } from '../types.js';
import { Operations } from '../../engine/operations.js';
import { getServer, listServers, renameServer } from '../../store/fleet.js';
import { serverResources } from '../../store/serverOrders.js';
import { batchResponse, errorResponses, projectParams, requestIdOnly } from '../schemas/common.js';
import { listServersQuery, listServersResponse, restartServersBody, serverDetailSchema, serverNameBody, serverParams } from '../schemas/fleet.js';
import * as wire from '../wire.js';

type ProjectParams = { project_id: string };
type ServerParams = ProjectParams & { server_id: string };
interface ListServersQuery {
  offset: number;
  limit: number;
  server_name?: string;
  server_id?: string;
  network_version?: string;
  phone_model_name?: string;
  create_since?: number;
  create_until?: number;
  status?: number;
}

export async function serverRoutes(app: FastifyInstance, { store, engine }: RouteDeps): Promise<void> {
  const db = store.db;
  const tags = ['servers'];

  app.get<{ Params: ProjectParams; Querystring: ListServersQuery }>(
    '/servers',
    {
      config: { errorCodes: { status: Errors.invalidStatus, server_id: Errors.invalidServerId } },
      schema: { operationId: 'ListCloudPhoneServers', summary: 'List servers, newest first', tags, params: projectParams, querystring: listServersQuery, response: { 200: listServersResponse, ...errorResponses } },
    },
    async (req) => {
      const q = req.query;
      if (q.status !== undefined && !SERVER_STATUSES.includes(q.status)) throw new CphError(Errors.invalidStatus);
      const { rows, count } = await listServers(
        store,
        req.params.project_id,
        {
          serverName: q.server_name,
          serverId: q.server_id,
          networkVersion: q.network_version,
          phoneModelName: q.phone_model_name,
          createSince: q.create_since,
          createUntil: q.create_until,
          status: q.status,
        },
        { offset: q.offset, limit: q.limit },
      );
      return { request_id: req.id, count, servers: rows.map(wire.server) };
    },
  );

  app.get<{ Params: ServerParams }>(
    '/servers/:server_id',
    {
      config: { errorCodes: { server_id: Errors.invalidServerId } },
      schema: { operationId: 'ShowCloudPhoneServerDetail', summary: 'One server', tags, params: serverParams, response: { 200: serverDetailSchema, ...errorResponses } },
    },
    async (req) => {
      const s = await getServer(store, req.params.project_id, req.params.server_id);
      if (!s) throw new CphError(Errors.serverNotFound);
      return wire.serverDetail(s, req.id, await serverResources(store, s.server_id));
    },
  );

  app.put<{ Params: ServerParams; Body: { server_name: string } }>(
    '/servers/:server_id',
    {
      config: { errorCodes: { server_id: Errors.invalidServerId } },
      schema: { operationId: 'UpdateServerName', summary: 'Rename a server', tags, params: serverParams, body: serverNameBody, response: { 200: requestIdOnly, ...errorResponses } },
    },
    async (req) => {
      if (!isValidName(req.body.server_name)) throw new CphError(invalidParameter('server_name'));
      if (!(await renameServer(db, req.params.project_id, req.params.server_id, req.body.server_name, engine.deps.clock.now()))) throw new CphError(Errors.serverNotFound);
      return { request_id: req.id };
    },
  );

  app.post<{ Params: ProjectParams; Body: { server_ids: string[] } }>(
    '/servers/batch-restart',
    {
      config: { errorCodes: { 'server_ids[]': Errors.batchInvalidServerId } },
      schema: { operationId: 'RestartCloudPhoneServer', summary: 'Restart servers and all their phones', tags, params: projectParams, body: restartServersBody, response: { 200: batchResponse('server_id'), ...errorResponses } },
    },
    async (req) => {
      const r = await engine.submitServers(req.id, req.params.project_id, Operations.restartServer, req.body.server_ids);
      return { request_id: r.requestId, jobs: r.jobs };
    },
  );
}
