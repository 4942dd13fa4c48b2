import { CphError, Errors } from '../domain/errors.js';
import { formatUtc, type Clock } from '../domain/time.js';
import type { Db } from '../store/db.js';
import {
  findUsersByName,
  getDomain,
  getDomainByName,
  getUser,
  getUserByName,
  insertToken,
  projectIdsOfUser,
  projectsOfUser,
  purgeTokens,
  type UserRow,
} from '../store/identity.js';
import { getProjectByName, getProjectView, listProjectViews, type ProjectView } from '../store/projects.js';
import { clearFailureCount, countFailure, isLocked, type LockLog, type OnLockout } from './lockout.js';
import { burnPasswordCheck, verifyPassword } from './password.js';
import { newToken, hashToken } from './secrets.js';
import { liveToken, type Caller } from './verify.js';

/** IAM tokens live 24 hours (IAM's own rule). */
export const TOKEN_TTL_MS = 24 * 3_600_000;

export interface IamDeps {
  db: Db;
  clock: Pick<Clock, 'now'>;
}

/** Issuing tokens also counts wrong passwords, and logs the lock-outs they lead to. */
export interface LoginDeps extends IamDeps {
  log: LockLog;
  onLockout?: OnLockout;
}

/** `POST /v3/auth/tokens`, password method, project scope: what the body asks for. */
export interface TokenRequest {
  user: { id: string } | { name: string; domain?: { id: string } | { name: string } };
  password: string;
  project: { id: string } | { name: string };
}

interface NamedRef {
  id: string;
  name: string;
}

/** What a token stands for, as IAM describes it. */
export interface TokenInfo {
  methods: string[];
  issuedAt: number;
  expiresAt: number;
  user: NamedRef & { domain: NamedRef };
  project: NamedRef & { domain: NamedRef };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const bad = (detail: string) => new CphError(Errors.iamBadRequest, detail);

/** An id or a name, from `{id}` or `{name}`; undefined when neither is given. */
function ref(v: unknown, what: string): { id: string } | { name: string } | undefined {
  if (v === undefined) return undefined;
  if (!isObject(v)) throw bad(`${what} must be an object.`);
  if (nonEmpty(v.id)) return { id: v.id };
  if (nonEmpty(v.name)) return { name: v.name };
  throw bad(`${what} needs an id or a name.`);
}

export function parseTokenRequest(body: unknown): TokenRequest {
  const auth = isObject(body) ? body.auth : undefined;
  if (!isObject(auth) || !isObject(auth.identity)) throw bad('Send {"auth":{"identity":{…},"scope":{…}}}.');
  const { methods, password } = auth.identity;
  if (!Array.isArray(methods) || methods.length === 0) throw bad('auth.identity.methods is required.');
  if (methods.some((m) => m !== 'password')) throw bad('Only the password method is supported.');
  if (!isObject(password) || !isObject(password.user)) throw bad('auth.identity.password.user is required.');
  const u = password.user;
  if (!nonEmpty(u.password)) throw bad('auth.identity.password.user.password is required.');
  const domain = ref(u.domain, 'auth.identity.password.user.domain');
  const user = nonEmpty(u.id) ? { id: u.id } : nonEmpty(u.name) ? { name: u.name, domain } : undefined;
  if (!user) throw bad('auth.identity.password.user needs a name (with its domain) or an id.');
  const scope = auth.scope;
  const project = isObject(scope) ? ref(scope.project, 'auth.scope.project') : undefined;
  if (!project) throw bad('Only project-scoped tokens are issued: give auth.scope.project.id or auth.scope.project.name.');
  return { user, password: u.password, project };
}

async function findUser(db: Db, who: TokenRequest['user']): Promise<UserRow | undefined> {
  if ('id' in who) return getUser(db, who.id);
  if (!who.domain) {
    const matches = await findUsersByName(db, who.name);
    return matches.length === 1 ? matches[0] : undefined;
  }
  const domain = 'id' in who.domain ? await getDomain(db, who.domain.id) : await getDomainByName(db, who.domain.name);
  return domain ? getUserByName(db, domain.domain_id, who.name) : undefined;
}

async function namedDomain(db: Db, domainId: string | null): Promise<NamedRef> {
  const d = domainId === null ? undefined : await getDomain(db, domainId);
  return { id: domainId ?? '', name: d?.name ?? '' };
}

async function describe(db: Db, user: { id: string; name: string; domainId: string }, project: ProjectView, t: { methods: string[]; issuedAt: number; expiresAt: number }): Promise<TokenInfo> {
  const [userDomain, projectDomain] = await Promise.all([namedDomain(db, user.domainId), namedDomain(db, project.domain_id)]);
  return {
    ...t,
    user: { id: user.id, name: user.name, domain: userDomain },
    project: { id: project.project_id, name: project.name, domain: projectDomain },
  };
}

/**
 * Check the password and the scope, then mint a token; only its hash is stored. A locked user is
 * refused before the password is looked at, so the answer is the same whether it was right or not.
 */
export async function issueToken(deps: LoginDeps, req: TokenRequest): Promise<{ token: string; info: TokenInfo }> {
  const user = await findUser(deps.db, req.user);
  if (!user) {
    await burnPasswordCheck(req.password);
    throw new CphError(Errors.iamWrongPassword);
  }
  const domain = await getDomain(deps.db, user.domain_id);
  const lockTarget = { userId: user.user_id, user: user.name, account: domain?.name ?? user.domain_id };
  if (isLocked(user, deps.clock.now())) throw new CphError(Errors.iamUserLocked, `Try again after ${formatUtc(user.locked_until!)}.`);
  if (!(await verifyPassword(req.password, user.password_hash))) {
    await countFailure(deps, lockTarget, deps.clock.now());
    throw new CphError(Errors.iamWrongPassword);
  }
  if (user.failures > 0) await clearFailureCount(deps.db, lockTarget);
  if (!user.enabled || !domain?.enabled) throw new CphError(Errors.iamUserDisabled);
  const project = 'id' in req.project ? await getProjectView(deps.db, req.project.id) : await getProjectByName(deps.db, req.project.name);
  if (!project || !(await projectIdsOfUser(deps.db, user.user_id)).includes(project.project_id)) throw new CphError(Errors.iamNoProjectAccess);

  const now = deps.clock.now();
  const token = newToken();
  const t = { methods: ['password'], issuedAt: now, expiresAt: now + TOKEN_TTL_MS };
  await insertToken(deps.db, { token_hash: hashToken(token), user_id: user.user_id, project_id: project.project_id, methods: t.methods.join(','), issued_at: t.issuedAt, expires_at: t.expiresAt });
  // Expired tokens are kept a day to answer "expired" rather than "invalid", then forgotten.
  await purgeTokens(deps.db, now - TOKEN_TTL_MS);
  return { token, info: await describe(deps.db, { id: user.user_id, name: user.name, domainId: user.domain_id }, project, t) };
}

/** `GET /v3/auth/tokens`: what a live token stands for, if the caller may know (same account). */
export async function inspectToken(deps: IamDeps, caller: Pick<Caller, 'user'>, token: string): Promise<TokenInfo> {
  const row = await liveToken(deps, token).catch((err: unknown) => {
    if (err instanceof CphError) throw new CphError(Errors.iamTokenNotFound);
    throw err;
  });
  if (caller.user && caller.user.domainId !== row.user_domain_id) throw new CphError(Errors.iamTokenNotFound);
  const project = await getProjectView(deps.db, row.project_id);
  if (!project) throw new CphError(Errors.iamTokenNotFound);
  return describe(deps.db, { id: row.user_id, name: row.user_name, domainId: row.user_domain_id }, project, {
    methods: row.methods.split(','),
    issuedAt: row.issued_at,
    expiresAt: row.expires_at,
  });
}

/** `GET /v3/projects`: the caller's projects (all of them when auth is off), optionally by name. */
export async function projectsOf(deps: IamDeps, caller: Pick<Caller, 'projects' | 'user'>, name?: string): Promise<ProjectView[]> {
  let rows: ProjectView[];
  if (caller.user) rows = await projectsOfUser(deps.db, caller.user.id);
  else {
    const all = await listProjectViews(deps.db);
    rows = caller.projects === 'any' ? all : all.filter((p) => (caller.projects as ReadonlySet<string>).has(p.project_id));
  }
  return name === undefined ? rows : rows.filter((p) => p.name === name);
}
