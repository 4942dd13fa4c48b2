import type { FastifyInstance } from 'fastify';
import { CphError, invalidParameter } from '../../domain/errors.js';
import { bucketProblem, exportRuleProblem, objectPathProblem } from '../../domain/storage.js';
import { Operations } from '../../engine/operations.js';
import { batchResponse, errorResponses, projectParams } from '../schemas/common.js';
import { exportBody, restoreBody } from '../schemas/storage.js';
import type { RouteDeps } from '../types.js';

type ProjectParams = { project_id: string };
interface ObsTarget {
  bucket_name: string;
  object_path: string;
}
interface StorageInfo extends ObsTarget {
  phone_id: string;
  include_files: string[];
  exclude_files?: string[];
}
interface RestoreInfo extends ObsTarget {
  phone_id: string;
}

/** Throw CPS.0034 naming `field` when `problem` says the value is wrong. */
export function check(field: string, problem: string | undefined): void {
  if (problem) throw new CphError(invalidParameter(field), problem);
}

/** The bucket and object of an item, held to CPH's rules; the job's parameters for them. */
export function obsTarget(item: ObsTarget, tar = false): { bucket: string; objectPath: string } {
  check('bucket_name', bucketProblem(item.bucket_name));
  check('object_path', objectPathProblem(item.object_path, tar));
  return { bucket: item.bucket_name, objectPath: item.object_path };
}

/** BatchExportCloudPhoneData and BatchImportCloudPhoneData (cph-api.md §3.8): phone data to and from OBS. */
export async function phoneDataRoutes(app: FastifyInstance, { engine }: RouteDeps): Promise<void> {
  const tags = ['phones'];

  app.post<{ Params: ProjectParams; Body: { storage_infos: StorageInfo[] } }>(
    '/phones/batch-storage',
    {
      schema: {
        operationId: 'BatchExportCloudPhoneData',
        summary: "Export phones' files under /data and /cache as a tar into OBS; one job per phone",
        description: 'exclude_files wins over include_files; shared files and apps of the server are not exported.',
        tags,
        params: projectParams,
        body: exportBody,
        response: { 200: batchResponse('phone_id'), ...errorResponses },
      },
    },
    async (req) => {
      const targets = req.body.storage_infos.map((item) => {
        const exclude = item.exclude_files ?? [];
        for (const rule of item.include_files) check('include_files', exportRuleProblem(rule));
        for (const rule of exclude) check('exclude_files', exportRuleProblem(rule));
        return { phoneId: item.phone_id, params: { include: item.include_files, exclude, ...obsTarget(item) } };
      });
      const r = await engine.submitPhones(req.id, req.params.project_id, Operations.exportData, targets);
      return { request_id: r.requestId, jobs: r.jobs };
    },
  );

  app.post<{ Params: ProjectParams; Body: { restore_infos: RestoreInfo[] } }>(
    '/phones/batch-restore',
    {
      schema: {
        operationId: 'BatchImportCloudPhoneData',
        summary: 'Restore an exported tar from OBS onto phones; one job per phone',
        description: 'Data of a newer Android version is not restored on an older one (CPS.0941); a restart is recommended afterwards.',
        tags,
        params: projectParams,
        body: restoreBody,
        response: { 200: batchResponse('phone_id'), ...errorResponses },
      },
    },
    async (req) => {
      const targets = req.body.restore_infos.map((item) => ({ phoneId: item.phone_id, params: obsTarget(item) }));
      const r = await engine.submitPhones(req.id, req.params.project_id, Operations.importData, targets);
      return { request_id: r.requestId, jobs: r.jobs };
    },
  );
}
