import type { FastifyInstance } from 'fastify';
import { CphError, Errors, invalidParameter, targetError } from '../../domain/errors.js';
import { isResourceId } from '../../domain/ids.js';
import { listPathProblem, packageNameProblem, shareFilePathProblem, StorageLimits } from '../../domain/storage.js';
import { Operations, type OperationDef } from '../../engine/operations.js';
import type { ServerTarget } from '../../engine/submit.js';
import { sharedStorageOf } from '../../store/shared.js';
import { batchResponse, errorResponses, projectParams } from '../schemas/common.js';
import { deleteShareAppsBody, listShareFilesQuery, pushShareAppsBody, shareFilesBody } from '../schemas/storage.js';
import type { RouteDeps } from '../types.js';
import { check, obsTarget } from './phoneData.js';

type ProjectParams = { project_id: string };
interface ShareFilesBody {
  server_ids: string[];
  bucket_name?: string;
  object_path?: string;
  file_paths?: string[];
}
interface ListShareFilesQuery {
  server_ids: string;
  path: string;
  offset: number;
  limit: number;
}
interface ShareAppsBody {
  package_name: string;
  pre_install_app?: number;
  bucket_name: string;
  object_path: string;
  server_ids: string[];
}

/** Shared storage files and shared apps of servers (cph-api.md §3.9), on specs that have shared storage. */
export async function shareRoutes(app: FastifyInstance, { store, engine }: RouteDeps): Promise<void> {
  const tags = ['shared storage'];
  const config = { errorCodes: { 'server_ids[]': Errors.batchInvalidServerId } };

  /**
   * One job per server, each with `params`: an unknown server fails with CPS.0097, a server whose
   * phone model has no shared storage with CPS.0940.
   */
  async function submit(requestId: string, projectId: string, op: OperationDef, serverIds: readonly string[], params: Record<string, unknown>) {
    const storage = await sharedStorageOf(store.db, projectId, serverIds.filter(isResourceId));
    const targets = serverIds.map((serverId): ServerTarget => {
      const s = storage.get(serverId);
      const error = s && !s.supported ? targetError(Errors.sharedStorageUnsupported, `Server ${serverId} has phones of ${s.phoneModel}.`) : undefined;
      return { serverId, params, ...(error ? { error } : {}) };
    });
    const r = await engine.submitServers(requestId, projectId, op, targets);
    return { request_id: r.requestId, jobs: r.jobs };
  }

  app.post<{ Params: ProjectParams; Body: ShareFilesBody }>(
    '/phones/share-files',
    {
      config,
      schema: {
        operationId: 'PushShareFiles',
        summary: "Push a tar from OBS into servers' shared storage (PushShareFiles), or delete shared files (DeleteShareFiles: a body with file_paths); one job per server",
        description: 'Both SDK operations call this; a body with `file_paths` is DeleteShareFiles.',
        tags,
        params: projectParams,
        body: shareFilesBody,
        response: { 200: batchResponse('server_id'), ...errorResponses },
      },
    },
    async (req) => {
      const b = req.body;
      if (b.file_paths !== undefined) {
        for (const path of b.file_paths) check('file_paths', shareFilePathProblem(path));
        return submit(req.id, req.params.project_id, Operations.deleteShareFiles, b.server_ids, { filePaths: b.file_paths });
      }
      if (b.bucket_name === undefined) throw new CphError(invalidParameter('bucket_name'), 'Give bucket_name and object_path to push, or file_paths to delete.');
      if (b.object_path === undefined) throw new CphError(invalidParameter('object_path'), 'Give bucket_name and object_path to push, or file_paths to delete.');
      const obs = obsTarget({ bucket_name: b.bucket_name, object_path: b.object_path }, true);
      return submit(req.id, req.params.project_id, Operations.pushShareFiles, b.server_ids, obs);
    },
  );

  app.get<{ Params: ProjectParams; Querystring: ListShareFilesQuery }>(
    '/servers/share-files',
    {
      config,
      schema: {
        operationId: 'ListShareFiles',
        summary: "List a folder of servers' shared storage; one job per server, the listing in its execute_msg",
        description:
          'execute_msg: `path=<path> total=<n> offset=<o> count=<c>`, then one line per entry `<d|f> <size> <name>`; at most 1024 bytes, the next page starts at offset + count.',
        tags,
        params: projectParams,
        querystring: listShareFilesQuery,
        response: { 200: batchResponse('server_id'), ...errorResponses },
      },
    },
    async (req) => {
      const q = req.query;
      const serverIds = q.server_ids.split(',').map((s) => s.trim()).filter((s) => s !== '');
      const { min, max } = StorageLimits.serverIds;
      if (serverIds.length < min || serverIds.length > max) throw new CphError(invalidParameter('server_ids'), `Give ${min} to ${max} server ids, comma-separated.`);
      check('path', listPathProblem(q.path));
      return submit(req.id, req.params.project_id, Operations.listShareFiles, serverIds, { path: q.path, offset: q.offset, limit: q.limit });
    },
  );

  app.post<{ Params: ProjectParams; Body: ShareAppsBody }>(
    '/phones/share-apps',
    {
      config,
      schema: {
        operationId: 'PushShareApps',
        summary: 'Share an app (a tar holding its APK, in OBS) with every phone of servers; one job per server',
        tags,
        params: projectParams,
        body: pushShareAppsBody,
        response: { 200: batchResponse('server_id'), ...errorResponses },
      },
    },
    async (req) => {
      const b = req.body;
      check('package_name', packageNameProblem(b.package_name));
      const obs = obsTarget(b, true);
      return submit(req.id, req.params.project_id, Operations.pushShareApps, b.server_ids, { packageName: b.package_name, preInstall: b.pre_install_app === 1, ...obs });
    },
  );

  app.delete<{ Params: ProjectParams; Body: { package_name: string; server_ids: string[] } }>(
    '/phones/share-apps',
    {
      config,
      schema: {
        operationId: 'DeleteShareApps',
        summary: 'Stop sharing an app with the phones of servers (JSON body on DELETE); one job per server',
        tags,
        params: projectParams,
        body: deleteShareAppsBody,
        response: { 200: batchResponse('server_id'), ...errorResponses },
      },
    },
    async (req) => {
      check('package_name', packageNameProblem(req.body.package_name));
      return submit(req.id, req.params.project_id, Operations.deleteShareApps, req.body.server_ids, { packageName: req.body.package_name });
    },
  );
}
