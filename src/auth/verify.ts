import type { Logger } from 'pino';
import { CphError, Errors } from '../domain/errors.js';
import { formatIamTime, type Clock } from '../domain/time.js';
import type { Db, DbHandle } from '../store/db.js';
import { getSigningKey, getToken, type TokenView } from '../store/identity.js';
import { KeyCache, type CachedKey } from './keys.js';
import { clearFailureCount, countFailure, isLocked, type OnLockout } from './lockout.js';
import { hashToken } from './secrets.js';
import {
  formatSdkDate,
  MAX_DATE_SKEW_MS,
  parseAuthorization,
  parseSdkDate,
  signatureMatches,
  type SignedRequest,
} from './signature.js';

/** A request as authentication sees it: the wire form, and the project its path names (if any). */
export interface Credentials extends SignedRequest {
  pathProjectId?: string;
}

/** The caller an authenticator resolved; routes only ever see the project it may act on. */
export interface Caller {
  /** Who is calling, for logs (an access key, a user, or "anonymous"). */
  principal: string;
  /** Projects the caller may use; 'any' when authentication is off. */
  projects: 'any' | ReadonlySet<string>;
  /** The IAM user behind the credentials, when they name one (AK/SK or token under `--auth verify`). */
  user?: { id: string; name: string; domainId: string };
  /**
   * For a call that lasts (an event stream): the caller as the same credentials stand now — the
   * token still live, the key and its user still enabled and not locked, their projects — without
   * the signature's own time, checked when the call began. Throws as authentication does. Absent
   * where nothing can change (`--auth off` and `accept`).
   */
  recheck?: () => Promise<Caller>;
}

/** A caller whose credentials were checked: the projects are always named. */
export interface Identity extends Caller {
  projects: ReadonlySet<string>;
}

export interface AuthDeps {
  db: Db;
  /** The raw SQLite connection (SQLite only): key lookups run prepared statements on it. */
  sqlite?: DbHandle['sqlite'];
  clock: Pick<Clock, 'now'>;
  /** Lock-outs are logged here. */
  log: Logger;
  /** And told here as they are set (the node's metrics). */
  onLockout?: OnLockout;
}

const isSignature = (authorization: string | undefined) => authorization !== undefined && /^\s*SDK-HMAC-SHA256(\s|$)/.test(authorization);

/**
 * `--auth verify`: an `SDK-HMAC-SHA256` Authorization header is checked as cph-api.md §6.2 says;
 * otherwise `X-Auth-Token` must be a live token. Failures throw APIGW.0301 naming the reason.
 * Access keys are kept for KEY_CACHE_MS (see keys.ts).
 */
export function credentialVerifier(deps: AuthDeps, keys = new KeyCache((ak) => getSigningKey(deps, ak), deps.clock)): (c: Credentials) => Promise<Identity> {
  return async (c) => {
    const authorization = c.header('authorization');
    if (isSignature(authorization)) return verifySignature(deps, keys, c, authorization!);
    const token = c.header('x-auth-token');
    if (token) return verifyTokenCredential(deps, token);
    throw new CphError(authorization !== undefined ? Errors.authorizationMalformed : Errors.credentialsMissing);
  };
}

/** An access key that may sign now: known, enabled, its user enabled, not locked out. */
async function usableKey(deps: AuthDeps, keys: KeyCache, accessKey: string): Promise<CachedKey> {
  const cached = await keys.get(accessKey);
  if (!cached) throw new CphError(Errors.accessKeyUnknown);
  const { key } = cached;
  if (!key.enabled) throw new CphError(Errors.accessKeyDisabled);
  if (!key.user_enabled) throw new CphError(Errors.userDisabled);
  if (isLocked(key, deps.clock.now())) throw new CphError(Errors.accessKeyLocked);
  return cached;
}

function keyIdentity(deps: AuthDeps, keys: KeyCache, { key, projects }: CachedKey): Identity {
  return {
    principal: `ak:${key.access_key}`,
    projects,
    user: { id: key.user_id, name: key.user_name, domainId: key.domain_id },
    // Read from the store, not the node's copy: that copy's second is on the node's clock, which a
    // virtual clock may hold still; a recheck comes at most once a second per stream.
    recheck: async () => {
      keys.forget(key.access_key);
      return keyIdentity(deps, keys, await usableKey(deps, keys, key.access_key));
    },
  };
}

async function verifySignature(deps: AuthDeps, keys: KeyCache, c: Credentials, authorization: string): Promise<Identity> {
  const auth = parseAuthorization(authorization);
  if (!auth) throw new CphError(Errors.authorizationMalformed);
  const cached = await usableKey(deps, keys, auth.accessKey);
  const { key } = cached;
  const now = deps.clock.now();
  if (!auth.signedHeaders.includes('host') || !auth.signedHeaders.includes('x-sdk-date')) throw new CphError(Errors.signedHeadersIncomplete);
  const date = parseSdkDate(c.header('x-sdk-date'));
  if (date === undefined) throw new CphError(Errors.sdkDateMissing);
  if (Math.abs(now - date) > MAX_DATE_SKEW_MS) throw new CphError(Errors.sdkDateSkew, `Signature time ${formatSdkDate(date)}, server time ${formatSdkDate(now)}.`);
  if (c.header('x-security-token') !== undefined) throw new CphError(Errors.securityTokenUnsupported);

  if (!signatureMatches(c, auth, cached.hmacKey)) {
    keys.forget(key.access_key);
    await countFailure(deps, { accessKey: key.access_key, user: key.user_name }, now);
    throw new CphError(Errors.signatureMismatch);
  }
  if (key.failures > 0) {
    keys.forget(key.access_key);
    await clearFailureCount(deps.db, { accessKey: key.access_key, user: key.user_name });
  }

  const signedProject = auth.signedHeaders.includes('x-project-id') ? c.header('x-project-id') : undefined;
  if (signedProject !== undefined && c.pathProjectId !== undefined && signedProject !== c.pathProjectId) throw new CphError(Errors.projectHeaderMismatch);

  return keyIdentity(deps, keys, cached);
}

/** A stored, unexpired token of an enabled user; throws APIGW.0301 otherwise. */
export async function liveToken(deps: Pick<AuthDeps, 'db' | 'clock'>, token: string): Promise<TokenView> {
  const row = await getToken(deps.db, hashToken(token));
  if (!row) throw new CphError(Errors.tokenInvalid);
  if (row.expires_at <= deps.clock.now()) throw new CphError(Errors.tokenExpired, `expires_at: ${formatIamTime(row.expires_at)}`);
  if (!row.user_enabled) throw new CphError(Errors.userDisabled);
  return row;
}

async function verifyTokenCredential(deps: AuthDeps, token: string): Promise<Identity> {
  const row = await liveToken(deps, token);
  return {
    principal: `user:${row.user_name}`,
    projects: new Set([row.project_id]),
    user: { id: row.user_id, name: row.user_name, domainId: row.user_domain_id },
    recheck: () => verifyTokenCredential(deps, token),
  };
}

/**
 * `--auth accept`, for quick local use: any well-formed signature or any token is taken, for the
 * default project only. Nothing is looked up or checked beyond the shape.
 */
export function acceptCredentials(defaultProjectId: string): (c: Credentials) => Promise<Identity> {
  const projects = new Set([defaultProjectId]);
  return async (c) => {
    const authorization = c.header('authorization');
    if (isSignature(authorization)) {
      const auth = parseAuthorization(authorization);
      if (!auth) throw new CphError(Errors.authorizationMalformed);
      return { principal: `ak:${auth.accessKey}`, projects };
    }
    if (c.header('x-auth-token')) return { principal: 'token', projects };
    throw new CphError(authorization !== undefined ? Errors.authorizationMalformed : Errors.credentialsMissing);
  };
}
