import type { Logger } from 'pino';
import type { IdGenerator } from '../domain/ids.js';
import type { Clock } from '../domain/time.js';
import type { Db } from '../store/db.js';
import {
  addMember,
  countDomains,
  getAccessKey,
  getDomain,
  getDomainByName,
  getUserByName,
  insertAccessKey,
  insertDomain,
  insertUser,
  setAccessKeyEnabled,
  setUserEnabled,
  type DomainRow,
  type UserRow,
} from '../store/identity.js';
import { adoptOrphanProjects, getProjectByName, getProjectView, listProjectViews, type ProjectView } from '../store/projects.js';
import { hashPassword, passwordProblem } from './password.js';
import { newAccessKey } from './secrets.js';

/** Identity administration (`opencph admin`, first-start seeding), straight on the store. */
export interface AdminDeps {
  db: Db;
  clock: Pick<Clock, 'now'>;
  ids: IdGenerator;
}

/** A refused admin action; its message is meant for the person at the terminal. */
export class AdminError extends Error {
  override name = 'AdminError';
}

const NAME = /^[A-Za-z0-9_.@-]{1,64}$/;
const AK = /^[A-Za-z0-9_-]{1,64}$/;

function checkName(kind: string, name: string): void {
  if (!NAME.test(name)) throw new AdminError(`A ${kind} name is 1 to 64 letters, digits, '_', '.', '@' or '-': "${name}" is not.`);
}

export async function requireAccount(db: Db, name: string): Promise<DomainRow> {
  const d = await getDomainByName(db, name);
  if (!d) throw new AdminError(`No account named "${name}".`);
  return d;
}

export async function requireUser(db: Db, account: string, name: string): Promise<UserRow> {
  const d = await requireAccount(db, account);
  const u = await getUserByName(db, d.domain_id, name);
  if (!u) throw new AdminError(`No user "${name}" in account "${account}".`);
  return u;
}

/** A project by id or by name. */
async function requireProject(db: Db, idOrName: string): Promise<ProjectView> {
  const p = (await getProjectView(db, idOrName)) ?? (await getProjectByName(db, idOrName));
  if (!p) throw new AdminError(`No project with id or name "${idOrName}".`);
  return p;
}

export async function createAccount(deps: AdminDeps, name: string): Promise<DomainRow> {
  checkName('account', name);
  if (await getDomainByName(deps.db, name)) throw new AdminError(`An account named "${name}" exists already.`);
  const row = { domain_id: deps.ids(), name, enabled: 1, created_at: deps.clock.now() };
  await insertDomain(deps.db, row);
  return row;
}

export async function createUser(deps: AdminDeps, o: { account: string; name: string; password: string }): Promise<UserRow> {
  checkName('user', o.name);
  const problem = passwordProblem(o.password);
  if (problem) throw new AdminError(problem);
  const d = await requireAccount(deps.db, o.account);
  if (await getUserByName(deps.db, d.domain_id, o.name)) throw new AdminError(`User "${o.name}" exists already in account "${o.account}".`);
  const row = { user_id: deps.ids(), domain_id: d.domain_id, name: o.name, password_hash: await hashPassword(o.password), enabled: 1, created_at: deps.clock.now(), failures: 0, locked_until: null };
  await insertUser(deps.db, row);
  return row;
}

export async function setUserEnabledByName(deps: AdminDeps, account: string, name: string, enabled: boolean): Promise<void> {
  const u = await requireUser(deps.db, account, name);
  await setUserEnabled(deps.db, u.user_id, enabled);
}

/**
 * What a new project of an account needs before it is made: a valid name nobody uses, an account
 * that exists. Answers the account's id. (Making it, with its fleet, is `src/projects.ts`.)
 */
export async function checkNewProject(deps: AdminDeps, o: { account: string; name: string }): Promise<string> {
  checkName('project', o.name);
  const d = await requireAccount(deps.db, o.account);
  if (await getProjectByName(deps.db, o.name)) throw new AdminError(`A project named "${o.name}" exists already.`);
  return d.domain_id;
}

export async function grantProject(deps: AdminDeps, o: { account: string; user: string; project: string }): Promise<ProjectView> {
  const u = await requireUser(deps.db, o.account, o.user);
  const p = await requireProject(deps.db, o.project);
  if (p.domain_id !== u.domain_id) throw new AdminError(`Project "${p.name}" belongs to another account than user "${o.user}".`);
  await addMember(deps.db, u.user_id, p.project_id, deps.clock.now());
  return p;
}

/** A new access key for a user; the secret is returned here and never shown again. */
export async function createAccessKey(deps: AdminDeps, o: { account: string; user: string; description?: string; ak?: string; sk?: string }): Promise<{ ak: string; sk: string }> {
  const u = await requireUser(deps.db, o.account, o.user);
  const generated = newAccessKey();
  const ak = o.ak ?? generated.ak;
  const sk = o.sk ?? generated.sk;
  if (!AK.test(ak)) throw new AdminError('An access key is 1 to 64 letters, digits, "_" or "-".');
  if (sk.length < 16 || /\s/.test(sk)) throw new AdminError('A secret key has at least 16 characters and no spaces.');
  if (await getAccessKey(deps.db, ak)) throw new AdminError(`Access key ${ak} exists already.`);
  await insertAccessKey(deps.db, { access_key: ak, secret_key: sk, user_id: u.user_id, description: o.description ?? '', enabled: 1, created_at: deps.clock.now(), locked_until: null });
  return { ak, sk };
}

/** Keys are named by their AK, unique across accounts; still the key must be the named account's, as users and projects are. */
export async function setAccessKeyEnabledByAk(deps: AdminDeps, account: string, ak: string, enabled: boolean): Promise<void> {
  const d = await requireAccount(deps.db, account);
  const key = await getAccessKey(deps.db, ak);
  if (!key) throw new AdminError(`No access key ${ak}.`);
  if (key.domain_id !== d.domain_id) {
    const owner = await getDomain(deps.db, key.domain_id);
    throw new AdminError(`Access key ${ak} is in account "${owner?.name ?? key.domain_id}", not "${account}".`);
  }
  await setAccessKeyEnabled(deps.db, ak, enabled);
}

export interface DefaultIdentity {
  account: string;
  user: string;
  password: string;
  ak: string;
  sk: string;
}

/**
 * On the first start of a store without accounts: the default account owns every project there is,
 * and its user (with the given password and access key) is a member of each. Later starts leave
 * identity alone; `opencph admin` changes it.
 */
export async function seedDefaultIdentity(deps: AdminDeps & { log: Logger }, d: DefaultIdentity): Promise<boolean> {
  if ((await countDomains(deps.db)) > 0) return false;
  const problem = passwordProblem(d.password);
  if (problem) throw new AdminError(`Default password: ${problem}`);
  await deps.db.transaction().execute(async (trx) => {
    const tx = { ...deps, db: trx };
    const domain = await createAccount(tx, d.account);
    await adoptOrphanProjects(trx, domain.domain_id);
    const user = await createUser(tx, { account: d.account, name: d.user, password: d.password });
    for (const p of await listProjectViews(trx, domain.domain_id)) await addMember(trx, user.user_id, p.project_id, user.created_at);
    await createAccessKey(tx, { account: d.account, user: d.user, description: 'default access key', ak: d.ak, sk: d.sk });
  });
  deps.log.info({ account: d.account, user: d.user, accessKey: d.ak }, 'created the default account, user and access key');
  return true;
}
