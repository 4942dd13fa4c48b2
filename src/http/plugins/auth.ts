import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Credentials } from '../../auth/verify.js';
import { CphError, Errors } from '../../domain/errors.js';
import type { Db } from '../../store/db.js';
import { getProjectView } from '../../store/projects.js';
import type { Caller } from '../types.js';

/**
 * Resolves who is calling from the request as it came (target, headers, raw body) or throws a
 * CphError (401). Implementations: open access here; IAM tokens and AK/SK signatures live in
 * `src/auth/` (see identity.ts).
 */
export interface Authenticator {
  authenticate(c: Credentials): Promise<Caller>;
}

/** Authentication off: every caller may use every project. */
export const openAccess: Authenticator = {
  authenticate: async () => ({ principal: 'anonymous', projects: 'any' }),
};

const PROJECT_ID = /^[0-9a-f]{32}$/;

/** Whether a caller may use the project a path names; throws a CphError if not. */
export type ProjectCheck = (caller: Caller, projectId: string) => Promise<void>;

/** The project check of one app: a project found once is known for good (projects are never deleted). */
export function projectChecker(db: Db): ProjectCheck {
  const knownProjects = new Set<string>();
  return async (caller, projectId) => {
    if (!PROJECT_ID.test(projectId)) throw new CphError(Errors.invalidProjectId);
    if (caller.projects !== 'any' && !caller.projects.has(projectId)) throw new CphError(Errors.noPermission);
    if (knownProjects.has(projectId)) return;
    if (!(await getProjectView(db, projectId))) throw new CphError(Errors.invalidProjectId, 'No such project.');
    knownProjects.add(projectId);
  };
}

/** A header's value by lower-case name, as authentication reads it: repeated ones joined as Node joins them. */
export function headerIn(headers: IncomingHttpHeaders): (name: string) => string | undefined {
  return (name) => {
    const v = headers[name];
    return Array.isArray(v) ? v.join(', ') : v;
  };
}

/** The request as authentication sees it: the target as sent, headers, the exact body bytes. */
export function credentialsOf(req: FastifyRequest): Credentials {
  return {
    method: req.method,
    url: req.raw.url ?? req.url,
    header: headerIn(req.headers),
    body: req.rawBody,
    pathProjectId: (req.params as { project_id?: string } | undefined)?.project_id,
  };
}

/**
 * For the CPH routes registered in `app`'s scope, before validation (so an unauthenticated caller
 * learns nothing about the body's rules): who is calling, and may they use the path's project.
 */
export function registerAuth(app: FastifyInstance, authenticator: Authenticator, checkProject: ProjectCheck): void {
  app.addHook('preValidation', async (req) => {
    if (!req.routeOptions.url) return;
    req.caller = await authenticator.authenticate(credentialsOf(req));
    const projectId = (req.params as { project_id?: string } | undefined)?.project_id;
    if (projectId !== undefined) await checkProject(req.caller, projectId);
  });
}
