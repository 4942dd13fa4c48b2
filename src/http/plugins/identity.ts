import type { FastifyRequest } from 'fastify';
import { acceptCredentials, credentialVerifier, type AuthDeps, type Credentials } from '../../auth/verify.js';
import type { AuthMode } from '../../config.js';
import { openAccess, type Authenticator } from './auth.js';

/** The request as authentication sees it: the target as sent, headers, the exact body bytes. */
function credentialsOf(req: FastifyRequest): Credentials {
  return {
    method: req.method,
    url: req.raw.url ?? req.url,
    header: (name) => {
      const v = req.headers[name];
      return Array.isArray(v) ? v.join(', ') : v;
    },
    body: req.rawBody,
    pathProjectId: (req.params as { project_id?: string } | undefined)?.project_id,
  };
}

/** The authenticator for `--auth verify|accept|off`. */
export function authenticatorFor(mode: AuthMode, deps: AuthDeps, defaultProjectId: string): Authenticator {
  if (mode === 'off') return openAccess;
  const check = mode === 'accept' ? acceptCredentials(defaultProjectId) : credentialVerifier(deps);
  return { authenticate: (req) => check(credentialsOf(req)) };
}
