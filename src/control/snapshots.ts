import type { FastifyInstance } from 'fastify';
import { CphError, Errors } from '../domain/errors.js';
import { formatUtc } from '../domain/time.js';
import { whyNotRerun } from '../engine/recovery.js';
import { errorBody, requestIdOnly } from '../http/schemas/common.js';
import type { RouteDeps } from '../http/types.js';
import { FIRST_START, SNAPSHOT_NAME, deleteSnapshot, listSnapshots, restoreSnapshot, saveSnapshot, type SnapshotView } from '../store/snapshots.js';
import { answerWith, controlSchema, paramsWith, type ProjectParams } from './schema.js';

/**
 * Snapshots and reset: the project's whole state saved under a name, restored, or put back as it was
 * at its first start (README "Testing your code against OpenCPH" → Snapshots and reset,
 * docs/decisions/0021-snapshots-per-project.md). A save under a name already taken replaces it.
 */

type NameParams = ProjectParams & { name: string };

const name = { type: 'string', pattern: SNAPSHOT_NAME } as const;
const nameParams = paramsWith('name', name);

const snapshot = {
  type: 'object',
  required: ['name', 'create_time', 'rows'],
  properties: { name: { type: 'string' }, create_time: { type: 'string' }, rows: { type: 'integer', description: 'Rows saved, all tables together' } },
} as const;
const oneSnapshot = answerWith('snapshot', snapshot);
const conflict = { 409: { description: 'Conflict', ...errorBody } } as const;

const wire = (s: SnapshotView) => ({ name: s.name, create_time: formatUtc(s.createdAt), rows: s.rows });

export async function snapshotRoutes(app: FastifyInstance, { store, engine }: RouteDeps): Promise<void> {
  const db = store.db;
  const now = () => engine.deps.clock.now();
  const restore = (projectId: string, snapshotName: string) =>
    engine.replacingState(projectId, () => restoreSnapshot(db, projectId, snapshotName, { now: now(), whyNotRerun }));

  app.post<{ Params: ProjectParams; Body: { name: string } }>(
    '/snapshots',
    {
      schema: controlSchema({
        operationId: 'OpenCphCreateSnapshot',
        summary: "Save the project's whole state under a name (1–64 of A–Z a–z 0–9 . _ -); a snapshot of that name is replaced",
        body: { type: 'object', required: ['name'], additionalProperties: false, properties: { name } },
        ok: oneSnapshot,
      }),
    },
    async (req) => ({ request_id: req.id, snapshot: wire(await saveSnapshot(db, req.params.project_id, req.body.name, now())) }),
  );

  app.get<{ Params: ProjectParams }>(
    '/snapshots',
    {
      schema: controlSchema({ operationId: 'OpenCphListSnapshots', summary: "The project's snapshots, oldest first", ok: answerWith('snapshots', { type: 'array', items: snapshot }) }),
    },
    async (req) => ({ request_id: req.id, snapshots: (await listSnapshots(db, req.params.project_id)).map(wire) }),
  );

  app.post<{ Params: NameParams }>(
    '/snapshots/:name/restore',
    {
      schema: controlSchema({
        operationId: 'OpenCphRestoreSnapshot',
        summary: "Put the project's state back as the snapshot saved it; jobs running meanwhile are dropped",
        params: nameParams,
        ok: oneSnapshot,
      }),
    },
    async (req) => {
      const restored = await restore(req.params.project_id, req.params.name);
      if (!restored) throw new CphError(Errors.snapshotNotFound);
      return { request_id: req.id, snapshot: wire(restored) };
    },
  );

  app.delete<{ Params: NameParams }>(
    '/snapshots/:name',
    { schema: controlSchema({ operationId: 'OpenCphDeleteSnapshot', summary: 'Delete a snapshot', params: nameParams, ok: requestIdOnly }) },
    async (req) => {
      if (!(await deleteSnapshot(db, req.params.project_id, req.params.name))) throw new CphError(Errors.snapshotNotFound);
      return { request_id: req.id };
    },
  );

  app.post<{ Params: ProjectParams }>(
    '/reset',
    {
      schema: controlSchema({
        operationId: 'OpenCphReset',
        summary: 'Put the project back as it was at its first start: the same phones and servers, no jobs, rules or faults',
        ok: requestIdOnly,
        otherAnswers: conflict,
      }),
    },
    async (req) => {
      if (!(await restore(req.params.project_id, FIRST_START))) throw new CphError(Errors.firstStartUnknown);
      return { request_id: req.id };
    },
  );
}
