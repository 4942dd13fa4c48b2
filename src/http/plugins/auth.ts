import type { FastifyInstance, FastifyRequest } from 'fastify';
import { headerIn, type Authenticator, type ProjectCheck } from '../../auth/authenticator.js';
import type { Credentials } from '../../auth/verify.js';

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
