import type { IncomingHttpHeaders } from 'node:http';
import { CphError, Errors } from '../domain/errors.js';
import { PROJECT_ID } from '../domain/iam.js';
import type { Db } from '../store/db.js';
import { getProjectView } from '../store/projects.js';
import { acceptCredentials, credentialVerifier, type AuthDeps, type Caller, type Credentials } from './verify.js';

/**
 * Resolves who is calling from the request as it came (target, headers, raw body) or throws a
 * CphError (401): open access, IAM tokens or AK/SK signatures (verify.ts).
 */
export interface Authenticator {
  authenticate(c: Credentials): Promise<Caller>;
}

/** How `--auth` checks callers: verify signatures and tokens, accept any well-formed one for the default project, or none. */
export const AUTH_MODES = ['verify', 'accept', 'off'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

/** Authentication off: every caller may use every project. */
export const openAccess: Authenticator = {
  authenticate: async () => ({ principal: 'anonymous', projects: 'any' }),
};

/** The authenticator for `--auth verify|accept|off`. */
export function authenticatorFor(mode: AuthMode, deps: AuthDeps, defaultProjectId: string): Authenticator {
  if (mode === 'off') return openAccess;
  const check = mode === 'accept' ? acceptCredentials(defaultProjectId) : credentialVerifier(deps);
  return { authenticate: check };
}


/** Whether a caller may use the project a path names; throws a CphError if not, or answers a promise that rejects with one. */
export type ProjectCheck = (caller: Caller, projectId: string) => Promise<void> | void;

/**
 * The project check of one app: a project found once is known for good (projects are never
 * deleted), and then the check answers at once, without a promise.
 */
export function projectChecker(db: Db): ProjectCheck {
  const knownProjects = new Set<string>();
  return (caller, projectId) => {
    if (!PROJECT_ID.test(projectId)) throw new CphError(Errors.invalidProjectId);
    if (caller.projects !== 'any' && !caller.projects.has(projectId)) throw new CphError(Errors.noPermission);
    if (knownProjects.has(projectId)) return;
    return getProjectView(db, projectId).then((project) => {
      if (!project) throw new CphError(Errors.invalidProjectId, 'No such project.');
      knownProjects.add(projectId);
    });
  };
}

/** A header's value by lower-case name, as authentication reads it: repeated ones joined as Node joins them. */
export function headerIn(headers: IncomingHttpHeaders): (name: string) => string | undefined {
  return (name) => {
    const v = headers[name];
    return Array.isArray(v) ? v.join(', ') : v;
  };
}
