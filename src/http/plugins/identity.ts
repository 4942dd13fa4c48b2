import { acceptCredentials, credentialVerifier, type AuthDeps } from '../../auth/verify.js';
import type { AuthMode } from '../../config.js';
import { openAccess, type Authenticator } from './auth.js';

/** The authenticator for `--auth verify|accept|off`. */
export function authenticatorFor(mode: AuthMode, deps: AuthDeps, defaultProjectId: string): Authenticator {
  if (mode === 'off') return openAccess;
  const check = mode === 'accept' ? acceptCredentials(defaultProjectId) : credentialVerifier(deps);
  return { authenticate: check };
}
