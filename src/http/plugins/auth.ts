import type { FastifyInstance, FastifyRequest } from 'fastify';
import { headerIn, type Authenticator, type ProjectCheck } from '../../auth/authenticator.js';
import type { Caller, Credentials } from '../../auth/verify.js';

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
 * A callback hook, with the project check answered at once for a project already known: this runs
 * on every call, and each promise less is CPU every route saves.
 */
export function registerAuth(app: FastifyInstance, authenticator: Authenticator, checkProject: ProjectCheck): void {
  app.addHook('preValidation', (req, _reply, done) => {
    if (!req.routeOptions.url) return done();
    const projectId = (req.params as { project_id?: string } | undefined)?.project_id;
    let caller: Promise<Caller>;
    try {
      caller = authenticator.authenticate(credentialsOf(req));
    } catch (err) {
      return done(err as Error);
    }
    caller
      .then((c) => {
        req.caller = c;
        return projectId === undefined ? undefined : checkProject(c, projectId);
      })
      .then(() => done(), done);
  });
}
