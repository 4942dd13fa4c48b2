import type { FastifyInstance, FastifyRequest } from 'fastify';
import { CphError, Errors } from '../../domain/errors.js';
import type { Db } from '../../store/db.js';
import { getProjectView } from '../../store/projects.js';
import type { Caller } from '../types.js';

/**
 * Resolves who is calling from the request (headers, raw body) or throws a CphError (401).
 * Implementations: open access here; IAM tokens and AK/SK signatures live in `src/auth/`.
 */
export interface Authenticator {
  authenticate(req: FastifyRequest): Promise<Caller>;
}

/** Authentication off: every caller may use every project. */
export const openAccess: Authenticator = {
  authenticate: async () => ({ principal: 'anonymous', projects: 'any' }),
};

const PROJECT_ID = /^[0-9a-f]{32}$/;

/**
 * For the CPH routes registered in `app`'s scope, before validation (so an unauthenticated caller
 * learns nothing about the body's rules): who is calling, and may they use the path's project.
 */
export function registerAuth(app: FastifyInstance, authenticator: Authenticator, db: Db): void {
  const knownProjects = new Set<string>();

  async function checkProject(caller: Caller, projectId: string): Promise<void> {
    if (!PROJECT_ID.test(projectId)) throw new CphError(Errors.invalidProjectId);
    if (caller.projects !== 'any' && !caller.projects.has(projectId)) throw new CphError(Errors.noPermission);
    if (knownProjects.has(projectId)) return;
    if (!(await getProjectView(db, projectId))) throw new CphError(Errors.invalidProjectId, 'No such project.');
    knownProjects.add(projectId);
  }

  app.addHook('preValidation', async (req) => {
    if (!req.routeOptions.url) return;
    req.caller = await authenticator.authenticate(req);
    const projectId = (req.params as { project_id?: string } | undefined)?.project_id;
    if (projectId !== undefined) await checkProject(req.caller, projectId);
  });
}
