import type { FastifyInstance } from 'fastify';
import { CphError, Errors } from '../domain/errors.js';
import { formatUtc } from '../domain/time.js';
import { whyNotRerun } from '../engine/recovery.js';
import { errorBody, errorResponses, projectParams, requestIdOnly } from '../http/schemas/common.js';
import type { RouteDeps } from '../http/types.js';
import { FIRST_START, SNAPSHOT_NAME, deleteSnapshot, listSnapshots, restoreSnapshot, saveSnapshot, type SnapshotView } from '../store/snapshots.js';

/**
 * Snapshots and reset: the project's whole state saved under a name, restored, or put back as it was
 * at its first start (README "Testing your code against OpenCPH" → Snapshots and reset,
 * docs/decisions/0021-snapshots-per-project.md). A save under a name already taken replaces it.
 */

type ProjectParams = { project_id: string };
type NameParams = ProjectParams & { name: string };

const name = { type: 'string', pattern: SNAPSHOT_NAME } as const;
const nameParams = { type: 'object', required: ['project_id', 'name'], properties: { ...projectParams.properties, name } } as const;

const snapshot = {
  type: 'object',
  required: ['name', 'create_time', 'rows'],
  properties: { name: { type: 'string' }, create_time: { type: 'string' }, rows: { type: 'integer', description: 'Rows saved, all tables together' } },
} as const;
const oneSnapshot = { type: 'object', required: ['request_id', 'snapshot'], properties: { request_id: { type: 'string' }, snapshot } } as const;
const conflict = { 409: { description: 'Conflict', ...errorBody } } as const;

const wire = (s: SnapshotView) => ({ name: s.name, create_time: formatUtc(s.createdAt), rows: s.rows });

export async function snapshotRoutes(app: FastifyInstance, { store, engine }: RouteDeps): Promise<void> {
  const db = store.db;
  const tags = ['opencph'];
  const now = () => engine.deps.clock.now();
  const restore = (projectId: string, snapshotName: string) =>
    engine.replacingState(projectId, () => restoreSnapshot(db, projectId, snapshotName, { now: now(), whyNotRerun }));

  app.post<{ Params: ProjectParams; Body: { name: string } }>(
    '/snapshots',
    {
      schema: {
        operationId: 'OpenCphCreateSnapshot',
        summary: "Save the project's whole state under a name (1–64 of A–Z a–z 0–9 . _ -); a snapshot of that name is replaced",
        tags,
        params: projectParams,
        body: { type: 'object', required: ['name'], additionalProperties: false, properties: { name } },
        response: { 200: oneSnapshot, ...errorResponses },
      },
    },
    async (req) => ({ request_id: req.id, snapshot: wire(await saveSnapshot(db, req.params.project_id, req.body.name, now())) }),
  );

  app.get<{ Params: ProjectParams }>(
    '/snapshots',
    {
      schema: {
        operationId: 'OpenCphListSnapshots',
        summary: "The project's snapshots, oldest first",
        tags,
        params: projectParams,
        response: { 200: { type: 'object', required: ['request_id', 'snapshots'], properties: { request_id: { type: 'string' }, snapshots: { type: 'array', items: snapshot } } }, ...errorResponses },
      },
    },
    async (req) => ({ request_id: req.id, snapshots: (await listSnapshots(db, req.params.project_id)).map(wire) }),
  );

  app.post<{ Params: NameParams }>(
    '/snapshots/:name/restore',
    {
      schema: {
        operationId: 'OpenCphRestoreSnapshot',
        summary: "Put the project's state back as the snapshot saved it; jobs running meanwhile are dropped",
        tags,
        params: nameParams,
        response: { 200: oneSnapshot, ...errorResponses },
      },
    },
    async (req) => {
      const restored = await restore(req.params.project_id, req.params.name);
      if (!restored) throw new CphError(Errors.snapshotNotFound);
      return { request_id: req.id, snapshot: wire(restored) };
    },
  );

  app.delete<{ Params: NameParams }>(
    '/snapshots/:name',
    { schema: { operationId: 'OpenCphDeleteSnapshot', summary: 'Delete a snapshot', tags, params: nameParams, response: { 200: requestIdOnly, ...errorResponses } } },
    async (req) => {
      if (!(await deleteSnapshot(db, req.params.project_id, req.params.name))) throw new CphError(Errors.snapshotNotFound);
      return { request_id: req.id };
    },
  );

  app.post<{ Params: ProjectParams }>(
    '/reset',
    {
      schema: {
        operationId: 'OpenCphReset',
        summary: 'Put the project back as it was at its first start: the same phones and servers, no jobs, rules or faults',
        tags,
        params: projectParams,
        response: { 200: requestIdOnly, ...errorResponses, ...conflict },
      },
    },
    async (req) => {
      if (!(await restore(req.params.project_id, FIRST_START))) throw new CphError(Errors.firstStartUnknown);
      return { request_id: req.id };
    },
  );
}
